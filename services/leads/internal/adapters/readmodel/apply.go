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
	find, insert, del                  *sql.Stmt
	ftsInsert, ftsDelete               *sql.Stmt
	tagInsert, tagDelete, checkpointUp *sql.Stmt

	// updates by the set of indexed columns they change (bit i =
	// indexedColumns[i]); see upsert.
	db      *sql.DB
	updates map[uint]*sql.Stmt
}

// indexedColumns are the leads columns that secondary indexes hold besides
// tenant and id. SQLite rewrites an index entry whenever its column is in an
// UPDATE's SET list, changed or not; most events change one or two of these,
// so upsert sets only those that changed.
var indexedColumns = []string{"last_name_key", "created_at", "updated_at", "total_score", "status", "owner", "campaign_id"}

// plainColumns are always set on update: no index holds them.
var plainColumns = []string{"first_name", "last_name", "email", "phone", "company", "job_title", "country",
	"region", "city", "industry", "source", "territory", "temperature", "fit_score", "engagement_score",
	"tags", "version", "seq", "doc"}

func (ws *writeStmts) update(changed uint) *sql.Stmt { return ws.updates[changed] }

// prepareUpdates prepares every variant up front (128, a few ms): the
// single write connection is busy inside Apply's transaction, where a
// prepare on the DB would wait for it forever.
func (ws *writeStmts) prepareUpdates(ctx context.Context) error {
	for changed := uint(0); changed < 1<<len(indexedColumns); changed++ {
		if err := ws.prepareUpdate(ctx, changed); err != nil {
			return err
		}
	}
	return nil
}

func (ws *writeStmts) prepareUpdate(ctx context.Context, changed uint) error {
	set := make([]string, 0, len(plainColumns)+len(indexedColumns))
	for _, c := range plainColumns {
		set = append(set, c+" = ?")
	}
	for i, c := range indexedColumns {
		if changed&(1<<i) != 0 {
			set = append(set, c+" = ?")
		}
	}
	st, err := ws.db.PrepareContext(ctx, "UPDATE leads SET "+strings.Join(set, ", ")+" WHERE pk = ?")
	if err != nil {
		return fmt.Errorf("readmodel: prepare update: %w", err)
	}
	ws.updates[changed] = st
	return nil
}

const leadColumns = `tenant, id, first_name, last_name, last_name_key, email, phone, company,
	job_title, country, region, city, industry, source, campaign_id, owner, territory, status,
	temperature, fit_score, engagement_score, total_score, tags, created_at, updated_at, version, seq, doc`

