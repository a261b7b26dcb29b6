package sqlitemodel_test

import (
	"context"
	"database/sql"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/sqlitemodel"
)

// itemStore is a read-model store as services write them: the DB's checkpoint methods and
// Close promoted through the embedded ReadModel, writes only through its own Apply.
type itemStore struct {
	sqlitemodel.ReadModel
	db *sqlitemodel.DB
}

func (s *itemStore) Apply(ctx context.Context, seq uint64, id string, n int) error {
	return s.db.Write(ctx, func(tx *sql.Tx) (map[string]uint64, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO items (id, n) VALUES (?, ?)`, id, n)
		return map[string]uint64{"S": seq}, err
	})
}

func TestOpenDirMigratesFromASubdirectoryAndTheStorePromotesReadModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fsys := fstest.MapFS{"migrations/0001_items.sql": schema["0001_items.sql"], "other.sql": {Data: []byte(`bad sql`)}}
	db, err := sqlitemodel.OpenDir(ctx, "", fsys, "migrations", sqlitemodel.Options{})
	require.NoError(t, err)
	s := &itemStore{ReadModel: db, db: db}

	require.NoError(t, s.Apply(ctx, 7, "a", 1))
	require.NoError(t, s.WaitFor(ctx, "S", 7))
	assert.EqualValues(t, 7, s.Applied("S"))
	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"S": 7}, ck)
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.WaitFor(ctx, "S", 8), sqlitemodel.ErrClosed)
}

func TestOpenDirWithoutMigrationsDirectory(t *testing.T) {
	t.Parallel()
	_, err := sqlitemodel.OpenDir(context.Background(), "", fstest.MapFS{}, "../up", sqlitemodel.Options{})
	require.Error(t, err)
}
