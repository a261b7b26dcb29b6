package projector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chwriter"
)

// ErrRebuilding is returned by Rebuild while another rebuild of the same database runs, in
// this process or in another replica.
var ErrRebuilding = &apperr.Error{Kind: apperr.FailedPrecondition, Reason: "REBUILD_RUNNING",
	Message: "a rebuild is already running"}

// LockBucket is the JetStream key-value bucket that holds the rebuild lease of each analytics
// database, so that two replicas never rebuild into the same staging tables at once.
const LockBucket = "ANALYTICS_LOCKS"

// lockTTL is how long a lease outlives its last renewal: a replica that dies mid-rebuild
// blocks the next rebuild for at most this long.
const lockTTL = 30 * time.Second

// RebuildConfig is what a Rebuilder needs besides the live projector.
type RebuildConfig struct {
	// Admin is a connection for DDL (any current database).
	Admin driver.Conn
	// Open connects with database as the current database.
	Open func(ctx context.Context, database string) (driver.Conn, error)
	// Database holds the live tables.
	Database string
	// Gate is the live projector's gate: held exclusively while the tables are swapped.
	Gate *sync.RWMutex
	// Options of the rebuild's runners (Name is replaced).
	Options Options
	// PollInterval is how often progress is measured and reported. Default 500ms.
	PollInterval time.Duration
	// Tail is how long the rebuild keeps projecting into the swapped-in tables, to catch the
	// events other replicas wrote into the old tables during the swap. Default
	// 2 × BatchWait + 1s.
	Tail time.Duration
	// Schema is the schema mode (chschema.Options): in cluster mode the staging and old
	// databases are created and dropped ON CLUSTER, the staging tables migrated in cluster
	// mode, and the swap renames the local tables ON CLUSTER (the live Distributed tables
	// reach the swapped-in local tables by name). Each node renames under its own lock, one
	// node after the other: for that moment a query spanning shards may read old tables on one
	// shard and new ones on another.
	Schema chschema.Options
}

// Rebuilder rebuilds every table from the start of the streams.
//
// It applies the migrations to a staging database (<database>_rebuild), projects the streams
// into it with consumers of its own (<name>-rebuild-<STREAM>) while the live projector and the
// queries carry on with the live tables, and once the staging tables have caught up it pauses
// the live projector, lets the staging tables catch up with the last events, and swaps the
// tables with one RENAME TABLE statement (live → <database>_old, staging → live). The old tables
// are then dropped. The live consumers are untouched: their positions hold for the new tables
// too, which contain every event up to the swap.
type Rebuilder struct {
	js      jetstream.JetStream
	cfg     RebuildConfig
	running atomic.Bool
}

// NewRebuilder returns a Rebuilder.
func NewRebuilder(js jetstream.JetStream, cfg RebuildConfig) *Rebuilder {
	cfg.Options = cfg.Options.withDefaults()
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.Tail <= 0 {
		cfg.Tail = 2*cfg.Options.BatchWait + time.Second
	}
	return &Rebuilder{js: js, cfg: cfg}
}

// Rebuilding reports whether a rebuild of the database runs, in this process or in another
// replica: the latter holds the lease in LockBucket (which expires when a holder dies). When
// the bucket cannot be read, only this process's own rebuild is reported.
func (r *Rebuilder) Rebuilding(ctx context.Context) bool {
	if r.running.Load() {
		return true
	}
	kv, err := r.js.KeyValue(ctx, LockBucket)
	if err != nil {
		return false // no bucket: no rebuild has ever run
	}
	_, err = kv.Get(ctx, "rebuild."+r.cfg.Database)
	return err == nil
}

// switchWriter sends batches to the writer of the moment: the staging tables, then the swapped
// live ones.
type switchWriter struct {
	cur atomic.Pointer[chwriter.Writer]
}

func (s *switchWriter) Write(ctx context.Context, evs []projection.Event) error {
	return s.cur.Load().Write(ctx, evs)
}

