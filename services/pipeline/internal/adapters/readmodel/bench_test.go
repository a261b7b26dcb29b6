package readmodel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// BenchmarkForecast loads PIPELINE_BENCH_OPPS open opportunities (default 200,000) with ten
// versions each that change the forecast (2,000,000 history rows: the issue's "2,000,000
// events") into a file database through Apply, then measures Forecast now and as of six months
// back, and ListOpportunities, reporting p50/p99 in milliseconds. The load runs once per
// process and only when a benchmark selects it.
//
//	go test -run '^$' -bench Forecast -benchtime 200x -timeout 1h ./internal/adapters/readmodel/
func BenchmarkForecast(b *testing.B) {
	fx := &forecastFixture{n: 200_000}
	if v := os.Getenv("PIPELINE_BENCH_OPPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("PIPELINE_BENCH_OPPS=%q: want a positive integer", v)
		}
		fx.n = n
	}
	fx.dir = b.TempDir()
	defer fx.close()

	b.Run("Load", func(b *testing.B) {
		fx.ensure(b)
		b.ReportMetric(fx.oppsPerSec, "opps/s")
		b.ReportMetric(fx.historyRows, "history-rows")
		b.ReportMetric(fx.dbMiB, "db-MiB")
		b.ReportMetric(0, "ns/op")
	})

	rng := rand.New(rand.NewPCG(9, 9))
	today := civil.DateOf(benchNow)
	// GetForecast's typical request: every close date the data has (the proto bounds a request
	// to five years), by month, split by owner and category — the most rows.
	full := ForecastQuery{Period: forecast.PeriodMonth, CloseFrom: today.AddDays(-730), CloseTo: today.AddDays(1095),
		GroupByOwner: true, GroupByCategory: true}
	queries := []struct {
		name string
		q    func() ForecastQuery
	}{
		{"Forecast/now/all-by-owner-category", func() ForecastQuery { return full }},
		{"Forecast/now/next-2-quarters-by-category", func() ForecastQuery {
			return ForecastQuery{Period: forecast.PeriodQuarter, CloseFrom: today, CloseTo: today.AddDays(182), GroupByCategory: true}
		}},
		{"Forecast/now/one-owner", func() ForecastQuery {
			q := full
			q.OwnerIDs = []string{benchOwner(rng)}
			return q
		}},
		{"Forecast/asof-6-months/all-by-owner-category", func() ForecastQuery {
			q := full
			q.AsOf = benchNow.AddDate(0, -6, 0).Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
			return q
		}},
		{"Forecast/asof-12-months/all-by-owner-category", func() ForecastQuery {
			q := full
			q.AsOf = benchNow.AddDate(0, -12, 0).Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
			return q
		}},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			fx.ensure(b)
			fx.measure(b, func(ctx context.Context) error {
				_, err := fx.s.Forecast(ctx, benchTenant, q.q())
				return err
			})
		})
	}
	lists := []struct {
		name string
		f    func() OpportunityFilter
	}{
		{"List/owner+open/close-date", func() OpportunityFilter {
			return OpportunityFilter{OwnerIDs: []string{benchOwner(rng)}, Statuses: []opportunity.Status{opportunity.StatusOpen}, Sort: SortCloseDate}
		}},
		{"List/pipeline+quarter/amount-desc", func() OpportunityFilter {
			from := today.AddDays(rng.IntN(365)).StartOfQuarter()
			return OpportunityFilter{PipelineIDs: []string{"renewals"}, CloseFrom: from, CloseTo: from.AddDays(90), Sort: SortAmount, Desc: true}
		}},
		{"List/category+amount-range/updated-desc", func() OpportunityFilter {
			lo := decimal.NewFromInt(50_000)
			return OpportunityFilter{Categories: []pipelinedef.Category{pipelinedef.CategoryCommit}, Currency: "EUR", AmountMin: &lo, Sort: SortUpdated, Desc: true}
		}},
		{"List/tag/created-desc", func() OpportunityFilter {
			return OpportunityFilter{Tag: fmt.Sprintf("tag-%d", rng.IntN(10)), Desc: true}
		}},
	}
	for _, l := range lists {
		b.Run(l.name, func(b *testing.B) {
			fx.ensure(b)
			fx.measure(b, func(ctx context.Context) error {
				_, _, err := fx.s.ListOpportunities(ctx, benchTenant, l.f())
				return err
			})
		})
	}
}

const benchTenant = "bench"

// benchNow is "today" of the synthetic data.
var benchNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// Owners are skewed: a few large books, many small ones (Zipf over 60 owners).
var benchOwnerZipf = rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 4, 59)

var benchOwnerMu sync.Mutex

func benchOwner(rng *rand.Rand) string {
	benchOwnerMu.Lock()
	defer benchOwnerMu.Unlock()
	if rng.IntN(2) == 0 {
		return fmt.Sprintf("user-%02d", rng.IntN(60))
	}
	return fmt.Sprintf("user-%02d", benchOwnerZipf.Uint64())
}

type forecastFixture struct {
	n   int
	dir string

	once sync.Once
	err  error
	s    *Store

	oppsPerSec  float64
	historyRows float64
	dbMiB       float64
}

func (fx *forecastFixture) ensure(b *testing.B) {
	b.Helper()
	b.StopTimer()
	fx.once.Do(func() { fx.err = fx.load(b) })
	if fx.err != nil {
		b.Fatal(fx.err)
	}
	b.StartTimer()
}

func (fx *forecastFixture) close() {
	if fx.s != nil {
		_ = fx.s.Close()
	}
}

