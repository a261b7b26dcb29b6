package cli

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// Metadata keys of the services' development authentication (libs/platform/grpcauth) and of
// backfill (libs/reqctx); crmctl cannot import the platform without pulling in the servers.
const (
	mdTenant   = "x-tenant-id"
	mdUser     = "x-user-id"
	mdRoles    = "x-roles"
	mdAuth     = "authorization"
	mdBackfill = "x-evcrm-backfill-time"
)

// conn returns the connection to svc, dialled on first use. grpc.NewClient does not connect
// until the first call, so a command pays only for the services it calls.
func (a *app) conn(svc service) (*grpc.ClientConn, error) {
	if c, ok := a.conns[svc]; ok {
		return c, nil
	}
	addr := *a.addrs[svc]
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("%s service at %s: %w", svc, addr, err)
	}
	a.conns[svc] = c
	return c, nil
}

func (a *app) close() {
	for _, c := range a.conns {
		_ = c.Close()
	}
}

// callContext carries the caller's identity (and backfill time) as the services expect it.
func (a *app) callContext(ctx context.Context) context.Context {
	kv := []string{mdTenant, a.tenant, mdUser, a.user}
	if a.roles != "" {
		kv = append(kv, mdRoles, a.roles)
	}
	if a.token != "" {
		kv = append(kv, mdAuth, "Bearer "+a.token)
	}
	if a.backfill != "" {
		kv = append(kv, mdBackfill, a.backfill)
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// unaryContext is callContext with the --timeout deadline.
func (a *app) unaryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(a.callContext(ctx), a.timeout)
}
