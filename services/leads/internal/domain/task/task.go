// Package task is the task aggregate: a to-do for a user, usually about one record, with a due
// date, a priority and a status (OPEN, DONE, CANCELLED). Decisions are pure functions of
// (state, command, now) returning events or an apperr error; Apply folds.
package task

import (
	"time"

	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
)

// AggregateType is the aggregate type (and subject token) of tasks.
const AggregateType = "task"

// Status is where a task stands. Numbered like crm.leads.v1.TaskStatus.
type Status int

// Statuses.
const (
	StatusUnspecified Status = iota
	StatusOpen
	StatusDone
	StatusCancelled
)

var statusNames = [...]string{"UNSPECIFIED", "OPEN", "DONE", "CANCELLED"}

// String is the status's name, e.g. "OPEN".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "UNKNOWN"
}

// Priority orders the work. Numbered like crm.leads.v1.TaskPriority.
type Priority int

// Priorities. A task created without one is PriorityNormal.
const (
	PriorityUnspecified Priority = iota
	PriorityLow
	PriorityNormal
	PriorityHigh
)

var priorityNames = [...]string{"UNSPECIFIED", "LOW", "NORMAL", "HIGH"}

// String is the priority's name, e.g. "HIGH".
func (p Priority) String() string {
	if p >= 0 && int(p) < len(priorityNames) {
		return priorityNames[p]
	}
	return "UNKNOWN"
}

// Task is the state of one task. The zero Task means it does not exist.
type Task struct {
	ID string
	// Version is the number of events folded: 1 after TaskCreated.
	Version     uint64
	Subject     string
	Description string
	// AssigneeID is the user who should do it.
	AssigneeID string
	// DueAt is when it is due; zero means no due date.
	DueAt    time.Time
	Priority Priority
	Status   Status
	// Record is what the task is about; zero for nothing in particular.
	Record activity.RecordRef
	// CompletedAt is set while the task is DONE.
	CompletedAt time.Time
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Exists reports whether the task has been created.
func (t Task) Exists() bool { return t.Version > 0 }

// Overdue reports whether the task is open and past its due time at now.
func (t Task) Overdue(now time.Time) bool {
	return t.Status == StatusOpen && !t.DueAt.IsZero() && t.DueAt.Before(now)
}

// Event is a fact about one task. The set is closed.
type Event interface {
	// EventType is the event's name and the last token of its subject.
	EventType() string
	// OccurredAt is when the fact happened (the decision's now).
	OccurredAt() time.Time
	isTaskEvent()
}

// TaskCreated is the first event of every task: the task as created (status OPEN).
type TaskCreated struct {
	Task Task
	At   time.Time
}

// TaskUpdated records changed fields. Changed lists the paths that changed in canonical order
// (see Paths); Before and After hold the old and new values of exactly those fields.
type TaskUpdated struct {
	Changed []string
	Before  Task
	After   Task
	At      time.Time
}

// TaskStatusChanged is a task being completed, cancelled or reopened. AssigneeID and Record
// are the task's at the time, so consumers need no lookup.
type TaskStatusChanged struct {
	From, To   Status
	Note       string
	AssigneeID string
	Record     activity.RecordRef
	At         time.Time
}

// EventType implements Event.
func (TaskCreated) EventType() string       { return "TaskCreated" }
func (TaskUpdated) EventType() string       { return "TaskUpdated" }
func (TaskStatusChanged) EventType() string { return "TaskStatusChanged" }

// OccurredAt implements Event.
func (e TaskCreated) OccurredAt() time.Time       { return e.At }
func (e TaskUpdated) OccurredAt() time.Time       { return e.At }
func (e TaskStatusChanged) OccurredAt() time.Time { return e.At }

func (TaskCreated) isTaskEvent()       {}
func (TaskUpdated) isTaskEvent()       {}
func (TaskStatusChanged) isTaskEvent() {}

// Apply folds one event into the state. Task has no reference fields, so copies are safe.
func Apply(t Task, e Event) Task {
	switch e := e.(type) {
	case TaskCreated:
		n := e.Task
		n.Version = t.Version + 1
		return n
	case TaskUpdated:
		for _, p := range e.Changed {
			if f, ok := fields[p]; ok {
				f.set(&t, e.After)
			}
		}
	case TaskStatusChanged:
		t.Status = e.To
		t.CompletedAt = time.Time{}
		if e.To == StatusDone {
			t.CompletedAt = e.At
		}
	default:
		return t
	}
	t.Version++
	t.UpdatedAt = e.OccurredAt()
	return t
}

// ApplyAll folds events in order.
func ApplyAll(t Task, events ...Event) Task {
	for _, e := range events {
		t = Apply(t, e)
	}
	return t
}
