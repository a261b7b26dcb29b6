package grpcserver

import (
	"context"

	"github.com/evcrm/evcrm/libs/uuid7"
	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/reqctx"
)

// Metadata keys for request and correlation ids.
const (
	// MetadataRequestID identifies one call. Taken from the request if the caller (a gateway,
	// crmctl) already assigned one, generated (UUIDv7) otherwise, and echoed in the response
	// header so the caller can quote it.
	MetadataRequestID = "x-request-id"
	// MetadataCorrelationID ties together everything one original request causes, across
	// services and events. Defaults to the request id.
	MetadataCorrelationID = "x-correlation-id"
)

// maxIDLen bounds caller-supplied ids: they end up in every log line and event envelope.
const maxIDLen = 128

// validID accepts the characters ids are made of in practice (UUIDs, ULIDs, trace-like tokens)
// and nothing that could break a log line or a header.
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// withRequestIDs puts request and correlation ids into ctx and returns the request id.
func withRequestIDs(ctx context.Context) (context.Context, string) {
	md, _ := metadata.FromIncomingContext(ctx)
	rid := first(md, MetadataRequestID)
	if !validID(rid) {
		rid = newID()
	}
	cid := first(md, MetadataCorrelationID)
	if !validID(cid) {
		cid = rid
	}
	ctx = reqctx.WithRequestID(ctx, rid)
	ctx = reqctx.WithCorrelationID(ctx, cid)
	// On the span too, so a request id quoted by a user finds its trace.
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("evcrm.request_id", rid), attribute.String("evcrm.correlation_id", cid))
	return ctx, rid
}

func first(md metadata.MD, key string) string {
	if vs := md.Get(key); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func newID() string { return uuid7.New() }

func requestIDUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, rid := withRequestIDs(ctx)
		// Best effort: a header can only fail to be set if the handler already sent one, which
		// cannot have happened yet.
		_ = grpc.SetHeader(ctx, metadata.Pairs(MetadataRequestID, rid))
		return handler(ctx, req)
	}
}

func requestIDStream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, rid := withRequestIDs(ss.Context())
		_ = ss.SetHeader(metadata.Pairs(MetadataRequestID, rid))
		w := middleware.WrapServerStream(ss)
		w.WrappedContext = ctx
		return handler(srv, w)
	}
}
