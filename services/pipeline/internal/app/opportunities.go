package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// OpportunityOutcome is an opportunity after a command.
type OpportunityOutcome = Outcome[opportunity.Opportunity]

// CreateOpportunity opens an opportunity in pipeline pipelineID ("" = the default pipeline).
// With an idempotency key, a retry (lead conversion retries) returns the first outcome: the
// same opportunity, nothing appended. Without cmd.ID the service generates one.
func (a *App) CreateOpportunity(ctx context.Context, tenant, pipelineID string, cmd opportunity.NewOpportunity, w Write) (OpportunityOutcome, error) {
	if pipelineID == "" {
		pipelineID = pipelinedef.DefaultID
	}
	fresh := cmd.ID == ""
	if fresh {
		cmd.ID = a.d.NewID()
	} else if !input.ValidID(cmd.ID) {
		return OpportunityOutcome{}, invalidID("id") // the command's field, as the domain names it
	}
	p, err := a.pipeline(ctx, tenant, pipelineID)
	if err != nil {
		return OpportunityOutcome{}, pipelineFieldError(err, "pipeline_id")
	}
	if p.Archived {
		return OpportunityOutcome{}, apperr.Precondition(pipelinedef.ReasonArchived, "pipeline %q is archived: it takes no new opportunities", pipelineID)
	}
	pol, err := a.policy(ctx, tenant)
	if err != nil {
		return OpportunityOutcome{}, err
	}
	return execute(ctx, a, a.d.Opportunities, a.d.Opportunities.Ref(tenant, cmd.ID), eventstore.Command{Name: "CreateOpportunity", New: fresh}, w,
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.Create(o, cmd, p, pol, now)
		})
}

// pipelineFieldError turns "pipeline not found" into a field violation of the request: the
// caller named a pipeline that does not exist.
func pipelineFieldError(err error, field string) error {
	if apperr.KindOf(err) == apperr.NotFound {
		return apperr.InvalidFields("unknown pipeline", apperr.FieldViolation{Field: field, Description: "no such pipeline"})
	}
	return err
}

// onOpportunity runs a decision on an existing opportunity in the caller's scope; one out of
// it is answered as a missing one (scope.go).
func (a *App) onOpportunity(ctx context.Context, tenant, id, name string, w Write, decide func(opportunity.Opportunity, time.Time) ([]opportunity.Event, error)) (OpportunityOutcome, error) {
	if !input.ValidID(id) {
		return OpportunityOutcome{}, invalidID("opportunity_id")
	}
	ref := a.d.Opportunities.Ref(tenant, id)
	// The store would compare the expected version before the decision, and a mismatch would
	// tell that a record out of the caller's scope exists: the decision compares it after.
	expected := w.ExpectedVersion
	w.ExpectedVersion = nil
	out, err := execute(ctx, a, a.d.Opportunities, ref, eventstore.Command{Name: name}, w,
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			if !opportunityInScope(ctx, o) {
				return nil, apperr.NotFoundf("opportunity", id)
			}
			if err := eventstore.ExpectVersion(o.Version, expected); err != nil {
				return nil, err
			}
			return decide(o, now)
		})
	if err == nil && out.Result.Replayed && !opportunityInScope(ctx, out.State) {
		// A replay answers with the record's current state, which may have left the caller's
		// scope since (the retry of an assignment to someone else) or never been in it.
		return OpportunityOutcome{}, apperr.NotFoundf("opportunity", id)
	}
	return out, err
}

// inPipeline runs a decision that needs the pipeline the opportunity is in.
func (a *App) inPipeline(ctx context.Context, tenant, id, name string, w Write, decide func(opportunity.Opportunity, pipelinedef.Pipeline, time.Time) ([]opportunity.Event, error)) (OpportunityOutcome, error) {
	return a.onOpportunity(ctx, tenant, id, name, w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		p, err := a.pipeline(ctx, tenant, o.PipelineID)
		if err != nil {
			return nil, err
		}
		return decide(o, p, now)
	})
}

