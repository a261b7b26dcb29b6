package benchkit

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/uuid7"
)

// Envelope is the bytes evcrm's event store publishes for payload as version 1 of a tenant
// "acme" aggregate (ids, actor and correlation set as a command sets them), and the event's
// type: what the raw publish and the PostgreSQL append of a scenario write, so every path
// stores the same bytes.
func Envelope(aggType string, payload proto.Message) (body []byte, eventType string) {
	p, err := proto.MarshalOptions{Deterministic: true}.Marshal(payload)
	if err != nil {
		panic(err)
	}
	eventType = string(payload.ProtoReflect().Descriptor().FullName())
	now := timestamppb.New(time.Now())
	body, err = proto.Marshal(&eventsv1.Envelope{EventId: uuid7.New(), TenantId: "acme", AggregateType: aggType,
		AggregateId: uuid7.New(), AggregateVersion: 1, EventType: eventType, OccurredAt: now, RecordedAt: now,
		Actor: &eventsv1.Actor{Type: eventsv1.ActorType_ACTOR_TYPE_USER, Id: "rep-1"}, CorrelationId: uuid7.New(), CausationId: uuid7.New(), Payload: p})
	if err != nil {
		panic(err)
	}
	return body, eventType
}
