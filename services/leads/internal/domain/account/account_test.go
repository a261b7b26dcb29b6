package account_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func TestNormalizeDomain(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"acme.com": "acme.com", "https://WWW.Acme.com/about?x=1": "acme.com", "http://shop.acme.co.uk:8080": "shop.acme.co.uk",
		" www.acme.com. ": "acme.com", "acme": "", "": "", "not a domain": "",
	} {
		assert.Equal(t, want, account.NormalizeDomain(in), in)
	}
}

func TestNormalizeName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Acme, Inc.": "acme", "ACME": "acme", "Acme Ltd": "acme", "Müller GmbH": "müller", "Foo Bar LLC": "foo bar",
		"Acme Co. Ltd.": "acme", "Inc": "inc", "A.C.M.E. Corp": "acme", "Smith & Sons": "smith & sons",
	} {
		assert.Equal(t, want, account.NormalizeName(in), in)
	}
	assert.Equal(t, account.DedupeKey(account.Details{Name: "Acme, Inc."}), account.DedupeKey(account.Details{Name: "acme"}))
	assert.NotEqual(t, account.DedupeKey(account.Details{Name: "Acme", Domain: "acme.com"}), account.DedupeKey(account.Details{Name: "Acme"}))
	assert.Empty(t, account.DedupeKey(account.Details{}))
}

func policy() account.Policy {
	return account.Policy{
		Territories: []territory.Territory{{ID: "emea", Countries: []string{"DE", "FR"}}},
		CustomFields: map[string]customfield.Definition{
			"tier":  {Name: "tier", Type: customfield.TypeString},
			"seats": {Name: "seats", Type: customfield.TypeNumber},
		},
	}
}

func violations(t *testing.T, err error) []string {
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
	tests := []struct {
		name   string
		cmd    account.New
		fields []string
		check  func(t *testing.T, a account.Account)
	}{
		{"minimal", account.New{ID: "a1", Details: account.Details{Name: " Acme "}}, nil, func(t *testing.T, a account.Account) {
			assert.Equal(t, "Acme", a.Name)
			assert.Empty(t, a.TerritoryID)
		}},
		{"domain from website, territory matched, tags set", account.New{ID: "a1", Details: account.Details{Name: "Acme",
			Website: "https://www.acme.de/x", BillingAddress: account.Address{Country: "de"}, Tags: []string{"B", "a", "b"}}}, nil,
			func(t *testing.T, a account.Account) {
				assert.Equal(t, "acme.de", a.Domain)
				assert.Equal(t, "DE", a.BillingAddress.Country)
				assert.Equal(t, "emea", a.TerritoryID)
				assert.Equal(t, []string{"a", "b"}, a.Tags)
			}},
		{"explicit territory kept", account.New{ID: "a1", SourceLeadID: "l1", Details: account.Details{Name: "Acme", TerritoryID: "x",
			BillingAddress: account.Address{Country: "DE"}}}, nil, func(t *testing.T, a account.Account) {
			assert.Equal(t, "x", a.TerritoryID)
			assert.Equal(t, "l1", a.SourceLeadID)
		}},
		{"bad fields", account.New{ID: "bad id", Details: account.Details{Domain: "not a domain", EmployeeCount: -1,
			BillingAddress: account.Address{Country: "Germany"}, Type: 9, Phone: "x",
			CustomFields: map[string]customfield.Value{"tier": customfield.NumberValue(1), "nope": customfield.StringValue("x")}}},
			[]string{"account.id", "account.domain", "account.name", "account.employee_count", "account.billing_address.country",
				"account.phone", "account.type", "account.custom_fields.nope", "account.custom_fields.tier"}, nil},
		{"own parent", account.New{ID: "a1", Details: account.Details{Name: "A", ParentAccountID: "a1"}}, []string{"account.parent_account_id"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, err := account.Create(account.Account{}, tc.cmd, policy(), t0)
			if tc.fields != nil {
				assert.ElementsMatch(t, tc.fields, violations(t, err))
				assert.Nil(t, evs)
				return
			}
			require.NoError(t, err)
			a := account.ApplyAll(account.Account{}, evs...)
			assert.Equal(t, uint64(1), a.Version)
			assert.Equal(t, t0, a.CreatedAt)
			tc.check(t, a)
		})
	}
	_, err := account.Create(account.Account{ID: "a1", Version: 1}, account.New{ID: "a1", Details: account.Details{Name: "A"}}, policy(), t0)
	assert.Equal(t, apperr.AlreadyExists, apperr.KindOf(err))
}

