package reactions

import (
	"context"
	"log/slog"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// EngagementName is the durable consumer of the activity engagement reaction.
const EngagementName = "leads-activity-engagement"

// EngagementSource is what the reaction consumes: every ActivityLogged of the leads stream.
var EngagementSource = projection.Source{Stream: "CRM_LEADS", FilterSubjects: []string{"crm.*.activity.*.ActivityLogged"}}

// Engager records engagement on a lead; *app.App implements it.
type Engager interface {
	RecordEngagement(ctx context.Context, tenant, id string, sig lead.Signal, w app.Write) (app.LeadResult, error)
}

// Engagement raises a lead's engagement score for every activity logged on it. It is a
// projection.Handler for a durable runner.
type Engagement struct {
	app Engager
	log *slog.Logger
}

// NewEngagement returns the reaction.
func NewEngagement(a Engager, log *slog.Logger) *Engagement {
	if log == nil {
		log = slog.Default()
	}
	return &Engagement{app: a, log: log}
}

// SignalFor maps an activity to the engagement signal it is, if any. An outbound email is a
// rep's own email, not the prospect engaging, so it is none; an inbound (or undirected) email
// is a reply. The scoring model's weights decide the points of each signal.
func SignalFor(a activity.Activity) (scoring.Signal, bool) {
	switch a.Kind {
	case activity.KindCall:
		return scoring.SignalCall, true
	case activity.KindMeeting:
		return scoring.SignalMeeting, true
	case activity.KindNote:
		return scoring.SignalNote, true
	case activity.KindEmail:
		if a.Direction == activity.DirectionOutbound {
			return 0, false
		}
		return scoring.SignalEmailReplied, true
	}
	return 0, false
}

// IdempotencyKey is the key of the engagement one activity event gives one lead.
func IdempotencyKey(eventID, leadID string) string {
	return "activity-engagement:" + eventID + ":" + leadID
}

// Handle records the engagement of each activity on each lead it concerns. A failure that may
// pass (store unavailable, concurrent change) fails the batch for a retry; the leads already
// done are not counted twice, thanks to the idempotency keys.
func (h *Engagement) Handle(ctx context.Context, events []projection.Event) error {
	ctx = asService(ctx)
	for _, e := range events {
		if err := h.handle(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func (h *Engagement) handle(ctx context.Context, e projection.Event) error {
	env := e.Envelope
	rec := eventstore.Recorded{Envelope: env, Subject: e.Subject, Stream: e.Stream, Sequence: e.Sequence, Stored: e.Stored}
	ev, err := protomap.ActivityCodec{}.Decode(rec)
	if err != nil {
		return projection.Poison(e, "decode activity event: "+err.Error())
	}
	logged, ok := ev.(activity.ActivityLogged)
	if !ok {
		return nil
	}
	a := logged.Activity
	sig, ok := SignalFor(a)
	if !ok {
		return nil
	}
	// An activity may be logged up to a day ahead; engagement cannot happen in the future, so
	// such a signal counts from when it was logged.
	at := a.OccurredAt
	if loggedAt := env.GetOccurredAt().AsTime(); at.After(loggedAt) {
		at = loggedAt
	}
	// The engagement events are caused by the activity and appended by this service on behalf
	// of the user who logged it.
	ctx = eventstore.WithMetadata(ctx, eventstore.Metadata{
		CorrelationID: env.GetCorrelationId(),
		Actor:         &eventsv1.Actor{Type: eventsv1.ActorType_ACTOR_TYPE_SERVICE, Id: "leads", OnBehalfOf: a.LoggedBy},
	})
	for _, r := range a.Records {
		if r.Type != activity.RecordLead {
			continue
		}
		_, err := h.app.RecordEngagement(ctx, env.GetTenantId(), r.ID,
			lead.Signal{Signal: sig, OccurredAt: at, Detail: "activity " + a.ID},
			app.Write{IdempotencyKey: IdempotencyKey(env.GetEventId(), r.ID)})
		if err == nil {
			continue
		}
		switch apperr.KindOf(err) {
		case apperr.NotFound, apperr.FailedPrecondition:
			// The lead was merged, converted or never existed: there is nothing to raise, and
			// retrying will not change that.
			h.log.InfoContext(ctx, "activity engagement skipped", "tenant", env.GetTenantId(), "lead_id", r.ID,
				"activity_id", a.ID, "reason", err.Error())
		case apperr.Invalid:
			return projection.Poison(e, "engagement refused: "+err.Error())
		default:
			return err
		}
	}
	return nil
}
