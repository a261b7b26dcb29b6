package activitymodel_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/activitymodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

func actID(a activity.Activity) string { return a.ID }

func ref(t activity.RecordType, id string) activity.RecordRef {
	return activity.RecordRef{Type: t, ID: id}
}

// scopeFixture stores, in tenant t1, records of several owners and territories and activities
// and tasks about them:
//
//	lead l1 owner u1; lead l2 owner u2 territory emea; lead l3 unowned, territory emea;
//	lead l4 unowned, no territory; account a1 owner u2; account a2 unowned; contact c1 owner u3;
//	contact c2 unowned; lead lx owned by an injection string.
//
// Activities: act-l1 (l1, logged by u9), act-l2 (l2), act-l3 (l3), act-l4 (l4), act-a1 (a1),
// act-a2 (a2), act-c1 (c1), act-c2 (c2), act-opp (an opportunity only, logged by u1), act-two
// (l1 and l4), act-x (lx). Tasks: the same names, assigned to u9, about the (first) same record;
// tk-opp created by u1, the others by u9; tk-assigned about l4 assigned to u1.
func scopeFixture(t *testing.T) *activitymodel.Store {
	t.Helper()
	s := open(t)
	ctx := context.Background()
	inj := `"] OR 1=1 --`
	sc := func(r activity.RecordRef, owner, terr string) activitymodel.RecordScope {
		return activitymodel.RecordScope{Tenant: "t1", Record: r, Seq: 1, SetOwner: true, Owner: owner, SetTerritory: true, Territory: terr}
	}
	recs := map[string]activity.RecordRef{
		"l1": ref(activity.RecordLead, "l1"), "l2": ref(activity.RecordLead, "l2"), "l3": ref(activity.RecordLead, "l3"),
		"l4": ref(activity.RecordLead, "l4"), "a1": ref(activity.RecordAccount, "a1"), "a2": ref(activity.RecordAccount, "a2"),
		"c1": ref(activity.RecordContact, "c1"), "c2": ref(activity.RecordContact, "c2"), "x": ref(activity.RecordLead, "lx"),
		"opp": ref(activity.RecordOpportunity, "o1"),
	}
	b := activitymodel.Batch{Scopes: []activitymodel.RecordScope{
		sc(recs["l1"], "u1", ""), sc(recs["l2"], "u2", "emea"), sc(recs["l3"], "", "emea"), sc(recs["l4"], "", ""),
		sc(recs["a1"], "u2", ""), sc(recs["a2"], "", ""), sc(recs["c1"], "u3", ""), sc(recs["c2"], "", ""),
		sc(recs["x"], inj, inj),
	}}
	i := 0
	add := func(name, by string, rs ...activity.RecordRef) {
		i++
		at := t0.Add(time.Duration(i) * time.Minute)
		b.Activities = append(b.Activities, activitymodel.ActivityRow{Tenant: "t1", Seq: uint64(i), Activity: activity.Activity{
			ID: "act-" + name, Version: 1, Kind: activity.KindCall, Records: rs, Subject: name, OccurredAt: at, LoggedBy: by, CreatedAt: at}})
		tk := task.Task{ID: "tk-" + name, Version: 1, Subject: name, AssigneeID: "u9", CreatedBy: by, Status: task.StatusOpen,
			Priority: task.PriorityNormal, Record: rs[0], DueAt: at, CreatedAt: at, UpdatedAt: at}
		b.Tasks = append(b.Tasks, activitymodel.TaskRow{Tenant: "t1", Seq: uint64(i), Task: tk})
		for _, r := range rs {
			a := b.Activities[len(b.Activities)-1].Activity
			b.Entries = append(b.Entries, activitymodel.Entry{Tenant: "t1", Record: r, At: at, Sequence: uint64(i), EventID: "e-" + name,
				EventType: "ActivityLogged", Summary: name, Activity: &a})
			b.Entries = append(b.Entries, activitymodel.Entry{Tenant: "t1", Record: r, At: at, Sequence: uint64(100 + i), EventID: "t-" + name,
				EventType: "TaskCreated", Summary: name, Task: &tk})
		}
	}
	for _, n := range []string{"l1", "l2", "l3", "l4", "a1", "a2", "c1", "c2"} {
		add(n, "u9", recs[n])
	}
	add("opp", "u1", recs["opp"])
	add("two", "u9", recs["l1"], recs["l4"])
	add("x", "u9", recs["x"])
	// A task assigned to u1 about a lead out of u1's scope, and a conversion entry on the
	// opportunity from lead l2.
	b.Tasks = append(b.Tasks, activitymodel.TaskRow{Tenant: "t1", Seq: 50, Task: task.Task{ID: "tk-assigned", Version: 1, Subject: "a",
		AssigneeID: "u1", CreatedBy: "u9", Status: task.StatusOpen, Record: recs["l4"], CreatedAt: t0}})
	b.Entries = append(b.Entries, activitymodel.Entry{Tenant: "t1", Record: recs["opp"], At: t0, Sequence: 60, EventID: "conv",
		EventType: "LeadConverted", Summary: "Converted from lead l2", ConvertedFrom: "l2"})
	require.NoError(t, s.Apply(ctx, "CRM_LEADS", 200, b))
	return s
}

