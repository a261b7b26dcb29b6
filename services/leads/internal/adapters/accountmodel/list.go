package accountmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/pagetoken"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// cursor is the keyset position after the last row served: its sort key and id.
type cursor struct {
	S  string `json:"s,omitempty"`
	N  int64  `json:"n,omitempty"`
	ID string `json:"id"`
}

// where collects SQL conditions and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) in(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	w.add(col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")", anys(vals)...)
}

func (w *where) times(col string, after, before time.Time) {
	if !after.IsZero() {
		w.add(col+" > ?", after.UnixNano())
	}
	if !before.IsZero() {
		w.add(col+" < ?", before.UnixNano())
	}
}

func anys[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func pageSize(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultPageSize, nil
	case n < 0 || n > MaxPageSize:
		return 0, apperr.InvalidFields("invalid page size", apperr.FieldViolation{Field: "page_size", Description: fmt.Sprintf("must be 1 to %d", MaxPageSize)})
	}
	return n, nil
}

func badToken() error {
	return apperr.InvalidFields("invalid page token", apperr.FieldViolation{Field: "page_token", Description: "malformed, or issued for other filters or order"})
}

// page is one keyset query: the sort column (text or integer), the direction and the cursor.
type page struct {
	col     string
	text    bool
	desc    bool
	size    int
	after   *cursor
	kind    string
	hash    string
	sortVal func(doc string) (cursor, error)
}

