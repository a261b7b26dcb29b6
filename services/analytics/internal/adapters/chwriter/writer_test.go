package chwriter_test

import (
	"errors"
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

func TestMain(m *testing.M) { testkit.Main(m) }

func event(t *testing.T, seq, version uint64, deliveries uint64, p proto.Message) projection.Event {
	t.Helper()
	body, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return projection.Event{Stream: "CRM_LEADS", Sequence: seq, Deliveries: deliveries, Stored: time.Unix(1_767_000_000, 0),
		Envelope: &eventsv1.Envelope{EventId: "e" + string(rune('a'+seq)), TenantId: "acme", AggregateType: "lead",
			AggregateId: "l1", AggregateVersion: version, EventType: string(p.ProtoReflect().Descriptor().FullName()),
			OccurredAt: timestamppb.New(time.Unix(1_767_000_000+int64(seq)*60, 0)), Payload: body}}
}

func TestWriteIsIdempotentAndOrdered(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	conn := ch.ConnDatabase(t, ch.NewDatabase(t))
	if _, err := chschema.Migrate(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	w := chwriter.New(conn, chwriter.Options{})
	created := event(t, 1, 1, 1, &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "l1", Status: leadsv1.LeadStatus_LEAD_STATUS_NEW}})
	mql := event(t, 2, 2, 1, &leadsv1.LeadStatusChanged{From: leadsv1.LeadStatus_LEAD_STATUS_NEW, To: leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED})
	sal := event(t, 3, 3, 1, &leadsv1.LeadStatusChanged{From: leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED, To: leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED})

	state := func() (status string, rows, transitions uint64) {
		t.Helper()
		if err := conn.QueryRow(t.Context(), "SELECT argMax(status, seq), count() FROM leads").Scan(&status, &rows); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(t.Context(), "SELECT count() FROM lead_transitions FINAL").Scan(&transitions); err != nil {
			t.Fatal(err)
		}
		return status, rows, transitions
	}

	// An event whose predecessor is not projected yet waits (the batch is redelivered later)…
	if err := w.Write(t.Context(), []projection.Event{created}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(t.Context(), []projection.Event{sal}); !errors.Is(err, chwriter.ErrOutOfOrder) {
		t.Fatalf("Write of version 3 over version 1 = %v, want ErrOutOfOrder", err)
	}
	// …and goes through once it has arrived.
	if err := w.Write(t.Context(), []projection.Event{mql, sal}); err != nil {
		t.Fatal(err)
	}
	if st, _, tr := state(); st != "sales_accepted" || tr != 2 {
		t.Fatalf("after the history: status %q, %d transitions", st, tr)
	}
	_, rows, _ := state()

	// A redelivered batch writes no new current-state row and its facts collapse.
	if err := w.Write(t.Context(), []projection.Event{created, mql, sal}); err != nil {
		t.Fatal(err)
	}
	if st, again, tr := state(); st != "sales_accepted" || again != rows || tr != 2 {
		t.Fatalf("after redelivery: status %q, %d lead rows (was %d), %d transitions", st, again, rows, tr)
	}

	// After GapPatience deliveries a gap no longer holds the event back.
	late := event(t, 9, 9, chwriter.DefaultGapPatience, &leadsv1.LeadScored{Score: &leadsv1.Score{Total: 5}})
	if err := w.Write(t.Context(), []projection.Event{late}); err != nil {
		t.Fatalf("Write after patience: %v", err)
	}

	// A payload that does not decode is poison; nothing of its batch is written.
	bad := event(t, 10, 10, 1, &leadsv1.LeadScored{})
	bad.Envelope.Payload = []byte{0x0a, 0xff}
	err := w.Write(t.Context(), []projection.Event{bad})
	var pe *projection.PoisonError
	if !errors.As(err, &pe) || pe.Sequence != 10 {
		t.Fatalf("Write of a bad payload = %v, want a poison error for seq 10", err)
	}
}
