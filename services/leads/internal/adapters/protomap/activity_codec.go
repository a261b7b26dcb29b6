package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
)

// ActivityCodec is the eventstore.Codec of the activity aggregate. Like LeadCodec, an event's
// At travels in the envelope (occurred_at).
type ActivityCodec struct{}

var (
	_ eventstore.Codec[activity.Event]        = ActivityCodec{}
	_ eventstore.OccurredAter[activity.Event] = ActivityCodec{}
)

// OccurredAt is when an activity event was recorded (eventstore.OccurredAter).
func (ActivityCodec) OccurredAt(e activity.Event) time.Time { return e.OccurredAt() }

// Encode implements eventstore.Codec.
func (ActivityCodec) Encode(e activity.Event) (proto.Message, error) {
	switch e := e.(type) {
	case activity.ActivityLogged:
		return &leadsv1.ActivityLogged{Activity: ActivityToProto(e.Activity)}, nil
	case nil:
		return nil, fmt.Errorf("protomap: encode nil activity event")
	}
	return nil, fmt.Errorf("protomap: no mapping for activity event %T", e)
}

// Decode implements eventstore.Codec. At is the envelope's occurred_at.
func (ActivityCodec) Decode(r eventstore.Recorded) (activity.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	switch m := msg.(type) {
	case *leadsv1.ActivityLogged:
		return activity.ActivityLogged{Activity: ActivityFromProto(m.GetActivity()), At: fromTS(r.Envelope.GetOccurredAt())}, nil
	}
	return nil, fmt.Errorf("protomap: %s is not an activity event", r.Envelope.GetEventType())
}
