package app

import (
	"context"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/evcrm/evcrm/services/leads/internal/domain/dedupe"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// DataKeys destroys people's data keys (libs/pii.KeyStore): erasing a person is destroying
// their key, the rest is bookkeeping.
type DataKeys interface {
	Destroy(ctx context.Context, tenant, subject string) error
}

// PersonKind says whether ErasePerson names a lead or a contact.
type PersonKind int

// The kinds of people ErasePerson erases.
const (
	PersonLead PersonKind = iota + 1
	PersonContact
)

// ErasePerson is the ErasePerson command.
type ErasePerson struct {
	Kind PersonKind
	ID   string
	// Reason is free text without personal data, kept in the erasure event.
	Reason string
}

// EraseResult is where an erasure left the record.
type EraseResult struct {
	Result eventstore.Result
	// AlreadyErased is true when the person had been erased before.
	AlreadyErased bool
}

// ErasePerson erases a lead or a contact by crypto-shredding (docs/security.md "Erasure"):
//
//  1. the uniqueness claims of the person's email and phone are released (they are hashes of
//     personal data, and the erased record must not block a new record of that address);
//  2. the person's data key is destroyed: from now on none of their events' personal fields
//     decrypts anywhere, and no event with personal data about them can be appended (the
//     event store's Seal refuses: PERSON_ERASED);
//  3. LeadErased / ContactErased is appended; read models fold it into "[erased]" markers.
//
// The key goes before the event is appended so that the log never says "erased" while the
// key still exists. Each step is idempotent: a call that fails midway is retried as a whole,
// and erasing an erased person appends nothing.
func (a *App) ErasePerson(ctx context.Context, tenant string, cmd ErasePerson, w Write) (EraseResult, error) {
	if a.d.DataKeys == nil {
		return EraseResult{}, apperr.New(apperr.FailedPrecondition, "erasure is not configured on this service")
	}
	if !lead.ValidID(cmd.ID) {
		field := "lead_id"
		if cmd.Kind == PersonContact {
			field = "contact_id"
		}
		return EraseResult{}, apperr.InvalidFields("invalid erasure", apperr.FieldViolation{Field: field, Description: "must match [A-Za-z0-9_-]{1,64}"})
	}
	if len(cmd.Reason) > lead.MaxEraseReasonLen {
		return EraseResult{}, apperr.InvalidFields("invalid erasure", apperr.FieldViolation{Field: "reason", Description: "at most 200 bytes"})
	}
	switch cmd.Kind {
	case PersonLead:
		return a.eraseLead(ctx, tenant, cmd, w)
	case PersonContact:
		return a.eraseContact(ctx, tenant, cmd, w)
	}
	return EraseResult{}, apperr.InvalidFields("invalid erasure", apperr.FieldViolation{Field: "person", Description: "name a lead_id or a contact_id"})
}

func (a *App) eraseLead(ctx context.Context, tenant string, cmd ErasePerson, w Write) (EraseResult, error) {
	ref := a.d.Leads.Ref(tenant, cmd.ID)
	agg, err := a.d.Leads.Load(ctx, ref)
	if err != nil {
		return EraseResult{}, err
	}
	if !agg.State.Exists() {
		return EraseResult{}, apperr.NotFoundf("lead", cmd.ID)
	}
	if !agg.State.Erased {
		a.d.Keys.Release(ctx, tenant, cmd.ID, dedupe.Keys(agg.State.Email, agg.State.Phone))
	}
	if err := a.d.DataKeys.Destroy(ctx, tenant, cmd.ID); err != nil {
		return EraseResult{}, err
	}
	already := agg.State.Erased
	res, err := a.run(ctx, ref, eventstore.Command{Name: "ErasePerson"}, w, func(l lead.Lead, now time.Time) ([]lead.Event, error) {
		already = l.Erased
		return lead.Erase(l, cmd.Reason, now)
	})
	if err != nil {
		return EraseResult{}, err
	}
	return EraseResult{Result: res.Result, AlreadyErased: already}, nil
}

func (a *App) eraseContact(ctx context.Context, tenant string, cmd ErasePerson, w Write) (EraseResult, error) {
	ref := a.d.Contacts.Ref(tenant, cmd.ID)
	agg, err := a.d.Contacts.Load(ctx, ref)
	if err != nil {
		return EraseResult{}, err
	}
	if !agg.State.Exists() {
		return EraseResult{}, apperr.NotFoundf("contact", cmd.ID)
	}
	if !agg.State.Erased {
		a.d.ContactKeys.Release(ctx, tenant, cmd.ID, contact.DedupeKeys(agg.State.Details))
	}
	if err := a.d.DataKeys.Destroy(ctx, tenant, cmd.ID); err != nil {
		return EraseResult{}, err
	}
	already := agg.State.Erased
	ecmd := eventstore.Command{Name: "ErasePerson", IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion}
	_, res, err := a.d.Contacts.Run(ctx, ref, ecmd, func(c contact.Contact) ([]contact.Event, error) {
		already = c.Erased
		return contact.Erase(c, cmd.Reason, a.now(ctx))
	})
	if err != nil {
		return EraseResult{}, err
	}
	return EraseResult{Result: res, AlreadyErased: already}, nil
}
