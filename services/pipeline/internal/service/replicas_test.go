package service_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// opportunityEvents counts the events of one opportunity on CRM_PIPELINE.
func opportunityEvents(t *testing.T, h *harness, id string) uint64 {
	t.Helper()
	js, err := jetstream.New(h.nc)
	require.NoError(t, err)
	s, err := js.Stream(context.Background(), "CRM_PIPELINE")
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter("crm.acme.opportunity."+id+".*"))
	require.NoError(t, err)
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

// TestTwoPipelineReplicasOnOneNATS is issue 12's scale-out test for the pipeline service: two
// in-process replicas, each with its own read model, against one JetStream.
//
// Load: 2 × 10 concurrent UpdateOpportunityAmount on one opportunity, each with an amount of its
// own (half through each replica); 2 × 4 concurrent UpdateOpportunityCloseDate carrying the same
// expected version; 20 opportunities created alternately through each replica and moved along.
//
// Invariants: no lost update — the opportunity's events are its creation plus one per
// acknowledged amount change, its version says the same, and its amount is the one of the
// acknowledged change with the highest stream sequence (the last writer); a conflict the
// repository cannot retry away is Aborted and appends nothing; of the commands carrying one
// expected version exactly one wins and the others are Aborted; both replicas' read models
// answer Get, List and the forecast identically once they have the last sequence.
func TestTwoPipelineReplicasOnOneNATS(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	a, b := start(t, n, t.TempDir()), start(t, n, t.TempDir())
	replicas := []*harness{a, b}
	ctx := as(t, "acme", "rep-1")

	created, err := a.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{Opportunity: newOpportunity("Shared deal", 1_000, 30)})
	require.NoError(t, err)
	id := created.GetOpportunity().GetId()

	t.Run("concurrent commands on one opportunity lose nothing", func(t *testing.T) {
		type ack struct {
			seq    uint64
			amount int64
		}
		var mu sync.Mutex
		var acks []ack
		var wg sync.WaitGroup
		for r, h := range replicas {
			for i := range 10 {
				amount := int64(2_000 + 100*(10*r+i))
				wg.Go(func() {
					res, err := h.client.UpdateOpportunityAmount(as(t, "acme", "rep-1"), &pipelinev1.UpdateOpportunityAmountRequest{
						OpportunityId: id, Amount: usd(amount)})
					if status.Code(err) == codes.Aborted {
						return // a conflict the service could not retry away: nothing appended
					}
					if !assert.NoError(t, err, amount) {
						return
					}
					mu.Lock()
					acks = append(acks, ack{res.GetResult().GetSequence(), amount})
					mu.Unlock()
				})
			}
		}
		wg.Wait()
		require.NotEmpty(t, acks)
		sort.Slice(acks, func(i, j int) bool { return acks[i].seq < acks[j].seq })
		t.Logf("%d of 20 concurrent amount changes acknowledged", len(acks))
		lastAck := acks[len(acks)-1]
		assert.EqualValues(t, 1+len(acks), opportunityEvents(t, a, id), "creation + one event per acknowledged change")
		for i := 1; i < len(acks); i++ {
			assert.NotEqual(t, acks[i-1].seq, acks[i].seq, "two acknowledged commands share a sequence")
		}
		for _, h := range replicas {
			got, err := h.client.GetOpportunity(ctx, &pipelinev1.GetOpportunityRequest{OpportunityId: id,
				Read: &commonv1.ReadOptions{MinSequence: lastAck.seq}})
			require.NoError(t, err)
			assert.EqualValues(t, 1+len(acks), got.GetOpportunity().GetVersion())
			assert.Equal(t, lastAck.amount, got.GetOpportunity().GetAmount().GetUnits(), "the last acknowledged writer's amount")
		}
	})

	t.Run("one expected version, one winner", func(t *testing.T) {
		got, err := a.client.GetOpportunity(ctx, &pipelinev1.GetOpportunityRequest{OpportunityId: id})
		require.NoError(t, err)
		v := got.GetOpportunity().GetVersion()
		before := opportunityEvents(t, a, id)
		var mu sync.Mutex
		codesSeen := map[codes.Code]int{}
		var wg sync.WaitGroup
		for r, h := range replicas {
			for i := range 4 {
				wg.Go(func() {
					_, err := h.client.UpdateOpportunityCloseDate(as(t, "acme", "rep-1"), &pipelinev1.UpdateOpportunityCloseDateRequest{
						OpportunityId: id, ExpectedCloseDate: inDays(40 + 4*r + i), Options: &commonv1.WriteOptions{ExpectedVersion: &v}})
					mu.Lock()
					codesSeen[status.Code(err)]++
					mu.Unlock()
				})
			}
		}
		wg.Wait()
		assert.Equal(t, map[codes.Code]int{codes.OK: 1, codes.Aborted: 7}, codesSeen)
		assert.Equal(t, before+1, opportunityEvents(t, a, id), "the losers appended nothing")
	})

	t.Run("read models converge", func(t *testing.T) {
		var last uint64
		stages := []string{"qualification", "proposal", "negotiation"}
		for i := range 20 {
			h := replicas[i%2]
			res, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{
				Opportunity: newOpportunity(fmt.Sprintf("Deal %02d", i), int64(1_000*(i+1)), 10+5*i)})
			require.NoError(t, err)
			last = max(last, res.GetResult().GetSequence())
			// The other replica moves it: its cache has never seen the opportunity.
			moved, err := replicas[(i+1)%2].client.MoveOpportunityStage(ctx, &pipelinev1.MoveOpportunityStageRequest{
				OpportunityId: res.GetOpportunity().GetId(), StageId: stages[i%3]})
			require.NoError(t, err)
			last = max(last, moved.GetResult().GetSequence())
		}
		read := &commonv1.ReadOptions{MinSequence: last}
		list := func(h *harness) []string {
			var out []string
			token := ""
			for {
				res, err := h.client.ListOpportunities(ctx, &pipelinev1.ListOpportunitiesRequest{PageSize: 7, PageToken: token, Read: read})
				require.NoError(t, err)
				for _, o := range res.GetOpportunities() {
					out = append(out, fmt.Sprintf("%s v%d %s %d %s", o.GetId(), o.GetVersion(), o.GetStageId(),
						o.GetAmount().GetUnits(), o.GetExpectedCloseDate()))
				}
				if token = res.GetNextPageToken(); token == "" {
					return out
				}
			}
		}
		fromA, fromB := list(a), list(b)
		assert.Len(t, fromA, 21)
		assert.Equal(t, fromA, fromB, "both replicas list the same opportunities in the same order")
		forecast := func(h *harness) *pipelinev1.GetForecastResponse {
			f, err := h.client.GetForecast(as(t, "acme", "manager"), &pipelinev1.GetForecastRequest{
				Period: pipelinev1.ForecastPeriod_FORECAST_PERIOD_MONTH, GroupByOwner: true, GroupByForecastCategory: true, Read: read})
			require.NoError(t, err)
			f.AsOf = nil
			return f
		}
		fa, fb := forecast(a), forecast(b)
		assert.True(t, proto.Equal(fa, fb), "the forecasts differ:\nA %v\nB %v", fa, fb)
		var gets []*pipelinev1.GetOpportunityResponse
		for _, h := range replicas {
			got, err := h.client.GetOpportunity(ctx, &pipelinev1.GetOpportunityRequest{OpportunityId: id, Read: read})
			require.NoError(t, err)
			// The open stay's duration runs until the moment of the read.
			got.GetStageHistory()[len(got.GetStageHistory())-1].Duration = nil
			gets = append(gets, got)
		}
		assert.True(t, proto.Equal(gets[0], gets[1]), "Get differs:\nA %v\nB %v", gets[0], gets[1])
	})
}