// Rebuild runs a rebuild to the end, calling progress with the rebuild consumers' positions
// every PollInterval. On error or cancellation the live tables are left as they were.
func (r *Rebuilder) Rebuild(ctx context.Context, progress func([]StreamStatus)) (err error) {
	if !r.running.CompareAndSwap(false, true) {
		return ErrRebuilding
	}
	defer r.running.Store(false)
	release, err := r.lease(ctx)
	if err != nil {
		return err
	}
	defer release()
	cfg := r.cfg
	log := cfg.Options.Logger.With("rebuild", cfg.Database)
	staging, old := cfg.Database+"_rebuild", cfg.Database+"_old"
	name := cfg.Options.Name + "-rebuild"
	tables, err := cfg.Schema.SwapTables()
	if err != nil {
		return err
	}

	// Leftovers of an interrupted rebuild go first.
	if err := r.cleanup(context.WithoutCancel(ctx), name, staging, old); err != nil {
		return err
	}
	if err := chschema.EnsureDatabaseWith(ctx, cfg.Admin, staging, cfg.Schema); err != nil {
		return err
	}
	sconn, err := cfg.Open(ctx, staging)
	if err != nil {
		return fmt.Errorf("projector: rebuild: %w", err)
	}
	defer sconn.Close()
	if _, err := chschema.MigrateWith(ctx, sconn, cfg.Schema); err != nil {
		return fmt.Errorf("projector: rebuild: %w", err)
	}
	lconn, err := cfg.Open(ctx, cfg.Database)
	if err != nil {
		return fmt.Errorf("projector: rebuild: %w", err)
	}
	defer lconn.Close()

	sw := &switchWriter{}
	sw.cur.Store(chwriter.New(sconn, chwriter.Options{Settled: GapSettled(r.js, name), GapWait: cfg.Options.GapWait(), Cluster: cfg.Schema.Cluster, Logger: cfg.Options.Logger}))
	opts := cfg.Options
	opts.Name = name
	var rgate sync.RWMutex
	p, err := New(r.js, sw, &rgate, opts)
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { _ = p.Run(runCtx) })
	stopRunners := sync.OnceFunc(func() { stop(); wg.Wait() })
	defer func() {
		stopRunners()
		if cerr := r.cleanup(context.WithoutCancel(ctx), name, staging, old); cerr != nil {
			log.Warn("projector: rebuild cleanup failed", "err", cerr)
		}
	}()

	log.Info("projector: rebuild started", "staging", staging)
	// Catch up with the streams while everything else carries on.
	if err := r.waitCaughtUp(ctx, p, progress); err != nil {
		return err
	}
	// Pause the live projector (its batch in flight finishes into the old tables) and the
	// rebuild's, catch up with what arrived meanwhile, swap.
	cfg.Gate.Lock()
	gateHeld := true
	defer func() {
		if gateHeld {
			cfg.Gate.Unlock()
		}
	}()
	if err := r.waitCaughtUp(ctx, p, progress); err != nil {
		return err
	}
	rgate.Lock()
	if err := chschema.EnsureDatabaseWith(ctx, cfg.Admin, old, cfg.Schema); err != nil {
		rgate.Unlock()
		return err
	}
	pairs := make([]string, 0, 2*len(tables))
	for _, t := range tables {
		pairs = append(pairs, cfg.Database+"."+t+" TO "+old+"."+t, staging+"."+t+" TO "+cfg.Database+"."+t)
	}
	// One statement: ClickHouse renames under one lock, so no query sees a mix of old and new.
	if err := cfg.Admin.Exec(ctx, "RENAME TABLE "+strings.Join(pairs, ", ")+cfg.Schema.OnCluster()); err != nil {
		rgate.Unlock()
		return fmt.Errorf("projector: rebuild: swap tables: %w", err)
	}
	sw.cur.Store(chwriter.New(lconn, chwriter.Options{Settled: GapSettled(r.js, name), GapWait: cfg.Options.GapWait(), Cluster: cfg.Schema.Cluster, Logger: cfg.Options.Logger}))
	rgate.Unlock()
	cfg.Gate.Unlock()
	gateHeld = false
	log.Info("projector: rebuild swapped the tables in")

	// Other replicas' live projectors may have written into the old tables up to the swap;
	// the rebuild consumers carry on a little to project those events into the new ones.
	select {
	case <-time.After(cfg.Tail):
	case <-ctx.Done():
	}
	if sts, err := status(ctx, r.js, name, nil); err == nil && progress != nil {
		progress(sts)
	}
	return nil
}

// waitCaughtUp polls the rebuild consumers until none has pending events.
func (r *Rebuilder) waitCaughtUp(ctx context.Context, p *Projector, progress func([]StreamStatus)) error {
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		sts, err := p.Status(ctx)
		if err == nil {
			if progress != nil {
				progress(sts)
			}
			done := true
			for _, s := range sts {
				if s.Pending > 0 || s.ProjectedSequence < s.LastSequence {
					done = false
				}
			}
			if done {
				return nil
			}
		} else if ctx.Err() == nil {
			r.cfg.Options.Logger.Debug("projector: rebuild status", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// cleanup removes the rebuild consumers and the staging and old databases.
func (r *Rebuilder) cleanup(ctx context.Context, name, staging, old string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	errs := []error{DeleteConsumers(ctx, r.js, name)}
	for _, db := range []string{staging, old} {
		if err := r.cfg.Admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db+r.cfg.Schema.OnCluster()); err != nil {
			errs = append(errs, fmt.Errorf("projector: drop %s: %w", db, err))
		}
	}
	return errors.Join(errs...)
}

// lease takes the rebuild lease of the database in LockBucket (ErrRebuilding when another
// replica holds it) and keeps renewing it until release is called.
func (r *Rebuilder) lease(ctx context.Context) (release func(), err error) {
	kv, err := r.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: LockBucket, TTL: lockTTL,
		Replicas: max(r.cfg.Options.DeadLetterReplicas, 1)})
	if err != nil {
		return nil, fmt.Errorf("projector: rebuild lock: %w", err)
	}
	key := "rebuild." + r.cfg.Database
	rev, err := kv.Create(ctx, key, []byte(time.Now().UTC().Format(time.RFC3339)))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, ErrRebuilding
	}
	if err != nil {
		return nil, fmt.Errorf("projector: rebuild lock: %w", err)
	}
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(lockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-renewCtx.Done():
				return
			case <-t.C:
				next, err := kv.Update(renewCtx, key, []byte(time.Now().UTC().Format(time.RFC3339)), rev)
				if err != nil {
					r.cfg.Options.Logger.Warn("projector: renewing the rebuild lock failed", "err", err)
					continue
				}
				rev = next
			}
		}
	})
	return func() {
		stop()
		wg.Wait()
		// Deleting with the last revision frees the lease only if it is still ours.
		if err := kv.Delete(context.WithoutCancel(ctx), key, jetstream.LastRevision(rev)); err != nil {
			r.cfg.Options.Logger.Warn("projector: releasing the rebuild lock failed; it expires by itself", "err", err, "ttl", lockTTL)
		}
	}, nil
}
