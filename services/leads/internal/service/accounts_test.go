package service_test

import (
	"context"
	"testing"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
)

func mask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

func after(seq uint64) *commonv1.ReadOptions { return &commonv1.ReadOptions{MinSequence: seq} }

func (h *harness) createAccount(t *testing.T, ctx context.Context, a *leadsv1.Account) *leadsv1.CreateAccountResponse {
	t.Helper()
	res, err := h.accounts.CreateAccount(ctx, &leadsv1.CreateAccountRequest{Account: a})
	require.NoError(t, err)
	return res
}

func TestAccountsAndContactsEndToEnd(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "rep-1")

	// A territory matched from the billing address at creation.
	_, err := h.client.UpsertTerritory(ctx, &leadsv1.UpsertTerritoryRequest{Territory: &leadsv1.Territory{
		Id: "dach", Name: "DACH", Priority: 1, Countries: []string{"DE", "AT", "CH"},
		AssignmentMode: leadsv1.AssignmentMode_ASSIGNMENT_MODE_FIXED_OWNER, OwnerId: "rep-a"}})
	require.NoError(t, err)

	root := h.createAccount(t, ctx, &leadsv1.Account{Name: "Initech GmbH", Website: "https://www.initech.de/about",
		Type: leadsv1.AccountType_ACCOUNT_TYPE_CUSTOMER, BillingAddress: &leadsv1.Address{City: "Berlin", Country: "de"},
		Industry: "Software", Tags: []string{"Key", "key", "enterprise"}})
	rootID := root.GetAccount().GetId()
	assert.Equal(t, "initech.de", root.GetAccount().GetDomain(), "domain taken from the website, normalised")
	assert.Equal(t, "dach", root.GetAccount().GetTerritoryId())
	assert.Equal(t, []string{"enterprise", "key"}, root.GetAccount().GetTags())

	// Same domain in another spelling: ALREADY_EXISTS naming the account; nothing appended.
	before := h.leadsStreamMsgs(t)
	_, err = h.accounts.CreateAccount(ctx, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "Other", Domain: "HTTP://Initech.DE/"}})
	require.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)
	assert.Equal(t, rootID, errorInfo(err).GetMetadata()["existing_id"])
	assert.Equal(t, "DUPLICATE_ACCOUNT", errorInfo(err).GetReason())
	// Without a domain, the normalised name is the key.
	noDomain := h.createAccount(t, ctx, &leadsv1.Account{Name: "Globex, Inc."})
	_, err = h.accounts.CreateAccount(ctx, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "GLOBEX LLC"}})
	require.Equal(t, codes.AlreadyExists, status.Code(err))
	assert.Equal(t, noDomain.GetAccount().GetId(), errorInfo(err).GetMetadata()["existing_id"])
	_, err = h.accounts.CreateAccount(ctx, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "GLOBEX LLC"}, AllowDuplicate: true})
	require.NoError(t, err)
	assert.Equal(t, before+2, h.leadsStreamMsgs(t))

	// Bad input: field violations as the request names them, nothing appended.
	before = h.leadsStreamMsgs(t)
	_, err = h.accounts.CreateAccount(ctx, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Domain: "not a domain",
		EmployeeCount: -5, BillingAddress: &leadsv1.Address{Country: "Germany"}}})
	assert.Equal(t, map[string]bool{"account.name": true, "account.domain": true, "account.employee_count": true,
		"account.billing_address.country": true}, violations(t, err))
	_, err = h.accounts.CreateAccount(ctx, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "x", Type: 42}})
	assert.Equal(t, map[string]bool{"account.type": true}, violations(t, err))
	_, err = h.accounts.UpdateAccount(ctx, &leadsv1.UpdateAccountRequest{AccountId: rootID, Account: &leadsv1.Account{},
		UpdateMask: mask("name", "version")})
	assert.Equal(t, map[string]bool{"update_mask.paths[1]": true}, violations(t, err))
	_, err = h.contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{Email: "nope"}})
	assert.Equal(t, map[string]bool{"contact.email": true, "contact.last_name": true}, violations(t, err))
	assert.Equal(t, before, h.leadsStreamMsgs(t))

	// Hierarchy: child → root; making root a child of child is a cycle.
	child := h.createAccount(t, ctx, &leadsv1.Account{Name: "Initech Labs", ParentAccountId: rootID})
	childID := child.GetAccount().GetId()
	_, err = h.accounts.UpdateAccount(ctx, &leadsv1.UpdateAccountRequest{AccountId: rootID,
		Account: &leadsv1.Account{ParentAccountId: childID}, UpdateMask: mask("parent_account_id")})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	_, err = h.accounts.CreateAccount(ctx, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "Orphan", ParentAccountId: "missing"}})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)

	// Update with a mask: only the named fields change.
	up, err := h.accounts.UpdateAccount(ctx, &leadsv1.UpdateAccountRequest{AccountId: rootID,
		Account:    &leadsv1.Account{Name: "Initech", BillingAddress: &leadsv1.Address{City: "Munich", Country: "XX-ignored"}, Industry: "ignored"},
		UpdateMask: mask("name", "billing_address.city")})
	require.NoError(t, err)
	assert.Equal(t, "Initech", up.GetAccount().GetName())
	assert.Equal(t, "Munich", up.GetAccount().GetBillingAddress().GetCity())
	assert.Equal(t, "DE", up.GetAccount().GetBillingAddress().GetCountry())
	assert.Equal(t, "Software", up.GetAccount().GetIndustry())
	assert.Equal(t, uint64(2), up.GetAccount().GetVersion())

	// Contacts: duplicate email, missing account, account link.
	_, err = h.contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{LastName: "X", AccountId: "missing"}})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	jane, err := h.contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{FirstName: "Jane", LastName: "Zed",
		Email: "jane@initech.de", AccountId: rootID, JobTitle: "Chief Technology Officer",
		Roles: []leadsv1.ContactRole{leadsv1.ContactRole_CONTACT_ROLE_CHAMPION, leadsv1.ContactRole_CONTACT_ROLE_DECISION_MAKER}}})
	require.NoError(t, err)
	_, err = h.contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{LastName: "Other", Email: "JANE@initech.de"}})
	require.Equal(t, codes.AlreadyExists, status.Code(err))
	assert.Equal(t, jane.GetContact().GetId(), errorInfo(err).GetMetadata()["existing_id"])
	assert.Equal(t, "DUPLICATE_CONTACT", errorInfo(err).GetReason())
	bob, err := h.contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{FirstName: "Bob", LastName: "Adams",
		Email: "bob@initech.de", AccountId: rootID, EmailOptOut: true}})
	require.NoError(t, err)
	upc, err := h.contacts.UpdateContact(ctx, &leadsv1.UpdateContactRequest{ContactId: bob.GetContact().GetId(),
		Contact: &leadsv1.Contact{Roles: []leadsv1.ContactRole{leadsv1.ContactRole_CONTACT_ROLE_USER}}, UpdateMask: mask("roles")})
	require.NoError(t, err)
	seq := upc.GetResult().GetSequence()

	// GetAccount with contacts (by last name) and child accounts.
	got, err := h.accounts.GetAccount(ctx, &leadsv1.GetAccountRequest{AccountId: rootID, Read: after(seq)})
	require.NoError(t, err)
	assert.Equal(t, "Initech", got.GetAccount().GetName())
	require.Len(t, got.GetContacts(), 2)
	assert.Equal(t, "Adams", got.GetContacts()[0].GetLastName())
	assert.Equal(t, []leadsv1.ContactRole{leadsv1.ContactRole_CONTACT_ROLE_USER}, got.GetContacts()[0].GetRoles())
	require.Len(t, got.GetChildAccounts(), 1)
	assert.Equal(t, childID, got.GetChildAccounts()[0].GetId())

	// Lists: filters and pagination.
	list, err := h.accounts.ListAccounts(ctx, &leadsv1.ListAccountsRequest{Types: []leadsv1.AccountType{leadsv1.AccountType_ACCOUNT_TYPE_CUSTOMER},
		Country: "de", Read: after(seq)})
	require.NoError(t, err)
	require.Len(t, list.GetAccounts(), 1)
	assert.Equal(t, rootID, list.GetAccounts()[0].GetId())
	var names []string
	token := ""
	for {
		page, err := h.accounts.ListAccounts(ctx, &leadsv1.ListAccountsRequest{OrderBy: leadsv1.AccountOrderBy_ACCOUNT_ORDER_BY_NAME,
			PageSize: 2, PageToken: token})
		require.NoError(t, err)
		for _, a := range page.GetAccounts() {
			names = append(names, a.GetName())
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	assert.Equal(t, []string{"GLOBEX LLC", "Globex, Inc.", "Initech", "Initech Labs"}, names, "lower-case name order")
	_, err = h.accounts.ListAccounts(ctx, &leadsv1.ListAccountsRequest{PageToken: "garbage"})
	assert.Equal(t, map[string]bool{"page_token": true}, violations(t, err))

	cl, err := h.contacts.ListContacts(ctx, &leadsv1.ListContactsRequest{AccountId: rootID, EmailableOnly: true})
	require.NoError(t, err)
	require.Len(t, cl.GetContacts(), 1)
	assert.Equal(t, "Zed", cl.GetContacts()[0].GetLastName())
	cl, err = h.contacts.ListContacts(ctx, &leadsv1.ListContactsRequest{Roles: []leadsv1.ContactRole{leadsv1.ContactRole_CONTACT_ROLE_DECISION_MAKER}})
	require.NoError(t, err)
	require.Len(t, cl.GetContacts(), 1)

	// Search: words and the last word as a prefix.
	sa, err := h.accounts.SearchAccounts(ctx, &leadsv1.SearchAccountsRequest{Query: "initech la"})
	require.NoError(t, err)
	require.Len(t, sa.GetAccounts(), 1)
	assert.Equal(t, childID, sa.GetAccounts()[0].GetId())
	sa, err = h.accounts.SearchAccounts(ctx, &leadsv1.SearchAccountsRequest{Query: "initech.de"})
	require.NoError(t, err)
	require.Len(t, sa.GetAccounts(), 1)
	sc, err := h.contacts.SearchContacts(ctx, &leadsv1.SearchContactsRequest{Query: "chief tech"})
	require.NoError(t, err)
	require.Len(t, sc.GetContacts(), 1)
	assert.Equal(t, jane.GetContact().GetId(), sc.GetContacts()[0].GetId())
	gc, err := h.contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: jane.GetContact().GetId()})
	require.NoError(t, err)
	assert.Equal(t, "jane@initech.de", gc.GetContact().GetEmail())

	// Another tenant sees nothing.
	other, err := h.accounts.ListAccounts(as(t, "globex", "rep-9"), &leadsv1.ListAccountsRequest{})
	require.NoError(t, err)
	assert.Empty(t, other.GetAccounts())
}

