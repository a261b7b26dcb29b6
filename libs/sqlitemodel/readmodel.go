package sqlitemodel

import (
	"context"
	"fmt"
	"io/fs"
)

// ReadModel is the part of a DB that a service's read-model store passes through unchanged:
// where the projection stands, the read-after-write wait and Close. A store embeds it, set to
// its DB, to promote exactly these methods (a projection runner and the views call them) while
// Write, Reset and R stay behind the store's own methods:
//
//	type Store struct {
//		sqlitemodel.ReadModel
//		db *sqlitemodel.DB
//	}
//
//	db, err := sqlitemodel.OpenDir(ctx, path, migrationFiles, "migrations", opts)
//	...
//	return &Store{ReadModel: db, db: db}, nil
type ReadModel interface {
	// Checkpoint returns, per stream, the sequence of the last event whose effects are stored;
	// a projection runner resumes after it. See DB.Checkpoint.
	Checkpoint(ctx context.Context) (map[string]uint64, error)
	// Applied returns the committed checkpoint of stream as this process knows it (no query).
	Applied(stream string) uint64
	// WaitFor returns once stream has been applied up to seq (read-after-write for a command
	// that returned seq), ctx's error when ctx ends first, and ErrClosed when the store closes.
	WaitFor(ctx context.Context, stream string, seq uint64) error
	// Close releases the connections and wakes WaitFor callers with ErrClosed.
	Close() error
}

var _ ReadModel = (*DB)(nil)

// OpenDir is Open with the migrations in directory dir of fsys, typically the embed.FS of a
// service's read model holding migrations/*.sql.
func OpenDir(ctx context.Context, path string, fsys fs.FS, dir string, opts Options) (*DB, error) {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlitemodel: migrations: %w", err)
	}
	return Open(ctx, path, sub, opts)
}
