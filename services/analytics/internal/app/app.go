// Package app holds the analytics service's query handlers: parameter validation and the metric
// queries over the ClickHouse tables.
package app

// Deps are the adapters the application runs on.
type Deps struct{}

// App is the analytics application.
type App struct {
	d Deps
}

// New returns the application.
func New(d Deps) *App { return &App{d: d} }
