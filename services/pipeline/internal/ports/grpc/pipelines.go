package grpc

import (
	"context"

	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
)

func (s *Server) CreatePipeline(ctx context.Context, req *pipelinev1.CreatePipelineRequest) (*pipelinev1.CreatePipelineResponse, error) {
	p, err := protomap.NewPipelineFromProto(req)
	if err != nil {
		return nil, err
	}
	c, w, err := command(ctx, req.GetOptions())
	if err != nil {
		return nil, err
	}
	out, err := s.app.CreatePipeline(ctx, c.tenant, p, w)
	if err != nil {
		return nil, protomap.RequestError(req, err)
	}
	return &pipelinev1.CreatePipelineResponse{Pipeline: protomap.PipelineStateToProto(out.State), Result: result(out.Result)}, nil
}

func (s *Server) GetPipeline(ctx context.Context, req *pipelinev1.GetPipelineRequest) (*pipelinev1.GetPipelineResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.app.GetPipeline(ctx, c.tenant, req.GetPipelineId())
	if err != nil {
		return nil, err
	}
	return &pipelinev1.GetPipelineResponse{Pipeline: protomap.PipelineStateToProto(st)}, nil
}

func (s *Server) ListPipelines(ctx context.Context, req *pipelinev1.ListPipelinesRequest) (*pipelinev1.ListPipelinesResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	f, err := protomap.PipelineFilterFromProto(req)
	if err != nil {
		return nil, err
	}
	list, next, err := s.app.ListPipelines(ctx, c.tenant, f.IncludeArchived, f.PageSize, f.PageToken, readOf(req.GetRead()))
	if err != nil {
		return nil, err
	}
	resp := &pipelinev1.ListPipelinesResponse{NextPageToken: next}
	for _, st := range list {
		resp.Pipelines = append(resp.Pipelines, protomap.PipelineStateToProto(st))
	}
	return resp, nil
}

func (s *Server) UpdatePipeline(ctx context.Context, req *pipelinev1.UpdatePipelineRequest) (*pipelinev1.UpdatePipelineResponse, error) {
	p, err := protomap.PipelineRevisionFromProto(req)
	if err != nil {
		return nil, err
	}
	c, w, err := command(ctx, req.GetOptions())
	if err != nil {
		return nil, err
	}
	out, err := s.app.UpdatePipeline(ctx, c.tenant, p, w)
	if err != nil {
		return nil, err
	}
	return &pipelinev1.UpdatePipelineResponse{Pipeline: protomap.PipelineStateToProto(out.State), Result: result(out.Result)}, nil
}

func (s *Server) ArchivePipeline(ctx context.Context, req *pipelinev1.ArchivePipelineRequest) (*pipelinev1.ArchivePipelineResponse, error) {
	c, w, err := command(ctx, req.GetOptions())
	if err != nil {
		return nil, err
	}
	out, err := s.app.ArchivePipeline(ctx, c.tenant, req.GetPipelineId(), w)
	if err != nil {
		return nil, err
	}
	return &pipelinev1.ArchivePipelineResponse{Pipeline: protomap.PipelineStateToProto(out.State), Result: result(out.Result)}, nil
}

func (s *Server) GetPipelineConfig(ctx context.Context, _ *pipelinev1.GetPipelineConfigRequest) (*pipelinev1.GetPipelineConfigResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.app.GetConfig(ctx, c.tenant)
	if err != nil {
		return nil, err
	}
	return &pipelinev1.GetPipelineConfigResponse{Config: protomap.ConfigToProto(st)}, nil
}

func (s *Server) UpdatePipelineConfig(ctx context.Context, req *pipelinev1.UpdatePipelineConfigRequest) (*pipelinev1.UpdatePipelineConfigResponse, error) {
	cfg, err := protomap.ConfigUpdateFromProto(req)
	if err != nil {
		return nil, err
	}
	c, w, err := command(ctx, req.GetOptions())
	if err != nil {
		return nil, err
	}
	out, err := s.app.UpdateConfig(ctx, c.tenant, cfg, w)
	if err != nil {
		return nil, protomap.RequestError(req, err)
	}
	return &pipelinev1.UpdatePipelineConfigResponse{Config: protomap.ConfigToProto(out.State), Result: result(out.Result)}, nil
}
