package sqlitemodel

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one versioned schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads the files NNNN_description.sql at the root of fsys, ordered by version.
// Use fs.Sub to point it at an embedded directory.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlitemodel: migration %q: name must be NNNN_description.sql", n)
		}
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: n, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("sqlitemodel: two migrations with version %d", out[i].Version)
		}
	}
	return out, nil
}

// migrateTx applies, inside tx, the migrations not yet recorded in schema_migrations; the
// checkpoints table belongs to this package and is created with it. A crash leaves the old
// schema or the new one, never half of it.
func (d *DB) migrateTx(ctx context.Context, tx *sql.Tx) error {
	for _, ddl := range []string{
		`CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS checkpoints (
			stream TEXT    PRIMARY KEY,
			seq    INTEGER NOT NULL
		) WITHOUT ROWID`,
	} {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("sqlitemodel: create bookkeeping tables: %w", err)
		}
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("sqlitemodel: read schema version: %w", err)
	}
	if n := len(d.migrations); n > 0 && current > d.migrations[n-1].Version {
		return fmt.Errorf("sqlitemodel: database schema version %d is newer than this binary's %d", current, d.migrations[n-1].Version)
	}
	for _, m := range d.migrations {
		if m.Version <= current {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("sqlitemodel: migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().Unix()); err != nil {
			return fmt.Errorf("sqlitemodel: record migration %s: %w", m.Name, err)
		}
	}
	return nil
}
