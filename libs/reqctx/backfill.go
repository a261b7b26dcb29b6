package reqctx

import (
	"context"
	"time"
)

type backfillKey struct{}

// WithBackfill returns ctx serving its request "as of" t: the service's clock and the
// occurred_at of the events the request appends read t instead of the wall clock. Only the
// platform's gRPC interceptor sets it, and only on services started with -allow-backfill
// (demo data, imports of history); see docs/events.md "Backfill".
func WithBackfill(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, backfillKey{}, t.UTC())
}

// Backfill returns the backfill time carried by ctx and whether there is one.
func Backfill(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(backfillKey{}).(time.Time)
	return t, ok && !t.IsZero()
}

// Now is the business clock of a request: the backfill time when ctx carries one, clock()
// otherwise (time.Now when clock is nil). Use it for the times a command records (created_at,
// stage entered, occurred_at), never for timeouts, TTLs or cache ages, which must keep running on
// the wall clock whatever time the request pretends to be.
func Now(ctx context.Context, clock func() time.Time) time.Time {
	if t, ok := Backfill(ctx); ok {
		return t
	}
	if clock == nil {
		return time.Now().UTC()
	}
	return clock().UTC()
}
