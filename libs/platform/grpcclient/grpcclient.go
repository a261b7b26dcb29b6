// Package grpcclient opens connections from one evcrm service to another. Calls are traced
// (otelgrpc), and the caller's tenant, actor and correlation id travel as metadata so the callee
// authorises and audits the call as part of the original request: a lead conversion that opens
// an opportunity in pipeline is recorded there with the user who converted the lead.
package grpcclient

import (
	"context"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// New returns a client connection to target with tracing and identity forwarding. Without a
// transport credentials option the connection is plaintext (loopback and in-cluster
// development); pass grpc.WithTransportCredentials for TLS.
func New(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	base := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithChainUnaryInterceptor(UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(StreamClientInterceptor()),
	}
	return grpc.NewClient(target, append(base, opts...)...)
}

// UnaryClientInterceptor forwards the request identity of the call's context.
func UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(Outgoing(ctx), method, req, reply, cc, opts...)
	}
}

// StreamClientInterceptor forwards the request identity of the stream's context.
func StreamClientInterceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return streamer(Outgoing(ctx), desc, cc, method, opts...)
	}
}

// Outgoing returns ctx with the tenant, actor, roles, correlation id and backfill time of reqctx appended to
// the outgoing metadata. Keys the caller set explicitly are kept. The callee starts its own
// request id; the correlation id (the caller's, or its request id) ties the two together.
func Outgoing(ctx context.Context) context.Context {
	md, _ := metadata.FromOutgoingContext(ctx)
	var kv []string
	set := func(k, v string) {
		if v != "" && len(md.Get(k)) == 0 {
			kv = append(kv, k, v)
		}
	}
	if t, ok := reqctx.Tenant(ctx); ok {
		set(grpcauth.MetadataTenant, t)
	}
	a := reqctx.ActorFrom(ctx)
	set(grpcauth.MetadataUser, a.ID)
	set(grpcauth.MetadataRoles, strings.Join(a.Roles, ","))
	corr := reqctx.CorrelationID(ctx)
	if corr == "" {
		corr = reqctx.RequestID(ctx)
	}
	set(grpcserver.MetadataCorrelationID, corr)
	// A backfilled request stays backfilled downstream: the opportunity a backfilled lead
	// conversion opens must carry the conversion's date. The callee must allow backfill too.
	if t, ok := reqctx.Backfill(ctx); ok {
		set(grpcserver.MetadataBackfillTime, t.Format(time.RFC3339Nano))
	}
	if len(kv) == 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}
