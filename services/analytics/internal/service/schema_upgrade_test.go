package service_test

import (
	"testing"
	"time"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
)

// TestSchemaUpgradeRebuilds upgrades a database projected by the release before migration 0012
// (the funnel's step times folded into leads): the service applies the migration, starts a
// rebuild by itself, and once it is swapped in every metric answers as on a fresh projection.
// Before the rebuild, the funnel's steps read 0 on the rows projected by the old release: that
// is the reason the migration asks for it.
func TestSchemaUpgradeRebuilds(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	e := newEnv(t, ch)
	e.salesHistory()
	e.otherTenantHistory()
	svc, stop := e.start()
	waitProjected(t, svc.App)
	want := snapshot(t, svc, tenantA)
	stop()

	// The database as the old release left it: without the columns 0012 adds, and without its
	// record.
	ms, err := chschema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var old []chschema.Migration
	for _, m := range ms {
		if m.Version >= 12 {
			break
		}
		old = append(old, m)
	}
	ctx := t.Context()
	for _, q := range []string{
		"ALTER TABLE leads DROP COLUMN mql_at, DROP COLUMN sal_at, DROP COLUMN sql_at, DROP COLUMN won_at",
		"TRUNCATE TABLE schema_migrations",
	} {
		if err := e.conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	b, err := e.conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, applied_at)")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range old {
		if err := b.Append(m.Version, m.Name, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}

	svc, stop = e.start()
	defer stop()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := svc.App.ProjectionStatus(ctx)
		var swapped bool
		if err == nil && !st.Rebuilding {
			var mql uint64
			err = e.conn.QueryRow(ctx, "SELECT countIf(toUInt32(mql_at) != 0) FROM leads FINAL WHERE tenant = 'acme'").Scan(&mql)
			swapped = err == nil && mql > 0
		}
		if swapped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rebuild swapped in after the upgrade (status %+v, err %v)", st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	waitProjected(t, svc.App)
	sameAnswers(t, "after the upgrade's rebuild", want, snapshot(t, svc, tenantA))
}
