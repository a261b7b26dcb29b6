package contact_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

var pol = contact.Policy{CustomFields: map[string]customfield.Definition{
	"linkedin": {Name: "linkedin", Type: customfield.TypeString, Required: true}}}

func fields(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestCreate(t *testing.T) {
	t.Parallel()
	ok := map[string]customfield.Value{"linkedin": customfield.StringValue("jane")}
	tests := []struct {
		name   string
		d      contact.Details
		fields []string
	}{
		{"full", contact.Details{FirstName: "Jane", LastName: "Doe", Email: "jane@acme.com", Phone: "+49 30 1234567",
			Roles: []contact.Role{contact.RoleChampion, contact.RoleDecisionMaker, contact.RoleChampion}, EmailOptOut: true,
			MailingAddress: account.Address{Country: "de"}, AccountID: "a1", CustomFields: ok}, nil},
		{"no name", contact.Details{Email: "x@y.com", CustomFields: ok}, []string{"contact.last_name"}},
		{"bad values", contact.Details{LastName: "D", Email: "nope", MobilePhone: "12", Roles: []contact.Role{0, 9},
			AccountID: "bad id", Source: 99, MailingAddress: account.Address{Country: "DEU"}},
			[]string{"contact.email", "contact.mobile_phone", "contact.roles[0]", "contact.roles[1]", "contact.account_id",
				"contact.source", "contact.mailing_address.country", "contact.custom_fields.linkedin"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, err := contact.Create(contact.Contact{}, contact.New{ID: "c1", Details: tc.d}, pol, t0)
			if tc.fields != nil {
				assert.ElementsMatch(t, tc.fields, fields(t, err))
				return
			}
			require.NoError(t, err)
			c := contact.ApplyAll(contact.Contact{}, evs...)
			assert.Equal(t, []contact.Role{contact.RoleDecisionMaker, contact.RoleChampion}, c.Roles)
			assert.Equal(t, "DE", c.MailingAddress.Country)
			assert.False(t, c.Emailable())
		})
	}
}

func TestUpdateDetails(t *testing.T) {
	t.Parallel()
	evs, err := contact.Create(contact.Contact{}, contact.New{ID: "c1", Details: contact.Details{LastName: "Doe",
		Email: "jane@acme.com", CustomFields: map[string]customfield.Value{"linkedin": customfield.StringValue("j")}}}, pol, t0)
	require.NoError(t, err)
	c := contact.ApplyAll(contact.Contact{}, evs...)

	evs, err = contact.UpdateDetails(c, contact.Update{Paths: []string{"roles", "do_not_contact", "mailing_address.city", "email"},
		Details: contact.Details{Roles: []contact.Role{contact.RoleUser}, DoNotContact: true,
			MailingAddress: account.Address{City: "Berlin"}, Email: "jane@acme.com"}}, pol, t0.Add(time.Minute))
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, []string{"roles", "do_not_contact", "mailing_address.city"}, evs[0].(contact.ContactUpdated).Changed)
	after := contact.ApplyAll(c, evs...)
	assert.True(t, after.DoNotContact)
	assert.Equal(t, "Berlin", after.MailingAddress.City)

	_, err = contact.UpdateDetails(c, contact.Update{Paths: []string{"custom_fields.linkedin", "last_name", "id"}}, pol, t0)
	assert.ElementsMatch(t, []string{"update_mask.paths[2]", "contact.custom_fields.linkedin", "contact.last_name"}, fields(t, err))

	assert.Len(t, contact.DedupeKeys(contact.Details{Email: "Jane@ACME.com"}), 1)
	assert.Equal(t, contact.DedupeKeys(contact.Details{Email: "Jane@ACME.com"}), contact.DedupeKeys(contact.Details{Email: "jane@acme.com"}))
	assert.Empty(t, contact.DedupeKeys(contact.Details{}))
}
