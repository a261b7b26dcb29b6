// Package forecast computes the weighted sales forecast from opportunity snapshots. The app
// answers GetForecast with it (and the analytics projector is checked against it); AsOf rebuilds
// the snapshots the event log knew at a past instant, so "the forecast as of T" is Compute over
// AsOf(log, T).
//
// # What is counted
//
// An open opportunity counts in the period of its expected close date, in its forecast
// category, with weight amount × probability / 100. A won opportunity counts in the period of the
// day it closed (ClosedOn), in category CLOSED, with weight = amount. Lost opportunities are not
// counted. Options.From and Options.To bound those dates (inclusive; zero means unbounded).
// Amounts are never converted: every row and total is per currency.
//
// Rows group by (period start, currency) and, when asked, owner and forecast category. Count is
// the number of opportunities, Amount their summed amount, Weighted their summed weighted
// amount — computed exactly and rounded to the currency's minor unit (half away from zero) only
// once, at the end, so a row's Weighted may differ by a minor unit from the sum of
// per-opportunity rounded values.
//
// # Totals (per currency)
//
// Salesforce's forecast categories roll up cumulatively; the totals follow its "open pipeline",
// "best case" and "commit" roll-ups, with closed deals kept apart:
//
//   - Pipeline: open opportunities in categories PIPELINE, BEST_CASE and COMMIT (OMITTED is
//     excluded by definition);
//   - BestCase: open opportunities in BEST_CASE and COMMIT (a committed deal is also in the best
//     case);
//   - Commit: open opportunities in COMMIT;
//   - ClosedWon: won opportunities that closed within the range;
//   - Weighted: the weighted amount of the Pipeline set.
//
// Salesforce's "Best Case forecast" and "Commit forecast" include closed deals: they are
// BestCase + ClosedWon and Commit + ClosedWon here.
package forecast

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// Snapshot is what the forecast needs of one opportunity.
type Snapshot struct {
	OpportunityID     string
	OwnerID           string
	PipelineID        string
	Status            opportunity.Status
	Amount            money.Money
	Probability       int32
	Category          pipelinedef.Category
	ExpectedCloseDate civil.Date
	// ClosedOn is set for won and lost opportunities.
	ClosedOn civil.Date
}

// SnapshotOf returns the forecast's view of o.
func SnapshotOf(o opportunity.Opportunity) Snapshot {
	return Snapshot{OpportunityID: o.ID, OwnerID: o.OwnerID, PipelineID: o.PipelineID, Status: o.Status,
		Amount: o.Amount, Probability: o.Probability, Category: o.ForecastCategory,
		ExpectedCloseDate: o.ExpectedCloseDate, ClosedOn: o.Close.ClosedOn}
}

// Period is the length of a forecast bucket. Numbering follows the proto enum.
type Period int

// Periods. Quarters are calendar quarters.
const (
	PeriodUnspecified Period = iota
	PeriodMonth
	PeriodQuarter
)

var periodNames = [...]string{"UNSPECIFIED", "MONTH", "QUARTER"}

// String returns the upper-case name.
func (p Period) String() string {
	if p >= 0 && int(p) < len(periodNames) {
		return periodNames[p]
	}
	return "period(" + strconv.Itoa(int(p)) + ")"
}

// Start returns the first day of the period that contains d (months when p is unspecified).
func (p Period) Start(d civil.Date) civil.Date {
	if p == PeriodQuarter {
		return d.StartOfQuarter()
	}
	return d.StartOfMonth()
}

// Options shape a forecast.
type Options struct {
	Period Period
	// From and To bound the counted dates (expected close date of open deals, close day of won
	// deals), inclusive; a zero bound is open.
	From civil.Date
	To   civil.Date
	// ByOwner and ByCategory split rows by owner and by forecast category.
	ByOwner    bool
	ByCategory bool
	// OwnerIDs, PipelineIDs and Categories keep only matching opportunities; empty keeps all.
	// Categories filters rows and totals alike (won deals are CLOSED).
	OwnerIDs    []string
	PipelineIDs []string
	Categories  []pipelinedef.Category
}

// Row is one bucket of the forecast. OwnerID is "" unless Options.ByOwner, Category
// unspecified unless Options.ByCategory.
type Row struct {
	PeriodStart civil.Date
	Currency    string
	OwnerID     string
	Category    pipelinedef.Category
	Count       int
	Amount      money.Money
	Weighted    money.Money
}

// Totals are the per-currency roll-ups (see the package doc).
type Totals struct {
	Currency  string
	Pipeline  money.Money
	BestCase  money.Money
	Commit    money.Money
	ClosedWon money.Money
	Weighted  money.Money
}

