package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

func fullAccountDetails() account.Details {
	return account.Details{Name: "Acme", Domain: "acme.com", Website: "https://acme.com", Industry: "Software",
		EmployeeCount: 250, AnnualRevenue: lead.Money{Currency: "EUR", Units: 5_000_000, Nanos: 5},
		BillingAddress:  account.Address{Street: "1 Main St\nFloor 2", City: "Berlin", Region: "BE", PostalCode: "10115", Country: "DE"},
		ShippingAddress: account.Address{City: "Hamburg", Country: "DE"},
		Phone:           "+49 30 1234567", ParentAccountID: "p1", OwnerID: "u1", TerritoryID: "emea", Type: account.TypeCustomer,
		Tags: []string{"a", "b"}, CustomFields: map[string]customfield.Value{"tier": customfield.StringValue("gold")},
		Description: "desc"}
}

func fullContactDetails() contact.Details {
	return contact.Details{FirstName: "Jane", LastName: "Doe", Email: "jane@acme.com", Phone: "+49 30 1", MobilePhone: "+49 170 1",
		JobTitle: "CTO", Department: "IT", AccountID: "a1", Roles: []contact.Role{contact.RoleDecisionMaker, contact.RoleChampion},
		EmailOptOut: true, DoNotContact: true, MailingAddress: account.Address{Street: "s", City: "c", Region: "r", PostalCode: "p", Country: "DE"},
		OwnerID: "u1", Source: lead.SourceReferral, Tags: []string{"vip"},
		CustomFields: map[string]customfield.Value{"linkedin": customfield.StringValue("jane")}, Description: "d"}
}

func TestAccountAndContactCodecsRoundTrip(t *testing.T) {
	t.Parallel()
	ad, cd := fullAccountDetails(), fullContactDetails()
	accEvents := []account.Event{
		account.AccountCreated{Account: account.Account{ID: "a1", Details: ad, SourceLeadID: "l1", CreatedAt: at(0), UpdatedAt: at(0)}, At: at(0)},
		account.AccountUpdated{Changed: []string{"name", "billing_address.city", "custom_fields.tier"},
			Before: account.Pick(ad, []string{"name", "billing_address.city", "custom_fields.tier"}),
			After:  account.Details{Name: "Acme 2", BillingAddress: account.Address{City: "Munich"}}, At: at(time.Hour)},
	}
	for _, e := range accEvents {
		msg, err := protomap.AccountCodec{}.Encode(e)
		require.NoError(t, err)
		got, err := protomap.AccountCodec{}.Decode(record(t, msg, e.OccurredAt()))
		require.NoError(t, err)
		assert.Equal(t, e, got)
	}
	// Every field of the created account is filled but version (the fold sets it).
	assert.Equal(t, []string{"version"}, unsetFields(protomap.AccountToProto(accEvents[0].(account.AccountCreated).Account)))
	assert.Equal(t, []string{"version"}, unsetFields(protomap.ContactToProto(contact.Contact{ID: "c", Details: fullContactDetails(),
		SourceLeadID: "l", CreatedAt: at(0), UpdatedAt: at(0)})))

	conEvents := []contact.Event{
		contact.ContactCreated{Contact: contact.Contact{ID: "c1", Details: cd, SourceLeadID: "l1", CreatedAt: at(0), UpdatedAt: at(0)}, At: at(0)},
		contact.ContactUpdated{Changed: []string{"roles", "do_not_contact"}, Before: contact.Details{Roles: []contact.Role{contact.RoleUser}},
			After: contact.Details{DoNotContact: true}, At: at(time.Hour)},
	}
	for _, e := range conEvents {
		msg, err := protomap.ContactCodec{}.Encode(e)
		require.NoError(t, err)
		got, err := protomap.ContactCodec{}.Decode(record(t, msg, e.OccurredAt()))
		require.NoError(t, err)
		assert.Equal(t, e, got)
	}
}

func violationFields(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestAccountRequests(t *testing.T) {
	t.Parallel()
	cmd, err := protomap.NewAccountFromProto(protomap.AccountDetailsToProto(fullAccountDetails()))
	require.NoError(t, err)
	assert.Equal(t, fullAccountDetails(), cmd.Details)

	_, err = protomap.NewAccountFromProto(&leadsv1.Account{Name: "x", Type: 77,
		AnnualRevenue: &commonv1.Money{CurrencyCode: "eur", Units: 1},
		CustomFields:  map[string]*leadsv1.CustomValue{"tier": {}}})
	assert.ElementsMatch(t, []string{"account.type", "account.annual_revenue", "account.custom_fields.tier"}, violationFields(t, err))

	_, err = protomap.NewAccountFromProto(nil)
	assert.Equal(t, []string{"account"}, violationFields(t, err))

	up, err := protomap.AccountUpdateFromProto(&leadsv1.Account{Name: "n", Type: 77}, &fieldmaskpb.FieldMask{Paths: []string{"name", "billing_address"}})
	require.NoError(t, err, "a bad value outside the mask is ignored")
	assert.Equal(t, []string{"name", "billing_address"}, up.Paths)

	_, err = protomap.AccountUpdateFromProto(&leadsv1.Account{}, &fieldmaskpb.FieldMask{Paths: []string{"id", "created_at", "type"}})
	assert.Equal(t, []string{"update_mask.paths[0]", "update_mask.paths[1]"}, violationFields(t, err))

	c, err := protomap.NewContactFromProto(protomap.ContactDetailsToProto(fullContactDetails()))
	require.NoError(t, err)
	assert.Equal(t, fullContactDetails(), c.Details)
	_, err = protomap.NewContactFromProto(&leadsv1.Contact{LastName: "x", Roles: []leadsv1.ContactRole{1, 50}, Source: 99})
	assert.ElementsMatch(t, []string{"contact.roles[1]", "contact.source"}, violationFields(t, err))
}
