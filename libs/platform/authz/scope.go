package authz

import (
	"context"
	"slices"

	"github.com/evcrm/evcrm/libs/reqctx"
)

// Scope is the row-level part of authorization: which of a tenant's owned records (leads,
// opportunities) a caller may read and change. The per-RPC check ([Authorize]) runs first; a
// record out of scope is then answered as if it did not exist (NOT_FOUND), and lists, searches
// and exports leave it out, so a denial never tells that the record exists.
//
// The rules (docs/security.md "Row-level rules"):
//   - admin, marketing, integration, analyst, operator, services and the system see every record
//     of the tenant (marketing nurtures every lead; what it may not see of an opportunity is its
//     amounts, [SeesAmounts]);
//   - a sales manager sees their own records, their team's (the token's team claim: user ids)
//     and their territories'; a manager token without a team claim oversees the whole tenant
//     (a sales organisation with no hierarchy in its identity provider);
//   - a sales rep sees the records they own and those of their territories (the token's
//     territories claim), unowned ones included.
//
// A caller with several roles gets the widest of them.
type Scope struct {
	// All is true when nothing is filtered out.
	All bool
	// Owners are the user ids whose records are in scope.
	Owners []string
	// Territories are the territory ids whose records are in scope.
	Territories []string
}

// ScopeOf returns the scope of the actor of ctx. Without an actor the scope is empty (nothing).
func ScopeOf(ctx context.Context) Scope {
	a := reqctx.ActorFrom(ctx)
	if a.Type == reqctx.ActorService || a.Type == reqctx.ActorSystem {
		return Scope{All: true}
	}
	if a.ID == "" {
		return Scope{}
	}
	s := Scope{}
	rep, manager := false, false
	for _, r := range a.Roles {
		switch r {
		case SalesRep:
			rep = true
		case SalesManager:
			manager = true
		case Admin, Marketing, Integration, Analyst, Operator, Service:
			return Scope{All: true}
		}
		// A role evcrm does not know (an identity provider's "employee") widens nothing.
	}
	switch {
	case manager && a.Team == nil:
		return Scope{All: true}
	case manager:
		s.Owners = append([]string{a.ID}, a.Team...)
	case rep:
		s.Owners = []string{a.ID}
	default:
		return Scope{}
	}
	s.Owners = compact(s.Owners)
	s.Territories = compact(slices.Clone(a.Territories))
	return s
}

// Allows reports whether a record owned by owner in territory is in scope. An unowned record
// ("") is in scope only through its territory.
func (s Scope) Allows(owner, territory string) bool {
	if s.All {
		return true
	}
	return (owner != "" && slices.Contains(s.Owners, owner)) ||
		(territory != "" && slices.Contains(s.Territories, territory))
}

// Empty reports whether the scope holds no record at all.
func (s Scope) Empty() bool {
	return !s.All && len(s.Owners) == 0 && len(s.Territories) == 0
}

// SeesAmounts reports whether the actor of ctx may see the amounts of opportunities, quotes and
// contracts: every role that reads them except marketing (which reads opportunities for
// campaign attribution, with amounts withheld). A caller with marketing and a sales role sees
// them.
func SeesAmounts(ctx context.Context) bool {
	a := reqctx.ActorFrom(ctx)
	if a.Type == reqctx.ActorService || a.Type == reqctx.ActorSystem {
		return true
	}
	for _, r := range a.Roles {
		if r != Marketing && slices.Contains(Roles, r) {
			return true
		}
	}
	return false
}

func compact(s []string) []string {
	s = slices.DeleteFunc(s, func(v string) bool { return v == "" })
	slices.Sort(s)
	return slices.Compact(s)
}
