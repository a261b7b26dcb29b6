package chquery_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chsnapshot"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/metrichistory"
)

// TestMetricsFromSnapshots checks that the metrics reading snapshots (funnel, sales velocity,
// forecast, campaign performance) give the hand-computed answers whatever the snapshot holds: taken when only the oldest rows
// were in (a lead and an opportunity change after it), taken over part of the history with
// the rest after it, with the whole history replayed after that, and of the whole history.
func TestMetricsFromSnapshots(t *testing.T) {
	t.Parallel()
	conn := load(t, 0) // the schema, no rows
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	pos := map[string]uint64{}
	snap := chsnapshot.New(conn, func(context.Context) (map[string]uint64, error) { return pos, nil }, chsnapshot.Options{})
	// insert writes the history's rows whose seq is in (after, upto]: the seq column of the
	// current-state tables; every other table goes in whole with the first call.
	insert := func(after, upto uint64) {
		t.Helper()
		for _, tb := range metrichistory.History() {
			if tb.Name != "leads" && tb.Name != "opportunities" {
				if after == 0 {
					metrichistory.Insert(ctx, t, conn, tb)
				}
				continue
			}
			seqAt := -1
			for i, c := range strings.Split(tb.Cols, ",") {
				if strings.TrimSpace(c) == "seq" {
					seqAt = i
				}
			}
			part := metrichistory.Table{Name: tb.Name, Cols: tb.Cols}
			for _, r := range tb.Rows {
				if s := r[seqAt].(uint64); s > after && s <= upto {
					part.Rows = append(part.Rows, r)
				}
			}
			metrichistory.Insert(ctx, t, conn, part)
		}
	}
	take := func(leadsUpto, oppsUpto uint64) {
		t.Helper()
		pos["CRM_LEADS"], pos["CRM_PIPELINE"] = leadsUpto, oppsUpto
		for _, s := range chsnapshot.Specs {
			if took, err := snap.Refresh(ctx, s, true); err != nil || !took {
				t.Fatalf("snapshot of %s: took %v, %v", s.Name, took, err)
			}
			l, ok, err := chsnapshot.Usable(ctx, conn, s)
			if err != nil || !ok || l.Upto != pos[s.Stream] {
				t.Fatalf("the queries would read snapshot %+v (usable %v, %v) of %s, want the new one up to %d", l, ok, err, s.Name, pos[s.Stream])
			}
		}
	}
	check := func(name string) {
		t.Run(name, func(t *testing.T) {
			t.Run("funnel", func(t *testing.T) { testFunnel(t, conn) })
			t.Run("sales velocity", func(t *testing.T) { testSalesVelocity(t, conn) })
			t.Run("forecast", func(t *testing.T) { testForecast(t, conn) })
			t.Run("campaign performance", func(t *testing.T) { testCampaignPerformance(t, conn) })
		})
	}

	// L1 and O1 are in the first snapshot in an older version (seq 1 and 30), t2's rows whole.
	insert(0, 1)
	insert(1, 30)
	take(1, 30)
	insert(30, 1000)
	check("snapshot of the oldest rows")

	// L1–L3 and O1–O2 from the snapshot, the others after it.
	take(22, 34)
	check("snapshot of part of the history")

	// A replay after the snapshot: every row again, L1–L3 and O1–O2 among them.
	insert(0, 1000)
	check("replay after the snapshot")

	// Every lead and opportunity from a snapshot: every column the metrics read comes from
	// the copies.
	take(1000, 1000)
	check("snapshot of the whole history")
}
