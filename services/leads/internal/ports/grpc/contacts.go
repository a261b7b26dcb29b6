package grpc

import (
	"context"
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/accountmodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// ContactsServer implements leadsv1.ContactsServiceServer.
type ContactsServer struct {
	leadsv1.UnimplementedContactsServiceServer
	app *app.App
}

// NewContactsServer returns the contacts gRPC server of a.
func NewContactsServer(a *app.App) *ContactsServer { return &ContactsServer{app: a} }

func (s *ContactsServer) CreateContact(ctx context.Context, req *leadsv1.CreateContactRequest) (*leadsv1.CreateContactResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	cmd, err := protomap.NewContactFromProto(req.GetContact())
	if err != nil {
		return nil, err
	}
	res, err := s.app.CreateContact(ctx, t, cmd, req.GetAllowDuplicate(), write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.CreateContactResponse{Contact: protomap.ContactToProto(res.Contact), Result: result(res.Result)}, nil
}

func (s *ContactsServer) UpdateContact(ctx context.Context, req *leadsv1.UpdateContactRequest) (*leadsv1.UpdateContactResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	cmd, err := protomap.ContactUpdateFromProto(req.GetContact(), req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	res, err := s.app.UpdateContact(ctx, t, req.GetContactId(), cmd, write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.UpdateContactResponse{Contact: protomap.ContactToProto(res.Contact), Result: result(res.Result)}, nil
}

func (s *ContactsServer) GetContact(ctx context.Context, req *leadsv1.GetContactRequest) (*leadsv1.GetContactResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	if !contact.ValidID(req.GetContactId()) {
		return nil, apperr.InvalidFields("invalid contact id", apperr.FieldViolation{Field: "contact_id", Description: "must match [A-Za-z0-9_-]{1,64}"})
	}
	c, err := s.app.GetContact(ctx, t, req.GetContactId(), read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.GetContactResponse{Contact: protomap.ContactToProto(c)}, nil
}

var contactOrder = map[leadsv1.ContactOrderBy]accountmodel.ContactOrder{
	leadsv1.ContactOrderBy_CONTACT_ORDER_BY_UNSPECIFIED: accountmodel.ContactOrderCreatedAt,
	leadsv1.ContactOrderBy_CONTACT_ORDER_BY_CREATED_AT:  accountmodel.ContactOrderCreatedAt,
	leadsv1.ContactOrderBy_CONTACT_ORDER_BY_UPDATED_AT:  accountmodel.ContactOrderUpdatedAt,
	leadsv1.ContactOrderBy_CONTACT_ORDER_BY_LAST_NAME:   accountmodel.ContactOrderLastName,
}

func (s *ContactsServer) ListContacts(ctx context.Context, req *leadsv1.ListContactsRequest) (*leadsv1.ListContactsResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	var v apperr.Violations
	q := accountmodel.ContactListQuery{Tenant: t, AccountID: req.GetAccountId(), OwnerIDs: req.GetOwnerIds(),
		Tag: req.GetTag(), EmailableOnly: req.GetEmailableOnly(), Country: req.GetCountry(),
		CreatedAfter: optTime(req.GetCreatedAfter()), CreatedBefore: optTime(req.GetCreatedBefore()),
		UpdatedAfter: optTime(req.GetUpdatedAfter()), UpdatedBefore: optTime(req.GetUpdatedBefore()),
		Descending: req.GetDescending(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}
	for i, r := range req.GetRoles() {
		if !contact.Role(r).Valid() {
			v.Add(fmt.Sprintf("roles[%d]", i), "must be a declared contact role other than UNSPECIFIED")
			continue
		}
		q.Roles = append(q.Roles, contact.Role(r))
	}
	o, ok := contactOrder[req.GetOrderBy()]
	if !ok {
		v.Add("order_by", "unknown order %d", int32(req.GetOrderBy()))
	}
	q.OrderBy = o
	pageSizeCheck(req.GetPageSize(), &v)
	if err := v.Err("invalid contact list query"); err != nil {
		return nil, err
	}
	cs, next, err := s.app.ListContacts(ctx, q, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.ListContactsResponse{Contacts: toProtos(cs, protomap.ContactToProto), NextPageToken: next}, nil
}

func (s *ContactsServer) SearchContacts(ctx context.Context, req *leadsv1.SearchContactsRequest) (*leadsv1.SearchContactsResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	q, err := searchQuery(t, req)
	if err != nil {
		return nil, err
	}
	cs, next, err := s.app.SearchContacts(ctx, q, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.SearchContactsResponse{Contacts: toProtos(cs, protomap.ContactToProto), NextPageToken: next}, nil
}
