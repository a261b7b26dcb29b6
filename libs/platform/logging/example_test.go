package logging_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/evcrm/evcrm/libs/platform/logging"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// Records logged with a request context carry its tenant and request id (and trace/span id when
// a span is active) without the call site naming them.
// Services call logging.New(os.Stderr, cfg.LogLevel); the example builds the same handler
// without timestamps so its output is stable.
func ExampleNewContextHandler() {
	log := slog.New(logging.NewContextHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	ctx := reqctx.WithRequestID(reqctx.WithTenant(context.Background(), "acme"), "req-1")
	log.InfoContext(ctx, "lead created", slog.String("lead_id", "L1"))
	// Output: {"level":"INFO","msg":"lead created","lead_id":"L1","tenant_id":"acme","request_id":"req-1"}
}
