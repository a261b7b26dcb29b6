package projection

import (
	"testing"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
)

// FuzzDecodeEnvelope fuzzes the decoding of a delivered message's body into the envelope every
// projection receives. Properties: no panic; an accepted envelope has the event id and type
// consumers key on, and is exactly what the bytes encode (a marshal round trip is equal).
// `go test -fuzz FuzzDecodeEnvelope ./projection` in libs explores.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, env := range []*eventsv1.Envelope{
		{EventId: "e1", TenantId: "acme", AggregateType: "lead", AggregateId: "l1", AggregateVersion: 3,
			EventType: "crm.leads.v1.LeadCreated", Payload: []byte{0x0a, 0x00}},
		{EventId: "e2"},
		{EventType: "crm.leads.v1.LeadCreated"},
	} {
		b, err := proto.Marshal(env)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := decodeEnvelope(data)
		if err != nil {
			if env != nil {
				t.Fatal("error with an envelope")
			}
			return
		}
		if env.GetEventId() == "" || env.GetEventType() == "" {
			t.Fatalf("accepted envelope without id or type: %v", env)
		}
		b, err := proto.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeEnvelope(b)
		if err != nil || !proto.Equal(again, env) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
