package readmodel

import (
	"cmp"
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// matches is the reference implementation of OpportunityFilter's filters.
func matches(o opportunity.Opportunity, f OpportunityFilter) bool {
	inSet := func(v string, set []string) bool { return len(set) == 0 || slices.Contains(set, v) }
	switch {
	case !inSet(o.PipelineID, f.PipelineIDs), !inSet(o.StageID, f.StageIDs), !inSet(o.OwnerID, f.OwnerIDs),
		!inSet(o.AccountID, f.AccountIDs):
		return false
	case len(f.Categories) > 0 && !slices.Contains(f.Categories, o.ForecastCategory):
		return false
	case len(f.Statuses) > 0 && !slices.Contains(f.Statuses, o.Status):
		return false
	case !f.CloseFrom.IsZero() && o.ExpectedCloseDate.Before(f.CloseFrom):
		return false
	case !f.CloseTo.IsZero() && o.ExpectedCloseDate.After(f.CloseTo):
		return false
	case f.Currency != "" && o.Amount.Currency != f.Currency:
		return false
	case f.AmountMin != nil && o.Amount.Amount.LessThan(*f.AmountMin):
		return false
	case f.AmountMax != nil && o.Amount.Amount.GreaterThan(*f.AmountMax):
		return false
	case f.Tag != "" && !slices.Contains(o.Tags, f.Tag):
		return false
	case f.CampaignID != "" && o.PrimaryCampaignID != f.CampaignID:
		return false
	}
	return true
}

// order is the reference order of OpportunityFilter's sorts.
func order(f OpportunityFilter) func(a, b opportunity.Opportunity) int {
	return func(a, b opportunity.Opportunity) int {
		var c int
		switch f.Sort {
		case SortCreated:
			c = a.CreatedAt.Compare(b.CreatedAt)
		case SortUpdated:
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		case SortCloseDate:
			c = a.ExpectedCloseDate.Compare(b.ExpectedCloseDate)
		case SortAmount:
			c = cmp.Or(cmp.Compare(a.Amount.Currency, b.Amount.Currency), a.Amount.Amount.Cmp(b.Amount.Amount))
		}
		c = cmp.Or(c, cmp.Compare(a.ID, b.ID))
		if f.Desc {
			return -c
		}
		return c
	}
}

func randomFilter(rng *rand.Rand) OpportunityFilter {
	var f OpportunityFilter
	some := func() bool { return rng.IntN(4) == 0 }
	if some() {
		f.PipelineIDs = []string{pick(rng, []string{pipelinedef.DefaultID, "renewals"})}
	}
	if some() {
		f.StageIDs = []string{"prospecting", "quoted", "negotiation", "closed_won"}[:1+rng.IntN(4)]
	}
	if some() {
		f.OwnerIDs = []string{pick(rng, genOwners), pick(rng, genOwners)}
	}
	if some() {
		f.AccountIDs = []string{pick(rng, genAccounts)}
	}
	if some() {
		f.Categories = []pipelinedef.Category{pipelinedef.CategoryCommit, pipelinedef.CategoryPipeline}[:1+rng.IntN(2)]
	}
	if some() {
		f.Statuses = []opportunity.Status{opportunity.StatusOpen, opportunity.StatusWon}[:1+rng.IntN(2)]
	}
	if some() {
		f.CloseFrom = civil.DateOf(genStart).AddDays(rng.IntN(200))
	}
	if some() {
		f.CloseTo = civil.DateOf(genStart).AddDays(100 + rng.IntN(300))
	}
	if some() {
		f.Currency = pick(rng, genCurrencies)
		if rng.IntN(2) == 0 {
			d := decimal.NewFromInt(rng.Int64N(100_000))
			f.AmountMin = &d
		}
		if rng.IntN(2) == 0 {
			d := decimal.RequireFromString("150000.5")
			f.AmountMax = &d
		}
	}
	if some() {
		f.Tag = pick(rng, genTags)
	}
	if some() {
		f.CampaignID = pick(rng, genCampaigns[1:])
	}
	f.Sort = OpportunitySort(rng.IntN(4))
	f.Desc = rng.IntN(2) == 0
	return f
}

func ids(opps []opportunity.Opportunity) []string {
	out := make([]string, len(opps))
	for i, o := range opps {
		out[i] = o.ID
	}
	return out
}

func TestListOpportunitiesFiltersSortsAndPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	log := history(3, 400, genStart, "t1", "t2")
	s := openStore(t, "")
	_, states := project(t, s, log, rng, 40)
	var all []opportunity.Opportunity
	for k, o := range states {
		if k[0] == "t1" {
			all = append(all, o)
		}
	}
	require.Greater(t, len(all), 50)

	nonEmpty := 0
	for i := range 150 {
		f := randomFilter(rng)
		var want []opportunity.Opportunity
		for _, o := range all {
			if matches(o, f) {
				want = append(want, o)
			}
		}
		slices.SortFunc(want, order(f))
		if len(want) > 0 {
			nonEmpty++
		}
		f.PageSize = 1 + rng.IntN(9)
		var got []opportunity.Opportunity
		for pages := 0; ; pages++ {
			require.Less(t, pages, 500)
			page, next, err := s.ListOpportunities(ctx, "t1", f)
			require.NoError(t, err, "filter %d: %+v", i, f)
			require.LessOrEqual(t, len(page), f.PageSize)
			got = append(got, page...)
			if next == "" {
				break
			}
			f.PageToken = next
		}
		require.Equal(t, ids(want), ids(got), "filter %d: %+v", i, f)
	}
	assert.Greater(t, nonEmpty, 60, "most random filters should match something")

	// The documents come back whole.
	page, _, err := s.ListOpportunities(ctx, "t1", OpportunityFilter{PageSize: 1000})
	require.NoError(t, err)
	for _, o := range page {
		requireSameOpportunity(t, states[[2]string{"t1", o.ID}], o)
	}
}

func TestListOpportunitiesRejectsBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(8, 8))
	s := openStore(t, "")
	project(t, s, history(8, 60, genStart, "t1"), rng, 10)

	_, next, err := s.ListOpportunities(ctx, "t1", OpportunityFilter{PageSize: 2, Sort: SortCloseDate})
	require.NoError(t, err)
	require.NotEmpty(t, next)
	for name, f := range map[string]OpportunityFilter{
		"other sort":      {PageToken: next, Sort: SortAmount},
		"other direction": {PageToken: next, Sort: SortCloseDate, Desc: true},
		"other filter":    {PageToken: next, Sort: SortCloseDate, OwnerIDs: []string{"olga"}},
		"garbage":         {PageToken: "not a token"},
		"base64 garbage":  {PageToken: "eyJ2IjoxfQ"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := s.ListOpportunities(ctx, "t1", f)
			requireKind(t, err, apperr.Invalid, "page_token")
		})
	}
	// Another tenant's token.
	_, _, err = s.ListOpportunities(ctx, "t2", OpportunityFilter{PageToken: next, Sort: SortCloseDate})
	requireKind(t, err, apperr.Invalid, "page_token")
	// The page size may change between pages.
	_, _, err = s.ListOpportunities(ctx, "t1", OpportunityFilter{PageToken: next, Sort: SortCloseDate, PageSize: 7})
	require.NoError(t, err)

	one := decimal.NewFromInt(1)
	_, _, err = s.ListOpportunities(ctx, "t1", OpportunityFilter{AmountMin: &one})
	requireKind(t, err, apperr.Invalid, "currency")
	_, _, err = s.ListOpportunities(ctx, "t1", OpportunityFilter{PageSize: 1001})
	requireKind(t, err, apperr.Invalid, "page_size")
	_, _, err = s.ListOpportunities(ctx, "t1", OpportunityFilter{Sort: 9})
	requireKind(t, err, apperr.Invalid, "order_by")
}

