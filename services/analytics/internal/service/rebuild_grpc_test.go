package service_test

import (
	"errors"
	"io"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
	analyticsgrpc "github.com/evcrm/evcrm/services/analytics/internal/ports/grpc"
)

// Rebuild and GetProjectionStatus through gRPC, with two replicas of the service on the same
// database: the status reports every stream projected, a rebuild streams progress to a final
// done message, a second rebuild asked of the other replica meanwhile is refused with
// FailedPrecondition (the lease in JetStream, not only the process's flag), and the answers
// after the rebuild are the answers before it.
func TestRebuildAndStatusOverGRPC(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.SharedClickHouse(t))
	e.salesHistory()
	a, stopA := e.start()
	defer stopA()
	b, stopB := e.start()
	defer stopB()
	waitProjected(t, a.App)
	before := snapshot(t, a, tenantA)

	ga := testkit.StartGRPC(t, func(s *grpcserver.Server) { analyticsgrpc.Register(s, a.App) })
	gb := testkit.StartGRPC(t, func(s *grpcserver.Server) { analyticsgrpc.Register(s, b.App) })
	ca, cb := analyticsv1.NewAnalyticsServiceClient(ga.Conn), analyticsv1.NewAnalyticsServiceClient(gb.Conn)
	ctx := testkit.As(t, tenantA, "admin")

	st, err := ca.GetProjectionStatus(ctx, &analyticsv1.GetProjectionStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for _, s := range st.GetStreams() {
		if s.GetProjectedSequence() != s.GetLastSequence() || s.GetPending() != 0 {
			t.Errorf("status of %s before the rebuild: projected %d of %d, pending %d", s.GetStream(),
				s.GetProjectedSequence(), s.GetLastSequence(), s.GetPending())
		}
		last += s.GetLastSequence()
	}
	if len(st.GetStreams()) != 3 || int(last) != e.n || st.GetRebuilding() {
		t.Fatalf("status before the rebuild: %v (history: %d events)", st, e.n)
	}

	stream, err := ca.Rebuild(ctx, &analyticsv1.RebuildRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatalf("first progress message: %v", err)
	}
	// The other replica is asked while the first rebuild holds the lease.
	other, err := cb.Rebuild(ctx, &analyticsv1.RebuildRequest{})
	if err == nil {
		_, err = other.Recv()
	}
	if status.Code(err) != codes.FailedPrecondition || reason(err) != "REBUILD_RUNNING" {
		t.Errorf("second rebuild on the other replica: %v, want FailedPrecondition REBUILD_RUNNING", err)
	}
	// The other replica's status tells the rebuild too (it reads the lease).
	if st, err := cb.GetProjectionStatus(ctx, &analyticsv1.GetProjectionStatusRequest{}); err != nil || !st.GetRebuilding() {
		t.Errorf("the other replica's status during the rebuild: %v, %v; want rebuilding", st, err)
	}
	msgs := []*analyticsv1.RebuildResponse{first}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rebuild stream: %v", err)
		}
		msgs = append(msgs, m)
	}
	end := msgs[len(msgs)-1]
	if !end.GetDone() {
		t.Fatalf("last of %d progress messages is not done: %v", len(msgs), end)
	}
	for _, s := range end.GetStreams() {
		if s.GetProjectedSequence() != s.GetLastSequence() {
			t.Errorf("final progress of %s: %d of %d", s.GetStream(), s.GetProjectedSequence(), s.GetLastSequence())
		}
	}
	for _, c := range []analyticsv1.AnalyticsServiceClient{ca, cb} {
		if st, err := c.GetProjectionStatus(ctx, &analyticsv1.GetProjectionStatusRequest{}); err != nil || st.GetRebuilding() {
			t.Errorf("status after the rebuild: %v, %v", st, err)
		}
	}
	waitProjected(t, a.App)
	sameAnswers(t, "after the rebuild", before, snapshot(t, a, tenantA))

	// The lease is free again: the other replica may rebuild now.
	again, err := cb.Rebuild(ctx, &analyticsv1.RebuildRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		m, err := again.Recv()
		if err != nil {
			t.Fatalf("rebuild on the other replica after the first: %v", err)
		}
		if m.GetDone() {
			break
		}
	}
}

// reason is the ErrorInfo reason of a gRPC error ("" without one).
func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}
