package service

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/pii"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/snapshotstore"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// personTypes are the aggregates whose ids are data subjects: their events' personal fields
// are sealed with the person's key.
var personTypes = []string{"lead", contact.AggregateType}

// newSealer opens the data key bucket (CRM_PERSON_KEYS) and returns the sealer of people's
// events.
func newSealer(ctx context.Context, js jetstream.JetStream, o Options) (*pii.Sealer, *pii.KV, error) {
	keys, err := pii.OpenKV(ctx, js, pii.KVOptions{Replicas: o.Replicas})
	if err != nil {
		return nil, nil, err
	}
	return pii.NewSealer(keys, personTypes...), keys, nil
}

// erasureEvents are the events after which a read model scrubs its files.
var erasureEvents = map[string]bool{
	"crm.leads.v1." + lead.LeadErased{}.EventType():       true,
	"crm.leads.v1." + contact.ContactErased{}.EventType(): true,
}

// personData is what the read models of people need for erasure: the sealer that opens
// their events, and what else of this replica holds an erased person's state (the aggregate
// snapshots) to forget.
type personData struct {
	sealer *pii.Sealer
	// forget drops the states of the erased aggregates (keys: eventstore.Ref.String()) from
	// this replica's local caches and scrubs their files; nil when there is none.
	forget func(ctx context.Context, keys []string) error
}

// snapshotForgetter forgets erased aggregates in the replica's snapshot store: every replica
// runs its read models' projectors, so each one cleans its own snapshots.db when it sees the
// erasure, not only the replica that ran ErasePerson.
func snapshotForgetter(snaps *snapshotstore.Store) func(context.Context, []string) error {
	return func(ctx context.Context, keys []string) error {
		for _, k := range keys {
			if err := snaps.Forget(ctx, k); err != nil {
				return err
			}
		}
		return snaps.Scrub(ctx)
	}
}

// personView wraps a read model's projector: it opens the personal data of the events
// (pii.CheckpointHandler) and, after a batch that erased someone has been applied, scrubs the
// read model's files (secure delete leaves the search index's old segments and the WAL) and
// has the replica forget the erased aggregates' snapshots.
func personView(p personData, h projection.CheckpointHandler, scrub func(context.Context) error, log *slog.Logger) projection.CheckpointHandler {
	return scrubbing{CheckpointHandler: pii.CheckpointHandler(p.sealer, h), scrub: scrub, forget: p.forget, log: log}
}

type scrubbing struct {
	projection.CheckpointHandler
	scrub  func(context.Context) error
	forget func(context.Context, []string) error
	log    *slog.Logger
}

func (s scrubbing) Handle(ctx context.Context, events []projection.Event) error {
	if err := s.CheckpointHandler.Handle(ctx, events); err != nil {
		return err
	}
	var erased []string
	for _, e := range events {
		if env := e.Envelope; erasureEvents[env.GetEventType()] {
			erased = append(erased, eventstore.Ref{Tenant: env.GetTenantId(), Type: env.GetAggregateType(), ID: env.GetAggregateId()}.String())
		}
	}
	if len(erased) == 0 {
		return nil
	}
	// A failed clean-up leaves the data to the next erasure's; holding the projection back for
	// it would stop every read of the service.
	if s.forget != nil {
		if err := s.forget(ctx, erased); err != nil {
			s.log.WarnContext(ctx, "forgetting erased aggregates' snapshots failed", "error", err)
		}
	}
	if err := s.scrub(ctx); err != nil {
		s.log.WarnContext(ctx, "scrubbing the read model after an erasure failed", "error", err)
	}
	return nil
}
