package grpc

import (
	"context"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/app"
)

// contractCommand runs a command that yields a contract and maps its outcome.
func contractCommand(ctx context.Context, o *commonv1.WriteOptions, do func(caller, app.Write) (app.ContractOutcome, error)) (*pipelinev1.Contract, *commonv1.WriteResult, error) {
	c, w, err := command(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	out, err := do(c, w)
	if err != nil {
		return nil, nil, err
	}
	p, err := protomap.ContractToProto(out.State)
	if err != nil {
		return nil, nil, err
	}
	return p, result(out.Result), nil
}

func (s *Server) CreateContract(ctx context.Context, req *pipelinev1.CreateContractRequest) (*pipelinev1.CreateContractResponse, error) {
	cmd, err := protomap.NewContractFromProto(req, req.GetContract().GetId())
	if err != nil {
		return nil, err
	}
	p, r, err := contractCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.ContractOutcome, error) {
		out, err := s.app.CreateContract(ctx, c.tenant, cmd, w)
		return out, protomap.RequestError(req, err)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.CreateContractResponse{Contract: p, Result: r}, nil
}

func (s *Server) GetContract(ctx context.Context, req *pipelinev1.GetContractRequest) (*pipelinev1.GetContractResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	got, err := s.app.GetContract(ctx, c.tenant, req.GetContractId(), readOf(req.GetRead()))
	if err != nil {
		return nil, err
	}
	p, err := protomap.ContractToProto(got)
	if err != nil {
		return nil, err
	}
	return &pipelinev1.GetContractResponse{Contract: p}, nil
}

func (s *Server) UpdateContract(ctx context.Context, req *pipelinev1.UpdateContractRequest) (*pipelinev1.UpdateContractResponse, error) {
	upd, err := protomap.ContractUpdateFromProto(req)
	if err != nil {
		return nil, err
	}
	p, r, err := contractCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.ContractOutcome, error) {
		out, err := s.app.UpdateContract(ctx, c.tenant, req.GetContractId(), upd, w)
		return out, protomap.RequestError(req, err)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.UpdateContractResponse{Contract: p, Result: r}, nil
}

func (s *Server) ActivateContract(ctx context.Context, req *pipelinev1.ActivateContractRequest) (*pipelinev1.ActivateContractResponse, error) {
	p, r, err := contractCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.ContractOutcome, error) {
		return s.app.ActivateContract(ctx, c.tenant, req.GetContractId(), w)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.ActivateContractResponse{Contract: p, Result: r}, nil
}

func (s *Server) TerminateContract(ctx context.Context, req *pipelinev1.TerminateContractRequest) (*pipelinev1.TerminateContractResponse, error) {
	cmd, err := protomap.TerminationFromProto(req)
	if err != nil {
		return nil, err
	}
	p, r, err := contractCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.ContractOutcome, error) {
		return s.app.TerminateContract(ctx, c.tenant, req.GetContractId(), cmd, w)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.TerminateContractResponse{Contract: p, Result: r}, nil
}

func (s *Server) RenewContract(ctx context.Context, req *pipelinev1.RenewContractRequest) (*pipelinev1.RenewContractResponse, error) {
	cmd, err := protomap.RenewalFromProto(req)
	if err != nil {
		return nil, err
	}
	p, r, err := contractCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.ContractOutcome, error) {
		out, err := s.app.RenewContract(ctx, c.tenant, req.GetContractId(), cmd, w)
		return out, protomap.RequestError(req, err)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.RenewContractResponse{Contract: p, Result: r}, nil
}

func (s *Server) ListContracts(ctx context.Context, req *pipelinev1.ListContractsRequest) (*pipelinev1.ListContractsResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	f, err := protomap.ContractFilterFromProto(req)
	if err != nil {
		return nil, err
	}
	list, next, err := s.app.ListContracts(ctx, c.tenant, contractFilter(f), app.Read(f.Read))
	if err != nil {
		return nil, err
	}
	resp := &pipelinev1.ListContractsResponse{NextPageToken: next}
	for _, k := range list {
		p, err := protomap.ContractToProto(k)
		if err != nil {
			return nil, err
		}
		resp.Contracts = append(resp.Contracts, p)
	}
	return resp, nil
}
