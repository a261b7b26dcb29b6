package fieldmap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/customfield"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/fieldmap"
	"github.com/google/go-cmp/cmp"
)

func TestAutoMappingByCommonNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		obj    fieldmap.Object
		header string
		want   string
	}{
		{fieldmap.ObjectLead, "E-mail", "email"},
		{fieldmap.ObjectLead, "Email Address", "email"},
		{fieldmap.ObjectLead, "EMAIL", "email"},
		{fieldmap.ObjectLead, "First Name", "first_name"},
		{fieldmap.ObjectLead, "given_name", "first_name"},
		{fieldmap.ObjectLead, "Company", "company"},
		{fieldmap.ObjectLead, "Organization", "company"},
		{fieldmap.ObjectLead, "Telephone", "phone"},
		{fieldmap.ObjectLead, "Mobile", "phone"},
		{fieldmap.ObjectLead, "UTM Source", "utm.source"},
		{fieldmap.ObjectLead, "utm.source", "utm.source"},
		{fieldmap.ObjectLead, "Custom_Fields.Region_Code", "custom_fields.region_code"},
		{fieldmap.ObjectLead, "Region Code", "custom_fields.region_code"},
		{fieldmap.ObjectLead, "Favourite colour", ""},
		{fieldmap.ObjectLead, "Email Opt-Out", "email_opt_out"},
		{fieldmap.ObjectLead, "DNC", "do_not_contact"},
		{fieldmap.ObjectContact, "Mobile", "mobile_phone"},
		{fieldmap.ObjectContact, "Zip", "mailing_address.postal_code"},
		{fieldmap.ObjectAccount, "Account Name", "name"},
		{fieldmap.ObjectAccount, "Company", "name"},
		{fieldmap.ObjectAccount, "billing_address.city", "billing_address.city"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, fieldmap.AutoPath(tt.obj, tt.header, []string{"region_code"}), "%s %q", tt.obj, tt.header)
	}
}

