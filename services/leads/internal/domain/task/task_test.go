package task_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

var now = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

var leadRef = activity.RecordRef{Type: activity.RecordLead, ID: "lead-1"}

func newTask() task.NewTask {
	return task.NewTask{ID: "task-1", Subject: " Send proposal ", AssigneeID: "rep-1", DueAt: now.Add(48 * time.Hour),
		Record: leadRef, CreatedBy: "rep-2"}
}

func created(t *testing.T) task.Task {
	t.Helper()
	evs, err := task.Create(task.Task{}, newTask(), now)
	require.NoError(t, err)
	return task.ApplyAll(task.Task{}, evs...)
}

func fields(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperr.Invalid, e.Kind, "%v", err)
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestCreate(t *testing.T) {
	t.Parallel()
	tk := created(t)
	assert.Equal(t, task.StatusOpen, tk.Status)
	assert.Equal(t, task.PriorityNormal, tk.Priority, "no priority means NORMAL")
	assert.Equal(t, "Send proposal", tk.Subject)
	assert.Equal(t, uint64(1), tk.Version)
	assert.False(t, tk.Overdue(now))
	assert.True(t, tk.Overdue(now.Add(49*time.Hour)))

	tests := []struct {
		name   string
		change func(*task.NewTask)
		want   []string
	}{
		{"subject required", func(c *task.NewTask) { c.Subject = "" }, []string{"subject"}},
		{"subject too long", func(c *task.NewTask) { c.Subject = strings.Repeat("x", 256) }, []string{"subject"}},
		{"description too long", func(c *task.NewTask) { c.Description = strings.Repeat("x", 32<<10+1) }, []string{"description"}},
		{"assignee required", func(c *task.NewTask) { c.AssigneeID = "" }, []string{"assignee_id"}},
		{"assignee with space", func(c *task.NewTask) { c.AssigneeID = "a b" }, []string{"assignee_id"}},
		{"bad priority", func(c *task.NewTask) { c.Priority = 8 }, []string{"priority"}},
		{"bad record", func(c *task.NewTask) { c.Record = activity.RecordRef{ID: "x y"} }, []string{"record.type", "record.id"}},
		{"no record, no due date", func(c *task.NewTask) { c.Record, c.DueAt = activity.RecordRef{}, time.Time{} }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := newTask()
			tc.change(&cmd)
			_, err := task.Create(task.Task{}, cmd, now)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			assert.Equal(t, tc.want, fields(t, err))
		})
	}
}

func TestUpdateByMask(t *testing.T) {
	t.Parallel()
	tk := created(t)
	later := now.Add(time.Hour)
	vals := task.Task{Subject: "Send revised proposal", Priority: task.PriorityHigh, AssigneeID: "ignored"}
	evs, err := task.UpdateFields(tk, task.Update{Paths: []string{"priority", "subject", "due_at"}, Values: vals}, later)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	u := evs[0].(task.TaskUpdated)
	assert.Equal(t, []string{"subject", "due_at", "priority"}, u.Changed, "canonical order")
	assert.Equal(t, "Send proposal", u.Before.Subject)
	assert.True(t, u.After.DueAt.IsZero(), "an unset due_at in the mask clears it")
	next := task.ApplyAll(tk, evs...)
	assert.Equal(t, "rep-1", next.AssigneeID, "fields not named keep their values")
	assert.Equal(t, task.PriorityHigh, next.Priority)
	assert.True(t, next.DueAt.IsZero())
	assert.Equal(t, later, next.UpdatedAt)
	assert.Equal(t, uint64(2), next.Version)

	evs, err = task.UpdateFields(next, task.Update{Paths: []string{"subject"}, Values: task.Task{Subject: "Send revised proposal"}}, later)
	require.NoError(t, err)
	assert.Empty(t, evs, "no change, no event")

	_, err = task.UpdateFields(next, task.Update{Paths: []string{"status", "subject"}, Values: task.Task{}}, later)
	assert.Equal(t, []string{"update_mask.paths[0]", "subject"}, fields(t, err))
	_, err = task.UpdateFields(next, task.Update{}, later)
	assert.Equal(t, []string{"update_mask.paths"}, fields(t, err))
	_, err = task.UpdateFields(task.Task{}, task.Update{Paths: []string{"subject"}}, later)
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
}

func TestStatusChanges(t *testing.T) {
	t.Parallel()
	type step struct {
		do   func(task.Task, string, time.Time) ([]task.Event, error)
		want task.Status // StatusUnspecified: FailedPrecondition naming the status
		msg  string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"complete then reopen", []step{{do: task.Complete, want: task.StatusDone}, {do: task.Reopen, want: task.StatusOpen}}},
		{"cancel then reopen", []step{{do: task.Cancel, want: task.StatusCancelled}, {do: task.Reopen, want: task.StatusOpen}}},
		{"reopen an open task", []step{{do: task.Reopen, msg: "task is OPEN"}}},
		{"complete twice", []step{{do: task.Complete, want: task.StatusDone}, {do: task.Complete, msg: "task is DONE"}}},
		{"cancel a done task", []step{{do: task.Complete, want: task.StatusDone}, {do: task.Cancel, msg: "task is DONE"}}},
		{"complete a cancelled task", []step{{do: task.Cancel, want: task.StatusCancelled}, {do: task.Complete, msg: "task is CANCELLED"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tk := created(t)
			for i, s := range tc.steps {
				at := now.Add(time.Duration(i+1) * time.Minute)
				evs, err := s.do(tk, "note", at)
				if s.want == task.StatusUnspecified {
					e, ok := apperr.As(err)
					require.True(t, ok, "%v", err)
					assert.Equal(t, apperr.FailedPrecondition, e.Kind)
					assert.Equal(t, task.ReasonIllegalTransition, e.Reason)
					assert.Contains(t, e.Message, s.msg)
					continue
				}
				require.NoError(t, err)
				sc := evs[0].(task.TaskStatusChanged)
				assert.Equal(t, tk.Status, sc.From)
				assert.Equal(t, "rep-1", sc.AssigneeID)
				assert.Equal(t, leadRef, sc.Record)
				tk = task.ApplyAll(tk, evs...)
				assert.Equal(t, s.want, tk.Status)
				assert.Equal(t, s.want == task.StatusDone, !tk.CompletedAt.IsZero(), "completed_at only while DONE")
			}
		})
	}
	_, err := task.Complete(created(t), strings.Repeat("x", 2001), now)
	assert.Equal(t, []string{"note"}, fields(t, err))
}
