package grpcserver_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/internal/testsvc"
	"github.com/evcrm/evcrm/libs/reqctx"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		md    []string
		code  codes.Code
		field string // expected field violation, if any
	}{
		{name: "no metadata", md: nil, code: codes.Unauthenticated},
		{name: "missing tenant", md: []string{"x-user-id", "u-1"}, code: codes.Unauthenticated},
		{name: "missing user", md: []string{"x-tenant-id", "acme"}, code: codes.Unauthenticated},
		{name: "tenant with subject wildcard", md: []string{"x-tenant-id", "acme.*", "x-user-id", "u-1"}, code: codes.InvalidArgument, field: "x-tenant-id"},
		{name: "tenant with space", md: []string{"x-tenant-id", "ac me", "x-user-id", "u-1"}, code: codes.InvalidArgument, field: "x-tenant-id"},
		{name: "tenant too long", md: []string{"x-tenant-id", strings.Repeat("a", 65), "x-user-id", "u-1"}, code: codes.InvalidArgument, field: "x-tenant-id"},
		{name: "two different tenants", md: []string{"x-tenant-id", "acme", "x-tenant-id", "globex", "x-user-id", "u-1"}, code: codes.InvalidArgument, field: "x-tenant-id"},
		{name: "actor id too long", md: []string{"x-tenant-id", "acme", "x-user-id", strings.Repeat("u", 257)}, code: codes.InvalidArgument, field: "x-user-id"},
		{name: "valid", md: []string{"x-tenant-id", "Acme_Corp-1", "x-user-id", "u-1", "x-roles", "sales, admin"}, code: codes.OK},
		{name: "longest valid tenant", md: []string{"x-tenant-id", strings.Repeat("a", 64), "x-user-id", "u-1"}, code: codes.OK},
	}
	e := start(t, testsvc.Handlers{
		Unary: func(context.Context, *testsvc.Request) (string, error) { return "ok", nil },
		Stream: func(ctx context.Context, _ *testsvc.Request, send func(string) error) error {
			tenant, _ := reqctx.Tenant(ctx)
			return send(tenant)
		},
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := metadata.AppendToOutgoingContext(t.Context(), tc.md...)
			_, _, err := testsvc.Call(ctx, e.conn, "x")
			assert.Equal(t, tc.code, status.Code(err), "unary: %v", err)
			if tc.field != "" {
				assert.Equal(t, []string{tc.field}, violationFields(err))
			}
			_, _, err = testsvc.CallStream(ctx, e.conn, "x")
			assert.Equal(t, tc.code, status.Code(err), "stream: %v", err)
		})
	}
	t.Run("principal reaches the handler", func(t *testing.T) {
		t.Parallel()
		e := start(t, testsvc.Handlers{Unary: func(ctx context.Context, _ *testsvc.Request) (string, error) {
			tenant, _ := reqctx.Tenant(ctx)
			a := reqctx.ActorFrom(ctx)
			return tenant + "|" + a.ID + "|" + strings.Join(a.Roles, ","), nil
		}})
		got, _, err := testsvc.Call(asUser(t.Context(), "x-roles", "sales, admin"), e.conn, "x")
		require.NoError(t, err)
		assert.Equal(t, "acme|u-1|sales,admin", got)
		vals, _, err := testsvc.CallStream(asUser(t.Context()), e.conn, "x")
		require.NoError(t, err)
		assert.Equal(t, []string{"x"}, vals)
	})
	t.Run("health is exempt", func(t *testing.T) {
		t.Parallel()
		resp, err := healthpb.NewHealthClient(e.conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
		require.NoError(t, err)
		assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
		resp, err = healthpb.NewHealthClient(e.conn).Check(t.Context(), &healthpb.HealthCheckRequest{Service: testsvc.ServiceName})
		require.NoError(t, err)
		assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	})
	t.Run("reflection is exempt", func(t *testing.T) {
		t.Parallel()
		st, err := reflectionpb.NewServerReflectionClient(e.conn).ServerReflectionInfo(t.Context())
		require.NoError(t, err)
		require.NoError(t, st.Send(&reflectionpb.ServerReflectionRequest{
			MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"}}))
		resp, err := st.Recv()
		require.NoError(t, err)
		var names []string
		for _, s := range resp.GetListServicesResponse().GetService() {
			names = append(names, s.GetName())
		}
		assert.Contains(t, names, testsvc.ServiceName)
		assert.Contains(t, names, "grpc.health.v1.Health")
		require.NoError(t, st.CloseSend())
	})
	t.Run("extra exempt method", func(t *testing.T) {
		t.Parallel()
		e := start(t, testsvc.Handlers{}, func(o *grpcserver.Options) {
			o.AuthExempt = func(m string) bool { return m == testsvc.UnaryMethod }
		})
		got, _, err := testsvc.Call(t.Context(), e.conn, "anonymous")
		require.NoError(t, err)
		assert.Equal(t, "anonymous", got)
	})
}

func TestRecovery(t *testing.T) {
	t.Parallel()
	e := start(t, testsvc.Handlers{
		Unary: func(_ context.Context, req *testsvc.Request) (string, error) {
			if req.GetValue() == "boom" {
				panic("nil map in lead scoring")
			}
			return req.GetValue(), nil
		},
		Stream: func(context.Context, *testsvc.Request, func(string) error) error {
			panic("stream exploded")
		},
	})
	_, header, err := testsvc.Call(asUser(t.Context()), e.conn, "boom")
	require.Equal(t, codes.Internal, status.Code(err))
	assert.Equal(t, "internal error, request id "+header.Get("x-request-id")[0], status.Convert(err).Message())
	assert.NotContains(t, status.Convert(err).Message(), "nil map")
	logs := e.logs.String()
	assert.Contains(t, logs, "panic in gRPC handler")
	assert.Contains(t, logs, "nil map in lead scoring")
	assert.Contains(t, logs, "interceptors_test.go", "the stack must point at the panicking code")

	got, _, err := testsvc.Call(asUser(t.Context()), e.conn, "still alive")
	require.NoError(t, err, "the server must survive a panic")
	assert.Equal(t, "still alive", got)

	_, _, err = testsvc.CallStream(asUser(t.Context()), e.conn, "x")
	assert.Equal(t, codes.Internal, status.Code(err))
	assert.Contains(t, e.logs.String(), "stream exploded")
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	e := start(t, testsvc.Handlers{
		Unary: func(ctx context.Context, _ *testsvc.Request) (string, error) {
			return reqctx.RequestID(ctx) + "|" + reqctx.CorrelationID(ctx), nil
		},
		Stream: func(ctx context.Context, _ *testsvc.Request, send func(string) error) error {
			return send(reqctx.RequestID(ctx) + "|" + reqctx.CorrelationID(ctx))
		},
	})
	cases := []struct {
		name        string
		md          []string
		wantRID     string // "" = expect a generated UUIDv7
		wantCorrRID bool   // correlation id = request id
		wantCorr    string
	}{
		{name: "caller's id is kept and echoed", md: []string{"x-request-id", "req-123"}, wantRID: "req-123", wantCorrRID: true},
		{name: "generated when missing", wantCorrRID: true},
		{name: "unsafe id is replaced", md: []string{"x-request-id", "bad id\"}"}, wantCorrRID: true},
		{name: "correlation id is taken from the caller", md: []string{"x-request-id", "req-9", "x-correlation-id", "corr-1"}, wantRID: "req-9", wantCorr: "corr-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := metadata.AppendToOutgoingContext(asUser(t.Context()), tc.md...)
			check := func(got string, header metadata.MD) {
				t.Helper()
				echoed := header.Get("x-request-id")
				require.Len(t, echoed, 1)
				rid := echoed[0]
				if tc.wantRID != "" {
					assert.Equal(t, tc.wantRID, rid)
				} else {
					u, err := uuid.Parse(rid)
					require.NoError(t, err)
					assert.Equal(t, uuid.Version(7), u.Version())
				}
				corr := tc.wantCorr
				if tc.wantCorrRID {
					corr = rid
				}
				assert.Equal(t, rid+"|"+corr, got)
			}
			got, header, err := testsvc.Call(ctx, e.conn, "x")
			require.NoError(t, err)
			check(got, header)
			vals, header, err := testsvc.CallStream(ctx, e.conn, "x")
			require.NoError(t, err)
			require.Len(t, vals, 1)
			check(vals[0], header)
		})
	}
}

func TestValidationHook(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	e := start(t, testsvc.Handlers{
		Unary: func(_ context.Context, req *testsvc.Request) (string, error) {
			calls.Add(1)
			return req.GetValue(), nil
		},
		Stream: func(_ context.Context, req *testsvc.Request, send func(string) error) error {
			calls.Add(1)
			return send(req.GetValue())
		},
	})
	_, _, err := testsvc.Call(asUser(t.Context()), e.conn, testsvc.InvalidValue)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Equal(t, []string{"value"}, violationFields(err))

	_, _, err = testsvc.CallStream(asUser(t.Context()), e.conn, testsvc.InvalidValue)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Equal(t, []string{"value"}, violationFields(err))
	assert.Zero(t, calls.Load(), "handlers must not see invalid requests")

	got, _, err := testsvc.Call(asUser(t.Context()), e.conn, "fine")
	require.NoError(t, err)
	assert.Equal(t, "fine", got)
}

func TestHandlerLogsCarryRequestFacts(t *testing.T) {
	t.Parallel()
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	var e *env
	e = start(t, testsvc.Handlers{Unary: func(ctx context.Context, _ *testsvc.Request) (string, error) {
		e.log.InfoContext(ctx, "lead qualified")
		return "", nil
	}}, func(o *grpcserver.Options) { o.OTel = []otelgrpc.Option{otelgrpc.WithTracerProvider(tp)} })

	_, header, err := testsvc.Call(asUser(t.Context()), e.conn, "x")
	require.NoError(t, err)
	var line map[string]any
	for l := range strings.Lines(e.logs.String()) {
		if strings.Contains(l, "lead qualified") {
			require.NoError(t, json.Unmarshal([]byte(l), &line))
		}
	}
	require.NotNil(t, line)
	assert.Equal(t, "acme", line["tenant_id"])
	assert.Equal(t, header.Get("x-request-id")[0], line["request_id"])
	assert.Len(t, line["trace_id"], 32)
	assert.Len(t, line["span_id"], 16)
}

func violationFields(err error) []string {
	var fields []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}
