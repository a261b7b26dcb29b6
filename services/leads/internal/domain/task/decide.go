package task

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// Input limits.
const (
	MaxSubjectLen       = 255
	MaxDescriptionBytes = 32 << 10
	MaxNoteLen          = 2000
)

// Reasons of FailedPrecondition errors.
const (
	// ReasonIllegalTransition: the status change is not allowed from the current status.
	ReasonIllegalTransition = "ILLEGAL_TASK_TRANSITION"
	// ReasonNotFound is the Reason of the NotFound error for a task that does not exist.
	ReasonNotFound = "TASK_NOT_FOUND"
)

// Field-mask paths of UpdateTask, in canonical order.
const (
	PathSubject     = "subject"
	PathDescription = "description"
	PathAssigneeID  = "assignee_id"
	PathDueAt       = "due_at"
	PathPriority    = "priority"
	PathRecord      = "record"
)

type field struct {
	equal func(a, b Task) bool
	set   func(dst *Task, src Task)
}

var paths = []string{PathSubject, PathDescription, PathAssigneeID, PathDueAt, PathPriority, PathRecord}

var fields = map[string]field{
	PathSubject:     {func(a, b Task) bool { return a.Subject == b.Subject }, func(d *Task, s Task) { d.Subject = s.Subject }},
	PathDescription: {func(a, b Task) bool { return a.Description == b.Description }, func(d *Task, s Task) { d.Description = s.Description }},
	PathAssigneeID:  {func(a, b Task) bool { return a.AssigneeID == b.AssigneeID }, func(d *Task, s Task) { d.AssigneeID = s.AssigneeID }},
	PathDueAt:       {func(a, b Task) bool { return a.DueAt.Equal(b.DueAt) }, func(d *Task, s Task) { d.DueAt = s.DueAt }},
	PathPriority:    {func(a, b Task) bool { return a.Priority == b.Priority }, func(d *Task, s Task) { d.Priority = s.Priority }},
	PathRecord:      {func(a, b Task) bool { return a.Record == b.Record }, func(d *Task, s Task) { d.Record = s.Record }},
}

// Paths returns the paths UpdateTask accepts, in canonical order.
func Paths() []string { return append([]string(nil), paths...) }

// NewTask is the CreateTask command.
type NewTask struct {
	// ID is chosen by the app (a UUIDv7).
	ID          string
	Subject     string
	Description string
	AssigneeID  string
	DueAt       time.Time
	// Priority; PriorityUnspecified means PriorityNormal.
	Priority Priority
	Record   activity.RecordRef
	// CreatedBy is the acting user.
	CreatedBy string
}

// Create decides CreateTask: it validates every field and returns TaskCreated with status OPEN.
func Create(t Task, cmd NewTask, now time.Time) ([]Event, error) {
	if t.Exists() {
		return nil, apperr.Exists("task already exists", t.ID)
	}
	var v apperr.Violations
	if !activity.ValidID(cmd.ID) {
		v.Add("id", "must match [A-Za-z0-9_-]{1,64}")
	}
	n := Task{ID: cmd.ID, Subject: strings.TrimSpace(cmd.Subject), Description: cmd.Description,
		AssigneeID: strings.TrimSpace(cmd.AssigneeID), DueAt: cmd.DueAt.UTC(), Priority: cmd.Priority,
		Status: StatusOpen, Record: cmd.Record, CreatedBy: cmd.CreatedBy, CreatedAt: now, UpdatedAt: now}
	if cmd.DueAt.IsZero() {
		n.DueAt = time.Time{}
	}
	if n.Priority == PriorityUnspecified {
		n.Priority = PriorityNormal
	}
	validate(n, func(string) bool { return true }, &v)
	if cmd.CreatedBy == "" {
		v.Add("created_by", "is required")
	}
	if err := v.Err("invalid task"); err != nil {
		return nil, err
	}
	return []Event{TaskCreated{Task: n, At: now}}, nil
}

// validate adds one violation per bad field among those touched says were given.
func validate(t Task, touched func(string) bool, v *apperr.Violations) {
	if touched(PathSubject) {
		if t.Subject == "" {
			v.Add(PathSubject, "is required")
		} else {
			activity.CheckLine(PathSubject, t.Subject, MaxSubjectLen, v)
		}
	}
	if touched(PathDescription) {
		if len(t.Description) > MaxDescriptionBytes {
			v.Add(PathDescription, "must be at most %d bytes", MaxDescriptionBytes)
		} else if !utf8.ValidString(t.Description) {
			v.Add(PathDescription, "must be valid UTF-8")
		}
	}
	if touched(PathAssigneeID) && !territory.ValidUserID(t.AssigneeID) {
		v.Add(PathAssigneeID, "is required: a user id (1 to 128 printable characters, no spaces)")
	}
	if touched(PathPriority) && (t.Priority < PriorityLow || t.Priority > PriorityHigh) {
		v.Add(PathPriority, "must be one of LOW, NORMAL, HIGH")
	}
	if touched(PathRecord) {
		activity.ValidateRecord(PathRecord, t.Record, v)
	}
}

