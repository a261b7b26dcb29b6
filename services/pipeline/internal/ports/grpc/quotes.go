package grpc

import (
	"context"

	"github.com/evcrm/evcrm/libs/apperr"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/app"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

// quoteOf returns version v (0 = the latest) of quote id of o in its wire form.
func quoteOf(o opportunity.Opportunity, id string, v uint32) (*pipelinev1.Quote, error) {
	q, ok := o.Quote(id)
	if v != 0 {
		q, ok = o.QuoteVersion(id, v)
	}
	if !ok {
		return nil, &apperr.Error{Kind: apperr.NotFound, Reason: "QUOTE_NOT_FOUND", Message: "quote " + id + " not found"}
	}
	return protomap.QuoteToProto(o.ID, q)
}

// quoteCommand runs a command on a quote of an opportunity and replies with that quote as the
// command left it.
func quoteCommand(ctx context.Context, o *commonv1.WriteOptions, quoteID string, do func(caller, app.Write) (app.OpportunityOutcome, error)) (*pipelinev1.Quote, app.OpportunityOutcome, error) {
	c, w, err := command(ctx, o)
	if err != nil {
		return nil, app.OpportunityOutcome{}, err
	}
	out, err := do(c, w)
	if err != nil {
		return nil, app.OpportunityOutcome{}, err
	}
	q, err := quoteOf(out.State, quoteID, 0)
	return q, out, err
}

func (s *Server) CreateQuote(ctx context.Context, req *pipelinev1.CreateQuoteRequest) (*pipelinev1.CreateQuoteResponse, error) {
	d, err := protomap.QuoteDraftFromProto(req, req.GetQuote().GetQuoteId())
	if err != nil {
		return nil, err
	}
	c, w, err := command(ctx, req.GetOptions())
	if err != nil {
		return nil, err
	}
	out, id, err := s.app.CreateQuote(ctx, c.tenant, req.GetOpportunityId(), d, w)
	if err != nil {
		return nil, protomap.RequestError(req, err)
	}
	q, err := quoteOf(out.State, id, 0)
	if err != nil {
		return nil, err
	}
	return &pipelinev1.CreateQuoteResponse{Quote: q, Result: result(out.Result)}, nil
}

func (s *Server) ReviseQuote(ctx context.Context, req *pipelinev1.ReviseQuoteRequest) (*pipelinev1.ReviseQuoteResponse, error) {
	d, err := protomap.QuoteRevisionFromProto(req)
	if err != nil {
		return nil, err
	}
	q, out, err := quoteCommand(ctx, req.GetOptions(), d.QuoteID, func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		out, err := s.app.ReviseQuote(ctx, c.tenant, req.GetOpportunityId(), d, w)
		return out, protomap.RequestError(req, err)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.ReviseQuoteResponse{Quote: q, Result: result(out.Result)}, nil
}

func (s *Server) SendQuote(ctx context.Context, req *pipelinev1.SendQuoteRequest) (*pipelinev1.SendQuoteResponse, error) {
	q, out, err := quoteCommand(ctx, req.GetOptions(), req.GetQuoteId(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		return s.app.SendQuote(ctx, c.tenant, req.GetOpportunityId(), protomap.QuoteRefFromProto(req), w)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.SendQuoteResponse{Quote: q, Result: result(out.Result)}, nil
}

func (s *Server) AcceptQuote(ctx context.Context, req *pipelinev1.AcceptQuoteRequest) (*pipelinev1.AcceptQuoteResponse, error) {
	q, out, err := quoteCommand(ctx, req.GetOptions(), req.GetQuoteId(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		return s.app.AcceptQuote(ctx, c.tenant, req.GetOpportunityId(), protomap.QuoteRefFromProto(req), w)
	})
	if err != nil {
		return nil, err
	}
	o, err := protomap.OpportunityToProto(out.State)
	if err != nil {
		return nil, err
	}
	return &pipelinev1.AcceptQuoteResponse{Quote: q, Opportunity: o, Result: result(out.Result)}, nil
}

func (s *Server) RejectQuote(ctx context.Context, req *pipelinev1.RejectQuoteRequest) (*pipelinev1.RejectQuoteResponse, error) {
	q, out, err := quoteCommand(ctx, req.GetOptions(), req.GetQuoteId(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		return s.app.RejectQuote(ctx, c.tenant, req.GetOpportunityId(), protomap.QuoteRefFromProto(req), req.GetReason(), w)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.RejectQuoteResponse{Quote: q, Result: result(out.Result)}, nil
}

func (s *Server) GetQuote(ctx context.Context, req *pipelinev1.GetQuoteRequest) (*pipelinev1.GetQuoteResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	o, err := s.app.GetOpportunity(ctx, c.tenant, req.GetOpportunityId(), readOf(req.GetRead()))
	if err != nil {
		return nil, err
	}
	q, err := quoteOf(o, req.GetQuoteId(), req.GetVersion())
	if err != nil {
		return nil, err
	}
	return &pipelinev1.GetQuoteResponse{Quote: q}, nil
}

func (s *Server) ListQuotes(ctx context.Context, req *pipelinev1.ListQuotesRequest) (*pipelinev1.ListQuotesResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	o, err := s.app.GetOpportunity(ctx, c.tenant, req.GetOpportunityId(), readOf(req.GetRead()))
	if err != nil {
		return nil, err
	}
	qs, err := protomap.QuotesToProto(o.ID, o.Quotes)
	if err != nil {
		return nil, err
	}
	return &pipelinev1.ListQuotesResponse{Quotes: qs}, nil
}
