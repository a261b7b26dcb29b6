package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/libs/uuid7"
	leadsgrpc "github.com/evcrm/evcrm/services/leads/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/leads/internal/ports/reactions"
	"github.com/evcrm/evcrm/services/leads/internal/service"
)

// startReplica is startService for a scale-out test: one replica of the leads service on n,
// with its own read-model directory (as each replica of a deployment has) and its own projection
// metrics, which tell how much of a shared durable consumer's work it did.
func startReplica(t *testing.T, n *testkit.NATS) (*harness, *projection.Metrics) {
	t.Helper()
	nc := n.Connect(t)
	m := projection.NewMetrics()
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, nc, service.Options{DataDir: t.TempDir(), Metrics: m,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	var workers sync.WaitGroup
	for _, w := range svc.Workers() {
		workers.Go(func() { _ = w.Run(ctx) })
	}
	g := testkit.StartGRPC(t, func(s *grpcserver.Server) { leadsgrpc.Register(s, svc.App) })
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	h := &harness{nats: n, nc: nc, js: js, svc: svc,
		client:     leadsv1.NewLeadsServiceClient(g.Conn),
		accounts:   leadsv1.NewAccountsServiceClient(g.Conn),
		contacts:   leadsv1.NewContactsServiceClient(g.Conn),
		activities: leadsv1.NewActivitiesServiceClient(g.Conn),
		transfer:   leadsv1.NewDataTransferServiceClient(g.Conn),
	}
	h.stop = sync.OnceFunc(func() {
		g.Stop()
		cancel()
		workers.Wait()
		require.NoError(t, svc.Close())
	})
	t.Cleanup(h.stop)
	return h, m
}

// TestTwoLeadsReplicasOnOneNATS is issue 12's scale-out test for the leads service: two
// in-process replicas, each with its own read models, against one JetStream.
//
// Load: 2 × 12 concurrent AddLeadTags on one lead (half through each replica); 2 × 4 concurrent
// AddLeadTags carrying the same expected version; 24 leads created alternately through each
// replica; a click response from the campaign stream for each of them and a won deal from the
// pipeline stream for half of them, appended while both replicas' reactions share their durable
// consumers.
//
// Invariants: every command the service acknowledged is in the lead's stream and nothing else is
// (the lead's events = 1 + acknowledged tag commands, its version says the same, its tags are
// exactly the acknowledged ones); a conflict the repository cannot retry away is Aborted and
// appends nothing; of the commands carrying one expected version exactly one wins and the others
// are Aborted; both replicas' read models answer Get and List identically once they have the
// last sequence; the campaign-response and opportunity-win reactions apply each event exactly
// once across the replicas (one EngagementRecorded and one LeadOpportunityWon per lead) and both
// replicas take a share of the work.
func TestTwoLeadsReplicasOnOneNATS(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	camp := startCampaignSide(t, n)
	pipe := startPipelineSide(t, n)
	a, ma := startReplica(t, n)
	b, mb := startReplica(t, n)
	replicas := []*harness{a, b}
	ctx := as(t, "acme", "rep-1")

	created, err := a.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("both@example.com")})
	require.NoError(t, err)
	id := created.GetLead().GetId()
	subject := "crm.acme.lead." + id + ".*"

	t.Run("concurrent commands on one lead lose nothing", func(t *testing.T) {
		const perReplica = 12
		var mu sync.Mutex
		var accepted []string
		var maxSeq uint64
		var wg sync.WaitGroup
		for r, h := range replicas {
			for i := range perReplica {
				tag := fmt.Sprintf("r%d-%02d", r, i)
				wg.Go(func() {
					res, err := h.client.AddLeadTags(as(t, "acme", "rep-1"), &leadsv1.AddLeadTagsRequest{LeadId: id, Tags: []string{tag}})
					if status.Code(err) == codes.Aborted {
						return // the service's contract for a conflict it could not retry away
					}
					if !assert.NoError(t, err, tag) {
						return
					}
					mu.Lock()
					accepted = append(accepted, tag)
					maxSeq = max(maxSeq, res.GetResult().GetSequence())
					mu.Unlock()
				})
			}
		}
		wg.Wait()
		slices.Sort(accepted)
		t.Logf("%d of %d concurrent tag commands acknowledged", len(accepted), 2*perReplica)
		require.NotEmpty(t, accepted)
		events := testkit.SubjectCounts(t, a.js, "CRM_LEADS", subject)
		var total uint64
		for _, c := range events {
			total += c
		}
		assert.EqualValues(t, 1+len(accepted), total, "the lead's stream holds its creation and one event per acknowledged command: %v", events)
		for _, h := range replicas {
			got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id, Read: &commonv1.ReadOptions{MinSequence: maxSeq}})
			require.NoError(t, err)
			tags := slices.Clone(got.GetLead().GetTags())
			slices.Sort(tags)
			assert.Equal(t, accepted, tags, "every acknowledged tag, nothing else")
			assert.EqualValues(t, 1+len(accepted), got.GetLead().GetVersion())
		}
	})

	t.Run("one expected version, one winner", func(t *testing.T) {
		got, err := a.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id})
		require.NoError(t, err)
		v := got.GetLead().GetVersion()
		before := a.leadsStreamMsgs(t)
		var mu sync.Mutex
		var wins, aborted int
		var wg sync.WaitGroup
		for r, h := range replicas {
			for i := range 4 {
				wg.Go(func() {
					_, err := h.client.AddLeadTags(as(t, "acme", "rep-1"), &leadsv1.AddLeadTagsRequest{LeadId: id,
						Tags: []string{fmt.Sprintf("ev-%d-%d", r, i)}, Options: &commonv1.WriteOptions{ExpectedVersion: &v}})
					mu.Lock()
					defer mu.Unlock()
					switch status.Code(err) {
					case codes.OK:
						wins++
					case codes.Aborted:
						aborted++
					default:
						t.Errorf("expected-version command: %v", err)
					}
				})
			}
		}
		wg.Wait()
		assert.Equal(t, 1, wins)
		assert.Equal(t, 7, aborted)
		assert.Equal(t, before+1, a.leadsStreamMsgs(t), "the losers appended nothing")
	})

	// Leads created alternately through each replica, for the read models and the reactions.
	var ids []string
	var last uint64
	for i := range 24 {
		res, err := replicas[i%2].client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead(fmt.Sprintf("rep%02d@example.com", i))})
		require.NoError(t, err)
		ids = append(ids, res.GetLead().GetId())
		last = max(last, res.GetResult().GetSequence())
	}

	t.Run("read models converge", func(t *testing.T) {
		list := func(h *harness) []string {
			var out []string
			token := ""
			for {
				res, err := h.client.ListLeads(ctx, &leadsv1.ListLeadsRequest{PageSize: 10, PageToken: token,
					Read: &commonv1.ReadOptions{MinSequence: last}})
				require.NoError(t, err)
				for _, l := range res.GetLeads() {
					out = append(out, fmt.Sprintf("%s v%d %s %v", l.GetId(), l.GetVersion(), l.GetStatus(), l.GetTags()))
				}
				if token = res.GetNextPageToken(); token == "" {
					return out
				}
			}
		}
		fromA, fromB := list(a), list(b)
		assert.Len(t, fromA, 25)
		assert.Equal(t, fromA, fromB, "both replicas list the same leads, versions and tags in the same order")
	})

	t.Run("shared reactions apply each event once", func(t *testing.T) {
		var lastResponse, lastWin uint64
		for i, lead := range ids {
			m := camp.add(t, "camp-scale", campaignv1.MemberType_MEMBER_TYPE_LEAD, lead)
			lastResponse = camp.respond(t, m, "clicked", campaignv1.ResponseKind_RESPONSE_KIND_CLICKED)
			if i%2 == 0 {
				lastWin = pipe.append(t, "acme", uuid7.New(), won(lead, time.Now().Add(-time.Hour)))
			}
		}
		camp.handled(t, lastResponse)
		pipe.handled(t, lastWin)

		engaged := testkit.SubjectCounts(t, a.js, "CRM_LEADS", "crm.acme.lead.*.EngagementRecorded")
		assert.Len(t, engaged, len(ids), "one lead engaged per click")
		for subj, c := range engaged {
			assert.EqualValues(t, 1, c, "%s: a click applied once across the replicas", subj)
		}
		wins := testkit.SubjectCounts(t, a.js, "CRM_LEADS", "crm.acme.lead.*.LeadOpportunityWon")
		assert.Len(t, wins, len(ids)/2)
		for subj, c := range wins {
			assert.EqualValues(t, 1, c, "%s: a win recorded once across the replicas", subj)
		}
		ra, rb := testkit.Processed(t, ma, reactions.CampaignResponsesName, "CRM_CAMPAIGN"), testkit.Processed(t, mb, reactions.CampaignResponsesName, "CRM_CAMPAIGN")
		wa, wb := testkit.Processed(t, ma, reactions.OpportunityWinsName, "CRM_PIPELINE"), testkit.Processed(t, mb, reactions.OpportunityWinsName, "CRM_PIPELINE")
		t.Logf("campaign events handled: replica A %v, B %v; pipeline events: A %v, B %v", ra, rb, wa, wb)
		assert.EqualValues(t, len(ids), ra+rb, "every click handled once")
		assert.EqualValues(t, len(ids)/2, wa+wb, "every win handled once")
		assert.Positive(t, ra, "replica A took a share")
		assert.Positive(t, rb, "replica B took a share")

		// Both read models show every lead's engagement.
		seq := lastLeadSeq(t, a)
		for _, h := range replicas {
			for _, lead := range ids {
				got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: lead, Read: &commonv1.ReadOptions{MinSequence: seq}})
				require.NoError(t, err)
				assert.Positive(t, got.GetLead().GetScore().GetEngagement(), lead)
			}
		}
	})
}