func created(t *testing.T) account.Account {
	t.Helper()
	evs, err := account.Create(account.Account{}, account.New{ID: "a1", Details: account.Details{Name: "Acme",
		BillingAddress: account.Address{City: "Berlin", Country: "DE"}, Tags: []string{"x"},
		CustomFields: map[string]customfield.Value{"tier": customfield.StringValue("gold")}}}, policy(), t0)
	require.NoError(t, err)
	return account.ApplyAll(account.Account{}, evs...)
}

func TestUpdateDetails(t *testing.T) {
	t.Parallel()
	t1 := t0.Add(time.Hour)
	tests := []struct {
		name      string
		cmd       account.Update
		ancestors []string
		changed   []string
		fields    []string
		kind      apperr.Kind
		check     func(t *testing.T, a account.Account)
	}{
		{"leaf of address", account.Update{Paths: []string{"billing_address.city"}, Details: account.Details{
			BillingAddress: account.Address{City: "Munich", Country: "ignored"}}}, nil, []string{"billing_address.city"}, nil, 0,
			func(t *testing.T, a account.Account) {
				assert.Equal(t, "Munich", a.BillingAddress.City)
				assert.Equal(t, "DE", a.BillingAddress.Country)
			}},
		{"whole address clears what is empty", account.Update{Paths: []string{"billing_address"}, Details: account.Details{
			BillingAddress: account.Address{City: "Paris"}}}, nil, []string{"billing_address.city", "billing_address.country"}, nil, 0, nil},
		{"tags and a custom field", account.Update{Paths: []string{"tags", "custom_fields.seats", "custom_fields.tier"}, Details: account.Details{
			Tags: []string{"Y", "x"}, CustomFields: map[string]customfield.Value{"seats": customfield.NumberValue(5)}}}, nil,
			[]string{"tags", "custom_fields.seats", "custom_fields.tier"}, nil, 0, func(t *testing.T, a account.Account) {
				assert.Equal(t, []string{"x", "y"}, a.Tags)
				assert.Equal(t, map[string]customfield.Value{"seats": customfield.NumberValue(5)}, a.CustomFields)
			}},
		{"no change", account.Update{Paths: []string{"name"}, Details: account.Details{Name: "Acme"}}, nil, nil, nil, 0, nil},
		{"bad path and value", account.Update{Paths: []string{"nope", "name", "type"}, Details: account.Details{Type: 42}}, nil, nil,
			[]string{"update_mask.paths[0]", "account.name", "account.type"}, 0, nil},
		{"unmasked bad value ignored", account.Update{Paths: []string{"industry"}, Details: account.Details{Industry: "Tech", Domain: "no way"}}, nil,
			[]string{"industry"}, nil, 0, nil},
		{"parent", account.Update{Paths: []string{"parent_account_id"}, Details: account.Details{ParentAccountID: "p"}}, []string{"p", "root"},
			[]string{"parent_account_id"}, nil, 0, nil},
		{"parent cycle", account.Update{Paths: []string{"parent_account_id"}, Details: account.Details{ParentAccountID: "c"}}, []string{"c", "a1", "root"},
			nil, nil, apperr.FailedPrecondition, nil},
		{"self parent", account.Update{Paths: []string{"parent_account_id"}, Details: account.Details{ParentAccountID: "a1"}}, nil,
			nil, []string{"account.parent_account_id"}, 0, nil},
		{"empty mask", account.Update{}, nil, nil, []string{"update_mask.paths"}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := created(t)
			evs, err := account.UpdateDetails(a, tc.cmd, policy(), tc.ancestors, t1)
			switch {
			case tc.fields != nil:
				assert.ElementsMatch(t, tc.fields, violations(t, err))
				return
			case tc.kind != 0:
				assert.Equal(t, tc.kind, apperr.KindOf(err))
				return
			}
			require.NoError(t, err)
			if tc.changed == nil {
				assert.Empty(t, evs)
				return
			}
			require.Len(t, evs, 1)
			assert.Equal(t, tc.changed, evs[0].(account.AccountUpdated).Changed)
			after := account.ApplyAll(a, evs...)
			assert.Equal(t, uint64(2), after.Version)
			assert.Equal(t, t1, after.UpdatedAt)
			assert.Equal(t, []string{"x"}, a.Tags, "the state given is not modified")
			if tc.check != nil {
				tc.check(t, after)
			}
		})
	}
}
