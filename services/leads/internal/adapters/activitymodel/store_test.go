package activitymodel_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/activitymodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

var t0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

func open(t *testing.T) *activitymodel.Store {
	t.Helper()
	s, err := activitymodel.Open(context.Background(), "", sqlitemodel.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func taskID(t task.Task) string { return t.ID }

func TestOverdueTasksPerAssignee(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	now := t0.Add(100 * time.Hour)
	mk := func(id, assignee string, due time.Duration, st task.Status) activitymodel.TaskRow {
		tk := task.Task{ID: id, Version: 1, Subject: id, AssigneeID: assignee, Status: st, Priority: task.PriorityNormal}
		if due != 0 {
			tk.DueAt = t0.Add(due)
		}
		return activitymodel.TaskRow{Tenant: "acme", Task: tk, Seq: 1}
	}
	b := activitymodel.Batch{Tasks: []activitymodel.TaskRow{
		mk("t-late-2", "ann", 50*time.Hour, task.StatusOpen),
		mk("t-late-1", "ann", 10*time.Hour, task.StatusOpen),
		mk("t-done", "ann", 5*time.Hour, task.StatusDone),
		mk("t-future", "ann", 200*time.Hour, task.StatusOpen),
		mk("t-nodue", "ann", 0, task.StatusOpen),
		mk("t-bob", "bob", 10*time.Hour, task.StatusOpen),
	}}
	b.Tasks = append(b.Tasks, activitymodel.TaskRow{Tenant: "other", Task: mk("t-x", "ann", time.Hour, task.StatusOpen).Task, Seq: 1})
	require.NoError(t, s.Apply(ctx, "CRM_LEADS", 10, b))

	got, next, err := s.ListTasks(ctx, activitymodel.TaskQuery{Tenant: "acme", AssigneeID: "ann", OverdueOnly: true, Now: now})
	require.NoError(t, err)
	assert.Equal(t, []string{"t-late-1", "t-late-2"}, ids(got, taskID), "open, past due, this assignee, by due date")
	assert.Empty(t, next)

	all, _, err := s.ListTasks(ctx, activitymodel.TaskQuery{Tenant: "acme", AssigneeID: "ann"})
	require.NoError(t, err)
	assert.Equal(t, []string{"t-done", "t-late-1", "t-late-2", "t-future", "t-nodue"}, ids(all, taskID), "no due date last")

	// Pages of two walk the same order.
	var paged []string
	token := ""
	for {
		page, nt, err := s.ListTasks(ctx, activitymodel.TaskQuery{Tenant: "acme", AssigneeID: "ann", PageSize: 2, PageToken: token})
		require.NoError(t, err)
		paged = append(paged, ids(page, taskID)...)
		if nt == "" {
			break
		}
		token = nt
	}
	assert.Equal(t, ids(all, taskID), paged)
	_, _, err = s.ListTasks(ctx, activitymodel.TaskQuery{Tenant: "acme", AssigneeID: "bob", PageSize: 2, PageToken: token})
	assert.Equal(t, apperr.Invalid, apperr.KindOf(err), "a token of another query is refused")

	// A newer version replaces the row; an older one (a replay) does not.
	done := mk("t-late-1", "ann", 10*time.Hour, task.StatusDone)
	done.Task.Version = 2
	require.NoError(t, s.Apply(ctx, "CRM_LEADS", 11, activitymodel.Batch{Tasks: []activitymodel.TaskRow{done}}))
	require.NoError(t, s.Apply(ctx, "CRM_LEADS", 11, activitymodel.Batch{Tasks: []activitymodel.TaskRow{mk("t-late-1", "ann", 10*time.Hour, task.StatusOpen)}}))
	got, _, err = s.ListTasks(ctx, activitymodel.TaskQuery{Tenant: "acme", AssigneeID: "ann", OverdueOnly: true, Now: now})
	require.NoError(t, err)
	assert.Equal(t, []string{"t-late-2"}, ids(got, taskID))
	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(11), ck["CRM_LEADS"])
}

func TestTimelineNewestFirstAcrossPages(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	lead := activity.RecordRef{Type: activity.RecordLead, ID: "lead-1"}
	var b activitymodel.Batch
	// Entries 0..9 an hour apart; entries 10 and 11 share entry 9's time and differ by sequence.
	for i := range 12 {
		at := t0.Add(time.Duration(min(i, 9)) * time.Hour)
		e := activitymodel.Entry{Tenant: "acme", Record: lead, At: at, Sequence: uint64(100 + i), EventID: fmt.Sprintf("e%d", i),
			EventType: "crm.leads.v1.LeadTagsAdded", Summary: fmt.Sprintf("entry %d", i), Actor: "rep-1"}
		if i == 3 {
			a := activity.Activity{ID: "act-1", Version: 1, Kind: activity.KindCall, Records: []activity.RecordRef{lead}, Subject: "Call", OccurredAt: at}
			e.Activity = &a
			b.Activities = append(b.Activities, activitymodel.ActivityRow{Tenant: "acme", Activity: a, Seq: e.Sequence})
		}
		if i == 4 {
			tk := task.Task{ID: "task-1", Version: 1, Subject: "Follow up", Status: task.StatusOpen, Record: lead}
			e.Task = &tk
		}
		b.Entries = append(b.Entries, e)
	}
	// Another record's entry stays off this timeline.
	b.Entries = append(b.Entries, activitymodel.Entry{Tenant: "acme", Record: activity.RecordRef{Type: activity.RecordContact, ID: "lead-1"},
		At: t0.Add(time.Hour), Sequence: 999, EventID: "x", EventType: "x", Summary: "x"})
	require.NoError(t, s.Apply(ctx, "CRM_LEADS", 999, b))

	var got []string
	token := ""
	pages := 0
	for {
		page, next, err := s.Timeline(ctx, activitymodel.TimelineQuery{Tenant: "acme", Record: lead, PageSize: 5, PageToken: token})
		require.NoError(t, err)
		pages++
		for _, e := range page {
			got = append(got, e.EventID)
			switch e.EventID {
			case "e3":
				require.NotNil(t, e.Activity)
				assert.Equal(t, "Call", e.Activity.Subject)
			case "e4":
				require.NotNil(t, e.Task)
				assert.Equal(t, "Follow up", e.Task.Subject)
			}
		}
		if next == "" {
			break
		}
		token = next
	}
	assert.Equal(t, []string{"e11", "e10", "e9", "e8", "e7", "e6", "e5", "e4", "e3", "e2", "e1", "e0"}, got)
	assert.Equal(t, 3, pages)

	acts, _, err := s.ListActivities(ctx, activitymodel.ActivityQuery{Tenant: "acme", Record: lead})
	require.NoError(t, err)
	require.Len(t, acts, 1)
	acts, _, err = s.ListActivities(ctx, activitymodel.ActivityQuery{Tenant: "acme", Kinds: []activity.Kind{activity.KindEmail}})
	require.NoError(t, err)
	assert.Empty(t, acts)
	a, err := s.GetActivity(ctx, "acme", "act-1", nil)
	require.NoError(t, err)
	assert.Equal(t, "Call", a.Subject)
	_, err = s.GetActivity(ctx, "acme", "nope", nil)
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
}
