package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
	campaigngrpc "github.com/evcrm/evcrm/services/campaign/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/campaign/internal/ports/rules"
	"github.com/evcrm/evcrm/services/campaign/internal/service"
)

// replica is one in-process instance of the campaign service with a NATS connection of its own,
// so that a test can kill it the way kill -9 kills a process: kill closes the connection first
// (nothing in flight can be appended, acked or given back any more), then stops the workers and
// the gRPC server without waiting for anything to drain.
type replica struct {
	*harness
	metrics *projection.Metrics
}

// startReplica runs a campaign replica on n with its own read-model directory and metrics;
// leadsAddr is the leads process, pageSize the enrollment page size (0: the default).
func startReplica(t *testing.T, n *testkit.NATS, leadsAddr string, pageSize int) *replica {
	t.Helper()
	nc := n.Connect(t)
	m := projection.NewMetrics()
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, nc, service.Options{DataDir: t.TempDir(), LeadsAddr: leadsAddr, SegmentPageSize: pageSize,
		Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for _, w := range svc.Workers() {
		wg.Go(func() { _ = w.Run(ctx) })
	}
	g := testkit.StartGRPC(t, func(s *grpcserver.Server) { campaigngrpc.Register(s, svc.App) })
	h := &harness{nats: n, nc: nc, svc: svc, client: campaignv1.NewCampaignServiceClient(g.Conn)}
	h.stop = sync.OnceFunc(func() {
		g.Stop()
		cancel()
		wg.Wait()
		require.NoError(t, svc.Close())
	})
	t.Cleanup(h.stop)
	return &replica{harness: h, metrics: m}
}

// kill stops the replica as a crash would: its connection goes first.
func (r *replica) kill() {
	r.nc.Close()
	r.stop()
}

// eachOnce fails unless subjects has want subjects, each with exactly one message.
func eachOnce(t *testing.T, what string, subjects map[string]uint64, want int) {
	t.Helper()
	assert.Len(t, subjects, want, what)
	for s, c := range subjects {
		assert.EqualValues(t, 1, c, "%s: %s", what, s)
	}
}

// ruleActions is the rule the rule tests run on every new lead: a task for its owner, a tag
// and a membership, so that each run makes two calls to the leads service and one append of
// the campaign service's own.
func ruleActions(campaignID string) []*campaignv1.Action {
	return []*campaignv1.Action{
		{Action: &campaignv1.Action_CreateTask{CreateTask: &campaignv1.CreateTask{Subject: "Call the new lead"}}},
		addTag("auto"),
		{Action: &campaignv1.Action_AddToCampaign{AddToCampaign: &campaignv1.AddToCampaign{CampaignId: campaignID}}},
	}
}

// TestTwoCampaignReplicasOnOneNATS is issue 12's scale-out test for the campaign service: two
// in-process replicas, each with its own read models, against one JetStream and the real leads
// service (a child process).
//
// Load: 2 × 8 concurrent RecordCampaignCost on one campaign (half through each replica); 2 × 4
// concurrent ChangeCampaignStatus carrying the same expected version; a rule (create a task, add
// a tag, add to a campaign) created through one replica, then 24 leads created while both
// replicas' rule engines share the durable consumer.
//
// Invariants: no lost update — the campaign's actual cost is the sum of the acknowledged costs,
// its events are one per acknowledged command and its version says the same; conflicts are
// Aborted and append nothing; of the commands carrying one expected version exactly one wins;
// both replicas' read models answer Get, List and ListMembers identically; every lead's event
// runs the rule exactly once across the replicas (one RuleRunRecorded, one TaskCreated, one
// LeadTagsAdded and one CampaignMemberAdded per lead) and both engines take a share.
func TestTwoCampaignReplicasOnOneNATS(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	lp := startLeadsProcess(t, n)
	a, b := startReplica(t, n, lp.Addr(), 0), startReplica(t, n, lp.Addr(), 0)
	replicas := []*replica{a, b}
	ctx := as(t, "acme", "marketer-1")
	c := a.createCampaign(t, "Scale-out", true)

	t.Run("concurrent costs on one campaign lose nothing", func(t *testing.T) {
		var mu sync.Mutex
		var sum int64
		var acked int
		var last uint64
		var wg sync.WaitGroup
		for r, h := range replicas {
			for i := range 8 {
				units := int64(10*(r*8+i) + 1)
				wg.Go(func() {
					res, err := h.client.RecordCampaignCost(as(t, "acme", "marketer-1"), &campaignv1.RecordCampaignCostRequest{
						CampaignId: c.GetId(), Entry: &campaignv1.CostEntry{Amount: &commonv1.Money{CurrencyCode: "EUR", Units: units},
							Date: time.Now().UTC().Format(time.DateOnly), Description: fmt.Sprint("cost ", r, i)}})
					if status.Code(err) == codes.Aborted {
						return
					}
					if !assert.NoError(t, err) {
						return
					}
					mu.Lock()
					sum += units
					acked++
					last = max(last, res.GetResult().GetSequence())
					mu.Unlock()
				})
			}
		}
		wg.Wait()
		t.Logf("%d of 16 concurrent costs acknowledged", acked)
		require.Positive(t, acked)
		events := testkit.SubjectCounts(t, n.JetStream(t), "CRM_CAMPAIGN", "crm.acme.campaign."+c.GetId()+".*")
		var total uint64
		for _, v := range events {
			total += v
		}
		assert.EqualValues(t, int(c.GetVersion())+acked, total, "one event per acknowledged cost: %v", events)
		for _, h := range replicas {
			got, err := h.client.GetCampaign(ctx, &campaignv1.GetCampaignRequest{CampaignId: c.GetId(), Read: &commonv1.ReadOptions{MinSequence: last}})
			require.NoError(t, err)
			assert.Equal(t, sum, got.GetCampaign().GetActualCost().GetUnits(), "the sum of the acknowledged costs")
			assert.EqualValues(t, total, got.GetCampaign().GetVersion())
		}
	})

	t.Run("one expected version, one winner", func(t *testing.T) {
		other := a.createCampaign(t, "Race", false)
		v := other.GetVersion()
		var mu sync.Mutex
		seen := map[codes.Code]int{}
		var wg sync.WaitGroup
		for _, h := range replicas {
			for range 4 {
				wg.Go(func() {
					_, err := h.client.ChangeCampaignStatus(as(t, "acme", "marketer-1"), &campaignv1.ChangeCampaignStatusRequest{
						CampaignId: other.GetId(), Status: campaignv1.CampaignStatus_CAMPAIGN_STATUS_ACTIVE,
						Options: &commonv1.WriteOptions{ExpectedVersion: &v}})
					mu.Lock()
					seen[status.Code(err)]++
					mu.Unlock()
				})
			}
		}
		wg.Wait()
		assert.Equal(t, map[codes.Code]int{codes.OK: 1, codes.Aborted: 7}, seen)
		events := testkit.SubjectCounts(t, n.JetStream(t), "CRM_CAMPAIGN", "crm.acme.campaign."+other.GetId()+".*")
		var total uint64
		for _, v := range events {
			total += v
		}
		assert.EqualValues(t, v+1, total, "the losers appended nothing")
	})

	t.Run("the rule engine splits the work without duplicates", func(t *testing.T) {
		target := a.createCampaign(t, "Auto-enrolled", true)
		res, err := a.client.CreateRule(ctx, &campaignv1.CreateRuleRequest{Rule: tagRule("welcome", "LeadCreated", "", ruleActions(target.GetId())...)})
		require.NoError(t, err)
		ruleID := res.GetRule().GetId()
		leads := lp.leads(t)
		const n24 = 24
		var leadIDs []string
		for i := range n24 {
			l, err := leads.CreateLead(as(t, "acme", "rep-1"), &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Scale",
				LastName: fmt.Sprintf("Lead%02d", i), Email: fmt.Sprintf("scale%02d@example.com", i), Company: "Acme",
				OwnerId: "rep-1", Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
			require.NoError(t, err)
			leadIDs = append(leadIDs, l.GetLead().GetId())
			time.Sleep(5 * time.Millisecond) // a trickle, as leads arrive, so both engines pull
		}
		e := &rulesEnv{n: n, lp: lp, h: a.harness, leads: leads}
		e.engineIdle(t, "CRM_LEADS")
		// The rule's own actions are lead events too (tags, tasks): wait for those to be handled.
		require.Eventually(t, func() bool {
			return len(testkit.SubjectCounts(t, n.JetStream(t), "CRM_CAMPAIGN", "crm.acme.rulerun.*.*")) >= n24
		}, 30*time.Second, 20*time.Millisecond)
		e.engineIdle(t, "CRM_LEADS")
		e.engineIdle(t, "CRM_CAMPAIGN")

		eachOnce(t, "rule runs", testkit.SubjectCounts(t, n.JetStream(t), "CRM_CAMPAIGN", "crm.acme.rulerun.*.*"), n24)
		eachOnce(t, "tags", testkit.SubjectCounts(t, n.JetStream(t), "CRM_LEADS", "crm.acme.lead.*.LeadTagsAdded"), n24)
		eachOnce(t, "tasks", testkit.SubjectCounts(t, n.JetStream(t), "CRM_LEADS", "crm.acme.task.*.TaskCreated"), n24)
		eachOnce(t, "members", testkit.SubjectCounts(t, n.JetStream(t), "CRM_CAMPAIGN", "crm.acme.member.*.CampaignMemberAdded"), n24)
		pa, pb := testkit.Processed(t, a.metrics, rules.Name, "CRM_LEADS"), testkit.Processed(t, b.metrics, rules.Name, "CRM_LEADS")
		t.Logf("rule engine: replica A handled %v lead events, B %v", pa, pb)
		assert.Positive(t, pa, "replica A's engine took a share")
		assert.Positive(t, pb, "replica B's engine took a share")

		// Both replicas' read models: the same run log, campaign and members.
		last := a.streamMsgs(t)
		read := &commonv1.ReadOptions{MinSequence: last}
		var answers [2][]proto.Message
		for i, h := range replicas {
			runs := e.runsOn(t, h.harness, ruleID, n24)
			got, err := h.client.GetCampaign(ctx, &campaignv1.GetCampaignRequest{CampaignId: target.GetId(), Read: read})
			require.NoError(t, err)
			members, err := h.client.ListMembers(ctx, &campaignv1.ListMembersRequest{CampaignId: target.GetId(), PageSize: 1000, Read: read})
			require.NoError(t, err)
			list, err := h.client.ListCampaigns(ctx, &campaignv1.ListCampaignsRequest{Read: read})
			require.NoError(t, err)
			answers[i] = []proto.Message{runs, got, members, list}
		}
		for k := range answers[0] {
			assert.True(t, proto.Equal(answers[0][k], answers[1][k]), "answer %d differs:\nA %v\nB %v", k, answers[0][k], answers[1][k])
		}
		assert.Len(t, answers[0][2].(*campaignv1.ListMembersResponse).GetMembers(), n24)
	})
}

// runsOn waits until h's run log of the rule holds want runs and returns them.
func (e *rulesEnv) runsOn(t *testing.T, h *harness, ruleID string, want int) *campaignv1.ListRuleRunsResponse {
	t.Helper()
	var res *campaignv1.ListRuleRunsResponse
	require.Eventually(t, func() bool {
		var err error
		res, err = h.client.ListRuleRuns(as(t, "acme", "marketer-1"), &campaignv1.ListRuleRunsRequest{RuleId: ruleID, PageSize: 1000})
		require.NoError(t, err)
		return len(res.GetRuns()) >= want
	}, 20*time.Second, 20*time.Millisecond)
	require.Len(t, res.GetRuns(), want)
	return res
}
