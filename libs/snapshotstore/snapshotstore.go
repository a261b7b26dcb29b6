// Package snapshotstore keeps aggregates' folded states in a local SQLite file
// (eventstore.SnapshotStore), so a service replica loads an aggregate missing from its
// in-memory cache with one point read instead of reading the aggregate's history from
// JetStream (see eventstore.SnapshotStore for why that read grows with the stream).
//
// Writes are taken off the command path: PutSnapshot queues the snapshot and a single writer
// goroutine stores queued snapshots in batches, one transaction each. A full queue drops the
// snapshot (counted): the store is a cache, and a missing or stale snapshot costs one stream
// read, never a wrong answer.
package snapshotstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune Open.
type Options struct {
	// QueueSize bounds the snapshots waiting to be written (default 4096).
	QueueSize int
	// BatchSize is the most snapshots one transaction writes (default 512).
	BatchSize int
	// CacheKiB is SQLite's page cache of the writer (default 4 MiB); each of the four readers
	// gets a quarter of it, at least 1 MiB. Reads are point reads of random keys: a cache
	// keeps the B-tree's inner pages, and a larger one mostly holds leaves read once (the OS
	// page cache has them too). Each cache costs about twice its size in RSS (sqlitemodel).
	CacheKiB int
}

// Store is a SQLite-backed eventstore.SnapshotStore. Close it to write what is queued.
type Store struct {
	db    *sqlitemodel.DB
	opts  Options
	queue chan string // keys of pending snapshots to write
	done  chan struct{}

	writeMu sync.Mutex // serialises the writer's batches with Forget

	mu      sync.Mutex
	pending map[string]eventstore.Snapshot // queued or being written: read before the file
	closed  bool
}

var _ eventstore.SnapshotStore = (*Store)(nil)

var (
	written = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "evcrm", Subsystem: "snapshots", Name: "written_total",
		Help: "Aggregate snapshots written to the local snapshot store.",
	})
	dropped = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "evcrm", Subsystem: "snapshots", Name: "dropped_total",
		Help: "Aggregate snapshots dropped because the write queue was full or a write failed (the next cold load of those aggregates reads the stream).",
	})
)

// Collector returns the store's metrics (snapshots written and dropped) for registration on a
// service's registry.
func Collector() prometheus.Collector { return collector{} }

type collector struct{}

func (collector) Describe(ch chan<- *prometheus.Desc) { written.Describe(ch); dropped.Describe(ch) }
func (collector) Collect(ch chan<- prometheus.Metric) { written.Collect(ch); dropped.Collect(ch) }

// Open opens (creating if needed) the snapshot file at path ("" gives a temporary file removed
// by Close). Deleted and replaced snapshots are overwritten with zeros (secure_delete): a
// snapshot may hold personal data that an erasure replaced.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 512
	}
	if opts.CacheKiB <= 0 {
		opts.CacheKiB = 4 << 10
	}
	// No memory map: snapshot reads are point reads, and mapping the file would make the
	// process's resident memory grow with the file (the soak saw 275 MiB of snapshots.db
	// mapped after 10 minutes) for no gain over SQLite's page cache.
	db, err := sqlitemodel.OpenDir(ctx, path, migrations, "migrations", sqlitemodel.Options{
		ReadConns: 4, CacheKiB: opts.CacheKiB, MmapBytes: -1, SecureDelete: true})
	if err != nil {
		return nil, fmt.Errorf("snapshotstore: %w", err)
	}
	s := &Store{db: db, opts: opts, queue: make(chan string, opts.QueueSize),
		done: make(chan struct{}), pending: map[string]eventstore.Snapshot{}}
	go s.writer()
	return s, nil
}

