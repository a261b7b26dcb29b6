package chquery_test

import (
	"testing"
	"time"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
)

// A query that runs while a rebuild on another replica swaps the tables can find a table
// missing for a moment; it is retried instead of failing. Here the tables appear 120 ms after
// the query starts (renamed in from another database, as the rebuild's swap does).
func TestQueryWaitsForTablesBeingSwapped(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	live, staging := ch.NewDatabase(t), ch.NewDatabase(t)
	sconn := ch.ConnDatabase(t, staging)
	if _, err := chschema.Migrate(t.Context(), sconn); err != nil {
		t.Fatal(err)
	}
	tables, err := chschema.Tables()
	if err != nil {
		t.Fatal(err)
	}
	conn := ch.ConnDatabase(t, live)
	done := make(chan error, 1)
	go func() {
		time.Sleep(120 * time.Millisecond)
		for _, tb := range tables {
			if err := conn.Exec(t.Context(), "RENAME TABLE "+staging+"."+tb+" TO "+live+"."+tb); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	rows, err := chquery.StageMetrics(t.Context(), conn, q1("", ""))
	if err != nil {
		t.Fatalf("query during the swap: %v", err)
	}
	if len(rows) != 0 {
		t.Fatalf("stage metrics of empty tables: %v", rows)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