// Update is the UpdateTask command: Paths name the fields to change (see Paths); their new
// values are taken from Values. An unset due_at or record clears it; an unset priority means
// NORMAL.
type Update struct {
	Paths  []string
	Values Task
}

// UpdateFields decides UpdateTask. Unknown paths are Invalid ("update_mask.paths[i]"); bad
// values are Invalid naming the field. Nothing changed means no events.
func UpdateFields(t Task, cmd Update, now time.Time) ([]Event, error) {
	if !t.Exists() {
		return nil, errNotFound()
	}
	var v apperr.Violations
	named := map[string]bool{}
	for i, p := range cmd.Paths {
		if _, ok := fields[p]; !ok {
			v.Add(fmt.Sprintf("update_mask.paths[%d]", i), "unknown field %q; one of %s", p, strings.Join(paths, ", "))
			continue
		}
		named[p] = true
	}
	if len(cmd.Paths) == 0 {
		v.Add("update_mask.paths", "name at least one field to update")
	}
	src := cmd.Values
	src.Subject = strings.TrimSpace(src.Subject)
	src.AssigneeID = strings.TrimSpace(src.AssigneeID)
	src.DueAt = src.DueAt.UTC()
	if cmd.Values.DueAt.IsZero() {
		src.DueAt = time.Time{}
	}
	if src.Priority == PriorityUnspecified {
		src.Priority = PriorityNormal
	}
	next := t
	for _, p := range paths {
		if named[p] {
			fields[p].set(&next, src)
		}
	}
	validate(next, func(p string) bool { return named[p] }, &v)
	if err := v.Err("invalid task update"); err != nil {
		return nil, err
	}
	var changed []string
	var before, after Task
	for _, p := range paths {
		if named[p] && !fields[p].equal(t, next) {
			changed = append(changed, p)
			fields[p].set(&before, t)
			fields[p].set(&after, next)
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	return []Event{TaskUpdated{Changed: changed, Before: before, After: after, At: now}}, nil
}

// Complete decides CompleteTask: an OPEN task becomes DONE.
func Complete(t Task, note string, now time.Time) ([]Event, error) {
	return move(t, StatusDone, note, now, StatusOpen)
}

// Cancel decides CancelTask: an OPEN task becomes CANCELLED.
func Cancel(t Task, note string, now time.Time) ([]Event, error) {
	return move(t, StatusCancelled, note, now, StatusOpen)
}

// Reopen decides ReopenTask: a DONE or CANCELLED task becomes OPEN again.
func Reopen(t Task, note string, now time.Time) ([]Event, error) {
	return move(t, StatusOpen, note, now, StatusDone, StatusCancelled)
}

var verbs = map[Status]string{StatusDone: "completed", StatusCancelled: "cancelled", StatusOpen: "reopened"}

func move(t Task, to Status, note string, now time.Time, from ...Status) ([]Event, error) {
	if !t.Exists() {
		return nil, errNotFound()
	}
	note = strings.TrimSpace(note)
	var v apperr.Violations
	if utf8.RuneCountInString(note) > MaxNoteLen {
		v.Add("note", "must be at most %d characters", MaxNoteLen)
	}
	if err := v.Err("invalid note"); err != nil {
		return nil, err
	}
	allowed := false
	for _, f := range from {
		allowed = allowed || t.Status == f
	}
	if !allowed {
		names := make([]string, len(from))
		for i, f := range from {
			names[i] = f.String()
		}
		return nil, apperr.Precondition(ReasonIllegalTransition, "task is %s: only %s tasks can be %s",
			t.Status, strings.Join(names, " or "), verbs[to])
	}
	return []Event{TaskStatusChanged{From: t.Status, To: to, Note: note, AssigneeID: t.AssigneeID,
		Record: t.Record, At: now}}, nil
}

func errNotFound() error {
	return &apperr.Error{Kind: apperr.NotFound, Reason: ReasonNotFound, Message: "task not found"}
}
