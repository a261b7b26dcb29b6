package grpcserver

import (
	"context"
	"time"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// MetadataBackfillTime asks for a call to be served "as of" an RFC 3339 time in the past: the
// service's clock and the occurred_at of the events it appends read that time (reqctx.Backfill).
// Services accept it only with Options.AllowBackfill (flag -allow-backfill), which exists for
// demo data and imports of history; production configurations never set it.
const MetadataBackfillTime = "x-evcrm-backfill-time"

// backfill puts the call's backfill time, if any, into ctx. now is the wall clock the time is
// checked against.
func backfill(ctx context.Context, allow bool, now func() time.Time) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vs := md.Get(MetadataBackfillTime)
	if len(vs) == 0 {
		return ctx, nil
	}
	if !allow {
		// Refused before parsing: a service that does not backfill has no business telling the
		// caller what a valid backfill time would be.
		return ctx, &apperr.Error{Kind: apperr.FailedPrecondition, Reason: "BACKFILL_DISABLED",
			Message: "backfill is disabled on this service"}
	}
	for _, v := range vs[1:] {
		if v != vs[0] {
			return ctx, backfillInvalid("given more than once with different values")
		}
	}
	t, err := time.Parse(time.RFC3339Nano, vs[0])
	if err != nil {
		return ctx, backfillInvalid("must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	if t.After(now()) {
		// The future has not happened: events dated after "now" would break every consumer's
		// assumption that the log only grows into the past.
		return ctx, backfillInvalid("must not be in the future")
	}
	return reqctx.WithBackfill(ctx, t), nil
}

func backfillInvalid(desc string) error {
	return apperr.InvalidFields("invalid backfill time",
		apperr.FieldViolation{Field: MetadataBackfillTime, Description: desc})
}

func backfillUnary(allow bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := backfill(ctx, allow, time.Now)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func backfillStream(allow bool) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := backfill(ss.Context(), allow, time.Now)
		if err != nil {
			return err
		}
		w := middleware.WrapServerStream(ss)
		w.WrappedContext = ctx
		return handler(srv, w)
	}
}