func prepareWrite(ctx context.Context, db *sql.DB) (*writeStmts, error) {
	ws := &writeStmts{db: db, updates: map[uint]*sql.Stmt{}}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&ws.find, `SELECT pk, seq, first_name, last_name, email, company, tags,
			last_name_key, created_at, updated_at, total_score, status, owner, campaign_id
			FROM leads WHERE tenant = ? AND id = ?`},
		{&ws.insert, `INSERT INTO leads (` + leadColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`},
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
	if err := ws.prepareUpdates(ctx); err != nil {
		ws.close()
		return nil, err
	}
	return ws, nil
}

func (ws *writeStmts) close() {
	for _, st := range ws.updates {
		_ = st.Close()
	}
	for _, st := range []*sql.Stmt{ws.find, ws.insert, ws.del, ws.ftsInsert, ws.ftsDelete,
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
// no-op. Rows later in upserts win over earlier ones for the same lead. A
// batch of at least bulkMinRows rows into an empty store begins a bulk load
// (bulk.go).
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
	bulk := s.bulk
	if bulk && s.bulkDue {
		// The bulk load's idle end failed: end it before this batch.
		if err := finishBulk(ctx, tx); err != nil {
			return err
		}
		bulk = false
	} else if !bulk {
		if bulk, err = s.startsBulk(ctx, tx, len(upserts)); err != nil {
			return err
		}
		if bulk {
			if err := beginBulk(ctx, tx); err != nil {
				return err
			}
		}
	}
	st := &txStmts{ctx: ctx, tx: tx, ws: s.ws}
	if !bulk {
		st.fts = newFTSBatch() // a bulk load builds the search index at its end
	}
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
	if err := st.flushFTS(); err != nil {
		return err
	}
	if _, err := st.stmt(s.ws.checkpointUp).ExecContext(ctx, stream, int64(lastSeq)); err != nil {
		return fmt.Errorf("readmodel: write checkpoint: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("readmodel: commit: %w", err)
	}
	switch {
	case bulk:
		s.bulk = true
		s.bulkApplied()
		return nil // WaitFor sees the bulk load's sequences when it ends
	case s.bulk:
		if err := s.bulkEnded(ctx); err != nil {
			return err
		}
	}
	s.advance(stream, lastSeq)
	return nil
}

type txStmts struct {
	ctx context.Context
	tx  *sql.Tx
	ws  *writeStmts
	fts *ftsBatch
}

// ftsBatch collects a transaction's search index changes. FTS5 buffers
// inserts in memory only while rowids ascend; a delete or a lower rowid
// flushes a new segment and triggers merges (measured: a quarter of the
// time of random updates). So Apply writes them at the end: deletes, then
// inserts in rowid order.
type ftsBatch struct {
	del    map[int64]bool   // rows indexed before this batch, to unindex
	ins    map[int64]string // rows to index, with their terms
	fresh  map[int64]bool   // rows first inserted in this batch: nothing to unindex
	sorted []int64
}

func newFTSBatch() *ftsBatch {
	return &ftsBatch{del: map[int64]bool{}, ins: map[int64]string{}, fresh: map[int64]bool{}}
}

func (b *ftsBatch) reindex(pk int64, terms string, isNew bool) {
	if isNew {
		b.fresh[pk] = true
	} else if !b.fresh[pk] {
		b.del[pk] = true
	}
	b.ins[pk] = terms
}

func (b *ftsBatch) unindex(pk int64) {
	if !b.fresh[pk] {
		b.del[pk] = true
	}
	delete(b.ins, pk)
}

func (t *txStmts) flushFTS() error {
	b := t.fts
	if b == nil {
		return nil
	}
	b.sorted = b.sorted[:0]
	for pk := range b.del {
		b.sorted = append(b.sorted, pk)
	}
	slices.Sort(b.sorted)
	for _, pk := range b.sorted {
		if _, err := t.stmt(t.ws.ftsDelete).ExecContext(t.ctx, pk); err != nil {
			return fmt.Errorf("readmodel: unindex row %d: %w", pk, err)
		}
	}
	b.sorted = b.sorted[:0]
	for pk := range b.ins {
		b.sorted = append(b.sorted, pk)
	}
	slices.Sort(b.sorted)
	for _, pk := range b.sorted {
		if _, err := t.stmt(t.ws.ftsInsert).ExecContext(t.ctx, pk, b.ins[pk]); err != nil {
			return fmt.Errorf("readmodel: index row %d: %w", pk, err)
		}
	}
	return nil
}

// stmt binds a statement prepared on the single write connection to the
// transaction; database/sql reuses the connection's prepared statement.
func (t *txStmts) stmt(st *sql.Stmt) *sql.Stmt { return t.tx.StmtContext(t.ctx, st) }

type storedLead struct {
	pk                               int64
	seq                              int64
	first, last, email, company, tag string
	indexed                          [7]any // indexedColumns' values
}

func (t *txStmts) find(tenant, id string) (storedLead, bool, error) {
	var o storedLead
	err := t.stmt(t.ws.find).QueryRowContext(t.ctx, tenant, id).
		Scan(&o.pk, &o.seq, &o.first, &o.last, &o.email, &o.company, &o.tag,
			&o.indexed[0], &o.indexed[1], &o.indexed[2], &o.indexed[3], &o.indexed[4], &o.indexed[5], &o.indexed[6])
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("readmodel: find %s/%s: %w", tenant, id, err)
	}
	return o, true, nil
}

func (t *txStmts) upsert(r *LeadRow) error {
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
		indexed := [7]any{strings.ToLower(r.LastName), timeToDB(r.CreatedAt),
			timeToDB(r.UpdatedAt), int64(r.TotalScore), r.Status, r.Owner, r.CampaignID}
		uargs := []any{r.FirstName, r.LastName, r.Email, r.Phone, r.Company, r.JobTitle, r.Country,
			r.Region, r.City, r.Industry, r.Source, r.Territory, r.Temperature, r.FitScore, r.EngagementScore,
			tagStr, int64(r.Version), int64(r.Sequence), r.Doc}
		var changed uint
		for i, v := range indexed {
			if v != old.indexed[i] {
				changed |= 1 << i
				uargs = append(uargs, v)
			}
		}
		if _, err := t.stmt(t.ws.update(changed)).ExecContext(t.ctx, append(uargs, pk)...); err != nil {
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
	if textChanged && t.fts != nil {
		t.fts.reindex(pk, searchTerms(r.Tenant, r.FirstName, r.LastName, r.Email, r.Company), !exists)
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

func (t *txStmts) delete(d TenantID) error {
	old, exists, err := t.find(d.Tenant, d.ID)
	if err != nil || !exists {
		return err
	}
	for _, tg := range splitTags(old.tag) {
		if _, err := t.stmt(t.ws.tagDelete).ExecContext(t.ctx, d.Tenant, tg, old.pk); err != nil {
			return fmt.Errorf("readmodel: untag %s/%s: %w", d.Tenant, d.ID, err)
		}
	}
	if t.fts != nil {
		t.fts.unindex(old.pk)
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
	s.bulk, s.bulkDue = false, false // bulk_load was dropped with the rest
	if s.bulkTimer != nil {
		s.bulkTimer.Stop()
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
