package reactions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// CampaignResponsesName is the durable consumer of the campaign-response reaction, shared by
// every replica of the leads service.
const CampaignResponsesName = "leads-campaign-responses"

// CampaignResponsesSource is what the reaction consumes: every CampaignMemberResponded of the
// campaign service's stream.
var CampaignResponsesSource = projection.Source{Stream: "CRM_CAMPAIGN",
	FilterSubjects: []string{"crm.*.member.*.CampaignMemberResponded"}}

// campaignRespondedType is the envelope's event_type of the events the reaction handles.
var campaignRespondedType = string(proto.MessageName(&campaignv1.CampaignMemberResponded{}))

// maxOptOutHops bounds how far an unsubscribe follows merges and a conversion (lead → survivor
// → … → contact) before giving up on a chain that cannot be resolved.
const maxOptOutHops = 8

// CampaignApp is what the campaign-response reaction needs of the application; *app.App
// implements it.
type CampaignApp interface {
	RecordEngagement(ctx context.Context, tenant, id string, sig lead.Signal, w app.Write) (app.LeadResult, error)
	UpdateLead(ctx context.Context, tenant, id string, cmd lead.Update, w app.Write) (app.LeadResult, error)
	UpdateContact(ctx context.Context, tenant, id string, cmd contact.Update, w app.Write) (app.ContactResult, error)
	GetLead(ctx context.Context, tenant, id string, r app.Read) (lead.Lead, error)
}

// ResponseEffect is what one campaign response does to the person it concerns.
type ResponseEffect struct {
	// Signal is the engagement signal a lead gets; SignalUnspecified when none.
	Signal scoring.Signal
	// OptOut is set for an unsubscribe: the person's email_opt_out is set so every campaign
	// suppresses them from then on.
	OptOut bool
}

// EffectOf maps a response kind to its effect. Sends and bounces are the campaign's doing, not
// the person engaging, and a tenant's own statuses (OTHER) carry no known meaning, so they give
// no signal; the scoring model's weights decide the points of each signal (an unsubscribe's are
// negative).
func EffectOf(kind campaignv1.ResponseKind) ResponseEffect {
	switch kind {
	case campaignv1.ResponseKind_RESPONSE_KIND_OPENED:
		return ResponseEffect{Signal: scoring.SignalEmailOpened}
	case campaignv1.ResponseKind_RESPONSE_KIND_CLICKED:
		return ResponseEffect{Signal: scoring.SignalEmailClicked}
	case campaignv1.ResponseKind_RESPONSE_KIND_RESPONDED, campaignv1.ResponseKind_RESPONSE_KIND_CONVERTED:
		return ResponseEffect{Signal: scoring.SignalCampaignResponded}
	case campaignv1.ResponseKind_RESPONSE_KIND_UNSUBSCRIBED:
		return ResponseEffect{Signal: scoring.SignalUnsubscribed, OptOut: true}
	}
	return ResponseEffect{}
}

// CampaignResponseKey is the idempotency key of one command a campaign response event gives
// (what: "engagement", or "optout:lead:<id>" / "optout:contact:<id>" for each record an
// unsubscribe reaches), so a redelivered or replayed event changes nothing the second time.
func CampaignResponseKey(eventID, what string) string {
	return "campaign-response:" + eventID + ":" + what
}

// CampaignResponses raises a lead's engagement for the campaign responses of its members and
// records unsubscribes as email opt-outs on the lead or contact. It is a projection.Handler for
// a durable runner.
type CampaignResponses struct {
	app CampaignApp
	log *slog.Logger
}

// NewCampaignResponses returns the reaction.
func NewCampaignResponses(a CampaignApp, log *slog.Logger) *CampaignResponses {
	if log == nil {
		log = slog.Default()
	}
	return &CampaignResponses{app: a, log: log}
}

// handleConcurrency bounds how many people's responses one batch applies at once. Commands on
// one lead are a few milliseconds of round trips each, so a batch handled one event at a time
// would cap the reaction far below the rate a campaign reports responses in bulk.
const handleConcurrency = 32

