package grpc

import (
	"context"

	"github.com/evcrm/evcrm/libs/apperr"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// CreateSegment implements campaignv1.CampaignServiceServer.
func (s *Server) CreateSegment(ctx context.Context, req *campaignv1.CreateSegmentRequest) (*campaignv1.CreateSegmentResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetSegment() == nil {
		return nil, apperr.InvalidFields("invalid segment", apperr.FieldViolation{Field: "segment", Description: "required"})
	}
	out, err := s.app.CreateSegment(ctx, t, protomap.SegmentFromProto(req.GetSegment()), write(req.GetOptions()))
	if err != nil {
		return nil, protomap.SegmentRequestError(err)
	}
	return &campaignv1.CreateSegmentResponse{Segment: protomap.SegmentToProto(out.Segment), Result: result(out.Result)}, nil
}

// GetSegment implements campaignv1.CampaignServiceServer.
func (s *Server) GetSegment(ctx context.Context, req *campaignv1.GetSegmentRequest) (*campaignv1.GetSegmentResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	g, err := s.app.GetSegment(ctx, t, req.GetSegmentId())
	if err != nil {
		return nil, err
	}
	return &campaignv1.GetSegmentResponse{Segment: protomap.SegmentToProto(g)}, nil
}

// UpdateSegment implements campaignv1.CampaignServiceServer.
func (s *Server) UpdateSegment(ctx context.Context, req *campaignv1.UpdateSegmentRequest) (*campaignv1.UpdateSegmentResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.app.UpdateSegment(ctx, t, req.GetSegmentId(), protomap.SegmentFromProto(req.GetSegment()),
		req.GetUpdateMask().GetPaths(), write(req.GetOptions()))
	if err != nil {
		return nil, protomap.SegmentRequestError(err)
	}
	return &campaignv1.UpdateSegmentResponse{Segment: protomap.SegmentToProto(out.Segment), Result: result(out.Result)}, nil
}

// DeleteSegment implements campaignv1.CampaignServiceServer.
func (s *Server) DeleteSegment(ctx context.Context, req *campaignv1.DeleteSegmentRequest) (*campaignv1.DeleteSegmentResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.app.DeleteSegment(ctx, t, req.GetSegmentId(), write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &campaignv1.DeleteSegmentResponse{Result: result(res)}, nil
}

// ListSegments implements campaignv1.CampaignServiceServer.
func (s *Server) ListSegments(ctx context.Context, req *campaignv1.ListSegmentsRequest) (*campaignv1.ListSegmentsResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	list, next, err := s.app.ListSegments(ctx, t, int(req.GetPageSize()), req.GetPageToken(), read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	out := &campaignv1.ListSegmentsResponse{NextPageToken: next}
	for _, g := range list {
		out.Segments = append(out.Segments, protomap.SegmentToProto(g))
	}
	return out, nil
}

// PreviewSegment implements campaignv1.CampaignServiceServer. Violations name the request's
// fields (criteria, object, sample_size).
func (s *Server) PreviewSegment(ctx context.Context, req *campaignv1.PreviewSegmentRequest) (*campaignv1.PreviewSegmentResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.app.PreviewSegment(ctx, t, app.SegmentQuery{SegmentID: req.GetSegmentId(), Criteria: req.GetCriteria(),
		Object: protomap.SegmentObjectFromProto(req.GetObject())}, int(req.GetSampleSize()))
	if err != nil {
		return nil, err
	}
	return &campaignv1.PreviewSegmentResponse{Count: p.Count, SampleIds: p.SampleIDs}, nil
}

// EnrollSegment implements campaignv1.CampaignServiceServer: one message per recorded page,
// the last one DONE. A failure ends the stream with its status; calling again resumes.
func (s *Server) EnrollSegment(req *campaignv1.EnrollSegmentRequest, stream campaignv1.CampaignService_EnrollSegmentServer) error {
	ctx := stream.Context()
	t, err := tenant(ctx)
	if err != nil {
		return err
	}
	_, err = s.app.EnrollSegment(ctx, t, req.GetCampaignId(), req.GetSegmentId(), func(e segment.Enrollment) error {
		return stream.Send(&campaignv1.EnrollSegmentResponse{Enrollment: protomap.EnrollmentToProto(e)})
	})
	return err
}
