package accountmodel_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/accountmodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func open(t *testing.T) *accountmodel.Store {
	t.Helper()
	s, err := accountmodel.Open(context.Background(), "", sqlitemodel.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func acc(id, name string, v uint64, d account.Details) accountmodel.AccountRow {
	d.Name = name
	return accountmodel.AccountRow{Tenant: "t1", Seq: v, Account: account.Account{ID: id, Version: v, Details: d,
		CreatedAt: t0.Add(time.Duration(len(id)) * time.Minute), UpdatedAt: t0}}
}

func ids[T any](xs []T, id func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func accID(a account.Account) string { return a.ID }
func conID(c contact.Contact) string { return c.ID }

func TestAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t)
	require.NoError(t, s.Apply(ctx, "S", 3, []accountmodel.AccountRow{
		acc("a", "Zeta Corp", 2, account.Details{Type: account.TypeCustomer, Domain: "zeta.io", Tags: []string{"vip"},
			BillingAddress: account.Address{Country: "DE"}, Industry: "Software"}),
		acc("bb", "alpha", 1, account.Details{Type: account.TypeProspect, ParentAccountID: "a", OwnerID: "u1"}),
		acc("ccc", "Beta Labs", 1, account.Details{ParentAccountID: "a", OwnerID: "u2"}),
	}, nil))
	// An older version never overwrites a newer row.
	require.NoError(t, s.Apply(ctx, "S", 4, []accountmodel.AccountRow{acc("a", "Stale", 1, account.Details{})}, nil))
	a, err := s.GetAccount(ctx, "t1", "a")
	require.NoError(t, err)
	assert.Equal(t, "Zeta Corp", a.Name)
	_, err = s.GetAccount(ctx, "t2", "a")
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))

	tests := []struct {
		name string
		q    accountmodel.AccountListQuery
		want []string
	}{
		{"all by created", accountmodel.AccountListQuery{}, []string{"a", "bb", "ccc"}},
		{"descending", accountmodel.AccountListQuery{Descending: true}, []string{"ccc", "bb", "a"}},
		{"by name", accountmodel.AccountListQuery{OrderBy: accountmodel.AccountOrderName}, []string{"bb", "ccc", "a"}},
		{"type", accountmodel.AccountListQuery{Types: []account.Type{account.TypeCustomer, account.TypeProspect}}, []string{"a", "bb"}},
		{"tag, country, industry", accountmodel.AccountListQuery{Tag: "VIP", Country: "de", Industry: "software"}, []string{"a"}},
		{"children", accountmodel.AccountListQuery{ParentAccountID: "a", OwnerIDs: []string{"u2"}}, []string{"ccc"}},
		{"created after", accountmodel.AccountListQuery{CreatedAfter: t0.Add(90 * time.Second)}, []string{"bb", "ccc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Tenant = "t1"
			got, next, err := s.ListAccounts(ctx, tc.q)
			require.NoError(t, err)
			assert.Empty(t, next)
			assert.Equal(t, tc.want, ids(got, accID))
		})
	}

	// Paging by one, and a token is bound to its query.
	var all []string
	q := accountmodel.AccountListQuery{Tenant: "t1", OrderBy: accountmodel.AccountOrderName, PageSize: 1}
	for {
		page, next, err := s.ListAccounts(ctx, q)
		require.NoError(t, err)
		all = append(all, ids(page, accID)...)
		if next == "" {
			break
		}
		_, _, err = s.ListAccounts(ctx, accountmodel.AccountListQuery{Tenant: "t1", PageToken: next})
		assert.Equal(t, apperr.Invalid, apperr.KindOf(err))
		q.PageToken = next
	}
	assert.Equal(t, []string{"bb", "ccc", "a"}, all)

	for query, want := range map[string][]string{"zeta": {"a"}, "zeta.io": {"a"}, "be": {"ccc"}, "beta lab": {"ccc"}, "labs beta": {"ccc"}, "corp x": nil} {
		got, _, err := s.SearchAccounts(ctx, accountmodel.SearchQuery{Tenant: "t1", Query: query})
		require.NoError(t, err)
		assert.Equal(t, want, ids(got, accID), query)
	}
	_, _, err = s.SearchAccounts(ctx, accountmodel.SearchQuery{Tenant: "t1", Query: " ,, "})
	assert.Equal(t, apperr.Invalid, apperr.KindOf(err))
}

func TestContacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t)
	var rows []accountmodel.ContactRow
	for i, d := range []contact.Details{
		{FirstName: "Jane", LastName: "Zed", Email: "jane@acme.com", AccountID: "a", Roles: []contact.Role{contact.RoleChampion}},
		{FirstName: "Bob", LastName: "Adams", Email: "bob@acme.com", AccountID: "a", EmailOptOut: true, Tags: []string{"x"}},
		{FirstName: "Carl", JobTitle: "Head of Sales", MailingAddress: account.Address{Country: "FR"}},
	} {
		rows = append(rows, accountmodel.ContactRow{Tenant: "t1", Seq: uint64(i + 1), Contact: contact.Contact{
			ID: fmt.Sprintf("c%d", i), Version: 1, Details: d, CreatedAt: t0.Add(time.Duration(i) * time.Minute), UpdatedAt: t0}})
	}
	require.NoError(t, s.Apply(ctx, "S", 9, nil, rows))
	for _, tc := range []struct {
		q    accountmodel.ContactListQuery
		want []string
	}{
		{accountmodel.ContactListQuery{OrderBy: accountmodel.ContactOrderLastName}, []string{"c1", "c2", "c0"}},
		{accountmodel.ContactListQuery{AccountID: "a", EmailableOnly: true}, []string{"c0"}},
		{accountmodel.ContactListQuery{Roles: []contact.Role{contact.RoleChampion, contact.RoleUser}}, []string{"c0"}},
		{accountmodel.ContactListQuery{Tag: "x"}, []string{"c1"}},
		{accountmodel.ContactListQuery{Country: "fr"}, []string{"c2"}},
	} {
		tc.q.Tenant = "t1"
		got, _, err := s.ListContacts(ctx, tc.q)
		require.NoError(t, err)
		assert.Equal(t, tc.want, ids(got, conID), "%+v", tc.q)
	}
	for query, want := range map[string][]string{"jane": {"c0"}, "bob@acme.com": {"c1"}, "acme": {"c1", "c0"}, "head sal": {"c2"}} {
		got, _, err := s.SearchContacts(ctx, accountmodel.SearchQuery{Tenant: "t1", Query: query})
		require.NoError(t, err)
		assert.Equal(t, want, ids(got, conID), query)
	}
	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(9), ck["S"])
}
