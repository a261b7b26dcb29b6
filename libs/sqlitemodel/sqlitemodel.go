// Package sqlitemodel is the storage core of a service's read model in SQLite (the pure-Go
// modernc.org/sqlite driver): one writer connection for the projector and a pool of read-only
// connections that never wait for it (WAL snapshots), versioned migrations embedded in the
// service's binary, and the projection checkpoint stored in the same transaction as the rows it
// describes, with a read-after-write wait on it.
//
// A read model is rebuildable from its stream, so durability is relaxed (synchronous=NORMAL in
// WAL mode never corrupts the file; a power cut can drop the last transactions together with
// their checkpoint, and the projector replays them).
package sqlitemodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers driver "sqlite"
)

// ErrClosed is returned by the methods of a closed DB, and by WaitFor when the DB closes.
var ErrClosed = errors.New("sqlitemodel: closed")

// Options tune Open. The zero value is a sensible production default.
type Options struct {
	// ReadConns is the size of the read pool (default 4).
	ReadConns int
	// CacheKiB is SQLite's page cache of the writer (default 8 MiB). It holds the pages the
	// projector's write cursors touch; with mmap, a page only read comes from the map. Each
	// cache fills up to its bound and stays there, outside the Go heap, and costs about twice
	// its size in RSS (the pure-Go allocator puts a 4 KiB page and its header in an 8 KiB
	// slot): the bounds, times the connections, are what a read model costs in memory (see
	// docs/operations.md#memory).
	CacheKiB int
	// ReadCacheKiB is SQLite's page cache of each reader (default 1 MiB with mmap: a reader
	// gets the file's pages from the map and caches only the pages it reads from the WAL;
	// without mmap, a quarter of CacheKiB and at least 1 MiB).
	ReadCacheKiB int
	// MmapBytes is the memory-map window (default 2 GiB; negative disables mmap).
	MmapBytes int64
	// BusyTimeout is how long a connection waits on a lock (default 5 s). Only Reset, WAL
	// checkpoints and a second process can contend.
	BusyTimeout time.Duration
	// SecureDelete overwrites deleted and replaced content with zeros (PRAGMA secure_delete),
	// for files holding personal data that must be gone from disk once replaced.
	SecureDelete bool
}

func (o Options) withDefaults() Options {
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	if o.CacheKiB <= 0 {
		o.CacheKiB = 8 << 10
	}
	switch {
	case o.MmapBytes == 0:
		o.MmapBytes = 2 << 30
	case o.MmapBytes < 0:
		o.MmapBytes = 0
	}
	switch {
	case o.ReadCacheKiB > 0:
	case o.MmapBytes > 0:
		o.ReadCacheKiB = 1 << 10
	default:
		o.ReadCacheKiB = max(o.CacheKiB/4, 1<<10)
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	return o
}

// DB is an open read model. It is safe for concurrent use: writes are serialised through
// Write and Reset; reads use R.
type DB struct {
	// R is the read-only pool; queries never block on the writer.
	R *sql.DB

	w          *sql.DB // exactly one connection; every write goes through it
	migrations []Migration
	tmpDir     string // removed on Close when the DB is ephemeral
	writeMu    sync.Mutex

	ckMu    sync.Mutex
	ck      map[string]uint64 // committed checkpoints, mirrors the table
	changed chan struct{}     // closed and replaced on every commit
	closed  bool
}

// Open opens (creating if needed) the database at path and applies the migrations found at the
// root of migrations (files NNNN_description.sql). path "" gives an ephemeral database in a
// temporary directory removed by Close; it is a real file, so tests run the same WAL setup as
// production.
func Open(ctx context.Context, path string, migrations fs.FS, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	ms, err := LoadMigrations(migrations)
	if err != nil {
		return nil, err
	}
	d := &DB{migrations: ms, ck: map[string]uint64{}, changed: make(chan struct{})}
	if path == "" {
		dir, err := os.MkdirTemp("", "readmodel-")
		if err != nil {
			return nil, fmt.Errorf("sqlitemodel: temp dir: %w", err)
		}
		d.tmpDir = dir
		path = filepath.Join(dir, "readmodel.db")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, d.failOpen(fmt.Errorf("sqlitemodel: path %q must not contain ? or #", path))
	}
	if d.w, err = sql.Open("sqlite", dsn(path, opts, opts.CacheKiB, false)); err != nil {
		return nil, d.failOpen(err)
	}
	d.w.SetMaxOpenConns(1)
	d.w.SetMaxIdleConns(1)
	d.w.SetConnMaxLifetime(0)
	d.w.SetConnMaxIdleTime(0)
	// The writer creates the file and switches it to WAL before any reader connects.
	if err := d.inTx(ctx, "migrate", d.migrateTx); err != nil {
		return nil, d.failOpen(err)
	}
	if d.R, err = sql.Open("sqlite", dsn(path, opts, opts.ReadCacheKiB, true)); err != nil {
		return nil, d.failOpen(err)
	}
	d.R.SetMaxOpenConns(opts.ReadConns)
	d.R.SetMaxIdleConns(opts.ReadConns)
	d.R.SetConnMaxIdleTime(0)
	if d.ck, err = readCheckpoints(ctx, d.R); err != nil {
		return nil, d.failOpen(err)
	}
	// Cheap: looks only at tables whose statistics are missing or stale.
	if _, err := d.w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return nil, d.failOpen(fmt.Errorf("sqlitemodel: optimize: %w", err))
	}
	return d, nil
}

