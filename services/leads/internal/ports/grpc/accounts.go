package grpc

import (
	"context"
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/accountmodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
)

// AccountsServer implements leadsv1.AccountsServiceServer.
type AccountsServer struct {
	leadsv1.UnimplementedAccountsServiceServer
	app *app.App
}

// NewAccountsServer returns the accounts gRPC server of a.
func NewAccountsServer(a *app.App) *AccountsServer { return &AccountsServer{app: a} }

func (s *AccountsServer) CreateAccount(ctx context.Context, req *leadsv1.CreateAccountRequest) (*leadsv1.CreateAccountResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	cmd, err := protomap.NewAccountFromProto(req.GetAccount())
	if err != nil {
		return nil, err
	}
	res, err := s.app.CreateAccount(ctx, t, cmd, req.GetAllowDuplicate(), write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.CreateAccountResponse{Account: protomap.AccountToProto(res.Account), Result: result(res.Result)}, nil
}

func (s *AccountsServer) UpdateAccount(ctx context.Context, req *leadsv1.UpdateAccountRequest) (*leadsv1.UpdateAccountResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	cmd, err := protomap.AccountUpdateFromProto(req.GetAccount(), req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	res, err := s.app.UpdateAccount(ctx, t, req.GetAccountId(), cmd, write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.UpdateAccountResponse{Account: protomap.AccountToProto(res.Account), Result: result(res.Result)}, nil
}

func (s *AccountsServer) GetAccount(ctx context.Context, req *leadsv1.GetAccountRequest) (*leadsv1.GetAccountResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	if !account.ValidID(req.GetAccountId()) {
		return nil, apperr.InvalidFields("invalid account id", apperr.FieldViolation{Field: "account_id", Description: "must match [A-Za-z0-9_-]{1,64}"})
	}
	d, err := s.app.GetAccount(ctx, t, req.GetAccountId(), read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.GetAccountResponse{Account: protomap.AccountToProto(d.Account),
		Contacts:      toProtos(d.Contacts, protomap.ContactToProto),
		ChildAccounts: toProtos(d.Children, protomap.AccountToProto)}, nil
}

var accountOrder = map[leadsv1.AccountOrderBy]accountmodel.AccountOrder{
	leadsv1.AccountOrderBy_ACCOUNT_ORDER_BY_UNSPECIFIED: accountmodel.AccountOrderCreatedAt,
	leadsv1.AccountOrderBy_ACCOUNT_ORDER_BY_CREATED_AT:  accountmodel.AccountOrderCreatedAt,
	leadsv1.AccountOrderBy_ACCOUNT_ORDER_BY_UPDATED_AT:  accountmodel.AccountOrderUpdatedAt,
	leadsv1.AccountOrderBy_ACCOUNT_ORDER_BY_NAME:        accountmodel.AccountOrderName,
}

func (s *AccountsServer) ListAccounts(ctx context.Context, req *leadsv1.ListAccountsRequest) (*leadsv1.ListAccountsResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	var v apperr.Violations
	q := accountmodel.AccountListQuery{Tenant: t, OwnerIDs: req.GetOwnerIds(), TerritoryIDs: req.GetTerritoryIds(),
		Industry: req.GetIndustry(), Country: req.GetCountry(), Tag: req.GetTag(), ParentAccountID: req.GetParentAccountId(),
		CreatedAfter: optTime(req.GetCreatedAfter()), CreatedBefore: optTime(req.GetCreatedBefore()),
		UpdatedAfter: optTime(req.GetUpdatedAfter()), UpdatedBefore: optTime(req.GetUpdatedBefore()),
		Descending: req.GetDescending(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}
	for i, ty := range req.GetTypes() {
		if ty <= leadsv1.AccountType_ACCOUNT_TYPE_UNSPECIFIED || ty > leadsv1.AccountType_ACCOUNT_TYPE_OTHER {
			v.Add(fmt.Sprintf("types[%d]", i), "must be a declared account type other than UNSPECIFIED")
			continue
		}
		q.Types = append(q.Types, account.Type(ty))
	}
	o, ok := accountOrder[req.GetOrderBy()]
	if !ok {
		v.Add("order_by", "unknown order %d", int32(req.GetOrderBy()))
	}
	q.OrderBy = o
	pageSizeCheck(req.GetPageSize(), &v)
	if err := v.Err("invalid account list query"); err != nil {
		return nil, err
	}
	accs, next, err := s.app.ListAccounts(ctx, q, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.ListAccountsResponse{Accounts: toProtos(accs, protomap.AccountToProto), NextPageToken: next}, nil
}

func (s *AccountsServer) SearchAccounts(ctx context.Context, req *leadsv1.SearchAccountsRequest) (*leadsv1.SearchAccountsResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	q, err := searchQuery(t, req)
	if err != nil {
		return nil, err
	}
	accs, next, err := s.app.SearchAccounts(ctx, q, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.SearchAccountsResponse{Accounts: toProtos(accs, protomap.AccountToProto), NextPageToken: next}, nil
}
