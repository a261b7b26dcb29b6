package service_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// Row-level rules for activities, tasks and timelines (docs/security.md "Row-level rules"): a
// caller with a restricted scope sees what it (or its team) logged, created or is assigned to,
// and what concerns a lead, account or contact in its scope; on the real service over gRPC with
// development auth's x-roles, x-territories and x-team (caller, rowlevel_test.go).

// Well-formed activity and task ids no fixture creates.
const (
	missingActivity = "01a00000-0000-7000-8000-0000000ac700"
	missingTask     = "01a00000-0000-7000-8000-00000007a500"
)

// actFixture adds to rowFixture's leads (mine: rep-1; dach: rep-2 in territory dach; far:
// rep-3) accounts amine (rep-1), afar (rep-3), ashared (nobody), contacts cmine (rep-1), cfar
// (rep-3), and activities and tasks about them, all logged and created by the admin unless
// named otherwise:
//
//	activities  a-mine, a-dach, a-far1..a-far5, a-amine, a-afar, a-ashared, a-cmine, a-cfar,
//	            a-both (far and mine), a-opp (an opportunity, admin), a-opp-rep (an
//	            opportunity, logged by rep-1)
//	tasks       t-mine, t-far (assignee rep-9), t-far-rep1 (far, assignee rep-1), t-afar,
//	            t-ashared, t-cfar, t-opp-rep (an opportunity, created by rep-1)
type actFixture struct {
	*rowFixture
	acts, tasks map[string]string // fixture name → id
	opp         *leadsv1.RecordRef
}

func newActFixture(t *testing.T) *actFixture {
	t.Helper()
	f := &actFixture{rowFixture: newRowFixture(t), acts: map[string]string{}, tasks: map[string]string{}}
	h := f.h
	admin := as(t, "acme", "admin-1")
	rep := caller(t, "rep-1", "sales_rep", "dach", "")
	seq := f.read.GetMinSequence()
	for _, a := range []struct{ name, owner string }{{"amine", "rep-1"}, {"afar", "rep-3"}, {"ashared", ""}} {
		res, err := h.accounts.CreateAccount(admin, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "Acct " + a.name, OwnerId: a.owner}})
		require.NoError(t, err)
		f.ids[a.name], seq = res.GetAccount().GetId(), max(seq, res.GetResult().GetSequence())
	}
	for _, c := range []struct{ name, owner string }{{"cmine", "rep-1"}, {"cfar", "rep-3"}} {
		res, err := h.contacts.CreateContact(admin, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{
			FirstName: c.name, LastName: "Rowlevel", Email: c.name + "@example.com", OwnerId: c.owner}})
		require.NoError(t, err)
		f.ids[c.name], seq = res.GetContact().GetId(), max(seq, res.GetResult().GetSequence())
	}
	f.opp = &leadsv1.RecordRef{Type: leadsv1.RecordType_RECORD_TYPE_OPPORTUNITY, Id: "opp-rowlevel"}
	ref := func(name string) *leadsv1.RecordRef {
		typ := leadsv1.RecordType_RECORD_TYPE_LEAD
		switch name[0] {
		case 'a':
			typ = leadsv1.RecordType_RECORD_TYPE_ACCOUNT
		case 'c':
			typ = leadsv1.RecordType_RECORD_TYPE_CONTACT
		}
		return &leadsv1.RecordRef{Type: typ, Id: f.ids[name]}
	}
	logAct := func(ctx context.Context, name string, refs ...*leadsv1.RecordRef) {
		res, err := h.activities.LogActivity(ctx, &leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{
			Kind: leadsv1.ActivityKind_ACTIVITY_KIND_NOTE, Records: refs, Subject: name}})
		require.NoError(t, err, name)
		f.acts[name], seq = res.GetActivity().GetId(), max(seq, res.GetResult().GetSequence())
	}
	// The far ones interleave with the others, so a filtered page must skip rows to be full.
	logAct(admin, "a-far1", ref("far"))
	logAct(admin, "a-mine", ref("mine"))
	logAct(admin, "a-far2", ref("far"))
	logAct(admin, "a-dach", ref("dach"))
	logAct(admin, "a-far3", ref("far"))
	logAct(admin, "a-amine", ref("amine"))
	logAct(admin, "a-far4", ref("far"))
	logAct(admin, "a-afar", ref("afar"))
	logAct(admin, "a-ashared", ref("ashared"))
	logAct(admin, "a-far5", ref("far"))
	logAct(admin, "a-cmine", ref("cmine"))
	logAct(admin, "a-cfar", ref("cfar"))
	logAct(admin, "a-both", ref("far"), ref("mine"))
	logAct(admin, "a-opp", f.opp)
	logAct(rep, "a-opp-rep", f.opp)
	newTask := func(ctx context.Context, name, assignee string, r *leadsv1.RecordRef) {
		res, err := h.activities.CreateTask(ctx, &leadsv1.CreateTaskRequest{Task: &leadsv1.Task{Subject: name, AssigneeId: assignee, Record: r}})
		require.NoError(t, err, name)
		f.tasks[name], seq = res.GetTask().GetId(), max(seq, res.GetResult().GetSequence())
	}
	newTask(admin, "t-mine", "rep-9", ref("mine"))
	newTask(admin, "t-far", "rep-9", ref("far"))
	newTask(admin, "t-far-rep1", "rep-1", ref("far"))
	newTask(admin, "t-afar", "rep-9", ref("afar"))
	newTask(admin, "t-ashared", "rep-9", ref("ashared"))
	newTask(admin, "t-cfar", "rep-9", ref("cfar"))
	newTask(rep, "t-opp-rep", "rep-9", f.opp)
	f.read = &commonv1.ReadOptions{MinSequence: seq}
	return f
}