// TestScopeFiltersActivitiesTasksAndEntries: lists keep, in full pages, the activities and
// tasks of the scope (logged, created or assigned by an owner of the scope; about a lead,
// account or contact in scope by the records' own rules); Get answers NotFound out of scope;
// an opportunity's entries are kept by their item; scope values are bound, never spliced into
// the SQL; nil limits nothing, an empty scope matches nothing.
func TestScopeFiltersActivitiesTasksAndEntries(t *testing.T) {
	t.Parallel()
	s := scopeFixture(t)
	ctx := context.Background()
	all := []string{"a1", "a2", "c1", "c2", "l1", "l2", "l3", "l4", "opp", "two", "x"}
	for _, tt := range []struct {
		name  string
		scope *activitymodel.Scope
		acts  []string // names of the activities (act-)
		tasks []string // names of the tasks (tk-)
		opp   []string // event ids of the opportunity's timeline
	}{
		{"nil", nil, all, append([]string{"assigned"}, all...), []string{"e-opp", "t-opp", "conv"}},
		// u1: l1 (owner), two (through l1), opp (logged, created), tk-assigned (assignee);
		// unowned accounts and contacts are shared.
		{"owner", &activitymodel.Scope{Owners: []string{"u1"}}, []string{"a2", "c2", "l1", "opp", "two"},
			[]string{"a2", "c2", "l1", "opp", "two", "assigned"}, []string{"e-opp", "t-opp"}},
		{"territory", &activitymodel.Scope{Owners: []string{"u7"}, Territories: []string{"emea"}}, []string{"a2", "c2", "l2", "l3"},
			[]string{"a2", "c2", "l2", "l3"}, []string{"conv"}},
		{"team", &activitymodel.Scope{Owners: []string{"u2", "u3"}}, []string{"a1", "a2", "c1", "c2", "l2"},
			[]string{"a1", "a2", "c1", "c2", "l2"}, []string{"conv"}},
		// u9 logged every activity but act-opp, created every task but tk-opp, and is the
		// assignee of every task but tk-assigned.
		{"logged by", &activitymodel.Scope{Owners: []string{"u9"}}, slices.DeleteFunc(slices.Clone(all), func(n string) bool { return n == "opp" }),
			append([]string{"assigned"}, all...), []string{"t-opp"}},
		{"injection owner", &activitymodel.Scope{Owners: []string{`"] OR 1=1 --`}}, []string{"a2", "c2", "x"}, []string{"a2", "c2", "x"}, nil},
		{"injection territory", &activitymodel.Scope{Territories: []string{`' OR 1=1 --`, `%`}}, []string{"a2", "c2"}, []string{"a2", "c2"}, nil},
		{"empty", &activitymodel.Scope{}, nil, nil, nil},
		{"many owners", &activitymodel.Scope{Owners: manyOwners}, all, append([]string{"assigned"}, all...), []string{"e-opp", "t-opp", "conv"}},
		{"empty strings", &activitymodel.Scope{Owners: []string{""}, Territories: []string{""}}, nil, nil, nil},
	} {
		var wantActs, wantTasks []string
		for _, n := range tt.acts {
			wantActs = append(wantActs, "act-"+n)
		}
		for _, n := range tt.tasks {
			wantTasks = append(wantTasks, "tk-"+n)
		}
		var gotActs, gotTasks []string
		tok := ""
		for {
			page, next, err := s.ListActivities(ctx, activitymodel.ActivityQuery{Tenant: "t1", Scope: tt.scope, PageSize: 2, PageToken: tok})
			require.NoError(t, err, tt.name)
			if next != "" {
				assert.Len(t, page, 2, "%s: an activity page before the last is full", tt.name)
			}
			gotActs = append(gotActs, ids(page, actID)...)
			if tok = next; tok == "" {
				break
			}
		}
		for {
			page, next, err := s.ListTasks(ctx, activitymodel.TaskQuery{Tenant: "t1", Scope: tt.scope, PageSize: 2, PageToken: tok})
			require.NoError(t, err, tt.name)
			if next != "" {
				assert.Len(t, page, 2, "%s: a task page before the last is full", tt.name)
			}
			gotTasks = append(gotTasks, ids(page, taskID)...)
			if tok = next; tok == "" {
				break
			}
		}
		assert.ElementsMatch(t, wantActs, gotActs, "%s: ListActivities", tt.name)
		assert.ElementsMatch(t, wantTasks, gotTasks, "%s: ListTasks", tt.name)
		for _, n := range all {
			_, err := s.GetActivity(ctx, "t1", "act-"+n, tt.scope)
			if slices.Contains(wantActs, "act-"+n) {
				assert.NoError(t, err, "%s: GetActivity %s", tt.name, n)
			} else {
				_, missing := s.GetActivity(ctx, "t1", "act-none", tt.scope)
				require.Equal(t, apperr.NotFound, apperr.KindOf(err), "%s: GetActivity %s", tt.name, n)
				assert.Equal(t, missing.Error(), strings.ReplaceAll(err.Error(), "act-"+n, "act-none"), "%s: out of scope reads as missing", tt.name)
			}
			_, err = s.GetTask(ctx, "t1", "tk-"+n, tt.scope)
			if slices.Contains(wantTasks, "tk-"+n) {
				assert.NoError(t, err, "%s: GetTask %s", tt.name, n)
			} else {
				_, missing := s.GetTask(ctx, "t1", "tk-none", tt.scope)
				require.Equal(t, apperr.NotFound, apperr.KindOf(err), "%s: GetTask %s", tt.name, n)
				assert.Equal(t, missing.Error(), strings.ReplaceAll(err.Error(), "tk-"+n, "tk-none"), "%s: out of scope reads as missing", tt.name)
			}
		}
		// The opportunity's timeline, filtered by entry.
		entries, _, err := s.Timeline(ctx, activitymodel.TimelineQuery{Tenant: "t1", Record: ref(activity.RecordOpportunity, "o1"), EntryScope: tt.scope})
		require.NoError(t, err)
		var got []string
		for _, e := range entries {
			got = append(got, e.EventID)
		}
		assert.ElementsMatch(t, tt.opp, got, "%s: the opportunity's timeline", tt.name)
	}

	// A record filter narrows the scope, never widens it.
	acts, _, err := s.ListActivities(ctx, activitymodel.ActivityQuery{Tenant: "t1", Record: ref(activity.RecordLead, "l2"),
		Scope: &activitymodel.Scope{Owners: []string{"u1"}}})
	require.NoError(t, err)
	assert.Empty(t, acts)
	acts, _, err = s.ListActivities(ctx, activitymodel.ActivityQuery{Tenant: "t1", Record: ref(activity.RecordLead, "l1"),
		Scope: &activitymodel.Scope{Owners: []string{"u1"}}})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"act-l1", "act-two"}, ids(acts, actID))
}

