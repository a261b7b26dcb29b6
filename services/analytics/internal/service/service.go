// Package service builds the analytics application: the ClickHouse connection and schema
// (migrations applied at start), the projector that writes the streams' events into ClickHouse,
// and the query side. main and the end-to-end tests use it alike.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chsnapshot"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chwriter"
	"github.com/evcrm/evcrm/services/analytics/internal/app"
	"github.com/evcrm/evcrm/services/analytics/internal/ports/projector"
)

// ClickHouseOptions say where the analytics tables live.
type ClickHouseOptions struct {
	// Addr is the native protocol address(es), comma-separated.
	Addr     string
	Database string
	User     string
	Password string
	// Cluster, when set, is the ClickHouse cluster (remote_servers) the analytics tables are
	// spread over: the migrations run in chschema's cluster mode (ON CLUSTER, Replicated local
	// tables, Distributed tables under the usual names) and inserts into Distributed tables
	// are synchronous (see open). Empty: a single node.
	Cluster string
}

// schema is the chschema mode of these options.
func (c ClickHouseOptions) schema() chschema.Options { return chschema.Options{Cluster: c.Cluster} }

// Role says which half of the service an instance runs.
type Role string

// The roles. Every role applies the migrations at start (idempotent), and a rebuild a
// migration asks for runs in whichever instance applied it.
const (
	// RoleAll runs the projector and serves the metric queries (the default).
	RoleAll Role = "all"
	// RoleProjector consumes the streams into ClickHouse and serves no metric RPC: its gRPC
	// port answers health checks only (an AnalyticsService call gets Unimplemented).
	RoleProjector Role = "projector"
	// RoleQuery serves the metric queries (and Rebuild, which runs its own consumers) and
	// consumes nothing: it does not create the projector's durable consumers and fetches no
	// message (GetProjectionStatus only reads their positions).
	RoleQuery Role = "query"
)

// ParseRole checks a role name; "" is RoleAll.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case "":
		return RoleAll, nil
	case RoleAll, RoleProjector, RoleQuery:
		return r, nil
	}
	return "", fmt.Errorf("analytics: role %q: want all, projector or query", s)
}

// Projects reports whether the role runs the projector.
func (r Role) Projects() bool { return r == RoleAll || r == RoleProjector || r == "" }

// Queries reports whether the role serves the metric queries.
func (r Role) Queries() bool { return r == RoleAll || r == RoleQuery || r == "" }

// Options are what the service needs beyond a NATS connection.
type Options struct {
	ClickHouse ClickHouseOptions
	// BatchSize and BatchWait bound an insert batch (events, time).
	BatchSize int
	BatchWait time.Duration
	// Replicas of the streams the service creates when missing.
	Replicas int
	// Role selects the projector, the queries or both (the default).
	Role   Role
	Logger *slog.Logger
	// Metrics, when set, receives the projector's metrics.
	Metrics *projection.Metrics
	// Backoff, when set, replaces the projector's redelivery delays (tests shorten them).
	Backoff []time.Duration
	// AckWait, when set, replaces the consumers' ack wait (projection.DefaultAckWait, 30 s):
	// how long a batch of a replica that died stays invisible before it is offered again.
	// Events waiting on a gap wait twice as long before they are applied over it.
	AckWait time.Duration
	// Snapshots tunes the snapshots of leads and opportunities that GetFunnel and
	// GetSalesVelocity read (package chsnapshot), taken by the instances that serve queries on
	// a single node (not in cluster mode, where the queries read FINAL as before).
	Snapshots chsnapshot.Options
}

// Service is the built application and its background workers.
type Service struct {
	App     *app.App
	workers []lifecycle.Worker
	closers []func() error
}

