package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/pgquery"
	"github.com/evcrm/evcrm/services/analytics/internal/service"
)

// benchCampaigns is the number of campaigns the mixed history's leads and members point at
// (mixedUnit: c0 … c9).
const benchCampaigns = 10

// benchPostgres is BenchmarkAnalytics' "postgres" part: the five metrics on ClickHouse and the
// same metrics computed in PostgreSQL over the same data (package pgquery: equivalent tables
// and indexes, the SQL in internal/adapters/pgquery).
//
// The mix of loadMixed closes four opportunities in five (won or lost) and leaves the fifth
// open with an expected close date, but creates no campaign: campaign performance would have
// no row to compute. So it first adds the ten campaigns with a cost each, through the event
// store and the running projector. Then it starts a
// PostgreSQL cluster (testkit, Debian's server), copies ClickHouse's deduplicated tables into
// it (pgquery.Load, timed), checks that every metric returns the same numbers from both engines
// (fails otherwise), then runs each metric ANALYTICS_BENCH_QUERIES times per engine, the
// engines alternating call by call, and reports p50/p99 per engine and pg_p50/ch_p50.
// ClickHouse is called through chquery's functions directly, not over gRPC as in "queries",
// so that both sides are one query over one client connection: like with like. ClickHouse reads
// the snapshots (it waits for them to catch up with the projector first).
func benchPostgres(b *testing.B, svc *service.Service, store *eventstore.Store, conn driver.Conn, total int) {
	ctx := b.Context()
	seedCampaigns(b, store, conn)
	// ClickHouse answers from the snapshots, as in "queries" (which may not have run before).
	if wait := waitSnapshots(b, svc, conn, 10*time.Minute); wait > time.Second {
		b.Logf("the snapshots caught up with the projector %v after the comparison began waiting", wait.Round(time.Millisecond))
	}

	pg := testkit.StartPostgres(b)
	// The settings an analytics workload on PostgreSQL would get: sorts and hashes of a few
	// hundred thousand rows in memory rather than in temporary files (the default work_mem is
	// 4 MB). Parallel query keeps its defaults (2 workers per gather, the machine's 2 cores,
	// as ClickHouse's max_threads).
	for _, q := range []string{"ALTER SYSTEM SET work_mem = '128MB'", "SELECT pg_reload_conf()"} {
		if _, err := pg.Pool.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	stats, err := pgquery.Load(ctx, conn, pg.Pool)
	if err != nil {
		b.Fatal(err)
	}
	load := time.Since(start)
	var rows int64
	for _, n := range stats.Rows {
		rows += n
	}
	b.ReportMetric(load.Seconds(), "pg_load_s")
	b.ReportMetric(float64(rows)/stats.Copy.Seconds(), "pg_copy_rows/s")
	b.Logf("PostgreSQL %s: loaded %d rows %v from ClickHouse in %v (copy %v, indexes and ANALYZE %v)",
		pg.Version, rows, stats.Rows, load.Round(time.Millisecond), stats.Copy.Round(time.Millisecond), stats.Index.Round(time.Millisecond))

	// The range of "queries": the last year (the history spans 200 days back from the load);
	// the forecast also looks a year ahead (open opportunities by expected close date).
	now := time.Now().UTC().Truncate(time.Second)
	year := chquery.Scope{Tenant: benchTenant, From: now.AddDate(0, 0, -365), To: now, Period: "month"}
	by := func(s chquery.Scope, breakdown string) chquery.Scope { s.Breakdown = breakdown; return s }
	ahead := by(year, "forecast_category")
	ahead.To = now.AddDate(1, 0, 0)
	window := 90 * 24 * time.Hour

	type metric struct {
		name   string
		ch, pg func(context.Context) (any, int, error)
	}
	result := func(v any, n int, err error) (any, int, error) { return v, n, err }
	metrics := []metric{
		{"funnel",
			func(ctx context.Context) (any, int, error) {
				v, err := chquery.Funnel(ctx, conn, by(year, "source"), window)
				return result(v, len(v), err)
			},
			func(ctx context.Context) (any, int, error) {
				v, err := pgquery.Funnel(ctx, pg.Pool, by(year, "source"), window)
				return result(v, len(v), err)
			}},
		{"stage_metrics",
			func(ctx context.Context) (any, int, error) {
				v, err := chquery.StageMetrics(ctx, conn, by(year, "owner"))
				return result(v, len(v), err)
			},
			func(ctx context.Context) (any, int, error) {
				v, err := pgquery.StageMetrics(ctx, pg.Pool, by(year, "owner"))
				return result(v, len(v), err)
			}},
		{"sales_velocity",
			func(ctx context.Context) (any, int, error) {
				v, err := chquery.SalesVelocity(ctx, conn, by(year, "owner"), "EUR")
				return result(v, len(v), err)
			},
			func(ctx context.Context) (any, int, error) {
				v, err := pgquery.SalesVelocity(ctx, pg.Pool, by(year, "owner"), "EUR")
				return result(v, len(v), err)
			}},
		{"forecast",
			func(ctx context.Context) (any, int, error) {
				v, err := chquery.Forecast(ctx, conn, ahead, "EUR")
				return result(v, len(v), err)
			},
			func(ctx context.Context) (any, int, error) {
				v, err := pgquery.Forecast(ctx, pg.Pool, ahead, "EUR")
				return result(v, len(v), err)
			}},
		{"campaign_performance",
			func(ctx context.Context) (any, int, error) {
				v, err := chquery.CampaignPerformance(ctx, conn, year, "EUR")
				return result(v, len(v), err)
			},
			func(ctx context.Context) (any, int, error) {
				v, err := pgquery.CampaignPerformance(ctx, pg.Pool, year, "EUR")
				return result(v, len(v), err)
			}},
	}

	calls := envInt(b, benchQueriesEnv, 100)
	for _, m := range metrics {
		// Same numbers first: a speed-up of a different answer means nothing.
		chRes, n, err := m.ch(ctx)
		if err != nil {
			b.Fatalf("%s on ClickHouse: %v", m.name, err)
		}
		pgRes, _, err := m.pg(ctx)
		if err != nil {
			b.Fatalf("%s on PostgreSQL: %v", m.name, err)
		}
		if d := pgquery.Diff(chRes, pgRes); d != "" {
			b.Fatalf("%s: ClickHouse and PostgreSQL return different numbers: %s", m.name, d)
		}
		if n == 0 {
			b.Fatalf("%s returned no row on either engine: nothing was compared", m.name)
		}

		chLat := make([]time.Duration, 0, calls)
		pgLat := make([]time.Duration, 0, calls)
		timed := func(lat *[]time.Duration, q func(context.Context) (any, int, error)) {
			t0 := time.Now()
			if _, _, err := q(ctx); err != nil {
				b.Fatalf("%s: %v", m.name, err)
			}
			*lat = append(*lat, time.Since(t0))
		}
		// Alternating, so that load from elsewhere on a shared machine falls on both alike.
		for range calls {
			timed(&chLat, m.ch)
			timed(&pgLat, m.pg)
		}
		ch50, ch99 := percentile(chLat, 0.50), percentile(chLat, 0.99)
		pg50, pg99 := percentile(pgLat, 0.50), percentile(pgLat, 0.99)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(ch50), m.name+"_ch_p50_ms")
		b.ReportMetric(ms(ch99), m.name+"_ch_p99_ms")
		b.ReportMetric(ms(pg50), m.name+"_pg_p50_ms")
		b.ReportMetric(ms(pg99), m.name+"_pg_p99_ms")
		b.ReportMetric(pg50.Seconds()/ch50.Seconds(), m.name+"_pg/ch_p50")
		b.Logf("%s over %d events (%d rows, same on both): ClickHouse p50 %v p99 %v; PostgreSQL p50 %v p99 %v; pg/ch %.2f (%d calls each)",
			m.name, total, n, ch50.Round(time.Microsecond), ch99.Round(time.Microsecond),
			pg50.Round(time.Microsecond), pg99.Round(time.Microsecond), pg50.Seconds()/ch50.Seconds(), calls)
	}
}

