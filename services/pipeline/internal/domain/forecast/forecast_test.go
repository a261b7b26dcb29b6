package forecast_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

func date(y int, m time.Month, d int) civil.Date { return civil.New(y, m, d) }

const (
	pipe    = pipelinedef.CategoryPipeline
	best    = pipelinedef.CategoryBestCase
	commit  = pipelinedef.CategoryCommit
	omitted = pipelinedef.CategoryOmitted
)

func open(id, owner, amount, cur string, prob int32, c pipelinedef.Category, closeDate civil.Date) forecast.Snapshot {
	return forecast.Snapshot{OpportunityID: id, OwnerID: owner, PipelineID: "default", Status: opportunity.StatusOpen,
		Amount: money.MustParse(cur, amount), Probability: prob, Category: c, ExpectedCloseDate: closeDate}
}

// snapshots: EUR and USD deals of olga and max, open, won and lost, one out of range.
func snapshots() []forecast.Snapshot {
	return []forecast.Snapshot{
		open("a", "olga", "10000", "EUR", 10, pipe, date(2025, 3, 20)),
		open("b", "olga", "5000", "EUR", 75, best, date(2025, 3, 31)),
		open("c", "max", "2000.50", "EUR", 90, commit, date(2025, 5, 2)),
		open("d", "max", "3000", "USD", 33, pipe, date(2025, 5, 15)),
		{OpportunityID: "e", OwnerID: "olga", PipelineID: "default", Status: opportunity.StatusWon, Amount: money.MustParse("EUR", "7000"),
			Probability: 100, Category: pipelinedef.CategoryClosed, ExpectedCloseDate: date(2025, 6, 30), ClosedOn: date(2025, 4, 10)},
		{OpportunityID: "f", OwnerID: "olga", PipelineID: "default", Status: opportunity.StatusLost, Amount: money.MustParse("EUR", "9999"),
			Category: omitted, ExpectedCloseDate: date(2025, 4, 30), ClosedOn: date(2025, 4, 2)},
		open("g", "olga", "1000", "EUR", 50, omitted, date(2025, 4, 1)),
		open("h", "max", "100", "EUR", 10, pipe, date(2025, 7, 1)),
		open("i", "olga", "10000.01", "EUR", 25, pipe, date(2025, 3, 5)),
	}
}

func rows(f forecast.Forecast) []string {
	var out []string
	for _, r := range f.Rows {
		out = append(out, fmt.Sprintf("%s %s %s %s %d %s %s", r.PeriodStart, r.Currency, r.OwnerID, r.Category, r.Count,
			r.Amount.Amount.StringFixed(2), r.Weighted))
	}
	return out
}

func totals(f forecast.Forecast) []string {
	var out []string
	for _, t := range f.Totals {
		out = append(out, fmt.Sprintf("%s pipeline=%s best=%s commit=%s won=%s weighted=%s", t.Currency,
			t.Pipeline.Amount.StringFixed(2), t.BestCase.Amount.StringFixed(2), t.Commit.Amount.StringFixed(2),
			t.ClosedWon.Amount.StringFixed(2), t.Weighted.Amount.StringFixed(2)))
	}
	return out
}

