package sqlitemodel_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/sqlitemodel"
)

var schema = fstest.MapFS{
	"0001_items.sql": {Data: []byte(`CREATE TABLE items (id TEXT PRIMARY KEY, n INTEGER NOT NULL);`)},
	"0002_index.sql": {Data: []byte(`CREATE INDEX items_n ON items (n);`)},
}

func open(t *testing.T, path string, fsys fstest.MapFS) *sqlitemodel.DB {
	t.Helper()
	db, err := sqlitemodel.Open(context.Background(), path, fsys, sqlitemodel.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func insert(id string, n int, ck map[string]uint64) func(*sql.Tx) (map[string]uint64, error) {
	return func(tx *sql.Tx) (map[string]uint64, error) {
		_, err := tx.Exec(`INSERT INTO items (id, n) VALUES (?, ?)`, id, n)
		return ck, err
	}
}

func count(t *testing.T, db *sqlitemodel.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.R.QueryRow(`SELECT count(*) FROM items`).Scan(&n))
	return n
}

func TestWriteRecordsCheckpointWithRowsAndSurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db := open(t, path, schema)

	require.NoError(t, db.Write(ctx, insert("a", 1, map[string]uint64{"S": 7})))
	// A checkpoint never moves back.
	require.NoError(t, db.Write(ctx, insert("b", 2, map[string]uint64{"S": 5, "T": 1})))
	ck, err := db.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"S": 7, "T": 1}, ck)
	assert.Equal(t, uint64(7), db.Applied("S"))

	// A failed write stores neither rows nor checkpoint.
	boom := errors.New("boom")
	err = db.Write(ctx, func(tx *sql.Tx) (map[string]uint64, error) {
		_, _ = tx.Exec(`INSERT INTO items (id, n) VALUES ('c', 3)`)
		return map[string]uint64{"S": 9}, boom
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 2, count(t, db))
	assert.Equal(t, uint64(7), db.Applied("S"))

	require.NoError(t, db.Close())
	again := open(t, path, schema)
	assert.Equal(t, uint64(7), again.Applied("S"))
	assert.Equal(t, 2, count(t, again))
}

func TestWaitForWakesOnCommitAndOnClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t, "", schema)

	done := make(chan error, 1)
	go func() { done <- db.WaitFor(ctx, "S", 3) }()
	require.NoError(t, db.Write(ctx, insert("a", 1, map[string]uint64{"S": 2})))
	select {
	case err := <-done:
		t.Fatalf("WaitFor(3) returned at checkpoint 2: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	require.NoError(t, db.Write(ctx, insert("b", 1, map[string]uint64{"S": 3})))
	require.NoError(t, <-done)

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, db.WaitFor(short, "S", 4), context.DeadlineExceeded)

	go func() { done <- db.WaitFor(ctx, "S", 100) }()
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, db.Close())
	assert.ErrorIs(t, <-done, sqlitemodel.ErrClosed)
	assert.ErrorIs(t, db.Write(ctx, insert("c", 1, nil)), sqlitemodel.ErrClosed)
}

func TestResetEmptiesRowsAndCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t, "", schema)
	require.NoError(t, db.Write(ctx, insert("a", 1, map[string]uint64{"S": 2})))
	require.NoError(t, db.Reset(ctx))
	assert.Equal(t, 0, count(t, db))
	ck, err := db.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Empty(t, ck)
	assert.Zero(t, db.Applied("S"))
	// The schema is back, so the projector can rebuild at once.
	require.NoError(t, db.Write(ctx, insert("a", 1, map[string]uint64{"S": 1})))
}

func TestMigrationsApplyOnceInOrderAndRefuseANewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db := open(t, path, fstest.MapFS{"0001_items.sql": schema["0001_items.sql"]})
	require.NoError(t, db.Close())

	// A later binary adds a migration; only it runs.
	db = open(t, path, schema)
	var versions int
	require.NoError(t, db.R.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&versions))
	assert.Equal(t, 2, versions)
	require.NoError(t, db.Close())

	// An older binary must not run on a schema it does not know.
	_, err := sqlitemodel.Open(ctx, path, fstest.MapFS{"0001_items.sql": schema["0001_items.sql"]}, sqlitemodel.Options{})
	assert.ErrorContains(t, err, "newer than this binary")

	for name, fsys := range map[string]fstest.MapFS{
		"bad name":          {"items.sql": {Data: []byte(`SELECT 1`)}},
		"duplicate version": {"0001_a.sql": {Data: []byte(`SELECT 1`)}, "0001_b.sql": {Data: []byte(`SELECT 1`)}},
		"bad sql":           {"0001_a.sql": {Data: []byte(`CREATE TABLEX`)}},
	} {
		_, err := sqlitemodel.Open(ctx, "", fsys, sqlitemodel.Options{})
		assert.Error(t, err, name)
	}
}