func (f *actFixture) actNames(acts []*leadsv1.Activity) []string {
	out := []string{}
	for _, a := range acts {
		out = append(out, a.GetSubject())
	}
	slices.Sort(out)
	return out
}

func (f *actFixture) taskNames(tasks []*leadsv1.Task) []string {
	out := []string{}
	for _, t := range tasks {
		out = append(out, t.GetSubject())
	}
	slices.Sort(out)
	return out
}

func sorted(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sorted(out)
}

// TestRowLevelActivitiesAndTasks: each kind of caller gets, from ListActivities, ListTasks,
// GetActivity, GetTask and an opportunity's timeline, exactly the activities and tasks of its
// scope, in full pages; one out of scope is NOT_FOUND exactly as a missing one.
func TestRowLevelActivitiesAndTasks(t *testing.T) {
	t.Parallel()
	f := newActFixture(t)
	h := f.h
	tests := []struct {
		name         string
		ctx          context.Context
		acts, tasks  []string
		oppTimelines []string // subjects of the opportunity's timeline entries
	}{
		// rep-1: own records, the dach territory's lead, shared accounts, a-both through mine,
		// what it logged, created or is assigned.
		{"rep", caller(t, "rep-1", "sales_rep", "dach", ""),
			[]string{"a-amine", "a-ashared", "a-both", "a-cmine", "a-dach", "a-mine", "a-opp-rep"},
			[]string{"t-ashared", "t-far-rep1", "t-mine", "t-opp-rep"}, []string{"a-opp-rep", "t-opp-rep"}},
		{"manager with team", caller(t, "mgr-1", "sales_manager", "", "rep-3"),
			[]string{"a-afar", "a-ashared", "a-both", "a-cfar", "a-far1", "a-far2", "a-far3", "a-far4", "a-far5"},
			[]string{"t-afar", "t-ashared", "t-cfar", "t-far", "t-far-rep1"}, nil},
		{"rep of nothing", caller(t, "rep-5", "sales_rep", "nordics", ""), []string{"a-ashared"}, []string{"t-ashared"}, nil},
		{"manager without team", caller(t, "mgr-1", "sales_manager", "", ""), keys(f.acts), keys(f.tasks), []string{"a-opp", "a-opp-rep", "t-opp-rep"}},
		{"marketing", caller(t, "mkt-1", "marketing", "", ""), keys(f.acts), keys(f.tasks), []string{"a-opp", "a-opp-rep", "t-opp-rep"}},
		{"admin", as(t, "acme", "admin-1"), keys(f.acts), keys(f.tasks), []string{"a-opp", "a-opp-rep", "t-opp-rep"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := fresh(t, tt.ctx)
			gotActs := pages(t, "ListActivities", func(token string) ([]string, string, error) {
				res, err := h.activities.ListActivities(ctx, &leadsv1.ListActivitiesRequest{PageSize: 2, PageToken: token, Read: f.read})
				return f.actNames(res.GetActivities()), res.GetNextPageToken(), err
			})
			assert.Equal(t, tt.acts, sorted(gotActs), "ListActivities")
			gotTasks := pages(t, "ListTasks", func(token string) ([]string, string, error) {
				res, err := h.activities.ListTasks(ctx, &leadsv1.ListTasksRequest{PageSize: 2, PageToken: token, Read: f.read})
				return f.taskNames(res.GetTasks()), res.GetNextPageToken(), err
			})
			assert.Equal(t, tt.tasks, sorted(gotTasks), "ListTasks")

			// A filter the caller sets narrows its scope, never widens it.
			res, err := h.activities.ListActivities(ctx, &leadsv1.ListActivitiesRequest{Record: leadRef(f.ids["far"]), Read: f.read})
			require.NoError(t, err)
			var wantFar []string
			for _, n := range tt.acts {
				if strings.HasPrefix(n, "a-far") || n == "a-both" {
					wantFar = append(wantFar, n)
				}
			}
			assert.ElementsMatch(t, wantFar, f.actNames(res.GetActivities()), "activities of the far lead")

			_, missingErr := h.activities.GetActivity(ctx, &leadsv1.GetActivityRequest{ActivityId: missingActivity, Read: f.read})
			for name, id := range f.acts {
				got, err := h.activities.GetActivity(ctx, &leadsv1.GetActivityRequest{ActivityId: id, Read: f.read})
				if slices.Contains(tt.acts, name) {
					require.NoError(t, err, name)
					assert.Equal(t, name, got.GetActivity().GetSubject())
					continue
				}
				assertNotFoundLike(t, err, missingErr, id, missingActivity)
			}
			_, missingErr = h.activities.GetTask(ctx, &leadsv1.GetTaskRequest{TaskId: missingTask, Read: f.read})
			for name, id := range f.tasks {
				got, err := h.activities.GetTask(ctx, &leadsv1.GetTaskRequest{TaskId: id, Read: f.read})
				if slices.Contains(tt.tasks, name) {
					require.NoError(t, err, name)
					assert.Equal(t, name, got.GetTask().GetSubject())
					continue
				}
				assertNotFoundLike(t, err, missingErr, id, missingTask)
			}

			// The opportunity's timeline keeps the entries whose activity or task is in scope.
			tl, err := h.activities.GetTimeline(ctx, &leadsv1.GetTimelineRequest{Record: f.opp, Read: f.read})
			require.NoError(t, err)
			var got []string
			for _, e := range tl.GetEntries() {
				got = append(got, e.GetActivity().GetSubject()+e.GetTask().GetSubject())
			}
			assert.ElementsMatch(t, tt.oppTimelines, got, "the opportunity's timeline")
		})
	}
}

