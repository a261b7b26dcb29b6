package grpc

import (
	"context"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/app"
)

// ErasePerson erases a lead or a contact (app.ErasePerson). Admin only (libs/platform/authz).
func (s *Server) ErasePerson(ctx context.Context, req *leadsv1.ErasePersonRequest) (*leadsv1.ErasePersonResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	cmd := app.ErasePerson{Reason: req.GetReason()}
	switch p := req.GetPerson().(type) {
	case *leadsv1.ErasePersonRequest_LeadId:
		cmd.Kind, cmd.ID = app.PersonLead, p.LeadId
	case *leadsv1.ErasePersonRequest_ContactId:
		cmd.Kind, cmd.ID = app.PersonContact, p.ContactId
	default:
		return nil, apperr.InvalidFields("invalid erasure", apperr.FieldViolation{Field: "person", Description: "set lead_id or contact_id"})
	}
	res, err := s.app.ErasePerson(ctx, t, cmd, write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.ErasePersonResponse{Result: result(res.Result), AlreadyErased: res.AlreadyErased,
		ErasedLeadIds: res.LeadIDs, ErasedContactIds: res.ContactIDs}, nil
}
