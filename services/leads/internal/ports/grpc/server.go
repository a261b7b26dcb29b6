// Package grpc is the leads service's gRPC port: it maps crm.leads.v1 requests to application
// commands and queries and the results back. Errors are apperr values; the platform's error
// interceptor turns them into statuses.
package grpc

import (
	"context"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// Server implements leadsv1.LeadsServiceServer.
type Server struct {
	leadsv1.UnimplementedLeadsServiceServer
	app *app.App
}

// NewServer returns the gRPC server of a.
func NewServer(a *app.App) *Server { return &Server{app: a} }

func tenant(ctx context.Context) (string, error) {
	t, ok := reqctx.Tenant(ctx)
	if !ok {
		return "", apperr.New(apperr.Unauthenticated, "no tenant")
	}
	return t, nil
}

func write(o *commonv1.WriteOptions) app.Write {
	w := app.Write{IdempotencyKey: o.GetIdempotencyKey()}
	if o != nil && o.ExpectedVersion != nil {
		v := o.GetExpectedVersion()
		w.ExpectedVersion = &v
	}
	return w
}

func read(o *commonv1.ReadOptions) app.Read { return app.Read{MinSequence: o.GetMinSequence()} }

func result(r eventstore.Result) *commonv1.WriteResult {
	return &commonv1.WriteResult{Version: r.Position.Version, Sequence: r.Position.Sequence, Replayed: r.Replayed}
}

// leadCall runs a command that yields a lead and maps its outcome.
func leadCall(ctx context.Context, do func(tenant string) (app.LeadResult, error)) (*leadsv1.Lead, *commonv1.WriteResult, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, nil, err
	}
	res, err := do(t)
	if err != nil {
		return nil, nil, err
	}
	return protomap.LeadToProto(res.Lead), result(res.Result), nil
}

func (s *Server) CreateLead(ctx context.Context, req *leadsv1.CreateLeadRequest) (*leadsv1.CreateLeadResponse, error) {
	cmd, err := protomap.NewLeadFromProto("", req.GetLead())
	if err != nil {
		return nil, err
	}
	l, r, err := leadCall(ctx, func(t string) (app.LeadResult, error) {
		return s.app.CreateLead(ctx, t, cmd, req.GetAllowDuplicate(), write(req.GetOptions()))
	})
	if err != nil {
		return nil, err
	}
	return &leadsv1.CreateLeadResponse{Lead: l, Result: r}, nil
}