func TestPerObjectCustomFields(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "admin-1")

	_, err := h.client.DefineCustomField(ctx, &leadsv1.DefineCustomFieldRequest{Field: &leadsv1.CustomFieldDefinition{
		Name: "tier", Type: leadsv1.CustomFieldType_CUSTOM_FIELD_TYPE_STRING, Object: leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_ACCOUNT}})
	require.NoError(t, err)
	_, err = h.client.DefineCustomField(ctx, &leadsv1.DefineCustomFieldRequest{Field: &leadsv1.CustomFieldDefinition{
		Name: "linkedin", Type: leadsv1.CustomFieldType_CUSTOM_FIELD_TYPE_STRING, Required: true,
		Object: leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_CONTACT}})
	require.NoError(t, err)

	fields, err := h.client.ListCustomFields(ctx, &leadsv1.ListCustomFieldsRequest{Object: leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_ACCOUNT})
	require.NoError(t, err)
	require.Len(t, fields.GetFields(), 1)
	assert.Equal(t, leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_ACCOUNT, fields.GetFields()[0].GetObject())
	leadFields, err := h.client.ListCustomFields(ctx, &leadsv1.ListCustomFieldsRequest{})
	require.NoError(t, err)
	assert.Empty(t, leadFields.GetFields(), "account and contact fields are not lead fields")

	str := func(s string) *leadsv1.CustomValue {
		return &leadsv1.CustomValue{Value: &leadsv1.CustomValue_StringValue{StringValue: s}}
	}
	_, err = h.accounts.CreateAccount(ctx, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "A",
		CustomFields: map[string]*leadsv1.CustomValue{"tier": str("gold")}}})
	require.NoError(t, err)
	_, err = h.accounts.CreateAccount(ctx, &leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "B",
		CustomFields: map[string]*leadsv1.CustomValue{"linkedin": str("x")}}})
	assert.Equal(t, map[string]bool{"account.custom_fields.linkedin": true}, violations(t, err))
	_, err = h.contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{LastName: "Doe"}})
	assert.Equal(t, map[string]bool{"contact.custom_fields.linkedin": true}, violations(t, err), "required contact field")
	_, err = h.contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{LastName: "Doe",
		CustomFields: map[string]*leadsv1.CustomValue{"linkedin": str("doe")}}})
	require.NoError(t, err)

	_, err = h.client.DeleteCustomField(ctx, &leadsv1.DeleteCustomFieldRequest{Name: "tier", Object: leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_ACCOUNT})
	require.NoError(t, err)
	_, err = h.client.DeleteCustomField(ctx, &leadsv1.DeleteCustomFieldRequest{Name: "tier"})
	assert.Equal(t, codes.NotFound, status.Code(err), "no lead field of that name")
}

