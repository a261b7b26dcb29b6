package accountmodel_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/services/leads/internal/adapters/accountmodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// TestScope: lists and searches keep the rows of the scope (owner; territory for accounts;
// unowned rows), in full pages; nil limits nothing, an empty scope matches nothing; scope
// values are bound, never spliced into the SQL.
func TestScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t)
	con := func(id, owner string) accountmodel.ContactRow {
		return accountmodel.ContactRow{Tenant: "t1", Seq: 1, Contact: contact.Contact{ID: id, Version: 1,
			Details: contact.Details{LastName: "Scope " + id, OwnerID: owner}, CreatedAt: t0, UpdatedAt: t0}}
	}
	require.NoError(t, s.Apply(ctx, "S", 1, []accountmodel.AccountRow{
		acc("a1", "Scope one", 1, account.Details{OwnerID: "u1"}),
		acc("a2", "Scope two", 1, account.Details{OwnerID: "u2", TerritoryID: "emea"}),
		acc("a3", "Scope three", 1, account.Details{OwnerID: "u3"}),
		acc("a4", "Scope four", 1, account.Details{}),
		acc("a5", "Scope five", 1, account.Details{OwnerID: "' OR 1=1 --"}),
	}, []accountmodel.ContactRow{con("c1", "u1"), con("c2", "u2"), con("c3", ""), con("c4", "u3")}))

	for _, tt := range []struct {
		name     string
		scope    *accountmodel.Scope
		accounts []string
		contacts []string
	}{
		{"nil", nil, []string{"a1", "a2", "a3", "a4", "a5"}, []string{"c1", "c2", "c3", "c4"}},
		{"owner", &accountmodel.Scope{Owners: []string{"u1"}}, []string{"a1", "a4"}, []string{"c1", "c3"}},
		{"owner and territory", &accountmodel.Scope{Owners: []string{"u1"}, Territories: []string{"emea"}},
			[]string{"a1", "a2", "a4"}, []string{"c1", "c3"}},
		{"injection", &accountmodel.Scope{Owners: []string{"' OR 1=1 --"}}, []string{"a4", "a5"}, []string{"c3"}},
		{"empty", &accountmodel.Scope{}, nil, nil},
		{"empty strings", &accountmodel.Scope{Owners: []string{""}, Territories: []string{""}}, nil, nil},
	} {
		var got []string
		tok := ""
		for {
			as, next, err := s.ListAccounts(ctx, accountmodel.AccountListQuery{Tenant: "t1", Scope: tt.scope, PageSize: 1,
				PageToken: tok, OrderBy: accountmodel.AccountOrderName})
			require.NoError(t, err, tt.name)
			if next != "" {
				assert.Len(t, as, 1, "%s: a page before the last is full", tt.name)
			}
			got = append(got, ids(as, accID)...)
			if tok = next; tok == "" {
				break
			}
		}
		assert.ElementsMatch(t, tt.accounts, got, "%s: ListAccounts", tt.name)
		as, _, err := s.SearchAccounts(ctx, accountmodel.SearchQuery{Tenant: "t1", Query: "scope", Scope: tt.scope})
		require.NoError(t, err)
		assert.ElementsMatch(t, tt.accounts, ids(as, accID), "%s: SearchAccounts", tt.name)
		cs, _, err := s.ListContacts(ctx, accountmodel.ContactListQuery{Tenant: "t1", Scope: tt.scope})
		require.NoError(t, err)
		assert.ElementsMatch(t, tt.contacts, ids(cs, conID), "%s: ListContacts", tt.name)
		cs, _, err = s.SearchContacts(ctx, accountmodel.SearchQuery{Tenant: "t1", Query: "scope", Scope: tt.scope})
		require.NoError(t, err)
		assert.ElementsMatch(t, tt.contacts, ids(cs, conID), "%s: SearchContacts", tt.name)
	}
	// A request filter narrows the scope, never widens it.
	as, _, err := s.ListAccounts(ctx, accountmodel.AccountListQuery{Tenant: "t1", OwnerIDs: []string{"u3"},
		Scope: &accountmodel.Scope{Owners: []string{"u1"}}})
	require.NoError(t, err)
	assert.Empty(t, as)
}
