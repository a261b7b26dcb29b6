package readmodel

import (
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// facts are the fields of an opportunity the forecast reads. A version of the opportunity
// that changes none of them adds no row to opportunity_history.
type facts struct {
	owner, pipeline, stage string
	status                 opportunity.Status
	category               pipelinedef.Category
	closeDate, closedOn    string
	currency               string
	amount                 units
	probability            int32
}

// units is an exact amount in the wire form of crm.common.v1.Money: units + nanos/10⁹, both of
// the same sign.
type units struct {
	units int64
	nanos int32
}

func unitsOf(d decimal.Decimal) (units, error) {
	u, n, err := money.DecimalUnits(d)
	return units{u, n}, err
}

// sumDecimal is an exact sum of units and nanos read from SQL aggregates.
func sumDecimal(unitsSum, nanosSum int64) decimal.Decimal {
	return decimal.New(unitsSum, 0).Add(decimal.New(nanosSum, -money.MaxFractionDigits))
}

// counted is how forecast.Compute counts the opportunity (see its counted): open deals on their
// expected close date in their category with weight amount × probability / 100, won deals on
// their close day in CLOSED with weight = amount, lost deals not at all (ok false).
type counted struct {
	ok       bool
	day      string
	category pipelinedef.Category
	weighted units
}

func factsOf(o opportunity.Opportunity) (facts, counted, error) {
	amount, err := unitsOf(o.Amount.Amount)
	if err != nil {
		return facts{}, counted{}, fmt.Errorf("amount: %w", err)
	}
	f := facts{owner: o.OwnerID, pipeline: o.PipelineID, stage: o.StageID, status: o.Status,
		category: o.ForecastCategory, closeDate: dateText(o.ExpectedCloseDate), closedOn: dateText(o.Close.ClosedOn),
		currency: o.Amount.Currency, amount: amount, probability: o.Probability}
	var c counted
	switch o.Status {
	case opportunity.StatusOpen:
		w := o.Amount.Amount.Mul(decimal.NewFromInt32(o.Probability)).Shift(-2)
		if c.weighted, err = unitsOf(w); err != nil {
			return facts{}, counted{}, fmt.Errorf("weighted amount: %w", err)
		}
		c.ok, c.day, c.category = true, f.closeDate, o.ForecastCategory
	case opportunity.StatusWon:
		c.ok, c.day, c.category, c.weighted = true, f.closedOn, pipelinedef.CategoryClosed, amount
	}
	return f, c, nil
}

func (c counted) monthValue() any {
	if !c.ok || len(c.day) < len("2006-01") {
		return c.dayValue()
	}
	return c.day[:len("2006-01")]
}

// dayValue and categoryValue are the SQL values of counted's day and category (NULL when the
// opportunity is not counted).
func (c counted) dayValue() any {
	if !c.ok {
		return nil
	}
	return c.day
}

func (c counted) categoryValue() any {
	if !c.ok {
		return nil
	}
	return int64(c.category)
}

// dateText is the stored form of a date: YYYY-MM-DD, ” for the zero Date.
func dateText(d civil.Date) string { return d.String() }

// Times are stored as unix nanoseconds; the zero time as 0 so it round-trips.
func timeToDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// recordedNs returns t as unix nanoseconds for the history table, which needs times in
// 1970…2261 (non-negative and representable).
func recordedNs(t time.Time) (int64, error) {
	if t.IsZero() || t.Year() < 1970 || t.Year() > 2261 {
		return 0, fmt.Errorf("recorded time %v is not within 1970…2261", t)
	}
	return t.UnixNano(), nil
}

// nullString scans a nullable TEXT.
func nullString(ns sql.NullString) any {
	if !ns.Valid {
		return nil
	}
	return ns.String
}

// forever is valid_to of a current history row.
const forever = math.MaxInt64
