package app

import (
	"context"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

// Row-level security (docs/security.md "Row-level rules") is decided here and nowhere else in
// the service: the per-RPC table (authz.Table) has already let the caller in, and this file
// narrows what it reaches.
//
//   - An opportunity is in the caller's scope when authz.ScopeOf allows its owner. Opportunities
//     carry no territory (a converted lead's territory does not travel to the pipeline), so a
//     sales rep's territories widen nothing here.
//   - A quote is in scope with its opportunity; a contract when its own owner is in scope or
//     the owner of the opportunity it follows is.
//   - A record out of scope is answered exactly as a missing one: the same NOT_FOUND on reads
//     (readmodel.OpportunityNotFound) and on commands (which append nothing); lists and the
//     forecast leave it out in their SQL (readmodel.Scope), so pages stay full and sums right.
//   - CreateOpportunity is not scoped: lead conversion opens the opportunity with the
//     converting user's token, for whichever owner the lead has.
//   - Callers who may not see amounts (marketing) get opportunities with every money field
//     cleared, and may neither filter nor sort by amount (which would tell the amount).

// scopeOf is the caller's scope over the pipeline's records, as the read model takes it.
func scopeOf(ctx context.Context) readmodel.Scope {
	s := authz.ScopeOf(ctx)
	if s.All {
		return readmodel.Scope{}
	}
	return readmodel.Scope{Restricted: true, Owners: s.Owners}
}

// visibleOpportunity returns o as the caller may read it: with its money withheld from a
// caller who may not see amounts.
func visibleOpportunity(ctx context.Context, o opportunity.Opportunity) opportunity.Opportunity {
	if authz.SeesAmounts(ctx) {
		return o
	}
	o.Amount = money.Money{}
	// Quotes are priced line by line; the wire form of an opportunity does not carry them, but
	// nothing that reads this value should find them either.
	o.Quotes = nil
	return o
}

// ReasonAmountsWithheld is the Reason of the PermissionDenied error for an amount filter or
// order asked by a caller who may not see amounts.
const ReasonAmountsWithheld = "AMOUNTS_WITHHELD"

// checkAmountQuery refuses an opportunity query that selects or orders by amount from a caller
// who may not see amounts: the rows it returns would tell the amounts it withholds.
func checkAmountQuery(ctx context.Context, f OpportunityFilter) error {
	if authz.SeesAmounts(ctx) {
		return nil
	}
	if f.Sort == readmodel.SortAmount || f.Currency != "" || f.AmountMin != nil || f.AmountMax != nil {
		return &apperr.Error{Kind: apperr.PermissionDenied, Reason: ReasonAmountsWithheld,
			Message: "opportunity amounts are withheld from this caller: no amount filter or order"}
	}
	return nil
}

// opportunityInScope reports whether o exists and the caller may reach it.
func opportunityInScope(ctx context.Context, o opportunity.Opportunity) bool {
	return o.Exists() && scopeOf(ctx).AllowsOwner(o.OwnerID)
}

// contractInScope reports whether the caller may reach contract c: through its own owner, or
// through the owner of its opportunity, which ownerOf returns ("" when there is none).
func contractInScope(ctx context.Context, c contract.Contract, ownerOf func(oppID string) (string, error)) (bool, error) {
	s := scopeOf(ctx)
	if s.AllowsOwner(c.OwnerID) {
		return true, nil
	}
	if c.OpportunityID == "" {
		return false, nil
	}
	owner, err := ownerOf(c.OpportunityID)
	if err != nil {
		return false, err
	}
	return owner != "" && s.AllowsOwner(owner), nil
}

// loggedOwner is the owner of an opportunity as the log has it ("" when it does not exist):
// what commands decide with.
func (a *App) loggedOwner(ctx context.Context, tenant string) func(string) (string, error) {
	return func(id string) (string, error) {
		agg, err := a.d.Opportunities.Load(ctx, a.d.Opportunities.Ref(tenant, id))
		if err != nil {
			return "", err
		}
		return agg.State.OwnerID, nil
	}
}

// viewedOwner is the owner of an opportunity as the read model has it ("" when it does not
// have it): what reads answer with, as ListContracts' SQL does.
func (a *App) viewedOwner(ctx context.Context, tenant string) func(string) (string, error) {
	return func(id string) (string, error) {
		o, err := a.d.Views.GetOpportunity(ctx, tenant, id)
		if apperr.KindOf(err) == apperr.NotFound {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return o.OwnerID, nil
	}
}
