package eventstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// Event is one event to append.
type Event struct {
	// ID is the event id; a UUIDv7 is generated when empty. Set it to make a retried append
	// recognisable (JetStream deduplicates on it).
	ID string
	// Payload is the typed event message; its full protobuf name becomes the event type.
	Payload proto.Message
	// OccurredAt is when the fact happened; the append time when zero.
	OccurredAt time.Time
	// SchemaVersion of the payload, for upcasting; 0 means 1.
	SchemaVersion uint32
}

// Recorded is an event read back from the store.
type Recorded struct {
	Envelope *eventsv1.Envelope
	Subject  string
	Stream   string
	// Sequence is the event's stream sequence.
	Sequence uint64
	// Stored is when JetStream stored the event.
	Stored time.Time
}

// Position of the aggregate right after this event.
func (r Recorded) Position() Position {
	return Position{Version: r.Envelope.GetAggregateVersion(), Sequence: r.Sequence}
}

// Payload decodes the typed event message using the global protobuf registry (every generated
// event package registers its messages when imported).
func (r Recorded) Payload() (proto.Message, error) {
	return DecodePayload(r.Envelope)
}

// DecodePayload decodes an envelope's typed payload.
func DecodePayload(env *eventsv1.Envelope) (proto.Message, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(env.GetEventType()))
	if err != nil {
		return nil, fmt.Errorf("eventstore: unknown event type %q: %w", env.GetEventType(), err)
	}
	msg := mt.New().Interface()
	if err := proto.Unmarshal(env.GetPayload(), msg); err != nil {
		return nil, fmt.Errorf("eventstore: decode %s: %w", env.GetEventType(), err)
	}
	return msg, nil
}

// ShortType is the last part of a full event type name ("crm.leads.v1.LeadQualified" →
// "LeadQualified"); it is the last token of the event's subject.
func ShortType(fullName string) string {
	if i := strings.LastIndexByte(fullName, '.'); i >= 0 {
		return fullName[i+1:]
	}
	return fullName
}

type metaKey struct{}

// Metadata is what an append records about why and by whom events were written.
type Metadata struct {
	CorrelationID string
	CausationID   string
	Actor         *eventsv1.Actor
}

// WithMetadata returns ctx carrying m for the appends made under it. Fields left empty are
// taken from reqctx (actor, correlation id, request id as causation).
func WithMetadata(ctx context.Context, m Metadata) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

// MetadataFrom resolves the metadata of an append made under ctx.
func MetadataFrom(ctx context.Context) Metadata {
	m, _ := ctx.Value(metaKey{}).(Metadata)
	if m.CorrelationID == "" {
		m.CorrelationID = reqctx.CorrelationID(ctx)
	}
	if m.CausationID == "" {
		m.CausationID = reqctx.RequestID(ctx)
	}
	if m.Actor == nil {
		if a := reqctx.ActorFrom(ctx); a.ID != "" {
			m.Actor = &eventsv1.Actor{Type: eventsv1.ActorType(a.Type), Id: a.ID, OnBehalfOf: a.OnBehalfOf}
		}
	}
	return m
}
