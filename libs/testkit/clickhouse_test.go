package testkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSharedClickHouseDatabasesAreIsolated(t *testing.T) {
	t.Parallel()
	ch := SharedClickHouse(t)
	require.Same(t, ch, SharedClickHouse(t), "one server per test binary")

	for _, tenant := range []string{"acme", "globex", "initech"} {
		t.Run(tenant, func(t *testing.T) {
			t.Parallel()
			db := ch.NewDatabase(t)
			conn := ch.ConnDatabase(t, db)
			ctx := t.Context()
			// Every subtest creates the same table name; the databases keep them apart.
			require.NoError(t, conn.Exec(ctx, `CREATE TABLE leads (tenant_id String, lead_id String,
				stage String, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant_id, lead_id)`))
			batch, err := conn.PrepareBatch(ctx, "INSERT INTO leads (tenant_id, lead_id, stage, version)")
			require.NoError(t, err)
			for i := range len(tenant) {
				require.NoError(t, batch.Append(tenant, fmt.Sprintf("l%d", i), "new", uint64(1)))
			}
			require.NoError(t, batch.Send())

			var n uint64
			require.NoError(t, conn.QueryRow(ctx, "SELECT count() FROM leads FINAL").Scan(&n))
			assert.Equal(t, uint64(len(tenant)), n)
			var other uint64
			require.NoError(t, conn.QueryRow(ctx, "SELECT count() FROM leads WHERE tenant_id != ?", tenant).Scan(&other))
			assert.Zero(t, other)
		})
	}
}

func TestNewDatabaseIsDroppedAfterTheTest(t *testing.T) {
	t.Parallel()
	ch := SharedClickHouse(t)
	var db string
	t.Run("owner", func(t *testing.T) {
		db = ch.NewDatabase(t)
		assert.Regexp(t, `^t\d+_testnewdatabaseisdroppedafterthetest_`, db)
	})
	var n uint64
	require.NoError(t, ch.Conn(t).QueryRow(t.Context(),
		"SELECT count() FROM system.databases WHERE name = ?", db).Scan(&n))
	assert.Zero(t, n, "database %s outlived its test", db)
}

func TestClickHouseAnalystIsReadOnly(t *testing.T) {
	t.Parallel()
	ch := SharedClickHouse(t)
	db := ch.NewDatabase(t)
	require.NoError(t, ch.ConnDatabase(t, db).Exec(t.Context(),
		"CREATE TABLE facts (id UInt64) ENGINE = MergeTree() ORDER BY id"))

	opts := ch.Server().Options()
	opts.Auth = clickhouse.Auth{Database: db, Username: ClickHouseAnalyst, Password: ClickHouseAnalystPassword}
	analyst, err := ch.Server().OpenWith(t.Context(), opts)
	require.NoError(t, err)
	defer analyst.Close()

	// The deadline makes clickhouse-go send max_execution_time, which readonly = 2 allows.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var n uint64
	require.NoError(t, analyst.QueryRow(ctx, "SELECT count() FROM facts").Scan(&n))
	err = analyst.Exec(ctx, "INSERT INTO facts (id) SELECT 1")
	var ex *clickhouse.Exception
	require.True(t, errors.As(err, &ex), "got %v", err)
	assert.Equal(t, int32(164), ex.Code, "READONLY")
}

func TestStartClickHouseRestart(t *testing.T) {
	t.Parallel()
	ch := StartClickHouse(t)
	conn := ch.Conn(t)
	ctx := t.Context()
	require.NoError(t, conn.Exec(ctx, "CREATE TABLE kept (id UInt64) ENGINE = MergeTree() ORDER BY id"))
	require.NoError(t, conn.Exec(ctx, "INSERT INTO kept (id) SELECT number FROM system.numbers LIMIT 5"))

	addr := ch.Addr()
	ch.Restart(t)
	assert.Equal(t, addr, ch.Addr())

	// The pool's old connections died with the server; the driver replaces them.
	var n uint64
	require.NoError(t, conn.QueryRow(ctx, "SELECT count() FROM kept").Scan(&n))
	assert.Equal(t, uint64(5), n)
}

func TestSharedClickHouseCannotRestart(t *testing.T) {
	t.Parallel()
	ch := SharedClickHouse(t)
	rec := runRecorded(t, func(tb *recordingTB) { ch.Restart(tb) })
	assert.True(t, rec.failed)
	assert.Contains(t, rec.msg, "cannot be restarted")
}

// Not parallel: it changes the environment and the binary the kit looks for.
func TestClickHouseWithoutBinary(t *testing.T) {
	saved, savedNotice := clickhouseBinary, skipNotice
	t.Cleanup(func() { clickhouseBinary, skipNotice = saved, savedNotice })
	clickhouseBinary = "/nonexistent/clickhouse-server"
	var notice bytes.Buffer
	skipNotice = &notice

	t.Run("skips locally", func(t *testing.T) {
		t.Setenv("CI", "")
		rec := runRecorded(t, func(tb *recordingTB) { StartClickHouse(tb) })
		assert.True(t, rec.skipped)
		assert.False(t, rec.failed)
		assert.Contains(t, rec.msg, "apt-get install -y clickhouse-server clickhouse-client")
	})
	t.Run("fails in CI", func(t *testing.T) {
		t.Setenv("CI", "true")
		rec := runRecorded(t, func(tb *recordingTB) { StartClickHouse(tb) })
		assert.True(t, rec.failed)
		assert.False(t, rec.skipped)
		assert.Contains(t, rec.msg, "make test")
	})
	assert.Contains(t, notice.String(), "SKIPPING every test that needs ClickHouse")
}

func TestIdentifier(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"TestX", "testx"},
		{"TestX/sub case#01", "testx_sub_case_01"},
		{"Test_ünïcode", "test__n_code"},
		{"TestAVeryLongNameThatGoesOnAndOnAndOnAndOn", "testaverylongnamethatgoesonandonandonando"[:40]},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, identifier(tt.in, 40), tt.in)
	}
}

// recordingTB stands in for a test inside a test: it records Skip and Fatal instead of acting
// on the real test, and, like the real ones, ends its goroutine.
type recordingTB struct {
	testing.TB
	mu              sync.Mutex
	skipped, failed bool
	msg             string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func runRecorded(t *testing.T, f func(*recordingTB)) *recordingTB {
	t.Helper()
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	return rec
}

func TestSweepSharedDirsRemovesAbandonedOnes(t *testing.T) {
	t.Parallel()
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	mk := func(owner int) string {
		dir, err := os.MkdirTemp("", sharedDirPrefix)
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(dir) })
		require.NoError(t, os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(owner)), 0o600))
		return dir
	}
	abandoned, live := mk(dead.Process.Pid), mk(os.Getppid())

	sweepSharedDirs()
	assert.NoDirExists(t, abandoned)
	assert.DirExists(t, live)
}
