package reactions

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// OpportunityWinsName is the durable consumer of the opportunity-win reaction, shared by every
// replica of the leads service.
const OpportunityWinsName = "leads-opportunity-wins"

// OpportunityWinsSource is what the reaction consumes: every OpportunityWon of the pipeline
// service's stream.
var OpportunityWinsSource = projection.Source{Stream: "CRM_PIPELINE",
	FilterSubjects: []string{"crm.*.opportunity.*.OpportunityWon"}}

// opportunityWonType is the envelope's event_type of the events the reaction handles.
var opportunityWonType = string(proto.MessageName(&pipelinev1.OpportunityWon{}))

// WinRecorder records a won opportunity on the lead it came from; *app.App implements it.
type WinRecorder interface {
	RecordOpportunityWon(ctx context.Context, tenant, id string, cmd lead.OpportunityWin, w app.Write) (app.LeadResult, error)
}

// OpportunityWonKey is the idempotency key of the command one OpportunityWon event gives, so a
// redelivered or replayed event appends nothing (past the key's TTL, the lead's own record of
// its won opportunities makes the command a no-op).
func OpportunityWonKey(eventID string) string { return "opportunity-won:" + eventID }

// WinOptions tune the opportunity-win reaction.
type WinOptions struct {
	// Backfill dates the appended LeadOpportunityWon at the win's occurred_at instead of the
	// time the reaction runs. Set it on services that allow backfill (-allow-backfill): the
	// demo data and imports of history date their wins in the past, and the lead's event then
	// lands at the same point of its history. Production leaves it off, like every other
	// reaction (docs/events.md "Backfill"); won_at carries the business time either way.
	Backfill bool
}

// OpportunityWins records on a lead every opportunity converted from it that is closed won
// (LeadOpportunityWon), so the funnel's last step folds from the lead's own stream. It is a
// projection.Handler for a durable runner.
type OpportunityWins struct {
	app WinRecorder
	log *slog.Logger
	o   WinOptions
}

// NewOpportunityWins returns the reaction.
func NewOpportunityWins(a WinRecorder, log *slog.Logger, o WinOptions) *OpportunityWins {
	if log == nil {
		log = slog.Default()
	}
	return &OpportunityWins{app: a, log: log, o: o}
}

// Handle records the wins in stream order. Wins are rare (one per closed deal), so one at a
// time is fast enough. A failure that may pass (store unavailable, concurrent change) fails the
// batch for a retry; the wins already recorded are not recorded twice, thanks to the
// idempotency keys and the lead's own set of won opportunities.
func (h *OpportunityWins) Handle(ctx context.Context, events []projection.Event) error {
	ctx = asService(ctx)
	for _, e := range events {
		if err := h.handle(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func (h *OpportunityWins) handle(ctx context.Context, e projection.Event) error {
	env := e.Envelope
	if env.GetEventType() != opportunityWonType {
		return nil
	}
	var m pipelinev1.OpportunityWon
	if err := proto.Unmarshal(env.GetPayload(), &m); err != nil {
		return projection.Poison(e, "decode OpportunityWon: "+err.Error())
	}
	tenant, leadID, oppID := env.GetTenantId(), m.GetDeal().GetLeadId(), env.GetAggregateId()
	if leadID == "" {
		return nil // an opportunity not converted from a lead
	}
	wonAt := env.GetOccurredAt().AsTime()
	if env.GetOccurredAt() == nil {
		wonAt = e.Stored
	}
	ctx = eventstore.WithMetadata(ctx, eventstore.Metadata{
		CorrelationID: env.GetCorrelationId(),
		Actor: &eventsv1.Actor{Type: eventsv1.ActorType_ACTOR_TYPE_SERVICE, Id: "leads",
			OnBehalfOf: onBehalfOf(env.GetActor())},
	})
	if h.o.Backfill {
		// Never later than now: a backfill time in the future is refused at the API edge, and a
		// skewed pipeline clock must not date the lead's history ahead.
		ctx = reqctx.WithBackfill(ctx, minTime(wonAt, time.Now()))
	}
	a := m.GetAmount()
	_, err := h.app.RecordOpportunityWon(ctx, tenant, leadID, lead.OpportunityWin{OpportunityID: oppID, WonAt: wonAt,
		Amount:    lead.Money{Currency: a.GetCurrencyCode(), Units: a.GetUnits(), Nanos: a.GetNanos()},
		CloseDate: m.GetCloseDate()},
		app.Write{IdempotencyKey: OpportunityWonKey(env.GetEventId())})
	if err == nil {
		return nil
	}
	switch apperr.KindOf(err) {
	case apperr.NotFound:
		// No such lead in this tenant (deleted from a test tenant, or a lead id typed by hand):
		// retrying will not make it appear.
		h.log.InfoContext(ctx, "opportunity win skipped: no such lead", "tenant", tenant, "lead_id", leadID,
			"opportunity_id", oppID, "event_id", env.GetEventId())
		return nil
	case apperr.Invalid:
		return projection.Poison(e, "opportunity win refused: "+err.Error())
	}
	return err
}

func minTime(a, b time.Time) time.Time {
	if a.After(b) {
		return b
	}
	return a
}
