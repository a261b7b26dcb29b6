package testkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/evcrm/evcrm/libs/chembed"
)

// The read-only user every test ClickHouse server declares, set up like the analysts' user
// (readonly = 2: reads only, may set max_execution_time and other settings per query).
const (
	ClickHouseAnalyst         = "analyst"
	ClickHouseAnalystPassword = "analyst"
)

// clickhouseInstallHint is how to get the server the tests need.
const clickhouseInstallHint = "install it with `apt-get install -y clickhouse-server clickhouse-client` " +
	"(Debian's ClickHouse 18.16), or run `make test`, which installs it"

// Variables so the kit's own tests can simulate a machine without ClickHouse.
var (
	clickhouseBinary           = "" // chembed's lookup
	skipNotice       io.Writer = os.Stderr
)

// ClickHouse is a ClickHouse server process (Debian's 18.16, see libs/chembed) for tests.
// Connections it hands out use the native protocol; on 18.16 send rows with PrepareBatch and
// name the columns of every INSERT (Exec of an INSERT with inline rows fails with
// chembed.ErrInsertValues instead of hanging).
type ClickHouse struct {
	srv    *chembed.Server
	shared bool
}

// StartClickHouse starts a server of the test's own in t.TempDir() and stops it when the test
// ends. Starting takes about a second; tests that only need a database of their own should
// use SharedClickHouse and NewDatabase instead.
//
// Without a ClickHouse binary the test is skipped (and a notice printed once), unless the
// environment variable CI is set: then it fails, because CI must not pass by skipping.
func StartClickHouse(t testing.TB) *ClickHouse {
	t.Helper()
	srv, err := chembed.Start(t.Context(), clickhouseConfig(t.TempDir()))
	if err != nil {
		clickhouseUnavailable(t, err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("testkit: stop clickhouse: %v", err)
		}
	})
	return &ClickHouse{srv: srv}
}

func clickhouseConfig(dir string) chembed.Config {
	return chembed.Config{
		Dir:    dir,
		Binary: clickhouseBinary,
		Users: []chembed.User{
			{Name: ClickHouseAnalyst, Password: ClickHouseAnalystPassword, Readonly: 2},
		},
	}
}

var skipNoticeOnce sync.Once

// clickhouseUnavailable ends the test for a server that could not be started.
func clickhouseUnavailable(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, chembed.ErrBinaryNotFound) {
		t.Fatalf("testkit: start clickhouse: %v", err)
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("testkit: %v; CI runs the ClickHouse tests, so %s", err, clickhouseInstallHint)
	}
	// go test shows skips only with -v; a missing server should not go unnoticed.
	skipNoticeOnce.Do(func() {
		fmt.Fprintf(skipNotice, "testkit: SKIPPING every test that needs ClickHouse: %v\ntestkit: %s\n",
			err, clickhouseInstallHint)
	})
	t.Skipf("testkit: SKIP: no ClickHouse server binary (%v); %s", err, clickhouseInstallHint)
}

// Server returns the underlying server, e.g. for Options and OpenWith.
func (c *ClickHouse) Server() *chembed.Server { return c.srv }

// Addr returns the native-protocol address, host:port.
func (c *ClickHouse) Addr() string { return c.srv.Addr() }

// HTTPAddr returns the HTTP interface address, host:port.
func (c *ClickHouse) HTTPAddr() string { return c.srv.HTTPAddr() }

// Conn opens a connection as the default user on the default database and closes it when the
// test ends.
func (c *ClickHouse) Conn(t testing.TB) driver.Conn {
	t.Helper()
	return c.ConnDatabase(t, "default")
}

// ConnDatabase opens a connection as the default user whose queries run in database (for
// unqualified table names), and closes it when the test ends.
func (c *ClickHouse) ConnDatabase(t testing.TB, database string) driver.Conn {
	t.Helper()
	opts := c.srv.Options()
	opts.Auth.Database = database
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := c.srv.OpenWith(ctx, opts)
	if err != nil {
		t.Fatalf("testkit: connect to clickhouse: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

var databaseSeq atomic.Uint64

// NewDatabase creates a database that belongs to the test, named after it, and drops it when
// the test ends. Tests sharing one server each work in their own database.
func (c *ClickHouse) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%s", databaseSeq.Add(1), identifier(t.Name(), 40))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := c.srv.Open(ctx)
	if err != nil {
		t.Fatalf("testkit: connect to clickhouse: %v", err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testkit: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run. Dropping a benchmark's database of
		// ten million events (thousands of parts) took over 30 s on 2 cores.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		conn, err := c.srv.Open(ctx)
		if err == nil {
			defer conn.Close()
			err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
		}
		if err != nil {
			t.Errorf("testkit: drop database %s: %v", name, err)
		}
	})
	return name
}

// identifier turns s into a lower-case ClickHouse identifier of at most limit bytes.
func identifier(s string, limit int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if b.Len() == limit {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Restart restarts a server from StartClickHouse on the same ports and directory, e.g. to
// test how a client rides out an outage. Connections opened before reconnect on their next
// use. The shared server cannot be restarted: other tests are using it.
func (c *ClickHouse) Restart(t testing.TB) {
	t.Helper()
	if c.shared {
		t.Fatalf("testkit: the shared ClickHouse server cannot be restarted; use StartClickHouse")
	}
	if err := c.srv.Restart(t.Context()); err != nil {
		t.Fatalf("testkit: restart clickhouse: %v", err)
	}
}