// UpdateOpportunity changes the descriptive fields named by cmd.Paths.
func (a *App) UpdateOpportunity(ctx context.Context, tenant, id string, cmd opportunity.Update, w Write) (OpportunityOutcome, error) {
	pol, err := a.policy(ctx, tenant)
	if err != nil {
		return OpportunityOutcome{}, err
	}
	return a.onOpportunity(ctx, tenant, id, "UpdateOpportunity", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.UpdateDetails(o, cmd, pol, now)
	})
}

// MoveStage moves an open opportunity to another open stage of its pipeline.
func (a *App) MoveStage(ctx context.Context, tenant, id string, cmd opportunity.StageMove, w Write) (OpportunityOutcome, error) {
	return a.inPipeline(ctx, tenant, id, "MoveOpportunityStage", w, func(o opportunity.Opportunity, p pipelinedef.Pipeline, now time.Time) ([]opportunity.Event, error) {
		return opportunity.MoveStage(o, cmd, p, now)
	})
}

// MarkWon closes an opportunity as won.
func (a *App) MarkWon(ctx context.Context, tenant, id string, cmd opportunity.Win, w Write) (OpportunityOutcome, error) {
	return a.inPipeline(ctx, tenant, id, "MarkOpportunityWon", w, func(o opportunity.Opportunity, p pipelinedef.Pipeline, now time.Time) ([]opportunity.Event, error) {
		return opportunity.MarkWon(o, cmd, p, now)
	})
}

// MarkLost closes an opportunity as lost.
func (a *App) MarkLost(ctx context.Context, tenant, id string, cmd opportunity.Loss, w Write) (OpportunityOutcome, error) {
	return a.inPipeline(ctx, tenant, id, "MarkOpportunityLost", w, func(o opportunity.Opportunity, p pipelinedef.Pipeline, now time.Time) ([]opportunity.Event, error) {
		return opportunity.MarkLost(o, cmd, p, now)
	})
}

// Reopen puts a closed opportunity back into an open stage.
func (a *App) Reopen(ctx context.Context, tenant, id string, cmd opportunity.Reopening, w Write) (OpportunityOutcome, error) {
	return a.inPipeline(ctx, tenant, id, "ReopenOpportunity", w, func(o opportunity.Opportunity, p pipelinedef.Pipeline, now time.Time) ([]opportunity.Event, error) {
		return opportunity.Reopen(o, cmd, p, now)
	})
}

// UpdateAmount sets the amount by hand.
func (a *App) UpdateAmount(ctx context.Context, tenant, id string, amount money.Money, w Write) (OpportunityOutcome, error) {
	return a.onOpportunity(ctx, tenant, id, "UpdateOpportunityAmount", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.UpdateAmount(o, amount, now)
	})
}

// UpdateCloseDate moves the expected close date (a push-out is a forecasting signal).
func (a *App) UpdateCloseDate(ctx context.Context, tenant, id string, d civil.Date, w Write) (OpportunityOutcome, error) {
	pol, err := a.policy(ctx, tenant)
	if err != nil {
		return OpportunityOutcome{}, err
	}
	return a.onOpportunity(ctx, tenant, id, "UpdateOpportunityCloseDate", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.UpdateCloseDate(o, d, pol, now)
	})
}

// UpdateProbability overrides the win probability, or clears the override when p is nil.
func (a *App) UpdateProbability(ctx context.Context, tenant, id string, p *int32, w Write) (OpportunityOutcome, error) {
	return a.onOpportunity(ctx, tenant, id, "UpdateOpportunityProbability", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.UpdateProbability(o, p, now)
	})
}

// UpdateForecastCategory overrides the forecast category, or clears the override when c is nil.
func (a *App) UpdateForecastCategory(ctx context.Context, tenant, id string, c *pipelinedef.Category, w Write) (OpportunityOutcome, error) {
	return a.onOpportunity(ctx, tenant, id, "UpdateOpportunityForecastCategory", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.UpdateForecastCategory(o, c, now)
	})
}

// Assign gives the opportunity a new owner.
func (a *App) Assign(ctx context.Context, tenant, id string, cmd opportunity.Assignment, w Write) (OpportunityOutcome, error) {
	return a.onOpportunity(ctx, tenant, id, "AssignOpportunity", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.Assign(o, cmd, now)
	})
}

