package chquery_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
)

// injectionPayloads are values a hostile client may put into any string a query binds.
var injectionPayloads = []string{
	"' OR 1=1 --",
	"x'); DROP TABLE leads; --",
	"web' OR '1'='1",
	`\' OR 1=1 --`,
	`\`,
	`web\`,
	"web\x00' OR 1=1 --",
	"\n) OR 1=1 --",
	"{tenant:String}",
	"' UNION ALL SELECT name FROM system.tables --",
	"Ünïcødé ‮ 🙂",
	"\xff\xfe",
	strings.Repeat("a'", 5000),
}

// TestInjectionThroughEveryFilter binds every payload into every value a metric or the timeline
// takes from a request: the five filter lists, the currency, the account id, the timeline cursor's
// stream, and the tenant. Each query must run and find nothing (no stored value equals a
// payload, and "' OR 1=1" must not widen the match), the unknown period and breakdown names are
// refused before any SQL is built, and afterwards every table holds what it held before.
func TestInjectionThroughEveryFilter(t *testing.T) {
	t.Parallel()
	conn := load(t, 1)
	before := tableCounts(t, conn)
	if len(before) < 5 {
		t.Fatalf("expected the metric tables, found %v", before)
	}
	ctx := t.Context()
	type run func(s chquery.Scope, currency string) (int, error)
	metrics := map[string]run{
		"funnel": func(s chquery.Scope, _ string) (int, error) {
			r, err := chquery.Funnel(ctx, conn, s, 0)
			return len(r), err
		},
		"stage metrics": func(s chquery.Scope, _ string) (int, error) {
			r, err := chquery.StageMetrics(ctx, conn, s)
			return len(r), err
		},
		"sales velocity": func(s chquery.Scope, c string) (int, error) {
			r, err := chquery.SalesVelocity(ctx, conn, s, c)
			return len(r), err
		},
		"forecast": func(s chquery.Scope, c string) (int, error) {
			r, err := chquery.Forecast(ctx, conn, s, c)
			return len(r), err
		},
		"campaign performance": func(s chquery.Scope, c string) (int, error) {
			r, err := chquery.CampaignPerformance(ctx, conn, s, c)
			return len(r), err
		},
	}
	filters := map[string]func(*chquery.Filters, string){
		"sources":       func(f *chquery.Filters, p string) { f.Sources = []string{p} },
		"campaign_ids":  func(f *chquery.Filters, p string) { f.CampaignIDs = []string{p} },
		"owner_ids":     func(f *chquery.Filters, p string) { f.OwnerIDs = []string{p} },
		"territory_ids": func(f *chquery.Filters, p string) { f.TerritoryIDs = []string{p} },
		"pipeline_ids":  func(f *chquery.Filters, p string) { f.PipelineIDs = []string{p} },
	}
	// The filters each metric's tables have (the app refuses the others with InvalidArgument:
	// grpc TestBadParameters); a filter a query does not read cannot narrow it.
	common := []string{"sources", "campaign_ids", "owner_ids"}
	applies := map[string][]string{
		"funnel":               append(common, "territory_ids"),
		"stage metrics":        append(common, "pipeline_ids"),
		"sales velocity":       append(common, "pipeline_ids"),
		"forecast":             append(common, "pipeline_ids"),
		"campaign performance": {"campaign_ids"},
	}
	// The unfiltered metrics find rows, so "no rows" below is the filter's doing.
	for name, m := range metrics {
		n, err := m(q1("month", ""), "EUR")
		if err != nil || n == 0 {
			t.Fatalf("%s unfiltered: %d rows, %v", name, n, err)
		}
	}
	for i, p := range injectionPayloads {
		for name, m := range metrics {
			for _, fname := range applies[name] {
				set := filters[fname]
				s := q1("month", "")
				set(&s.Filters, p)
				if n, err := m(s, "EUR"); err != nil || n != 0 {
					t.Errorf("payload %d in %s of %s: %d rows, %v", i, fname, name, n, err)
				}
			}
			s := q1("month", "")
			s.Tenant = p
			if n, err := m(s, "EUR"); err != nil || n != 0 {
				t.Errorf("payload %d as tenant of %s: %d rows, %v", i, name, n, err)
			}
			if name == "sales velocity" || name == "forecast" {
				if n, err := m(q1("month", ""), p); err != nil || n != 0 {
					t.Errorf("payload %d as currency of %s: %d rows, %v", i, name, n, err)
				}
			}
			for _, bad := range []func(*chquery.Scope){
				func(s *chquery.Scope) { s.Period = p },
				func(s *chquery.Scope) { s.Breakdown = p },
			} {
				s := q1("month", "")
				bad(&s)
				if _, err := m(s, "EUR"); err == nil {
					t.Errorf("payload %d as period/breakdown of %s: accepted", i, name)
				}
			}
		}
		evs, err := chquery.Timeline(ctx, conn, tenant, p, nil, 100)
		if err != nil || len(evs) != 0 {
			t.Errorf("payload %d as account id: %d events, %v", i, len(evs), err)
		}
		evs, err = chquery.Timeline(ctx, conn, p, "A1", nil, 100)
		if err != nil || len(evs) != 0 {
			t.Errorf("payload %d as timeline tenant: %d events, %v", i, len(evs), err)
		}
		// A cursor (from a page token) at the end of time: the stream only breaks ties, so an
		// injected one must neither fail nor bring back anything.
		evs, err = chquery.Timeline(ctx, conn, tenant, "A1", &chquery.Cursor{At: time.Unix(1, 0), Stream: p, Seq: 1}, 100)
		if err != nil || len(evs) != 0 {
			t.Errorf("payload %d as cursor stream: %d events, %v", i, len(evs), err)
		}
	}
	// A payload next to a real value still matches only the real value.
	s := q1("month", "")
	s.Filters.TerritoryIDs = []string{"T2", "T2' OR 1=1 --"}
	only, err := chquery.Funnel(ctx, conn, s, 0)
	s.Filters.TerritoryIDs = []string{"T2"}
	want, err2 := chquery.Funnel(ctx, conn, s, 0)
	if err != nil || err2 != nil || fmt.Sprint(only) != fmt.Sprint(want) || len(want) == 0 {
		t.Errorf("T2 with a payload beside it: %v (%v), want %v (%v)", only, err, want, err2)
	}
	if after := tableCounts(t, conn); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("tables changed:\nbefore %v\nafter  %v", before, after)
	}
}

// tableCounts returns the row count of every table of the test's database.
func tableCounts(t *testing.T, conn driver.Conn) map[string]uint64 {
	t.Helper()
	rows, err := conn.Query(t.Context(), "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, n := range names {
		var c uint64
		if err := conn.QueryRow(t.Context(), "SELECT count() FROM `"+n+"`").Scan(&c); err != nil {
			t.Fatalf("count %s: %v", n, err)
		}
		counts[n] = c
	}
	return counts
}
