package app

import (
	"context"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// Row-level rules for leads (libs/platform/authz.Scope): a caller sees and changes only the
// leads its scope allows. Queries filter in the read model's SQL (readScope); commands check the
// lead's state as the command handler loaded it from the log (inScope), so a stale read model
// never widens what a command may change. A lead out of scope is answered exactly as a missing
// one (apperr.NotFoundf("lead", id)), and a command on it appends nothing.
//
// Reactions, sagas and imports run as the leads service or the calling user: the reactions put
// a service actor in their context (reactions.asService), whose scope is everything.

// readScope is the read model filter of the caller's scope; nil when it sees every lead.
func readScope(ctx context.Context) *readmodel.Scope {
	s := authz.ScopeOf(ctx)
	if s.All {
		return nil
	}
	return &readmodel.Scope{Owners: s.Owners, Territories: s.Territories}
}

// inScope reports whether the caller may see and change l (a lead that exists).
func inScope(s authz.Scope, l lead.Lead) bool {
	return l.Exists() && s.Allows(l.OwnerID, l.TerritoryID)
}

// leadNotFound is the one answer for a lead that does not exist or is out of scope.
func leadNotFound(id string) error { return apperr.NotFoundf("lead", id) }

// visibleLead reports whether the caller may see lead id, from the log (not the read model, so
// a lead created a moment ago counts). Callers who see everything cost no load.
func (a *App) visibleLead(ctx context.Context, tenant, id string) (bool, error) {
	s := authz.ScopeOf(ctx)
	if s.All {
		return true, nil
	}
	agg, err := a.d.Leads.Load(ctx, a.d.Leads.Ref(tenant, id))
	if err != nil {
		return false, err
	}
	return inScope(s, agg.State), nil
}
