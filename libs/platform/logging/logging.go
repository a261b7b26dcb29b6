// Package logging builds the JSON slog logger every evcrm service writes to stderr, and a handler
// that stamps each record with the request facts found in its context (trace and span id, tenant,
// request and correlation id), so a log line can be joined to its trace and its tenant without
// every call site repeating them.
//
// Use the *Context logging methods (InfoContext, ErrorContext, ...) with the request context;
// records logged without a context carry only what the logger itself was given.
package logging

import (
	"context"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/evcrm/evcrm/libs/reqctx"
)

// Attribute keys the context handler adds. Dashboards and log queries depend on them.
const (
	KeyTraceID       = "trace_id"
	KeySpanID        = "span_id"
	KeyTenantID      = "tenant_id"
	KeyRequestID     = "request_id"
	KeyCorrelationID = "correlation_id"
)

// New returns a logger that writes JSON lines to w at level and above, with context attributes
// added by [NewContextHandler].
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(NewContextHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// ContextHandler wraps another slog.Handler and adds request facts from the record's context.
type ContextHandler struct {
	next slog.Handler
}

// NewContextHandler wraps next so that each record logged with a context gets trace_id and
// span_id from the context's OpenTelemetry span, tenant_id and request_id from reqctx, and
// correlation_id when it differs from the request id (it only tells something new for work
// caused by an earlier request).
func NewContextHandler(next slog.Handler) *ContextHandler {
	return &ContextHandler{next: next}
}

// Enabled reports whether the wrapped handler handles records at level.
func (h *ContextHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the context's request facts to r and passes it on.
func (h *ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			r.AddAttrs(slog.String(KeyTraceID, sc.TraceID().String()), slog.String(KeySpanID, sc.SpanID().String()))
		}
		if t, ok := reqctx.Tenant(ctx); ok {
			r.AddAttrs(slog.String(KeyTenantID, t))
		}
		rid := reqctx.RequestID(ctx)
		if rid != "" {
			r.AddAttrs(slog.String(KeyRequestID, rid))
		}
		if cid := reqctx.CorrelationID(ctx); cid != "" && cid != rid {
			r.AddAttrs(slog.String(KeyCorrelationID, cid))
		}
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a ContextHandler whose wrapped handler has attrs.
func (h *ContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &ContextHandler{next: h.next.WithAttrs(attrs)}
}

// WithGroup returns a ContextHandler whose wrapped handler opens group name.
//
// Context attributes land inside the open group; log queries therefore look for them at the top
// level only on loggers without groups, which is how evcrm code logs.
func (h *ContextHandler) WithGroup(name string) slog.Handler {
	return &ContextHandler{next: h.next.WithGroup(name)}
}