// TestRowLevelTaskCommands: Update, Complete, Cancel and Reopen of a task out of the caller's
// scope are NOT_FOUND exactly as for a missing task, with any write options, and append
// nothing; in scope they work, and an expected version is still checked there.
func TestRowLevelTaskCommands(t *testing.T) {
	t.Parallel()
	f := newActFixture(t)
	h := f.h
	rep := caller(t, "rep-1", "sales_rep", "dach", "")
	mgr := caller(t, "mgr-1", "sales_manager", "", "rep-2")
	v := uint64(1)
	commands := []struct {
		name string
		run  func(ctx context.Context, id string, o *commonv1.WriteOptions) error
	}{
		{"UpdateTask", func(ctx context.Context, id string, o *commonv1.WriteOptions) error {
			_, err := h.activities.UpdateTask(ctx, &leadsv1.UpdateTaskRequest{TaskId: id, Task: &leadsv1.Task{Subject: "renamed"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"subject"}}, Options: o})
			return err
		}},
		{"CompleteTask", func(ctx context.Context, id string, o *commonv1.WriteOptions) error {
			_, err := h.activities.CompleteTask(ctx, &leadsv1.CompleteTaskRequest{TaskId: id, Options: o})
			return err
		}},
		{"CancelTask", func(ctx context.Context, id string, o *commonv1.WriteOptions) error {
			_, err := h.activities.CancelTask(ctx, &leadsv1.CancelTaskRequest{TaskId: id, Options: o})
			return err
		}},
		{"ReopenTask", func(ctx context.Context, id string, o *commonv1.WriteOptions) error {
			_, err := h.activities.ReopenTask(ctx, &leadsv1.ReopenTaskRequest{TaskId: id, Options: o})
			return err
		}},
	}
	before := h.leadsStreamMsgs(t)
	for _, c := range []struct {
		name string
		ctx  context.Context
		out  []string
	}{
		{"rep", rep, []string{"t-far", "t-afar", "t-cfar"}},
		{"manager with team", mgr, []string{"t-mine", "t-far", "t-far-rep1", "t-opp-rep"}},
	} {
		for _, cmd := range commands {
			for i, o := range []*commonv1.WriteOptions{nil, {ExpectedVersion: &v}, {IdempotencyKey: "k-" + strings.ReplaceAll(c.name, " ", "-") + cmd.name}} {
				for _, name := range c.out {
					id := f.tasks[name]
					if i == 2 { // one idempotency key per task
						o = &commonv1.WriteOptions{IdempotencyKey: o.GetIdempotencyKey() + "-" + name}
					}
					assertNotFoundLike(t, cmd.run(c.ctx, id, o), cmd.run(c.ctx, missingTask, o), id, missingTask)
				}
			}
		}
	}
	assert.Equal(t, before, h.leadsStreamMsgs(t), "nothing appended")

	// In scope: the rep's own record's task, the one assigned to it about a lead it does not
	// see, the one it created about an opportunity; a version mismatch is still a conflict.
	wrong := uint64(7)
	assert.Equal(t, codes.Aborted, status.Code(commands[1].run(rep, f.tasks["t-mine"], &commonv1.WriteOptions{ExpectedVersion: &wrong})))
	for _, name := range []string{"t-mine", "t-far-rep1", "t-opp-rep"} {
		require.NoError(t, commands[1].run(rep, f.tasks[name], &commonv1.WriteOptions{ExpectedVersion: &v}), name)
		require.NoError(t, commands[3].run(rep, f.tasks[name], nil), name)
	}

	// An idempotency key's stored outcome is not returned once the task left the scope.
	admin := as(t, "acme", "admin-1")
	key := &commonv1.WriteOptions{IdempotencyKey: "replay-t-mine"}
	require.NoError(t, commands[2].run(rep, f.tasks["t-mine"], key))
	require.NoError(t, commands[2].run(rep, f.tasks["t-mine"], key), "a replay in scope")
	_, err := h.client.AssignLead(admin, &leadsv1.AssignLeadRequest{LeadId: f.ids["mine"], OwnerId: "rep-3"})
	require.NoError(t, err)
	assertNotFoundLike(t, commands[2].run(rep, f.tasks["t-mine"], key), commands[2].run(rep, missingTask, nil), f.tasks["t-mine"], missingTask)
}