// TestRecordScopeChanges: an owner or territory change moves the record's activities and tasks
// into and out of a scope; a partial change keeps the other field; an older (replayed) change
// moves nothing back.
func TestRecordScopeChanges(t *testing.T) {
	t.Parallel()
	s := scopeFixture(t)
	ctx := context.Background()
	u1 := &activitymodel.Scope{Owners: []string{"u1"}, Territories: []string{"apac"}}
	visible := func() []string {
		t.Helper()
		acts, _, err := s.ListActivities(ctx, activitymodel.ActivityQuery{Tenant: "t1", Scope: u1, Record: ref(activity.RecordLead, "l2")})
		require.NoError(t, err)
		return ids(acts, actID)
	}
	apply := func(seq uint64, sc activitymodel.RecordScope) {
		t.Helper()
		sc.Tenant, sc.Record, sc.Seq = "t1", ref(activity.RecordLead, "l2"), seq
		require.NoError(t, s.Apply(ctx, "CRM_LEADS", 200+seq, activitymodel.Batch{Scopes: []activitymodel.RecordScope{sc}}))
	}
	require.Empty(t, visible())
	apply(10, activitymodel.RecordScope{SetOwner: true, Owner: "u1"})
	assert.Equal(t, []string{"act-l2"}, visible(), "assigned to u1")
	apply(5, activitymodel.RecordScope{SetOwner: true, Owner: "u2"})
	assert.Equal(t, []string{"act-l2"}, visible(), "an older event changes nothing")
	apply(11, activitymodel.RecordScope{SetOwner: true, Owner: "u4"})
	assert.Empty(t, visible(), "assigned away")
	apply(12, activitymodel.RecordScope{SetTerritory: true, Territory: "apac"})
	assert.Equal(t, []string{"act-l2"}, visible(), "moved into u1's territory")
	_, err := s.GetTask(ctx, "t1", "tk-l2", u1)
	assert.NoError(t, err)

	// Records of an unowned type are refused (the model never judges opportunities).
	err = s.Apply(ctx, "CRM_LEADS", 300, activitymodel.Batch{Scopes: []activitymodel.RecordScope{{Tenant: "t1",
		Record: ref(activity.RecordOpportunity, "o1"), Seq: 300, SetOwner: true, Owner: "u1"}}})
	assert.ErrorIs(t, err, activitymodel.ErrBadChange)
}

