package grpcserver_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/libs/platform/internal/testsvc"
)

// secret stands for internal detail (a DSN, a subject, another tenant's data) that must only
// ever reach the log.
const secret = "dsn=clickhouse://admin:hunter2@10.0.0.7"

func TestErrorMappingOverGRPC(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		err        error
		code       codes.Code
		msg        string // exact message; "" = check internal message instead
		reason     string
		existingID string
		fields     []apperr.FieldViolation
		internal   bool
	}{
		{name: "invalid with field violations",
			err:  apperr.InvalidFields("invalid lead", apperr.FieldViolation{Field: "lead.email", Description: "not an email"}, apperr.FieldViolation{Field: "lead.phone", Description: "too long"}),
			code: codes.InvalidArgument, msg: "invalid lead", reason: "INVALID",
			fields: []apperr.FieldViolation{{Field: "lead.email", Description: "not an email"}, {Field: "lead.phone", Description: "too long"}}},
		{name: "not found", err: apperr.NotFoundf("lead", "L1"), code: codes.NotFound, msg: `lead "L1" not found`, reason: "NOT_FOUND"},
		{name: "not found wrapped by fmt", err: fmt.Errorf("load: %w", apperr.NotFoundf("lead", "L1")), code: codes.NotFound, msg: `lead "L1" not found`, reason: "NOT_FOUND"},
		{name: "conflict", err: &apperr.Error{Kind: apperr.Conflict, Message: "lead changed concurrently", Reason: "CONCURRENT_MODIFICATION"},
			code: codes.Aborted, msg: "lead changed concurrently", reason: "CONCURRENT_MODIFICATION"},
		{name: "already exists", err: apperr.Exists("lead with this email exists", "L7"), code: codes.AlreadyExists,
			msg: "lead with this email exists", reason: "ALREADY_EXISTS", existingID: "L7"},
		{name: "failed precondition", err: apperr.Precondition("LEAD_ALREADY_CONVERTED", "lead %s is converted", "L1"),
			code: codes.FailedPrecondition, msg: "lead L1 is converted", reason: "LEAD_ALREADY_CONVERTED"},
		{name: "permission denied", err: apperr.New(apperr.PermissionDenied, "not your territory"), code: codes.PermissionDenied, msg: "not your territory", reason: "PERMISSION_DENIED"},
		{name: "unauthenticated", err: apperr.New(apperr.Unauthenticated, "token expired"), code: codes.Unauthenticated, msg: "token expired", reason: "UNAUTHENTICATED"},
		{name: "unavailable hides its cause", err: apperr.Wrap(apperr.Unavailable, errors.New(secret), "event store unavailable"),
			code: codes.Unavailable, msg: "event store unavailable", reason: "UNAVAILABLE"},
		{name: "canceled", err: fmt.Errorf("fold: %w", context.Canceled), code: codes.Canceled, msg: "request canceled"},
		{name: "deadline", err: context.DeadlineExceeded, code: codes.DeadlineExceeded, msg: "deadline exceeded"},
		{name: "grpc status passes through", err: status.Error(codes.ResourceExhausted, "slow down"), code: codes.ResourceExhausted, msg: "slow down"},
		{name: "plain error is internal", err: errors.New(secret), code: codes.Internal, internal: true},
		{name: "apperr kind internal", err: apperr.Wrap(apperr.Internal, errors.New(secret), "fold failed"), code: codes.Internal, internal: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, testsvc.Handlers{Unary: func(context.Context, *testsvc.Request) (string, error) { return "", tc.err }})
			_, header, err := testsvc.Call(asUser(t.Context()), e.conn, "x")
			require.Error(t, err)
			st := status.Convert(err)
			assert.Equal(t, tc.code, st.Code())
			assert.NotContains(t, st.Message(), secret)

			rid := header.Get("x-request-id")
			require.Len(t, rid, 1)
			if tc.internal {
				assert.Equal(t, "internal error, request id "+rid[0], st.Message())
				assert.Contains(t, e.logs.String(), secret, "the real error must be logged")
				assert.Contains(t, e.logs.String(), `"request_id":"`+rid[0]+`"`)
				return
			}
			assert.Equal(t, tc.msg, st.Message())
			assert.NotContains(t, e.logs.String(), "internal error", "classified errors are not server faults")

			// Decode the details the way a client does.
			var info *errdetails.ErrorInfo
			var fields []apperr.FieldViolation
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					info = d
				case *errdetails.BadRequest:
					for _, v := range d.GetFieldViolations() {
						fields = append(fields, apperr.FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
					}
				}
			}
			assert.Equal(t, tc.fields, fields)
			if tc.reason != "" {
				require.NotNil(t, info)
				assert.Equal(t, tc.reason, info.GetReason())
				assert.Equal(t, grpcerr.Domain, info.GetDomain())
				assert.Equal(t, tc.existingID, info.GetMetadata()[grpcerr.MetadataExistingID])
			}

			// A peer service's adapter gets the same apperr back.
			back := grpcerr.ToAppError(err)
			if ae, ok := apperr.As(back); ok && tc.reason != "" {
				assert.Equal(t, apperr.KindOf(tc.err), ae.Kind)
				assert.Equal(t, tc.fields, ae.Fields)
				assert.Equal(t, tc.existingID, ae.ExistingID)
			}
		})
	}
}

func TestMetricsCountMappedCodes(t *testing.T) {
	t.Parallel()
	e := start(t, testsvc.Handlers{Unary: func(context.Context, *testsvc.Request) (string, error) {
		return "", apperr.NotFoundf("lead", "L1")
	}})
	_, _, err := testsvc.Call(asUser(t.Context()), e.conn, "x")
	require.Equal(t, codes.NotFound, status.Code(err))

	mfs, err := e.reg.Gather()
	require.NoError(t, err)
	var handled float64
	for _, mf := range mfs {
		if mf.GetName() != "grpc_server_handled_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "grpc_method") == "Unary" && label(m, "grpc_code") == "NotFound" {
				handled += m.GetCounter().GetValue()
			}
		}
	}
	assert.Equal(t, 1.0, handled)
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
