package readmodel

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// SearchQuery is a free-text search over one tenant's leads.
type SearchQuery struct {
	Tenant    string // required
	Query     string // words; each must start a word of the name, email or company
	PageSize  int    // 0 = DefaultPageSize, else 1..MaxPageSize
	PageToken string // from the previous page; must come with the same tenant and query
	// Scope is the caller's row-level scope; nil searches every lead of the tenant.
	Scope *Scope
}

// maxSearchWords bounds the size of the FTS expression one search builds.
const maxSearchWords = 6

// A tier is one rank class of search results; lower is better.
type tier struct {
	col   byte
	exact bool // the word equals the indexed word, not just starts it
}

// tiers in rank order: a query word that is a lead's whole last name, starts
// the last name, starts the first name, a word of the email, a word of the
// company.
var tiers = []tier{{colLast, true}, {colLast, false}, {colFirst, false}, {colEmail, false}, {colCompany, false}}

// Search returns one page of the tenant's leads where every word of q.Query
// starts a word of the first name, last name, email or company, and the token
// of the next page ("" on the last page).
//
// Ranking is by tier, then newest first (highest row key, i.e. most recently
// inserted lead). For one word: tier 0 leads have the word as their whole
// last name, tier 1 a last name starting with it, then first name, email and
// company matches. For several words: leads where a word starts the last
// name, then the rest. Every tier is one FTS query read in rowid order and cut at
// the page size, so a search costs about the same whether the words match ten
// leads or a hundred thousand. The token is a keyset cursor (tier, row key).
//
// Input is split into words of letters and digits; everything else is a
// separator, so no input can form FTS5 syntax. A query without a letter or
// digit matches nothing.
func (s *Store) Search(ctx context.Context, q SearchQuery) ([]LeadRow, string, error) {
	if err := s.checkOpen(); err != nil {
		return nil, "", err
	}
	if q.Tenant == "" {
		return nil, "", fmt.Errorf("%w: tenant is required", ErrBadQuery)
	}
	size, err := pageSize(q.PageSize)
	if err != nil {
		return nil, "", err
	}
	ws := words(q.Query)
	if len(ws) > maxSearchWords {
		ws = ws[:maxSearchWords]
	}
	var f fingerprint
	f.Str(q.Tenant)
	for _, w := range ws {
		f.Str(w)
	}
	hash := f.Sum()
	cur, err := decodeCursor(q.PageToken, "s", hash)
	if err != nil {
		return nil, "", err
	}
	nTiers := len(tiers)
	if len(ws) > 1 {
		nTiers = 2 // see tierExpr
	}
	if cur != nil && (cur.Int < 0 || cur.Int >= int64(nTiers) || cur.PK <= 0) {
		return nil, "", ErrBadPageToken
	}
	if len(ws) == 0 {
		return []LeadRow{}, "", nil
	}

	// One read transaction: every tier and the row fetch see one snapshot.
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, "", fmt.Errorf("readmodel: search: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	type hit struct {
		tier int
		pk   int64
	}
	var hits []hit
	th := tenantHash(q.Tenant)
	first := 0
	if cur != nil {
		first = int(cur.Int)
	}
	for t := first; t < nTiers && len(hits) <= size; t++ {
		var after int64
		if cur != nil && t == first {
			after = cur.PK
		}
		pks, err := tierHits(ctx, tx, tierExpr(th, ws, t), q.Tenant, q.Scope, after, size+1-len(hits))
		if err != nil {
			return nil, "", err
		}
		for _, pk := range pks {
			hits = append(hits, hit{t, pk})
		}
	}
	more := len(hits) > size
	if more {
		hits = hits[:size]
	}
	pks := make([]int64, len(hits))
	for i, h := range hits {
		pks[i] = h.pk
	}
	rows, err := fetchByPK(ctx, tx, q.Tenant, pks)
	if err != nil {
		return nil, "", err
	}
	if !more {
		return rows, "", nil
	}
	last := hits[len(hits)-1]
	next := cursor{Kind: "s", Hash: hash, Int: int64(last.tier), PK: last.pk}
	return rows, next.encode(), nil
}

// tierHits returns up to limit row keys of tier expr, newest first, below
// `after` when it is not 0, among the leads of scope.
func tierHits(ctx context.Context, tx *sql.Tx, expr, tenant string, scope *Scope, after int64, limit int) ([]int64, error) {
	query, args := tierQuery(expr, tenant, scope, after, limit)
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("readmodel: search: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var pk int64
		if err := rows.Scan(&pk); err != nil {
			return nil, fmt.Errorf("readmodel: search: %w", err)
		}
		out = append(out, pk)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("readmodel: search: %w", err)
	}
	return out, nil
}

