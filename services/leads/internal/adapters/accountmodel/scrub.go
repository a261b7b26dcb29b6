package accountmodel

import "context"

// Scrub makes contacts' replaced personal data (an erased contact's fields) unrecoverable from
// the files: open the store with sqlitemodel.Options.SecureDelete, and call Scrub after
// applying an erasure (it truncates the WAL, whose older frames hold the pages as they were).
func (s *Store) Scrub(ctx context.Context) error { return s.db.Scrub(ctx) }
