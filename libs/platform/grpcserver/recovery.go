package grpcserver

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"

	"github.com/evcrm/evcrm/libs/platform/grpcerr"
)

// recoveryHandler logs a handler panic with its stack and answers with the generic Internal
// status. One panicking request must not take down the process and every other tenant's calls.
func recoveryHandler(logger *slog.Logger) recovery.Option {
	return recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in gRPC handler",
			slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
		return grpcerr.Internal(ctx).Err()
	})
}
