package readmodel

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers driver "sqlite"
)

// Options tune Open. The zero value is a sensible production default.
type Options struct {
	// ReadConns is the size of the read pool (default 4). Reads never wait
	// for the writer: WAL gives each a snapshot.
	ReadConns int
	// CacheKiB is SQLite's page cache of the writer (default 16 MiB: the
	// pages the projector's write cursors touch; pages only read come from
	// the map). Each reader caches 1 MiB with mmap (only pages read from the
	// WAL), a quarter of CacheKiB without. A cache costs about twice its
	// size in RSS; see docs/operations.md#memory.
	CacheKiB int
	// MmapBytes is the memory-map window (default 2 GiB; 0 keeps the
	// default, negative disables mmap).
	MmapBytes int64
	// BusyTimeout is how long a connection waits on a lock (default 5 s).
	// Only Reset, WAL checkpoints and a second process can contend.
	BusyTimeout time.Duration
	// NoBulkLoad applies a rebuild row by row, with every index kept up to
	// date, instead of bulk loading it (see bulk.go): slower, but queries
	// use their indexes and search works while the rebuild runs.
	NoBulkLoad bool

	bulkIdle time.Duration // tests only: see bulkIdle
}

func (o Options) withDefaults() Options {
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	if o.CacheKiB <= 0 {
		o.CacheKiB = 16 << 10
	}
	switch {
	case o.MmapBytes == 0:
		o.MmapBytes = 2 << 30
	case o.MmapBytes < 0:
		o.MmapBytes = 0
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.bulkIdle <= 0 {
		o.bulkIdle = bulkIdle
	}
	return o
}

// Store is the leads read model in SQLite. It is safe for concurrent use: one
// writer (the projector, through Apply and Reset) and any number of readers.
type Store struct {
	w       *sql.DB // exactly one connection; every write goes through it
	r       *sql.DB // read-only pool
	tmpDir  string  // removed on Close when the store is ephemeral
	writeMu sync.Mutex
	ws      *writeStmts

	ckMu    sync.Mutex
	ck      map[string]uint64 // committed checkpoints, mirrors the table
	changed chan struct{}     // closed and replaced on every commit
	closed  bool

	tagDriveMax int // see the constant; tests lower it to cover both plans
	noBulkLoad  bool
	bulkIdle    time.Duration

	// Bulk load state (bulk.go), guarded by writeMu.
	bulk      bool        // a bulk load is in progress
	bulkDue   bool        // its idle end failed: the next Apply ends it
	bulkTimer *time.Timer // ends it when the projector is idle
	lastApply time.Time
	bgCtx     context.Context // for the idle end; Close cancels it
	bgCancel  context.CancelFunc
}

// Open opens (creating if needed) the read model at path and migrates its
// schema. path "" or ":memory:" gives an ephemeral store in a temporary
// directory removed by Close; it is a real file so tests run the same WAL
// configuration as production.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	s := &Store{ck: map[string]uint64{}, changed: make(chan struct{}), tagDriveMax: tagDriveMax,
		noBulkLoad: opts.NoBulkLoad, bulkIdle: opts.bulkIdle}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	if path == "" || path == ":memory:" {
		dir, err := os.MkdirTemp("", "leads-readmodel-")
		if err != nil {
			return nil, fmt.Errorf("readmodel: temp dir: %w", err)
		}
		s.tmpDir = dir
		path = filepath.Join(dir, "leads.db")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("readmodel: path %q must not contain ? or #", path)
	}
	var err error
	if s.w, err = sql.Open("sqlite", dsn(path, opts, opts.CacheKiB, false)); err != nil {
		return nil, s.failOpen(err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	// The writer creates the file and switches it to WAL before any reader
	// connects.
	if err := migrate(ctx, s.w); err != nil {
		return nil, s.failOpen(err)
	}
	if s.ws, err = prepareWrite(ctx, s.w); err != nil {
		return nil, s.failOpen(err)
	}
	readCacheKiB := max(opts.CacheKiB/4, 1<<10)
	if opts.MmapBytes > 0 {
		readCacheKiB = 1 << 10 // the file's pages come from the map
	}
	if s.r, err = sql.Open("sqlite", dsn(path, opts, readCacheKiB, true)); err != nil {
		return nil, s.failOpen(err)
	}
	s.r.SetMaxOpenConns(opts.ReadConns)
	s.r.SetMaxIdleConns(opts.ReadConns)
	s.r.SetConnMaxIdleTime(0)
	if s.bulk, err = inBulk(ctx, s.r); err != nil {
		return nil, s.failOpen(err)
	}
	if s.bulk {
		// A rebuild was bulk loading when the process stopped: the
		// projector resumes it, and WaitFor waits for its end.
		s.bulkApplied()
	} else if s.ck, err = readCheckpoints(ctx, s.r); err != nil {
		return nil, s.failOpen(err)
	}
	// Cheap: looks only at tables whose statistics are missing or stale.
	if _, err := s.w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return nil, s.failOpen(fmt.Errorf("readmodel: optimize: %w", err))
	}
	return s, nil
}

func dsn(path string, o Options, cacheKiB int, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	// NORMAL in WAL mode never corrupts; a power cut can drop the last
	// transactions, data and checkpoint together, and the projector then
	// replays them. The read model is rebuildable; the stream is the record.
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -cacheKiB))
	q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", o.MmapBytes))
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// Take the write lock at BEGIN, so a transaction never fails
		// half-way with SQLITE_BUSY on lock upgrade.
		q.Set("_txlock", "immediate")
		// Zero replaced and deleted content: an erased person's fields must be gone from the
		// file, not only from queries (Scrub does the rest).
		q.Add("_pragma", "secure_delete(on)")
		// Bound the WAL after big batches (checkpoints run on commit).
		q.Add("_pragma", "journal_size_limit(67108864)")
		// Checkpoint the WAL every ~32 MiB instead of every 4 MiB: a
		// page the projector rewrites often is copied back once.
		q.Add("_pragma", "wal_autocheckpoint(8192)")
	}
	return path + "?" + q.Encode()
}

func (s *Store) failOpen(err error) error {
	_ = s.Close()
	return err
}

// Close releases the connections and wakes WaitFor callers with ErrClosed.
// An ephemeral store's files are removed.
func (s *Store) Close() error {
	s.ckMu.Lock()
	if !s.closed {
		s.closed = true
		close(s.changed)
	}
	s.ckMu.Unlock()
	s.bgCancel() // an idle end of a bulk load rolls back; the next Open resumes the load
	// Let a running Apply or Reset finish before the writer goes away.
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.bulkTimer != nil {
		s.bulkTimer.Stop()
	}
	var errs []error
	if s.ws != nil {
		s.ws.close()
		s.ws = nil
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if s.tmpDir != "" {
		errs = append(errs, os.RemoveAll(s.tmpDir))
		s.tmpDir = ""
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
