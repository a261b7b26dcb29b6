package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/chembed"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
	"github.com/evcrm/evcrm/services/analytics/internal/app"
	"github.com/evcrm/evcrm/services/analytics/internal/service"
)

// TestClusterReplicasConverge runs the analytics service in cluster mode on two
// clickhouse-server 18.16 processes that are the two replicas of one shard, replicating
// through a ZooKeeper of the test's own (Debian's packages, loopback):
//
//  1. the migrations run ON CLUSTER (Replicated local tables, Distributed tables);
//  2. the metric test's scripted history and a first part of the mixed load are projected;
//  3. replica B is killed (SIGKILL) and the load goes on: the projector writes through A;
//  4. B is restarted, then replica A — the first address the projector connects to — is
//     killed, and the load goes on: the projector fails over to B;
//  5. A is restarted.
//
// Afterwards both replicas hold the same rows — every local table's count FINAL and the
// metric totals are equal on A and B and match what was appended — and the metric queries,
// through the Distributed tables, give the hand-computed answers of the metric test, from the
// projector's instance and from a query-only instance connected to B alone.
func TestClusterReplicasConverge(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := testkit.StartClickHouseCluster(t, 1, 2)
	a, b := c.Node(0, 0), c.Node(0, 1)
	t.Logf("zookeeper and 2 clickhouse servers up in %v", time.Since(start).Round(time.Millisecond))

	e := newClusterEnv(t)
	svc := startCluster(t, e, a.Addr()+","+b.Addr(), service.RoleAll)
	t.Logf("migrated on the cluster in %v", time.Since(start).Round(time.Millisecond))
	e.salesHistory()
	e.otherTenantHistory()
	const step = 150
	appendUnits(t, e, 0, step)
	waitProjected(t, svc.App)

	b.Kill()
	t.Logf("replica B killed at %v", time.Since(start).Round(time.Millisecond))
	appendUnits(t, e, step, 2*step)
	waitProjected(t, svc.App)
	restart(t, b)
	t.Logf("replica B back at %v", time.Since(start).Round(time.Millisecond))

	a.Kill()
	t.Logf("replica A killed at %v", time.Since(start).Round(time.Millisecond))
	appendUnits(t, e, 2*step, 3*step)
	waitProjected(t, svc.App)
	restart(t, a)
	t.Logf("replica A back, everything projected at %v", time.Since(start).Round(time.Millisecond))

	// Expected contents: one events row per appended event, one lead, opportunity and member
	// per unit of the load.
	units := 3 * step
	events := e.n
	for _, n := range mixedCounts(units) {
		events += n
	}
	connA, connB := c.ConnDatabase(t, a, e.db), c.ConnDatabase(t, b, e.db)
	var totA, totB string
	deadline := time.Now().Add(60 * time.Second)
	for {
		totA, totB = localTotals(t, connA), localTotals(t, connB)
		if totA == totB && strings.HasPrefix(totA, fmt.Sprintf("events=%d ", events)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replicas did not converge on %d events:\n A %s\n B %s", events, totA, totB)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("replicas equal at %v: %s", time.Since(start).Round(time.Millisecond), totA)
	for _, want := range []string{fmt.Sprintf("bench_leads=%d ", units),
		fmt.Sprintf("bench_opportunities=%d ", units), fmt.Sprintf("bench_members=%d ", units)} {
		if !strings.Contains(totA+" ", want) {
			t.Errorf("totals %s lack %s", totA, want)
		}
	}

	// The metric queries through the Distributed tables: the projector's instance, and a
	// query-only instance that knows replica B alone.
	checkAcme(t, snapshot(t, svc, tenantA))
	checkGlobex(t, snapshot(t, svc, tenantB))
	q := startCluster(t, e, b.Addr(), service.RoleQuery)
	checkAcme(t, snapshot(t, q, tenantA))
	t.Logf("done in %v", time.Since(start).Round(time.Millisecond))
}

// newClusterEnv is newEnv without a ClickHouse of the shared kind: the cluster's database is
// "evcrm", created by the service.
func newClusterEnv(t *testing.T) *env {
	t.Helper()
	ns := testkit.StartNATS(t)
	nc := ns.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := eventstore.EnsureStreams(t.Context(), js, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	store, err := eventstore.New(nc, eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, nc: nc, js: js, store: store, db: "evcrm", pos: map[eventstore.Ref]eventstore.Position{}}
}

// startCluster runs a service instance in cluster mode on addrs (comma-separated) until the
// test ends.
func startCluster(t *testing.T, e *env, addrs string, role service.Role) *service.Service {
	t.Helper()
	svc, err := service.New(t.Context(), e.nc, service.Options{
		ClickHouse: service.ClickHouseOptions{Addr: addrs, Database: e.db, User: "default", Cluster: testkit.ClickHouseClusterName},
		BatchSize:  200, BatchWait: 50 * time.Millisecond, Backoff: []time.Duration{100 * time.Millisecond, 500 * time.Millisecond},
		Role:   role,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		t.Fatalf("service.New (cluster, %s): %v", role, err)
	}
	runWorkers(t, svc)
	return svc
}

// runWorkers runs svc's workers until the test ends, then closes it.
func runWorkers(t *testing.T, svc *service.Service) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, w := range svc.Workers() {
		wg.Go(func() { _ = w.Run(ctx) })
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = svc.Close()
	})
}

// appendUnits appends units [from, to) of the mixed load (tenant "bench") with 8 writers.
func appendUnits(t *testing.T, e *env, from, to int) {
	t.Helper()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := from + w; i < to; i += 8 {
				for _, a := range mixedUnit(i, base) {
					if _, err := e.store.Append(context.Background(), a.ref, eventstore.Position{}, a.events...); err != nil {
						t.Errorf("append %s: %v", a.ref, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// restart starts a killed replica again on its directory and ports.
func restart(t *testing.T, s *chembed.Server) {
	t.Helper()
	if err := s.Restart(t.Context()); err != nil {
		t.Fatalf("restart %s: %v", s.Addr(), err)
	}
}

// localTotals reads one replica's own rows (its local tables, not the Distributed ones):
// events, each table's rows FINAL, and the bench tenant's metric totals.
func localTotals(t *testing.T, conn driver.Conn) string {
	t.Helper()
	tables, err := chschema.Tables()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, tb := range tables {
		final := " FINAL"
		if chschema.Derived[tb] { // plain MergeTree (and empty: no snapshots in cluster mode)
			final = ""
		}
		parts = append(parts, tb+"="+lines(t, conn, "count()", "FROM "+tb+"_local"+final)[0])
	}
	for _, tb := range []string{"leads", "opportunities", "members"} {
		parts = append(parts, "bench_"+tb+"="+lines(t, conn, "count()", "FROM "+tb+"_local FINAL WHERE tenant = 'bench'")[0])
	}
	parts = append(parts,
		"opportunities_by_status="+strings.Join(lines(t, conn, "status,count(),sum(amount_micros)", "FROM opportunities_local FINAL GROUP BY status ORDER BY status"), ";"),
		"leads_by_status="+strings.Join(lines(t, conn, "status,count(),countIf(won_at > 0)", "FROM leads_local FINAL GROUP BY status ORDER BY status"), ";"),
		"responses="+lines(t, conn, "count(),sum(responded)", "FROM responses_local FINAL")[0])
	return strings.Join(parts, " ")
}

// TestClusterTwoShards spreads the metric test's history over two shards (one replica each):
// rows of one aggregate meet on one shard (the sharding key), and every metric query — joins
// and IN subqueries over Distributed tables among them — gives the hand-computed answers.
func TestClusterTwoShards(t *testing.T) {
	t.Parallel()
	c := testkit.StartClickHouseCluster(t, 2, 1)
	e := newClusterEnv(t)
	svc := startCluster(t, e, c.Node(0, 0).Addr(), service.RoleAll)
	e.salesHistory()
	e.otherTenantHistory()
	appendUnits(t, e, 0, 100)
	waitProjected(t, svc.App)
	// Both shards got rows.
	for s := range 2 {
		conn := c.ConnDatabase(t, c.Node(s, 0), e.db)
		if n := lines(t, conn, "count()", "FROM leads_local")[0]; n == "0" {
			t.Errorf("shard %d holds no lead", s+1)
		}
	}
	checkAcme(t, snapshot(t, svc, tenantA))
	checkGlobex(t, snapshot(t, svc, tenantB))
	before := shardTotals(t, c, e.db)

	// A rebuild in cluster mode: staging tables created ON CLUSTER, projected from the streams,
	// their local tables renamed in ON CLUSTER; the answers and each shard's rows stay.
	start := time.Now()
	if err := svc.App.Rebuild(t.Context(), func(app.RebuildProgress) {}); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	t.Logf("rebuilt in %v", time.Since(start).Round(time.Millisecond))
	checkAcme(t, snapshot(t, svc, tenantA))
	checkGlobex(t, snapshot(t, svc, tenantB))
	if after := shardTotals(t, c, e.db); after != before {
		t.Errorf("rows per shard changed with the rebuild:\n before %s\n after  %s", before, after)
	}
	for _, n := range c.Nodes() {
		conn := c.ConnDatabase(t, n, "default")
		if dbs := lines(t, conn, "name", "FROM system.databases WHERE name LIKE '"+e.db+"_%' ORDER BY name"); len(dbs) != 0 {
			t.Errorf("%s keeps the rebuild's databases %v", n.Addr(), dbs)
		}
	}
}

// shardTotals is each shard's localTotals.
func shardTotals(t *testing.T, c *testkit.ClickHouseCluster, db string) string {
	t.Helper()
	var out []string
	for _, n := range c.Nodes() {
		out = append(out, localTotals(t, c.ConnDatabase(t, n, db)))
	}
	return strings.Join(out, "\n")
}
