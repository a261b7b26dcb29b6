package protomap

import (
	"time"

	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
)

// ForecastToProto maps a computed forecast to the GetForecast response: rows (with the last day
// of their period, which depends on period) and totals in the order Compute gave them, and the
// instant the forecast describes. It fails only when a sum has no wire form (beyond int64
// units).
func ForecastToProto(f forecast.Forecast, period forecast.Period, asOf time.Time) (*pipelinev1.GetForecastResponse, error) {
	var e encoder
	out := &pipelinev1.GetForecastResponse{AsOf: ts(asOf)}
	for _, r := range f.Rows {
		out.Rows = append(out.Rows, &pipelinev1.ForecastRow{
			PeriodStart:      DateToProto(r.PeriodStart),
			PeriodEnd:        DateToProto(periodEnd(period, r.PeriodStart)),
			CurrencyCode:     r.Currency,
			OwnerId:          r.OwnerID,
			ForecastCategory: CategoryToProto(r.Category),
			Count:            uint64(max(r.Count, 0)),
			Amount:           e.money(r.Amount),
			WeightedAmount:   e.money(r.Weighted),
		})
	}
	for _, t := range f.Totals {
		out.Totals = append(out.Totals, &pipelinev1.ForecastTotals{
			CurrencyCode: t.Currency,
			Pipeline:     e.money(t.Pipeline),
			BestCase:     e.money(t.BestCase),
			Commit:       e.money(t.Commit),
			ClosedWon:    e.money(t.ClosedWon),
			Weighted:     e.money(t.Weighted),
		})
	}
	if e.err != nil {
		return nil, e.err
	}
	return out, nil
}

// periodEnd returns the last day of the period that starts on start (months unless quarters, as
// forecast.Period.Start).
func periodEnd(p forecast.Period, start civil.Date) civil.Date {
	months := 1
	if p == forecast.PeriodQuarter {
		months = 3
	}
	return civil.DateOf(start.Time().AddDate(0, months, 0)).AddDays(-1)
}