// Handle applies each response. Responses of one person are applied in stream order, different
// people's concurrently. A failure that may pass (store unavailable, concurrent change, a read
// model behind a conversion) fails the batch for a retry; the commands already done are not
// repeated, thanks to the idempotency keys. Poisoned events are reported together.
func (h *CampaignResponses) Handle(ctx context.Context, events []projection.Event) error {
	ctx = asService(ctx)
	var order []string
	byPerson := map[string][]projection.Event{}
	for _, e := range events {
		k := personKey(e)
		if _, ok := byPerson[k]; !ok {
			order = append(order, k)
		}
		byPerson[k] = append(byPerson[k], e)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, handleConcurrency)
	)
	for _, k := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, e := range byPerson[k] {
				if err := h.handle(ctx, e); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					// Later responses of this person wait for the retry, keeping their order.
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// personKey groups a batch's events by the person they concern: the member aggregate is one
// person in one campaign, and a lead's responses in several campaigns still share the lead, so
// the key is the person, read from the subject-independent payload when it decodes.
func personKey(e projection.Event) string {
	var m campaignv1.CampaignMemberResponded
	if e.Envelope.GetEventType() != campaignRespondedType || proto.Unmarshal(e.Envelope.GetPayload(), &m) != nil {
		return "member/" + e.Envelope.GetAggregateId()
	}
	return e.Envelope.GetTenantId() + "/" + m.GetMemberType().String() + "/" + m.GetPersonId()
}

func (h *CampaignResponses) handle(ctx context.Context, e projection.Event) error {
	env := e.Envelope
	if env.GetEventType() != campaignRespondedType {
		return nil
	}
	var m campaignv1.CampaignMemberResponded
	if err := proto.Unmarshal(env.GetPayload(), &m); err != nil {
		return projection.Poison(e, "decode CampaignMemberResponded: "+err.Error())
	}
	eff := EffectOf(m.GetKind())
	if eff.Signal == scoring.SignalUnspecified && !eff.OptOut {
		return nil
	}
	tenant, id := env.GetTenantId(), m.GetPersonId()
	// The appended events keep the campaign event's correlation id; their causation id is the
	// command's idempotency key (the repository sets it), which names the campaign event.
	ctx = eventstore.WithMetadata(ctx, eventstore.Metadata{
		CorrelationID: env.GetCorrelationId(),
		Actor: &eventsv1.Actor{Type: eventsv1.ActorType_ACTOR_TYPE_SERVICE, Id: "leads",
			OnBehalfOf: onBehalfOf(env.GetActor())},
	})
	log := h.log.With("tenant", tenant, "event_id", env.GetEventId(), "campaign_id", m.GetCampaignId(),
		"member_type", m.GetMemberType().String(), "person_id", id, "kind", m.GetKind().String())

	switch m.GetMemberType() {
	case campaignv1.MemberType_MEMBER_TYPE_LEAD:
		if eff.Signal != scoring.SignalUnspecified {
			if err := h.engage(ctx, log, e, &m, eff.Signal); err != nil {
				return err
			}
		}
		if eff.OptOut {
			return h.optOutLead(ctx, log, e, id)
		}
	case campaignv1.MemberType_MEMBER_TYPE_CONTACT:
		// Contacts keep no engagement score; only an unsubscribe concerns them.
		if eff.OptOut {
			return h.optOutContact(ctx, log, e, id)
		}
	default:
		return projection.Poison(e, fmt.Sprintf("member type %s is neither lead nor contact", m.GetMemberType()))
	}
	return nil
}

// onBehalfOf is the user a campaign event was ultimately written for, if any.
func onBehalfOf(a *eventsv1.Actor) string {
	if a.GetType() == eventsv1.ActorType_ACTOR_TYPE_USER {
		return a.GetId()
	}
	return a.GetOnBehalfOf()
}

// engage records the response's engagement signal on the lead.
func (h *CampaignResponses) engage(ctx context.Context, log *slog.Logger, e projection.Event, m *campaignv1.CampaignMemberResponded, sig scoring.Signal) error {
	_, err := h.app.RecordEngagement(ctx, e.Envelope.GetTenantId(), m.GetPersonId(),
		lead.Signal{Signal: sig, OccurredAt: signalTime(e, m), CampaignID: m.GetCampaignId(),
			Detail: "campaign " + m.GetCampaignId() + ": " + m.GetStatus()},
		app.Write{IdempotencyKey: CampaignResponseKey(e.Envelope.GetEventId(), "engagement")})
	if err == nil {
		return nil
	}
	switch apperr.KindOf(err) {
	case apperr.NotFound, apperr.FailedPrecondition:
		// The lead never existed, was merged or was converted: there is no score to raise,
		// and retrying will not change that.
		log.InfoContext(ctx, "campaign engagement skipped", "reason", err.Error())
		return nil
	case apperr.Invalid:
		return projection.Poison(e, "engagement refused: "+err.Error())
	}
	return err
}

// signalTime is when the response happened, but never later than when the campaign service
// stored it: a response may be reported ahead of time (clock skew), engagement cannot count
// from the future.
func signalTime(e projection.Event, m *campaignv1.CampaignMemberResponded) time.Time {
	at := m.GetOccurredAt().AsTime()
	if m.GetOccurredAt() == nil {
		at = e.Envelope.GetOccurredAt().AsTime()
	}
	limit := e.Stored
	if limit.IsZero() {
		limit = e.Envelope.GetRecordedAt().AsTime()
	}
	if !limit.IsZero() && at.After(limit) {
		at = limit
	}
	return at
}

// errOptOutPending is a retryable failure: the lead refused the opt-out as merged or converted
// but the read model does not show where it went yet.
var errOptOutPending = errors.New("reactions: opt-out target not yet visible in the read model")

// optOutLead sets email_opt_out on the lead. The person asked to hear no more, so the opt-out
// follows the lead where it went: to the survivor of a merge and to the contact of a conversion.
func (h *CampaignResponses) optOutLead(ctx context.Context, log *slog.Logger, e projection.Event, id string) error {
	tenant := e.Envelope.GetTenantId()
	for range maxOptOutHops {
		_, err := h.app.UpdateLead(ctx, tenant, id,
			lead.Update{Paths: []string{lead.PathEmailOptOut}, Details: lead.Details{EmailOptOut: true}},
			app.Write{IdempotencyKey: CampaignResponseKey(e.Envelope.GetEventId(), "optout:lead:"+id)})
		if err == nil {
			return nil
		}
		switch apperr.KindOf(err) {
		case apperr.NotFound:
			log.InfoContext(ctx, "campaign opt-out skipped: no such lead", "lead_id", id)
			return nil
		case apperr.Invalid:
			return projection.Poison(e, "opt-out refused: "+err.Error())
		case apperr.FailedPrecondition:
		default:
			return err
		}
		l, gerr := h.app.GetLead(ctx, tenant, id, app.Read{})
		if gerr != nil {
			return errors.Join(errOptOutPending, gerr)
		}
		switch {
		case l.MergedIntoID != "":
			id = l.MergedIntoID
		case l.Converted.ContactID != "":
			return h.optOutContact(ctx, log, e, l.Converted.ContactID)
		default:
			// Refused, but the read model has not caught up with the merge or conversion.
			return fmt.Errorf("%w: lead %s: %v", errOptOutPending, id, err)
		}
	}
	log.WarnContext(ctx, "campaign opt-out skipped: too many merges", "lead_id", id)
	return nil
}

// optOutContact sets email_opt_out on the contact.
func (h *CampaignResponses) optOutContact(ctx context.Context, log *slog.Logger, e projection.Event, id string) error {
	_, err := h.app.UpdateContact(ctx, e.Envelope.GetTenantId(), id,
		contact.Update{Paths: []string{contact.PathEmailOptOut}, Details: contact.Details{EmailOptOut: true}},
		app.Write{IdempotencyKey: CampaignResponseKey(e.Envelope.GetEventId(), "optout:contact:"+id)})
	if err == nil {
		return nil
	}
	switch apperr.KindOf(err) {
	case apperr.NotFound, apperr.FailedPrecondition:
		log.InfoContext(ctx, "campaign opt-out skipped", "contact_id", id, "reason", err.Error())
		return nil
	case apperr.Invalid:
		return projection.Poison(e, "opt-out refused: "+err.Error())
	}
	return err
}
