package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/status"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
	"github.com/evcrm/evcrm/services/campaign/internal/ports/rules"
)

// killOn kills r as soon as the n-th message on subject (a core NATS subscription of the test's
// own: it sees each event the moment the stream stores it) has been seen, from another
// goroutine, and returns a channel closed once r is dead.
func killOn(t *testing.T, tn *testkit.NATS, r *replica, subject string, n int) <-chan struct{} {
	t.Helper()
	nc := tn.Connect(t)
	trigger, dead := make(chan struct{}), make(chan struct{})
	var seen atomic.Int64
	sub, err := nc.Subscribe(subject, func(*nats.Msg) {
		if seen.Add(1) == int64(n) {
			close(trigger)
		}
	})
	require.NoError(t, err)
	go func() {
		<-trigger
		r.kill()
		_ = sub.Unsubscribe()
		close(dead)
	}()
	return dead
}

// TestFaultCampaignKilledMidEnrollment is issue 11's fault test 5 for segment enrollment.
//
// Fault: the campaign replica running an EnrollSegment is killed (its NATS connection closed
// first, as kill -9 would: member appends and the page's progress record in flight are lost)
// right after the k-th member of the run was stored — k random per round, so the kill lands
// between a page's member appends and its EnrollmentProgressed, or between pages. The caller
// then calls EnrollSegment again on the other replica (another process of the deployment), and
// a restarted instance of the killed one calls it a third time.
//
// Load: 60 leads in the real leads service (a child process), 12 selected by the segment's
// criteria, 2 of them do-not-contact; pages of 7 leads (9 pages, 9 progress events per run);
// one round by default, 4 rounds (4 campaigns) with -soak.
//
// Invariants: the resumed enrollment ends DONE with exactly the 10 contactable selected leads as
// members on both replicas' read models, each member added once (one CampaignMemberAdded per
// member subject), the page in flight at the kill reported as already members, and the third
// call adds nobody.
func TestFaultCampaignKilledMidEnrollment(t *testing.T) {
	t.Parallel()
	rounds := 1
	if testkit.Soak() {
		rounds = 4
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d, %d rounds", seed, rounds)

	n := testkit.StartNATS(t)
	lp := startLeadsProcess(t, n)
	ctx := as(t, "acme", "marketer-1")
	var want []string
	for _, l := range createSegmentLeads(t, ctx, lp.leads(t), 60) {
		if l.selected && !l.doNotContact {
			want = append(want, l.id)
		}
	}
	sort.Strings(want)
	require.Len(t, want, 10, "test data")

	survivor := startReplica(t, n, lp.Addr(), 7)
	seg, err := survivor.client.CreateSegment(ctx, &campaignv1.CreateSegmentRequest{Segment: &campaignv1.Segment{
		Name: "VIP prospects", Object: campaignv1.MemberType_MEMBER_TYPE_LEAD, Criteria: segmentCriteria}})
	require.NoError(t, err)
	segID := seg.GetSegment().GetId()

	for round := range rounds {
		victim := startReplica(t, n, lp.Addr(), 7)
		c := victim.createCampaign(t, fmt.Sprintf("Crash %d", round), true)
		k := 1 + rng.IntN(len(want)-1)
		dead := killOn(t, n, victim, "crm.acme.member.*.CampaignMemberAdded", k)

		msgs, err := enroll(t, victim.harness, c.GetId(), segID, 0)
		<-dead
		switch {
		case err == nil:
			t.Logf("round %d: the run finished before the kill after member %d landed", round, k)
		default:
			// The gRPC server went away or the appends failed: either way not OK.
			t.Logf("round %d: killed after member %d: %v (%d progress messages)", round, k, status.Code(err), len(msgs))
		}
		before := len(perMember(t, n, c.GetId(), want))
		require.GreaterOrEqual(t, before, k, "the members stored before the kill are there")

		// The caller retries on the surviving replica.
		msgs, err = enroll(t, survivor.harness, c.GetId(), segID, 0)
		require.NoError(t, err)
		done := msgs[len(msgs)-1]
		require.Equal(t, campaignv1.EnrollmentStatus_ENROLLMENT_STATUS_DONE, done.GetStatus(), "%v", done)
		assert.Equal(t, want, memberIDs(t, ctx, survivor.harness, c.GetId(), want))
		members := perMember(t, n, c.GetId(), want)
		assert.Len(t, members, len(want))
		for subj, cnt := range members {
			assert.EqualValues(t, 1, cnt, "%s added once", subj)
		}

		// The killed replica restarted: a third call adds nobody, and its read model agrees.
		restarted := startReplica(t, n, lp.Addr(), 7)
		msgs, err = enroll(t, restarted.harness, c.GetId(), segID, 0)
		require.NoError(t, err)
		again := msgs[len(msgs)-1]
		assert.EqualValues(t, 0, again.GetAdded())
		assert.EqualValues(t, len(want), again.GetAlreadyMembers())
		assert.Equal(t, want, memberIDs(t, ctx, restarted.harness, c.GetId(), want))
		assert.Len(t, perMember(t, n, c.GetId(), want), len(want))
		restarted.stop()
	}
}

// perMember counts the CampaignMemberAdded events of each person's membership of a campaign
// (member ids are derived from the campaign and the person, so a second add of one person would
// be a second event on the same subject).
func perMember(t *testing.T, n *testkit.NATS, campaignID string, people []string) map[string]uint64 {
	t.Helper()
	s, err := n.JetStream(t).Stream(context.Background(), "CRM_CAMPAIGN")
	require.NoError(t, err)
	out := map[string]uint64{}
	for _, p := range people {
		subj := "crm.acme.member." + member.ID(campaignID, member.TypeLead, p) + ".CampaignMemberAdded"
		info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(subj))
		require.NoError(t, err)
		if c := info.State.Subjects[subj]; c > 0 {
			out[p] = c
		}
	}
	return out
}

