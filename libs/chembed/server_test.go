package chembed_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/chembed"
)

// start starts a server in a fresh temporary directory (unless cfg.Dir is set) and stops it
// when the test ends.
func start(t *testing.T, cfg chembed.Config) *chembed.Server {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	srv, err := chembed.Start(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.Stop()) })
	return srv
}

func open(t *testing.T, srv *chembed.Server) driver.Conn {
	t.Helper()
	conn, err := srv.Open(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

func execAll(t *testing.T, conn driver.Conn, queries ...string) {
	t.Helper()
	for _, q := range queries {
		require.NoError(t, conn.Exec(t.Context(), q), q)
	}
}

func exceptionCode(err error) int32 {
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		return ex.Code
	}
	return 0
}

func TestServerTablesBatchInsertAndQuery(t *testing.T) {
	t.Parallel()
	srv := start(t, chembed.Config{})
	conn := open(t, srv)
	ctx := t.Context()

	v, err := conn.ServerVersion()
	require.NoError(t, err)
	t.Logf("server: %s", v)

	// The two engines the analytics schema uses, in the syntax 18.16 and current versions share.
	execAll(t, conn,
		`CREATE TABLE events (
			event_id String, tenant_id String, occurred_at DateTime, seq UInt64, amount Float64,
			tags Array(String), note Nullable(String)
		) ENGINE = MergeTree() PARTITION BY toYYYYMM(occurred_at) ORDER BY (tenant_id, occurred_at, event_id)`,
		`CREATE TABLE leads (
			tenant_id String, lead_id String, stage String, version UInt64
		) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant_id, lead_id)`,
	)

	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	note := "first"
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO events (event_id, tenant_id, occurred_at, seq, amount, tags, note)")
	require.NoError(t, err)
	require.NoError(t, batch.Append("e1", "acme", at, uint64(1), 12.5, []string{"a", "b"}, &note))
	require.NoError(t, batch.Append("e2", "acme", at.Add(time.Hour), uint64(2), 7.25, []string{}, nil))
	require.NoError(t, batch.Send())

	type event struct {
		ID         string    `ch:"event_id"`
		OccurredAt time.Time `ch:"occurred_at"`
		Seq        uint64    `ch:"seq"`
		Amount     float64   `ch:"amount"`
		Tags       []string  `ch:"tags"`
		Note       *string   `ch:"note"`
	}
	var got []event
	require.NoError(t, conn.Select(ctx, &got,
		"SELECT event_id, occurred_at, seq, amount, tags, note FROM events WHERE tenant_id = ? ORDER BY seq", "acme"))
	require.Len(t, got, 2)
	for i := range got { // the driver's UTC is a loaded zone, not the time.UTC pointer
		got[i].OccurredAt = got[i].OccurredAt.UTC()
	}
	assert.Equal(t, event{ID: "e1", OccurredAt: at, Seq: 1, Amount: 12.5, Tags: []string{"a", "b"}, Note: &note}, got[0])
	assert.Equal(t, "e2", got[1].ID)
	assert.Equal(t, at.Add(time.Hour), got[1].OccurredAt)
	assert.Empty(t, got[1].Tags)
	assert.Nil(t, got[1].Note)

	// Two batches, as a redelivery would produce: versions collapse under FINAL and argMax.
	for _, rows := range [][][]any{
		{{"acme", "l1", "new", uint64(1)}, {"acme", "l2", "new", uint64(1)}},
		{{"acme", "l1", "mql", uint64(2)}, {"acme", "l1", "new", uint64(1)}},
	} {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO leads (tenant_id, lead_id, stage, version)")
		require.NoError(t, err)
		for _, r := range rows {
			require.NoError(t, b.Append(r...))
		}
		require.NoError(t, b.Send())
	}
	var stage string
	require.NoError(t, conn.QueryRow(ctx, "SELECT stage FROM leads FINAL WHERE lead_id = 'l1'").Scan(&stage))
	assert.Equal(t, "mql", stage)
	var count uint64
	require.NoError(t, conn.QueryRow(ctx, "SELECT count() FROM leads FINAL").Scan(&count))
	assert.Equal(t, uint64(2), count)
	require.NoError(t, conn.QueryRow(ctx,
		"SELECT argMax(stage, version) FROM leads WHERE lead_id = 'l1' GROUP BY lead_id").Scan(&stage))
	assert.Equal(t, "mql", stage)
}

func TestServerReadonlyUser(t *testing.T) {
	t.Parallel()
	srv := start(t, chembed.Config{Users: []chembed.User{
		{Name: "analyst", Password: "s3cret", Readonly: 2},
		{Name: "viewer", Readonly: 1},
	}})
	execAll(t, open(t, srv),
		"CREATE TABLE facts (id UInt64) ENGINE = MergeTree() ORDER BY id",
		"INSERT INTO facts (id) SELECT number + 1 FROM system.numbers LIMIT 2",
	)
	// Plain clickhouse.Open, as an analyst's tool would connect.
	as := func(user, password string) driver.Conn {
		opts := srv.Options()
		opts.Auth.Username, opts.Auth.Password = user, password
		conn, err := clickhouse.Open(opts)
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	// No deadline on this context: clickhouse-go would send max_execution_time itself.
	ctx := context.WithoutCancel(t.Context())
	analyst := as("analyst", "s3cret")

	var n uint64
	require.NoError(t, analyst.QueryRow(ctx, "SELECT count() FROM facts").Scan(&n))
	assert.Equal(t, uint64(2), n)

	err := analyst.Exec(ctx, "INSERT INTO facts (id) SELECT 3")
	assert.Equal(t, int32(164), exceptionCode(err), "READONLY, got %v", err)
	_, err = analyst.PrepareBatch(ctx, "INSERT INTO facts (id)")
	assert.Equal(t, int32(164), exceptionCode(err), "READONLY, got %v", err)
	err = analyst.Exec(ctx, "CREATE TABLE mine (id UInt64) ENGINE = Memory")
	assert.Equal(t, int32(164), exceptionCode(err), "READONLY, got %v", err)

	// readonly = 2 lets a BI tool bound its queries; the setting really applies.
	withLimit := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_execution_time": 7}))
	var limit, memory string
	require.NoError(t, analyst.QueryRow(withLimit,
		"SELECT value FROM system.settings WHERE name = 'max_execution_time'").Scan(&limit))
	assert.Equal(t, "7", limit)
	// The user's profile inherits the default profile's memory cap.
	require.NoError(t, analyst.QueryRow(ctx,
		"SELECT value FROM system.settings WHERE name = 'max_memory_usage'").Scan(&memory))
	assert.Equal(t, "4294967296", memory)

	opts := srv.Options()
	opts.Auth.Username, opts.Auth.Password = "analyst", "wrong"
	_, err = srv.OpenWith(ctx, opts)
	assert.ErrorContains(t, err, `as "analyst"`)

	// readonly = 1 reads, but 18.16 drops (without an error) settings sent over the native
	// protocol; that is why analysts get readonly = 2.
	viewer := as("viewer", "")
	require.NoError(t, viewer.QueryRow(withLimit,
		"SELECT value FROM system.settings WHERE name = 'max_execution_time'").Scan(&limit))
	assert.Equal(t, "0", limit)
	err = viewer.Exec(ctx, "INSERT INTO facts (id) SELECT 3")
	assert.Equal(t, int32(164), exceptionCode(err), "READONLY, got %v", err)
}

func TestServerDataSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := start(t, chembed.Config{Dir: dir})
	execAll(t, open(t, srv),
		"CREATE TABLE kept (id UInt64, name String) ENGINE = MergeTree() ORDER BY id",
		"INSERT INTO kept (id, name) SELECT number, toString(number) FROM system.numbers LIMIT 2",
	)
	count := func(srv *chembed.Server) uint64 {
		t.Helper()
		var n uint64
		require.NoError(t, open(t, srv).QueryRow(t.Context(), "SELECT count() FROM kept").Scan(&n))
		return n
	}

	// Restart keeps the ports, so addresses handed out before stay valid.
	addr := srv.Addr()
	require.NoError(t, srv.Restart(t.Context()))
	assert.Equal(t, addr, srv.Addr())
	assert.Equal(t, uint64(2), count(srv))

	// A new Start on the same Dir (what make run does on its next launch) finds the data too.
	require.NoError(t, srv.Stop())
	again := start(t, chembed.Config{Dir: dir})
	assert.Equal(t, uint64(2), count(again))
}

func TestStartReportsServerErrors(t *testing.T) {
	t.Parallel()
	t.Run("port taken", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		_, err = chembed.Start(t.Context(), chembed.Config{
			Dir: t.TempDir(), TCPPort: l.Addr().(*net.TCPAddr).Port,
		})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Address already in use", "the error log tail is quoted")
	})
	t.Run("dir in use", func(t *testing.T) {
		t.Parallel()
		srv := start(t, chembed.Config{})
		_, err := chembed.Start(t.Context(), chembed.Config{Dir: srv.Dir()})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Another server instance in same directory is already running")
	})
	t.Run("binary missing", func(t *testing.T) {
		t.Parallel()
		_, err := chembed.Start(t.Context(), chembed.Config{Dir: t.TempDir(), Binary: "/nonexistent/clickhouse-server"})
		assert.ErrorIs(t, err, chembed.ErrBinaryNotFound)
	})
	t.Run("not ready in time", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		_, err := chembed.Start(t.Context(), chembed.Config{Dir: dir, ReadyTimeout: time.Millisecond})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not ready")
		_, statErr := os.Stat(filepath.Join(dir, "config.xml"))
		assert.NoError(t, statErr)
	})
}

