package grpcauth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/platform/config"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/reqctx"
)

func TestDev(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		md    metadata.MD
		want  grpcauth.Principal
		kind  apperr.Kind
		fails bool
	}{
		{name: "user with roles", md: metadata.Pairs("x-tenant-id", "acme", "x-user-id", "u-1", "x-roles", "sales,admin", "x-roles", " ops "),
			want: grpcauth.Principal{Tenant: "acme", Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: "u-1", Roles: []string{"sales", "admin", "ops"}}}},
		{name: "repeated identical tenant is fine; no x-roles is admin", md: metadata.Pairs("x-tenant-id", "acme", "x-tenant-id", "acme", "x-user-id", "u-1"),
			want: grpcauth.Principal{Tenant: "acme", Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: "u-1", Roles: []string{"admin", "operator"}}}},
		{name: "row-level scope", md: metadata.Pairs("x-tenant-id", "acme", "x-user-id", "u-1", "x-roles", "sales_manager",
			"x-territories", "emea, apac", "x-team", ""),
			want: grpcauth.Principal{Tenant: "acme", Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: "u-1", Roles: []string{"sales_manager"},
				Territories: []string{"emea", "apac"}, Team: []string{}}}},
		{name: "no user", md: metadata.Pairs("x-tenant-id", "acme"), fails: true, kind: apperr.Unauthenticated},
		{name: "conflicting users", md: metadata.Pairs("x-tenant-id", "acme", "x-user-id", "a", "x-user-id", "b"), fails: true, kind: apperr.Invalid},
		// The tenant itself is checked by the interceptor, whatever the authenticator returns.
		{name: "tenant left to the interceptor", md: metadata.Pairs("x-user-id", "u-1"),
			want: grpcauth.Principal{Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: "u-1", Roles: []string{"admin", "operator"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := grpcauth.Dev{}.Authenticate(context.Background(), tc.md)
			if tc.fails {
				require.Error(t, err)
				assert.Equal(t, tc.kind, apperr.KindOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, p)
		})
	}
}

func TestFromBase(t *testing.T) {
	t.Parallel()
	a, err := grpcauth.FromBase(config.Base{DevAuth: true})
	require.NoError(t, err)
	assert.IsType(t, grpcauth.Dev{}, a)

	_, err = grpcauth.FromBase(config.Base{})
	assert.ErrorContains(t, err, "-dev-auth", "without an authenticator the service must refuse to start")
	assert.ErrorContains(t, err, "-auth-jwks", "the message names the production setting too")
}

func TestExemptMethod(t *testing.T) {
	t.Parallel()
	for m, want := range map[string]bool{
		"/grpc.health.v1.Health/Check":                                   true,
		"/grpc.health.v1.Health/Watch":                                   true,
		"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      true,
		"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": true,
		"/crm.leads.v1.LeadsService/CreateLead":                          false,
		"/grpc.health.v1.HealthX/Check":                                  false,
	} {
		assert.Equal(t, want, grpcauth.ExemptMethod(m), m)
	}
}

// A JWT authenticator (security issue) plugs in the same way: read the credentials from the
// metadata, return the principal or an Unauthenticated apperr.
func ExampleAuthenticatorFunc() {
	var _ grpcauth.Authenticator = grpcauth.AuthenticatorFunc(func(_ context.Context, md metadata.MD) (grpcauth.Principal, error) {
		if len(md.Get("authorization")) == 0 {
			return grpcauth.Principal{}, apperr.New(apperr.Unauthenticated, "missing bearer token")
		}
		// verify the token, then:
		return grpcauth.Principal{Tenant: md.Get(grpcauth.MetadataTenant)[0], Actor: reqctx.Actor{Type: reqctx.ActorService, ID: "campaign"}}, nil
	})
	// Output:
}

// The interceptor checks what any Authenticator returns, so a buggy or future authenticator
// cannot let a malformed tenant or actor through.
func TestInterceptorChecksPrincipal(t *testing.T) {
	t.Parallel()
	user := func(id string) reqctx.Actor { return reqctx.Actor{ID: id} }
	cases := []struct {
		name string
		p    grpcauth.Principal
		err  error
		kind apperr.Kind
		ok   bool
	}{
		{name: "valid; actor type defaults to user", p: grpcauth.Principal{Tenant: "acme", Actor: user("u-1")}, ok: true},
		{name: "no tenant", p: grpcauth.Principal{Actor: user("u-1")}, kind: apperr.Unauthenticated},
		{name: "tenant with dot", p: grpcauth.Principal{Tenant: "a.b", Actor: user("u-1")}, kind: apperr.Invalid},
		{name: "no actor", p: grpcauth.Principal{Tenant: "acme"}, kind: apperr.Unauthenticated},
		{name: "actor with control character", p: grpcauth.Principal{Tenant: "acme", Actor: user("u\x07")}, kind: apperr.Invalid},
		{name: "authenticator error passes through", err: apperr.New(apperr.PermissionDenied, "not in tenant"), kind: apperr.PermissionDenied},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := grpcauth.AuthenticatorFunc(func(context.Context, metadata.MD) (grpcauth.Principal, error) { return tc.p, tc.err })
			icpt := grpcauth.UnaryServerInterceptor(a, nil)
			var got reqctx.Actor
			var tenant string
			_, err := icpt(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/crm.leads.v1.LeadsService/GetLead"},
				func(ctx context.Context, _ any) (any, error) {
					got = reqctx.ActorFrom(ctx)
					tenant, _ = reqctx.Tenant(ctx)
					return nil, nil
				})
			if !tc.ok {
				require.Error(t, err)
				assert.Equal(t, tc.kind, apperr.KindOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "acme", tenant)
			assert.Equal(t, reqctx.Actor{Type: reqctx.ActorUser, ID: "u-1"}, got)
		})
	}
}
