package sqlitemodel

import (
	"context"
	"fmt"
	"time"
)

// Scrub makes replaced content unrecoverable from the files of a DB opened with SecureDelete
// (whose pages are zeroed as rows change): it runs stmts (e.g. an FTS5 'optimize', whose old
// segments still hold deleted entries) and then checkpoints the WAL with TRUNCATE, because
// the WAL's older frames hold pages as they were before. A reader holding an old snapshot can
// keep the WAL from being truncated; Scrub waits for it briefly, then returns an error.
func (d *DB) Scrub(ctx context.Context, stmts ...string) error {
	if err := d.checkOpen(); err != nil {
		return err
	}
	for _, q := range stmts {
		if _, err := d.w.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlitemodel: scrub: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		var busy, log, done int
		if err := d.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &done); err != nil {
			return fmt.Errorf("sqlitemodel: scrub WAL: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 20 {
			return fmt.Errorf("sqlitemodel: scrub WAL: readers kept it busy")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
