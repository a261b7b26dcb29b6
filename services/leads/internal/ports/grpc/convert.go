package grpc

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/app"
)

// ConvertLead runs the lead conversion saga (app.ConvertLead). A conversion that stopped
// midway answers with its classified error (Unavailable when pipeline is down) whose ErrorInfo
// metadata names the lead and the records already made (lead_id, account_id, contact_id,
// opportunity_id), so a client can tell the user what exists and retry.
func (s *Server) ConvertLead(ctx context.Context, req *leadsv1.ConvertLeadRequest) (*leadsv1.ConvertLeadResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	cmd, err := convertFromProto(req)
	if err != nil {
		return nil, err
	}
	res, err := s.app.ConvertLead(ctx, t, cmd, write(req.GetOptions()))
	if err != nil {
		return nil, conversionError(ctx, err)
	}
	return &leadsv1.ConvertLeadResponse{
		Lead:           protomap.LeadToProto(res.Lead),
		AccountId:      res.AccountID,
		ContactId:      res.ContactID,
		OpportunityId:  res.OpportunityID,
		AccountCreated: res.AccountCreated,
		ContactCreated: res.ContactCreated,
		Result:         result(res.Result),
	}, nil
}

func convertFromProto(req *leadsv1.ConvertLeadRequest) (app.ConvertLead, error) {
	cmd := app.ConvertLead{LeadID: req.GetLeadId(), AccountID: req.GetAccountId(), ContactID: req.GetContactId(),
		AllowDuplicateAccount: req.GetAllowDuplicateAccount(), AllowDuplicateContact: req.GetAllowDuplicateContact(),
		OwnerID: req.GetOwnerId()}
	if o := req.GetOpportunity(); o != nil {
		amount, err := protomap.MoneyFromProto(o.GetAmount(), "opportunity.amount")
		if err != nil {
			return app.ConvertLead{}, err
		}
		cmd.Opportunity = &app.ConversionOpportunity{Name: o.GetName(), Amount: amount,
			ExpectedCloseDate: o.GetExpectedCloseDate(), PipelineID: o.GetPipelineId(), StageID: o.GetStageId()}
	}
	return cmd, nil
}

// conversionError adds the ids of an incomplete conversion to the ErrorInfo of the status the
// platform would send for its cause; every other error goes to the interceptor as it is.
func conversionError(ctx context.Context, err error) error {
	var ic *app.IncompleteConversion
	if !errors.As(err, &ic) || grpcerr.IsInternal(ic.Err) {
		// An internal fault keeps its generic status; the interceptor logs its cause.
		return err
	}
	st := grpcerr.ToStatus(ctx, ic.Err)
	details := []protoadapt.MessageV1{}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			md := ic.Metadata()
			for k, v := range d.GetMetadata() {
				md[k] = v
			}
			details = append(details, &errdetails.ErrorInfo{Reason: d.GetReason(), Domain: d.GetDomain(), Metadata: md})
		case protoadapt.MessageV1:
			details = append(details, d)
		}
	}
	withIDs, derr := status.New(st.Code(), st.Message()).WithDetails(details...)
	if derr != nil {
		return apperr.Wrap(apperr.Internal, errors.Join(err, derr), "conversion error details")
	}
	return withIDs.Err()
}