// GetSnapshot returns the latest snapshot of key: a queued one, else the stored one.
func (s *Store) GetSnapshot(ctx context.Context, key string) (eventstore.Snapshot, bool, error) {
	s.mu.Lock()
	snap, ok := s.pending[key]
	s.mu.Unlock()
	if ok {
		return snap, true, nil
	}
	snap = eventstore.Snapshot{Key: key}
	var version, seq int64
	err := s.db.R.QueryRowContext(ctx, `SELECT schema, version, seq, state FROM snapshots WHERE key = ?`, key).
		Scan(&snap.Schema, &version, &seq, &snap.State)
	if errors.Is(err, sql.ErrNoRows) {
		return eventstore.Snapshot{}, false, nil
	}
	if err != nil {
		return eventstore.Snapshot{}, false, fmt.Errorf("snapshotstore: read %s: %w", key, err)
	}
	snap.Position = eventstore.Position{Version: uint64(version), Sequence: uint64(seq)}
	return snap, true, nil
}

// PutSnapshot queues snap for writing unless a later snapshot of its key is queued. It never
// blocks: with the queue full the snapshot is dropped.
func (s *Store) PutSnapshot(snap eventstore.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if cur, ok := s.pending[snap.Key]; ok {
		if cur.Position.Sequence < snap.Position.Sequence {
			s.pending[snap.Key] = snap // the queued key writes the latest state
		}
		return
	}
	select {
	case s.queue <- snap.Key:
		s.pending[snap.Key] = snap
	default:
		dropped.Inc()
	}
}

// Forget deletes key's snapshot (queued and stored), e.g. once the aggregate's personal data
// was erased and its state must not outlive the erasure anywhere.
func (s *Store) Forget(ctx context.Context, key string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	delete(s.pending, key)
	s.mu.Unlock()
	return s.db.Write(ctx, func(tx *sql.Tx) (map[string]uint64, error) {
		_, err := tx.ExecContext(ctx, `DELETE FROM snapshots WHERE key = ?`, key)
		return nil, err
	})
}

func (s *Store) writer() {
	defer close(s.done)
	batch := make([]string, 0, s.opts.BatchSize)
	for key := range s.queue {
		batch = append(batch[:0], key)
	fill:
		for len(batch) < s.opts.BatchSize {
			select {
			case k, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, k)
			default:
				break fill
			}
		}
		s.write(batch)
	}
}

// write stores the pending snapshots of keys in one transaction, then takes them out of
// pending. A later snapshot that arrived meanwhile has its key queued again, or, once the
// store is closing (the queue is closed), written by the next round of this loop.
func (s *Store) write(keys []string) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for len(keys) > 0 {
		s.mu.Lock()
		snaps := make([]eventstore.Snapshot, 0, len(keys))
		for _, k := range keys {
			if snap, ok := s.pending[k]; ok {
				snaps = append(snaps, snap)
			}
		}
		s.mu.Unlock()
		if err := s.store(snaps); err != nil {
			dropped.Add(float64(len(snaps)))
		} else {
			written.Add(float64(len(snaps)))
		}
		keys = s.settle(snaps)
	}
}

func (s *Store) store(snaps []eventstore.Snapshot) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.db.Write(ctx, func(tx *sql.Tx) (map[string]uint64, error) {
		st, err := tx.PrepareContext(ctx, `INSERT INTO snapshots (key, schema, version, seq, state) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET schema = excluded.schema, version = excluded.version, seq = excluded.seq, state = excluded.state
			WHERE excluded.seq > snapshots.seq OR excluded.schema <> snapshots.schema`)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		for _, snap := range snaps {
			if _, err := st.ExecContext(ctx, snap.Key, snap.Schema, int64(snap.Position.Version), int64(snap.Position.Sequence), snap.State); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
}

// settle takes the written snapshots out of pending and returns the keys whose later snapshot
// must be written now because the queue is closed.
func (s *Store) settle(written []eventstore.Snapshot) (again []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, snap := range written {
		cur, ok := s.pending[snap.Key]
		switch {
		case !ok:
		case cur.Position.Sequence == snap.Position.Sequence:
			delete(s.pending, snap.Key)
		case s.closed:
			again = append(again, snap.Key)
		default:
			select {
			case s.queue <- snap.Key:
			default:
				delete(s.pending, snap.Key)
				dropped.Inc()
			}
		}
	}
	return again
}

// Close writes the queued snapshots and closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.queue)
	s.mu.Unlock()
	<-s.done
	return s.db.Close()
}
