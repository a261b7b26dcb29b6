package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// ContactCodec is the eventstore.Codec of the contact aggregate: ContactCreated and
// ContactUpdated map to the crm.leads.v1 messages of the same name; At travels in the
// envelope (occurred_at).
type ContactCodec struct{}

var (
	_ eventstore.Codec[contact.Event]        = ContactCodec{}
	_ eventstore.OccurredAter[contact.Event] = ContactCodec{}
)

// OccurredAt is when a contact event happened (the envelope's occurred_at).
func (ContactCodec) OccurredAt(e contact.Event) time.Time { return e.OccurredAt() }

// Encode implements eventstore.Codec.
func (ContactCodec) Encode(e contact.Event) (proto.Message, error) {
	switch e := e.(type) {
	case contact.ContactCreated:
		return &leadsv1.ContactCreated{Contact: ContactToProto(e.Contact)}, nil
	case contact.ContactUpdated:
		return &leadsv1.ContactUpdated{ChangedFields: cloneOrNil(e.Changed),
			Before: ContactDetailsToProto(e.Before), After: ContactDetailsToProto(e.After)}, nil
	case contact.ContactErased:
		return &leadsv1.ContactErased{Reason: e.Reason}, nil
	}
	return nil, fmt.Errorf("protomap: unknown contact event %T", e)
}

// Decode implements eventstore.Codec.
func (ContactCodec) Decode(r eventstore.Recorded) (contact.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	at := fromTS(r.Envelope.GetOccurredAt())
	switch m := msg.(type) {
	case *leadsv1.ContactCreated:
		return contact.ContactCreated{Contact: ContactFromProto(m.GetContact()), At: at}, nil
	case *leadsv1.ContactUpdated:
		return contact.ContactUpdated{Changed: cloneOrNil(m.GetChangedFields()),
			Before: ContactDetailsFromProto(m.GetBefore()), After: ContactDetailsFromProto(m.GetAfter()), At: at}, nil
	case *leadsv1.ContactErased:
		return contact.ContactErased{Reason: m.GetReason(), At: at}, nil
	}
	return nil, fmt.Errorf("protomap: %T is not a contact event", msg)
}
