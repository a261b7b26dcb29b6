package service_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

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
