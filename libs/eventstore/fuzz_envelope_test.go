package eventstore

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
)

// FuzzEnvelopeDecode fuzzes what the store does with a stored message's bytes: decode the
// envelope (recordFromRaw, as loads and reads do), check version order against a previous record
// (checkNext) and decode the typed payload through the global registry (DecodePayload), where
// event_type is attacker-chosen text naming any registered message. Properties: no panic; a
// decoded payload is of exactly the type the envelope names; a decoded envelope survives a
// marshal round trip. `go test -fuzz FuzzEnvelopeDecode ./eventstore` in libs explores.
func FuzzEnvelopeDecode(f *testing.F) {
	payload, _ := proto.Marshal(&leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "l1", LastName: "X"}})
	for _, env := range []*eventsv1.Envelope{
		{EventId: "e1", TenantId: "acme", AggregateType: "lead", AggregateId: "l1", AggregateVersion: 1,
			EventType: "crm.leads.v1.LeadCreated", OccurredAt: timestamppb.New(time.Unix(1_770_000_000, 0)),
			Actor: &eventsv1.Actor{}, Payload: payload},
		{EventId: "e2", EventType: "crm.events.v1.Envelope", Payload: []byte{0x0a, 0xff}},
		{EventId: "e3", EventType: "google.protobuf.Any", Payload: []byte("\x0a\x03abc")},
		{EventType: "no.such.Type", AggregateVersion: 1 << 63},
		{},
	} {
		b, err := proto.Marshal(env)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xff, 0xff, 0xff})
	prev := Recorded{Envelope: &eventsv1.Envelope{AggregateVersion: 1}}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := recordFromRaw("CRM_LEADS", &jetstream.RawStreamMsg{Subject: "crm.acme.lead.l1.LeadCreated", Sequence: 7, Data: data})
		if err != nil {
			return
		}
		_ = checkNext([]Recorded{prev}, rec)
		_ = rec.Position()
		_ = ShortType(rec.Envelope.GetEventType())
		msg, err := rec.Payload()
		if err == nil {
			if got := string(msg.ProtoReflect().Descriptor().FullName()); got != rec.Envelope.GetEventType() {
				t.Fatalf("payload decoded as %s, envelope names %q", got, rec.Envelope.GetEventType())
			}
		}
		again, err := proto.Marshal(rec.Envelope)
		if err != nil {
			t.Fatalf("decoded envelope does not marshal: %v", err)
		}
		var env eventsv1.Envelope
		if err := proto.Unmarshal(again, &env); err != nil || !proto.Equal(&env, rec.Envelope) {
			t.Fatalf("envelope round trip: %v", err)
		}
	})
}
