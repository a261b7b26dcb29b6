package readmodel

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

var genStart = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

func optionsOf(q ForecastQuery) forecast.Options {
	return forecast.Options{Period: q.Period, From: q.CloseFrom, To: q.CloseTo, ByOwner: q.GroupByOwner,
		ByCategory: q.GroupByCategory, OwnerIDs: q.OwnerIDs, PipelineIDs: q.PipelineIDs, Categories: q.Categories}
}

func forecastQueries() []ForecastQuery {
	d := civil.DateOf(genStart)
	return []ForecastQuery{
		{},
		{Period: forecast.PeriodQuarter, GroupByOwner: true, GroupByCategory: true},
		{Period: forecast.PeriodMonth, CloseFrom: d.AddDays(60), CloseTo: d.AddDays(240), OwnerIDs: []string{"olga", "rosa"}, GroupByCategory: true},
		{Period: forecast.PeriodQuarter, PipelineIDs: []string{"renewals"}, GroupByOwner: true,
			Categories: []pipelinedef.Category{pipelinedef.CategoryCommit, pipelinedef.CategoryClosed, pipelinedef.CategoryBestCase}},
		{Categories: []pipelinedef.Category{pipelinedef.CategoryOmitted, pipelinedef.CategoryPipeline}, CloseTo: d.AddDays(120)},
	}
}

// instants picks as-of instants: before anything, exactly at, just before and just after
// recorded times (where the events of one command may sit microseconds apart), between events,
// and long after.
func instants(rng *rand.Rand, log []forecast.Recorded, n int) []time.Time {
	out := []time.Time{log[0].RecordedAt.Add(-time.Hour), log[len(log)-1].RecordedAt.Add(1000 * time.Hour)}
	for range n {
		r := log[rng.IntN(len(log))].RecordedAt
		switch rng.IntN(4) {
		case 0:
			out = append(out, r)
		case 1:
			out = append(out, r.Add(-time.Nanosecond))
		case 2:
			out = append(out, r.Add(time.Nanosecond))
		default:
			out = append(out, r.Add(time.Duration(rng.Int64N(int64(3*time.Hour)))))
		}
	}
	return out
}

// TestForecastEqualsDomainCompute is the oracle: for random histories made by the domain's
// own decisions, Forecast now and as of many instants equals forecast.Compute over the
// snapshots forecast.AsOf folds from the same log.
func TestForecastEqualsDomainCompute(t *testing.T) {
	t.Parallel()
	seeds, nInstants := uint64(5), 30
	if raceBuild {
		seeds, nInstants = 2, 6
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 99))
			log := history(seed, 160, genStart, "t1", "t2")
			s := openStore(t, "")
			batches, _ := project(t, s, log, rng, 25)
			check := func(t *testing.T, n int) {
				t.Helper()
				for _, tenant := range []string{"t1", "t2"} {
					tl := tenantLog(log, tenant)
					for qi, q := range forecastQueries() {
						got, err := s.Forecast(ctx, tenant, q)
						require.NoError(t, err)
						want := forecast.Compute(forecast.AsOf(tl, time.Unix(0, math.MaxInt64)), optionsOf(q))
						require.Equal(t, norm(want), norm(got), "%s now, query %d", tenant, qi)
						require.NotEmpty(t, want.Rows, "the generator should produce a forecast")
					}
					for _, at := range instants(rng, tl, n) {
						for qi, q := range forecastQueries() {
							q.AsOf = at
							got, err := s.Forecast(ctx, tenant, q)
							require.NoError(t, err)
							want := forecast.Compute(forecast.AsOf(tl, at), optionsOf(q))
							require.Equal(t, norm(want), norm(got), "%s as of %s, query %d", tenant, at.Format(time.RFC3339Nano), qi)
						}
					}
				}
			}
			check(t, nInstants)
			checkHistoryInvariants(t, s)

			// Redelivery: batches applied again, in any order, change nothing.
			rows := countRows(t, s, "opportunity_history")
			for _, i := range rng.Perm(len(batches))[:len(batches)/3] {
				require.NoError(t, s.Apply(ctx, testStream, batches[i].lastSeq, batches[i].batch))
			}
			assert.Equal(t, rows, countRows(t, s, "opportunity_history"))
			check(t, nInstants/3)
		})
	}
}

func countRows(t testing.TB, s *Store, table string) int {
	t.Helper()
	var n int
	require.NoError(t, s.db.R.QueryRow(`SELECT count(*) FROM `+table).Scan(&n))
	return n
}

