package chsnapshot_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chsnapshot"
)

func TestMain(m *testing.M) { testkit.Main(m) }

var leads = chsnapshot.Specs[0]

// clock is a settable Options.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time               { return c.t }
func (c *clock) advance(d time.Duration) bool { c.t = c.t.Add(d); return true }

func setup(t *testing.T) (driver.Conn, map[string]uint64, *clock, *chsnapshot.Refresher) {
	t.Helper()
	ch := testkit.SharedClickHouse(t)
	conn := ch.ConnDatabase(t, ch.NewDatabase(t))
	if _, err := chschema.Migrate(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	pos := map[string]uint64{}
	c := &clock{t: time.Now()}
	r := chsnapshot.New(conn, func(context.Context) (map[string]uint64, error) { return pos, nil },
		chsnapshot.Options{MinInterval: time.Minute, Share: 0.5, Grace: 10 * time.Minute, Now: c.now})
	return conn, pos, c, r
}

// lead writes version seq of lead id (status s).
func lead(t *testing.T, conn driver.Conn, id string, seq uint64, s string) {
	t.Helper()
	if err := conn.Exec(t.Context(), fmt.Sprintf("INSERT INTO leads (tenant, lead_id, seq, status) SELECT 't1', '%s', toUInt64(%d), '%s'",
		id, seq, s)); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshCopiesFinalAndRegisters(t *testing.T) {
	t.Parallel()
	conn, pos, _, r := setup(t)
	ctx := t.Context()
	lead(t, conn, "l1", 1, "new")
	lead(t, conn, "l1", 2, "working")
	lead(t, conn, "l2", 3, "new")

	// Nothing projected yet: no snapshot, even forced.
	if took, err := r.Refresh(ctx, leads, true); err != nil || took {
		t.Fatalf("Refresh before any position = %v, %v; want no snapshot", took, err)
	}
	pos["CRM_LEADS"] = 3
	if took, err := r.Refresh(ctx, leads, false); err != nil || !took {
		t.Fatalf("first Refresh = %v, %v; want a snapshot", took, err)
	}
	l, err := chsnapshot.LatestOf(ctx, conn, leads)
	if err != nil || l.ID == 0 || l.Upto != 3 || l.Rows != 2 {
		t.Fatalf("latest = %+v, %v; want upto 3 and 2 rows (FINAL: one per lead)", l, err)
	}
	var got []string
	rows, err := conn.Query(ctx, fmt.Sprintf("SELECT lead_id, status FROM leads_snapshot WHERE snapshot = %d ORDER BY lead_id", l.ID))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, s string
		if err := rows.Scan(&id, &s); err != nil {
			t.Fatal(err)
		}
		got = append(got, id+"="+s)
	}
	rows.Close()
	if want := []string{"l1=working", "l2=new"}; !slices.Equal(got, want) {
		t.Fatalf("snapshot holds %v, want %v", got, want)
	}
	// The stream has not moved: nothing to take, forced or not.
	if took, err := r.Refresh(ctx, leads, true); err != nil || took {
		t.Fatalf("Refresh with nothing new = %v, %v; want none", took, err)
	}
	// The stream was created anew (its sequences start over): a snapshot at the lower
	// position right away, pacing or not, or its old upto_seq would hide the new rows.
	pos["CRM_LEADS"] = 1
	if took, err := r.Refresh(ctx, leads, false); err != nil || !took {
		t.Fatalf("Refresh after the position went back = %v, %v; want a snapshot", took, err)
	}
	if l, err := chsnapshot.LatestOf(ctx, conn, leads); err != nil || l.Upto != 1 {
		t.Fatalf("latest after the position went back = %+v, %v; want upto 1", l, err)
	}
}

func TestRefreshPacesAndDropsSupersededSnapshots(t *testing.T) {
	t.Parallel()
	conn, pos, c, r := setup(t)
	ctx := t.Context()
	take := func() bool {
		t.Helper()
		took, err := r.Refresh(ctx, leads, false)
		if err != nil {
			t.Fatal(err)
		}
		return took
	}
	lead(t, conn, "l1", 1, "new")
	pos["CRM_LEADS"] = 1
	if !take() {
		t.Fatal("no first snapshot")
	}
	first, _ := chsnapshot.LatestOf(ctx, conn, leads)

	// Within MinInterval of the last snapshot nothing is taken, even with events since.
	lead(t, conn, "l2", 2, "new")
	pos["CRM_LEADS"] = 2
	if c.advance(30*time.Second) && take() {
		t.Fatal("a snapshot 30s after the last one (MinInterval 1m)")
	}
	if c.advance(31*time.Second) && !take() {
		t.Fatal("no snapshot after MinInterval")
	}
	second, _ := chsnapshot.LatestOf(ctx, conn, leads)
	if second.ID <= first.ID || second.Upto != 2 {
		t.Fatalf("second snapshot %+v after %+v", second, first)
	}

	// The first stays while the second is younger than Grace: a query may have chosen it.
	if parts, err := r.Partitions(ctx, leads); err != nil || !slices.Equal(parts, []uint64{first.ID, second.ID}) {
		t.Fatalf("partitions %v, %v; want both snapshots %d and %d", parts, err, first.ID, second.ID)
	}
	// Past Grace, the next snapshot drops every snapshot older than the newest one
	// registered before the grace began: the first.
	lead(t, conn, "l3", 3, "new")
	pos["CRM_LEADS"] = 3
	if c.advance(11*time.Minute) && !take() {
		t.Fatal("no third snapshot")
	}
	third, _ := chsnapshot.LatestOf(ctx, conn, leads)
	if parts, err := r.Partitions(ctx, leads); err != nil || !slices.Equal(parts, []uint64{second.ID, third.ID}) {
		t.Fatalf("partitions %v, %v; want the second and third snapshots %d and %d", parts, err, second.ID, third.ID)
	}
}

func TestRefreshPrunesTheRegistry(t *testing.T) {
	t.Parallel()
	conn, pos, c, _ := setup(t)
	ctx := t.Context()
	r := chsnapshot.New(conn, func(context.Context) (map[string]uint64, error) { return pos, nil },
		chsnapshot.Options{MinInterval: time.Minute, Share: 0.5, Grace: 10 * time.Minute, PruneAfter: 1, Now: c.now})
	var ids []uint64
	for i := uint64(1); i <= 3; i++ {
		lead(t, conn, fmt.Sprintf("l%d", i), i, "new")
		pos["CRM_LEADS"] = i
		if took, err := r.Refresh(ctx, leads, false); err != nil || !took {
			t.Fatalf("snapshot %d: %v, %v", i, took, err)
		}
		l, err := chsnapshot.LatestOf(ctx, conn, leads)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.ID)
		c.advance(11 * time.Minute)
	}
	// The third snapshot dropped the first one's partition, and with PruneAfter 1 its
	// registry row goes too (a mutation, finished in the background).
	registered := func() []uint64 {
		rows, err := conn.Query(ctx, "SELECT snapshot FROM snapshots WHERE name = 'leads' ORDER BY snapshot")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []uint64
		for rows.Next() {
			var id uint64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}
	want := ids[1:]
	for deadline := time.Now().Add(30 * time.Second); !slices.Equal(registered(), want); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("registry holds %v, want %v (the first snapshot's row pruned)", registered(), want)
		}
	}
	if l, err := chsnapshot.LatestOf(ctx, conn, leads); err != nil || l.ID != ids[2] || l.Upto != 3 {
		t.Fatalf("latest after pruning = %+v, %v; want snapshot %d upto 3", l, err, ids[2])
	}
}