// SetContactRoles replaces the contact roles on the deal.
func (a *App) SetContactRoles(ctx context.Context, tenant, id string, roles []opportunity.ContactRole, w Write) (OpportunityOutcome, error) {
	return a.onOpportunity(ctx, tenant, id, "SetOpportunityContactRoles", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.SetContactRoles(o, roles, now)
	})
}

// CreateQuote adds a draft quote (version 1) and returns the opportunity and the quote's id.
// Without d.QuoteID the service chooses one: derived from the idempotency key when there is one,
// so a retried create names the quote the first attempt made; else a new UUIDv7.
func (a *App) CreateQuote(ctx context.Context, tenant, id string, d opportunity.QuoteDraft, w Write) (OpportunityOutcome, string, error) {
	if d.QuoteID == "" {
		d.QuoteID = a.d.NewID()
		if w.IdempotencyKey != "" {
			sum := sha256.Sum256([]byte("quote\x00" + tenant + "\x00" + id + "\x00" + w.IdempotencyKey))
			d.QuoteID = "q-" + hex.EncodeToString(sum[:16])
		}
	}
	out, err := a.onOpportunity(ctx, tenant, id, "CreateQuote", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.CreateQuote(o, d, now)
	})
	return out, d.QuoteID, err
}

// ReviseQuote records a new version of a quote; the previous version is superseded.
func (a *App) ReviseQuote(ctx context.Context, tenant, id string, d opportunity.QuoteDraft, w Write) (OpportunityOutcome, error) {
	return a.onOpportunity(ctx, tenant, id, "ReviseQuote", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.ReviseQuote(o, d, now)
	})
}

// SendQuote marks a quote version as sent to the customer.
func (a *App) SendQuote(ctx context.Context, tenant, id string, ref opportunity.QuoteRef, w Write) (OpportunityOutcome, error) {
	return a.onOpportunity(ctx, tenant, id, "SendQuote", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.SendQuote(o, ref, now)
	})
}

// AcceptQuote records the customer's acceptance; the opportunity's amount becomes the quote's
// total in the same append.
func (a *App) AcceptQuote(ctx context.Context, tenant, id string, ref opportunity.QuoteRef, w Write) (OpportunityOutcome, error) {
	return a.onOpportunity(ctx, tenant, id, "AcceptQuote", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.AcceptQuote(o, ref, now)
	})
}

// RejectQuote records the customer's rejection.
func (a *App) RejectQuote(ctx context.Context, tenant, id string, ref opportunity.QuoteRef, reason string, w Write) (OpportunityOutcome, error) {
	return a.onOpportunity(ctx, tenant, id, "RejectQuote", w, func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
		return opportunity.RejectQuote(o, ref, reason, now)
	})
}

// GetOpportunity returns one opportunity (with its stage history and quotes) from the read
// model.
func (a *App) GetOpportunity(ctx context.Context, tenant, id string, r Read) (opportunity.Opportunity, error) {
	if !input.ValidID(id) {
		return opportunity.Opportunity{}, invalidID("opportunity_id")
	}
	if err := a.waitRead(ctx, r); err != nil {
		return opportunity.Opportunity{}, err
	}
	o, err := a.d.Views.GetOpportunity(ctx, tenant, id)
	if err != nil {
		return opportunity.Opportunity{}, err
	}
	if !scopeOf(ctx).AllowsOwner(o.OwnerID) {
		return opportunity.Opportunity{}, readmodel.OpportunityNotFound(id)
	}
	return visibleOpportunity(ctx, o), nil
}

// ListOpportunities lists the opportunities of the caller's scope from the read model.
func (a *App) ListOpportunities(ctx context.Context, tenant string, f OpportunityFilter, r Read) ([]opportunity.Opportunity, string, error) {
	if err := checkAmountQuery(ctx, f); err != nil {
		return nil, "", err
	}
	if err := a.waitRead(ctx, r); err != nil {
		return nil, "", err
	}
	f.Scope = scopeOf(ctx)
	list, next, err := a.d.Views.ListOpportunities(ctx, tenant, f)
	for i := range list {
		list[i] = visibleOpportunity(ctx, list[i])
	}
	return list, next, err
}
