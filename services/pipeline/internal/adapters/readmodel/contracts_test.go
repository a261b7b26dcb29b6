package readmodel

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
)

func randomContracts(rng *rand.Rand, tenant string, n int) []contract.Contract {
	var out []contract.Contract
	for i := range n {
		start := civil.DateOf(genStart).AddDays(rng.IntN(400) - 200)
		end := start.AddDays(30 + rng.IntN(700))
		c := contract.Contract{ID: fmt.Sprintf("%s-k-%03d", tenant, i), Version: uint64(1 + rng.IntN(4)),
			OpportunityID: fmt.Sprintf("opp-%d", rng.IntN(n/2)), AccountID: pick(rng, genAccounts),
			Details: contract.Details{OwnerID: pick(rng, genOwners), StartDate: start, EndDate: end,
				Value: money.MustParse("EUR", "1200.50"), Terms: "net 30"},
			TermStart: start, Status: contract.Status(1 + rng.IntN(4)),
			CreatedAt: genStart.Add(time.Duration(rng.IntN(1000)) * time.Hour)}
		if rng.IntN(5) > 0 {
			c.RenewalDate = contract.DefaultRenewalDate(start, end)
		}
		c.UpdatedAt = c.CreatedAt
		out = append(out, c)
	}
	return out
}

func TestListContractsFiltersSortsAndPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(6, 6))
	s := openStore(t, "")
	all := randomContracts(rng, "t1", 120)
	all[7].Version = 3
	var changes []ContractChange
	for i, c := range append(slices.Clone(all), randomContracts(rng, "t2", 10)...) {
		tenant := "t1"
		if i >= len(all) {
			tenant = "t2"
		}
		changes = append(changes, ContractChange{Tenant: tenant, State: c, Seq: uint64(i + 1)})
	}
	require.NoError(t, s.Apply(ctx, testStream, uint64(len(changes)), Batch{Contracts: changes}))

	for i := range 120 {
		var f ContractFilter
		if rng.IntN(3) == 0 {
			f.Statuses = []contract.Status{contract.StatusActive, contract.StatusDraft}[:1+rng.IntN(2)]
		}
		if rng.IntN(4) == 0 {
			f.AccountIDs = []string{pick(rng, genAccounts)}
		}
		if rng.IntN(4) == 0 {
			f.OwnerIDs = []string{pick(rng, genOwners), pick(rng, genOwners)}
		}
		if rng.IntN(8) == 0 {
			f.OpportunityID = all[rng.IntN(len(all))].OpportunityID
		}
		if rng.IntN(3) == 0 {
			f.RenewalFrom = civil.DateOf(genStart).AddDays(rng.IntN(200) - 100)
		}
		if rng.IntN(3) == 0 {
			f.RenewalTo = civil.DateOf(genStart).AddDays(rng.IntN(300))
		}
		f.Sort = ContractSort(rng.IntN(3))
		f.Desc = rng.IntN(2) == 0
		var want []string
		var kept []contract.Contract
		for _, c := range all {
			if (len(f.Statuses) == 0 || slices.Contains(f.Statuses, c.Status)) &&
				(len(f.AccountIDs) == 0 || slices.Contains(f.AccountIDs, c.AccountID)) &&
				(len(f.OwnerIDs) == 0 || slices.Contains(f.OwnerIDs, c.OwnerID)) &&
				(f.OpportunityID == "" || f.OpportunityID == c.OpportunityID) &&
				((f.RenewalFrom.IsZero() && f.RenewalTo.IsZero()) || !c.RenewalDate.IsZero()) &&
				(f.RenewalFrom.IsZero() || !c.RenewalDate.Before(f.RenewalFrom)) &&
				(f.RenewalTo.IsZero() || !c.RenewalDate.After(f.RenewalTo)) {
				kept = append(kept, c)
			}
		}
		slices.SortFunc(kept, func(a, b contract.Contract) int {
			if f.Sort == ContractSortRenewalDate && a.RenewalDate.IsZero() != b.RenewalDate.IsZero() {
				if a.RenewalDate.IsZero() {
					return 1 // missing last, whatever the direction
				}
				return -1
			}
			var c int
			switch f.Sort {
			case ContractSortCreated:
				c = a.CreatedAt.Compare(b.CreatedAt)
			case ContractSortRenewalDate:
				c = a.RenewalDate.Compare(b.RenewalDate)
			case ContractSortEndDate:
				c = a.EndDate.Compare(b.EndDate)
			}
			c = cmp.Or(c, cmp.Compare(a.ID, b.ID))
			if f.Desc {
				return -c
			}
			return c
		})
		for _, c := range kept {
			want = append(want, c.ID)
		}
		f.PageSize = 1 + rng.IntN(12)
		var got []string
		for {
			page, next, err := s.ListContracts(ctx, "t1", f)
			require.NoError(t, err)
			for _, c := range page {
				got = append(got, c.ID)
			}
			if next == "" {
				break
			}
			f.PageToken = next
		}
		require.Equal(t, want, got, "query %d: %+v", i, f)
	}

	got, err := s.GetContract(ctx, "t1", all[7].ID)
	require.NoError(t, err)
	assert.Equal(t, all[7].RenewalDate, got.RenewalDate)
	assert.True(t, all[7].Value.Equal(got.Value))
	assert.True(t, all[7].CreatedAt.Equal(got.CreatedAt))
	_, err = s.GetContract(ctx, "t2", all[7].ID)
	requireKind(t, err, apperr.NotFound, "")
	_, _, err = s.ListContracts(ctx, "t1", ContractFilter{PageToken: "x"})
	requireKind(t, err, apperr.Invalid, "page_token")

	// An older version is a redelivery.
	old := all[7]
	old.Version = 1
	old.Status = contract.StatusTerminated
	require.NoError(t, s.Apply(ctx, testStream, 1, Batch{Contracts: []ContractChange{{Tenant: "t1", State: old, Seq: 1}}}))
	got, err = s.GetContract(ctx, "t1", all[7].ID)
	require.NoError(t, err)
	assert.Equal(t, all[7].Status, got.Status)
	assert.Equal(t, uint64(3), got.Version)
}
