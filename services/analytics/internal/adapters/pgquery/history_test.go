package pgquery_test

import (
	"time"

	"github.com/evcrm/evcrm/services/analytics/internal/adapters/metrichistory"
)

// The scripted history of package metrichistory (chquery's tests work its metrics out by
// hand) under the short names these tests use; randomHistory builds more of the same shape.
type table = metrichistory.Table

const (
	tenant = metrichistory.Tenant
	dayS   = metrichistory.DayS
)

var never = metrichistory.Never

func day(m time.Month, d int, h ...int) time.Time { return metrichistory.Day(m, d, h...) }
