package chwriter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chwriter"
)

// Events written in clear before sealing existed hold personal fields in payload_json; the
// erasure event makes the projector strip them from every copy (a redelivered duplicate
// included), keeping the non-personal fields and the funnel's rows.
func TestErasureScrubsClearTextHistory(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	conn := ch.ConnDatabase(t, ch.NewDatabase(t))
	if _, err := chschema.Migrate(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	checkErasureScrubs(t, conn, conn, chwriter.Options{})
}

// The same in chschema's cluster mode (one shard, two replicas, ZooKeeper): the rewrite goes
// to every replica's events_local, and the replica the writer is not connected to ends
// without the email too.
func TestErasureScrubsClearTextHistoryOnCluster(t *testing.T) {
	t.Parallel()
	c := testkit.StartClickHouseCluster(t, 1, 2)
	opts := chschema.Options{Cluster: testkit.ClickHouseClusterName}
	const db = "evcrm"
	if err := chschema.EnsureDatabaseWith(t.Context(), c.ConnDatabase(t, c.Node(0, 0), "default"), db, opts); err != nil {
		t.Fatal(err)
	}
	conn, other := c.ConnDatabase(t, c.Node(0, 0), db), c.ConnDatabase(t, c.Node(0, 1), db)
	if _, err := chschema.MigrateWith(t.Context(), conn, opts); err != nil {
		t.Fatal(err)
	}
	checkErasureScrubs(t, conn, other, chwriter.Options{Cluster: testkit.ClickHouseClusterName})
}

// checkErasureScrubs writes a lead's clear-text history and its erasure through a writer on
// conn and checks the payloads read through check (another replica in cluster mode).
func checkErasureScrubs(t *testing.T, conn, check driver.Conn, opts chwriter.Options) {
	t.Helper()
	cluster := opts.Cluster != ""
	w := chwriter.New(conn, opts)
	const email = "clear.zq5@erase-proof.test"
	created := event(t, 1, 1, 1, &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "l1", Email: email, LastName: "Cleartextzq5",
		Company: "Kept Corp", Status: leadsv1.LeadStatus_LEAD_STATUS_NEW}})
	updated := event(t, 2, 2, 1, &leadsv1.LeadDetailsUpdated{ChangedFields: []string{"email"},
		Before: &leadsv1.Lead{Email: email}, After: &leadsv1.Lead{Email: "new." + email}})
	erased := event(t, 3, 3, 1, &leadsv1.LeadErased{Reason: "DSR-5"})
	for _, batch := range [][]projection.Event{{created, updated}, {created}, {erased}} { // {created} again: a duplicate row
		if err := w.Write(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	payloads := func() string {
		t.Helper()
		table := "events"
		if cluster {
			table = "events_local" // this replica's own rows
		}
		var rows driver.Rows
		var err error
		// The other replica runs its mutation on its own: wait until it has (18.16 has no
		// mutations_sync), then read.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
			var pending uint64
			if err := check.QueryRow(t.Context(), "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = '"+table+"' AND is_done = 0").Scan(&pending); err != nil {
				t.Fatal(err)
			}
			if pending == 0 || time.Now().After(deadline) {
				break
			}
		}
		rows, err = check.Query(t.Context(), "SELECT payload_json FROM "+table+" ORDER BY seq")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var all []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			all = append(all, s)
		}
		return strings.Join(all, "\n")
	}
	got := payloads()
	for _, s := range []string{email, "Cleartextzq5"} {
		if strings.Contains(got, s) {
			t.Errorf("events still hold %q after the erasure:\n%s", s, got)
		}
	}
	if !strings.Contains(got, "Kept Corp") || !strings.Contains(got, `"changed_fields":["email"]`) {
		t.Errorf("the erasure removed non-personal fields:\n%s", got)
	}
	optimize := "OPTIMIZE TABLE events FINAL"
	if cluster {
		optimize = "OPTIMIZE TABLE events_local FINAL"
	}
	if err := check.Exec(t.Context(), optimize); err != nil {
		t.Fatal(err)
	}
	if got := payloads(); strings.Contains(got, email) {
		t.Errorf("after a merge the events hold the email:\n%s", got)
	}
	var leads uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM leads FINAL WHERE lead_id = 'l1'").Scan(&leads); err != nil || leads != 1 {
		t.Errorf("leads rows = %d (%v)", leads, err)
	}
}
