package app

import (
	"context"
	"errors"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/uniqueness"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// ReasonAccountNotFound is the FailedPrecondition reason of a contact linked to an account
// that does not exist.
const ReasonAccountNotFound = "ACCOUNT_NOT_FOUND"

// ContactResult is a contact after a command and where the command left it.
type ContactResult struct {
	Contact contact.Contact
	Result  eventstore.Result
}

// LoadContact returns the contact from the event store (write side, always current); a
// contact that does not exist is NotFound. It does not apply the row-level scope (a caller's
// request goes through loadVisibleContact).
func (a *App) LoadContact(ctx context.Context, tenant, id string) (contact.Contact, error) {
	if !contact.ValidID(id) {
		return contact.Contact{}, apperr.InvalidFields("invalid contact id", apperr.FieldViolation{Field: "contact_id", Description: "must match [A-Za-z0-9_-]{1,64}"})
	}
	agg, err := a.d.Contacts.Load(ctx, a.d.Contacts.Ref(tenant, id))
	if err != nil {
		return contact.Contact{}, err
	}
	if !agg.State.Exists() {
		return contact.Contact{}, apperr.NotFoundf("contact", id)
	}
	return agg.State, nil
}

func (a *App) contactExists(tenant string) func(context.Context, string) (bool, error) {
	return func(ctx context.Context, id string) (bool, error) {
		agg, err := a.d.Contacts.Load(ctx, a.d.Contacts.Ref(tenant, id))
		return agg.State.Exists(), err
	}
}

// requireAccount fails with FailedPrecondition when the account a contact links to does not
// exist.
func (a *App) requireAccount(ctx context.Context, tenant, id string) error {
	ok, err := a.accountExists(tenant)(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		e := apperr.Precondition(ReasonAccountNotFound, "account %s does not exist", id)
		e.Fields = []apperr.FieldViolation{{Field: contact.Field + contact.PathAccountID, Description: "no such account"}}
		return e
	}
	return nil
}

// contactClaimError turns a refused dedupe claim into the caller's error; an existing contact
// out of the caller's scope is not named (the email is taken all the same).
func (a *App) contactClaimError(ctx context.Context, tenant string, err error) error {
	var taken *uniqueness.ErrTaken
	switch {
	case errors.As(err, &taken):
		existing := taken.LeadID
		if ok, err := a.visibleContact(ctx, tenant, existing); err != nil || !ok {
			existing = ""
		}
		e := apperr.Exists("a contact with this "+taken.Key+" exists", existing)
		e.Reason = ReasonDuplicateContact
		return e
	case errors.Is(err, uniqueness.ErrBusy):
		return &apperr.Error{Kind: apperr.Conflict, Reason: "DUPLICATE_CHECK_BUSY", Message: "a contact with this email is being created concurrently; retry"}
	}
	return err
}

// CreateContact creates a contact. cmd.ID may be set by the caller (conversion and import use
// deterministic ids); otherwise a new id is drawn. Unless allowDuplicate is set, the normalised
// email is claimed before the event is appended; a taken email is AlreadyExists
// (DUPLICATE_CONTACT) naming the existing contact. An account_id that does not exist is
// FailedPrecondition (ACCOUNT_NOT_FOUND).
func (a *App) CreateContact(ctx context.Context, tenant string, cmd contact.New, allowDuplicate bool, w Write) (ContactResult, error) {
	cfg, err := a.Config(ctx, tenant)
	if err != nil {
		return ContactResult{}, err
	}
	fresh := cmd.ID == ""
	if fresh {
		cmd.ID = a.d.NewID()
	}
	var keys []string
	claimed := false
	c, res, err := a.d.Contacts.Run(ctx, a.d.Contacts.Ref(tenant, cmd.ID),
		eventstore.Command{Name: "CreateContact", New: fresh, IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion},
		func(s contact.Contact) ([]contact.Event, error) {
			evs, err := contact.Create(s, cmd, cfg.ContactPolicy(), a.now(ctx))
			if err != nil {
				return nil, err
			}
			created := evs[0].(contact.ContactCreated).Contact
			if created.AccountID != "" {
				if err := a.requireAccount(ctx, tenant, created.AccountID); err != nil {
					return nil, err
				}
			}
			if !allowDuplicate && !claimed {
				if keys = contact.DedupeKeys(created.Details); len(keys) > 0 {
					if err := a.d.ContactKeys.Claim(ctx, tenant, cmd.ID, keys, a.contactExists(tenant)); err != nil {
						return nil, a.contactClaimError(ctx, tenant, err)
					}
					claimed = true
				}
			}
			return evs, nil
		})
	if err != nil {
		if claimed && releasable(err, cmd.ID) {
			a.d.ContactKeys.Release(ctx, tenant, cmd.ID, keys)
		}
		return ContactResult{}, err
	}
	return ContactResult{Contact: c, Result: res}, nil
}

// UpdateContact changes the fields of cmd.Paths. A new account_id must exist
// (FailedPrecondition); a changed email moves the contact's uniqueness claim.
func (a *App) UpdateContact(ctx context.Context, tenant, id string, cmd contact.Update, w Write) (ContactResult, error) {
	if !contact.ValidID(id) {
		return ContactResult{}, apperr.InvalidFields("invalid contact id", apperr.FieldViolation{Field: "contact_id", Description: "must match [A-Za-z0-9_-]{1,64}"})
	}
	cfg, err := a.Config(ctx, tenant)
	if err != nil {
		return ContactResult{}, err
	}
	var newKeys, oldKeys []string
	claimed := false
	scope := authz.ScopeOf(ctx)
	c, res, err := a.d.Contacts.Run(ctx, a.d.Contacts.Ref(tenant, id),
		// ExpectedVersion is checked in the decision, after the scope (eventstore.ExpectVersion).
		eventstore.Command{Name: "UpdateContact", IdempotencyKey: w.IdempotencyKey},
		func(s contact.Contact) ([]contact.Event, error) {
			if !contactInScope(scope, s) {
				return nil, apperr.NotFoundf("contact", id)
			}
			if err := eventstore.ExpectVersion(s.Version, w.ExpectedVersion); err != nil {
				return nil, err
			}
			evs, err := contact.UpdateDetails(s, cmd, cfg.ContactPolicy(), a.now(ctx))
			if err != nil || len(evs) == 0 {
				return evs, err
			}
			after := contact.ApplyAll(s, evs...)
			if after.AccountID != "" && after.AccountID != s.AccountID {
				if err := a.requireAccount(ctx, tenant, after.AccountID); err != nil {
					return nil, err
				}
			}
			oldKeys = contact.DedupeKeys(s.Details)
			newKeys = added(contact.DedupeKeys(after.Details), oldKeys)
			if len(newKeys) > 0 && !claimed {
				if err := a.d.ContactKeys.Claim(ctx, tenant, id, newKeys, a.contactExists(tenant)); err != nil {
					return nil, a.contactClaimError(ctx, tenant, err)
				}
				claimed = true
			}
			oldKeys = added(oldKeys, contact.DedupeKeys(after.Details))
			return evs, nil
		})
	if err != nil {
		if claimed && notStored(err) {
			a.d.ContactKeys.Release(ctx, tenant, id, newKeys)
		}
		return ContactResult{}, err
	}
	if res.Replayed && !contactInScope(scope, c) {
		// As for accounts: a stored outcome must still be the caller's to see.
		return ContactResult{}, apperr.NotFoundf("contact", id)
	}
	a.d.ContactKeys.Release(ctx, tenant, id, oldKeys)
	return ContactResult{Contact: c, Result: res}, nil
}

// GetContact returns one contact from the read model; a contact out of the caller's row-level
// scope is NotFound, as a missing one.
func (a *App) GetContact(ctx context.Context, tenant, id string, r Read) (contact.Contact, error) {
	if err := a.waitAccounts(ctx, r); err != nil {
		return contact.Contact{}, err
	}
	c, err := a.d.AccountViews.GetContact(ctx, tenant, id)
	if err == nil && !contactInScope(authz.ScopeOf(ctx), c) {
		return contact.Contact{}, apperr.NotFoundf("contact", id)
	}
	return c, err
}

// ListContacts lists the contacts of the caller's row-level scope from the read model.
func (a *App) ListContacts(ctx context.Context, q ContactListQuery, r Read) ([]contact.Contact, string, error) {
	if err := a.waitAccounts(ctx, r); err != nil {
		return nil, "", err
	}
	q.Scope = accountReadScope(ctx)
	return a.d.AccountViews.ListContacts(ctx, q)
}

// SearchContacts searches the contacts of the caller's row-level scope by names, email and job
// title in the read model.
func (a *App) SearchContacts(ctx context.Context, q RecordSearch, r Read) ([]contact.Contact, string, error) {
	if err := a.waitAccounts(ctx, r); err != nil {
		return nil, "", err
	}
	q.Scope = accountReadScope(ctx)
	return a.d.AccountViews.SearchContacts(ctx, q)
}