// checkHistoryInvariants checks the as-of table's shape: per opportunity, intervals that are
// non-empty, contiguous and end in exactly one current row; consecutive rows that differ in
// what the forecast reads; every row filed in the window its interval fits.
func checkHistoryInvariants(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.db.R.Query(`SELECT tenant, opportunity_id, version, valid_from, valid_to, lvl, bkt,
		owner_id, pipeline_id, stage_id, status, forecast_category, expected_close_date, closed_on, currency,
		amount_units, amount_nanos, probability
		FROM opportunity_history ORDER BY tenant, opportunity_id, version`)
	require.NoError(t, err)
	defer rows.Close()
	type row struct {
		key           [2]string
		version       int64
		from, to      int64
		lvl, bkt      int64
		facts         [11]any
		factsComparer string
	}
	var prev *row
	current := 0
	for rows.Next() {
		var r row
		var f [11]any
		require.NoError(t, rows.Scan(&r.key[0], &r.key[1], &r.version, &r.from, &r.to, &r.lvl, &r.bkt,
			&f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10]))
		r.factsComparer = fmt.Sprint(f)
		require.Less(t, r.from, r.to, "%v v%d: empty interval", r.key, r.version)
		if r.to == forever {
			current++
			require.Equal(t, [2]int64{currentLevel, 0}, [2]int64{r.lvl, r.bkt})
		} else {
			lvl, bkt := window(r.from, r.to)
			require.Equal(t, [2]int64{lvl, bkt}, [2]int64{r.lvl, r.bkt})
		}
		if prev != nil && prev.key == r.key {
			require.Equal(t, prev.to, r.from, "%v v%d: not contiguous", r.key, r.version)
			require.NotEqual(t, prev.factsComparer, r.factsComparer, "%v v%d: a row that changes nothing", r.key, r.version)
		} else if prev != nil {
			require.Equal(t, int64(forever), prev.to, "%v: last row not current", prev.key)
		}
		prev = &r
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, countRows(t, s, "opportunities"), current)
}

func TestProbesFindExactlyTheIntervalsThatContainAnInstant(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	type iv struct{ from, to, lvl, bkt int64 }
	var ivs []iv
	for range 3000 {
		from := rng.Int64N(1 << 40)
		to := from + 1 + rng.Int64N(1<<uint(rng.IntN(38)))
		lvl, bkt := window(from, to)
		ivs = append(ivs, iv{from, to, lvl, bkt})
	}
	for range 300 {
		at := rng.Int64N(1 << 40)
		if rng.IntN(3) == 0 {
			at = ivs[rng.IntN(len(ivs))].from - 1 + rng.Int64N(3)
		}
		var want, got, read []int
		for i, v := range ivs {
			if v.from <= at && at < v.to {
				want = append(want, i)
			}
		}
		for _, p := range probes(at) {
			for i, v := range ivs {
				if v.lvl != p.lvl || v.bkt != p.bkt {
					continue
				}
				inRange := v.to > at
				if p.fromSide {
					inRange = v.from <= at
				}
				if inRange {
					read = append(read, i)
					if v.from <= at && at < v.to {
						got = append(got, i)
					}
				}
			}
		}
		slices.Sort(got)
		slices.Sort(read)
		require.Equal(t, want, got, "at %d", at)
		require.Equal(t, want, read, "at %d: a probe read a row that does not count", at)
	}
}

func TestForecastRejectsBadQueries(t *testing.T) {
	t.Parallel()
	s := openStore(t, "")
	ctx := context.Background()
	_, err := s.Forecast(ctx, "t1", ForecastQuery{Period: 7})
	requireKind(t, err, apperr.Invalid, "period")
	_, err = s.Forecast(ctx, "t1", ForecastQuery{CloseFrom: civil.New(2025, 5, 1), CloseTo: civil.New(2025, 4, 1)})
	requireKind(t, err, apperr.Invalid, "close_date_to")
	_, err = s.Forecast(ctx, "t1", ForecastQuery{CloseFrom: civil.New(2025, 2, 30)})
	requireKind(t, err, apperr.Invalid, "close_date_from")

	f, err := s.Forecast(ctx, "t1", ForecastQuery{})
	require.NoError(t, err)
	assert.Equal(t, forecast.Forecast{}, f)
	f, err = s.Forecast(ctx, "t1", ForecastQuery{AsOf: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	assert.Equal(t, forecast.Forecast{}, f)
}

// TestAsOfQueryReadsOneIndexRangePerProbe guards the plan the as-of cost rests on: each probe
// is a range seek on the primary key (from side) or on history_to (to side), never a scan.
func TestAsOfQueryReadsOneIndexRangePerProbe(t *testing.T) {
	t.Parallel()
	s := openStore(t, "")
	project(t, s, history(2, 40, genStart, "t1"), rand.New(rand.NewPCG(2, 2)), 10)
	at := genStart.Add(240 * time.Hour)
	q := ForecastQuery{AsOf: at, OwnerIDs: []string{"olga"}, CloseFrom: civil.DateOf(genStart), GroupByOwner: true}
	query, args := asOfForecastSQL("t1", &q, at.UnixNano())
	rows, err := s.db.R.Query("EXPLAIN QUERY PLAN "+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var fromSide, toSide, other int
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		switch {
		case strings.HasPrefix(detail, "SEARCH opportunity_history USING PRIMARY KEY (tenant=? AND lvl=? AND bkt=? AND valid_from<?)"):
			fromSide++
		case strings.HasPrefix(detail, "SEARCH opportunity_history USING COVERING INDEX history_to (tenant=? AND lvl=? AND bkt=? AND valid_to>?)"):
			toSide++
		case strings.Contains(detail, "opportunity_history"):
			other++
		}
	}
	require.NoError(t, rows.Err())
	wantFrom := 0
	for _, p := range probes(at.UnixNano()) {
		if p.fromSide {
			wantFrom++
		}
	}
	assert.Equal(t, wantFrom, fromSide)
	assert.Equal(t, currentLevel+1-wantFrom, toSide)
	assert.Zero(t, other)
}
