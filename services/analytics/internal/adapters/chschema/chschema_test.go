package chschema_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func TestSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
	}{
		{"one", "CREATE TABLE a (x UInt8) ENGINE = Memory;\n", []string{"CREATE TABLE a (x UInt8) ENGINE = Memory"}},
		{"comments dropped", "-- a comment;\nSELECT 1;\n-- trailing\n", []string{"SELECT 1"}},
		{"two and a tail", "SELECT 1;\nSELECT\n 2 ;\nSELECT 3", []string{"SELECT 1", "SELECT\n 2", "SELECT 3"}},
		{"semicolon inside a line", "SELECT ';' AS x;\n", []string{"SELECT ';' AS x"}},
		{"blank", "\n  \n-- only\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := chschema.Split(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Split(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTables(t *testing.T) {
	t.Parallel()
	got, err := chschema.Tables()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"events", "leads", "lead_transitions", "opportunities", "stage_transitions",
		"campaigns", "members", "responses", "costs", "conversions", "contacts",
		"leads_snapshot", "opportunities_snapshot", "snapshots"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Tables() = %v, want %v", got, want)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	db := ch.NewDatabase(t)
	conn := ch.ConnDatabase(t, db)
	ms, err := chschema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	first, err := chschema.Migrate(t.Context(), conn)
	if err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if len(first.Applied) != len(ms) || first.NeedsRebuild {
		t.Fatalf("first Migrate = %+v, want all %d applied and no rebuild (a fresh database)", first, len(ms))
	}
	again, err := chschema.Migrate(t.Context(), conn)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if len(again.Applied) != 0 || again.NeedsRebuild {
		t.Fatalf("second Migrate = %+v, want nothing", again)
	}
	// A migration applied but not recorded (crash in between) applies again harmlessly.
	if err := conn.Exec(t.Context(), "TRUNCATE TABLE schema_migrations"); err != nil {
		t.Fatal(err)
	}
	if _, err := chschema.Migrate(t.Context(), conn); err != nil {
		t.Fatalf("Migrate after losing the records: %v", err)
	}
	tables, _ := chschema.Tables()
	for _, tb := range append(tables, "schema_migrations") {
		var n uint64
		if err := conn.QueryRow(t.Context(), "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = '"+tb+"'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("table %s missing", tb)
		}
	}
}

// TestMigrateAsksForRebuild upgrades a database that had the migrations before the first one
// marked "evcrm:rebuild": the new migrations apply and Migrate asks for a rebuild, because the
// rows already projected lack what the marked migration folds.
func TestMigrateAsksForRebuild(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	db := ch.NewDatabase(t)
	conn := ch.ConnDatabase(t, db)
	ms, err := chschema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	marked := -1
	for i, m := range ms {
		if m.Rebuild {
			marked = i
			break
		}
	}
	if marked < 1 {
		t.Fatalf("no migration after the first is marked evcrm:rebuild (%d)", marked)
	}
	// The database as the release before the marked migration left it: its statements applied
	// and recorded by hand.
	for _, m := range ms[:marked] {
		for _, st := range m.Statements {
			if err := conn.Exec(t.Context(), st); err != nil {
				t.Fatalf("%04d: %v", m.Version, err)
			}
		}
		b, err := conn.PrepareBatch(t.Context(), "INSERT INTO schema_migrations (version, name, applied_at)")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append(m.Version, m.Name, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	res, err := chschema.Migrate(t.Context(), conn)
	if err != nil {
		t.Fatal(err)
	}
	if !res.NeedsRebuild || len(res.Applied) != len(ms)-marked || res.Applied[0] != ms[marked].Version {
		t.Fatalf("Migrate = %+v, want versions from %d applied and a rebuild asked for", res, ms[marked].Version)
	}
}

func TestEnsureDatabase(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	conn := ch.Conn(t)
	name := ch.NewDatabase(t) + "_x"
	t.Cleanup(func() { _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name) })
	for range 2 {
		if err := chschema.EnsureDatabase(t.Context(), conn, name); err != nil {
			t.Fatal(err)
		}
	}
	if err := chschema.EnsureDatabase(t.Context(), conn, "bad-name;"); err == nil {
		t.Fatal("EnsureDatabase accepted a bad name")
	}
}
