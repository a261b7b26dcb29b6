package grpcauth

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// DevDefaultRoles are the roles [Dev] gives a call without x-roles: every permission.
var DevDefaultRoles = []string{"admin", "operator"}

// Dev is the development authenticator: it believes the x-tenant-id, x-user-id and optional
// x-roles (comma-separated; none means [DevDefaultRoles]), x-territories and x-team metadata of
// the call without any proof. It is for local runs and tests only; [FromBase] selects it only with -dev-auth.
type Dev struct{}

// Authenticate reads the principal from the call's metadata.
func (Dev) Authenticate(_ context.Context, md metadata.MD) (Principal, error) {
	tenant, err := single(md, MetadataTenant)
	if err != nil {
		return Principal{}, err
	}
	user, err := single(md, MetadataUser)
	if err != nil {
		return Principal{}, err
	}
	if user == "" {
		return Principal{}, &apperr.Error{Kind: apperr.Unauthenticated, Reason: "ACTOR_MISSING",
			Message: "development auth needs " + MetadataUser + " metadata"}
	}
	roles := list(md, MetadataRoles)
	if len(roles) == 0 {
		// No x-roles means every permission: tests and local tools that predate roles act as
		// before, and a test of a role says so with x-roles.
		roles = slices.Clone(DevDefaultRoles)
	}
	return Principal{Tenant: tenant, Actor: reqctx.Actor{Type: reqctx.ActorUser, ID: user, Roles: roles,
		Territories: list(md, MetadataTerritories), Team: list(md, MetadataTeam)}}, nil
}

// list returns the comma-separated values of key, nil when the call has no such metadata (and
// an empty, non-nil list when it has the key with nothing in it: an empty team).
func list(md metadata.MD, key string) []string {
	vs := md.Get(key)
	if len(vs) == 0 {
		return nil
	}
	out := []string{}
	for _, v := range vs {
		for r := range strings.SplitSeq(v, ",") {
			if r = strings.TrimSpace(r); r != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// single returns the one value of key. Two different values are rejected rather than picking one,
// because a proxy that appends a header must not be able to switch the tenant.
func single(md metadata.MD, key string) (string, error) {
	vs := md.Get(key)
	if len(vs) == 0 {
		return "", nil
	}
	for _, v := range vs[1:] {
		if v != vs[0] {
			return "", &apperr.Error{Kind: apperr.Invalid, Reason: "AMBIGUOUS_METADATA", Message: "conflicting metadata values",
				Fields: []apperr.FieldViolation{{Field: key, Description: "given more than once with different values"}}}
		}
	}
	return strings.TrimSpace(vs[0]), nil
}
