package app

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// ContactRow is a contact row. AccountName (a vCard's ORG, or a CSV "account_name" column)
// links the contact to the account of that name when AccountID is not given.
type ContactRow struct {
	New         contact.New
	Update      contact.Update
	AccountName string
}

func contactRowKeys(r ContactRow) []string {
	keys := contact.DedupeKeys(r.New.Details)
	for i, k := range keys {
		keys[i] = "contact/" + k
	}
	// Rows naming one organisation create its account once, in line order.
	if r.New.Details.AccountID == "" && strings.TrimSpace(r.AccountName) != "" {
		keys = append(keys, "org/"+strings.ToLower(strings.TrimSpace(r.AccountName)))
	}
	return keys
}

// AccountRow is an account row.
type AccountRow struct {
	New    account.New
	Update account.Update
}

func accountRowKeys(r AccountRow) []string {
	if k := account.DedupeKey(r.New.Details); k != "" {
		return []string{"account/" + k}
	}
	return nil
}

// orgAccountID is the id of the account an import creates for an organisation name: one per
// tenant and normalised name (not per import), so every import naming "Acme" links to the
// same account and concurrent rows and re-runs converge on it.
func orgAccountID(tenant, key string) string {
	sum := sha256.Sum256([]byte(tenant + "\x00org\x00" + key))
	sum[6] = sum[6]&0x0f | 0x80
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// accountByName finds the account holding the organisation's name key (an account without a
// domain is deduplicated by its normalised name), or creates it with just the name. An
// account known only by its domain is not matched by name: a new one is created.
func (r *importRun) accountByName(ctx context.Context, name string) (string, error) {
	key := account.DedupeKey(account.Details{Name: name})
	if key == "" {
		return "", nil
	}
	id := orgAccountID(r.tenant, key)
	if r.o.DryRun {
		if l, ok := r.a.d.AccountKeys.(keyLookup); ok {
			if holder, found, err := l.Lookup(ctx, r.tenant, key); err != nil || found {
				return holder, err
			}
		}
		return id, nil
	}
	_, err := r.a.CreateAccount(ctx, r.tenant, account.New{ID: id, Details: account.Details{Name: name}}, false, Write{})
	if err == nil || ownCreate(err, id) {
		return id, nil
	}
	if existing, _, dup := duplicate(err, ReasonDuplicateAccount); dup {
		if l, ok := r.a.d.AccountKeys.(keyLookup); ok && existing == "" {
			// The account is out of the importing user's row-level scope, so the error does
			// not name it; linking is not scoped (scope_accounts.go), so the contact still
			// joins the organisation's account.
			holder, _, err := l.Lookup(ctx, r.tenant, key)
			return holder, err
		}
		return existing, nil
	}
	return "", err
}

// dryRunScoped answers a dry run's duplicate of a record out of the importing user's
// row-level scope as the real run does: skipped, not named.
func (r *importRun) dryRunScoped(ctx context.Context, id string, res RowResult, o ImportObject, noun string,
	hidden func(context.Context, string, string) (bool, error)) RowResult {
	if res.RecordID == "" || res.RecordID == id {
		return res
	}
	if out, err := hidden(ctx, r.tenant, res.RecordID); err != nil {
		return r.failed(err)
	} else if out {
		return RowResult{Outcome: RowSkipped, Reason: duplicateOf(o, "", noun+" with this key exists")}
	}
	return res
}

// importContact writes one contact row.
func (r *importRun) importContact(ctx context.Context, id string, line int, row ContactRow) (RowResult, bool) {
	row.New.ID = id
	// An account the file names by id must exist (a dry run checks it as CreateContact does);
	// one found or made by name need not exist yet in a dry run.
	fileAccount := row.New.Details.AccountID != ""
	if row.New.Details.AccountID == "" && strings.TrimSpace(row.AccountName) != "" {
		accID, err := r.accountByName(ctx, strings.TrimSpace(row.AccountName))
		if err != nil {
			res := r.failed(err)
			res.Reason = "account " + row.AccountName + ": " + res.Reason
			return res, isBusy(err)
		}
		row.New.Details.AccountID = accID
		if len(row.Update.Paths) > 0 {
			row.Update.Details.AccountID = accID
			row.Update.Paths = append(row.Update.Paths, contact.PathAccountID)
		}
	}
	if r.o.DryRun {
		return r.dryRunContact(ctx, id, row, fileAccount), false
	}
	create := func() (string, error) {
		res, err := r.a.CreateContact(ctx, r.tenant, row.New, r.o.Dedupe == DedupeAllow, Write{})
		return res.Contact.ID, err
	}
	update := func(existing string, w Write) error {
		_, err := r.a.UpdateContact(ctx, r.tenant, existing, row.Update, w)
		return err
	}
	return r.createOrUpdate(id, line, ImportContacts, ReasonDuplicateContact, len(row.Update.Paths) > 0, create, update)
}

func (r *importRun) dryRunContact(ctx context.Context, id string, row ContactRow, checkAccount bool) RowResult {
	cfg, err := r.a.Config(ctx, r.tenant)
	if err != nil {
		return r.failed(err)
	}
	evs, err := contact.Create(contact.Contact{}, row.New, cfg.ContactPolicy(), r.a.now(ctx))
	if err != nil {
		return r.failed(err)
	}
	if acc := evs[0].(contact.ContactCreated).Contact.AccountID; checkAccount && acc != "" {
		if err := r.a.requireAccount(ctx, r.tenant, acc); err != nil {
			return r.failed(err)
		}
	}
	if r.o.Dedupe == DedupeAllow {
		return RowResult{Outcome: RowCreated, RecordID: id}
	}
	res := r.dryRunDuplicate(ctx, r.a.d.ContactKeys, id, contact.DedupeKeys(row.New.Details), ImportContacts, "a contact", len(row.Update.Paths) > 0)
	return r.dryRunScoped(ctx, id, res, ImportContacts, "a contact", r.a.hiddenContact)
}

// importAccount writes one account row.
func (r *importRun) importAccount(ctx context.Context, id string, line int, row AccountRow) (RowResult, bool) {
	row.New.ID = id
	if r.o.DryRun {
		return r.dryRunAccount(ctx, id, row), false
	}
	create := func() (string, error) {
		res, err := r.a.CreateAccount(ctx, r.tenant, row.New, r.o.Dedupe == DedupeAllow, Write{})
		return res.Account.ID, err
	}
	update := func(existing string, w Write) error {
		_, err := r.a.UpdateAccount(ctx, r.tenant, existing, row.Update, w)
		return err
	}
	return r.createOrUpdate(id, line, ImportAccounts, ReasonDuplicateAccount, len(row.Update.Paths) > 0, create, update)
}

func (r *importRun) dryRunAccount(ctx context.Context, id string, row AccountRow) RowResult {
	cfg, err := r.a.Config(ctx, r.tenant)
	if err != nil {
		return r.failed(err)
	}
	evs, err := account.Create(account.Account{}, row.New, cfg.AccountPolicy(), r.a.now(ctx))
	if err != nil {
		return r.failed(err)
	}
	// The parent checks CreateAccount makes in its decision.
	if parent := evs[0].(account.AccountCreated).Account.ParentAccountID; parent != "" {
		anc, err := r.a.ancestors(ctx, r.tenant, parent, account.Field+account.PathParentAccountID)
		if err == nil && len(anc) >= account.MaxDepth {
			err = apperr.Precondition(account.ReasonTooDeep, "an account hierarchy is at most %d levels deep", account.MaxDepth)
		}
		if err != nil {
			return r.failed(err)
		}
	}
	if r.o.Dedupe == DedupeAllow {
		return RowResult{Outcome: RowCreated, RecordID: id}
	}
	var keys []string
	if k := account.DedupeKey(row.New.Details); k != "" {
		keys = []string{k}
	}
	res := r.dryRunDuplicate(ctx, r.a.d.AccountKeys, id, keys, ImportAccounts, "an account", len(row.Update.Paths) > 0)
	return r.dryRunScoped(ctx, id, res, ImportAccounts, "an account", r.a.hiddenAccount)
}
