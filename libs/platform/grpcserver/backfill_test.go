package grpcserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/internal/testsvc"
	"github.com/evcrm/evcrm/libs/reqctx"
)

func TestBackfill(t *testing.T) {
	t.Parallel()
	// Both handlers answer with the business clock of the call, so the test sees what the
	// service would stamp on its events.
	h := testsvc.Handlers{
		Unary: func(ctx context.Context, _ *testsvc.Request) (string, error) {
			return reqctx.Now(ctx, nil).Format(time.RFC3339Nano), nil
		},
		Stream: func(ctx context.Context, _ *testsvc.Request, send func(string) error) error {
			return send(reqctx.Now(ctx, nil).Format(time.RFC3339Nano))
		},
	}
	enabled := start(t, h, func(o *grpcserver.Options) { o.AllowBackfill = true })
	disabled := start(t, h)
	past := "2026-03-04T05:06:07.5+01:00"
	pastUTC := "2026-03-04T04:06:07.5Z"
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)

	cases := []struct {
		name  string
		env   *env
		md    []string
		code  codes.Code
		field string
		want  string // the handler's clock; "" = the wall clock
	}{
		{name: "absent", env: enabled, code: codes.OK},
		{name: "absent on disabled service", env: disabled, code: codes.OK},
		{name: "past", env: enabled, md: []string{grpcserver.MetadataBackfillTime, past}, code: codes.OK, want: pastUTC},
		{name: "same value twice", env: enabled, md: []string{grpcserver.MetadataBackfillTime, past, grpcserver.MetadataBackfillTime, past}, code: codes.OK, want: pastUTC},
		{name: "disabled", env: disabled, md: []string{grpcserver.MetadataBackfillTime, past}, code: codes.FailedPrecondition},
		{name: "future", env: enabled, md: []string{grpcserver.MetadataBackfillTime, future}, code: codes.InvalidArgument, field: grpcserver.MetadataBackfillTime},
		{name: "not a time", env: enabled, md: []string{grpcserver.MetadataBackfillTime, "yesterday"}, code: codes.InvalidArgument, field: grpcserver.MetadataBackfillTime},
		{name: "two different times", env: enabled, md: []string{grpcserver.MetadataBackfillTime, past, grpcserver.MetadataBackfillTime, pastUTC[:10] + "T00:00:00Z"}, code: codes.InvalidArgument, field: grpcserver.MetadataBackfillTime},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := asUser(t.Context(), tc.md...)
			check := func(kind, got string, err error) {
				assert.Equal(t, tc.code, status.Code(err), "%s: %v", kind, err)
				if tc.field != "" {
					assert.Equal(t, []string{tc.field}, violationFields(err), kind)
				}
				if tc.code != codes.OK {
					return
				}
				if tc.want != "" {
					assert.Equal(t, tc.want, got, kind)
					return
				}
				at, perr := time.Parse(time.RFC3339Nano, got)
				if assert.NoError(t, perr, kind) {
					assert.WithinDuration(t, time.Now(), at, time.Minute, kind)
				}
			}
			got, _, err := testsvc.Call(ctx, tc.env.conn, "x")
			check("unary", got, err)
			sent, _, err := testsvc.CallStream(ctx, tc.env.conn, "x")
			var first string
			if len(sent) > 0 {
				first = sent[0]
			}
			check("stream", first, err)
		})
	}
}
