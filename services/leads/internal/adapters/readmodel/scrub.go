package readmodel

import (
	"context"
	"fmt"
	"time"
)

// Scrub makes personal data that the projector has replaced (an erased person's fields)
// unrecoverable from the files, not only from queries. The writer runs with secure_delete, so
// replaced row content is zeroed in the pages it lived in; what is left are the search
// index's old segments, whose entries a delete only tombstones until a merge, and the WAL,
// whose older frames still hold pages as they were. So Scrub merges the search index into
// one segment (FTS5 'optimize') and checkpoints the WAL with TRUNCATE.
//
// Cost: optimize rewrites the whole search index (about a second per 100,000 leads), so
// callers run it after a batch that erased someone, not after every batch. A reader holding an
// old snapshot can keep the WAL from being truncated; Scrub waits for it a little, then
// returns an error, and the next Scrub finishes the job.
func (s *Store) Scrub(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.w.ExecContext(ctx, `INSERT INTO leads_fts(leads_fts) VALUES ('optimize')`); err != nil {
		return fmt.Errorf("readmodel: scrub search index: %w", err)
	}
	return truncateWAL(ctx, func(ctx context.Context) (int, error) {
		var busy, log, done int
		err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &done)
		return busy, err
	})
}

// truncateWAL runs a TRUNCATE checkpoint until no reader is in its way (busy 0), a few times.
func truncateWAL(ctx context.Context, checkpoint func(context.Context) (int, error)) error {
	for attempt := 0; ; attempt++ {
		busy, err := checkpoint(ctx)
		if err != nil {
			return fmt.Errorf("readmodel: scrub WAL: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 20 {
			return fmt.Errorf("readmodel: scrub WAL: readers kept it busy")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
