package grpcerr

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/evcrm/evcrm/libs/apperr"
)

// UnaryServerInterceptor applies [ToStatus] to every handler error. It logs the real error of
// internal failures at error level before the generic message replaces it, and apperr
// Unavailable errors with their cause at warn level; both carry the request's trace and request
// id through the logger's context handler.
func UnaryServerInterceptor(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			return resp, mapErr(ctx, logger, info.FullMethod, err)
		}
		return resp, nil
	}
}

// StreamServerInterceptor is the streaming counterpart of [UnaryServerInterceptor].
func StreamServerInterceptor(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := handler(srv, ss); err != nil {
			return mapErr(ss.Context(), logger, info.FullMethod, err)
		}
		return nil
	}
}

func mapErr(ctx context.Context, logger *slog.Logger, method string, err error) error {
	st := ToStatus(ctx, err)
	switch {
	case IsInternal(err):
		logger.ErrorContext(ctx, "internal error", slog.String("grpc.method", method), slog.String("error", err.Error()))
	case st.Code() == codes.Unavailable && apperr.KindOf(err) == apperr.Unavailable:
		// The client sees only the message; the cause (which dependency, which address) is for
		// operators.
		logger.WarnContext(ctx, "dependency unavailable", slog.String("grpc.method", method), slog.String("error", err.Error()))
	}
	return st.Err()
}
