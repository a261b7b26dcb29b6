package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/leads/internal/ports/reactions"
)

// actHarness is the harness under the names the activities tests use.
type actHarness struct {
	*harness
	leads leadsv1.LeadsServiceClient
	acts  leadsv1.ActivitiesServiceClient
}

func startActivities(t *testing.T) *actHarness {
	t.Helper()
	h := startService(t, testkit.StartNATS(t), harnessOptions{})
	return &actHarness{harness: h, leads: h.client, acts: h.activities}
}

func (h *actHarness) streamMsgs(t *testing.T) uint64 { return h.leadsStreamMsgs(t) }

func leadRef(id string) *leadsv1.RecordRef {
	return &leadsv1.RecordRef{Type: leadsv1.RecordType_RECORD_TYPE_LEAD, Id: id}
}

func (h *actHarness) createLead(t *testing.T, ctx context.Context, email string) *leadsv1.CreateLeadResponse {
	t.Helper()
	res, err := h.leads.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead(email)})
	require.NoError(t, err)
	return res
}

func TestLoggedCallRaisesTheLeadsEngagement(t *testing.T) {
	t.Parallel()
	h := startActivities(t)
	ctx := as(t, "acme", "rep-1")
	created := h.createLead(t, ctx, "ada@example.com")
	id := created.GetLead().GetId()
	before := created.GetLead().GetScore().GetEngagement()

	logged, err := h.acts.LogActivity(ctx, &leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{
		Kind: leadsv1.ActivityKind_ACTIVITY_KIND_CALL, Records: []*leadsv1.RecordRef{leadRef(id), {Type: leadsv1.RecordType_RECORD_TYPE_OPPORTUNITY, Id: "opp-from-pipeline"}},
		Subject: "Intro call", Direction: leadsv1.ActivityDirection_ACTIVITY_DIRECTION_OUTBOUND, Outcome: "connected",
		Duration: durationpb.New(12 * time.Minute)}})
	require.NoError(t, err)
	assert.Equal(t, "rep-1", logged.GetActivity().GetLoggedBy(), "the acting user logged it")
	assert.NotEmpty(t, logged.GetActivity().GetId())

	var lead *leadsv1.Lead
	require.Eventually(t, func() bool {
		got, err := h.leads.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id})
		lead = got.GetLead()
		return err == nil && lead.GetScore().GetEngagement() > before
	}, 10*time.Second, 20*time.Millisecond, "the reaction raises the engagement score")
	assert.Equal(t, before+10, lead.GetScore().GetEngagement(), "the default model gives a call 10 points")

	// The same event delivered again counts once: the reaction's idempotency key is derived
	// from the event.
	s, err := h.js.Stream(ctx, "CRM_LEADS")
	require.NoError(t, err)
	raw, err := s.GetLastMsgForSubject(ctx, "crm.acme.activity."+logged.GetActivity().GetId()+".*")
	require.NoError(t, err)
	var env eventsv1.Envelope
	require.NoError(t, proto.Unmarshal(raw.Data, &env))
	redelivered := projection.Event{Envelope: &env, Subject: raw.Subject, Stream: "CRM_LEADS", Sequence: raw.Sequence, Deliveries: 2}
	msgs := h.streamMsgs(t)
	require.NoError(t, reactions.NewEngagement(h.svc.App, nil).Handle(ctx, []projection.Event{redelivered}))
	assert.Equal(t, msgs, h.streamMsgs(t), "a redelivered activity appends nothing")

	// A rep's own outbound email is not the prospect engaging; an inbound reply is.
	_, err = h.acts.LogActivity(ctx, &leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{
		Kind: leadsv1.ActivityKind_ACTIVITY_KIND_EMAIL, Records: []*leadsv1.RecordRef{leadRef(id)}, Subject: "Proposal",
		Direction: leadsv1.ActivityDirection_ACTIVITY_DIRECTION_OUTBOUND}})
	require.NoError(t, err)
	reply, err := h.acts.LogActivity(ctx, &leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{
		Kind: leadsv1.ActivityKind_ACTIVITY_KIND_EMAIL, Records: []*leadsv1.RecordRef{leadRef(id)}, Subject: "Re: Proposal",
		Direction: leadsv1.ActivityDirection_ACTIVITY_DIRECTION_INBOUND}})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err := h.leads.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id})
		lead = got.GetLead()
		return err == nil && lead.GetScore().GetEngagement() > before+10
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, before+10+8, lead.GetScore().GetEngagement(), "only the reply counted (8 points)")

	// The activity is readable once its sequence is applied.
	got, err := h.acts.GetActivity(ctx, &leadsv1.GetActivityRequest{ActivityId: reply.GetActivity().GetId(),
		Read: &commonv1.ReadOptions{MinSequence: reply.GetResult().GetSequence()}})
	require.NoError(t, err)
	assert.True(t, proto.Equal(reply.GetActivity(), got.GetActivity()), "read model returns what was logged")
}