// tierQuery is the SQL of tierHits. A scope joins each hit to its lead row
// and keeps the tenant's rows in scope, so the cut at limit counts only rows
// the caller sees.
func tierQuery(expr, tenant string, scope *Scope, after int64, limit int) (string, []any) {
	var b sqlBuilder
	b.where("leads_fts MATCH ?", expr)
	if after > 0 {
		b.where("leads_fts.rowid < ?", after)
	}
	from := "leads_fts"
	if scope != nil {
		// CROSS JOIN keeps the FTS doclist as the outer loop (read in rowid
		// order and cut at the limit); each hit is one lookup by pk.
		from = "leads_fts CROSS JOIN leads l ON l.pk = leads_fts.rowid"
		b.where("+l.tenant = ?", tenant) // "+": look up by pk, never scan by tenant
		scope.where(&b)
	}
	return "SELECT leads_fts.rowid FROM " + from + " WHERE " + strings.Join(b.conds, " AND ") +
		" ORDER BY leads_fts.rowid DESC LIMIT ?", append(b.args, limit)
}

// fetchByPK reads the tenant's rows with the given keys, in that order. A
// key of another tenant (a tenant hash collision) is dropped.
func fetchByPK(ctx context.Context, tx *sql.Tx, tenant string, pks []int64) ([]LeadRow, error) {
	out := make([]LeadRow, 0, len(pks))
	if len(pks) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(pks)+1)
	args = append(args, tenant)
	for _, pk := range pks {
		args = append(args, pk)
	}
	ph := strings.Repeat("?,", len(pks))
	rows, err := tx.QueryContext(ctx, `SELECT l.pk, `+selectColumns+` FROM leads l
		WHERE +l.tenant = ? AND l.pk IN (`+ph[:len(ph)-1]+`)`, args...) // "+": look up by pk, never scan by tenant
	if err != nil {
		return nil, fmt.Errorf("readmodel: search: %w", err)
	}
	defer rows.Close()
	byPK := make(map[int64]LeadRow, len(pks))
	for rows.Next() {
		var pk int64
		r, err := scanLead(rows, &pk)
		if err != nil {
			return nil, fmt.Errorf("readmodel: search: %w", err)
		}
		byPK[pk] = r.LeadRow
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("readmodel: search: %w", err)
	}
	for _, pk := range pks {
		if r, ok := byPK[pk]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// tierExpr is the FTS5 expression for the leads of tier t. One word: the
// word matches tier t's column and no better tier. Several words: every word
// matches somewhere, and tier 0 holds the leads where some word starts the
// last name, tier 1 the rest; five tiers of intersections would cost five
// scans of a sparse AND when the early tiers are nearly empty. Tokens are
// quoted and built only from letters and digits (see words), so they never
// carry syntax.
func tierExpr(th string, ws []string, t int) string {
	token := func(col byte, w string, prefix bool) string {
		s := `"` + th + string(col) + w + `"`
		if prefix {
			s += "*"
		}
		return s
	}
	cond := func(t int) string {
		parts := make([]string, len(ws))
		for i, w := range ws {
			parts[i] = token(tiers[t].col, w, !tiers[t].exact)
		}
		return "(" + strings.Join(parts, " OR ") + ")"
	}
	if len(ws) > 1 {
		all := make([]string, len(ws))
		for i, w := range ws {
			all[i] = "(" + token(colLast, w, true) + " OR " + token(colFirst, w, true) + " OR " +
				token(colEmail, w, true) + " OR " + token(colCompany, w, true) + ")"
		}
		expr := "(" + strings.Join(all, " AND ") + ")"
		if t == 0 {
			return expr + " AND " + cond(1)
		}
		return expr + " NOT " + cond(1)
	}
	expr := cond(t)
	// Tier 0 (exact last name) is inside tier 1, so tiers from 2 on only
	// need to exclude tiers 1..t-1.
	var better []string
	for u := 0; u < t; u++ {
		if u == 0 && t >= 2 {
			continue
		}
		better = append(better, cond(u))
	}
	if len(better) > 0 {
		expr = "(" + expr + ") NOT (" + strings.Join(better, " OR ") + ")"
	}
	return expr
}
