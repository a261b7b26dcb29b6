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
	// LeadIDs and ContactIDs are the other records of the same person erased with it.
	LeadIDs, ContactIDs []string
}

// maxLinkedRecords bounds the records one ErasePerson follows (a person with more duplicates
// than that is an import gone wrong; the call fails and names the limit).
const maxLinkedRecords = 100

// person names a lead or a contact.
type person struct {
	kind PersonKind
	id   string
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
//
// The same person's other records are erased first, the one named last, so a call that fails
// midway leaves the named record unerased and its retry finds them all again: the contact a
// lead was converted into, the leads merged into a lead and the one it was merged into, and
// the lead a contact was converted from, followed transitively (at most maxLinkedRecords).
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
	if cmd.Kind != PersonLead && cmd.Kind != PersonContact {
		return EraseResult{}, apperr.InvalidFields("invalid erasure", apperr.FieldViolation{Field: "person", Description: "name a lead_id or a contact_id"})
	}
	named := person{cmd.Kind, cmd.ID}
	linked, err := a.linkedPeople(ctx, tenant, named)
	if err != nil {
		return EraseResult{}, err
	}
	var leads, contacts []string
	for _, p := range linked {
		// Each linked record as its own command: no idempotency key or expected version, which
		// belong to the named record; erasing is idempotent by the record's state.
		if _, err := a.eraseOne(ctx, tenant, p, cmd.Reason, Write{}); err != nil {
			return EraseResult{}, err
		}
		if p.kind == PersonLead {
			leads = append(leads, p.id)
		} else {
			contacts = append(contacts, p.id)
		}
	}
	res, err := a.eraseOne(ctx, tenant, named, cmd.Reason, w)
	res.LeadIDs, res.ContactIDs = leads, contacts
	return res, err
}

func (a *App) eraseOne(ctx context.Context, tenant string, p person, reason string, w Write) (EraseResult, error) {
	cmd := ErasePerson{Kind: p.kind, ID: p.id, Reason: reason}
	if p.kind == PersonLead {
		return a.eraseLead(ctx, tenant, cmd, w)
	}
	return a.eraseContact(ctx, tenant, cmd, w)
}

// linkedPeople returns the records of the same person as named, other than named, found by
// following conversions and merges from the records' current states. The named record must
// exist (NOT_FOUND otherwise); a link to a record that does not exist is skipped.
func (a *App) linkedPeople(ctx context.Context, tenant string, named person) ([]person, error) {
	seen := map[person]bool{named: true}
	queue := []person{named}
	var out []person
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		next, exists, err := a.personLinks(ctx, tenant, p)
		if err != nil {
			return nil, err
		}
		if !exists {
			if p == named {
				return nil, apperr.NotFoundf(map[PersonKind]string{PersonLead: "lead", PersonContact: "contact"}[p.kind], p.id)
			}
			continue
		}
		if p != named {
			out = append(out, p)
		}
		for _, n := range next {
			if n.id == "" || seen[n] {
				continue
			}
			if len(seen) > maxLinkedRecords {
				return nil, apperr.New(apperr.FailedPrecondition, "the person has more than %d linked records; erase them in parts", maxLinkedRecords)
			}
			seen[n] = true
			queue = append(queue, n)
		}
	}
	return out, nil
}

// personLinks loads p and returns the records its state links to as the same person.
func (a *App) personLinks(ctx context.Context, tenant string, p person) ([]person, bool, error) {
	if p.kind == PersonLead {
		agg, err := a.d.Leads.Load(ctx, a.d.Leads.Ref(tenant, p.id))
		if err != nil || !agg.State.Exists() {
			return nil, false, err
		}
		links := []person{{PersonContact, agg.State.Converted.ContactID}, {PersonLead, agg.State.MergedIntoID}}
		for _, id := range agg.State.MergedFromIDs {
			links = append(links, person{PersonLead, id})
		}
		return links, true, nil
	}
	agg, err := a.d.Contacts.Load(ctx, a.d.Contacts.Ref(tenant, p.id))
	if err != nil || !agg.State.Exists() {
		return nil, false, err
	}
	return []person{{PersonLead, agg.State.SourceLeadID}}, true, nil
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
