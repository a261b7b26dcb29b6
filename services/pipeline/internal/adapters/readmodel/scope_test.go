package readmodel

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

// Row-level scope in the read model's SQL (the gRPC tests in internal/service cover the
// service's answers): owners filter lists and forecasts, a contract is in scope through its own
// owner or its opportunity's, and the as-of forecast scopes by the owner of that time.
func TestScopeFiltersListsContractsAndForecasts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	g := newGenerator(3, "t1", genStart)
	owners := []string{"ann", "bob", "cat"}
	seq := uint64(0)
	apply := func(id string) {
		t.Helper()
		seq++
		require.NoError(t, s.Apply(ctx, testStream, seq, Batch{Opportunities: []OpportunityChange{
			{Tenant: "t1", State: g.states[id], Seq: seq, RecordedAt: g.now}}}))
	}
	for i, owner := range owners {
		g.create()
		id := g.ids[i]
		g.now = g.now.Add(time.Second)
		g.record(id)(opportunity.Assign(g.states[id], opportunity.Assignment{OwnerID: owner}, g.now))
		apply(id)
	}
	before := g.now
	// ann's deal goes to bob.
	g.now = g.now.Add(time.Hour)
	g.record(g.ids[0])(opportunity.Assign(g.states[g.ids[0]], opportunity.Assignment{OwnerID: "bob"}, g.now))
	apply(g.ids[0])
	seq++
	require.NoError(t, s.Apply(ctx, testStream, seq, Batch{Contracts: []ContractChange{
		{Tenant: "t1", Seq: seq, State: contract.Contract{ID: "k-ann", Version: 1, OpportunityID: g.ids[2], Details: contract.Details{OwnerID: "ann"}}},
		{Tenant: "t1", Seq: seq, State: contract.Contract{ID: "k-cat", Version: 1, OpportunityID: g.ids[2], Details: contract.Details{OwnerID: "cat"}}},
		{Tenant: "t1", Seq: seq, State: contract.Contract{ID: "k-bob-deal", Version: 1, OpportunityID: g.ids[0], Details: contract.Details{OwnerID: "dan"}}},
	}}))

	ann := Scope{Restricted: true, Owners: []string{"ann"}}
	bob := Scope{Restricted: true, Owners: []string{"bob"}}
	for _, tc := range []struct {
		name            string
		scope           Scope
		opps, contracts []string
	}{
		{"unrestricted", Scope{}, g.ids, []string{"k-ann", "k-bob-deal", "k-cat"}},
		{"restricted to nobody", Scope{Restricted: true}, nil, nil},
		{"ann: her contract on cat's deal", ann, nil, []string{"k-ann"}},
		{"bob: the deal he was given and its contract", bob, []string{g.ids[0], g.ids[1]}, []string{"k-bob-deal"}},
		{"cat: her deal and its contracts", Scope{Restricted: true, Owners: []string{"cat", "zed"}}, []string{g.ids[2]}, []string{"k-ann", "k-cat"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, _, err := s.ListOpportunities(ctx, "t1", OpportunityFilter{Scope: tc.scope})
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.opps, ids(page))
			ks, _, err := s.ListContracts(ctx, "t1", ContractFilter{Scope: tc.scope})
			require.NoError(t, err)
			var got []string
			for _, k := range ks {
				got = append(got, k.ID)
			}
			assert.ElementsMatch(t, tc.contracts, got)
		})
	}

	counted := func(sc Scope, asOf time.Time) int {
		t.Helper()
		f, err := s.Forecast(ctx, "t1", ForecastQuery{Period: forecast.PeriodMonth, Scope: sc, AsOf: asOf})
		require.NoError(t, err)
		n := 0
		for _, r := range f.Rows {
			n += r.Count
		}
		return n
	}
	require.Equal(t, 3, counted(Scope{}, time.Time{}), "every generated deal is open and counted")
	require.Equal(t, 3, counted(Scope{}, before))
	assert.Zero(t, counted(Scope{Restricted: true}, time.Time{}))
	assert.Zero(t, counted(Scope{Restricted: true}, before))
	assert.Zero(t, counted(ann, time.Time{}), "ann owns nothing now")
	assert.Equal(t, 1, counted(ann, before), "as of before, the owner then: ann")
	assert.Equal(t, 2, counted(bob, time.Time{}))
	assert.Equal(t, 1, counted(bob, before))
}