func TestActivityOnMissingRecordOrBadInputAppendsNothing(t *testing.T) {
	t.Parallel()
	h := startActivities(t)
	ctx := as(t, "acme", "rep-1")
	h.createLead(t, ctx, "ada@example.com")
	msgs := h.streamMsgs(t)

	_, err := h.acts.LogActivity(ctx, &leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{
		Kind: leadsv1.ActivityKind_ACTIVITY_KIND_NOTE, Records: []*leadsv1.RecordRef{leadRef("no-such-lead")}, Subject: "Note"}})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	assert.Contains(t, status.Convert(err).Message(), "lead no-such-lead does not exist")
	_, err = h.acts.LogActivity(ctx, &leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{
		Kind: leadsv1.ActivityKind_ACTIVITY_KIND_NOTE, Records: []*leadsv1.RecordRef{{Type: leadsv1.RecordType_RECORD_TYPE_CONTACT, Id: "ghost"}}, Subject: "Note"}})
	assert.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)

	_, err = h.acts.LogActivity(ctx, &leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{
		Records:   []*leadsv1.RecordRef{leadRef("x"), {Type: leadsv1.RecordType_RECORD_TYPE_ACCOUNT, Id: "a b"}},
		Direction: leadsv1.ActivityDirection_ACTIVITY_DIRECTION_INBOUND, Duration: durationpb.New(-time.Minute)}})
	assert.Equal(t, map[string]bool{"activity.kind": true, "activity.records[1].id": true, "activity.subject": true,
		"activity.duration": true}, violations(t, err))

	_, err = h.acts.CreateTask(ctx, &leadsv1.CreateTaskRequest{Task: &leadsv1.Task{Priority: 9}})
	assert.Equal(t, map[string]bool{"task.priority": true}, violations(t, err))
	_, err = h.acts.CreateTask(ctx, &leadsv1.CreateTaskRequest{Task: &leadsv1.Task{}})
	assert.Equal(t, map[string]bool{"task.subject": true, "task.assignee_id": true}, violations(t, err))
	_, err = h.acts.CreateTask(ctx, &leadsv1.CreateTaskRequest{Task: &leadsv1.Task{Subject: "Call back", AssigneeId: "rep-1", Record: leadRef("no-such-lead")}})
	assert.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	_, err = h.acts.GetTimeline(ctx, &leadsv1.GetTimelineRequest{PageSize: 5000})
	assert.Equal(t, map[string]bool{"record": true, "page_size": true}, violations(t, err))

	assert.Equal(t, msgs, h.streamMsgs(t), "rejected commands append nothing")
}