// seedCampaigns appends the mix's campaigns (c0 … c9, created 210 days ago) with one EUR cost
// each, and waits until the projector has written them.
func seedCampaigns(b *testing.B, store *eventstore.Store, conn driver.Conn) {
	b.Helper()
	ctx := b.Context()
	created := time.Now().UTC().AddDate(0, 0, -210)
	for i := range benchCampaigns {
		id := fmt.Sprintf("c%d", i)
		budget := &commonv1.Money{CurrencyCode: "EUR", Units: 50_000}
		cost := &commonv1.Money{CurrencyCode: "EUR", Units: int64(1000 + 500*i)}
		_, err := store.Append(ctx, eventstore.Ref{Tenant: benchTenant, Type: "campaign", ID: id}, eventstore.Position{},
			eventstore.Event{OccurredAt: created, Payload: &campaignv1.CampaignCreated{Campaign: &campaignv1.Campaign{Id: id,
				Name: "Campaign " + id, Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL, Budget: budget}}},
			eventstore.Event{OccurredAt: created.AddDate(0, 0, 30), Payload: &campaignv1.CampaignCostRecorded{
				Entry:      &campaignv1.CostEntry{Amount: cost, Date: created.AddDate(0, 0, 30).Format(time.DateOnly)},
				ActualCost: cost, Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL}})
		if err != nil {
			b.Fatalf("append campaign %s: %v", id, err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var camps, costs uint64
		err := conn.QueryRow(ctx, "SELECT (SELECT count() FROM campaigns FINAL WHERE tenant = '"+benchTenant+"'), "+
			"(SELECT count() FROM costs FINAL WHERE tenant = '"+benchTenant+"')").Scan(&camps, &costs)
		if err != nil {
			b.Fatal(err)
		}
		if camps >= benchCampaigns && costs >= benchCampaigns {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("after a minute, %d campaigns and %d costs projected of %d", camps, costs, benchCampaigns)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