func (s *Server) GetLead(ctx context.Context, req *leadsv1.GetLeadRequest) (*leadsv1.GetLeadResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	if !lead.ValidID(req.GetLeadId()) {
		return nil, badID("lead_id")
	}
	l, err := s.app.GetLead(ctx, t, req.GetLeadId(), read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.GetLeadResponse{Lead: protomap.LeadToProto(l)}, nil
}

func badID(field string) error {
	return apperr.InvalidFields("invalid id", apperr.FieldViolation{Field: field, Description: "must match [A-Za-z0-9_-]{1,64}"})
}

func (s *Server) UpdateLead(ctx context.Context, req *leadsv1.UpdateLeadRequest) (*leadsv1.UpdateLeadResponse, error) {
	upd, err := protomap.UpdateFromProto(req.GetLead(), req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	l, r, err := leadCall(ctx, func(t string) (app.LeadResult, error) {
		return s.app.UpdateLead(ctx, t, req.GetLeadId(), upd, write(req.GetOptions()))
	})
	if err != nil {
		return nil, err
	}
	return &leadsv1.UpdateLeadResponse{Lead: l, Result: r}, nil
}

func (s *Server) ChangeLeadStatus(ctx context.Context, req *leadsv1.ChangeLeadStatusRequest) (*leadsv1.ChangeLeadStatusResponse, error) {
	var v apperr.Violations
	to, err := protomap.StatusFromProto(req.GetStatus(), "status")
	addErr(&v, err)
	path := lead.QualificationPath(0)
	if req.GetQualificationPath() != leadsv1.QualificationPath_QUALIFICATION_PATH_UNSPECIFIED {
		path, err = protomap.QualificationPathFromProto(req.GetQualificationPath(), "qualification_path")
		addErr(&v, err)
	}
	if err := v.Err("invalid status change"); err != nil {
		return nil, err
	}
	l, r, err := leadCall(ctx, func(t string) (app.LeadResult, error) {
		return s.app.ChangeStatus(ctx, t, req.GetLeadId(), lead.StatusChange{To: to, Path: path, Reason: req.GetNote()}, write(req.GetOptions()))
	})
	if err != nil {
		return nil, err
	}
	return &leadsv1.ChangeLeadStatusResponse{Lead: l, Result: r}, nil
}

// addErr collects the field violations of err into v (other errors become one violation-free
// entry through v.Err's caller).
func addErr(v *apperr.Violations, err error) {
	if err == nil {
		return
	}
	if ae, ok := apperr.As(err); ok && len(ae.Fields) > 0 {
		*v = append(*v, ae.Fields...)
		return
	}
	v.Add("request", "%v", err)
}

func (s *Server) DisqualifyLead(ctx context.Context, req *leadsv1.DisqualifyLeadRequest) (*leadsv1.DisqualifyLeadResponse, error) {
	reason, err := protomap.DisqualifyReasonFromProto(req.GetReason(), "reason")
	if err != nil {
		return nil, err
	}
	l, r, err := leadCall(ctx, func(t string) (app.LeadResult, error) {
		return s.app.Disqualify(ctx, t, req.GetLeadId(), reason, req.GetNote(), write(req.GetOptions()))
	})
	if err != nil {
		return nil, err
	}
	return &leadsv1.DisqualifyLeadResponse{Lead: l, Result: r}, nil
}

func (s *Server) RecycleLead(ctx context.Context, req *leadsv1.RecycleLeadRequest) (*leadsv1.RecycleLeadResponse, error) {
	l, r, err := leadCall(ctx, func(t string) (app.LeadResult, error) {
		return s.app.Recycle(ctx, t, req.GetLeadId(), req.GetNote(), write(req.GetOptions()))
	})
	if err != nil {
		return nil, err
	}
	return &leadsv1.RecycleLeadResponse{Lead: l, Result: r}, nil
}

func (s *Server) SetBant(ctx context.Context, req *leadsv1.SetBantRequest) (*leadsv1.SetBantResponse, error) {
	l, r, err := leadCall(ctx, func(t string) (app.LeadResult, error) {
		return s.app.SetBant(ctx, t, req.GetLeadId(), func(cur lead.Bant) (lead.Bant, error) {
			return protomap.BantFromProto(req.GetBant(), req.GetUpdateMask(), cur)
		}, write(req.GetOptions()))
	})
	if err != nil {
		return nil, err
	}
	return &leadsv1.SetBantResponse{Lead: l, Result: r}, nil
}

func (s *Server) AssignLead(ctx context.Context, req *leadsv1.AssignLeadRequest) (*leadsv1.AssignLeadResponse, error) {
	l, r, err := leadCall(ctx, func(t string) (app.LeadResult, error) {
		return s.app.Assign(ctx, t, req.GetLeadId(), lead.Assignment{OwnerID: req.GetOwnerId(), Note: req.GetNote()}, write(req.GetOptions()))
	})
	if err != nil {
		return nil, err
	}
	return &leadsv1.AssignLeadResponse{Lead: l, Result: r}, nil
}

func (s *Server) AddLeadTags(ctx context.Context, req *leadsv1.AddLeadTagsRequest) (*leadsv1.AddLeadTagsResponse, error) {
	l, r, err := leadCall(ctx, func(t string) (app.LeadResult, error) {
		return s.app.AddTags(ctx, t, req.GetLeadId(), req.GetTags(), write(req.GetOptions()))
	})
	if err != nil {
		return nil, err
	}
	return &leadsv1.AddLeadTagsResponse{Lead: l, Result: r}, nil
}

func (s *Server) RemoveLeadTags(ctx context.Context, req *leadsv1.RemoveLeadTagsRequest) (*leadsv1.RemoveLeadTagsResponse, error) {
	l, r, err := leadCall(ctx, func(t string) (app.LeadResult, error) {
		return s.app.RemoveTags(ctx, t, req.GetLeadId(), req.GetTags(), write(req.GetOptions()))
	})
	if err != nil {
		return nil, err
	}
	return &leadsv1.RemoveLeadTagsResponse{Lead: l, Result: r}, nil
}

func (s *Server) RecordEngagement(ctx context.Context, req *leadsv1.RecordEngagementRequest) (*leadsv1.RecordEngagementResponse, error) {
	sig, err := protomap.SignalFromProto(req.GetSignal(), "signal")
	if err != nil {
		return nil, err
	}
	cmd := lead.Signal{Signal: sig, Detail: req.GetDetail()}
	if req.GetOccurredAt() != nil {
		cmd.OccurredAt = req.GetOccurredAt().AsTime()
	}
	l, r, err := leadCall(ctx, func(t string) (app.LeadResult, error) {
		return s.app.RecordEngagement(ctx, t, req.GetLeadId(), cmd, write(req.GetOptions()))
	})
	if err != nil {
		return nil, err
	}
	return &leadsv1.RecordEngagementResponse{Lead: l, Result: r}, nil
}

func (s *Server) MergeLeads(ctx context.Context, req *leadsv1.MergeLeadsRequest) (*leadsv1.MergeLeadsResponse, error) {
	var v apperr.Violations
	if !lead.ValidID(req.GetSurvivorId()) {
		v.Add("survivor_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if !lead.ValidID(req.GetMergedId()) {
		v.Add("merged_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if err := v.Err("invalid merge"); err != nil {
		return nil, err
	}
	l, r, err := leadCall(ctx, func(t string) (app.LeadResult, error) {
		return s.app.MergeLeads(ctx, t, req.GetSurvivorId(), req.GetMergedId(), write(req.GetOptions()))
	})
	if err != nil {
		return nil, err
	}
	return &leadsv1.MergeLeadsResponse{Survivor: l, Result: r}, nil
}
