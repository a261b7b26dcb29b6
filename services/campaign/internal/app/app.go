// Package app holds the campaign service's command and query handlers: campaigns, members and
// responses (campaigns.go, members.go, responses.go), segments and enrollment (segments.go),
// automation rules and their engine (rules.go).
package app

import (
	"context"
	"time"

	"github.com/evcrm/evcrm/libs/reqctx"
)

// Deps are the adapters the application runs on, one group per part of the service.
type Deps struct {
	Campaigns CampaignDeps
	Segments  SegmentDeps
	Rules     RuleDeps
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// NewID returns a new id (a UUIDv7).
	NewID func() string
}

// App is the campaign application.
type App struct {
	d Deps
	// campaigns caches campaigns for the member commands (campaigns.go).
	campaigns *campaignCache
}

// New returns the application.
func New(d Deps) *App {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &App{d: d, campaigns: newCampaignCache(campaignCacheTTL)}
}

// Write carries what every command accepts besides its own fields.
type Write struct {
	IdempotencyKey string
	// ExpectedVersion, when set, makes the command fail with a conflict unless the record is at
	// this version.
	ExpectedVersion *uint64
}

// Read carries what every query accepts.
type Read struct {
	// MinSequence: wait until the read model has applied this stream sequence.
	MinSequence uint64
}

// now is the request's business clock: the backfill time of a backfilled request (reqctx), the
// injected clock otherwise. Cache ages, TTLs and timeouts use the wall clock instead.
func (a *App) now(ctx context.Context) time.Time { return reqctx.Now(ctx, a.d.Now) }

// waiter is a read model's read-your-writes wait.
type waiter interface {
	WaitFor(ctx context.Context, seq uint64) error
}

func waitRead(ctx context.Context, w waiter, r Read) error {
	if r.MinSequence == 0 || w == nil {
		return nil
	}
	return w.WaitFor(ctx, r.MinSequence)
}
