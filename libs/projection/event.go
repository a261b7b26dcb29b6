package projection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/platform/natstrace"
)

// Event is one stored event handed to a Handler.
type Event struct {
	// Envelope is the decoded message body. Never nil.
	Envelope *eventsv1.Envelope
	// Subject is crm.<tenant>.<aggregate_type>.<aggregate_id>.<EventType>.
	Subject string
	// Stream and Sequence identify the event in JetStream; (Stream, Sequence) is the key a
	// durable sink deduplicates on.
	Stream   string
	Sequence uint64
	// Deliveries counts the times this event has been offered, 1 the first time. When it
	// equals Config.MaxDeliver this is the last attempt: if it fails, the event is
	// dead-lettered. (A durable consumer counts every delivery the server made, including
	// ones given back at shutdown.)
	Deliveries uint64
	// Stored is when JetStream stored the event.
	Stored time.Time
	// Header holds the message headers as published (names are case-sensitive; trace context
	// is in "traceparent").
	Header nats.Header
	// Data is the raw message body (the serialized Envelope), for sinks that keep it verbatim.
	Data []byte

	spanCtx trace.SpanContext
}

// SpanContext is the producer's span context carried by the event's headers (invalid when the
// producer sent none). Start a span with it as parent, or link to it, to trace one event.
func (e Event) SpanContext() trace.SpanContext { return e.spanCtx }

// delivery is an Event together with the JetStream message it came from and what the Runner
// needs to settle it.
type delivery struct {
	Event
	msg jetstream.Msg
	// consumer and consumerSeq locate the delivery in its consumer, for ordered-consumer lag.
	consumer    string
	consumerSeq uint64
	// decodeErr is set when the body is not a usable Envelope.
	decodeErr error
}

// errNoMetadata marks a message without JetStream metadata; it cannot be acked or traced back
// to a stream sequence, and is only possible if something other than a consumer delivered it.
var errNoMetadata = errors.New("projection: message without JetStream metadata")

func newDelivery(msg jetstream.Msg, prop propagation.TextMapPropagator) (*delivery, error) {
	md, err := msg.Metadata()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoMetadata, err)
	}
	d := &delivery{
		Event: Event{
			Subject:    msg.Subject(),
			Stream:     md.Stream,
			Sequence:   md.Sequence.Stream,
			Deliveries: md.NumDelivered,
			Stored:     md.Timestamp,
			Header:     msg.Headers(),
			Data:       msg.Data(),
		},
		msg:         msg,
		consumer:    md.Consumer,
		consumerSeq: md.Sequence.Consumer,
	}
	if len(d.Header) > 0 {
		d.spanCtx = trace.SpanContextFromContext(prop.Extract(context.Background(), natstrace.HeaderCarrier(d.Header)))
	}
	d.Envelope, d.decodeErr = decodeEnvelope(d.Data)
	return d, nil
}

// decodeEnvelope decodes and minimally checks a message body. Protobuf accepts almost any byte
// string (an empty body is a valid empty message), so an envelope without the fields every
// consumer keys on is treated as undecodable rather than handed on as a zero value.
func decodeEnvelope(data []byte) (*eventsv1.Envelope, error) {
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(data, env); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	switch {
	case env.GetEventId() == "":
		return nil, errors.New("decode envelope: event_id is empty")
	case env.GetEventType() == "":
		return nil, errors.New("decode envelope: event_type is empty")
	}
	return env, nil
}

func eventsOf(ds []*delivery) []Event {
	evs := make([]Event, len(ds))
	for i, d := range ds {
		evs[i] = d.Event
	}
	return evs
}
