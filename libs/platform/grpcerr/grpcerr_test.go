package grpcerr_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/libs/reqctx"
)

func TestToStatus(t *testing.T) {
	t.Parallel()
	ctx := reqctx.WithRequestID(context.Background(), "req-1")
	cases := []struct {
		name     string
		err      error
		code     codes.Code
		msg      string
		internal bool
	}{
		{"nil", nil, codes.OK, "", false},
		{"invalid", apperr.InvalidFields("bad", apperr.FieldViolation{Field: "f", Description: "d"}), codes.InvalidArgument, "bad", false},
		{"not found", apperr.NotFoundf("lead", "L1"), codes.NotFound, `lead "L1" not found`, false},
		{"conflict", apperr.New(apperr.Conflict, "stale"), codes.Aborted, "stale", false},
		{"already exists", apperr.Exists("dup", "L2"), codes.AlreadyExists, "dup", false},
		{"failed precondition", apperr.Precondition("WON", "won"), codes.FailedPrecondition, "won", false},
		{"permission denied", apperr.New(apperr.PermissionDenied, "no"), codes.PermissionDenied, "no", false},
		{"unauthenticated", apperr.New(apperr.Unauthenticated, "who"), codes.Unauthenticated, "who", false},
		{"unavailable", apperr.Wrap(apperr.Unavailable, errors.New("dial tcp 10.0.0.7"), "down"), codes.Unavailable, "down", false},
		{"empty message gets the kind", &apperr.Error{Kind: apperr.NotFound}, codes.NotFound, "not found", false},
		{"unknown kind is internal", &apperr.Error{Kind: apperr.Kind(99), Message: "x"}, codes.Internal, "internal error, request id req-1", true},
		{"canceled", context.Canceled, codes.Canceled, "request canceled", false},
		{"deadline wrapped", fmt.Errorf("load: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "deadline exceeded", false},
		{"apperr internal wrapping canceled is canceled", apperr.Wrap(apperr.Internal, context.Canceled, "x"), codes.Canceled, "request canceled", false},
		{"status", status.Error(codes.Unimplemented, "later"), codes.Unimplemented, "later", false},
		{"plain", errors.New("boom"), codes.Internal, "internal error, request id req-1", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := grpcerr.ToStatus(ctx, tc.err)
			assert.Equal(t, tc.code, st.Code())
			assert.Equal(t, tc.msg, st.Message())
			assert.Equal(t, tc.internal, grpcerr.IsInternal(tc.err))
		})
	}
}

func TestInternalWithoutRequestID(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "internal error", grpcerr.ToStatus(context.Background(), errors.New("x")).Message())
}

func TestToAppError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := apperr.InvalidFields("bad lead", apperr.FieldViolation{Field: "email", Description: "not an email"})
	back, ok := apperr.As(grpcerr.ToAppError(grpcerr.ToStatus(ctx, in).Err()))
	require.True(t, ok)
	assert.Equal(t, apperr.Invalid, back.Kind)
	assert.Equal(t, "bad lead", back.Message)
	assert.Equal(t, in.Fields, back.Fields)

	back, ok = apperr.As(grpcerr.ToAppError(grpcerr.ToStatus(ctx, apperr.Exists("dup", "L9")).Err()))
	require.True(t, ok)
	assert.Equal(t, apperr.AlreadyExists, back.Kind)
	assert.Equal(t, "L9", back.ExistingID)

	back, ok = apperr.As(grpcerr.ToAppError(grpcerr.ToStatus(ctx, apperr.Precondition("LEAD_CONVERTED", "converted")).Err()))
	require.True(t, ok)
	assert.Equal(t, "LEAD_CONVERTED", back.Reason)

	assert.ErrorIs(t, grpcerr.ToAppError(status.Error(codes.DeadlineExceeded, "slow")), context.DeadlineExceeded)
	assert.ErrorIs(t, grpcerr.ToAppError(status.Error(codes.Canceled, "gone")), context.Canceled)
	assert.Equal(t, apperr.Internal, apperr.KindOf(grpcerr.ToAppError(status.Error(codes.Unimplemented, "x"))))
	assert.NoError(t, grpcerr.ToAppError(nil))
	plain := errors.New("not a status")
	assert.Same(t, plain, grpcerr.ToAppError(plain))
}

func TestInterceptorLogsOnlyInternalErrors(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	icpt := grpcerr.UnaryServerInterceptor(logger)
	info := &grpc.UnaryServerInfo{FullMethod: "/crm.leads.v1.LeadsService/GetLead"}
	call := func(err error) error {
		_, got := icpt(context.Background(), nil, info, func(context.Context, any) (any, error) { return nil, err })
		return got
	}

	err := call(apperr.NotFoundf("lead", "L1"))
	assert.Equal(t, codes.NotFound, status.Code(err))
	assert.Empty(t, logs.String())

	err = call(errors.New("pq: password authentication failed"))
	assert.Equal(t, codes.Internal, status.Code(err))
	assert.NotContains(t, status.Convert(err).Message(), "password")
	assert.Contains(t, logs.String(), "pq: password authentication failed")
	assert.Contains(t, logs.String(), "GetLead")

	logs.Reset()
	err = call(apperr.Wrap(apperr.Unavailable, errors.New("nats: no servers available"), "event store unavailable"))
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Equal(t, "event store unavailable", status.Convert(err).Message())
	assert.Contains(t, logs.String(), "nats: no servers available", "operators need the cause the client does not see")

	assert.NoError(t, call(nil))
}

// A domain error becomes a status with machine-readable details a client can act on.
func ExampleToStatus() {
	err := apperr.InvalidFields("invalid lead",
		apperr.FieldViolation{Field: "lead.email", Description: "not an email address"})
	st := grpcerr.ToStatus(context.Background(), err)
	fmt.Println(st.Code(), st.Message())
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			fmt.Println("reason:", d.GetReason())
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fmt.Println("field:", v.GetField(), "-", v.GetDescription())
			}
		}
	}
	// Output:
	// InvalidArgument invalid lead
	// reason: INVALID
	// field: lead.email - not an email address
}

// An adapter calling another evcrm service turns the status back into the apperr vocabulary.
func ExampleToAppError() {
	fromPeer := grpcerr.ToStatus(context.Background(), apperr.Exists("lead exists", "L42")).Err()
	e, _ := apperr.As(grpcerr.ToAppError(fromPeer))
	fmt.Println(e.Kind, e.ExistingID)
	// Output: already_exists L42
}