// A hierarchy is at most account.MaxDepth levels deep whether the deepest account is
// re-parented (UpdateAccount) or created under the deepest one (CreateAccount).
func TestCreateAccountUnderTooDeepHierarchyIsRejected(t *testing.T) {
	t.Parallel()
	h := startService(t, testkit.StartNATS(t), harnessOptions{NoWorkers: true})
	ctx := as(t, "acme", "rep-1")
	parent := ""
	for i := range account.MaxDepth {
		res, err := h.svc.App.CreateAccount(ctx, "acme", account.New{Details: account.Details{
			Name: "Level " + string(rune('A'+i)), ParentAccountID: parent}}, true, app.Write{})
		require.NoError(t, err, "level %d", i+1)
		parent = res.Account.ID
	}
	before := h.leadsStreamMsgs(t)
	_, err := h.svc.App.CreateAccount(ctx, "acme", account.New{Details: account.Details{
		Name: "One too deep", ParentAccountID: parent}}, true, app.Write{})
	e, ok := apperr.As(err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, apperr.FailedPrecondition, e.Kind)
	assert.Equal(t, account.ReasonTooDeep, e.Reason)
	assert.Equal(t, before, h.leadsStreamMsgs(t))

	// The same depth reached by re-parenting is rejected too (the existing behaviour).
	loose, err := h.svc.App.CreateAccount(ctx, "acme", account.New{Details: account.Details{Name: "Loose"}}, true, app.Write{})
	require.NoError(t, err)
	// The App is called directly (no gRPC, so no actor): as the system, whose row-level
	// scope is everything.
	sys := reqctx.WithActor(ctx, reqctx.Actor{Type: reqctx.ActorSystem, ID: "test"})
	_, err = h.svc.App.UpdateAccount(sys, "acme", loose.Account.ID, account.Update{Paths: []string{account.PathParentAccountID},
		Details: account.Details{ParentAccountID: parent}}, app.Write{})
	e, ok = apperr.As(err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, account.ReasonTooDeep, e.Reason)
}