func TestTaskLifecycleAndOverdueQuery(t *testing.T) {
	t.Parallel()
	h := startActivities(t)
	ctx := as(t, "acme", "rep-1")
	lead := h.createLead(t, ctx, "ada@example.com").GetLead().GetId()
	now := time.Now()
	mk := func(subject, assignee string, due time.Duration) *leadsv1.CreateTaskResponse {
		t.Helper()
		task := &leadsv1.Task{Subject: subject, AssigneeId: assignee, Record: leadRef(lead)}
		if due != 0 {
			task.DueAt = timestamp(now.Add(due))
		}
		res, err := h.acts.CreateTask(ctx, &leadsv1.CreateTaskRequest{Task: task, Options: &commonv1.WriteOptions{IdempotencyKey: fmt.Sprintf("task-%s-%d", assignee, int(due.Minutes()))}})
		require.NoError(t, err)
		return res
	}
	late := mk("late", "rep-7", -time.Hour)
	later := mk("later", "rep-7", -2*time.Hour)
	mk("future", "rep-7", time.Hour)
	mk("someone else's", "rep-8", -time.Hour)
	undated := mk("undated", "rep-7", 0)
	assert.Equal(t, leadsv1.TaskStatus_TASK_STATUS_OPEN, late.GetTask().GetStatus())
	assert.Equal(t, leadsv1.TaskPriority_TASK_PRIORITY_NORMAL, late.GetTask().GetPriority())
	assert.Equal(t, "rep-1", late.GetTask().GetCreatedBy())
	again := mk("late", "rep-7", -time.Hour)
	assert.True(t, again.GetResult().GetReplayed(), "same idempotency key, same task")
	assert.Equal(t, late.GetTask().GetId(), again.GetTask().GetId())

	overdue := func(seq uint64) []string {
		t.Helper()
		res, err := h.acts.ListTasks(ctx, &leadsv1.ListTasksRequest{AssigneeId: "rep-7", OverdueOnly: true, Read: &commonv1.ReadOptions{MinSequence: seq}})
		require.NoError(t, err)
		var out []string
		for _, tk := range res.GetTasks() {
			out = append(out, tk.GetSubject())
		}
		return out
	}
	assert.Equal(t, []string{"later", "late"}, overdue(undated.GetResult().GetSequence()), "rep-7's open tasks past due, earliest first")

	done, err := h.acts.CompleteTask(ctx, &leadsv1.CompleteTaskRequest{TaskId: later.GetTask().GetId(), Note: "sent"})
	require.NoError(t, err)
	assert.Equal(t, leadsv1.TaskStatus_TASK_STATUS_DONE, done.GetTask().GetStatus())
	assert.NotNil(t, done.GetTask().GetCompletedAt())
	assert.Equal(t, []string{"late"}, overdue(done.GetResult().GetSequence()))

	_, err = h.acts.CompleteTask(ctx, &leadsv1.CompleteTaskRequest{TaskId: later.GetTask().GetId()})
	require.Equal(t, codes.FailedPrecondition, status.Code(err))
	assert.Contains(t, status.Convert(err).Message(), "DONE")
	_, err = h.acts.CancelTask(ctx, &leadsv1.CancelTaskRequest{TaskId: later.GetTask().GetId()})
	assert.Equal(t, codes.FailedPrecondition, status.Code(err))
	reopened, err := h.acts.ReopenTask(ctx, &leadsv1.ReopenTaskRequest{TaskId: later.GetTask().GetId()})
	require.NoError(t, err)
	assert.Nil(t, reopened.GetTask().GetCompletedAt())
	_, err = h.acts.ReopenTask(ctx, &leadsv1.ReopenTaskRequest{TaskId: later.GetTask().GetId()})
	assert.Equal(t, codes.FailedPrecondition, status.Code(err))

	// Moving the due date into the future takes the task off the overdue list.
	upd, err := h.acts.UpdateTask(ctx, &leadsv1.UpdateTaskRequest{TaskId: late.GetTask().GetId(),
		Task:       &leadsv1.Task{DueAt: timestamp(now.Add(24 * time.Hour)), Priority: leadsv1.TaskPriority_TASK_PRIORITY_HIGH},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"due_at", "priority"}}})
	require.NoError(t, err)
	assert.Equal(t, leadsv1.TaskPriority_TASK_PRIORITY_HIGH, upd.GetTask().GetPriority())
	assert.Equal(t, []string{"later"}, overdue(upd.GetResult().GetSequence()))

	_, err = h.acts.UpdateTask(ctx, &leadsv1.UpdateTaskRequest{TaskId: late.GetTask().GetId(), Task: &leadsv1.Task{},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status", "subject"}}})
	assert.Equal(t, map[string]bool{"update_mask.paths[0]": true}, violations(t, err))
	_, err = h.acts.UpdateTask(ctx, &leadsv1.UpdateTaskRequest{TaskId: late.GetTask().GetId(), Task: &leadsv1.Task{AssigneeId: "a b"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"subject", "assignee_id"}}})
	assert.Equal(t, map[string]bool{"task.subject": true, "task.assignee_id": true}, violations(t, err))
	_, err = h.acts.CompleteTask(ctx, &leadsv1.CompleteTaskRequest{TaskId: "nope"})
	assert.Equal(t, codes.NotFound, status.Code(err))

	got, err := h.acts.GetTask(ctx, &leadsv1.GetTaskRequest{TaskId: late.GetTask().GetId(), Read: &commonv1.ReadOptions{MinSequence: upd.GetResult().GetSequence()}})
	require.NoError(t, err)
	assert.True(t, proto.Equal(upd.GetTask(), got.GetTask()), "read model holds the task as the command left it")
}

