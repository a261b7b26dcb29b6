package app

import (
	"context"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/accountmodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// Row-level rules for accounts and contacts (libs/platform/authz.Scope, as for leads in
// scope.go): a caller sees and changes the accounts owned by a user of its scope or in one of
// its territories, and the contacts owned by a user of its scope (contacts carry no territory,
// so a rep's territories widen nothing there).
//
// Unowned accounts and contacts (owner_id empty) are in every caller's scope: many CRMs treat
// accounts and their people as shared by the sales organisation until someone owns them, and
// the imports and vCards that create most of them set no owner. (A lead is different: an
// unowned lead is in scope only through its territory, because assignment gives every lead an
// owner and an unowned one is waiting for it.)
//
// Queries filter in the read model's SQL (accountReadScope); commands check the record as the
// command handler loaded it from the log (accountInScope, contactInScope). A record out of
// scope is answered exactly as a missing one (apperr.NotFoundf("account"|"contact", id)), and
// a command on it appends nothing. Creating is not scoped, and neither is linking (a contact's
// account_id, an account's parent_account_id): those check only that the account exists, so
// that a conversion can link the contact to the account it just created for another owner.

// accountReadScope is the read model filter of the caller's scope; nil when it sees every
// account and contact.
func accountReadScope(ctx context.Context) *accountmodel.Scope {
	s := authz.ScopeOf(ctx)
	if s.All {
		return nil
	}
	return &accountmodel.Scope{Owners: s.Owners, Territories: s.Territories}
}

// accountInScope reports whether the caller may see and change acc (an account that exists).
func accountInScope(s authz.Scope, acc account.Account) bool {
	return acc.Exists() && !s.Empty() && (acc.OwnerID == "" || s.Allows(acc.OwnerID, acc.TerritoryID))
}

// contactInScope reports whether the caller may see and change c (a contact that exists).
func contactInScope(s authz.Scope, c contact.Contact) bool {
	return c.Exists() && !s.Empty() && (c.OwnerID == "" || s.Allows(c.OwnerID, ""))
}

// visibleAccount reports whether the caller may see account id, from the log. Callers who see
// everything cost no load.
func (a *App) visibleAccount(ctx context.Context, tenant, id string) (bool, error) {
	s := authz.ScopeOf(ctx)
	if s.All {
		return true, nil
	}
	agg, err := a.d.Accounts.Load(ctx, a.d.Accounts.Ref(tenant, id))
	if err != nil {
		return false, err
	}
	return accountInScope(s, agg.State), nil
}

// visibleContact is visibleAccount for a contact.
func (a *App) visibleContact(ctx context.Context, tenant, id string) (bool, error) {
	s := authz.ScopeOf(ctx)
	if s.All {
		return true, nil
	}
	agg, err := a.d.Contacts.Load(ctx, a.d.Contacts.Ref(tenant, id))
	if err != nil {
		return false, err
	}
	return contactInScope(s, agg.State), nil
}

// hiddenAccount reports whether account id exists but is out of the caller's scope (an import's
// dry run also meets ids of its own earlier rows, which do not exist and are the caller's).
func (a *App) hiddenAccount(ctx context.Context, tenant, id string) (bool, error) {
	s := authz.ScopeOf(ctx)
	if s.All {
		return false, nil
	}
	agg, err := a.d.Accounts.Load(ctx, a.d.Accounts.Ref(tenant, id))
	return agg.State.Exists() && !accountInScope(s, agg.State), err
}

// hiddenContact is hiddenAccount for a contact.
func (a *App) hiddenContact(ctx context.Context, tenant, id string) (bool, error) {
	s := authz.ScopeOf(ctx)
	if s.All {
		return false, nil
	}
	agg, err := a.d.Contacts.Load(ctx, a.d.Contacts.Ref(tenant, id))
	return agg.State.Exists() && !contactInScope(s, agg.State), err
}

// visibleRecord is visibleLead, visibleAccount or visibleContact by the record's type; other
// records (opportunities, the pipeline's) are taken as visible.
func (a *App) visibleRecord(ctx context.Context, tenant string, r activity.RecordRef) (bool, error) {
	switch r.Type {
	case activity.RecordLead:
		return a.visibleLead(ctx, tenant, r.ID)
	case activity.RecordAccount:
		return a.visibleAccount(ctx, tenant, r.ID)
	case activity.RecordContact:
		return a.visibleContact(ctx, tenant, r.ID)
	}
	return true, nil
}

// existingVisibleRecord reports whether the lead, account or contact r exists and is in the
// caller's scope, from the log: for a caller who sees everything one direct get of its last
// event, else the load visibleRecord makes (which checks that it exists).
func (a *App) existingVisibleRecord(ctx context.Context, tenant string, r activity.RecordRef) (bool, error) {
	if authz.ScopeOf(ctx).All {
		_, ok, err := a.d.Activity.Records.Last(ctx, eventstore.Ref{Tenant: tenant, Type: r.Type.AggregateType(), ID: r.ID})
		return ok, err
	}
	return a.visibleRecord(ctx, tenant, r)
}

// loadVisibleAccount is LoadAccount in the caller's scope: an account out of it is NotFound,
// the same answer as for a missing one.
func (a *App) loadVisibleAccount(ctx context.Context, tenant, id string) (account.Account, error) {
	acc, err := a.LoadAccount(ctx, tenant, id)
	if err == nil && !accountInScope(authz.ScopeOf(ctx), acc) {
		return account.Account{}, apperr.NotFoundf("account", id)
	}
	return acc, err
}

// loadVisibleContact is LoadContact in the caller's scope.
func (a *App) loadVisibleContact(ctx context.Context, tenant, id string) (contact.Contact, error) {
	c, err := a.LoadContact(ctx, tenant, id)
	if err == nil && !contactInScope(authz.ScopeOf(ctx), c) {
		return contact.Contact{}, apperr.NotFoundf("contact", id)
	}
	return c, err
}