func dsn(path string, o Options, cacheKiB int, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -cacheKiB))
	q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", o.MmapBytes))
	q.Add("_pragma", "temp_store(MEMORY)")
	if o.SecureDelete {
		q.Add("_pragma", "secure_delete(on)")
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// Take the write lock at BEGIN, so a transaction never fails half-way with SQLITE_BUSY
		// on lock upgrade.
		q.Set("_txlock", "immediate")
		// Bound the WAL after big batches (checkpoints run on commit).
		q.Add("_pragma", "journal_size_limit(67108864)")
		// Checkpoint the WAL every ~32 MiB instead of every 4 MiB: a page the projector
		// rewrites often is copied back once.
		q.Add("_pragma", "wal_autocheckpoint(8192)")
	}
	return path + "?" + q.Encode()
}

// Write runs fn in the writer's transaction and, in the same transaction, records the
// checkpoints fn returns (stream → last applied sequence; a checkpoint never moves back). After
// the commit, WaitFor callers waiting for those sequences wake up. An error from fn rolls
// everything back.
func (d *DB) Write(ctx context.Context, fn func(tx *sql.Tx) (checkpoints map[string]uint64, err error)) error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if err := d.checkOpen(); err != nil {
		return err
	}
	var ck map[string]uint64
	err := d.inTx(ctx, "write", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if ck, err = fn(tx); err != nil {
			return err
		}
		for stream, seq := range ck {
			if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (stream, seq) VALUES (?, ?)
				ON CONFLICT (stream) DO UPDATE SET seq = max(seq, excluded.seq)`, stream, int64(seq)); err != nil {
				return fmt.Errorf("sqlitemodel: record checkpoint: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.advance(ck)
	return nil
}

// inTx runs fn in a transaction of the writer and commits it.
func (d *DB) inTx(ctx context.Context, what string, fn func(context.Context, *sql.Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitemodel: begin %s: %w", what, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitemodel: commit %s: %w", what, err)
	}
	return nil
}

// Reset drops every table and applies the migrations again, in one transaction: the read model
// is empty and its checkpoints are gone, so the projector rebuilds it from the start of the
// stream.
func (d *DB) Reset(ctx context.Context) error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if err := d.checkOpen(); err != nil {
		return err
	}
	err := d.inTx(ctx, "reset", func(ctx context.Context, tx *sql.Tx) error {
		if err := dropAll(ctx, tx); err != nil {
			return err
		}
		return d.migrateTx(ctx, tx)
	})
	if err != nil {
		return err
	}
	d.ckMu.Lock()
	d.ck = map[string]uint64{}
	d.ckMu.Unlock()
	return nil
}

// dropAll drops every table: virtual tables first (that drops their shadow tables), then the
// rest.
func dropAll(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{
		`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql LIKE 'CREATE VIRTUAL%'`,
		`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`,
	} {
		names, err := queryStrings(ctx, tx, q)
		if err != nil {
			return fmt.Errorf("sqlitemodel: reset: %w", err)
		}
		for _, n := range names {
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS "`+strings.ReplaceAll(n, `"`, `""`)+`"`); err != nil {
				return fmt.Errorf("sqlitemodel: reset: drop %s: %w", n, err)
			}
		}
	}
	return nil
}

func queryStrings(ctx context.Context, tx *sql.Tx, q string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (d *DB) failOpen(err error) error {
	_ = d.Close()
	return err
}

// Close releases the connections and wakes WaitFor callers with ErrClosed. An ephemeral
// database's files are removed.
func (d *DB) Close() error {
	d.ckMu.Lock()
	if !d.closed {
		d.closed = true
		close(d.changed)
	}
	d.ckMu.Unlock()
	// Let a running Write or Reset finish before the writer goes away.
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	var errs []error
	if d.R != nil {
		errs = append(errs, d.R.Close())
	}
	if d.w != nil {
		errs = append(errs, d.w.Close())
	}
	if d.tmpDir != "" {
		errs = append(errs, os.RemoveAll(d.tmpDir))
		d.tmpDir = ""
	}
	return errors.Join(errs...)
}
