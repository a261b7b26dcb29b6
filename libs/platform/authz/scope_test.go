package authz_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/libs/reqctx"
)

func TestScopeOf(t *testing.T) {
	t.Parallel()
	user := func(roles []string, territories, team []string) context.Context {
		return reqctx.WithActor(context.Background(), reqctx.Actor{Type: reqctx.ActorUser, ID: "ann", Roles: roles,
			Territories: territories, Team: team})
	}
	cases := []struct {
		name  string
		ctx   context.Context
		want  authz.Scope
		sees  map[[2]string]bool // {owner, territory} → in scope
		money bool
	}{
		{name: "sales rep: own and territory's", ctx: user([]string{"sales_rep"}, []string{"emea", "emea", ""}, []string{"bob"}),
			want: authz.Scope{Owners: []string{"ann"}, Territories: []string{"emea"}},
			sees: map[[2]string]bool{{"ann", ""}: true, {"bob", "emea"}: true, {"", "emea"}: true, {"bob", "apac"}: false,
				{"", ""}: false, {"", "apac"}: false},
			money: true},
		{name: "sales rep without territories", ctx: user([]string{"sales_rep"}, nil, nil),
			want: authz.Scope{Owners: []string{"ann"}}, sees: map[[2]string]bool{{"ann", "x"}: true, {"bob", ""}: false}, money: true},
		{name: "manager with a team", ctx: user([]string{"sales_manager"}, []string{"apac"}, []string{"cy", "bob"}),
			want: authz.Scope{Owners: []string{"ann", "bob", "cy"}, Territories: []string{"apac"}},
			sees: map[[2]string]bool{{"bob", ""}: true, {"cy", "emea"}: true, {"dan", "apac"}: true, {"dan", "emea"}: false}, money: true},
		{name: "manager with an empty team: their own only", ctx: user([]string{"sales_manager"}, nil, []string{}),
			want: authz.Scope{Owners: []string{"ann"}}, sees: map[[2]string]bool{{"bob", ""}: false}, money: true},
		{name: "manager without a team claim: the tenant", ctx: user([]string{"sales_manager"}, nil, nil),
			want: authz.Scope{All: true}, sees: map[[2]string]bool{{"bob", ""}: true, {"", ""}: true}, money: true},
		{name: "rep and marketing: the widest", ctx: user([]string{"sales_rep", "marketing"}, nil, nil),
			want: authz.Scope{All: true}, money: true},
		{name: "marketing: every lead, no amounts", ctx: user([]string{"marketing"}, nil, nil), want: authz.Scope{All: true}, money: false},
		{name: "admin", ctx: user([]string{"admin"}, nil, nil), want: authz.Scope{All: true}, money: true},
		{name: "integration", ctx: user([]string{"integration"}, nil, nil), want: authz.Scope{All: true}, money: true},
		{name: "unknown role widens nothing", ctx: user([]string{"sales_rep", "employee"}, nil, nil),
			want: authz.Scope{Owners: []string{"ann"}}, money: true},
		{name: "unknown role alone: nothing", ctx: user([]string{"employee"}, nil, nil), want: authz.Scope{},
			sees: map[[2]string]bool{{"ann", ""}: false}, money: false},
		{name: "service", ctx: reqctx.WithActor(context.Background(), reqctx.Actor{Type: reqctx.ActorService, ID: "campaign-rules"}),
			want: authz.Scope{All: true}, money: true},
		{name: "no actor", ctx: context.Background(), want: authz.Scope{}, sees: map[[2]string]bool{{"", ""}: false}, money: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := authz.ScopeOf(tc.ctx)
			assert.Equal(t, tc.want, got)
			for rec, want := range tc.sees {
				assert.Equal(t, want, got.Allows(rec[0], rec[1]), "owner %q territory %q", rec[0], rec[1])
			}
			assert.Equal(t, tc.money, authz.SeesAmounts(tc.ctx))
			assert.Equal(t, !got.All && len(got.Owners)+len(got.Territories) == 0, got.Empty())
		})
	}
}