// Forecast is the result of Compute: rows ordered by period, currency, owner and category;
// totals ordered by currency.
type Forecast struct {
	Rows   []Row
	Totals []Totals
}

type rowKey struct {
	period   civil.Date
	currency string
	owner    string
	category pipelinedef.Category
}

type sums struct {
	count            int
	amount, weighted decimal.Decimal
}

func (s *sums) add(amount, weighted decimal.Decimal) {
	s.count++
	s.amount = s.amount.Add(amount)
	s.weighted = s.weighted.Add(weighted)
}

// Compute returns the forecast of snaps under opt.
func Compute(snaps []Snapshot, opt Options) Forecast {
	rows := map[rowKey]*sums{}
	type totalSums struct{ pipeline, bestCase, commit, closedWon, weighted decimal.Decimal }
	totals := map[string]*totalSums{}
	for _, s := range snaps {
		day, category, weight, ok := counted(s)
		if !ok || !opt.keeps(s, day, category) {
			continue
		}
		weighted := s.Amount.Amount.Mul(weight).Shift(-2)
		k := rowKey{period: opt.Period.Start(day), currency: s.Amount.Currency}
		if opt.ByOwner {
			k.owner = s.OwnerID
		}
		if opt.ByCategory {
			k.category = category
		}
		if rows[k] == nil {
			rows[k] = &sums{}
		}
		rows[k].add(s.Amount.Amount, weighted)

		t := totals[s.Amount.Currency]
		if t == nil {
			t = &totalSums{}
			totals[s.Amount.Currency] = t
		}
		a := s.Amount.Amount
		switch category {
		case pipelinedef.CategoryCommit:
			t.commit = t.commit.Add(a)
			t.bestCase = t.bestCase.Add(a)
		case pipelinedef.CategoryBestCase:
			t.bestCase = t.bestCase.Add(a)
		case pipelinedef.CategoryClosed:
			t.closedWon = t.closedWon.Add(a)
		}
		if s.Status == opportunity.StatusOpen && category != pipelinedef.CategoryOmitted {
			t.pipeline = t.pipeline.Add(a)
			t.weighted = t.weighted.Add(weighted)
		}
	}

	var f Forecast
	for k, s := range rows {
		f.Rows = append(f.Rows, Row{PeriodStart: k.period, Currency: k.currency, OwnerID: k.owner, Category: k.category,
			Count: s.count, Amount: money.New(k.currency, s.amount), Weighted: money.New(k.currency, s.weighted).Round()})
	}
	slices.SortFunc(f.Rows, func(a, b Row) int {
		return cmp.Or(a.PeriodStart.Compare(b.PeriodStart), cmp.Compare(a.Currency, b.Currency),
			cmp.Compare(a.OwnerID, b.OwnerID), cmp.Compare(a.Category, b.Category))
	})
	for cur, t := range totals {
		f.Totals = append(f.Totals, Totals{Currency: cur, Pipeline: money.New(cur, t.pipeline), BestCase: money.New(cur, t.bestCase),
			Commit: money.New(cur, t.commit), ClosedWon: money.New(cur, t.closedWon), Weighted: money.New(cur, t.weighted).Round()})
	}
	slices.SortFunc(f.Totals, func(a, b Totals) int { return cmp.Compare(a.Currency, b.Currency) })
	return f
}

var hundred = decimal.NewFromInt(100)

// counted returns the day, category and probability weight under which s counts, and whether
// it counts at all (open and won opportunities do, lost ones do not).
func counted(s Snapshot) (day civil.Date, category pipelinedef.Category, weight decimal.Decimal, ok bool) {
	switch s.Status {
	case opportunity.StatusOpen:
		return s.ExpectedCloseDate, s.Category, decimal.NewFromInt32(s.Probability), true
	case opportunity.StatusWon:
		return s.ClosedOn, pipelinedef.CategoryClosed, hundred, true
	}
	return civil.Date{}, pipelinedef.CategoryUnspecified, decimal.Decimal{}, false
}

// keeps applies the range and the filters.
func (o Options) keeps(s Snapshot, day civil.Date, category pipelinedef.Category) bool {
	if (!o.From.IsZero() && day.Before(o.From)) || (!o.To.IsZero() && day.After(o.To)) {
		return false
	}
	if len(o.OwnerIDs) > 0 && !slices.Contains(o.OwnerIDs, s.OwnerID) {
		return false
	}
	if len(o.PipelineIDs) > 0 && !slices.Contains(o.PipelineIDs, s.PipelineID) {
		return false
	}
	return len(o.Categories) == 0 || slices.Contains(o.Categories, category)
}