// TestRowLevelActivitiesFollowOwners: assigning a lead, or changing an account's or contact's
// owner, moves the activities and tasks about it into and out of callers' scopes, in the read
// model and for task commands.
func TestRowLevelActivitiesFollowOwners(t *testing.T) {
	t.Parallel()
	f := newActFixture(t)
	h := f.h
	admin := as(t, "acme", "admin-1")
	rep := caller(t, "rep-1", "sales_rep", "", "")
	far := caller(t, "rep-3", "sales_rep", "", "")
	visible := func(ctx context.Context, read *commonv1.ReadOptions) ([]string, []string) {
		t.Helper()
		acts, err := h.activities.ListActivities(ctx, &leadsv1.ListActivitiesRequest{PageSize: 100, Read: read})
		require.NoError(t, err)
		tasks, err := h.activities.ListTasks(ctx, &leadsv1.ListTasksRequest{PageSize: 100, Read: read})
		require.NoError(t, err)
		return f.actNames(acts.GetActivities()), f.taskNames(tasks.GetTasks())
	}
	acts, tasks := visible(rep, f.read)
	require.NotContains(t, acts, "a-far1")
	require.NotContains(t, tasks, "t-far")
	assertNotFoundLike(t, func() error {
		_, err := h.activities.CompleteTask(rep, &leadsv1.CompleteTaskRequest{TaskId: f.tasks["t-far"]})
		return err
	}(), func() error {
		_, err := h.activities.CompleteTask(rep, &leadsv1.CompleteTaskRequest{TaskId: missingTask})
		return err
	}(), f.tasks["t-far"], missingTask)

	// The far lead goes to rep-1, the afar account and cfar contact too.
	var seq uint64
	res, err := h.client.AssignLead(admin, &leadsv1.AssignLeadRequest{LeadId: f.ids["far"], OwnerId: "rep-1"})
	require.NoError(t, err)
	seq = max(seq, res.GetResult().GetSequence())
	ar, err := h.accounts.UpdateAccount(admin, &leadsv1.UpdateAccountRequest{AccountId: f.ids["afar"],
		Account: &leadsv1.Account{OwnerId: "rep-1"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"owner_id"}}})
	require.NoError(t, err)
	seq = max(seq, ar.GetResult().GetSequence())
	cr, err := h.contacts.UpdateContact(admin, &leadsv1.UpdateContactRequest{ContactId: f.ids["cfar"],
		Contact: &leadsv1.Contact{OwnerId: "rep-1"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"owner_id"}}})
	require.NoError(t, err)
	seq = max(seq, cr.GetResult().GetSequence())
	read := &commonv1.ReadOptions{MinSequence: seq}

	acts, tasks = visible(rep, read)
	assert.Equal(t, []string{"a-afar", "a-amine", "a-ashared", "a-both", "a-cfar", "a-cmine", "a-far1", "a-far2", "a-far3", "a-far4",
		"a-far5", "a-mine", "a-opp-rep"}, acts, "rep-1 after the assignments")
	assert.Equal(t, []string{"t-afar", "t-ashared", "t-cfar", "t-far", "t-far-rep1", "t-mine", "t-opp-rep"}, tasks)
	acts, tasks = visible(far, read)
	assert.Equal(t, []string{"a-ashared"}, acts, "rep-3 after the assignments")
	assert.Equal(t, []string{"t-ashared"}, tasks)
	_, err = h.activities.GetTimeline(far, &leadsv1.GetTimelineRequest{Record: leadRef(f.ids["far"]), Read: read})
	assert.Equal(t, codes.NotFound, status.Code(err), "the far lead's timeline is no longer rep-3's")
	tl, err := h.activities.GetTimeline(rep, &leadsv1.GetTimelineRequest{Record: leadRef(f.ids["far"]), Read: read})
	require.NoError(t, err)
	assert.NotEmpty(t, tl.GetEntries())
	_, err = h.activities.CompleteTask(rep, &leadsv1.CompleteTaskRequest{TaskId: f.tasks["t-far"]})
	assert.NoError(t, err, "a task about a lead now rep-1's")
	_, err = h.activities.CompleteTask(far, &leadsv1.CompleteTaskRequest{TaskId: f.tasks["t-cfar"]})
	assert.Equal(t, codes.NotFound, status.Code(err), "a task about a contact no longer rep-3's")
}

