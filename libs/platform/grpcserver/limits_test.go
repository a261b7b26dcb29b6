package grpcserver_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/internal/testsvc"
)

func TestMaxRequestBytes(t *testing.T) {
	t.Parallel()
	t.Run("default is 4 MiB", func(t *testing.T) {
		t.Parallel()
		e := start(t, testsvc.Handlers{})
		got, _, err := testsvc.Call(asUser(t.Context()), e.conn, strings.Repeat("a", grpcserver.DefaultMaxRequestBytes-64))
		require.NoError(t, err)
		assert.Len(t, got, grpcserver.DefaultMaxRequestBytes-64)
		_, _, err = testsvc.Call(asUser(t.Context()), e.conn, strings.Repeat("a", grpcserver.DefaultMaxRequestBytes+1))
		assert.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
	})
	t.Run("configured", func(t *testing.T) {
		t.Parallel()
		e := start(t, testsvc.Handlers{}, func(o *grpcserver.Options) { o.MaxRequestBytes = 1024 })
		_, _, err := testsvc.Call(asUser(t.Context()), e.conn, strings.Repeat("a", 1000))
		require.NoError(t, err)
		_, _, err = testsvc.Call(asUser(t.Context()), e.conn, strings.Repeat("a", 1100))
		assert.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
		_, _, err = testsvc.CallStream(asUser(t.Context()), e.conn, strings.Repeat("a", 1100))
		assert.Equal(t, codes.ResourceExhausted, status.Code(err), "stream: %v", err)
		// The connection survives a refused message.
		_, _, err = testsvc.Call(asUser(t.Context()), e.conn, "small")
		require.NoError(t, err)
	})
	t.Run("negative refused", func(t *testing.T) {
		t.Parallel()
		_, err := grpcserver.New(grpcserver.Options{Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry(),
			Authenticator: grpcauth.Dev{}, MaxRequestBytes: -1})
		require.ErrorContains(t, err, "negative")
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	// A token every 2 seconds, 3 at once: the 4th call within the test's moments is refused,
	// with room for a slow, loaded machine.
	limited := func(o *grpcserver.Options) { o.RateLimit = grpcserver.RateLimit{Rate: 0.5, Burst: 3} }
	retryOf := func(t *testing.T, err error) time.Duration {
		t.Helper()
		require.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
		var retry *errdetails.RetryInfo
		var info *errdetails.ErrorInfo
		for _, d := range status.Convert(err).Details() {
			switch d := d.(type) {
			case *errdetails.RetryInfo:
				retry = d
			case *errdetails.ErrorInfo:
				info = d
			}
		}
		require.NotNil(t, retry, "RetryInfo detail")
		require.NotNil(t, info, "ErrorInfo detail")
		assert.Equal(t, grpcserver.ReasonRateLimited, info.GetReason())
		return retry.GetRetryDelay().AsDuration()
	}

	t.Run("per principal, with RetryInfo", func(t *testing.T) {
		t.Parallel()
		e := start(t, testsvc.Handlers{}, limited)
		alice := asUser(t.Context())
		for i := range 3 {
			_, _, err := testsvc.Call(alice, e.conn, "x")
			require.NoError(t, err, "call %d", i)
		}
		_, _, err := testsvc.Call(alice, e.conn, "x")
		delay := retryOf(t, err)
		assert.Greater(t, delay, time.Second)
		assert.LessOrEqual(t, delay, 2*time.Second)

		// Streams count too.
		_, _, err = testsvc.CallStream(alice, e.conn, "x")
		assert.Equal(t, codes.ResourceExhausted, status.Code(err), "stream: %v", err)

		// Another subject of the same tenant, and the same subject in another tenant, have
		// their own buckets.
		bob := metadata.AppendToOutgoingContext(t.Context(), "x-tenant-id", "acme", "x-user-id", "u-2")
		_, _, err = testsvc.Call(bob, e.conn, "x")
		require.NoError(t, err)
		other := metadata.AppendToOutgoingContext(t.Context(), "x-tenant-id", "globex", "x-user-id", "u-1")
		_, _, err = testsvc.Call(other, e.conn, "x")
		require.NoError(t, err)

		// Health is exempt.
		for range 10 {
			_, err := healthpb.NewHealthClient(e.conn).Check(alice, &healthpb.HealthCheckRequest{})
			require.NoError(t, err)
		}
	})
	t.Run("refused calls spend nothing; the advised delay is enough", func(t *testing.T) {
		t.Parallel()
		e := start(t, testsvc.Handlers{}, func(o *grpcserver.Options) { o.RateLimit = grpcserver.RateLimit{Rate: 1, Burst: 1} })
		ctx := asUser(t.Context())
		_, _, err := testsvc.Call(ctx, e.conn, "x")
		require.NoError(t, err)
		var delay time.Duration
		for range 10 {
			_, _, err = testsvc.Call(ctx, e.conn, "x")
			delay = retryOf(t, err)
		}
		// Had the ten refusals spent tokens, the next one would be ten seconds away.
		assert.LessOrEqual(t, delay, time.Second)
		time.Sleep(delay)
		_, _, err = testsvc.Call(ctx, e.conn, "x")
		require.NoError(t, err)
	})
	t.Run("unauthenticated calls are refused before the limit", func(t *testing.T) {
		t.Parallel()
		e := start(t, testsvc.Handlers{}, limited)
		for range 5 {
			_, _, err := testsvc.Call(t.Context(), e.conn, "x")
			require.Equal(t, codes.Unauthenticated, status.Code(err))
		}
	})
	t.Run("off by default", func(t *testing.T) {
		t.Parallel()
		e := start(t, testsvc.Handlers{})
		for i := range 50 {
			_, _, err := testsvc.Call(asUser(t.Context()), e.conn, "x")
			require.NoError(t, err, "call %d", i)
		}
	})
}
