// Package grpcauth establishes who a gRPC call runs as: an [Authenticator] turns the call's
// metadata into a tenant and an actor, and the interceptors put them into the context with
// reqctx, where application code and the event store read them.
//
// The tenant is never defaulted: every authenticated call names its tenant explicitly and the
// interceptor rejects malformed tenant ids whatever the authenticator returned, because tenant ids
// become NATS subject tokens (DESIGN.md §3).
//
// [JWT] verifies bearer tokens signed by the keys of a JWKS (production); [Dev] believes
// metadata (tests, local runs); [FromBase] selects one from the configuration. docs/security.md
// describes tokens, roles and keys.
package grpcauth

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/platform/config"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// Metadata keys read by the development authenticator. Under JWT only a service credential uses
// x-tenant-id and x-user-id (the token proves the calling service, the metadata names tenant
// and actor); a user token's x-tenant-id must agree with its tenant claim.
const (
	MetadataTenant = "x-tenant-id"
	MetadataUser   = "x-user-id"
	MetadataRoles  = "x-roles"
	// MetadataTerritories and MetadataTeam are development auth's territories and team claims
	// (comma-separated).
	MetadataTerritories = "x-territories"
	MetadataTeam        = "x-team"
)

// Principal is what an Authenticator establishes about a call.
type Principal struct {
	// Tenant is the tenant the call acts in; it must satisfy reqctx.ValidTenantID.
	Tenant string
	// Actor is who makes the call; Actor.ID must not be empty.
	Actor reqctx.Actor
}

// Authenticator establishes the principal of an incoming call from its metadata.
//
// Implementations return an *apperr.Error of kind Unauthenticated when credentials are missing
// or wrong, Invalid when a metadata value is malformed, and PermissionDenied when the credentials
// are valid but do not allow acting in the requested tenant. Any other error is treated as a
// server fault (Internal). Authenticate must be safe for concurrent use.
type Authenticator interface {
	Authenticate(ctx context.Context, md metadata.MD) (Principal, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, md metadata.MD) (Principal, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, md metadata.MD) (Principal, error) {
	return f(ctx, md)
}

// FromBase returns the authenticator a service's Base configuration selects: [JWT] with
// -auth-jwks, [Dev] with -dev-auth (never both; config validation refuses that). With neither
// it fails, so a misconfigured deployment refuses to start instead of serving unauthenticated.
func FromBase(b config.Base) (Authenticator, error) {
	switch {
	case b.AuthJWKS != "" && b.DevAuth:
		return nil, errors.New("grpcauth: -auth-jwks and -dev-auth exclude each other")
	case b.AuthJWKS != "":
		return NewJWT(context.Background(), JWTConfig{JWKS: b.AuthJWKS, Issuer: b.AuthIssuer,
			Audience: b.AuthAudience, ClockSkew: b.AuthClockSkew})
	case b.DevAuth:
		return Dev{}, nil
	}
	return nil, errors.New("grpcauth: no authentication configured: set -auth-jwks, -auth-issuer and -auth-audience " +
		"(EVCRM_AUTH_JWKS, EVCRM_AUTH_ISSUER, EVCRM_AUTH_AUDIENCE) for JWT bearer tokens, " +
		"or -dev-auth (EVCRM_DEV_AUTH=true) for development without credentials")
}

// ExemptMethod reports whether a method is served without authentication: the gRPC health and
// reflection services, which load balancers, orchestrators and grpcurl call without credentials.
func ExemptMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.v1.ServerReflection/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.v1alpha.ServerReflection/")
}

// UnaryServerInterceptor authenticates every call except those exempt reports (nil means
// [ExemptMethod]) and puts tenant and actor into the handler's context.
func UnaryServerInterceptor(a Authenticator, exempt func(fullMethod string) bool) grpc.UnaryServerInterceptor {
	if exempt == nil {
		exempt = ExemptMethod
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if exempt(info.FullMethod) {
			return handler(ctx, req)
		}
		ctx, err := authenticate(ctx, a)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is the streaming counterpart of [UnaryServerInterceptor].
func StreamServerInterceptor(a Authenticator, exempt func(fullMethod string) bool) grpc.StreamServerInterceptor {
	if exempt == nil {
		exempt = ExemptMethod
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if exempt(info.FullMethod) {
			return handler(srv, ss)
		}
		ctx, err := authenticate(ss.Context(), a)
		if err != nil {
			return err
		}
		w := middleware.WrapServerStream(ss)
		w.WrappedContext = ctx
		return handler(srv, w)
	}
}

const maxActorIDLen = 256

func validActorID(id string) bool {
	if len(id) > maxActorIDLen || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func authenticate(ctx context.Context, a Authenticator) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	p, err := a.Authenticate(ctx, md)
	if err != nil {
		return ctx, err
	}
	// Checked here rather than trusted to each Authenticator: a tenant id that is not a valid
	// subject token must never reach the event store, whoever vouched for it.
	switch {
	case p.Tenant == "":
		return ctx, &apperr.Error{Kind: apperr.Unauthenticated, Reason: "TENANT_MISSING",
			Message: "the call names no tenant (" + MetadataTenant + " metadata)"}
	case !reqctx.ValidTenantID(p.Tenant):
		return ctx, &apperr.Error{Kind: apperr.Invalid, Reason: "TENANT_INVALID", Message: "invalid tenant id",
			Fields: []apperr.FieldViolation{{Field: MetadataTenant,
				Description: "must be 1 to 64 characters from A-Z, a-z, 0-9, '_' and '-'"}}}
	case p.Actor.ID == "":
		return ctx, &apperr.Error{Kind: apperr.Unauthenticated, Reason: "ACTOR_MISSING", Message: "the call names no actor"}
	case !validActorID(p.Actor.ID):
		// The actor id is written into every event envelope, forever; keep it printable and short.
		return ctx, &apperr.Error{Kind: apperr.Invalid, Reason: "ACTOR_INVALID", Message: "invalid actor id",
			Fields: []apperr.FieldViolation{{Field: MetadataUser, Description: "must be at most 256 printable characters"}}}
	}
	if p.Actor.Type == reqctx.ActorUnknown {
		p.Actor.Type = reqctx.ActorUser
	}
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("evcrm.tenant_id", p.Tenant))
	ctx = reqctx.WithTenant(ctx, p.Tenant)
	ctx = reqctx.WithActor(ctx, p.Actor)
	return ctx, nil
}
