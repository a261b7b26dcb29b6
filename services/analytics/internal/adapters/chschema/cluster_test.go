package chschema_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
)

var cluster = chschema.Options{Cluster: "evcrm"}

// The rewriter's output for each form the migrations use, in full.
func TestClusterStatements(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
	}{
		{"replacing table", "CREATE TABLE IF NOT EXISTS leads\n(\n    tenant String,\n    lead_id String,\n    seq UInt64\n)\nENGINE = ReplacingMergeTree(seq)\nORDER BY (tenant, lead_id)", []string{
			"CREATE TABLE IF NOT EXISTS db.leads_local ON CLUSTER evcrm\n(\n    tenant String,\n    lead_id String,\n    seq UInt64\n)\n" +
				"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/leads_local/tok', '{replica}', seq)\nORDER BY (tenant, lead_id)",
			"CREATE TABLE IF NOT EXISTS db.leads ON CLUSTER evcrm\n(\n    tenant String,\n    lead_id String,\n    seq UInt64\n)\n" +
				"ENGINE = Distributed(evcrm, db, leads_local, cityHash64(tenant, lead_id))",
		}},
		{"partitioned", "CREATE TABLE IF NOT EXISTS events (tenant String, aggregate_id String, seq UInt64, stored_at DateTime) ENGINE = ReplacingMergeTree(seq) PARTITION BY toYYYYMM(stored_at) ORDER BY (tenant, seq)", []string{
			"CREATE TABLE IF NOT EXISTS db.events_local ON CLUSTER evcrm\n(tenant String, aggregate_id String, seq UInt64, stored_at DateTime)\n" +
				"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/events_local/tok', '{replica}', seq) PARTITION BY toYYYYMM(stored_at) ORDER BY (tenant, seq)",
			"CREATE TABLE IF NOT EXISTS db.events ON CLUSTER evcrm\n(tenant String, aggregate_id String, seq UInt64, stored_at DateTime)\n" +
				"ENGINE = Distributed(evcrm, db, events_local, cityHash64(tenant, aggregate_id))",
		}},
		{"ledger", "CREATE TABLE IF NOT EXISTS schema_migrations\n(\n    version UInt32\n)\nENGINE = MergeTree\nORDER BY version", []string{
			"CREATE TABLE IF NOT EXISTS db.schema_migrations ON CLUSTER evcrm\n(\n    version UInt32\n)\n" +
				"ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/db/schema_migrations/tok', '{shard}-{replica}')\nORDER BY version",
		}},
		{"add column", "ALTER TABLE leads\n    ADD COLUMN mql_at DateTime AFTER converted_at,\n    ADD COLUMN sal_at DateTime AFTER mql_at", []string{
			"ALTER TABLE db.leads_local ON CLUSTER evcrm ADD COLUMN mql_at DateTime AFTER converted_at,\n    ADD COLUMN sal_at DateTime AFTER mql_at",
			"DROP TABLE IF EXISTS db.leads ON CLUSTER evcrm",
			"CREATE TABLE IF NOT EXISTS db.leads ON CLUSTER evcrm AS db.leads_local ENGINE = Distributed(evcrm, db, leads_local, cityHash64(tenant, lead_id))",
		}},
		{"other alter", "ALTER TABLE leads DELETE WHERE tenant = 'x'", []string{
			"ALTER TABLE db.leads_local ON CLUSTER evcrm DELETE WHERE tenant = 'x'",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := cluster.ClusterStatements("db", "tok", tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("ClusterStatements(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
	for _, bad := range []string{
		"CREATE TABLE leads (x UInt8) ENGINE = MergeTree ORDER BY x", // no IF NOT EXISTS: not idempotent
		"CREATE TABLE IF NOT EXISTS x (a UInt8) ENGINE = Memory",
		"CREATE TABLE IF NOT EXISTS nokey (a UInt8) ENGINE = MergeTree ORDER BY a", // no sharding key
		"DROP TABLE leads",
		"INSERT INTO leads SELECT 1",
	} {
		if got, err := cluster.ClusterStatements("db", "tok", bad); err == nil {
			t.Errorf("ClusterStatements(%q) = %q, want an error", bad, got)
		}
	}
	if _, err := (chschema.Options{Cluster: "bad name"}).ClusterStatements("db", "tok", "ALTER TABLE leads DELETE WHERE 1"); err == nil {
		t.Error("a cluster name with a space was accepted")
	}
	if _, err := cluster.ClusterStatements("db;", "tok", "ALTER TABLE leads DELETE WHERE 1"); err == nil {
		t.Error("a bad database name was accepted")
	}
}

// Every migration has a cluster form, every table a sharding key made of its own columns, and
// the rewriter keeps each table's columns, engine settings and keys.
func TestEveryMigrationHasAClusterForm(t *testing.T) {
	t.Parallel()
	ms, err := chschema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	tables, err := chschema.Tables()
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if _, ok := chschema.ShardKeys[tb]; !ok {
			t.Errorf("table %s has no sharding key", tb)
		}
	}
	keyCols := regexp.MustCompile(`cityHash64\(([^)]*)\)`)
	for _, m := range ms {
		for _, st := range m.Statements {
			out, err := cluster.ClusterStatements("evcrm", "tok", st)
			if err != nil {
				t.Errorf("%04d_%s: %v", m.Version, m.Name, err)
				continue
			}
			for _, o := range out {
				if !strings.Contains(o, " ON CLUSTER evcrm") {
					t.Errorf("%04d: %q runs on one node only", m.Version, o)
				}
			}
			if !strings.HasPrefix(st, "CREATE") {
				continue
			}
			tb := strings.Fields(st)[5] // CREATE TABLE IF NOT EXISTS <t>
			if tb == chschema.LedgerTable {
				continue
			}
			// The local table keeps the statement's text after the table name (columns, keys).
			body := st[strings.Index(st, "("):]
			body = body[:strings.Index(body, "ENGINE")]
			if !strings.Contains(out[0], strings.TrimSpace(body)) {
				t.Errorf("%04d: the local table lost the columns:\n%s", m.Version, out[0])
			}
			for _, col := range strings.Split(keyCols.FindStringSubmatch(chschema.ShardKeys[tb])[1], ",") {
				if !regexp.MustCompile(`(?m)^\s*` + strings.TrimSpace(col) + ` `).MatchString(st) {
					t.Errorf("sharding key of %s names %s, which is not one of its columns", tb, col)
				}
			}
		}
	}
	if got, _ := cluster.SwapTables(); len(got) != len(tables) || got[0] != tables[0]+"_local" {
		t.Errorf("SwapTables in cluster mode = %v", got)
	}
	if got, _ := (chschema.Options{}).SwapTables(); !slices.Equal(got, tables) {
		t.Errorf("SwapTables on a single node = %v, want %v", got, tables)
	}
}

// TestMigrateOnCluster applies the migrations in cluster mode to two clickhouse-server 18.16
// processes that are two replicas of one shard (ZooKeeper on loopback): every table exists on
// both as a replicated local table and a Distributed one, the ledger is replicated, a second
// run from the other node applies nothing, and a migration applied but not recorded (the
// ALTER among them) applies again harmlessly.
func TestMigrateOnCluster(t *testing.T) {
	t.Parallel()
	c := testkit.StartClickHouseCluster(t, 1, 2)
	ctx := t.Context()
	a, b := c.Node(0, 0), c.Node(0, 1)
	admin := c.ConnDatabase(t, a, "default")
	opts := chschema.Options{Cluster: testkit.ClickHouseClusterName}
	const db = "evcrm"
	for range 2 {
		if err := chschema.EnsureDatabaseWith(ctx, admin, db, opts); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := chschema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	connA, connB := c.ConnDatabase(t, a, db), c.ConnDatabase(t, b, db)
	res, err := chschema.MigrateWith(ctx, connA, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != len(ms) || res.NeedsRebuild {
		t.Fatalf("first MigrateWith = %+v, want all %d applied", res, len(ms))
	}
	tables, _ := chschema.Tables()
	for _, conn := range []driver.Conn{connA, connB} {
		engines := map[string]string{}
		rows, err := conn.Query(ctx, "SELECT name, engine FROM system.tables WHERE database = currentDatabase()")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n, e string
			if err := rows.Scan(&n, &e); err != nil {
				t.Fatal(err)
			}
			engines[n] = e
		}
		rows.Close()
		for _, tb := range tables {
			want := "ReplicatedReplacingMergeTree"
			if chschema.Derived[tb] {
				want = "ReplicatedMergeTree"
			}
			if engines[tb+"_local"] != want || engines[tb] != "Distributed" {
				t.Errorf("%s: %s_local is %q (want %s), %s is %q (want Distributed)", tb, tb, engines[tb+"_local"], want, tb, engines[tb])
			}
		}
		if engines["schema_migrations"] != "ReplicatedMergeTree" {
			t.Errorf("schema_migrations is %q", engines["schema_migrations"])
		}
		// The ALTER reached the Distributed table too.
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'leads' AND name = 'won_at'").Scan(&n); err != nil || n != 1 {
			t.Errorf("leads (Distributed) lacks won_at: %d, %v", n, err)
		}
	}
	// The ledger reaches the other replica.
	waitFor(t, 20*time.Second, func() bool {
		done, err := chschema.Applied(ctx, connB)
		return err == nil && len(done) == len(ms)
	})
	again, err := chschema.MigrateWith(ctx, connB, opts)
	if err != nil || len(again.Applied) != 0 {
		t.Fatalf("MigrateWith from the other replica = %+v, %v; want nothing applied", again, err)
	}
	// Records lost (a crash between a statement and its record): everything applies again,
	// the ALTER's "column already exists" included.
	if err := connA.Exec(ctx, "TRUNCATE TABLE schema_migrations"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool {
		done, err := chschema.Applied(ctx, connB)
		return err == nil && len(done) == 0
	})
	if res, err := chschema.MigrateWith(ctx, connB, opts); err != nil || len(res.Applied) != len(ms) {
		t.Fatalf("MigrateWith after losing the records = %+v, %v", res, err)
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("condition not met within %s", d)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
