// Package reqctx carries the request-scoped facts every layer needs — tenant, actor, correlation
// and request ids — through a context.Context. The gRPC auth interceptor (libs/platform) sets
// them once per request; the event store reads them to fill event envelopes.
package reqctx

import "context"

// ActorType tells a human user from a service or the system itself.
type ActorType int

const (
	// ActorUnknown is the zero value: no actor is known.
	ActorUnknown ActorType = iota
	// ActorUser is a person using the API.
	ActorUser
	// ActorService is another service (for example a saga step).
	ActorService
	// ActorSystem is the platform itself (scheduled jobs, migrations).
	ActorSystem
)

// Actor is the principal a request runs as.
type Actor struct {
	Type ActorType
	// ID is the user id or service name.
	ID string
	// OnBehalfOf is the user a service acts for, if any.
	OnBehalfOf string
	// Roles granted to the actor.
	Roles []string
	// Territories are the ids of the territories the user works (the token's "territories"
	// claim): a sales rep's or manager's row-level scope includes their records.
	Territories []string
	// Team lists the user ids whose records a sales manager oversees (the token's "team"
	// claim); nil means no team is configured (see libs/platform/authz.ScopeOf).
	Team []string
}

type key int

const (
	tenantKey key = iota
	actorKey
	correlationKey
	requestKey
)

// WithTenant returns ctx carrying tenant.
func WithTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey, tenant)
}

// Tenant returns the tenant carried by ctx and whether there is one.
func Tenant(ctx context.Context) (string, bool) {
	t, ok := ctx.Value(tenantKey).(string)
	return t, ok && t != ""
}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFrom returns the actor carried by ctx, or the zero Actor.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey).(Actor)
	return a
}

// WithCorrelationID returns ctx carrying the correlation id shared by everything one original
// request causes.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey, id)
}

// CorrelationID returns the correlation id carried by ctx, or "".
func CorrelationID(ctx context.Context) string {
	s, _ := ctx.Value(correlationKey).(string)
	return s
}

// WithRequestID returns ctx carrying the id of the current request.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestKey, id)
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestKey).(string)
	return s
}
