// Package chquery runs the analytics metric queries on ClickHouse. Each metric is one statement
// in an embedded .sql file (its definition in the comment at the top), written for ClickHouse
// 18.16 and current versions alike (DESIGN.md §5): parameters are ClickHouse {name:Type}
// placeholders, which Render turns into typed literals because 18.16 cannot bind them. The
// tenant is always a parameter from the caller, and a breakdown or period selects among fixed
// expressions inside the SQL: no request value ever becomes SQL text except as a literal.
package chquery

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/evcrm/evcrm/libs/apperr"
)

//go:embed *.sql
var files embed.FS

// Querier is the part of a clickhouse-go driver.Conn the queries need.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (driver.Rows, error)
}

// SQL returns the text of the named query file (e.g. "funnel.sql"), for docs and tests.
func SQL(name string) (string, error) {
	b, err := files.ReadFile(name)
	return string(b), err
}

// run renders the named query with p and calls scan for every row.
func run(ctx context.Context, q Querier, name string, p Params, scan func(driver.Rows) error) error {
	text, err := SQL(name)
	if err != nil {
		return fmt.Errorf("chquery: %w", err)
	}
	sql, err := Render(text, p)
	if err != nil {
		return err
	}
	rows, err := q.Query(ctx, sql)
	for attempt := 0; err != nil && swapping(err) && attempt < len(swapWaits); attempt++ {
		t := time.NewTimer(swapWaits[attempt])
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		rows, err = q.Query(ctx, sql)
	}
	if err != nil {
		return classify(name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("chquery: %s: scan: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return classify(name, err)
	}
	return nil
}

// swapWaits pace the retries of a query that found a table missing: a rebuild on another
// replica swaps the tables with RENAME TABLE, and a query planned between two of its renames
// can miss a table for a moment (ClickHouse renames table by table under one statement).
var swapWaits = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond}

// unknownTable is ClickHouse's UNKNOWN_TABLE error code.
const unknownTable = 60

// swapping reports whether err is a table missing, as during a rebuild's swap.
func swapping(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == unknownTable
}

// classify tells an unreachable ClickHouse (Unavailable: the caller may retry) from a query the
// server refused (Internal: a bug here, not the caller's fault).
func classify(name string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		return apperr.Wrap(apperr.Internal, err, "analytics query %s failed", name)
	}
	// Anything else is the connection: refused, reset, timed out, no free connection.
	return apperr.Wrap(apperr.Unavailable, err, "analytics store unavailable")
}
