package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/evcrm/evcrm/libs/platform/logging"
	"github.com/evcrm/evcrm/libs/reqctx"
)

func decode(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m), buf.String())
	buf.Reset()
	return m
}

func TestContextAttributes(t *testing.T) {
	t.Parallel()
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("test").Start(context.Background(), "op")
	defer span.End()
	ctx = reqctx.WithTenant(ctx, "acme")
	ctx = reqctx.WithRequestID(ctx, "req-1")

	cases := []struct {
		name string
		ctx  context.Context
		want map[string]any
		none []string
	}{
		{name: "everything",
			ctx: reqctx.WithCorrelationID(ctx, "corr-9"),
			want: map[string]any{"trace_id": span.SpanContext().TraceID().String(), "span_id": span.SpanContext().SpanID().String(),
				"tenant_id": "acme", "request_id": "req-1", "correlation_id": "corr-9"}},
		{name: "correlation equal to request id is not repeated",
			ctx:  reqctx.WithCorrelationID(ctx, "req-1"),
			want: map[string]any{"request_id": "req-1"}, none: []string{"correlation_id"}},
		{name: "bare context adds nothing",
			ctx:  context.Background(),
			none: []string{"trace_id", "span_id", "tenant_id", "request_id", "correlation_id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := logging.New(&buf, slog.LevelInfo)
			log.InfoContext(tc.ctx, "lead qualified", slog.String("lead_id", "L1"))
			m := decode(t, &buf)
			assert.Equal(t, "lead qualified", m["msg"])
			assert.Equal(t, "L1", m["lead_id"])
			for k, v := range tc.want {
				assert.Equal(t, v, m[k], k)
			}
			for _, k := range tc.none {
				assert.NotContains(t, m, k)
			}
		})
	}
}

func TestLevelAndDerivedLoggers(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelWarn)
	log.Info("dropped")
	assert.Zero(t, buf.Len())

	ctx := reqctx.WithTenant(context.Background(), "acme")
	log.With(slog.String("component", "projector")).WarnContext(ctx, "lagging", logging.Err(errors.New("slow insert")))
	m := decode(t, &buf)
	assert.Equal(t, "projector", m["component"])
	assert.Equal(t, "acme", m["tenant_id"], "derived loggers keep the context handler")
	assert.Equal(t, "slow insert", m["error"])

	log.WithGroup("batch").WarnContext(ctx, "grouped", slog.Int("rows", 3))
	m = decode(t, &buf)
	assert.Equal(t, map[string]any{"rows": 3.0, "tenant_id": "acme"}, m["batch"])

	log.Warn("no error", logging.Err(nil))
	assert.NotContains(t, decode(t, &buf), "error")
}
