package snapshotstore

import "context"

// Scrub makes snapshots deleted by Forget (an erased person's state) unrecoverable from the
// files: the database zeroes deleted content (secure_delete), and Scrub truncates the WAL,
// whose older frames still hold the pages as they were (sqlitemodel.DB.Scrub).
func (s *Store) Scrub(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.db.Scrub(ctx)
}