// TestRowLevelActivitiesAfterSchemaUpgrade: an activities read model written before the
// row-level rules (schema version 1: no record owners) is rebuilt from CRM_LEADS when the
// service opens it, so a rep sees the activities of its own leads, and only those, at once.
func TestRowLevelActivitiesAfterSchemaUpgrade(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	dir := t.TempDir()
	h := start(t, n, dir)
	admin := as(t, "acme", "admin-1")
	var seq uint64
	acts := map[string]string{}
	for _, owner := range []string{"rep-1", "rep-3"} {
		p := newLead(owner + "@example.com")
		p.OwnerId = owner
		l, err := h.client.CreateLead(admin, &leadsv1.CreateLeadRequest{Lead: p})
		require.NoError(t, err)
		res, err := h.activities.LogActivity(admin, &leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{
			Kind: leadsv1.ActivityKind_ACTIVITY_KIND_NOTE, Records: []*leadsv1.RecordRef{leadRef(l.GetLead().GetId())}, Subject: "about " + owner}})
		require.NoError(t, err)
		acts[owner], seq = res.GetActivity().GetId(), max(seq, res.GetResult().GetSequence())
	}
	_, err := h.activities.GetActivity(admin, &leadsv1.GetActivityRequest{ActivityId: acts["rep-3"], Read: &commonv1.ReadOptions{MinSequence: seq}})
	require.NoError(t, err)
	h.stop()

	// Take the file back to schema version 1, rows and checkpoint kept.
	db, err := sql.Open("sqlite", filepath.Join(dir, "activities.db"))
	require.NoError(t, err)
	for _, q := range []string{`DROP TABLE record_scope`, `DROP INDEX activity_records_by_activity`,
		`ALTER TABLE tasks DROP COLUMN created_by`, `ALTER TABLE timeline DROP COLUMN item_id`,
		`DELETE FROM schema_migrations WHERE version = 2`} {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
	var ck uint64
	require.NoError(t, db.QueryRow(`SELECT seq FROM checkpoints WHERE stream = 'CRM_LEADS'`).Scan(&ck))
	require.GreaterOrEqual(t, ck, seq, "the old file is at the end of the stream")
	require.NoError(t, db.Close())

	h = start(t, n, dir)
	rep := caller(t, "rep-1", "sales_rep", "", "")
	res, err := h.activities.ListActivities(rep, &leadsv1.ListActivitiesRequest{Read: &commonv1.ReadOptions{MinSequence: seq}})
	require.NoError(t, err)
	require.Len(t, res.GetActivities(), 1, "rep-1's lead's activity, from the rebuilt model")
	assert.Equal(t, acts["rep-1"], res.GetActivities()[0].GetId())
	_, err = h.activities.GetActivity(rep, &leadsv1.GetActivityRequest{ActivityId: acts["rep-3"], Read: &commonv1.ReadOptions{MinSequence: seq}})
	assert.Equal(t, codes.NotFound, status.Code(err))
}

// fresh is ctx's caller (its outgoing metadata) with a new 30 s deadline: a parallel subtest
// may wait longer than that for its turn on a busy machine, and the deadline of a context
// built before it started would expire first.
func fresh(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	md, _ := metadata.FromOutgoingContext(ctx)
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return metadata.NewOutgoingContext(c, md.Copy())
}
