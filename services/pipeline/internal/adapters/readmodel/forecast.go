package readmodel

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// ForecastQuery shapes a forecast; the fields mean what forecast.Options' fields mean.
type ForecastQuery struct {
	Period forecast.Period
	// CloseFrom and CloseTo bound the counted days (expected close date of open deals, close
	// day of won deals), inclusive; a zero Date is open.
	CloseFrom, CloseTo civil.Date
	// OwnerIDs, PipelineIDs and Categories keep only matching opportunities; empty keeps all
	// (won deals are in CLOSED).
	OwnerIDs    []string
	PipelineIDs []string
	Categories  []pipelinedef.Category
	// GroupByOwner and GroupByCategory split rows by owner and by forecast category.
	GroupByOwner, GroupByCategory bool
	// Scope counts only the caller's opportunities (row-level security; the application sets
	// it): by their current owner now, by their owner at AsOf in a forecast as of then, as
	// OwnerIDs does.
	Scope Scope
	// AsOf, when set, asks for the forecast as the event log knew it at that instant: every
	// opportunity as folded from its events recorded at or before AsOf. Zero means now.
	AsOf time.Time
}

func (q *ForecastQuery) validate() error {
	var v apperr.Violations
	switch q.Period {
	case forecast.PeriodUnspecified, forecast.PeriodMonth, forecast.PeriodQuarter:
	default:
		v.Add("period", "must be MONTH or QUARTER")
	}
	checkDate(&v, "close_date_from", q.CloseFrom)
	checkDate(&v, "close_date_to", q.CloseTo)
	if !q.CloseFrom.IsZero() && !q.CloseTo.IsZero() && q.CloseTo.Before(q.CloseFrom) {
		v.Add("close_date_to", "must not be before close_date_from")
	}
	return v.Err("invalid forecast query")
}

// Forecast returns what forecast.Compute returns for the snapshots of the tenant's
// opportunities, now or (q.AsOf) as the log knew them then: rows per period, currency and,
// when asked, owner and category, and totals per currency, each Weighted rounded once to the
// currency's minor unit. Amounts are equal in value to Compute's (their decimal exponents may
// differ: 10.5 may come back as 10.50).
//
// SQL does the heavy part: it sums amounts and weighted amounts (exact integers, units and
// nanos apart) grouped by month, currency, category, status and, when asked, owner; Go adds the
// groups up into rows and totals exactly as Compute does.
func (s *Store) Forecast(ctx context.Context, tenant string, q ForecastQuery) (forecast.Forecast, error) {
	if err := q.validate(); err != nil {
		return forecast.Forecast{}, err
	}
	var (
		query string
		args  []any
	)
	if q.AsOf.IsZero() {
		query, args = currentForecastSQL(tenant, &q)
	} else {
		t := q.AsOf.UnixNano()
		switch {
		case q.AsOf.Year() < 1970:
			return forecast.Forecast{}, nil // nothing was recorded yet
		case q.AsOf.Year() > 2261:
			t = math.MaxInt64 - 1
		}
		query, args = asOfForecastSQL(tenant, &q, t)
	}
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return forecast.Forecast{}, readErr("forecast", err)
	}
	defer rows.Close()
	var groups []group
	for rows.Next() {
		var g group
		var month string
		if err := rows.Scan(&month, &g.currency, &g.owner, &g.category, &g.status, &g.count,
			&g.amountUnits, &g.amountNanos, &g.weightedUnits, &g.weightedNanos); err != nil {
			return forecast.Forecast{}, readErr("forecast", err)
		}
		if g.period, err = civil.Parse(month + "-01"); err != nil {
			return forecast.Forecast{}, readErr("forecast", err)
		}
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return forecast.Forecast{}, readErr("forecast", err)
	}
	return build(groups, &q), nil
}

// group is one row of the SQL aggregate: the opportunities counted in one month and currency
// (and owner, when grouped by owner) with one category and status.
type group struct {
	period                       civil.Date
	currency, owner              string
	category                     pipelinedef.Category
	status                       opportunity.Status
	count                        int
	amountUnits, amountNanos     int64
	weightedUnits, weightedNanos int64
}

// forecastColumns are what the as-of query reads per opportunity version.
const forecastColumns = `fc_month, currency, fc_category, status, owner_id, amount_units, amount_nanos,
	weighted_units, weighted_nanos`

// aggregate is the SELECT list and GROUP BY of both forecast queries: sums per month, currency,
// category, status and, when asked, owner. Quarters are months added up in Go.
func aggregate(q *ForecastQuery) (selectList, groupBy string) {
	owner, groupBy := "''", "fc_month, currency, fc_category, status"
	if q.GroupByOwner {
		owner, groupBy = "owner_id", groupBy+", owner_id"
	}
	return `fc_month, currency, ` + owner + `, fc_category, status, count(*), sum(amount_units), sum(amount_nanos),
		sum(weighted_units), sum(weighted_nanos)`, groupBy
}

