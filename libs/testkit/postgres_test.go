package testkit_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/testkit"
)

func TestStartPostgres(t *testing.T) {
	var dsn, dir string
	t.Run("durable", func(t *testing.T) {
		pg := testkit.StartPostgres(t)
		dsn, dir = pg.DSN, pg.Dir
		ctx := context.Background()
		var fsync, syncCommit string
		require.NoError(t, pg.Pool.QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('synchronous_commit')").Scan(&fsync, &syncCommit))
		require.Equal(t, "on", fsync)
		require.Equal(t, "on", syncCommit)
		require.NotEmpty(t, pg.Version)
		_, err := pg.Pool.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY, v bytea)")
		require.NoError(t, err)
		_, err = pg.Pool.Exec(ctx, "INSERT INTO t VALUES (1, $1)", []byte("x"))
		require.NoError(t, err)
		var v []byte
		require.NoError(t, pg.Pool.QueryRow(ctx, "SELECT v FROM t WHERE id = 1").Scan(&v))
		require.Equal(t, []byte("x"), v)
	})
	// The cleanup stopped the server and removed its directory.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := pgx.Connect(ctx, dsn)
	require.Error(t, err, "the server still accepts connections after the test")
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err), "directory %s left behind", dir)

	t.Run("fast", func(t *testing.T) {
		pg := testkit.StartPostgresWith(t, testkit.PostgresOptions{NoFsync: true, SynchronousCommit: "off", MaxConns: 3})
		var fsync, syncCommit string
		require.NoError(t, pg.Pool.QueryRow(context.Background(), "SELECT current_setting('fsync'), current_setting('synchronous_commit')").Scan(&fsync, &syncCommit))
		require.Equal(t, "off", fsync)
		require.Equal(t, "off", syncCommit)
		require.EqualValues(t, 3, pg.Pool.Config().MaxConns)
	})
}
