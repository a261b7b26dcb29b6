package readmodel

import (
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

// Scope is the row-level part of a query: the owners whose opportunities (and the quotes and
// contracts that hang off them) the caller may read. The read model sits below authorization,
// so the zero Scope restricts nothing; the application sets it on every query from the
// caller's token (app.scopeOf), whatever the request carried.
//
// Opportunities carry no territory, so a caller's territories widen nothing here: an
// opportunity is in scope through its owner alone.
type Scope struct {
	// Restricted turns the filter on; with no Owners it then matches nothing.
	Restricted bool
	// Owners are the user ids whose records are in scope.
	Owners []string
}

// AllowsOwner reports whether a record of owner is in scope. An unowned record is in scope
// only for an unrestricted caller.
func (s Scope) AllowsOwner(owner string) bool {
	if !s.Restricted {
		return true
	}
	for _, o := range s.Owners {
		if o != "" && o == owner {
			return true
		}
	}
	return false
}

// ownedBy adds the scope's condition on the owner column col. The owners are bound
// parameters, never spliced into the SQL.
func (s Scope) ownedBy(w *where, col string) {
	if !s.Restricted {
		return
	}
	if len(s.Owners) == 0 {
		// Owners are never NULL: nothing matches. (A constant false would leave the forecast's
		// INDEXED BY without a plan.)
		w.add(col + " IS NULL")
		return
	}
	in(w, col, s.Owners)
}

// contractIn adds the scope's condition on a contract row c: its own owner, or the current
// owner of the opportunity it follows (opportunities_by_id finds that one row).
func (s Scope) contractIn(w *where) {
	if !s.Restricted {
		return
	}
	if len(s.Owners) == 0 {
		w.add("c.owner_id IS NULL")
		return
	}
	marks := placeholders(len(s.Owners))
	args := make([]any, 0, 2*len(s.Owners))
	for range 2 {
		for _, o := range s.Owners {
			args = append(args, o)
		}
	}
	w.add("(c.owner_id IN ("+marks+") OR EXISTS (SELECT 1 FROM opportunities so WHERE so.tenant = c.tenant"+
		" AND so.id = c.opportunity_id AND so.owner_id IN ("+marks+")))", args...)
}

// OpportunityNotFound is GetOpportunity's answer for an opportunity that does not exist; the
// application gives the same answer for one out of the caller's scope, so the two cannot be
// told apart.
func OpportunityNotFound(id string) error {
	return &apperr.Error{Kind: apperr.NotFound, Reason: opportunity.ReasonNotFound,
		Message: fmt.Sprintf("opportunity %q not found", id)}
}

// ContractNotFound is GetContract's answer for a contract that does not exist (or is out of
// the caller's scope).
func ContractNotFound(id string) error {
	return &apperr.Error{Kind: apperr.NotFound, Reason: contract.ReasonNotFound,
		Message: fmt.Sprintf("contract %q not found", id)}
}
