// Package ruleevents reads recent events of the CRM streams for rule dry runs: an ordered
// consumer per stream, started at a time (OptStartTime) and filtered on the tenant and the event
// type, so a dry run reads only the events that could trigger the rule.
package ruleevents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
)

// Streams are the streams rules trigger on.
var Streams = []string{"CRM_LEADS", "CRM_PIPELINE", "CRM_CAMPAIGN"}

// Reader implements app.RecentEvents.
type Reader struct{ js jetstream.JetStream }

var _ app.RecentEvents = (*Reader)(nil)

// New returns a reader on js.
func New(js jetstream.JetStream) *Reader { return &Reader{js: js} }

// idle is how long a stream may stay silent before its end is assumed: an ordered consumer has
// no "end of stream" marker, so the pending count and a short wait say when it is done.
const idle = 200 * time.Millisecond

// Read calls fn for each of the tenant's events of type eventType stored since since, stream
// by stream, up to max events in all.
func (r *Reader) Read(ctx context.Context, tenant, eventType string, since time.Time, max int, fn func(app.RuleEvent) bool) error {
	left := max
	for _, name := range Streams {
		if left <= 0 {
			return nil
		}
		n, stop, err := r.readStream(ctx, name, tenant, eventType, since, left, fn)
		if err != nil {
			return err
		}
		left -= n
		if stop {
			return nil
		}
	}
	return nil
}

func (r *Reader) readStream(ctx context.Context, stream, tenant, eventType string, since time.Time, max int, fn func(app.RuleEvent) bool) (int, bool, error) {
	cons, err := r.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{fmt.Sprintf("crm.%s.*.*.%s", tenant, eventType)},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy, OptStartTime: &since,
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("ruleevents: %s: %w", stream, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("ruleevents: %s: %w", stream, err)
	}
	pending := int(info.NumPending)
	n := 0
	for n < max && n < pending {
		batch, err := cons.Fetch(min(max-n, pending-n, 500), jetstream.FetchMaxWait(idle))
		if err != nil {
			return n, false, fmt.Errorf("ruleevents: %s: %w", stream, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			n++
			ev, ok := Decode(m.Data(), stream)
			if ok {
				if md, err := m.Metadata(); err == nil {
					ev.At = md.Timestamp
					if stream == "CRM_LEADS" {
						ev.LeadsSequence = md.Sequence.Stream
					}
				}
				if !fn(ev) {
					return n, true, nil
				}
			}
		}
		if got == 0 {
			break
		}
	}
	return n, false, nil
}

// Decode maps a stream message body to a rule event; ok is false for a body that is not a
// decodable envelope.
func Decode(data []byte, _ string) (app.RuleEvent, bool) {
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(data, env); err != nil {
		return app.RuleEvent{}, false
	}
	ev, err := FromEnvelope(env)
	return ev, err == nil
}

// FromEnvelope maps an envelope to a rule event (At is the envelope's recorded time; callers
// with the stream's timestamp set it).
func FromEnvelope(env *eventsv1.Envelope) (app.RuleEvent, error) {
	msg, err := eventstore.DecodePayload(env)
	if err != nil {
		return app.RuleEvent{}, err
	}
	payload, err := protomap.RuleValues(msg)
	if err != nil {
		return app.RuleEvent{}, err
	}
	ev := app.RuleEvent{Tenant: env.GetTenantId(), EventID: env.GetEventId(), EventType: eventstore.ShortType(env.GetEventType()),
		AggregateType: env.GetAggregateType(), AggregateID: env.GetAggregateId(), CorrelationID: env.GetCorrelationId(),
		CausationID: env.GetCausationId(), Payload: payload}
	if t := env.GetRecordedAt(); t.IsValid() && !t.AsTime().IsZero() {
		ev.At = t.AsTime()
	} else if t := env.GetOccurredAt(); t.IsValid() {
		ev.At = t.AsTime()
	}
	if pt, id, ok := protomap.MemberPerson(msg); ok {
		ev.PersonType, ev.PersonID = protomap.RuleMemberType(pt), id
	}
	return ev, nil
}
