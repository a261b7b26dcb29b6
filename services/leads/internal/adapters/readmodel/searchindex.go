package readmodel

import (
	"context"
	"database/sql"
	"fmt"
)

// searchIndexVersion is the format of leads_fts: the table's definition and
// how searchTerms builds a lead's terms. Bump it with any change to either;
// the terms are built in Go, so no SQL migration can rewrite them.
//
// PRAGMA user_version records the format a file holds. Whenever it differs,
// migrateTx rebuilds leads_fts from the leads table in the migration's
// transaction (about 30 s at 1,000,000 leads, during Open): an upgraded file
// keeps answering every query without a replay of the stream, and a crash
// during the rebuild leaves the old file to try again.
//
//	0: schema 0001, prefix indexes for words of 1..4 bytes
//	1: schema 0002, prefix indexes for words of 1..12 bytes
const searchIndexVersion = 1

// ensureSearchIndex rebuilds leads_fts when the file's format is not
// searchIndexVersion.
func ensureSearchIndex(ctx context.Context, tx *sql.Tx) error {
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("readmodel: read search index version: %w", err)
	}
	if v == searchIndexVersion {
		return nil
	}
	return reindexSearch(ctx, tx, 10_000)
}

// reindexSearch replaces every entry of leads_fts with terms built from the
// rows of leads and records searchIndexVersion. Rows are indexed in rowid
// order, so FTS5 buffers them in memory and writes a few large segments. It
// reads chunk rows at a time.
func reindexSearch(ctx context.Context, tx *sql.Tx, chunk int) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO leads_fts (leads_fts) VALUES ('delete-all')`); err != nil {
		return fmt.Errorf("readmodel: reindex search: %w", err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO leads_fts (rowid, terms) VALUES (?, ?)`)
	if err != nil {
		return fmt.Errorf("readmodel: reindex search: %w", err)
	}
	defer ins.Close()
	type source struct {
		pk                                  int64
		tenant, first, last, email, company string
	}
	batch := make([]source, 0, chunk)
	for after := int64(0); ; {
		// Chunks keyed by rowid: no statement stays open across the inserts.
		rows, err := tx.QueryContext(ctx, `SELECT pk, tenant, first_name, last_name, email, company
			FROM leads WHERE pk > ? ORDER BY pk LIMIT ?`, after, chunk)
		if err != nil {
			return fmt.Errorf("readmodel: reindex search: %w", err)
		}
		batch = batch[:0]
		for rows.Next() {
			var s source
			if err := rows.Scan(&s.pk, &s.tenant, &s.first, &s.last, &s.email, &s.company); err != nil {
				_ = rows.Close()
				return fmt.Errorf("readmodel: reindex search: %w", err)
			}
			batch = append(batch, s)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("readmodel: reindex search: %w", err)
		}
		for _, s := range batch {
			if _, err := ins.ExecContext(ctx, s.pk, searchTerms(s.tenant, s.first, s.last, s.email, s.company)); err != nil {
				return fmt.Errorf("readmodel: reindex search: row %d: %w", s.pk, err)
			}
		}
		if len(batch) < chunk {
			break
		}
		after = batch[len(batch)-1].pk
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, searchIndexVersion)); err != nil {
		return fmt.Errorf("readmodel: record search index version: %w", err)
	}
	return nil
}