// New builds the service on nc: it creates the event streams if missing (so the service can
// start before the others), connects to ClickHouse, creates the database and applies the
// migrations, and prepares the projector (run by Workers) and its rebuild.
func New(ctx context.Context, nc *nats.Conn, o Options) (_ *Service, err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ClickHouse.Database == "" {
		o.ClickHouse.Database = "evcrm"
	}
	if o.Role, err = ParseRole(string(o.Role)); err != nil {
		return nil, err
	}
	schema := o.ClickHouse.schema()
	if err := schema.Validate(); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	s := &Service{}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("analytics: jetstream: %w", err)
	}
	if err := eventstore.EnsureStreams(ctx, js, eventstore.StreamOptions{Replicas: o.Replicas, CreateOnly: true}); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}

	// admin runs the DDL that names databases explicitly (CREATE DATABASE, the rebuild's
	// RENAME); conn works in the analytics database, so that the migrations and every query
	// name tables without a database. admin names no database: a user confined to the
	// analytics databases (deploy/clickhouse/users.d) may not log in to "default".
	admin, err := o.ClickHouse.open(ctx, "")
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, admin.Close)
	if err := chschema.EnsureDatabaseWith(ctx, admin, o.ClickHouse.Database, schema); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	conn, err := o.ClickHouse.open(ctx, o.ClickHouse.Database)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, conn.Close)
	migrated, err := chschema.MigrateWith(ctx, conn, schema)
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	if len(migrated.Applied) > 0 {
		o.Logger.Info("analytics: applied clickhouse migrations", "database", o.ClickHouse.Database,
			"versions", migrated.Applied, "needs_rebuild", migrated.NeedsRebuild)
	}

	popts := projector.Options{BatchSize: o.BatchSize, BatchWait: o.BatchWait, Backoff: o.Backoff, AckWait: o.AckWait,
		DeadLetterReplicas: o.Replicas, Metrics: o.Metrics, Logger: o.Logger}
	var gate sync.RWMutex
	w := chwriter.New(conn, chwriter.Options{Settled: projector.GapSettled(js, projector.DefaultName),
		GapWait: popts.GapWait(), Cluster: o.ClickHouse.Cluster, Logger: o.Logger})
	proj, err := projector.New(js, w, &gate, popts)
	if err != nil {
		return nil, err
	}
	if o.Role.Projects() {
		// Creating the consumers now makes the status answer from the start and a bad stream
		// setup fail here rather than in a retry loop.
		if err := proj.Provision(ctx); err != nil {
			return nil, fmt.Errorf("analytics: %w", err)
		}
		s.workers = append(s.workers, lifecycle.Worker{Name: "analytics-projector", Run: proj.Run})
	}
	rebuilder := projector.NewRebuilder(js, projector.RebuildConfig{
		Admin: admin, Open: o.ClickHouse.open, Database: o.ClickHouse.Database, Gate: &gate, Options: popts,
		Schema: schema,
	})
	control := projector.Control{Projector: proj, Rebuilder: rebuilder}
	s.App = app.New(app.Deps{Projection: control, ClickHouse: conn})
	if o.Role.Queries() && !schema.Clustered() {
		sopts := o.Snapshots
		sopts.Gate, sopts.Logger = &gate, o.Logger
		refresher := chsnapshot.New(conn, func(ctx context.Context) (map[string]uint64, error) {
			sts, err := control.Status(ctx)
			if err != nil {
				return nil, err
			}
			pos := make(map[string]uint64, len(sts))
			for _, st := range sts {
				pos[st.Stream] = st.ProjectedSequence
			}
			return pos, nil
		}, sopts)
		s.workers = append(s.workers, lifecycle.Worker{Name: "analytics-snapshots", Run: refresher.Run})
	}
	if migrated.NeedsRebuild {
		s.workers = append(s.workers, lifecycle.Worker{Name: "analytics-schema-rebuild",
			Run: func(ctx context.Context) error { return schemaRebuild(ctx, s.App, o.Logger, time.Minute) }})
	}
	return s, nil
}

// schemaRebuild runs the rebuild a migration asked for (chschema.Result.NeedsRebuild), retrying
// after wait while it fails, and returns when it is done, when another replica runs one (that
// replica's rebuild applies the same migrations) or when ctx ends. Queries answer from the
// current tables meanwhile; the migration's new columns read as their defaults there until the
// swap.
func schemaRebuild(ctx context.Context, a *app.App, log *slog.Logger, wait time.Duration) error {
	log.Warn("analytics: a migration changed what the projector folds into existing rows; rebuilding every table from the streams")
	for {
		start := time.Now()
		err := a.Rebuild(ctx, func(app.RebuildProgress) {})
		switch {
		case err == nil:
			log.Info("analytics: schema rebuild done", "took", time.Since(start).Round(time.Millisecond))
			return nil
		case errors.Is(err, projector.ErrRebuilding):
			log.Info("analytics: another rebuild is running; it applies the same migrations")
			return nil
		case ctx.Err() != nil:
			return nil
		}
		log.Error("analytics: schema rebuild failed; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// open connects to ClickHouse over the native protocol with database as the current database.
//
// In cluster mode the inserts into the Distributed tables are synchronous
// (insert_distributed_sync): a batch is acked only once every shard it touches has stored its
// rows, as on a single node; asynchronous forwarding would also let the writer read a row
// back (FINAL, after a gap) before it arrived.
func (c ClickHouseOptions) open(ctx context.Context, database string) (driver.Conn, error) {
	var settings clickhouse.Settings
	if c.Cluster != "" {
		settings = clickhouse.Settings{"insert_distributed_sync": 1}
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Settings:    settings,
		Protocol:    clickhouse.Native,
		Addr:        strings.Split(c.Addr, ","),
		Auth:        clickhouse.Auth{Database: database, Username: c.User, Password: c.Password},
		DialTimeout: 5 * time.Second,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		// Three stream writers insert at once and queries run beside them; the pool must not
		// make a writer wait for a connection.
		MaxOpenConns: 16, MaxIdleConns: 8,
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: clickhouse %s: %w", c.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("analytics: clickhouse %s (database %s): %w", c.Addr, database, err)
	}
	return conn, nil
}

// Workers are the service's background loops (the projector), to run beside the gRPC server.
func (s *Service) Workers() []lifecycle.Worker { return s.workers }

// Close releases the ClickHouse connection. Stop the workers first.
func (s *Service) Close() error {
	var err error
	for i := len(s.closers) - 1; i >= 0; i-- {
		err = errors.Join(err, s.closers[i]())
	}
	return err
}
