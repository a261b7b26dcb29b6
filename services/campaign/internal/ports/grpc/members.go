package grpc

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/libs/protoconv"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
)

// AddMembers implements campaignv1.CampaignServiceServer.
func (s *Server) AddMembers(ctx context.Context, req *campaignv1.AddMembersRequest) (*campaignv1.AddMembersResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	var v apperr.Violations
	people := make([]app.Person, len(req.GetPeople()))
	for i, p := range req.GetPeople() {
		typ, id := protomap.MemberRefFromProto(p, fmt.Sprintf("people[%d]", i), &v)
		people[i] = app.Person{Type: typ, ID: id}
	}
	if err := v.Err("invalid members"); err != nil {
		return nil, err
	}
	rs, res, err := s.app.AddMembers(ctx, t, req.GetCampaignId(), people, "manual", write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	out := &campaignv1.AddMembersResponse{Result: result(res)}
	for i, r := range rs {
		out.Results = append(out.Results, &campaignv1.AddMemberResult{Person: req.GetPeople()[i],
			Outcome: campaignv1.AddMemberOutcome(r.Outcome), MemberId: r.MemberID, Reason: r.Reason})
	}
	return out, nil
}

// ListMembers implements campaignv1.CampaignServiceServer.
func (s *Server) ListMembers(ctx context.Context, req *campaignv1.ListMembersRequest) (*campaignv1.ListMembersResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	ms, next, err := s.app.ListMembers(ctx, t, app.MemberFilter{CampaignID: req.GetCampaignId(), Statuses: req.GetStatuses(),
		RespondedOnly: req.GetRespondedOnly(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	out := &campaignv1.ListMembersResponse{NextPageToken: next}
	for _, m := range ms {
		out.Members = append(out.Members, protomap.MemberToProto(m))
	}
	return out, nil
}

// GetMemberHistory implements campaignv1.CampaignServiceServer.
func (s *Server) GetMemberHistory(ctx context.Context, req *campaignv1.GetMemberHistoryRequest) (*campaignv1.GetMemberHistoryResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	var v apperr.Violations
	typ, id := protomap.MemberRefFromProto(req.GetPerson(), "person", &v)
	if err := v.Err("invalid member history query"); err != nil {
		return nil, err
	}
	ms, ts, err := s.app.MemberHistory(ctx, t, typ, id, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	out := &campaignv1.GetMemberHistoryResponse{}
	for _, m := range ms {
		out.Memberships = append(out.Memberships, protomap.MemberToProto(m))
	}
	for _, tc := range ts {
		out.Touches = append(out.Touches, &campaignv1.Touch{CampaignId: tc.CampaignID, Channel: campaignv1.CampaignChannel(tc.Channel),
			Status: tc.Status, Kind: protomap.KindToProto(tc.Kind), Responded: tc.Responded, At: protoconv.Timestamp(tc.At)})
	}
	return out, nil
}

// RecordResponse implements campaignv1.CampaignServiceServer.
func (s *Server) RecordResponse(ctx context.Context, req *campaignv1.RecordResponseRequest) (*campaignv1.RecordResponseResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	r, err := responseFromProto(req.GetResponse())
	if err != nil {
		return nil, err
	}
	mr, err := s.app.RecordResponse(ctx, t, r, write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &campaignv1.RecordResponseResponse{Member: protomap.MemberToProto(mr.Member), Result: result(mr.Result)}, nil
}

func responseFromProto(p *campaignv1.Response) (app.Response, error) {
	in, err := protomap.ResponseFromProto(p)
	if err != nil {
		return app.Response{}, err
	}
	return app.Response(in), nil
}

// RecordResponses implements campaignv1.CampaignServiceServer. Batches are recorded one after
// the other (so responses of one member keep their order across batches), while the next batch
// is received and decoded; one summary answers the stream.
func (s *Server) RecordResponses(stream campaignv1.CampaignService_RecordResponsesServer) error {
	ctx := stream.Context()
	t, err := tenant(ctx)
	if err != nil {
		return err
	}
	type outcome struct {
		res app.BatchResult
		bad map[int]apperr.FieldViolation
		err error
	}
	out := &campaignv1.RecordResponsesResponse{}
	var last eventstore.Result
	var inflight chan outcome
	batchNo := int32(-1)
	collect := func() error {
		if inflight == nil {
			return nil
		}
		o := <-inflight
		inflight = nil
		if o.err != nil {
			return o.err
		}
		out.Accepted += o.res.Accepted
		out.Duplicates += o.res.Duplicates
		out.Rejected += o.res.Rejected
		for _, e := range o.res.Errors {
			if f, ok := o.bad[e.Index]; ok {
				e.Field, e.Description = f.Field, f.Description
			}
			if len(out.Errors) < app.MaxBatchErrors {
				out.Errors = append(out.Errors, &campaignv1.ResponseError{Batch: batchNo, Index: int32(e.Index), Field: e.Field, Description: e.Description})
			}
		}
		if o.res.Last.Position.Sequence > last.Position.Sequence {
			last = o.res.Last
		}
		return nil
	}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = collect()
			return err
		}
		b, bad := batchFromProto(req)
		if err := collect(); err != nil {
			return err
		}
		batchNo++
		done := make(chan outcome, 1)
		inflight = done
		go func() {
			res, err := s.app.RecordResponses(ctx, t, b)
			done <- outcome{res: res, bad: bad, err: err}
		}()
	}
	if err := collect(); err != nil {
		return err
	}
	out.Result = result(last)
	return stream.SendAndClose(out)
}

// batchFromProto maps one batch; responses that do not map keep their slot (so indexes and
// idempotency keys stay the request's) as empty responses the app rejects, and bad says why.
func batchFromProto(req *campaignv1.RecordResponsesRequest) (app.Batch, map[int]apperr.FieldViolation) {
	b := app.Batch{ID: req.GetBatchId(), Responses: make([]app.Response, len(req.GetResponses()))}
	bad := map[int]apperr.FieldViolation{}
	for i, p := range req.GetResponses() {
		r, err := responseFromProto(p)
		if e, ok := apperr.As(err); ok && len(e.Fields) > 0 {
			bad[i] = e.Fields[0]
			r = app.Response{}
		}
		b.Responses[i] = r
	}
	return b, bad
}