// requireSameOpportunity compares by JSON, which writes decimals by value (the one thing the
// document does not keep is a decimal's exponent: 1.50 comes back as 1.5).
func requireSameOpportunity(t testing.TB, want, got opportunity.Opportunity) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(w), string(g))
}

func TestOpportunityDocumentRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := history(11, 300, genStart, "t1")
	s := openStore(t, "")
	_, states := project(t, s, log, rand.New(rand.NewPCG(1, 1)), 30)
	quoted, closed := 0, 0
	for k, want := range states {
		got, err := s.GetOpportunity(ctx, k[0], k[1])
		require.NoError(t, err)
		requireSameOpportunity(t, want, got)
		// Dates and decimals by value, field by field where they live.
		assert.Equal(t, want.ExpectedCloseDate, got.ExpectedCloseDate)
		assert.Equal(t, want.Close, got.Close)
		assert.True(t, want.Amount.Equal(got.Amount), "%s: %s vs %s", k, want.Amount, got.Amount)
		assert.True(t, want.CreatedAt.Equal(got.CreatedAt) && want.StageEnteredAt.Equal(got.StageEnteredAt))
		require.Len(t, got.Quotes, len(want.Quotes))
		for i, q := range want.Quotes {
			quoted++
			assert.Equal(t, q.ValidUntil, got.Quotes[i].ValidUntil)
			assert.True(t, q.Total.Equal(got.Quotes[i].Total))
			assert.True(t, q.Lines[0].Quantity.Equal(got.Quotes[i].Lines[0].Quantity))
		}
		if want.Status.Closed() {
			closed++
		}
	}
	assert.Positive(t, quoted)
	assert.Positive(t, closed)

	_, err := s.GetOpportunity(ctx, "t1", "nope")
	requireKind(t, err, apperr.NotFound, "")
	e, _ := apperr.As(err)
	assert.Equal(t, opportunity.ReasonNotFound, e.Reason)
	// Tenants do not see each other's opportunities.
	_, err = s.GetOpportunity(ctx, "t2", "t1-opp-000")
	requireKind(t, err, apperr.NotFound, "")
}

func TestTagsFollowTheOpportunity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	g := newGenerator(1, "t1", genStart)
	g.create()
	id := g.ids[0]
	apply := func(seq uint64) {
		t.Helper()
		o := g.states[id]
		require.NoError(t, s.Apply(ctx, testStream, seq, Batch{Opportunities: []OpportunityChange{{Tenant: "t1", State: o, Seq: seq, RecordedAt: g.now}}}))
	}
	apply(1)
	o := g.states[id]
	d := o.Details
	d.Tags = []string{"alpha", "beta"}
	g.now = g.now.Add(1e9)
	g.record(id)(opportunity.UpdateDetails(o, opportunity.Update{Paths: []string{opportunity.PathTags}, Details: d}, genPolicy(), g.now))
	apply(2)
	tagged := func(tag string) []string {
		page, _, err := s.ListOpportunities(ctx, "t1", OpportunityFilter{Tag: tag})
		require.NoError(t, err)
		return ids(page)
	}
	assert.Equal(t, []string{id}, tagged("alpha"))
	assert.Equal(t, []string{id}, tagged("beta"))
	d.Tags = []string{"beta", "gamma"}
	g.now = g.now.Add(1e9)
	g.record(id)(opportunity.UpdateDetails(g.states[id], opportunity.Update{Paths: []string{opportunity.PathTags}, Details: d}, genPolicy(), g.now))
	apply(3)
	assert.Empty(t, tagged("alpha"))
	assert.Equal(t, []string{id}, tagged("beta"))
	assert.Equal(t, []string{id}, tagged("gamma"))
	assert.Equal(t, 2, countRows(t, s, "opportunity_tags"))
	// Tag edits change nothing the forecast reads: one history row.
	assert.Equal(t, 1, countRows(t, s, "opportunity_history"))
}
