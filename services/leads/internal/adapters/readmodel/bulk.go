package readmodel

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// A bulk load is how the read model takes a rebuild from the start of the
// stream. Applied row by row, a rebuild spends most of its time in random
// inserts into the six secondary indexes of leads and in FTS5 segment merges:
// every projector batch dirties an index leaf page per row and index, and the
// WAL receives each of them. A bulk load drops those indexes and leaves the
// search index empty while the projector catches up, then builds both in one
// pass (CREATE INDEX sorts; reindexSearch inserts in rowid order).
//
// It begins with an Apply of at least bulkMinRows upserts to a store that has
// no checkpoint and no rows (a new or Reset file), inside that Apply's
// transaction. It ends, in one transaction, once the projector has caught up:
// when the projector says so (EndBulkLoad: it is applying events written
// moments ago) or when no Apply has come for bulkIdle (the stream has no newer
// events). bulk_load records the dropped indexes, so a crash leaves either the
// bulk load, which the projector resumes from the checkpoint, or its end
// state; never a store without its indexes and without that record.
//
// Until it ends, WaitFor does not see the loaded sequences: a read after a
// write finds the write with every index built. Other queries meanwhile read
// rows without secondary indexes (slowly) and find nothing by search.
const (
	bulkMinRows = 100 // a rebuild's batches are large (up to 500 events); live ones small
	bulkIdle    = 2 * time.Second
)

// EndBulkLoad ends the bulk load in progress, if any (see bulk.go): the
// projector calls it once it has caught up with the stream. It takes as long
// as building the indexes: about a minute at 1,000,000 leads.
func (s *Store) EndBulkLoad(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	if !s.bulk {
		return nil
	}
	return s.endBulk(ctx)
}

// beginBulk drops every secondary index of leads but the (tenant, id) one the
// upserts look rows up by, and records their definitions in bulk_load.
func beginBulk(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema
		WHERE type = 'index' AND tbl_name = 'leads' AND sql IS NOT NULL AND name <> 'leads_by_tenant_id'`)
	if err != nil {
		return fmt.Errorf("readmodel: begin bulk load: %w", err)
	}
	indexes, err := scanPairs(rows)
	if err != nil {
		return fmt.Errorf("readmodel: begin bulk load: %w", err)
	}
	for _, ix := range indexes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO bulk_load (index_name, index_sql) VALUES (?, ?)`, ix[0], ix[1]); err != nil {
			return fmt.Errorf("readmodel: begin bulk load: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+quoteIdent(ix[0])); err != nil {
			return fmt.Errorf("readmodel: begin bulk load: drop %s: %w", ix[0], err)
		}
	}
	return nil
}

// finishBulk creates the indexes bulk_load records, rebuilds the search index
// and empties bulk_load.
func finishBulk(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT index_name, index_sql FROM bulk_load ORDER BY index_name`)
	if err != nil {
		return fmt.Errorf("readmodel: finish bulk load: %w", err)
	}
	indexes, err := scanPairs(rows)
	if err != nil {
		return fmt.Errorf("readmodel: finish bulk load: %w", err)
	}
	for _, ix := range indexes {
		if _, err := tx.ExecContext(ctx, ix[1]); err != nil {
			return fmt.Errorf("readmodel: finish bulk load: create %s: %w", ix[0], err)
		}
	}
	if err := reindexSearch(ctx, tx, 10_000); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM bulk_load`); err != nil {
		return fmt.Errorf("readmodel: finish bulk load: %w", err)
	}
	return nil
}

func inBulk(ctx context.Context, db *sql.DB) (bool, error) {
	var bulk bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM bulk_load)`).Scan(&bulk); err != nil {
		return false, fmt.Errorf("readmodel: read bulk load state: %w", err)
	}
	return bulk, nil
}

// startsBulk reports whether the Apply running in tx begins a bulk load: a
// batch of a rebuild into an empty store. writeMu is held.
func (s *Store) startsBulk(ctx context.Context, tx *sql.Tx, upserts int) (bool, error) {
	s.ckMu.Lock()
	fresh := len(s.ck) == 0
	s.ckMu.Unlock()
	if !fresh || upserts < bulkMinRows || s.noBulkLoad {
		return false, nil
	}
	var empty bool
	if err := tx.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM leads)`).Scan(&empty); err != nil {
		return false, fmt.Errorf("readmodel: begin bulk load: %w", err)
	}
	return empty, nil
}

// bulkApplied notes an Apply committed during the bulk load and restarts the
// idle timer. writeMu is held.
func (s *Store) bulkApplied() {
	s.lastApply = time.Now()
	if s.bulkTimer == nil {
		s.bulkTimer = time.AfterFunc(s.bulkIdle, s.finishIdleBulk)
		return
	}
	s.bulkTimer.Reset(s.bulkIdle)
}

// finishIdleBulk ends the bulk load once the projector has been idle for
// bulkIdle. Should that fail, the next Apply ends it and reports the error.
func (s *Store) finishIdleBulk() {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if !s.bulk || s.checkOpen() != nil {
		return
	}
	if idle := time.Since(s.lastApply); idle < s.bulkIdle {
		s.bulkTimer.Reset(s.bulkIdle - idle) // an Apply came while this waited for the lock
		return
	}
	if err := s.endBulk(s.bgCtx); err != nil {
		s.bulkDue = true
	}
}

// endBulk finishes the bulk load in its own transaction and lets WaitFor see
// the checkpoints. writeMu is held.
func (s *Store) endBulk(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("readmodel: finish bulk load: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := finishBulk(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("readmodel: finish bulk load: %w", err)
	}
	return s.bulkEnded(ctx)
}

// bulkEnded records that the bulk load's end has committed. writeMu is held.
func (s *Store) bulkEnded(ctx context.Context) error {
	s.bulk, s.bulkDue = false, false
	if s.bulkTimer != nil {
		s.bulkTimer.Stop()
	}
	ck, err := readCheckpoints(ctx, s.w)
	if err != nil {
		return err
	}
	for stream, seq := range ck {
		s.advance(stream, seq)
	}
	return nil
}

func scanPairs(rows *sql.Rows) ([][2]string, error) {
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
