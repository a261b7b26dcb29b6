package accountmodel

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Kinds of record in the shared tag and search tables.
const (
	kindAccount = "a"
	kindContact = "c"
)

// Store is the accounts and contacts read model: one writer (the projector, through Apply),
// any number of readers.
type Store struct {
	// ReadModel promotes the database's Checkpoint, Applied, WaitFor and Close.
	sqlitemodel.ReadModel
	db *sqlitemodel.DB
}

// Open opens (creating if needed) the read model at path and migrates it; "" gives an
// ephemeral store removed by Close.
func Open(ctx context.Context, path string, opts sqlitemodel.Options) (*Store, error) {
	db, err := sqlitemodel.OpenDir(ctx, path, migrationFiles, "migrations", opts)
	if err != nil {
		return nil, fmt.Errorf("accountmodel: open: %w", err)
	}
	return &Store{ReadModel: db, db: db}, nil
}

// AccountRow is an account with the sequence of its latest event.
type AccountRow struct {
	Tenant  string
	Account account.Account
	Seq     uint64
}

// ContactRow is a contact with the sequence of its latest event.
type ContactRow struct {
	Tenant  string
	Contact contact.Contact
	Seq     uint64
}

// Apply upserts the rows and records seq as the checkpoint of stream, in one transaction. A
// row older (by version) than the stored one is ignored, so a replayed batch is harmless.
func (s *Store) Apply(ctx context.Context, stream string, seq uint64, accounts []AccountRow, contacts []ContactRow) error {
	return s.db.Write(ctx, func(tx *sql.Tx) (map[string]uint64, error) {
		for _, r := range accounts {
			if err := upsertAccount(ctx, tx, r); err != nil {
				return nil, err
			}
		}
		for _, r := range contacts {
			if err := upsertContact(ctx, tx, r); err != nil {
				return nil, err
			}
		}
		return map[string]uint64{stream: seq}, nil
	})
}

func storedVersion(ctx context.Context, tx *sql.Tx, table, tenant, id string) (uint64, error) {
	var v uint64
	err := tx.QueryRowContext(ctx, `SELECT version FROM `+table+` WHERE tenant = ? AND id = ?`, tenant, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

func upsertAccount(ctx context.Context, tx *sql.Tx, r AccountRow) error {
	a := r.Account
	tenant := r.Tenant
	if v, err := storedVersion(ctx, tx, "accounts", tenant, a.ID); err != nil || v >= a.Version {
		return err
	}
	doc, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO accounts (tenant, id, version, seq, name_key,
		type, owner_id, territory_id, industry, country, parent_id, created_at, updated_at, doc)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tenant, a.ID, a.Version, r.Seq, strings.ToLower(a.Name), int(a.Type), a.OwnerID, a.TerritoryID,
		strings.ToLower(a.Industry), a.BillingAddress.Country, a.ParentAccountID, a.CreatedAt.UnixNano(),
		a.UpdatedAt.UnixNano(), string(doc)); err != nil {
		return fmt.Errorf("accountmodel: upsert account: %w", err)
	}
	terms := words(a.Name)
	if a.Domain != "" {
		terms = append(terms, a.Domain)
		terms = append(terms, words(a.Domain)...)
	}
	if err := replaceSet(ctx, tx, tenant, kindAccount, a.ID, a.Tags, terms); err != nil {
		return err
	}
	return nil
}

func upsertContact(ctx context.Context, tx *sql.Tx, r ContactRow) error {
	c := r.Contact
	tenant := r.Tenant
	if v, err := storedVersion(ctx, tx, "contacts", tenant, c.ID); err != nil || v >= c.Version {
		return err
	}
	doc, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO contacts (tenant, id, version, seq, last_key,
		account_id, owner_id, country, emailable, created_at, updated_at, doc)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tenant, c.ID, c.Version, r.Seq, lastKey(c), c.AccountID, c.OwnerID, c.MailingAddress.Country,
		c.Emailable(), c.CreatedAt.UnixNano(), c.UpdatedAt.UnixNano(), string(doc)); err != nil {
		return fmt.Errorf("accountmodel: upsert contact: %w", err)
	}
	terms := append(words(c.FirstName), words(c.LastName)...)
	if e := strings.ToLower(c.Email); e != "" {
		terms = append(terms, e)
		terms = append(terms, words(e)...)
	}
	terms = append(terms, words(c.JobTitle)...)
	if err := replaceSet(ctx, tx, tenant, kindContact, c.ID, c.Tags, terms); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM contact_roles WHERE tenant = ? AND id = ?`, tenant, c.ID); err != nil {
		return err
	}
	for _, role := range c.Roles {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO contact_roles (tenant, role, id) VALUES (?, ?, ?)`, tenant, int(role), c.ID); err != nil {
			return err
		}
	}
	return nil
}

// lastKey sorts contacts by last name, then first name; a contact with only a first name sorts
// by it.
func lastKey(c contact.Contact) string {
	return strings.ToLower(strings.TrimSpace(c.LastName + " " + c.FirstName))
}

func replaceSet(ctx context.Context, tx *sql.Tx, tenant, kind, id string, tags, terms []string) error {
	for _, q := range []string{`DELETE FROM record_tags WHERE tenant = ? AND kind = ? AND id = ?`,
		`DELETE FROM search_terms WHERE tenant = ? AND kind = ? AND id = ?`} {
		if _, err := tx.ExecContext(ctx, q, tenant, kind, id); err != nil {
			return err
		}
	}
	for _, t := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO record_tags (tenant, kind, tag, id) VALUES (?, ?, ?, ?)`, tenant, kind, t, id); err != nil {
			return err
		}
	}
	for _, t := range terms {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO search_terms (tenant, kind, term, id) VALUES (?, ?, ?, ?)`, tenant, kind, t, id); err != nil {
			return err
		}
	}
	return nil
}

// words splits s into lower-case words of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// GetAccount returns one account; NotFound when the read model has none.
func (s *Store) GetAccount(ctx context.Context, tenant, id string) (account.Account, error) {
	var doc string
	err := s.db.R.QueryRowContext(ctx, `SELECT doc FROM accounts WHERE tenant = ? AND id = ?`, tenant, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return account.Account{}, apperr.NotFoundf("account", id)
	}
	if err != nil {
		return account.Account{}, err
	}
	var a account.Account
	return a, json.Unmarshal([]byte(doc), &a)
}

// GetContact returns one contact; NotFound when the read model has none.
func (s *Store) GetContact(ctx context.Context, tenant, id string) (contact.Contact, error) {
	var doc string
	err := s.db.R.QueryRowContext(ctx, `SELECT doc FROM contacts WHERE tenant = ? AND id = ?`, tenant, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return contact.Contact{}, apperr.NotFoundf("contact", id)
	}
	if err != nil {
		return contact.Contact{}, err
	}
	var c contact.Contact
	return c, json.Unmarshal([]byte(doc), &c)
}
