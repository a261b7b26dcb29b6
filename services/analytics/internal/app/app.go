// Package app holds the analytics service's query handlers: parameter validation and the metric
// queries over the ClickHouse tables.
package app

import "github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"

// Deps are the adapters the application runs on.
type Deps struct {
	// Projection is the projector: its status and rebuild (projection.go).
	Projection Projection
	// ClickHouse runs the metric queries (metrics.go); a driver.Conn, ideally as the read-only
	// analyst user.
	ClickHouse chquery.Querier
}

// App is the analytics application.
type App struct {
	d Deps
}

// New returns the application.
func New(d Deps) *App { return &App{d: d} }