func TestCompute(t *testing.T) {
	t.Parallel()
	q2 := forecast.Options{From: date(2025, 3, 1), To: date(2025, 6, 30)}
	for _, tc := range []struct {
		name   string
		opt    forecast.Options
		rows   []string
		totals []string
	}{
		{
			name: "by month, owner and category",
			opt:  forecast.Options{Period: forecast.PeriodMonth, From: q2.From, To: q2.To, ByOwner: true, ByCategory: true},
			rows: []string{
				// a + i: 1000 + 2500.0025 → 3500.00
				"2025-03-01 EUR olga PIPELINE 2 20000.01 EUR 3500.00",
				"2025-03-01 EUR olga BEST_CASE 1 5000.00 EUR 3750.00",
				"2025-04-01 EUR olga CLOSED 1 7000.00 EUR 7000.00",
				"2025-04-01 EUR olga OMITTED 1 1000.00 EUR 500.00",
				"2025-05-01 EUR max COMMIT 1 2000.50 EUR 1800.45",
				"2025-05-01 USD max PIPELINE 1 3000.00 USD 990.00",
			},
			totals: []string{
				"EUR pipeline=27000.51 best=7000.50 commit=2000.50 won=7000.00 weighted=9050.45",
				"USD pipeline=3000.00 best=0.00 commit=0.00 won=0.00 weighted=990.00",
			},
		},
		{
			name: "by quarter only",
			opt:  forecast.Options{Period: forecast.PeriodQuarter, From: q2.From, To: q2.To},
			rows: []string{
				"2025-01-01 EUR  UNSPECIFIED 3 25000.01 EUR 7250.00",
				"2025-04-01 EUR  UNSPECIFIED 3 10000.50 EUR 9300.45",
				"2025-04-01 USD  UNSPECIFIED 1 3000.00 USD 990.00",
			},
			totals: []string{
				"EUR pipeline=27000.51 best=7000.50 commit=2000.50 won=7000.00 weighted=9050.45",
				"USD pipeline=3000.00 best=0.00 commit=0.00 won=0.00 weighted=990.00",
			},
		},
		{
			name: "unbounded range includes July",
			opt:  forecast.Options{Period: forecast.PeriodQuarter, Categories: []pipelinedef.Category{pipe}},
			rows: []string{
				"2025-01-01 EUR  UNSPECIFIED 2 20000.01 EUR 3500.00",
				"2025-04-01 USD  UNSPECIFIED 1 3000.00 USD 990.00",
				"2025-07-01 EUR  UNSPECIFIED 1 100.00 EUR 10.00",
			},
			totals: []string{
				"EUR pipeline=20100.01 best=0.00 commit=0.00 won=0.00 weighted=3510.00",
				"USD pipeline=3000.00 best=0.00 commit=0.00 won=0.00 weighted=990.00",
			},
		},
		{
			name: "one owner, by month",
			opt:  forecast.Options{Period: forecast.PeriodMonth, From: q2.From, To: q2.To, OwnerIDs: []string{"max"}, ByOwner: true},
			rows: []string{
				"2025-05-01 EUR max UNSPECIFIED 1 2000.50 EUR 1800.45",
				"2025-05-01 USD max UNSPECIFIED 1 3000.00 USD 990.00",
			},
			totals: []string{
				"EUR pipeline=2000.50 best=2000.50 commit=2000.50 won=0.00 weighted=1800.45",
				"USD pipeline=3000.00 best=0.00 commit=0.00 won=0.00 weighted=990.00",
			},
		},
		{
			name: "closed won to date",
			opt:  forecast.Options{Period: forecast.PeriodMonth, From: date(2025, 4, 1), To: date(2025, 4, 9)},
			rows: []string{
				"2025-04-01 EUR  UNSPECIFIED 1 1000.00 EUR 500.00",
			},
			totals: []string{"EUR pipeline=0.00 best=0.00 commit=0.00 won=0.00 weighted=0.00"},
		},
		{
			name: "another pipeline",
			opt:  forecast.Options{Period: forecast.PeriodMonth, PipelineIDs: []string{"renewals"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := forecast.Compute(snapshots(), tc.opt)
			assert.Equal(t, tc.rows, rows(f))
			assert.Equal(t, tc.totals, totals(f))
		})
	}
}

// TestWeightedIsRoundedOnce: three deals of 0.05 at 10 % weigh 0.005 each; rounded one by one
// they would make 0.03, the exact sum 0.015 rounds to 0.02.
func TestWeightedIsRoundedOnce(t *testing.T) {
	t.Parallel()
	var snaps []forecast.Snapshot
	for _, id := range []string{"a", "b", "c"} {
		snaps = append(snaps, open(id, "olga", "0.05", "EUR", 10, pipe, date(2025, 3, 31)))
	}
	snaps = append(snaps, open("jpy", "olga", "15", "JPY", 10, pipe, date(2025, 3, 31)))
	f := forecast.Compute(snaps, forecast.Options{Period: forecast.PeriodMonth})
	assert.Equal(t, []string{"2025-03-01 EUR  UNSPECIFIED 3 0.15 EUR 0.02", "2025-03-01 JPY  UNSPECIFIED 1 15.00 JPY 2"}, rows(f))
	assert.Equal(t, "EUR 0.02", f.Totals[0].Weighted.String())
	assert.Equal(t, "JPY 2", f.Totals[1].Weighted.String(), "1.5 yen rounds half away from zero")
}

func TestSnapshotOf(t *testing.T) {
	t.Parallel()
	o := opportunity.Opportunity{ID: "o1", OwnerID: "olga", PipelineID: "default", Status: opportunity.StatusWon,
		Amount: money.MustParse("EUR", "5"), Probability: 100, ForecastCategory: pipelinedef.CategoryClosed,
		ExpectedCloseDate: date(2025, 6, 30), Close: opportunity.Closing{ClosedOn: date(2025, 4, 1)}}
	assert.Equal(t, forecast.Snapshot{OpportunityID: "o1", OwnerID: "olga", PipelineID: "default", Status: opportunity.StatusWon,
		Amount: o.Amount, Probability: 100, Category: pipelinedef.CategoryClosed, ExpectedCloseDate: date(2025, 6, 30),
		ClosedOn: date(2025, 4, 1)}, forecast.SnapshotOf(o))
}