// run executes SELECT doc FROM table WHERE w ORDER BY col, id with the keyset condition and
// returns the docs of one page and the next token.
func (s *Store) run(ctx context.Context, table string, w where, p page) ([]string, string, error) {
	op, dir := ">", "ASC"
	if p.desc {
		op, dir = "<", "DESC"
	}
	if p.after != nil {
		var v any = p.after.N
		if p.text {
			v = p.after.S
		}
		w.add(fmt.Sprintf("(%s %s ? OR (%s = ? AND id %s ?))", p.col, op, p.col, op), v, v, p.after.ID)
	}
	q := fmt.Sprintf("SELECT doc, %s, id FROM %s WHERE %s ORDER BY %s %s, id %s LIMIT ?",
		p.col, table, strings.Join(w.conds, " AND "), p.col, dir, dir)
	rows, err := s.db.R.QueryContext(ctx, q, append(w.args, p.size+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("accountmodel: %s: %w", table, err)
	}
	defer rows.Close()
	var docs []string
	var last cursor
	for rows.Next() {
		var doc, id string
		var key any
		if err := rows.Scan(&doc, &key, &id); err != nil {
			return nil, "", err
		}
		if len(docs) == p.size {
			return docs, pagetoken.Encode(p.kind, p.hash, last), rows.Err()
		}
		docs = append(docs, doc)
		last = cursor{ID: id}
		switch k := key.(type) {
		case int64:
			last.N = k
		case string:
			last.S = k
		}
	}
	return docs, "", rows.Err()
}

func decodeAll[T any](docs []string) ([]T, error) {
	out := make([]T, len(docs))
	for i, d := range docs {
		if err := json.Unmarshal([]byte(d), &out[i]); err != nil {
			return nil, fmt.Errorf("accountmodel: decode row: %w", err)
		}
	}
	return out, nil
}

// ListAccounts returns a page of accounts matching every given filter.
func (s *Store) ListAccounts(ctx context.Context, q AccountListQuery) ([]account.Account, string, error) {
	size, err := pageSize(q.PageSize)
	if err != nil {
		return nil, "", err
	}
	var w where
	w.add("tenant = ?", q.Tenant)
	var fp pagetoken.Fingerprint
	fp.Str(q.Tenant)
	if len(q.Types) > 0 {
		w.add("type IN ("+strings.TrimSuffix(strings.Repeat("?,", len(q.Types)), ",")+")", anys(q.Types)...)
	}
	pagetoken.IntSet(&fp, q.Types)
	w.in("owner_id", q.OwnerIDs)
	fp.Set(q.OwnerIDs)
	w.in("territory_id", q.TerritoryIDs)
	fp.Set(q.TerritoryIDs)
	q.Scope.add(&w, true)
	if q.Industry != "" {
		w.add("industry = ?", strings.ToLower(strings.TrimSpace(q.Industry)))
	}
	if q.Country != "" {
		w.add("country = ?", strings.ToUpper(strings.TrimSpace(q.Country)))
	}
	if q.Tag != "" {
		w.add("id IN (SELECT id FROM record_tags WHERE tenant = ? AND kind = 'a' AND tag = ?)", q.Tenant, strings.ToLower(strings.TrimSpace(q.Tag)))
	}
	if q.ParentAccountID != "" {
		w.add("parent_id = ?", q.ParentAccountID)
	}
	w.times("created_at", q.CreatedAfter, q.CreatedBefore)
	w.times("updated_at", q.UpdatedAfter, q.UpdatedBefore)
	for _, s := range []string{q.Industry, q.Country, q.Tag, q.ParentAccountID} {
		fp.Str(s)
	}
	for _, t := range []time.Time{q.CreatedAfter, q.CreatedBefore, q.UpdatedAfter, q.UpdatedBefore} {
		fp.Int(t.UnixNano())
	}
	p := page{col: "created_at", desc: q.Descending, size: size, kind: "la"}
	switch q.OrderBy {
	case AccountOrderUpdatedAt:
		p.col = "updated_at"
	case AccountOrderName:
		p.col, p.text = "name_key", true
	}
	fp.Int(int64(q.OrderBy))
	if q.Descending {
		fp.Int(1)
	}
	p.hash = fp.Sum()
	var c cursor
	if ok, err := pagetoken.Decode(q.PageToken, p.kind, p.hash, &c); err != nil {
		return nil, "", badToken()
	} else if ok {
		p.after = &c
	}
	docs, next, err := s.run(ctx, "accounts", w, p)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll[account.Account](docs)
	return out, next, err
}

// ListContacts returns a page of contacts matching every given filter.
func (s *Store) ListContacts(ctx context.Context, q ContactListQuery) ([]contact.Contact, string, error) {
	size, err := pageSize(q.PageSize)
	if err != nil {
		return nil, "", err
	}
	var w where
	w.add("tenant = ?", q.Tenant)
	var fp pagetoken.Fingerprint
	fp.Str(q.Tenant)
	if q.AccountID != "" {
		w.add("account_id = ?", q.AccountID)
	}
	w.in("owner_id", q.OwnerIDs)
	fp.Set(q.OwnerIDs)
	q.Scope.add(&w, false)
	if len(q.Roles) > 0 {
		w.add("id IN (SELECT id FROM contact_roles WHERE tenant = ? AND role IN ("+
			strings.TrimSuffix(strings.Repeat("?,", len(q.Roles)), ",")+"))", append([]any{q.Tenant}, anys(q.Roles)...)...)
	}
	pagetoken.IntSet(&fp, q.Roles)
	if q.Tag != "" {
		w.add("id IN (SELECT id FROM record_tags WHERE tenant = ? AND kind = 'c' AND tag = ?)", q.Tenant, strings.ToLower(strings.TrimSpace(q.Tag)))
	}
	if q.EmailableOnly {
		w.add("emailable = 1")
		fp.Int(1)
	}
	if q.Country != "" {
		w.add("country = ?", strings.ToUpper(strings.TrimSpace(q.Country)))
	}
	w.times("created_at", q.CreatedAfter, q.CreatedBefore)
	w.times("updated_at", q.UpdatedAfter, q.UpdatedBefore)
	for _, s := range []string{q.AccountID, q.Tag, q.Country} {
		fp.Str(s)
	}
	for _, t := range []time.Time{q.CreatedAfter, q.CreatedBefore, q.UpdatedAfter, q.UpdatedBefore} {
		fp.Int(t.UnixNano())
	}
	p := page{col: "created_at", desc: q.Descending, size: size, kind: "lc"}
	switch q.OrderBy {
	case ContactOrderUpdatedAt:
		p.col = "updated_at"
	case ContactOrderLastName:
		p.col, p.text = "last_key", true
	}
	fp.Int(int64(q.OrderBy))
	if q.Descending {
		fp.Int(1)
	}
	p.hash = fp.Sum()
	var c cursor
	if ok, err := pagetoken.Decode(q.PageToken, p.kind, p.hash, &c); err != nil {
		return nil, "", badToken()
	} else if ok {
		p.after = &c
	}
	docs, next, err := s.run(ctx, "contacts", w, p)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll[contact.Contact](docs)
	return out, next, err
}

// searchWhere adds one condition per query word: a word of the record equals it, the last
// word also matches as a prefix. An empty query is Invalid.
func searchWhere(w *where, q SearchQuery, kind string) error {
	ws := words(q.Query)
	if len(ws) == 0 {
		return apperr.InvalidFields("invalid search", apperr.FieldViolation{Field: "query", Description: "must contain a letter or digit"})
	}
	if len(ws) > 8 {
		ws = ws[:8]
	}
	for i, t := range ws {
		if i == len(ws)-1 {
			w.add("id IN (SELECT id FROM search_terms WHERE tenant = ? AND kind = ? AND term >= ? AND term < ?)", q.Tenant, kind, t, t+"\U0010FFFF")
		} else {
			w.add("id IN (SELECT id FROM search_terms WHERE tenant = ? AND kind = ? AND term = ?)", q.Tenant, kind, t)
		}
	}
	return nil
}

// SearchAccounts finds accounts by words of their name and domain, ordered by name.
func (s *Store) SearchAccounts(ctx context.Context, q SearchQuery) ([]account.Account, string, error) {
	docs, next, err := s.search(ctx, "accounts", "name_key", kindAccount, q)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll[account.Account](docs)
	return out, next, err
}

// SearchContacts finds contacts by words of their names, email and job title, ordered by last
// name.
func (s *Store) SearchContacts(ctx context.Context, q SearchQuery) ([]contact.Contact, string, error) {
	docs, next, err := s.search(ctx, "contacts", "last_key", kindContact, q)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll[contact.Contact](docs)
	return out, next, err
}

func (s *Store) search(ctx context.Context, table, col, kind string, q SearchQuery) ([]string, string, error) {
	size, err := pageSize(q.PageSize)
	if err != nil {
		return nil, "", err
	}
	var w where
	w.add("tenant = ?", q.Tenant)
	if err := searchWhere(&w, q, kind); err != nil {
		return nil, "", err
	}
	q.Scope.add(&w, kind == kindAccount)
	var fp pagetoken.Fingerprint
	fp.Str(q.Tenant)
	fp.Str(strings.Join(words(q.Query), " "))
	p := page{col: col, text: true, size: size, kind: "s" + kind, hash: fp.Sum()}
	var c cursor
	if ok, err := pagetoken.Decode(q.PageToken, p.kind, p.hash, &c); err != nil {
		return nil, "", badToken()
	} else if ok {
		p.after = &c
	}
	return s.run(ctx, table, w, p)
}
