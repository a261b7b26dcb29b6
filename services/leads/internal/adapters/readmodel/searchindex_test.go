package readmodel

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A file written before migration 0002 (search index format 0, prefix
// indexes of 1..4 bytes) is upgraded by Open: the new search index is built
// from the stored rows, in the migration's transaction, and answers as a
// freshly projected one does.
func TestOpenUpgradesSearchIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "leads.db")
	s, err := Open(ctx, path, Options{})
	require.NoError(t, err)
	seed(t, s, "acme", 300, 5)
	queries := []string{"s", "smi", "e a", "jo sm", "müller", "acme", "zz"}
	want := map[string][]string{}
	for _, q := range queries {
		rows, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: q, PageSize: MaxPageSize})
		require.NoError(t, err)
		want[q] = ids(rows)
	}
	require.NoError(t, s.Close())

	// Turn the file back into what version 1 of the schema left.
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	for _, stmt := range []string{
		`DROP TABLE leads_fts`,
		`CREATE VIRTUAL TABLE leads_fts USING fts5 (terms, content = '', contentless_delete = 1,
			detail = 'none', prefix = '10 11 12 13', tokenize = 'ascii')`,
		`INSERT INTO leads_fts (rowid, terms) SELECT pk, 'stale' FROM leads`,
		`DROP TABLE bulk_load`,
		`DELETE FROM schema_migrations WHERE version > 1`,
		`PRAGMA user_version = 0`,
	} {
		_, err := db.ExecContext(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, db.Close())

	s, err = Open(ctx, path, Options{})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	for _, q := range queries {
		rows, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: q, PageSize: MaxPageSize})
		require.NoError(t, err)
		assert.Equal(t, want[q], ids(rows), "query %q", q)
	}
	var def string
	var version int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE name = 'leads_fts'`).Scan(&def))
	assert.Contains(t, def, "21")
	require.NoError(t, s.r.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version))
	assert.Equal(t, searchIndexVersion, version)
	rows, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: "stale"})
	require.NoError(t, err)
	assert.Empty(t, rows, "the old entries are gone")
}

// reindexSearch reads the rows in chunks; a chunk boundary loses or repeats
// nothing.
func TestReindexSearchChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	seed(t, s, "acme", 100, 6)
	before, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: "e", PageSize: MaxPageSize})
	require.NoError(t, err)
	require.Len(t, before, 100)
	for _, chunk := range []int{1, 7, 100, 1000} {
		tx, err := s.w.BeginTx(ctx, nil)
		require.NoError(t, err)
		require.NoError(t, reindexSearch(ctx, tx, chunk))
		require.NoError(t, tx.Commit())
		after, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: "e", PageSize: MaxPageSize})
		require.NoError(t, err)
		assert.Equal(t, ids(before), ids(after), "chunk %d", chunk)
	}
}