// expireUnacked makes the killed replica's unacknowledged deliveries of the rule engine's
// consumer on stream due at once, standing in for the 30 s ack wait the server would otherwise
// wait out: the consumer's AckWait is lowered (the server then re-examines its pending
// deliveries within 100 ms and queues the expired ones for redelivery) and, once that has
// happened, the next replica's start sets it back.
func expireUnacked(t *testing.T, n *testkit.NATS, stream string) {
	t.Helper()
	js := n.JetStream(t)
	cons, err := js.Consumer(context.Background(), stream, rules.Name)
	require.NoError(t, err)
	info, err := cons.Info(context.Background())
	require.NoError(t, err)
	cfg := info.Config
	cfg.AckWait = 100 * time.Millisecond
	_, err = js.UpdateConsumer(context.Background(), stream, cfg)
	require.NoError(t, err)
	time.Sleep(time.Second)
}

// TestFaultRuleEngineKilledMidActions is issue 11's fault test 5 for automation rule actions.
//
// Fault: a rule (create a task for the lead's owner, tag the lead, add it to a campaign) fires on
// a new lead; the campaign replica whose engine runs it is killed (NATS connection first: nothing
// it has in flight is appended, acked or given back) the moment the first, the second or the
// third action's effect is stored — after the task, after the tag, or after the membership and
// before the run is recorded. A restarted instance takes the unacknowledged event over: with
// -soak after the real 30 s ack wait, otherwise after expireUnacked lowers the consumer's ack
// wait (the redelivery path is the same).
//
// Load: one lead per kill point (3 by default; 3 × 3 with -soak), on the real leads service.
//
// Invariants: every run ends recorded exactly once (one event on the run's subject), FIRED
// with the three actions; each action's effect exists exactly once — one TaskCreated, one
// LeadTagsAdded and one CampaignMemberAdded per lead — however many of them had run before the
// kill (the actions' idempotency keys and derived member ids absorb the repeat).
func TestFaultRuleEngineKilledMidActions(t *testing.T) {
	t.Parallel()
	rounds := 1
	if testkit.Soak() {
		rounds = 3
	}
	n := testkit.StartNATS(t)
	lp := startLeadsProcess(t, n)
	leads := lp.leads(t)
	engine := startReplica(t, n, lp.Addr(), 0)
	ctx := as(t, "acme", "marketer-1")
	target := engine.createCampaign(t, "Auto-enrolled", true)
	res, err := engine.client.CreateRule(ctx, &campaignv1.CreateRuleRequest{Rule: tagRule("welcome", "LeadCreated", "", ruleActions(target.GetId())...)})
	require.NoError(t, err)
	ruleID := res.GetRule().GetId()
	_, err = engine.client.GetRule(ctx, &campaignv1.GetRuleRequest{RuleId: ruleID, Read: after(res.GetResult())})
	require.NoError(t, err)

	points := []struct{ name, subject string }{
		{"after the task", "crm.acme.task.*.TaskCreated"},
		{"after the tag", "crm.acme.lead.*.LeadTagsAdded"},
		{"after the membership", "crm.acme.member.*.CampaignMemberAdded"},
	}
	i := 0
	var leadIDs []string
	for round := range rounds {
		for _, p := range points {
			name := fmt.Sprintf("Killed%02d", i)
			i++
			dead := killOn(t, n, engine, p.subject, 1)
			l, err := leads.CreateLead(as(t, "acme", "rep-1"), &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: name,
				LastName: "Rule", Email: fmt.Sprintf("killed%02d@example.com", i), Company: "Acme", OwnerId: "rep-1",
				Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
			require.NoError(t, err)
			leadID := l.GetLead().GetId()
			select {
			case <-dead:
			case <-time.After(30 * time.Second):
				t.Fatalf("round %d %s: the action never ran", round, p.name)
			}
			created := (&rulesEnv{n: n}).lastEvent(t, "CRM_LEADS", "crm.acme.lead."+leadID+".LeadCreated")
			runSubject := "crm.acme.rulerun." + rule.RunID(ruleID, created.GetEventId()) + ".*"
			recorded := len(testkit.SubjectCounts(t, n.JetStream(t), "CRM_CAMPAIGN", runSubject))
			t.Logf("round %d: killed %s; run recorded before the kill: %v", round, p.name, recorded == 1)
			if !testkit.Soak() {
				expireUnacked(t, n, "CRM_LEADS")
			}
			start := time.Now()
			engine = startReplica(t, n, lp.Addr(), 0)
			require.Eventually(t, func() bool {
				return len(testkit.SubjectCounts(t, n.JetStream(t), "CRM_CAMPAIGN", runSubject)) == 1
			}, 60*time.Second, 20*time.Millisecond, "the run is recorded after the restart")
			t.Logf("round %d: run recorded %v after the restart", round, time.Since(start).Round(time.Millisecond))
			(&rulesEnv{n: n}).engineIdle(t, "CRM_LEADS")

			eachOnce(t, "run "+p.name, testkit.SubjectCounts(t, n.JetStream(t), "CRM_CAMPAIGN", runSubject), 1)
			eachOnce(t, "tag "+p.name, testkit.SubjectCounts(t, n.JetStream(t), "CRM_LEADS", "crm.acme.lead."+leadID+".LeadTagsAdded"), 1)
			leadIDs = append(leadIDs, leadID)
			eachOnce(t, "member "+p.name, perMember(t, n, target.GetId(), leadIDs), i)
			r := waitRun(t, engine, ruleID, leadID)
			assert.Equal(t, campaignv1.RuleRunOutcome_RULE_RUN_OUTCOME_FIRED, r.GetOutcome(), "%v", r)
			assert.Len(t, r.GetActions(), 3, "%v", r)
		}
	}
	// One task per lead: the tasks name no lead in their subject, so they are counted in total.
	tasks := testkit.SubjectCounts(t, n.JetStream(t), "CRM_LEADS", "crm.acme.task.*.TaskCreated")
	eachOnce(t, "tasks", tasks, i)
}

// waitRun waits until h's run log has the rule's run for recordID.
func waitRun(t *testing.T, r *replica, ruleID, recordID string) *campaignv1.RuleRun {
	t.Helper()
	var run *campaignv1.RuleRun
	require.Eventually(t, func() bool {
		res, err := r.client.ListRuleRuns(as(t, "acme", "marketer-1"), &campaignv1.ListRuleRunsRequest{RuleId: ruleID, PageSize: 1000})
		require.NoError(t, err)
		run = runFor(res.GetRuns(), recordID)
		return run != nil
	}, 20*time.Second, 20*time.Millisecond)
	return run
}
