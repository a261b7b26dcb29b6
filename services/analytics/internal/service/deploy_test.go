package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/service"
)

// deployDir holds the ClickHouse configuration that operators install (deploy/clickhouse).
var deployDir = filepath.Join("..", "..", "..", "..", "deploy", "clickhouse")

// The files under deploy/clickhouse on a real 18.16 server: the config.d snippet merges (the
// server restarts with it and its preprocessed config has the evcrm values), and the users.d
// template, filled in as the README says, gives an analyst who reads and sets
// max_execution_time but cannot write, a projector who writes the evcrm database, and no
// login without a password.
func TestDeployClickHouseConfig(t *testing.T) {
	ch := testkit.StartClickHouse(t)
	srv := ch.Server()
	ctx := t.Context()

	// config.d: the shipped snippet, then an override that puts back what the test server
	// needs (loopback, its own ports and log directory); ClickHouse merges in name order.
	_, tcpPort, err := net.SplitHostPort(ch.Addr())
	require.NoError(t, err)
	_, httpPort, err := net.SplitHostPort(ch.HTTPAddr())
	require.NoError(t, err)
	confD := filepath.Join(srv.Dir(), "config.d")
	require.NoError(t, os.MkdirAll(confD, 0o750))
	copyFile(t, filepath.Join(deployDir, "config.d", "evcrm.xml"), filepath.Join(confD, "evcrm.xml"))
	logDir := filepath.Join(srv.Dir(), "log")
	writeFile(t, filepath.Join(confD, "zz-test.xml"), `<?xml version="1.0"?>
<yandex>
    <listen_host remove="remove"/>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>`+tcpPort+`</tcp_port>
    <http_port>`+httpPort+`</http_port>
    <logger>
        <log>`+filepath.Join(logDir, "clickhouse-server.log")+`</log>
        <errorlog>`+filepath.Join(logDir, "clickhouse-server.err.log")+`</errorlog>
    </logger>
</yandex>
`)
	logFile := filepath.Join(logDir, "clickhouse-server.log")
	before, err := os.ReadFile(logFile)
	require.NoError(t, err)
	ch.Restart(t)
	// 18.16 keeps no preprocessed copy of the merged file: what it listens on shows the merge.
	after, err := os.ReadFile(logFile)
	require.NoError(t, err)
	restarted := string(after[len(before):])
	require.Contains(t, restarted, "Listening tcp: "+ch.Addr())
	require.NotContains(t, restarted, "0.0.0.0", "the override's removal reaches what the snippet added")
	require.Equal(t, 1, strings.Count(restarted, "Listening tcp:"), "the snippet's removals drop the loopback entries it replaces")

	// users.d: fill the placeholders with SHA-256 digests, as at deploy time.
	const (
		adminPassword     = "admin-secret"
		projectorPassword = "projector-secret"
		analystPassword   = "analyst-secret"
	)
	tmpl, err := os.ReadFile(filepath.Join(deployDir, "users.d", "evcrm.xml"))
	require.NoError(t, err)
	users := os.Expand(string(tmpl), func(name string) string {
		switch name {
		case "CLICKHOUSE_DEFAULT_PASSWORD_SHA256":
			return sha256Hex(adminPassword)
		case "EVCRM_PROJECTOR_PASSWORD_SHA256":
			return sha256Hex(projectorPassword)
		case "EVCRM_ANALYST_PASSWORD_SHA256":
			return sha256Hex(analystPassword)
		}
		t.Fatalf("users.d/evcrm.xml: unknown placeholder ${%s}", name)
		return ""
	})
	require.NotContains(t, users, "${")

	// The evcrm database and a table exist before the users change (the default user still
	// has no password here), as the projector's migrations would have made them.
	admin := ch.Conn(t)
	require.NoError(t, admin.Exec(ctx, "CREATE DATABASE evcrm"))
	require.NoError(t, admin.Exec(ctx, "CREATE TABLE evcrm.leads (tenant String, lead_id String, seq UInt64) ENGINE = ReplacingMergeTree(seq) ORDER BY (tenant, lead_id)"))
	require.NoError(t, admin.Exec(ctx, "CREATE DATABASE other"))
	require.NoError(t, admin.Exec(ctx, "CREATE TABLE other.x (a UInt8) ENGINE = Memory"))

	// ClickHouse reloads the users configuration by itself (every few seconds, users.d
	// included): no restart, which would need the default user's old blank password.
	usersD := filepath.Join(srv.Dir(), "users.d")
	require.NoError(t, os.MkdirAll(usersD, 0o750))
	writeFile(t, filepath.Join(usersD, "evcrm.xml"), users)
	var analyst driver.Conn
	deadline := time.Now().Add(20 * time.Second)
	for analyst, err = openAs(ctx, ch, "evcrm_analyst", analystPassword); err != nil; analyst, err = openAs(ctx, ch, "evcrm_analyst", analystPassword) {
		if time.Now().After(deadline) {
			errLog, _ := os.ReadFile(filepath.Join(logDir, "clickhouse-server.err.log"))
			t.Fatalf("the analyst never could log in: %v\nserver error log:\n%s", err, errLog)
		}
		time.Sleep(200 * time.Millisecond)
	}
	defer analyst.Close()
	projector, err := openAs(ctx, ch, "evcrm_projector", projectorPassword)
	require.NoError(t, err)
	defer projector.Close()

	t.Run("no login without a password", func(t *testing.T) {
		for _, user := range []string{"default", "readonly", "evcrm_analyst", "evcrm_projector"} {
			_, err := openAs(ctx, ch, user, "")
			require.Error(t, err, user)
		}
		c, err := openAs(ctx, ch, "default", adminPassword)
		require.NoError(t, err, "the default user keeps working with its password")
		c.Close()
	})

	t.Run("projector writes evcrm", func(t *testing.T) {
		b, err := projector.PrepareBatch(ctx, "INSERT INTO evcrm.leads (tenant, lead_id, seq)")
		require.NoError(t, err)
		require.NoError(t, b.Append("acme", "l1", uint64(1)))
		require.NoError(t, b.Send())
		// Rebuild: staging tables in evcrm_rebuild, swapped in through evcrm_old.
		for _, db := range []string{"evcrm_rebuild", "evcrm_old"} {
			require.NoError(t, projector.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+db))
		}
		require.NoError(t, projector.Exec(ctx, "CREATE TABLE evcrm_rebuild.leads (tenant String, lead_id String, seq UInt64) ENGINE = ReplacingMergeTree(seq) ORDER BY (tenant, lead_id)"))
		require.NoError(t, projector.Exec(ctx, "RENAME TABLE evcrm.leads TO evcrm_old.leads, evcrm_rebuild.leads TO evcrm.leads"))
		require.NoError(t, projector.Exec(ctx, "RENAME TABLE evcrm.leads TO evcrm_rebuild.leads, evcrm_old.leads TO evcrm.leads"))
		for _, db := range []string{"evcrm_rebuild", "evcrm_old"} {
			require.NoError(t, projector.Exec(ctx, "DROP DATABASE "+db))
		}
		// The service's own migrations create the real leads table below.
		require.NoError(t, projector.Exec(ctx, "DROP TABLE evcrm.leads"))
		require.ErrorContains(t, projector.Exec(ctx, "CREATE TABLE other.y (a UInt8) ENGINE = Memory"), "Access denied", "other databases are out of reach")

		// At its first start the service connects without a database and creates evcrm.
		c, err := openDatabase(ctx, ch, "evcrm_projector", projectorPassword, "")
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Exec(ctx, "CREATE DATABASE IF NOT EXISTS evcrm"))
		_, err = openDatabase(ctx, ch, "evcrm_projector", projectorPassword, "default")
		require.Error(t, err, "the default database is out of reach")
	})

	t.Run("the service runs as the projector user", func(t *testing.T) {
		nc, err := nats.Connect(testkit.StartNATS(t).ClientURL())
		require.NoError(t, err)
		defer nc.Close()
		svc, err := service.New(ctx, nc, service.Options{ClickHouse: service.ClickHouseOptions{
			Addr: ch.Addr(), Database: "evcrm", User: "evcrm_projector", Password: projectorPassword}})
		require.NoError(t, err, "migrations and consumers as evcrm_projector")
		require.NoError(t, svc.Close())
		// A row for the analyst to read, in the table the migrations made.
		b, err := projector.PrepareBatch(ctx, "INSERT INTO evcrm.leads (tenant, lead_id, seq)")
		require.NoError(t, err)
		require.NoError(t, b.Append("acme", "l1", uint64(1)))
		require.NoError(t, b.Send())
	})

	t.Run("analyst reads and sets settings but cannot write", func(t *testing.T) {
		var n uint64
		require.NoError(t, analyst.QueryRow(ctx, "SELECT count() FROM evcrm.leads FINAL WHERE tenant = 'acme'").Scan(&n))
		require.EqualValues(t, 1, n)
		// What Grafana and Metabase do on every query; readonly = 1 would refuse it.
		withLimit := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_execution_time": 5}))
		require.NoError(t, analyst.QueryRow(withLimit, "SELECT count() FROM evcrm.leads").Scan(&n))
		var limit string
		require.NoError(t, analyst.QueryRow(withLimit, "SELECT value FROM system.settings WHERE name = 'max_execution_time'").Scan(&limit))
		require.Equal(t, "5", limit)

		b, err := analyst.PrepareBatch(ctx, "INSERT INTO evcrm.leads (tenant, lead_id, seq)")
		if err == nil {
			require.NoError(t, b.Append("acme", "l2", uint64(2)))
			err = b.Send()
		}
		require.ErrorContains(t, err, "readonly", "INSERT")
		for _, ddl := range []string{
			"CREATE TABLE evcrm.x (a UInt8) ENGINE = Memory",
			"DROP TABLE evcrm.leads",
			"ALTER TABLE evcrm.leads DELETE WHERE 1",
			"SET readonly = 0",
		} {
			require.ErrorContains(t, analyst.Exec(ctx, ddl), "readonly", ddl)
		}
		require.ErrorContains(t, analyst.QueryRow(ctx, "SELECT count() FROM other.x").Scan(&n), "Access denied", "other databases are out of reach")
	})
}

// openAs connects as user to the evcrm database: the analytics users may not use "default", so
// a client must name evcrm (or none) as its database.
func openAs(ctx context.Context, ch *testkit.ClickHouse, user, password string) (driver.Conn, error) {
	return openDatabase(ctx, ch, user, password, "evcrm")
}

func openDatabase(ctx context.Context, ch *testkit.ClickHouse, user, password, database string) (driver.Conn, error) {
	opts := ch.Server().Options()
	opts.Auth.Username, opts.Auth.Password, opts.Auth.Database = user, password, database
	return ch.Server().OpenWith(ctx, opts)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	writeFile(t, to, string(b))
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(name, []byte(content), 0o600))
}