func TestColumnsExplicitOverridesAutomatic(t *testing.T) {
	t.Parallel()
	cols, err := fieldmap.Columns(fieldmap.ObjectLead, []string{"Email", "Work Mail", "Phone", "Notes"},
		map[string]string{"work mail": "email", "PHONE": "", "notes": "custom_fields.notes"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []fieldmap.Column{
		{Header: "Email", Field: "", Automatic: false}, // email taken by the explicit column
		{Header: "Work Mail", Field: "email"},
		{Header: "Phone", Field: ""},
		{Header: "Notes", Field: "custom_fields.notes"},
	}, cols)

	_, err = fieldmap.Columns(fieldmap.ObjectLead, []string{"A", "B"}, map[string]string{"a": "status", "b": "nope"}, nil)
	var me fieldmap.MappingErrors
	require.ErrorAs(t, err, &me)
	assert.Len(t, me, 2)
}

func TestRowMapsEveryKindOfValue(t *testing.T) {
	t.Parallel()
	custom := func(name string) (customfield.Type, bool) {
		switch name {
		case "seats":
			return customfield.TypeNumber, true
		case "vip":
			return customfield.TypeBool, true
		case "renewal":
			return customfield.TypeDate, true
		}
		return 0, false
	}
	cols := []fieldmap.Column{{Header: "E", Field: "email"}, {Header: "N", Field: "employee_count"},
		{Header: "R", Field: "annual_revenue"}, {Header: "S", Field: "source"}, {Header: "U", Field: "utm.source"},
		{Header: "T", Field: "tags"}, {Header: "C1", Field: "custom_fields.seats"}, {Header: "C2", Field: "custom_fields.vip"},
		{Header: "C3", Field: "custom_fields.renewal"}, {Header: "C4", Field: "custom_fields.other"}, {Header: "X", Field: ""}}
	msg := &leadsv1.Lead{}
	set, errs := fieldmap.Row(msg.ProtoReflect(), cols, []string{" ada@x.io ", "1 200", "EUR 12,345.67", "web form", "google",
		"a; b ;;c", "12.5", "yes", "2027-01-31", "free text", "ignored"}, custom)
	require.Empty(t, errs)
	assert.Equal(t, []string{"email", "employee_count", "annual_revenue", "source", "utm.source", "tags",
		"custom_fields.seats", "custom_fields.vip", "custom_fields.renewal", "custom_fields.other"}, set)
	want := &leadsv1.Lead{Email: "ada@x.io", EmployeeCount: 1200,
		AnnualRevenue: &commonv1.Money{CurrencyCode: "EUR", Units: 12345, Nanos: 670000000},
		Source:        leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, Utm: &leadsv1.Utm{Source: "google"}, Tags: []string{"a", "b", "c"},
		CustomFields: map[string]*leadsv1.CustomValue{
			"seats":   {Value: &leadsv1.CustomValue_NumberValue{NumberValue: 12.5}},
			"vip":     {Value: &leadsv1.CustomValue_BoolValue{BoolValue: true}},
			"renewal": {Value: &leadsv1.CustomValue_DateValue{DateValue: "2027-01-31"}},
			"other":   {Value: &leadsv1.CustomValue_StringValue{StringValue: "free text"}},
		}}
	assert.Empty(t, cmp.Diff(want, msg, protocmp.Transform()))

	// Round trip through Format.
	back := &leadsv1.Lead{}
	for _, p := range set {
		require.NoError(t, fieldmap.SetPath(back.ProtoReflect(), p, fieldmap.Format(msg.ProtoReflect(), p), custom), p)
	}
	assert.True(t, proto.Equal(msg, back))
}

func TestRowErrorsNameFieldAndColumn(t *testing.T) {
	t.Parallel()
	cols := []fieldmap.Column{{Header: "Employees", Field: "employee_count"}, {Header: "Revenue", Field: "annual_revenue"},
		{Header: "Source", Field: "source"}, {Header: "Mail", Field: "email"}}
	_, errs := fieldmap.Row((&leadsv1.Lead{}).ProtoReflect(), cols, []string{"many", "12", "telepathy", "a@b.c"}, nil)
	require.Len(t, errs, 3)
	assert.Equal(t, "employee_count", errs[0].Field)
	assert.Equal(t, "Employees", errs[0].Column)
	assert.Contains(t, errs[1].Description, "currency")
	assert.Contains(t, errs[2].Description, "web_form")
}

func TestContactsAndAccounts(t *testing.T) {
	t.Parallel()
	c := &leadsv1.Contact{}
	cols := []fieldmap.Column{{Header: "Roles", Field: "roles"}, {Header: "Opt", Field: "email_opt_out"}, {Header: "City", Field: "mailing_address.city"}}
	_, errs := fieldmap.Row(c.ProtoReflect(), cols, []string{"Decision Maker, champion", "Yes", "Paris"}, nil)
	require.Empty(t, errs)
	assert.Equal(t, []leadsv1.ContactRole{leadsv1.ContactRole_CONTACT_ROLE_DECISION_MAKER, leadsv1.ContactRole_CONTACT_ROLE_CHAMPION}, c.Roles)
	assert.True(t, c.EmailOptOut)
	assert.Equal(t, "Paris", c.GetMailingAddress().GetCity())
	assert.Equal(t, "decision_maker;champion", fieldmap.Format(c.ProtoReflect(), "roles"))

	a := &leadsv1.Account{}
	_, errs = fieldmap.Row(a.ProtoReflect(), []fieldmap.Column{{Header: "Type", Field: "type"}}, []string{"CUSTOMER"}, nil)
	require.Empty(t, errs)
	assert.Equal(t, leadsv1.AccountType_ACCOUNT_TYPE_CUSTOMER, a.Type)
}

func TestParsers(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"12345.67 EUR": "12345.67 EUR", "eur 5": "5 EUR", "USD1,000.5": "1000.5 USD", "-3.25 GBP": "-3.25 GBP"} {
		m, err := fieldmap.ParseMoney(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, fieldmap.FormatMoney(m), in)
	}
	for _, bad := range []string{"12", "EUR", "1.2.3 EUR", "1.0000000001 EUR", "EUR abc"} {
		_, err := fieldmap.ParseMoney(bad)
		assert.Error(t, err, bad)
	}
	ts, err := fieldmap.ParseTime("2026-05-01")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), ts)
	_, err = fieldmap.ParseTime("01/05/2026")
	assert.Error(t, err)
	msg := &leadsv1.Score{}
	require.NoError(t, fieldmap.SetPath(msg.ProtoReflect(), "scored_at", "2026-05-01T10:00:00Z", nil))
	assert.True(t, proto.Equal(timestamppb.New(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)), msg.ScoredAt))
	for in, want := range map[string]bool{"Yes": true, "0": false, "TRUE": true, "n": false} {
		b, err := fieldmap.ParseBool(in)
		require.NoError(t, err)
		assert.Equal(t, want, b)
	}
}