func TestOpenRejectsInsertValues(t *testing.T) {
	t.Parallel()
	srv := start(t, chembed.Config{})
	conn := open(t, srv)
	execAll(t, conn, "CREATE TABLE v (id UInt64) ENGINE = MergeTree() ORDER BY id")
	for _, q := range []string{
		"INSERT INTO v (id) VALUES (1)",
		"insert into default.v (id)\n values(?)",
		"INSERT INTO `v` VALUES (1)",
		`INSERT INTO v (id) FORMAT JSONEachRow {"id": 1}`,
	} {
		err := conn.Exec(t.Context(), q, 1)
		assert.ErrorIs(t, err, chembed.ErrInsertValues, q)
	}
	execAll(t, conn, "INSERT INTO v (id) SELECT 1 AS format", "INSERT INTO v SELECT 2 AS values")
	var n uint64
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT count() FROM v").Scan(&n))
	assert.Equal(t, uint64(2), n)
}

func TestServerConcurrentConnections(t *testing.T) {
	t.Parallel()
	srv := start(t, chembed.Config{})
	conn := open(t, srv)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			var n uint64
			assert.NoError(t, conn.QueryRow(t.Context(), "SELECT toUInt64(?) + 1", i).Scan(&n))
			assert.Equal(t, uint64(i+1), n)
		})
	}
	wg.Wait()
}
