// Package pgquery computes the analytics metrics of package chquery in PostgreSQL, for the
// comparison `make bench` makes between evcrm's ClickHouse tables and a CRM that keeps its data
// in PostgreSQL (docs/benchmarks.md, "PostgreSQL comparison"). Each metric is one statement in
// an embedded .sql file, the counterpart of chquery's file of the same name: the same cohort,
// step rules, quantile definition (ClickHouse's quantileExact) and arithmetic, so that both
// engines return the same numbers for the same data; schema.sql holds the equivalent tables
// and indexes.sql their secondary indexes. Load copies ClickHouse's deduplicated current state
// into those tables.
//
// The functions take a chquery.Scope and return chquery's row types, so that a caller runs the
// same request on both engines and compares the results (Diff).
package pgquery

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
)

//go:embed *.sql
var files embed.FS

// Querier is the part of a pgx connection or pool the queries need (*pgxpool.Pool, *pgx.Conn).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// SQL returns the text of the named file (e.g. "funnel.sql"), for docs and tests.
func SQL(name string) (string, error) {
	b, err := files.ReadFile(name)
	return string(b), err
}

// params are the named arguments (pgx.NamedArgs, @name in the .sql files) of a scope: the same
// values chquery passes to ClickHouse. Times are cut to whole seconds because ClickHouse's
// DateTime literal is the Unix second (chquery.Render): a bound with a fraction of a second
// would otherwise include or leave out a row at that second differently in the two engines.
func params(s chquery.Scope) (pgx.NamedArgs, error) {
	p, err := s.Params()
	if err != nil {
		return nil, fmt.Errorf("pgquery: %w", err)
	}
	args := pgx.NamedArgs(p)
	args["from"] = time.Unix(s.From.Unix(), 0).UTC()
	args["to"] = time.Unix(s.To.Unix(), 0).UTC()
	return args, nil
}

// run runs the named query with args and calls scan for every row.
func run(ctx context.Context, q Querier, name string, args pgx.NamedArgs, scan func(pgx.Rows) error) error {
	text, err := SQL(name)
	if err != nil {
		return fmt.Errorf("pgquery: %w", err)
	}
	rows, err := q.Query(ctx, text, args)
	if err != nil {
		return fmt.Errorf("pgquery: %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("pgquery: %s: scan: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgquery: %s: %w", name, err)
	}
	return nil
}

// Funnel runs funnel.sql: chquery.Funnel's metric; window is the conversion window (0: none).
func Funnel(ctx context.Context, q Querier, s chquery.Scope, window time.Duration) ([]chquery.FunnelRow, error) {
	p, err := params(s)
	if err != nil {
		return nil, err
	}
	p["window_s"] = int64(window / time.Second)
	var out []chquery.FunnelRow
	err = run(ctx, q, "funnel.sql", p, func(r pgx.Rows) error {
		var f chquery.FunnelRow
		if err := r.Scan(f.ScanDest()...); err != nil {
			return err
		}
		f.PeriodStart = f.PeriodStart.UTC()
		out = append(out, f)
		return nil
	})
	return out, err
}

// StageMetrics runs stage_metrics.sql: chquery.StageMetrics's metric (Scope.Period is not used).
func StageMetrics(ctx context.Context, q Querier, s chquery.Scope) ([]chquery.StageRow, error) {
	p, err := params(s)
	if err != nil {
		return nil, err
	}
	var out []chquery.StageRow
	err = run(ctx, q, "stage_metrics.sql", p, func(r pgx.Rows) error {
		var x chquery.StageRow
		if err := r.Scan(&x.PipelineID, &x.StageID, &x.StageName, &x.Key, &x.Entered, &x.Advanced, &x.Lost,
			&x.AvgS, &x.P50S, &x.P90S); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// SalesVelocity runs sales_velocity.sql: chquery.SalesVelocity's metric.
func SalesVelocity(ctx context.Context, q Querier, s chquery.Scope, currency string) ([]chquery.VelocityRow, error) {
	p, err := params(s)
	if err != nil {
		return nil, err
	}
	p["currency"] = currency
	var out []chquery.VelocityRow
	err = run(ctx, q, "sales_velocity.sql", p, func(r pgx.Rows) error {
		var x chquery.VelocityRow
		if err := r.Scan(&x.PeriodStart, &x.Key, &x.OpenOpportunities, &x.Won, &x.Lost, &x.WinRate,
			&x.AvgDealMicros, &x.SalesCycleDays, &x.VelocityMicrosPerDay); err != nil {
			return err
		}
		x.PeriodStart = x.PeriodStart.UTC()
		out = append(out, x)
		return nil
	})
	return out, err
}

// Forecast runs forecast.sql: chquery.Forecast's metric.
func Forecast(ctx context.Context, q Querier, s chquery.Scope, currency string) ([]chquery.ForecastRow, error) {
	p, err := params(s)
	if err != nil {
		return nil, err
	}
	p["currency"] = currency
	var out []chquery.ForecastRow
	err = run(ctx, q, "forecast.sql", p, func(r pgx.Rows) error {
		var x chquery.ForecastRow
		if err := r.Scan(&x.PeriodStart, &x.Key, &x.OpenOpportunities, &x.OpenMicros, &x.WeightedMicros,
			&x.ClosedWonMicros); err != nil {
			return err
		}
		x.PeriodStart = x.PeriodStart.UTC()
		out = append(out, x)
		return nil
	})
	return out, err
}

// CampaignPerformance runs campaign_performance.sql: chquery.CampaignPerformance's metric, for
// the campaigns in s.Filters.CampaignIDs (all when empty).
func CampaignPerformance(ctx context.Context, q Querier, s chquery.Scope, currency string) ([]chquery.CampaignRow, error) {
	p, err := params(s)
	if err != nil {
		return nil, err
	}
	p["currency"] = currency
	var out []chquery.CampaignRow
	err = run(ctx, q, "campaign_performance.sql", p, func(r pgx.Rows) error {
		var x chquery.CampaignRow
		if err := r.Scan(&x.CampaignID, &x.Name, &x.Channel, &x.Members, &x.Sent, &x.Opened, &x.Clicked,
			&x.Responded, &x.Converted, &x.OpenRate, &x.ClickRate, &x.ResponseRate, &x.ConversionRate,
			&x.CostMicros, &x.Leads, &x.CostPerLeadMicros, &x.Opportunities, &x.CostPerOpportunityMicros,
			&x.InfluencedPipelineMicros, &x.InfluencedWonMicros, &x.ROI, &x.FirstTouchWonMicros,
			&x.LastTouchWonMicros); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}
