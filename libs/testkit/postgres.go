package testkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresInstallHint is how to get the server StartPostgres needs.
const postgresInstallHint = "install it with `apt-get install -y postgresql` (Debian's PostgreSQL), " +
	"or run `make deps`, which installs it"

// PostgresOptions tune StartPostgresWith. The zero value is a durable server: fsync on and
// synchronous_commit on (a commit returns once its WAL record is flushed to disk).
type PostgresOptions struct {
	// NoFsync turns fsync off (fsync = off: nothing is ever flushed; a crash can corrupt the
	// cluster). Only for measuring what durability costs.
	NoFsync bool
	// SynchronousCommit is the synchronous_commit setting: "on" (the default when empty) or
	// "off" (a commit returns before its WAL is flushed; the WAL writer flushes every
	// wal_writer_delay, 200 ms, so a crash loses at most the last ~600 ms of commits but never
	// corrupts the cluster).
	SynchronousCommit string
	// MaxConns is the pool's size (default 16). The server accepts 200 connections.
	MaxConns int32
}

// Postgres is a throwaway PostgreSQL cluster (Debian's postgresql package) for one test or
// benchmark: initdb in a temporary directory, a server on a free loopback port with its unix
// socket in that directory, and a pgx pool on it.
type Postgres struct {
	// DSN connects as the superuser "postgres" (trust authentication) to database "postgres".
	DSN string
	// Pool is a pgx pool on DSN, closed when the test ends.
	Pool *pgxpool.Pool
	// Dir holds the cluster (Dir/data), the socket and the server log (Dir/server.log).
	Dir string
	// Version is the server's version, e.g. "15.18".
	Version string
}

// StartPostgres starts a durable PostgreSQL cluster (fsync on, synchronous_commit on) and
// stops it when the test ends. See StartPostgresWith.
func StartPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	return StartPostgresWith(tb, PostgresOptions{})
}

// StartPostgresWith runs initdb in a new temporary directory, starts the server with pg_ctl on
// a free 127.0.0.1 port (unix socket in the same directory), and opens a pgx pool; the server
// is stopped (pg_ctl stop -m fast) and the directory removed when the test ends. Starting
// takes one to two seconds.
//
// initdb and the server refuse to run as root, so when the test runs as root both run as the
// "postgres" system user that Debian's package creates (the directory is chown'ed to it).
// The binaries are found under /usr/lib/postgresql/<version>/bin (the newest version), or in
// $EVCRM_PG_BIN. Without them the test fails: the benchmarks compare with PostgreSQL and CI
// must not pass by skipping.
func StartPostgresWith(tb testing.TB, o PostgresOptions) *Postgres {
	tb.Helper()
	bin, err := PostgresBinDir()
	if err != nil {
		tb.Fatalf("testkit: %v; %s", err, postgresInstallHint)
	}
	cred, err := postgresCredential()
	if err != nil {
		tb.Fatalf("testkit: postgres: %v", err)
	}
	// Not tb.TempDir: its parent directory is private to the test's user, and the server may
	// run as another user.
	dir, err := os.MkdirTemp("", "evcrm-pg-")
	if err != nil {
		tb.Fatalf("testkit: postgres: %v", err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			tb.Fatalf("testkit: postgres: chown %s: %v", dir, err)
		}
	}
	data := filepath.Join(dir, "data")
	run := func(name string, args ...string) error {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, out)
		}
		return nil
	}
	// --no-sync: the cluster is thrown away, so initdb need not flush its files (saves
	// seconds on a slow disk); the server's own fsync setting is what is measured.
	if err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
		"--no-sync", "--no-instructions"); err != nil {
		tb.Fatalf("testkit: postgres: %v", err)
	}
	port := freePort(tb)
	syncCommit := o.SynchronousCommit
	if syncCommit == "" {
		syncCommit = "on"
	}
	conf := fmt.Sprintf("\n# evcrm testkit\nlisten_addresses = '127.0.0.1'\nport = %d\n"+
		"unix_socket_directories = '%s'\nfsync = %s\nsynchronous_commit = %s\nmax_connections = 200\n",
		port, dir, map[bool]string{false: "on", true: "off"}[o.NoFsync], syncCommit)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		tb.Fatalf("testkit: postgres: configure: %v", err)
	}
	logFile := filepath.Join(dir, "server.log")
	// Registered before the start, so a start that fails half-way leaves no server behind.
	tb.Cleanup(func() {
		if err := run("pg_ctl", "stop", "-D", data, "-m", "fast", "-w", "-t", "60"); err != nil &&
			!strings.Contains(err.Error(), "Is server running?") {
			tb.Errorf("testkit: postgres: %v", err)
		}
	})
	if err := run("pg_ctl", "start", "-D", data, "-l", logFile, "-w", "-t", "60"); err != nil {
		log, _ := os.ReadFile(logFile)
		tb.Fatalf("testkit: postgres: %v\nserver log:\n%s", err, log)
	}

	p := &Postgres{Dir: dir, DSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
	cfg, err := pgxpool.ParseConfig(p.DSN)
	if err != nil {
		tb.Fatalf("testkit: postgres: %v", err)
	}
	cfg.MaxConns = 16
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p.Pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("testkit: postgres: %v", err)
	}
	tb.Cleanup(p.Pool.Close) // runs before the stop above (cleanups run last-in first-out)
	if err := p.Pool.QueryRow(ctx, "SHOW server_version").Scan(&p.Version); err != nil {
		tb.Fatalf("testkit: postgres: %v", err)
	}
	p.Version, _, _ = strings.Cut(p.Version, " ")
	return p
}

// PostgresBinDir is the directory of Debian's PostgreSQL server programs (initdb, pg_ctl,
// postgres): $EVCRM_PG_BIN when set, else the newest /usr/lib/postgresql/<version>/bin.
func PostgresBinDir() (string, error) {
	if d := os.Getenv("EVCRM_PG_BIN"); d != "" {
		return d, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", errors.New("no PostgreSQL server programs in /usr/lib/postgresql/*/bin")
	}
	version := func(p string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return v
	}
	newest := slices.MaxFunc(found, func(a, b string) int { return version(a) - version(b) })
	return filepath.Dir(newest), nil
}

// postgresCredential is whom initdb and the server run as: nil (the current user) unless the
// process is root, which PostgreSQL refuses; then Debian's "postgres" system user.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses root: no 'postgres' user to run it as (%w)", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}
