package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/benchkit"
	"github.com/evcrm/evcrm/libs/eventstore"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// BenchmarkCreateLeadVsRawPublish runs CreateLead over gRPC (validation, scoring, territory,
// uniqueness claim, atomic append, projector catching up in the background) with 64 concurrent
// clients, and in the same run raw synchronous JetStream publishes of the LeadCreated payload
// with the same concurrency. Reports both rates, their ratio (goal ≥ 0.5) and CreateLead's
// p50/p99 latency.
//
// The sub-benchmarks take parts away to show where the gap to raw publishing is:
//   - full: the service as it runs;
//   - projector=off: the read model does not follow (its cost is what a replica pays for
//     serving queries);
//   - projector=off,dedupe=off: also no email/phone uniqueness claims (allow_duplicate), so a
//     create is gRPC + decision + one atomic append.
func BenchmarkCreateLeadVsRawPublish(b *testing.B) {
	for _, v := range []struct {
		name              string
		projector, dedupe bool
	}{
		{"full", true, true},
		{"projector=off", false, true},
		{"projector=off,dedupe=off", false, false},
	} {
		b.Run(v.name, func(b *testing.B) { benchCreateLead(b, v.projector, v.dedupe) })
	}
}

func benchCreateLead(b *testing.B, projector, dedupe bool) {
	const clients = 64
	n := testkit.StartNATS(b)
	h := startWith(b, n, b.TempDir(), projector)
	per := max(b.N/clients, 1)
	ctx := as(b, "bench", "rep-1")

	b.ResetTimer()
	raw := rawPublish(b, h, clients, per)
	create, lat := testkit.Load(b, clients, per, func(c, i int) error {
		_, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{AllowDuplicate: !dedupe, Lead: newLead(fmt.Sprintf("b%d-%d@example.com", c, i))})
		return err
	})
	b.StopTimer()
	total := float64(per * clients)
	b.ReportMetric(total/raw.Seconds(), "raw_publish/s")
	b.ReportMetric(total/create.Seconds(), "create_lead/s")
	b.ReportMetric(raw.Seconds()/create.Seconds(), "create/raw")
	b.ReportMetric(testkit.Percentile(lat, 50), "p50_ms")
	b.ReportMetric(testkit.Percentile(lat, 99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}

// rawPublish is the baseline of the service benchmarks: clients × per synchronous JetStream
// publishes of a LeadCreated payload, each on its own subject, into a stream of its own with
// the event streams' settings (so the service's projectors do not see, and dead-letter, its
// payloads). It returns how long they took.
func rawPublish(b *testing.B, h *harness, clients, per int) time.Duration {
	b.Helper()
	rawCfg := eventstore.StreamConfig(eventstore.StreamSpec{Name: "BENCH_RAW", AggregateTypes: []string{"lead"}}, eventstore.StreamOptions{})
	rawCfg.Subjects = []string{"bench.>"}
	if _, err := h.js.CreateOrUpdateStream(context.Background(), rawCfg); err != nil {
		b.Fatal(err)
	}
	body, _ := proto.Marshal(&leadsv1.LeadCreated{Lead: newLead("raw@example.com")})
	el, _ := testkit.Load(b, clients, per, func(c, i int) error {
		_, err := h.js.Publish(context.Background(), fmt.Sprintf("bench.acme.lead.raw-%d-%d.LeadCreated", c, i), body)
		return err
	})
	return el
}

// BenchmarkCommandPath is the command-path scenario (docs/benchmarks.md) for CreateLead: the
// service as it runs (every worker on), 1, 16 and 64 concurrent gRPC clients, each call a new
// lead, next to raw synchronous JetStream publishes and PostgreSQL event-store appends of the
// same LeadCreated envelope, with each fsync mode (see benchkit.Durabilities).
func BenchmarkCommandPath(b *testing.B) {
	body, typ := benchkit.Envelope("lead", &leadsv1.LeadCreated{Lead: newLead("ada@example.com")})
	b.Run("CreateLead", func(b *testing.B) {
		benchkit.RunCommandPath(b, benchkit.CommandPath{AggregateType: "lead", EventType: typ, Payload: body, NewAggregate: true,
			Start: func(b *testing.B, n *testkit.NATS, clients int) func(c, i int) error {
				h := startWith(b, n, b.TempDir(), true)
				ctx := testkit.AsFor(b, time.Hour, "acme", "rep-1")
				return func(c, i int) error {
					_, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead(fmt.Sprintf("c%d-%d@example.com", c, i))})
					return err
				}
			}})
	})
}
