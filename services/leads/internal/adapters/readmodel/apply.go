package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// tagSep separates tags in the display copy (leads.tags). Tags are
// identifiers; the app rejects control characters in them.
const tagSep = "\x1f"

type writeStmts struct {
	find, insert, update, del          *sql.Stmt
	ftsInsert, ftsDelete               *sql.Stmt
	tagInsert, tagDelete, checkpointUp *sql.Stmt
}

const leadColumns = `tenant, id, first_name, last_name, last_name_key, email, phone, company,
	job_title, country, region, city, industry, source, campaign_id, owner, territory, status,
	temperature, fit_score, engagement_score, total_score, tags, created_at, updated_at, version, seq, doc`

func prepareWrite(ctx context.Context, db *sql.DB) (*writeStmts, error) {
	ws := &writeStmts{}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&ws.find, `SELECT pk, seq, first_name, last_name, email, company, tags FROM leads WHERE tenant = ? AND id = ?`},
		{&ws.insert, `INSERT INTO leads (` + leadColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`},
		{&ws.update, `UPDATE leads SET (` + leadColumns + `) = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) WHERE pk = ?`},
		{&ws.del, `DELETE FROM leads WHERE pk = ?`},
		{&ws.ftsInsert, `INSERT INTO leads_fts (rowid, terms) VALUES (?, ?)`},
		{&ws.ftsDelete, `DELETE FROM leads_fts WHERE rowid = ?`},
		{&ws.tagInsert, `INSERT OR IGNORE INTO lead_tags (tenant, tag, lead_pk) VALUES (?,?,?)`},
		{&ws.tagDelete, `DELETE FROM lead_tags WHERE tenant = ? AND tag = ? AND lead_pk = ?`},
		{&ws.checkpointUp, `INSERT INTO checkpoints (stream, seq) VALUES (?, ?)
			ON CONFLICT (stream) DO UPDATE SET seq = max(seq, excluded.seq)`},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			ws.close()
			return nil, fmt.Errorf("readmodel: prepare %q: %w", p.sql, err)
		}
		*p.dst = st
	}
	return ws, nil
}

func (ws *writeStmts) close() {
	for _, st := range []*sql.Stmt{ws.find, ws.insert, ws.update, ws.del, ws.ftsInsert, ws.ftsDelete,
		ws.tagInsert, ws.tagDelete, ws.checkpointUp} {
		if st != nil {
			_ = st.Close()
		}
	}
}

// Apply writes one projector batch in one transaction: upserts replace rows by
// (tenant, id) together with their tags and search entries, deletes remove
// leads, and the checkpoint of stream moves to lastSeq. Either all of it is
// committed or none. An upsert whose Sequence is lower than the stored row's
// is skipped, and the checkpoint never moves back, so re-applying a batch is a
// no-op. Rows later in upserts win over earlier ones for the same lead.
func (s *Store) Apply(ctx context.Context, stream string, lastSeq uint64, upserts []LeadRow, deletes []TenantID) error {
	if stream == "" {
		return fmt.Errorf("%w: empty stream", ErrBadRow)
	}
	if lastSeq > math.MaxInt64 {
		return fmt.Errorf("%w: sequence %d out of range", ErrBadRow, lastSeq)
	}
	for i := range upserts {
		r := &upserts[i]
		if r.Tenant == "" || r.ID == "" {
			return fmt.Errorf("%w: upsert %d has no tenant or id", ErrBadRow, i)
		}
		if r.Sequence > math.MaxInt64 || r.Version > math.MaxInt64 {
			return fmt.Errorf("%w: upsert %d: version or sequence out of range", ErrBadRow, i)
		}
	}
	for i, d := range deletes {
		if d.Tenant == "" || d.ID == "" {
			return fmt.Errorf("%w: delete %d has no tenant or id", ErrBadRow, i)
		}
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("readmodel: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	st := txStmts{ctx: ctx, tx: tx, ws: s.ws}
	for i := range upserts {
		if err := st.upsert(&upserts[i]); err != nil {
			return err
		}
	}
	for _, d := range deletes {
		if err := st.delete(d); err != nil {
			return err
		}
	}
	if _, err := st.stmt(s.ws.checkpointUp).ExecContext(ctx, stream, int64(lastSeq)); err != nil {
		return fmt.Errorf("readmodel: write checkpoint: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("readmodel: commit: %w", err)
	}
	s.advance(stream, lastSeq)
	return nil
}

type txStmts struct {
	ctx context.Context
	tx  *sql.Tx
	ws  *writeStmts
}

// stmt binds a statement prepared on the single write connection to the
// transaction; database/sql reuses the connection's prepared statement.
func (t txStmts) stmt(st *sql.Stmt) *sql.Stmt { return t.tx.StmtContext(t.ctx, st) }

type storedLead struct {
	pk                               int64
	seq                              int64
	first, last, email, company, tag string
}

func (t txStmts) find(tenant, id string) (storedLead, bool, error) {
	var o storedLead
	err := t.stmt(t.ws.find).QueryRowContext(t.ctx, tenant, id).
		Scan(&o.pk, &o.seq, &o.first, &o.last, &o.email, &o.company, &o.tag)
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("readmodel: find %s/%s: %w", tenant, id, err)
	}
	return o, true, nil
}

func (t txStmts) upsert(r *LeadRow) error {
	old, exists, err := t.find(r.Tenant, r.ID)
	if err != nil {
		return err
	}
	if exists && old.seq > int64(r.Sequence) {
		return nil // stale: the stored row already reflects a later event
	}
	tags := dedupeTags(r.Tags)
	tagStr := strings.Join(tags, tagSep)
	args := []any{
		r.Tenant, r.ID, r.FirstName, r.LastName, strings.ToLower(r.LastName), r.Email, r.Phone, r.Company,
		r.JobTitle, r.Country, r.Region, r.City, r.Industry, r.Source, r.CampaignID, r.Owner, r.Territory, r.Status,
		r.Temperature, r.FitScore, r.EngagementScore, r.TotalScore, tagStr,
		timeToDB(r.CreatedAt), timeToDB(r.UpdatedAt), int64(r.Version), int64(r.Sequence), r.Doc,
	}
	pk := old.pk
	if exists {
		if _, err := t.stmt(t.ws.update).ExecContext(t.ctx, append(args, pk)...); err != nil {
			return fmt.Errorf("readmodel: update %s/%s: %w", r.Tenant, r.ID, err)
		}
	} else {
		res, err := t.stmt(t.ws.insert).ExecContext(t.ctx, args...)
		if err != nil {
			return fmt.Errorf("readmodel: insert %s/%s: %w", r.Tenant, r.ID, err)
		}
		if pk, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("readmodel: insert %s/%s: %w", r.Tenant, r.ID, err)
		}
	}

	// Most events (scores, status, owner) leave the searchable text and the
	// tags alone; skipping those writes is most of the projector's speed.
	textChanged := !exists || old.first != r.FirstName || old.last != r.LastName ||
		old.email != r.Email || old.company != r.Company
	if textChanged {
		if exists {
			if _, err := t.stmt(t.ws.ftsDelete).ExecContext(t.ctx, pk); err != nil {
				return fmt.Errorf("readmodel: unindex %s/%s: %w", r.Tenant, r.ID, err)
			}
		}
		terms := searchTerms(r.Tenant, r.FirstName, r.LastName, r.Email, r.Company)
		if _, err := t.stmt(t.ws.ftsInsert).ExecContext(t.ctx, pk, terms); err != nil {
			return fmt.Errorf("readmodel: index %s/%s: %w", r.Tenant, r.ID, err)
		}
	}
	if !exists || old.tag != tagStr {
		var oldTags []string
		if exists {
			oldTags = splitTags(old.tag)
		}
		for _, tg := range oldTags {
			if !slices.Contains(tags, tg) {
				if _, err := t.stmt(t.ws.tagDelete).ExecContext(t.ctx, r.Tenant, tg, pk); err != nil {
					return fmt.Errorf("readmodel: untag %s/%s: %w", r.Tenant, r.ID, err)
				}
			}
		}
		for _, tg := range tags {
			if !slices.Contains(oldTags, tg) {
				if _, err := t.stmt(t.ws.tagInsert).ExecContext(t.ctx, r.Tenant, tg, pk); err != nil {
					return fmt.Errorf("readmodel: tag %s/%s: %w", r.Tenant, r.ID, err)
				}
			}
		}
	}
	return nil
}

func (t txStmts) delete(d TenantID) error {
	old, exists, err := t.find(d.Tenant, d.ID)
	if err != nil || !exists {
		return err
	}
	for _, tg := range splitTags(old.tag) {
		if _, err := t.stmt(t.ws.tagDelete).ExecContext(t.ctx, d.Tenant, tg, old.pk); err != nil {
			return fmt.Errorf("readmodel: untag %s/%s: %w", d.Tenant, d.ID, err)
		}
	}
	if _, err := t.stmt(t.ws.ftsDelete).ExecContext(t.ctx, old.pk); err != nil {
		return fmt.Errorf("readmodel: unindex %s/%s: %w", d.Tenant, d.ID, err)
	}
	if _, err := t.stmt(t.ws.del).ExecContext(t.ctx, old.pk); err != nil {
		return fmt.Errorf("readmodel: delete %s/%s: %w", d.Tenant, d.ID, err)
	}
	return nil
}

func dedupeTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func splitTags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, tagSep)
}

// Reset drops every row, search entry and checkpoint and recreates the
// schema, for a rebuild from the start of the stream. It runs in one
// transaction. Waiters in WaitFor keep waiting until the rebuild reaches
// their sequence.
func (s *Store) Reset(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("readmodel: begin reset: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := dropAll(ctx, tx); err != nil {
		return err
	}
	if err := migrateTx(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("readmodel: commit reset: %w", err)
	}
	s.ckMu.Lock()
	s.ck = map[string]uint64{}
	s.ckMu.Unlock()
	return nil
}

// dropAll drops every table: virtual tables first (that drops their shadow
// tables), then the rest.
func dropAll(ctx context.Context, tx *sql.Tx) error {
	for _, virtual := range []bool{true, false} {
		q := `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql LIKE 'CREATE VIRTUAL%'`
		if !virtual {
			q = `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
		}
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("readmodel: reset: %w", err)
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				_ = rows.Close()
				return fmt.Errorf("readmodel: reset: %w", err)
			}
			names = append(names, n)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("readmodel: reset: %w", err)
		}
		for _, n := range names {
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS "`+strings.ReplaceAll(n, `"`, `""`)+`"`); err != nil {
				return fmt.Errorf("readmodel: reset: drop %s: %w", n, err)
			}
		}
	}
	return nil
}
