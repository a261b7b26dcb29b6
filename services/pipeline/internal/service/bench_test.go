package service_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/benchkit"
	"github.com/evcrm/evcrm/libs/eventstore"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// BenchmarkMoveStageVsRawPublish runs MoveOpportunityStage over gRPC (load the cached
// opportunity and its pipeline, decide, one concurrency-checked append; the read-model projector
// follows in the background) with 64 concurrent clients, each moving its own opportunity back
// and forth, and in the same run raw synchronous JetStream publishes of an
// OpportunityStageChanged payload with the same concurrency. Reports both rates, their ratio
// and MoveStage's p50/p99 latency.
func BenchmarkMoveStageVsRawPublish(b *testing.B) {
	const clients = 64
	n := testkit.StartNATS(b)
	h := start(b, n, b.TempDir())
	js, err := jetstream.New(h.nc)
	if err != nil {
		b.Fatal(err)
	}
	rawCfg := eventstore.StreamConfig(eventstore.StreamSpec{Name: "BENCH_RAW", AggregateTypes: []string{"opportunity"}}, eventstore.StreamOptions{})
	rawCfg.Subjects = []string{"bench.>"}
	if _, err := js.CreateStream(context.Background(), rawCfg); err != nil {
		b.Fatal(err)
	}
	ctx := as(b, "bench", "rep-1")
	ids := make([]string, clients)
	for c := range ids {
		r, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{Opportunity: newOpportunity(fmt.Sprintf("Deal %d", c), 10_000, 30)})
		if err != nil {
			b.Fatal(err)
		}
		ids[c] = r.GetOpportunity().GetId()
	}
	body, _ := proto.Marshal(&pipelinev1.OpportunityStageChanged{PipelineId: "default", FromStageId: "qualification", FromStageName: "Qualification",
		ToStageId: "needs_analysis", ToStageName: "Needs Analysis", Amount: usd(10_000), Probability: 25, MovedBy: "rep-1", OwnerId: "rep-1"})
	stages := [2]string{"qualification", "needs_analysis"}
	per := max(b.N/clients, 1)

	b.ResetTimer()
	raw, _ := testkit.Load(b, clients, per, func(c, i int) error {
		_, err := js.Publish(context.Background(), fmt.Sprintf("bench.acme.opportunity.raw-%d.OpportunityStageChanged", c), body)
		return err
	})
	moved, lat := testkit.Load(b, clients, per, func(c, i int) error {
		_, err := h.client.MoveOpportunityStage(ctx, &pipelinev1.MoveOpportunityStageRequest{OpportunityId: ids[c], StageId: stages[i%2]})
		return err
	})
	b.StopTimer()
	total := float64(per * clients)
	b.ReportMetric(total/raw.Seconds(), "raw_publish/s")
	b.ReportMetric(total/moved.Seconds(), "move_stage/s")
	b.ReportMetric(raw.Seconds()/moved.Seconds(), "move/raw")
	b.ReportMetric(testkit.Percentile(lat, 50), "p50_ms")
	b.ReportMetric(testkit.Percentile(lat, 99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCommandPath is the command-path scenario (docs/benchmarks.md) for
// MoveOpportunityStage: 1, 16 and 64 concurrent gRPC clients, each moving opportunities of its
// own back and forth (cached aggregate, decide, one concurrency-checked append; the read-model
// projector follows), next to raw synchronous JetStream publishes and PostgreSQL event-store
// appends (each client on its aggregate, version after version) of the same
// OpportunityStageChanged envelope, with each fsync mode (see benchkit.Durabilities).
//
// Each client takes its opportunities in turn (oppsPerClient of them), so that an opportunity
// keeps the short history of a real deal: with one opportunity per client, the single client
// of clients=1 moved one deal thousands of times, and measured the history scenario
// (BenchmarkMoveStageHistory) instead of the command path.
func BenchmarkCommandPath(b *testing.B) {
	body, typ := benchkit.Envelope("opportunity", stageChanged())
	b.Run("MoveStage", func(b *testing.B) {
		benchkit.RunCommandPath(b, benchkit.CommandPath{AggregateType: "opportunity", EventType: typ, Payload: body,
			Start: func(b *testing.B, n *testkit.NATS, clients int) func(c, i int) error {
				h := start(b, n, b.TempDir())
				ctx := testkit.AsFor(b, time.Hour, "acme", "rep-1")
				ids := createOpportunities(b, h, ctx, clients*oppsPerClient)
				return func(c, i int) error {
					// oppsPerClient is odd, so each opportunity's turns alternate between the
					// two stages.
					id := ids[c*oppsPerClient+i%oppsPerClient]
					_, err := h.client.MoveOpportunityStage(ctx, &pipelinev1.MoveOpportunityStageRequest{OpportunityId: id, StageId: moveStages[i%2]})
					return err
				}
			}})
	})
}

// oppsPerClient is how many opportunities each client of BenchmarkCommandPath moves in turn
// (odd: see there).
const oppsPerClient = 25

// moveStages are the two stages the benchmarks move opportunities between.
var moveStages = [2]string{"needs_analysis", "qualification"}

func stageChanged() *pipelinev1.OpportunityStageChanged {
	return &pipelinev1.OpportunityStageChanged{PipelineId: "default", FromStageId: "qualification", FromStageName: "Qualification",
		ToStageId: "needs_analysis", ToStageName: "Needs Analysis", Amount: usd(10_000), Probability: 25, MovedBy: "rep-1", OwnerId: "rep-1"}
}

func createOpportunities(b *testing.B, h *harness, ctx context.Context, n int) []string {
	b.Helper()
	ids := make([]string, n)
	for c := range ids {
		r, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{Opportunity: newOpportunity(fmt.Sprintf("Deal %d", c), 10_000, 30)})
		if err != nil {
			b.Fatal(err)
		}
		ids[c] = r.GetOpportunity().GetId()
	}
	return ids
}

// BenchmarkMoveStageHistory is the scale-with-history scenario: MoveOpportunityStage latency on
// an opportunity with PIPELINE_BENCH_HISTORY prior events (default 10,000, appended by moving
// it back and forth through the service) against a fresh one, one client, the two alternating
// call by call so both see the same machine. Then the service is restarted on the same stream
// (its aggregate cache empty) and the first move of each is timed: the cold load that folds the
// whole history. Reports p50/p99 of both, their p50 ratio and the two cold first moves.
func BenchmarkMoveStageHistory(b *testing.B) {
	history := 10_000
	if v, err := strconv.Atoi(os.Getenv("PIPELINE_BENCH_HISTORY")); err == nil && v > 0 {
		history = v
	}
	n := testkit.StartNATS(b)
	h := start(b, n, b.TempDir())
	ctx := testkit.AsFor(b, time.Hour, "acme", "rep-1")
	ids := createOpportunities(b, h, ctx, 2)
	long, fresh := ids[0], ids[1]
	move := func(id string, i int) (time.Duration, error) {
		t0 := time.Now()
		_, err := h.client.MoveOpportunityStage(ctx, &pipelinev1.MoveOpportunityStageRequest{OpportunityId: id, StageId: moveStages[i%2]})
		return time.Since(t0), err
	}
	// Creation is the first event; an even number of moves leaves the opportunity where it began.
	for i := range history / 2 * 2 {
		if _, err := move(long, i); err != nil {
			b.Fatal(err)
		}
	}
	calls := max(b.N/2*2, 2)
	var longLat, freshLat []time.Duration

	b.ResetTimer()
	for i := range calls {
		d, err := move(long, i)
		if err != nil {
			b.Fatal(err)
		}
		longLat = append(longLat, d)
		if d, err = move(fresh, i); err != nil {
			b.Fatal(err)
		}
		freshLat = append(freshLat, d)
	}
	b.StopTimer()
	// A new service on the same stream: the first command on each aggregate loads it cold.
	h.stop()
	h = start(b, n, b.TempDir())
	coldLong, err := move(long, 0)
	if err != nil {
		b.Fatal(err)
	}
	coldFresh, err := move(fresh, 0)
	if err != nil {
		b.Fatal(err)
	}

	slices.Sort(longLat)
	slices.Sort(freshLat)
	b.ReportMetric(float64(history), "prior_events")
	b.ReportMetric(testkit.Percentile(longLat, 50), "history_p50_ms")
	b.ReportMetric(testkit.Percentile(longLat, 99), "history_p99_ms")
	b.ReportMetric(testkit.Percentile(freshLat, 50), "fresh_p50_ms")
	b.ReportMetric(testkit.Percentile(freshLat, 99), "fresh_p99_ms")
	b.ReportMetric(testkit.Percentile(longLat, 50)/testkit.Percentile(freshLat, 50), "history/fresh")
	b.ReportMetric(float64(coldLong.Microseconds())/1000, "history_cold_first_ms")
	b.ReportMetric(float64(coldFresh.Microseconds())/1000, "fresh_cold_first_ms")
	b.ReportMetric(0, "ns/op")
}