func TestTimelineOfALeadNewestFirstAcrossPages(t *testing.T) {
	t.Parallel()
	h := startActivities(t)
	ctx := as(t, "acme", "rep-1")
	id := h.createLead(t, ctx, "ada@example.com").GetLead().GetId()
	other := h.createLead(t, ctx, "bob@example.com").GetLead().GetId()

	_, err := h.leads.ChangeLeadStatus(ctx, &leadsv1.ChangeLeadStatusRequest{LeadId: id, Status: leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED})
	require.NoError(t, err)
	_, err = h.leads.UpdateLead(ctx, &leadsv1.UpdateLeadRequest{LeadId: id, Lead: &leadsv1.Lead{JobTitle: "Engineer", City: "London"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title", "city"}}})
	require.NoError(t, err)
	_, err = h.acts.LogActivity(ctx, &leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{
		Kind: leadsv1.ActivityKind_ACTIVITY_KIND_MEETING, Records: []*leadsv1.RecordRef{leadRef(id), leadRef(other)}, Subject: "Demo"}})
	require.NoError(t, err)
	task, err := h.acts.CreateTask(ctx, &leadsv1.CreateTaskRequest{Task: &leadsv1.Task{Subject: "Send deck", AssigneeId: "rep-1", Record: leadRef(id)}})
	require.NoError(t, err)
	last, err := h.acts.CompleteTask(ctx, &leadsv1.CompleteTaskRequest{TaskId: task.GetTask().GetId()})
	require.NoError(t, err)

	// The meeting's engagement lands later (the reaction): wait for everything on the stream.
	seq := last.GetResult().GetSequence()
	require.Eventually(t, func() bool {
		res, err := h.leads.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id})
		return err == nil && res.GetLead().GetScore().GetEngagement() > 0
	}, 10*time.Second, 20*time.Millisecond)
	s, err := h.js.Stream(ctx, "CRM_LEADS")
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	seq = max(seq, info.State.LastSeq)

	var entries []*leadsv1.TimelineEntry
	token, pages := "", 0
	for {
		res, err := h.acts.GetTimeline(ctx, &leadsv1.GetTimelineRequest{Record: leadRef(id), PageSize: 3, PageToken: token,
			Read: &commonv1.ReadOptions{MinSequence: seq}})
		require.NoError(t, err)
		entries = append(entries, res.GetEntries()...)
		pages++
		if token = res.GetNextPageToken(); token == "" {
			break
		}
	}
	var summaries []string
	for i, e := range entries {
		summaries = append(summaries, e.GetSummary())
		if i > 0 {
			prev := entries[i-1]
			newerOrSame := prev.GetAt().AsTime().After(e.GetAt().AsTime()) ||
				(prev.GetAt().AsTime().Equal(e.GetAt().AsTime()) && prev.GetSequence() > e.GetSequence())
			assert.True(t, newerOrSame, "newest first: %q before %q", prev.GetSummary(), e.GetSummary())
		}
	}
	assert.Greater(t, pages, 2)
	assert.Equal(t, "Created", summaries[len(summaries)-1], "the lead's first event is the oldest entry")
	assert.Contains(t, summaries, "Status NEW → MARKETING_QUALIFIED")
	assert.Contains(t, summaries, "Changed job_title, city")
	assert.Contains(t, summaries, "Meeting: Demo")
	assert.Contains(t, summaries, "Task completed: Send deck")
	assert.Contains(t, summaries, "Engagement MEETING (+15 points)")
	var sawActivity, sawTask bool
	for _, e := range entries {
		sawActivity = sawActivity || e.GetActivity().GetSubject() == "Demo"
		sawTask = sawTask || e.GetTask().GetStatus() == leadsv1.TaskStatus_TASK_STATUS_DONE
	}
	assert.True(t, sawActivity && sawTask, "entries carry the activity and the task")
	assert.Equal(t, "rep-1", entries[len(entries)-1].GetActor(), "entries name who did it")

	// The other lead sees the shared meeting but none of the first lead's own events.
	res, err := h.acts.GetTimeline(ctx, &leadsv1.GetTimelineRequest{Record: leadRef(other), Read: &commonv1.ReadOptions{MinSequence: seq}})
	require.NoError(t, err)
	var otherSummaries []string
	for _, e := range res.GetEntries() {
		otherSummaries = append(otherSummaries, e.GetSummary())
	}
	assert.Contains(t, otherSummaries, "Meeting: Demo")
	assert.NotContains(t, otherSummaries, "Status NEW → MARKETING_QUALIFIED")
}