// benchOpportunity returns the ten versions of one open opportunity: created between 18 months
// and 1 month ago, then stage moves (probability and category with them), amount changes,
// close-date push-outs and the odd owner change, spread until now.
func benchOpportunity(rng *rand.Rand, i int) []HistoryPoint {
	const versions = 10
	span := 17 * 30 * 24 * time.Hour
	created := benchNow.Add(-30*24*time.Hour - time.Duration(rng.Int64N(int64(span))))
	p := pipelinedef.Default()
	if rng.IntN(5) == 0 {
		p = renewals()
	}
	open := p.OpenStages()
	currency := []string{"EUR", "EUR", "EUR", "USD", "USD", "JPY"}[rng.IntN(6)]
	amount := func() money.Money {
		units := int64(1000 + rng.IntN(200_000))
		if currency == "JPY" {
			units *= 150
		}
		return money.New(currency, decimal.New(units*100+int64(rng.IntN(100)), -2).Round(money.MinorUnits(currency)))
	}
	st := open[rng.IntN(min(3, len(open)))]
	o := opportunity.Opportunity{ID: fmt.Sprintf("opp-%07d", i), Version: 1,
		Details: opportunity.Details{Name: fmt.Sprintf("Deal %d", i), AccountID: fmt.Sprintf("acc-%05d", rng.IntN(5000)),
			PrimaryCampaignID: fmt.Sprintf("cmp-%03d", rng.IntN(100)), Tags: []string{fmt.Sprintf("tag-%d", rng.IntN(10))}},
		OwnerID: benchOwner(rng), PipelineID: p.ID, StageID: st.ID, StageName: st.Name, Amount: amount(),
		Probability: st.Probability, StageProbability: st.Probability, StageCategory: st.Category, ForecastCategory: st.Category,
		ExpectedCloseDate: civil.DateOf(created).AddDays(30 + rng.IntN(300)), Status: opportunity.StatusOpen,
		StageEnteredAt: created, CreatedAt: created, UpdatedAt: created,
		StageHistory: []opportunity.StageVisit{{StageID: st.ID, StageName: st.Name, EnteredAt: created}}}
	times := make([]time.Time, versions-1)
	for j := range times {
		times[j] = created.Add(time.Duration(rng.Int64N(int64(benchNow.Sub(created)))))
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	out := []HistoryPoint{{State: o, RecordedAt: created}}
	for _, at := range times {
		o.Version++
		o.UpdatedAt = at
		switch k := rng.IntN(10); {
		case k < 4:
			next := open[rng.IntN(len(open))]
			if next.ID == o.StageID {
				next = open[(slices.IndexFunc(open, func(s pipelinedef.Stage) bool { return s.ID == next.ID })+1)%len(open)]
			}
			o.StageID, o.StageName, o.StageEnteredAt = next.ID, next.Name, at
			o.Probability, o.StageProbability, o.ForecastCategory, o.StageCategory = next.Probability, next.Probability, next.Category, next.Category
		case k < 6:
			o.Amount = amount()
		case k < 9:
			o.ExpectedCloseDate = o.ExpectedCloseDate.AddDays(7 + rng.IntN(60))
		default:
			o.OwnerID = benchOwner(rng)
		}
		out = append(out, HistoryPoint{State: o, RecordedAt: at})
	}
	return out
}

// load applies the opportunities in batches of 1,000 (10,000 versions), as the projector
// would while rebuilding; each opportunity comes with its whole history.
func (fx *forecastFixture) load(b *testing.B) error {
	ctx := context.Background()
	path := filepath.Join(fx.dir, "pipeline.db")
	s, err := Open(ctx, path, sqlitemodel.Options{})
	if err != nil {
		return err
	}
	fx.s = s
	rng := rand.New(rand.NewPCG(1, 1))
	const batch = 1000
	start := time.Now()
	seq := uint64(0)
	for i := 0; i < fx.n; i += batch {
		var bt Batch
		for j := i; j < min(i+batch, fx.n); j++ {
			h := benchOpportunity(rng, j)
			seq += uint64(len(h))
			last := h[len(h)-1]
			bt.Opportunities = append(bt.Opportunities, OpportunityChange{Tenant: benchTenant, State: last.State,
				Seq: seq, RecordedAt: last.RecordedAt, History: h[:len(h)-1]})
		}
		if err := s.Apply(ctx, testStream, seq, bt); err != nil {
			return err
		}
		if i > 0 && i%50_000 == 0 {
			b.Logf("loaded %d opportunities, %.0f/s", i, float64(i)/time.Since(start).Seconds())
		}
	}
	elapsed := time.Since(start)
	fx.oppsPerSec = float64(fx.n) / elapsed.Seconds()
	var rows int
	if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM opportunity_history`).Scan(&rows); err != nil {
		return err
	}
	fx.historyRows = float64(rows)
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	wal, _ := os.Stat(path + "-wal")
	size := st.Size()
	if wal != nil {
		size += wal.Size()
	}
	fx.dbMiB = float64(size) / (1 << 20)
	b.Logf("loaded %d opportunities (%d history rows) in %s: %.0f opportunities/s, database %.0f MiB",
		fx.n, rows, elapsed.Round(time.Millisecond), fx.oppsPerSec, fx.dbMiB)
	return nil
}

// measure runs op b.N times and reports latency percentiles in ms.
func (fx *forecastFixture) measure(b *testing.B, op func(ctx context.Context) error) {
	b.Helper()
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if err := op(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1.0), "max-ms")
}
