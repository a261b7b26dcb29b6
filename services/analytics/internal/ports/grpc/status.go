package grpc

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	"github.com/evcrm/evcrm/services/analytics/internal/app"
)

// GetProjectionStatus reports, per stream, the last sequence, the projected sequence (the
// consumer's ack floor), the events pending and the age of the oldest of them.
func (s *Server) GetProjectionStatus(ctx context.Context, _ *analyticsv1.GetProjectionStatusRequest) (*analyticsv1.GetProjectionStatusResponse, error) {
	st, err := s.app.ProjectionStatus(ctx)
	if err != nil {
		return nil, err
	}
	return &analyticsv1.GetProjectionStatusResponse{Streams: streamStatuses(st.Streams), Rebuilding: st.Rebuilding}, nil
}

// Rebuild rebuilds every table and streams the progress; the last message has done set. A
// client that goes away cancels the rebuild (the current tables stay as they were).
func (s *Server) Rebuild(_ *analyticsv1.RebuildRequest, stream analyticsv1.AnalyticsService_RebuildServer) error {
	ctx := stream.Context()
	var sendErr error
	err := s.app.Rebuild(ctx, func(p app.RebuildProgress) {
		if sendErr != nil {
			return
		}
		sendErr = stream.Send(&analyticsv1.RebuildResponse{Streams: streamStatuses(p.Streams), Done: p.Done})
	})
	if err != nil {
		return err
	}
	return sendErr
}

func streamStatuses(sts []app.StreamStatus) []*analyticsv1.StreamStatus {
	out := make([]*analyticsv1.StreamStatus, len(sts))
	for i, st := range sts {
		out[i] = &analyticsv1.StreamStatus{Stream: st.Stream, LastSequence: st.LastSequence,
			ProjectedSequence: st.ProjectedSequence, Pending: st.Pending, Lag: durationpb.New(st.Lag)}
	}
	return out
}
