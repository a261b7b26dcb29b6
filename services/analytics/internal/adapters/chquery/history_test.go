package chquery_test

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/metrichistory"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// The scripted history (package metrichistory, shared with pgquery's comparison) under the
// short names the metric tests use.
const (
	tenant = metrichistory.Tenant
	dayS   = metrichistory.DayS
)

var never = metrichistory.Never

func day(m time.Month, d int, h ...int) time.Time { return metrichistory.Day(m, d, h...) }

// load creates a database with the migrations applied and the history inserted copies times
// (each copy its own INSERT, as a replayed batch would be).
func load(t *testing.T, copies int) driver.Conn {
	t.Helper()
	ch := testkit.SharedClickHouse(t)
	conn := ch.ConnDatabase(t, ch.NewDatabase(t))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := chschema.Migrate(ctx, conn); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for range copies {
		for _, tb := range metrichistory.History() {
			metrichistory.Insert(ctx, t, conn, tb)
		}
	}
	return conn
}
