// Package accountview keeps the accounts and contacts read model (adapters/accountmodel) up to
// date from the account and contact subjects of CRM_LEADS, and answers the application's
// queries from it. The projector folds each record's events with the domain's own Apply, so a
// row holds the aggregate's state; the checkpoint is written with the rows.
package accountview

import (
	"context"
	"errors"
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/accountmodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// Stream is the stream the view is built from.
const Stream = "CRM_LEADS"

// Subjects are the filter subjects of the view's consumer.
var Subjects = []string{"crm.*." + account.AggregateType + ".>", "crm.*." + contact.AggregateType + ".>"}

// View is both the projector (a projection.CheckpointHandler) and the query side.
type View struct {
	projection.ReadWaiter
	store    *accountmodel.Store
	accounts eventstore.Codec[account.Event]
	contacts eventstore.Codec[contact.Event]
}

// New returns the view over store.
func New(store *accountmodel.Store, accounts eventstore.Codec[account.Event], contacts eventstore.Codec[contact.Event]) *View {
	return &View{store: store, accounts: accounts, contacts: contacts, ReadWaiter: projection.NewReadWaiter(store, Stream)}
}

// Checkpoint is the last applied sequence per stream, stored with the rows.
func (v *View) Checkpoint(ctx context.Context) (map[string]uint64, error) {
	return v.store.Checkpoint(ctx)
}

type key struct{ tenant, id string }

// Handle folds a batch of account and contact events into the rows they touch and stores them
// with the batch's last sequence in one transaction. An event that does not decode is poison:
// it is dead-lettered and its record's row stays as it was.
func (v *View) Handle(ctx context.Context, events []projection.Event) error {
	if len(events) == 0 {
		return nil
	}
	accs := map[key]accountmodel.AccountRow{}
	cons := map[key]accountmodel.ContactRow{}
	var accOrder, conOrder []key
	var poison []error
	for _, e := range events {
		env := e.Envelope
		k := key{env.GetTenantId(), env.GetAggregateId()}
		rec := eventstore.Recorded{Envelope: env, Subject: e.Subject, Stream: e.Stream, Sequence: e.Sequence, Stored: e.Stored}
		switch env.GetAggregateType() {
		case account.AggregateType:
			ev, err := v.accounts.Decode(rec)
			if err != nil {
				poison = append(poison, projection.Poison(e, "decode account event: "+err.Error()))
				continue
			}
			row, ok := accs[k]
			if !ok {
				row = accountmodel.AccountRow{Tenant: k.tenant}
				if env.GetAggregateVersion() != 1 {
					a, err := v.store.GetAccount(ctx, k.tenant, k.id)
					if err != nil && apperr.KindOf(err) != apperr.NotFound {
						return err
					}
					row.Account = a
				}
				accOrder = append(accOrder, k)
			}
			if env.GetAggregateVersion() <= row.Account.Version {
				accs[k] = row
				continue // already applied (a replayed batch)
			}
			row.Account, row.Seq = account.Apply(row.Account, ev), e.Sequence
			accs[k] = row
		case contact.AggregateType:
			ev, err := v.contacts.Decode(rec)
			if err != nil {
				poison = append(poison, projection.Poison(e, "decode contact event: "+err.Error()))
				continue
			}
			row, ok := cons[k]
			if !ok {
				row = accountmodel.ContactRow{Tenant: k.tenant}
				if env.GetAggregateVersion() != 1 {
					c, err := v.store.GetContact(ctx, k.tenant, k.id)
					if err != nil && apperr.KindOf(err) != apperr.NotFound {
						return err
					}
					row.Contact = c
				}
				conOrder = append(conOrder, k)
			}
			if env.GetAggregateVersion() <= row.Contact.Version {
				cons[k] = row
				continue
			}
			row.Contact, row.Seq = contact.Apply(row.Contact, ev), e.Sequence
			cons[k] = row
		}
	}
	var accRows []accountmodel.AccountRow
	for _, k := range accOrder {
		if r := accs[k]; r.Account.Exists() && r.Seq > 0 {
			accRows = append(accRows, r)
		}
	}
	var conRows []accountmodel.ContactRow
	for _, k := range conOrder {
		if r := cons[k]; r.Contact.Exists() && r.Seq > 0 {
			conRows = append(conRows, r)
		}
	}
	if err := v.store.Apply(ctx, events[0].Stream, events[len(events)-1].Sequence, accRows, conRows); err != nil {
		return fmt.Errorf("accountview: apply: %w", err)
	}
	return errors.Join(poison...)
}

// GetAccount returns one account.
func (v *View) GetAccount(ctx context.Context, tenant, id string) (account.Account, error) {
	return v.store.GetAccount(ctx, tenant, id)
}

// ListAccounts lists accounts.
func (v *View) ListAccounts(ctx context.Context, q accountmodel.AccountListQuery) ([]account.Account, string, error) {
	return v.store.ListAccounts(ctx, q)
}

// SearchAccounts searches accounts.
func (v *View) SearchAccounts(ctx context.Context, q accountmodel.SearchQuery) ([]account.Account, string, error) {
	return v.store.SearchAccounts(ctx, q)
}

// GetContact returns one contact.
func (v *View) GetContact(ctx context.Context, tenant, id string) (contact.Contact, error) {
	return v.store.GetContact(ctx, tenant, id)
}

// ListContacts lists contacts.
func (v *View) ListContacts(ctx context.Context, q accountmodel.ContactListQuery) ([]contact.Contact, string, error) {
	return v.store.ListContacts(ctx, q)
}

// SearchContacts searches contacts.
func (v *View) SearchContacts(ctx context.Context, q accountmodel.SearchQuery) ([]contact.Contact, string, error) {
	return v.store.SearchContacts(ctx, q)
}
