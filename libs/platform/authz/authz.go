// Package authz decides which roles may call which RPC. The permission table ([Table], in
// table.go) is the one place in code that says so; docs/security.md shows it, and a test fails
// when an RPC of a crm.* service has no entry or an entry names no RPC.
//
// The check is per RPC and runs before the handler, from the roles authentication put into
// reqctx. It never looks at the request, so a denial says nothing about whether the record the
// caller asked for exists. Row-level rules (a sales rep's own records) are [ScopeOf], applied
// by each service's read paths and command handlers.
package authz

import (
	"context"
	"slices"
	"sort"

	"google.golang.org/grpc"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// Role names a set of permissions; tokens carry them in the "roles" claim.
type Role = string

// The roles of evcrm. A token may carry several; a call is allowed when any of them is.
const (
	// Admin may call every RPC.
	Admin Role = "admin"
	// SalesManager manages the sales team's leads, accounts, opportunities, pipelines and
	// territories and reads analytics.
	SalesManager Role = "sales_manager"
	// SalesRep works leads, contacts, accounts, activities, opportunities, quotes and contracts.
	SalesRep Role = "sales_rep"
	// Marketing manages campaigns, segments and automation rules, captures leads and reads
	// campaign analytics; it does not see opportunities (and so not their amounts).
	Marketing Role = "marketing"
	// Analyst reads analytics only.
	Analyst Role = "analyst"
	// Integration reads through the API (exports included) and changes nothing.
	Integration Role = "integration"
	// Service is the role of a service credential: another evcrm service acting outside any
	// user's request (campaign's rule engine). It may call only what services call of each other.
	Service Role = "service"
	// Operator runs the platform for every tenant (the analytics projection's rebuild). It is
	// not a tenant's role: a tenant's admin does not have it.
	Operator Role = "operator"
)

// Roles lists every role, in the order docs/security.md shows them.
var Roles = []Role{Admin, SalesManager, SalesRep, Marketing, Analyst, Integration, Service, Operator}

// Allowed reports whether any of roles may call the RPC fullMethod ("/pkg.Service/Method").
// A method missing from the table is allowed to nobody: new RPCs are closed until listed. Admin
// may call everything except the platform's methods ([PlatformMethods]), which act on every
// tenant at once.
func Allowed(fullMethod string, roles []string) bool {
	allowed, ok := Table[fullMethod]
	if !ok {
		return false
	}
	for _, r := range roles {
		if (r == Admin && !PlatformMethods[fullMethod]) || slices.Contains(allowed, r) {
			return true
		}
	}
	return false
}

// Methods returns the RPCs of the table, sorted.
func Methods() []string {
	out := make([]string, 0, len(Table))
	for m := range Table {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Authorize returns nil when the actor of ctx may call fullMethod, otherwise a PermissionDenied
// (or, with no actor at all, Unauthenticated) apperr. It is the default Func of the interceptors.
func Authorize(ctx context.Context, fullMethod string) error {
	a := reqctx.ActorFrom(ctx)
	if a.ID == "" {
		return &apperr.Error{Kind: apperr.Unauthenticated, Reason: "UNAUTHENTICATED", Message: "the call is not authenticated"}
	}
	if !Allowed(fullMethod, a.Roles) {
		// The message names the method, never a record: the check runs before any lookup.
		return &apperr.Error{Kind: apperr.PermissionDenied, Reason: "ROLE_FORBIDDEN",
			Message: "the caller's roles do not allow " + fullMethod}
	}
	return nil
}

// Func decides whether the (authenticated) call in ctx may invoke fullMethod.
type Func func(ctx context.Context, fullMethod string) error

// UnaryServerInterceptor checks every call except those exempt reports with f (nil means
// [Authorize]). It must run after authentication, which puts the actor into the context.
func UnaryServerInterceptor(f Func, exempt func(fullMethod string) bool) grpc.UnaryServerInterceptor {
	if f == nil {
		f = Authorize
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if exempt == nil || !exempt(info.FullMethod) {
			if err := f(ctx, info.FullMethod); err != nil {
				return nil, err
			}
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is the streaming counterpart of [UnaryServerInterceptor].
func StreamServerInterceptor(f Func, exempt func(fullMethod string) bool) grpc.StreamServerInterceptor {
	if f == nil {
		f = Authorize
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if exempt == nil || !exempt(info.FullMethod) {
			if err := f(ss.Context(), info.FullMethod); err != nil {
				return err
			}
		}
		return handler(srv, ss)
	}
}
