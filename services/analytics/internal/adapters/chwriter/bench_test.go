package chwriter_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chwriter"
)

// BenchmarkWrite writes batches of lead histories (created → MQL → SQL per lead, 5,001 events
// a batch, new leads every batch) through Writer.Write into ClickHouse: the projector's work on
// a batch without JetStream. Its Go side is what -benchmem shows (allocations per batch);
// ns/event includes ClickHouse's work on the inserts.
func BenchmarkWrite(b *testing.B) {
	ch := testkit.SharedClickHouse(b)
	conn := ch.ConnDatabase(b, ch.NewDatabase(b))
	if _, err := chschema.Migrate(b.Context(), conn); err != nil {
		b.Fatal(err)
	}
	w := chwriter.New(conn, chwriter.Options{})
	const leads = 1667
	batches := make([][]projection.Event, b.N)
	seq := uint64(0)
	base := time.Unix(1_767_000_000, 0)
	for n := range batches {
		evs := make([]projection.Event, 0, 3*leads)
		for i := range leads {
			id := fmt.Sprintf("l%d-%d", n, i)
			for v, p := range []proto.Message{
				&leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: id, Status: leadsv1.LeadStatus_LEAD_STATUS_NEW,
					Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, OwnerId: "u1", TerritoryId: "emea", Country: "DE",
					CreatedAt: timestamppb.New(base)}},
				&leadsv1.LeadStatusChanged{From: leadsv1.LeadStatus_LEAD_STATUS_NEW, To: leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED,
					Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, OwnerId: "u1", TerritoryId: "emea"},
				&leadsv1.LeadStatusChanged{From: leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED, To: leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED,
					Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, OwnerId: "u1", TerritoryId: "emea"},
			} {
				body, err := proto.Marshal(p)
				if err != nil {
					b.Fatal(err)
				}
				seq++
				evs = append(evs, projection.Event{Stream: "CRM_LEADS", Sequence: seq, Deliveries: 1, Stored: base,
					Envelope: &eventsv1.Envelope{EventId: fmt.Sprintf("e%d", seq), TenantId: "acme", AggregateType: "lead",
						AggregateId: id, AggregateVersion: uint64(v + 1), EventType: string(p.ProtoReflect().Descriptor().FullName()),
						OccurredAt: timestamppb.New(base.Add(time.Duration(v) * time.Hour)), Payload: body}})
			}
		}
		batches[n] = evs
	}
	b.ResetTimer()
	for n := range b.N {
		if err := w.Write(b.Context(), batches[n]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*3*leads), "ns/event")
}
