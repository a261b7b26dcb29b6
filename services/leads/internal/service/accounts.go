package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/accountmodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/accountview"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/uniqueness"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// accountsPart is the accounts and contacts side of the service: repositories, uniqueness
// buckets, read model and its projector.
type accountsPart struct {
	accounts    *eventstore.Repository[account.Account, account.Event]
	contacts    *eventstore.Repository[contact.Contact, contact.Event]
	accountKeys *uniqueness.Index
	contactKeys *uniqueness.Index
	store       *accountmodel.Store
	view        *accountview.View
	runner      *projection.Runner
}

// newAccounts builds the accounts and contacts side; its projector is named by besideLeads.
func newAccounts(ctx context.Context, js jetstream.JetStream, es *eventstore.Store, idem *eventstore.Idempotency, snaps eventstore.SnapshotStore, people personData, o Options) (accountsPart, error) {
	var p accountsPart
	var err error
	opts := eventstore.RepositoryOptions{Idempotency: idem, Snapshots: snaps}
	if p.accounts, err = eventstore.NewRepository(es, account.AggregateType, protomap.AccountCodec{}, func() account.Account { return account.Account{} }, account.Apply, opts); err != nil {
		return p, err
	}
	if p.contacts, err = eventstore.NewRepository(es, contact.AggregateType, protomap.ContactCodec{}, func() contact.Contact { return contact.Contact{} }, contact.Apply, opts); err != nil {
		return p, err
	}
	if p.accountKeys, err = uniqueness.Open(ctx, js, uniqueness.Options{Bucket: "CRM_ACCOUNT_KEYS", Replicas: o.Replicas}); err != nil {
		return p, err
	}
	if p.contactKeys, err = uniqueness.Open(ctx, js, uniqueness.Options{Bucket: "CRM_CONTACT_KEYS", Replicas: o.Replicas}); err != nil {
		return p, err
	}
	if p.store, err = accountmodel.Open(ctx, modelPath(o, "accounts.db"), sqlitemodel.Options{SecureDelete: true}); err != nil {
		return p, fmt.Errorf("leads: accounts read model: %w", err)
	}
	p.view = accountview.New(p.store, protomap.AccountCodec{}, protomap.ContactCodec{})
	p.view.Cover(projection.NewCoverage(js, accountview.Stream, accountview.Subjects))
	p.runner, err = newViewRunner(js, o, besideLeads("accounts", o), accountview.Stream, accountview.Subjects, personView(people, p.view, p.store.Scrub, o.Logger))
	if err != nil {
		return p, errors.Join(err, p.store.Close())
	}
	return p, nil
}