// TestSnapshotsOfOlderColumnsAreNotRead: an opportunities snapshot taken before migration 0014
// (registered as 'opportunities', the new columns at their defaults) is not the latest one.
func TestSnapshotsOfOlderColumnsAreNotRead(t *testing.T) {
	t.Parallel()
	conn, pos, _, r := setup(t)
	ctx := t.Context()
	opps := chsnapshot.Specs[1]
	if err := conn.Exec(ctx, "INSERT INTO opportunities_snapshot (snapshot, tenant, opportunity_id, status) SELECT toUInt64(7), 't1', 'o1', 'open'"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, "INSERT INTO snapshots (name, snapshot, upto_seq, rows, taken_at) SELECT 'opportunities', toUInt64(7), toUInt64(5), toUInt64(1), now()"); err != nil {
		t.Fatal(err)
	}
	if l, ok, err := chsnapshot.Usable(ctx, conn, opps); err != nil || ok {
		t.Fatalf("Usable = %+v, %v, %v; want no snapshot (the old one lacks the new columns)", l, ok, err)
	}
	// The first snapshot under the new name is taken at once, whatever the old one's pacing.
	pos["CRM_PIPELINE"] = 5
	if took, err := r.Refresh(ctx, opps, false); err != nil || !took {
		t.Fatalf("Refresh = %v, %v; want a snapshot under %s", took, err, opps.Registry)
	}
	if l, ok, err := chsnapshot.Usable(ctx, conn, opps); err != nil || !ok || l.ID == 7 {
		t.Fatalf("Usable = %+v, %v, %v; want the new snapshot", l, ok, err)
	}
}
