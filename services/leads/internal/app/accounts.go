package app

import (
	"context"
	"errors"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/accountmodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/uniqueness"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// Reasons of the AlreadyExists errors of duplicate accounts and contacts.
const (
	ReasonDuplicateAccount = "DUPLICATE_ACCOUNT"
	ReasonDuplicateContact = "DUPLICATE_CONTACT"
)

// Queries of the accounts and contacts read model.
type (
	AccountListQuery = accountmodel.AccountListQuery
	ContactListQuery = accountmodel.ContactListQuery
	RecordSearch     = accountmodel.SearchQuery
)

// AccountViews answers account and contact queries from their read model.
type AccountViews interface {
	// WaitFor returns once the read model has applied stream sequence seq.
	WaitFor(ctx context.Context, seq uint64) error
	GetAccount(ctx context.Context, tenant, id string) (account.Account, error)
	ListAccounts(ctx context.Context, q AccountListQuery) ([]account.Account, string, error)
	SearchAccounts(ctx context.Context, q RecordSearch) ([]account.Account, string, error)
	GetContact(ctx context.Context, tenant, id string) (contact.Contact, error)
	ListContacts(ctx context.Context, q ContactListQuery) ([]contact.Contact, string, error)
	SearchContacts(ctx context.Context, q RecordSearch) ([]contact.Contact, string, error)
}

// AccountResult is an account after a command and where the command left it.
type AccountResult struct {
	Account account.Account
	Result  eventstore.Result
}

// AccountDetail is an account with its contacts (by last name) and direct children (by name),
// up to MaxRelated of each.
type AccountDetail struct {
	Account  account.Account
	Contacts []contact.Contact
	Children []account.Account
}

// MaxRelated is how many contacts and child accounts GetAccount returns.
const MaxRelated = 1000

// LoadAccount returns the account from the event store (write side, always current); an
// account that does not exist is NotFound. It does not apply the row-level scope (a caller's
// request goes through loadVisibleAccount).
func (a *App) LoadAccount(ctx context.Context, tenant, id string) (account.Account, error) {
	if !account.ValidID(id) {
		return account.Account{}, apperr.InvalidFields("invalid account id", apperr.FieldViolation{Field: "account_id", Description: "must match [A-Za-z0-9_-]{1,64}"})
	}
	agg, err := a.d.Accounts.Load(ctx, a.d.Accounts.Ref(tenant, id))
	if err != nil {
		return account.Account{}, err
	}
	if !agg.State.Exists() {
		return account.Account{}, apperr.NotFoundf("account", id)
	}
	return agg.State, nil
}

func (a *App) accountExists(tenant string) func(context.Context, string) (bool, error) {
	return func(ctx context.Context, id string) (bool, error) {
		agg, err := a.d.Accounts.Load(ctx, a.d.Accounts.Ref(tenant, id))
		return agg.State.Exists(), err
	}
}

// ancestors walks up from parentID and returns the ids on the way, parentID first. A parent
// that does not exist is FailedPrecondition; the walk stops after account.MaxDepth steps (the
// decision rejects so deep a hierarchy) or at a cycle already stored.
func (a *App) ancestors(ctx context.Context, tenant, parentID, field string) ([]string, error) {
	var out []string
	id := parentID
	for id != "" && len(out) <= account.MaxDepth {
		agg, err := a.d.Accounts.Load(ctx, a.d.Accounts.Ref(tenant, id))
		if err != nil {
			return nil, err
		}
		if !agg.State.Exists() {
			if id == parentID {
				e := apperr.Precondition(account.ReasonParentNotFound, "parent account %s does not exist", id)
				e.Fields = []apperr.FieldViolation{{Field: field, Description: "no such account"}}
				return nil, e
			}
			break
		}
		out = append(out, id)
		id = agg.State.ParentAccountID
		for _, seen := range out {
			if seen == id {
				return out, nil
			}
		}
	}
	return out, nil
}

// accountClaimError turns a refused dedupe claim into the caller's error; an existing account
// out of the caller's scope is not named (the key is taken all the same).
func (a *App) accountClaimError(ctx context.Context, tenant string, err error) error {
	var taken *uniqueness.ErrTaken
	switch {
	case errors.As(err, &taken):
		existing := taken.LeadID
		if ok, err := a.visibleAccount(ctx, tenant, existing); err != nil || !ok {
			existing = ""
		}
		e := apperr.Exists("an account with this "+taken.Key+" exists", existing)
		e.Reason = ReasonDuplicateAccount
		return e
	case errors.Is(err, uniqueness.ErrBusy):
		return &apperr.Error{Kind: apperr.Conflict, Reason: "DUPLICATE_CHECK_BUSY", Message: "an account with this key is being created concurrently; retry"}
	}
	return err
}

// CreateAccount creates an account. cmd.ID may be set by the caller (conversion and import use
// deterministic ids, so a retry finds the account it created); otherwise a new id is drawn.
// Unless allowDuplicate is set, the account's dedupe key (normalised domain, else normalised
// name) is claimed before the event is appended; a taken key is AlreadyExists
// (DUPLICATE_ACCOUNT) naming the existing account. A parent that does not exist is
// FailedPrecondition.
func (a *App) CreateAccount(ctx context.Context, tenant string, cmd account.New, allowDuplicate bool, w Write) (AccountResult, error) {
	cfg, err := a.Config(ctx, tenant)
	if err != nil {
		return AccountResult{}, err
	}
	fresh := cmd.ID == ""
	if fresh {
		cmd.ID = a.d.NewID()
	}
	var key []string
	claimed := false
	acc, res, err := a.d.Accounts.Run(ctx, a.d.Accounts.Ref(tenant, cmd.ID),
		eventstore.Command{Name: "CreateAccount", New: fresh, IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion},
		func(s account.Account) ([]account.Event, error) {
			evs, err := account.Create(s, cmd, cfg.AccountPolicy(), a.now(ctx))
			if err != nil {
				return nil, err
			}
			created := evs[0].(account.AccountCreated).Account
			if created.ParentAccountID != "" {
				anc, err := a.ancestors(ctx, tenant, created.ParentAccountID, account.Field+account.PathParentAccountID)
				if err != nil {
					return nil, err
				}
				// The same bound UpdateDetails puts on a re-parenting.
				if len(anc) >= account.MaxDepth {
					return nil, apperr.Precondition(account.ReasonTooDeep, "an account hierarchy is at most %d levels deep", account.MaxDepth)
				}
			}
			if k := account.DedupeKey(created.Details); k != "" && !allowDuplicate && !claimed {
				key = []string{k}
				if err := a.d.AccountKeys.Claim(ctx, tenant, cmd.ID, key, a.accountExists(tenant)); err != nil {
					return nil, a.accountClaimError(ctx, tenant, err)
				}
				claimed = true
			}
			return evs, nil
		})
	if err != nil {
		if claimed && releasable(err, cmd.ID) {
			a.d.AccountKeys.Release(ctx, tenant, cmd.ID, key)
		}
		return AccountResult{}, err
	}
	return AccountResult{Account: acc, Result: res}, nil
}

// UpdateAccount changes the fields of cmd.Paths. A new parent must exist and must not make a
// cycle (FailedPrecondition). A changed domain or name moves the account's dedupe claim; an
// account created with allow_duplicate claims its key only when it changes.
func (a *App) UpdateAccount(ctx context.Context, tenant, id string, cmd account.Update, w Write) (AccountResult, error) {
	if !account.ValidID(id) {
		return AccountResult{}, apperr.InvalidFields("invalid account id", apperr.FieldViolation{Field: "account_id", Description: "must match [A-Za-z0-9_-]{1,64}"})
	}
	cfg, err := a.Config(ctx, tenant)
	if err != nil {
		return AccountResult{}, err
	}
	// The parents are walked before the command takes the account's lock: the walk may reach
	// the account itself (that is the cycle it looks for), and loading it under its own lock
	// would deadlock. A concurrent re-parenting elsewhere in the chain can slip between the
	// walk and the append; hierarchies change rarely, and readers stop at MaxDepth.
	var anc []string
	if parent := newParent(cmd); parent != "" && parent != id {
		if anc, err = a.ancestors(ctx, tenant, parent, account.Field+account.PathParentAccountID); err != nil {
			return AccountResult{}, err
		}
	}
	var newKeys, oldKeys []string
	claimed := false
	scope := authz.ScopeOf(ctx)
	acc, res, err := a.d.Accounts.Run(ctx, a.d.Accounts.Ref(tenant, id),
		// ExpectedVersion is checked in the decision, after the scope (eventstore.ExpectVersion).
		eventstore.Command{Name: "UpdateAccount", IdempotencyKey: w.IdempotencyKey},
		func(s account.Account) ([]account.Event, error) {
			if !accountInScope(scope, s) {
				return nil, apperr.NotFoundf("account", id)
			}
			if err := eventstore.ExpectVersion(s.Version, w.ExpectedVersion); err != nil {
				return nil, err
			}
			evs, err := account.UpdateDetails(s, cmd, cfg.AccountPolicy(), anc, a.now(ctx))
			if err != nil || len(evs) == 0 {
				return evs, err
			}
			after := account.ApplyAll(s, evs...)
			oldKeys, newKeys = keyOf(s.Details), keyOf(after.Details)
			newKeys = added(newKeys, oldKeys)
			if len(newKeys) > 0 && !claimed {
				if err := a.d.AccountKeys.Claim(ctx, tenant, id, newKeys, a.accountExists(tenant)); err != nil {
					return nil, a.accountClaimError(ctx, tenant, err)
				}
				claimed = true
			}
			oldKeys = added(oldKeys, keyOf(after.Details))
			return evs, nil
		})
	if err != nil {
		if claimed && notStored(err) {
			a.d.AccountKeys.Release(ctx, tenant, id, newKeys)
		}
		return AccountResult{}, err
	}
	if res.Replayed && !accountInScope(scope, acc) {
		// An idempotency key's stored outcome is not decided again: the account it returns
		// must still be the caller's to see.
		return AccountResult{}, apperr.NotFoundf("account", id)
	}
	a.d.AccountKeys.Release(ctx, tenant, id, oldKeys)
	return AccountResult{Account: acc, Result: res}, nil
}

// newParent returns the parent the update sets, "" when it sets none.
func newParent(cmd account.Update) string {
	for _, p := range cmd.Paths {
		if p == account.PathParentAccountID {
			return cmd.Details.ParentAccountID
		}
	}
	return ""
}

func keyOf(d account.Details) []string {
	if k := account.DedupeKey(d); k != "" {
		return []string{k}
	}
	return nil
}

// GetAccount returns an account from the read model with its contacts and child accounts, in
// the caller's row-level scope (an account out of it is NotFound, as a missing one).
func (a *App) GetAccount(ctx context.Context, tenant, id string, r Read) (AccountDetail, error) {
	if err := a.waitAccounts(ctx, r); err != nil {
		return AccountDetail{}, err
	}
	acc, err := a.d.AccountViews.GetAccount(ctx, tenant, id)
	if err == nil && !accountInScope(authz.ScopeOf(ctx), acc) {
		err = apperr.NotFoundf("account", id)
	}
	if err != nil {
		return AccountDetail{}, err
	}
	// The account's contacts and children are listed in the caller's scope too.
	scope := accountReadScope(ctx)
	contacts, _, err := a.d.AccountViews.ListContacts(ctx, ContactListQuery{Tenant: tenant, AccountID: id,
		OrderBy: accountmodel.ContactOrderLastName, PageSize: MaxRelated, Scope: scope})
	if err != nil {
		return AccountDetail{}, err
	}
	children, _, err := a.d.AccountViews.ListAccounts(ctx, AccountListQuery{Tenant: tenant, ParentAccountID: id,
		OrderBy: accountmodel.AccountOrderName, PageSize: MaxRelated, Scope: scope})
	if err != nil {
		return AccountDetail{}, err
	}
	return AccountDetail{Account: acc, Contacts: contacts, Children: children}, nil
}

// ListAccounts lists the accounts of the caller's row-level scope from the read model.
func (a *App) ListAccounts(ctx context.Context, q AccountListQuery, r Read) ([]account.Account, string, error) {
	if err := a.waitAccounts(ctx, r); err != nil {
		return nil, "", err
	}
	q.Scope = accountReadScope(ctx)
	return a.d.AccountViews.ListAccounts(ctx, q)
}

// SearchAccounts searches the accounts of the caller's row-level scope by name and domain in
// the read model.
func (a *App) SearchAccounts(ctx context.Context, q RecordSearch, r Read) ([]account.Account, string, error) {
	if err := a.waitAccounts(ctx, r); err != nil {
		return nil, "", err
	}
	q.Scope = accountReadScope(ctx)
	return a.d.AccountViews.SearchAccounts(ctx, q)
}

func (a *App) waitAccounts(ctx context.Context, r Read) error {
	if r.MinSequence == 0 {
		return nil
	}
	return a.d.AccountViews.WaitFor(ctx, r.MinSequence)
}