// TestSchemaVersion2RebuildsFromTheStream: a file of schema version 1 (before record_scope)
// is emptied with its checkpoint when it is opened, so the projector replays CRM_LEADS from
// the start and fills the tables the row-level rules need.
func TestSchemaVersion2RebuildsFromTheStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v1, err := os.ReadFile(filepath.Join("migrations", "0001_activities.sql"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "activities.db")
	old, err := sqlitemodel.Open(ctx, path, fstest.MapFS{"0001_activities.sql": {Data: v1}}, sqlitemodel.Options{})
	require.NoError(t, err)
	require.NoError(t, old.Write(ctx, func(tx *sql.Tx) (map[string]uint64, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO activities (tenant, id, kind, logged_by, occurred_at, seq, data) VALUES ('t1', 'a', 1, 'u1', 1, 7, x'')`)
		return map[string]uint64{"CRM_LEADS": 7}, err
	}))
	ck, err := old.Checkpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]uint64{"CRM_LEADS": 7}, ck)
	require.NoError(t, old.Close())

	s, err := activitymodel.Open(ctx, path, sqlitemodel.Options{})
	require.NoError(t, err)
	defer s.Close()
	ck, err = s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Empty(t, ck, "the checkpoint is gone: the projector starts from the stream's first event")
	assert.Zero(t, s.Applied("CRM_LEADS"))
	acts, _, err := s.ListActivities(ctx, activitymodel.ActivityQuery{Tenant: "t1"})
	require.NoError(t, err)
	assert.Empty(t, acts, "rows of the old schema are dropped with it")
}

// manyOwners is a team far larger than the 200 values a request filter may carry: the scope
// binds it as one value, whatever its size.
var manyOwners = func() []string {
	out := []string{"u1", "u2", "u3", "u9"}
	for i := range 2_000 {
		out = append(out, fmt.Sprintf("member-%d", i))
	}
	return out
}()
