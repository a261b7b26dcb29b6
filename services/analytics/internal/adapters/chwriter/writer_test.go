package chwriter_test

import (
	"context"
	"errors"
	"slices"
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

	// After GapPatience deliveries a gap no longer holds the event back — but never over the
	// writer's cached copy of the row, which may just be stale: the first attempt forgets it,
	// the next reads the row from ClickHouse and applies the event over the gap.
	late := event(t, 9, 9, chwriter.DefaultGapPatience, &leadsv1.LeadScored{Score: &leadsv1.Score{Total: 5}})
	if err := w.Write(t.Context(), []projection.Event{late}); !errors.Is(err, chwriter.ErrOutOfOrder) {
		t.Fatalf("Write after patience over the cached row = %v, want ErrOutOfOrder", err)
	}
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

// Two writers share the tables as two replicas do: each remembers the rows it wrote, and a
// row the other replica has moved on since must be read again, not folded over.
func TestWriteReadsAStaleCachedRowAgain(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	conn := ch.ConnDatabase(t, ch.NewDatabase(t))
	if _, err := chschema.Migrate(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	a, b := chwriter.New(conn, chwriter.Options{}), chwriter.New(conn, chwriter.Options{})
	created := event(t, 1, 1, 1, &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "l1", Status: leadsv1.LeadStatus_LEAD_STATUS_NEW, OwnerId: "u1"}})
	mql := event(t, 2, 2, 1, &leadsv1.LeadStatusChanged{From: leadsv1.LeadStatus_LEAD_STATUS_NEW, To: leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED, OwnerId: "u2"})
	scored := event(t, 3, 3, 1, &leadsv1.LeadScored{Score: &leadsv1.Score{Total: 40}})
	if err := a.Write(t.Context(), []projection.Event{created}); err != nil { // a remembers version 1
		t.Fatal(err)
	}
	if err := b.Write(t.Context(), []projection.Event{mql}); err != nil { // b reads version 1, writes 2
		t.Fatal(err)
	}
	// a's cached row is at version 1: version 3 is a gap there, so a waits and forgets it…
	if err := a.Write(t.Context(), []projection.Event{scored}); !errors.Is(err, chwriter.ErrOutOfOrder) {
		t.Fatalf("Write over a stale cached row = %v, want ErrOutOfOrder", err)
	}
	// …and the next attempt folds onto version 2 read from ClickHouse.
	if err := a.Write(t.Context(), []projection.Event{scored}); err != nil {
		t.Fatal(err)
	}
	var status, owner string
	var score int64
	if err := conn.QueryRow(t.Context(), "SELECT status, owner_id, total_score FROM leads FINAL WHERE lead_id = 'l1'").Scan(&status, &owner, &score); err != nil {
		t.Fatal(err)
	}
	if status != "marketing_qualified" || owner != "u2" || score != 40 {
		t.Fatalf("lead row = %s/%s/%d, want marketing_qualified/u2/40 (b's version 2 folded in)", status, owner, score)
	}
}

// With a Settled check, a gap is applied over once the check says the missing event will
// not come, on the attempt after the answer; while it says the event is pending, the event
// waits whatever its delivery count below the last-resort patience.
func TestWriteAppliesASettledGapOnTheNextAttempt(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	conn := ch.ConnDatabase(t, ch.NewDatabase(t))
	if _, err := chschema.Migrate(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	settled := false
	var asked []uint64
	w := chwriter.New(conn, chwriter.Options{Settled: func(_ context.Context, ev projection.Event, after uint64) (bool, error) {
		asked = append(asked, after)
		return settled, nil
	}})
	mql := event(t, 2, 2, 3, &leadsv1.LeadStatusChanged{From: leadsv1.LeadStatus_LEAD_STATUS_NEW, To: leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED})
	for range 2 {
		if err := w.Write(t.Context(), []projection.Event{mql}); !errors.Is(err, chwriter.ErrOutOfOrder) {
			t.Fatalf("Write with the predecessor pending = %v, want ErrOutOfOrder", err)
		}
	}
	settled = true
	if err := w.Write(t.Context(), []projection.Event{mql}); !errors.Is(err, chwriter.ErrOutOfOrder) {
		t.Fatalf("Write on the attempt that learns the gap is settled = %v, want ErrOutOfOrder (applied on the next)", err)
	}
	if err := w.Write(t.Context(), []projection.Event{mql}); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0, 0, 0}; !slices.Equal(asked, want) {
		t.Fatalf("Settled asked with after = %v, want %v", asked, want)
	}
	var status string
	if err := conn.QueryRow(t.Context(), "SELECT status FROM leads FINAL WHERE lead_id = 'l1'").Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != "marketing_qualified" {
		t.Fatalf("status %q after the settled gap", status)
	}
}