// filters adds the query's filters on the columns of one version. The close-date range is
// given on the month too, so that it bounds the index range of the current forecast.
func filters(w *where, q *ForecastQuery) {
	w.add("fc_month IS NOT NULL")
	if !q.CloseFrom.IsZero() {
		w.add("fc_month >= ? AND fc_day >= ?", dateText(q.CloseFrom)[:7], dateText(q.CloseFrom))
	}
	if !q.CloseTo.IsZero() {
		w.add("fc_month <= ? AND fc_day <= ?", dateText(q.CloseTo)[:7], dateText(q.CloseTo))
	}
	in(w, "owner_id", q.OwnerIDs)
	q.Scope.ownedBy(w, "owner_id")
	in(w, "pipeline_id", q.PipelineIDs)
	in(w, "fc_category", ints(q.Categories))
}

// currentForecastSQL reads only the covering index opportunities_forecast, in its order: the
// GROUP BY is a prefix of the index, so SQLite aggregates while scanning and never sorts.
func currentForecastSQL(tenant string, q *ForecastQuery) (string, []any) {
	var w where
	w.add("tenant = ?", tenant)
	filters(&w, q)
	sel, groupBy := aggregate(q)
	return `SELECT ` + sel + ` FROM opportunities INDEXED BY opportunities_forecast WHERE ` + w.sql() +
		` GROUP BY ` + groupBy, w.args
}

// asOfForecastSQL reads the history rows valid at t: one index range per level of the
// interval windows (see probes), each holding only rows that count, then sorts them into groups.
func asOfForecastSQL(tenant string, q *ForecastQuery, t int64) (string, []any) {
	var branches []string
	var args []any
	for _, p := range probes(t) {
		var w where
		w.add("tenant = ?", tenant)
		w.add("lvl = ?", p.lvl)
		w.add("bkt = ?", p.bkt)
		// The unary + keeps the other bound out of the index choice: the from side is a range of
		// the primary key (tenant, lvl, bkt, valid_from, …), the to side one of history_to.
		// (NOT INDEXED is not kept when SQLite flattens the UNION ALL.)
		if p.fromSide {
			w.add("valid_from <= ? AND +valid_to > ?", t, t)
		} else {
			w.add("valid_to > ? AND +valid_from <= ?", t, t)
		}
		filters(&w, q)
		branches = append(branches, `SELECT `+forecastColumns+` FROM opportunity_history WHERE `+w.sql())
		args = append(args, w.args...)
	}
	sel, groupBy := aggregate(q)
	return `SELECT ` + sel + ` FROM (` + strings.Join(branches, "\nUNION ALL\n") + `) GROUP BY ` + groupBy, args
}

// build turns the SQL groups into the forecast exactly as forecast.Compute assembles it.
func build(groups []group, q *ForecastQuery) forecast.Forecast {
	type rowKey struct {
		period   civil.Date
		currency string
		owner    string
		category pipelinedef.Category
	}
	type sums struct {
		count            int
		amount, weighted sum
	}
	type totalSums struct{ pipeline, bestCase, commit, closedWon, weighted sum }
	rows := map[rowKey]*sums{}
	totals := map[string]*totalSums{}
	for _, g := range groups {
		var amount, weighted sum
		amount.add(g.amountUnits, g.amountNanos)
		weighted.add(g.weightedUnits, g.weightedNanos)
		k := rowKey{period: q.Period.Start(g.period), currency: g.currency}
		if q.GroupByOwner {
			k.owner = g.owner
		}
		if q.GroupByCategory {
			k.category = g.category
		}
		r := rows[k]
		if r == nil {
			r = &sums{}
			rows[k] = r
		}
		r.count += g.count
		r.amount.addSum(amount)
		r.weighted.addSum(weighted)

		t := totals[g.currency]
		if t == nil {
			t = &totalSums{}
			totals[g.currency] = t
		}
		switch g.category {
		case pipelinedef.CategoryCommit:
			t.commit.addSum(amount)
			t.bestCase.addSum(amount)
		case pipelinedef.CategoryBestCase:
			t.bestCase.addSum(amount)
		case pipelinedef.CategoryClosed:
			t.closedWon.addSum(amount)
		}
		if g.status == opportunity.StatusOpen && g.category != pipelinedef.CategoryOmitted {
			t.pipeline.addSum(amount)
			t.weighted.addSum(weighted)
		}
	}
	var f forecast.Forecast
	for k, s := range rows {
		f.Rows = append(f.Rows, forecast.Row{PeriodStart: k.period, Currency: k.currency, OwnerID: k.owner,
			Category: k.category, Count: s.count, Amount: s.amount.exact(k.currency), Weighted: s.weighted.rounded(k.currency)})
	}
	slices.SortFunc(f.Rows, func(a, b forecast.Row) int {
		return cmp.Or(a.PeriodStart.Compare(b.PeriodStart), cmp.Compare(a.Currency, b.Currency),
			cmp.Compare(a.OwnerID, b.OwnerID), cmp.Compare(a.Category, b.Category))
	})
	for cur, t := range totals {
		f.Totals = append(f.Totals, forecast.Totals{Currency: cur, Pipeline: t.pipeline.exact(cur),
			BestCase: t.bestCase.exact(cur), Commit: t.commit.exact(cur), ClosedWon: t.closedWon.exact(cur),
			Weighted: t.weighted.rounded(cur)})
	}
	slices.SortFunc(f.Totals, func(a, b forecast.Totals) int { return cmp.Compare(a.Currency, b.Currency) })
	return f
}
