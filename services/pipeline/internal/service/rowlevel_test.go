package service_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// rowLevel is one tenant's deals, owned by three reps, with quotes and contracts:
//
//	o1 rep-a won  1 000 (contract c1, owned by rep-a; contract c1z, owned by rep-z: in rep-a's
//	                      scope through its opportunity, in rep-z's through its owner)
//	o2 rep-a open 2 000 (quote q2)
//	o3 rep-b won  4 000 (contract c3, owned by rep-a: in rep-a's scope through its owner)
//	o4 rep-c won  8 000 (contract c4, owned by rep-c)
//	o5 rep-b open 16 000 (quote q5)
//	o6 rep-c open 32 000
type rowLevel struct {
	h          *harness
	read       *commonv1.ReadOptions
	opp        map[string]string // name → id
	quote      map[string]string // opportunity name → quote id
	contract   map[string]string // name → id
	campaignOf map[string]string // opportunity name → primary campaign
}

func seedRowLevel(t *testing.T) *rowLevel {
	t.Helper()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	admin := as(t, "acme", "admin-1")
	r := &rowLevel{h: h, opp: map[string]string{}, quote: map[string]string{}, contract: map[string]string{}, campaignOf: map[string]string{}}
	deals := []struct {
		name, owner string
		amount      int64
		won         bool
	}{{"o1", "rep-a", 1_000, true}, {"o2", "rep-a", 2_000, false}, {"o3", "rep-b", 4_000, true},
		{"o4", "rep-c", 8_000, true}, {"o5", "rep-b", 16_000, false}, {"o6", "rep-c", 32_000, false}}
	for _, d := range deals {
		o := newOpportunity(d.name, d.amount, 20)
		o.OwnerId = d.owner
		o.PrimaryCampaignId = "camp-" + d.name
		r.campaignOf[d.name] = o.PrimaryCampaignId
		created, err := h.client.CreateOpportunity(admin, &pipelinev1.CreateOpportunityRequest{Opportunity: o})
		require.NoError(t, err)
		id := created.GetOpportunity().GetId()
		r.opp[d.name] = id
		if d.won {
			_, err := h.client.MarkOpportunityWon(admin, &pipelinev1.MarkOpportunityWonRequest{OpportunityId: id})
			require.NoError(t, err)
		}
	}
	for _, name := range []string{"o2", "o5"} {
		q, err := h.client.CreateQuote(admin, &pipelinev1.CreateQuoteRequest{OpportunityId: r.opp[name], Quote: quoteDraft()})
		require.NoError(t, err)
		r.quote[name] = q.GetQuote().GetQuoteId()
	}
	for _, c := range []struct{ name, opp, owner string }{{"c1", "o1", ""}, {"c1z", "o1", "rep-z"}, {"c3", "o3", "rep-a"}, {"c4", "o4", ""}} {
		made, err := h.client.CreateContract(admin, &pipelinev1.CreateContractRequest{Contract: &pipelinev1.Contract{
			OpportunityId: r.opp[c.opp], OwnerId: c.owner, StartDate: inDays(0), EndDate: inDays(365)}})
		require.NoError(t, err)
		r.contract[c.name] = made.GetContract().GetId()
	}
	r.read = &commonv1.ReadOptions{MinSequence: h.streamMsgs(t)}
	return r
}

func quoteDraft() *pipelinev1.Quote {
	return &pipelinev1.Quote{Name: "Q", ValidUntil: inDays(14), LineItems: []*pipelinev1.QuoteLineItem{
		{Sku: "LIC", Quantity: dec("2"), UnitPrice: usd(500)}}}
}

// role is a caller of tenant acme with roles and, as the token would carry them, territories
// and a team (nil: no such claim).
func role(t *testing.T, user, roles string, territories, team []string) context.Context {
	ctx := metadata.AppendToOutgoingContext(as(t, "acme", user), "x-roles", roles)
	if territories != nil {
		ctx = metadata.AppendToOutgoingContext(ctx, "x-territories", strings.Join(territories, ","))
	}
	if team != nil {
		ctx = metadata.AppendToOutgoingContext(ctx, "x-team", strings.Join(team, ","))
	}
	return ctx
}

// names maps ids back to the fixture's names, sorted.
func (r *rowLevel) names(ids []string, of map[string]string) []string {
	var out []string
	for _, id := range ids {
		for name, v := range of {
			if v == id {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// listed lists every opportunity ctx sees, pageSize at a time, and checks every page but the
// last is full.
func (r *rowLevel) listed(t *testing.T, ctx context.Context, pageSize int32) []string {
	t.Helper()
	var ids []string
	token := ""
	for {
		page, err := r.h.client.ListOpportunities(ctx, &pipelinev1.ListOpportunitiesRequest{PageSize: pageSize, PageToken: token, Read: r.read})
		require.NoError(t, err)
		for _, o := range page.GetOpportunities() {
			ids = append(ids, o.GetId())
		}
		token = page.GetNextPageToken()
		if token == "" {
			return r.names(ids, r.opp)
		}
		require.Len(t, page.GetOpportunities(), int(pageSize), "a page before the last is full")
	}
}

func (r *rowLevel) contracts(t *testing.T, ctx context.Context) []string {
	t.Helper()
	list, err := r.h.client.ListContracts(ctx, &pipelinev1.ListContractsRequest{Read: r.read})
	require.NoError(t, err)
	var ids []string
	for _, c := range list.GetContracts() {
		ids = append(ids, c.GetId())
	}
	return r.names(ids, r.contract)
}

// totals returns the forecast's USD pipeline and closed-won totals for ctx, checking that the
// forecast as of now (from the history table) counts the same opportunities.
func (r *rowLevel) totals(t *testing.T, ctx context.Context) (pipeline, closedWon int64) {
	t.Helper()
	f, err := r.h.client.GetForecast(ctx, &pipelinev1.GetForecastRequest{GroupByOwner: true, Read: r.read})
	require.NoError(t, err)
	for _, tot := range f.GetTotals() {
		require.Equal(t, "USD", tot.GetCurrencyCode())
		pipeline, closedWon = tot.GetPipeline().GetUnits(), tot.GetClosedWon().GetUnits()
	}
	asOf, err := r.h.client.GetForecast(ctx, &pipelinev1.GetForecastRequest{GroupByOwner: true, AsOf: timestamppb.Now(), Read: r.read})
	require.NoError(t, err)
	assert.True(t, proto.Equal(&pipelinev1.GetForecastResponse{Rows: f.GetRows(), Totals: f.GetTotals()},
		&pipelinev1.GetForecastResponse{Rows: asOf.GetRows(), Totals: asOf.GetTotals()}), "as of now: %v, now: %v", asOf, f)
	return pipeline, closedWon
}

// sameAsMissing requires err, the answer about record id, to be the NOT_FOUND answered for the
// missing record missingID: the same status, message (with the id in its place) and details.
func sameAsMissing(t *testing.T, missing error, missingID string, err error, id string) {
	t.Helper()
	require.Equal(t, codes.NotFound, status.Code(missing), "%v", missing)
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
	assert.Equal(t, strings.ReplaceAll(status.Convert(missing).Message(), missingID, id), status.Convert(err).Message())
	want, got := status.Convert(missing).Details(), status.Convert(err).Details()
	require.Len(t, got, len(want))
	for i := range want {
		assert.True(t, proto.Equal(want[i].(proto.Message), got[i].(proto.Message)), "detail %d: %v, missing: %v", i, got[i], want[i])
	}
}

func TestRowLevelReads(t *testing.T) {
	t.Parallel()
	r := seedRowLevel(t)
	all := []string{"o1", "o2", "o3", "o4", "o5", "o6"}
	cases := []struct {
		name string
		ctx  context.Context
		opps []string
		// pipeline and closedWon are the forecast's USD totals.
		pipeline, closedWon int64
		contracts           []string
	}{
		// A rep's territories widen nothing: opportunities carry no territory.
		{"rep: own only", role(t, "rep-a", "sales_rep", []string{"emea"}, nil), []string{"o1", "o2"}, 2_000, 1_000, []string{"c1", "c1z", "c3"}},
		{"rep with a contract only", role(t, "rep-z", "sales_rep", nil, nil), nil, 0, 0, []string{"c1z"}},
		{"manager: own and team", role(t, "mgr-1", "sales_manager", nil, []string{"rep-a", "rep-b"}),
			[]string{"o1", "o2", "o3", "o5"}, 18_000, 5_000, []string{"c1", "c1z", "c3"}},
		{"manager without a team claim: everything", role(t, "mgr-2", "sales_manager", nil, nil), all, 50_000, 13_000, []string{"c1", "c1z", "c3", "c4"}},
		{"admin", role(t, "admin-2", "admin", nil, nil), all, 50_000, 13_000, []string{"c1", "c1z", "c3", "c4"}},
		{"integration", role(t, "etl", "integration", nil, nil), all, 50_000, 13_000, []string{"c1", "c1z", "c3", "c4"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.opps, r.listed(t, tc.ctx, 1), "page size 1")
			assert.Equal(t, tc.opps, r.listed(t, tc.ctx, 3), "page size 3")
			pipeline, closedWon := r.totals(t, tc.ctx)
			assert.Equal(t, tc.pipeline, pipeline, "forecast pipeline")
			assert.Equal(t, tc.closedWon, closedWon, "forecast closed won")
			assert.Equal(t, tc.contracts, r.contracts(t, tc.ctx))

			missingOpp, err := r.h.client.GetOpportunity(tc.ctx, &pipelinev1.GetOpportunityRequest{OpportunityId: "no-such-opp", Read: r.read})
			require.Nil(t, missingOpp)
			for _, name := range all {
				id := r.opp[name]
				got, err2 := r.h.client.GetOpportunity(tc.ctx, &pipelinev1.GetOpportunityRequest{OpportunityId: id, Read: r.read})
				if !slices.Contains(tc.opps, name) {
					sameAsMissing(t, err, "no-such-opp", err2, id)
					continue
				}
				require.NoError(t, err2, name)
				assert.NotZero(t, got.GetOpportunity().GetAmount().GetUnits(), "%s: amounts are shown", name)
			}
			_, errMissingQuotes := r.h.client.ListQuotes(tc.ctx, &pipelinev1.ListQuotesRequest{OpportunityId: "no-such-opp", Read: r.read})
			_, errMissingQuote := r.h.client.GetQuote(tc.ctx, &pipelinev1.GetQuoteRequest{OpportunityId: "no-such-opp", QuoteId: "q", Read: r.read})
			for name, qid := range r.quote {
				id := r.opp[name]
				got, err := r.h.client.GetQuote(tc.ctx, &pipelinev1.GetQuoteRequest{OpportunityId: id, QuoteId: qid, Read: r.read})
				quotes, errList := r.h.client.ListQuotes(tc.ctx, &pipelinev1.ListQuotesRequest{OpportunityId: id, Read: r.read})
				if !slices.Contains(tc.opps, name) {
					sameAsMissing(t, errMissingQuote, "no-such-opp", err, id)
					sameAsMissing(t, errMissingQuotes, "no-such-opp", errList, id)
					continue
				}
				require.NoError(t, err)
				require.NoError(t, errList)
				assert.Equal(t, qid, got.GetQuote().GetQuoteId())
				assert.Len(t, quotes.GetQuotes(), 1)
			}
			_, errMissing := r.h.client.GetContract(tc.ctx, &pipelinev1.GetContractRequest{ContractId: "no-such-contract", Read: r.read})
			for name, id := range r.contract {
				got, err := r.h.client.GetContract(tc.ctx, &pipelinev1.GetContractRequest{ContractId: id, Read: r.read})
				if !slices.Contains(tc.contracts, name) {
					sameAsMissing(t, errMissing, "no-such-contract", err, id)
					continue
				}
				require.NoError(t, err, name)
				assert.Equal(t, id, got.GetContract().GetId())
			}
		})
	}
}

// Marketing reads every opportunity for campaign attribution, with its amounts withheld, and
// nothing else of the deals.
func TestMarketingReadsOpportunitiesWithoutAmounts(t *testing.T) {
	t.Parallel()
	r := seedRowLevel(t)
	ctx := role(t, "mkt-1", "marketing", nil, nil)

	assert.Equal(t, []string{"o1", "o2", "o3", "o4", "o5", "o6"}, r.listed(t, ctx, 4))
	list, err := r.h.client.ListOpportunities(ctx, &pipelinev1.ListOpportunitiesRequest{CampaignId: r.campaignOf["o5"], Read: r.read})
	require.NoError(t, err)
	require.Len(t, list.GetOpportunities(), 1)
	o := list.GetOpportunities()[0]
	assert.Nil(t, o.GetAmount(), "listed amount withheld")
	assert.Equal(t, "rep-b", o.GetOwnerId())
	assert.Equal(t, pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_OPEN, o.GetStatus())

	got, err := r.h.client.GetOpportunity(ctx, &pipelinev1.GetOpportunityRequest{OpportunityId: r.opp["o4"], Read: r.read})
	require.NoError(t, err)
	o = got.GetOpportunity()
	assert.Nil(t, o.GetAmount(), "amount withheld")
	assert.Zero(t, o.GetAmount().GetUnits())
	assert.Equal(t, "o4", o.GetName())
	assert.Equal(t, "rep-c", o.GetOwnerId())
	assert.Equal(t, "closed_won", o.GetStageId())
	assert.Equal(t, pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_WON, o.GetStatus())
	assert.Equal(t, r.campaignOf["o4"], o.GetPrimaryCampaignId())
	assert.Equal(t, pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_REFERRAL, o.GetSource())
	assert.NotEmpty(t, o.GetExpectedCloseDate())
	assert.NotEmpty(t, got.GetStageHistory())

	// Filtering or ordering by amount would tell the amounts.
	for name, req := range map[string]*pipelinev1.ListOpportunitiesRequest{
		"order by amount": {OrderBy: pipelinev1.OpportunityOrderBy_OPPORTUNITY_ORDER_BY_AMOUNT},
		"min amount":      {MinAmount: usd(5_000)},
		"max amount":      {MaxAmount: usd(5_000)},
	} {
		_, err := r.h.client.ListOpportunities(ctx, req)
		assert.Equal(t, codes.PermissionDenied, status.Code(err), "%s: %v", name, err)
	}
	// Quotes, contracts and the pipeline's forecast carry amounts: closed (the permission table).
	_, err = r.h.client.GetForecast(ctx, &pipelinev1.GetForecastRequest{})
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	_, err = r.h.client.GetQuote(ctx, &pipelinev1.GetQuoteRequest{OpportunityId: r.opp["o2"], QuoteId: r.quote["o2"]})
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	_, err = r.h.client.ListQuotes(ctx, &pipelinev1.ListQuotesRequest{OpportunityId: r.opp["o2"]})
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	_, err = r.h.client.GetContract(ctx, &pipelinev1.GetContractRequest{ContractId: r.contract["c1"]})
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	_, err = r.h.client.UpdateOpportunityAmount(ctx, &pipelinev1.UpdateOpportunityAmountRequest{OpportunityId: r.opp["o2"], Amount: usd(1)})
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)

	// A caller with marketing and a sales role sees amounts (the widest role wins).
	both := role(t, "rep-a", "marketing,sales_rep", nil, nil)
	got, err = r.h.client.GetOpportunity(both, &pipelinev1.GetOpportunityRequest{OpportunityId: r.opp["o4"], Read: r.read})
	require.NoError(t, err)
	assert.Equal(t, int64(8_000), got.GetOpportunity().GetAmount().GetUnits())
}

// A command on a record out of the caller's scope is answered as one on a missing record and
// appends nothing.
func TestRowLevelCommands(t *testing.T) {
	t.Parallel()
	r := seedRowLevel(t)
	rep := role(t, "rep-a", "sales_rep", []string{"emea"}, nil)
	v1 := uint64(1)
	type call func(ctx context.Context, opp, quote, contract string) error
	ignore := func(_ any, err error) error { return err }
	c := r.h.client
	calls := map[string]call{
		"UpdateOpportunity": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.UpdateOpportunity(ctx, &pipelinev1.UpdateOpportunityRequest{OpportunityId: opp,
				Opportunity: &pipelinev1.Opportunity{NextStep: "call"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"next_step"}}}))
		},
		"MoveOpportunityStage": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.MoveOpportunityStage(ctx, &pipelinev1.MoveOpportunityStageRequest{OpportunityId: opp, StageId: "qualification"}))
		},
		"UpdateOpportunityAmount": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.UpdateOpportunityAmount(ctx, &pipelinev1.UpdateOpportunityAmountRequest{OpportunityId: opp, Amount: usd(1)}))
		},
		"UpdateOpportunityAmount with expected version": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.UpdateOpportunityAmount(ctx, &pipelinev1.UpdateOpportunityAmountRequest{OpportunityId: opp, Amount: usd(1),
				Options: &commonv1.WriteOptions{ExpectedVersion: &v1}}))
		},
		"UpdateOpportunityCloseDate": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.UpdateOpportunityCloseDate(ctx, &pipelinev1.UpdateOpportunityCloseDateRequest{OpportunityId: opp, ExpectedCloseDate: inDays(90)}))
		},
		"UpdateOpportunityProbability": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.UpdateOpportunityProbability(ctx, &pipelinev1.UpdateOpportunityProbabilityRequest{OpportunityId: opp, Probability: proto.Uint32(90)}))
		},
		"UpdateOpportunityForecastCategory": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.UpdateOpportunityForecastCategory(ctx, &pipelinev1.UpdateOpportunityForecastCategoryRequest{OpportunityId: opp,
				ForecastCategory: pipelinev1.ForecastCategory_FORECAST_CATEGORY_COMMIT}))
		},
		"AssignOpportunity": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.AssignOpportunity(ctx, &pipelinev1.AssignOpportunityRequest{OpportunityId: opp, OwnerId: "rep-a"}))
		},
		"SetOpportunityContactRoles": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.SetOpportunityContactRoles(ctx, &pipelinev1.SetOpportunityContactRolesRequest{OpportunityId: opp,
				ContactRoles: []*pipelinev1.OpportunityContactRole{{ContactId: "contact-1", Role: pipelinev1.ContactRole_CONTACT_ROLE_OTHER}}}))
		},
		"MarkOpportunityWon": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.MarkOpportunityWon(ctx, &pipelinev1.MarkOpportunityWonRequest{OpportunityId: opp}))
		},
		"MarkOpportunityLost": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.MarkOpportunityLost(ctx, &pipelinev1.MarkOpportunityLostRequest{OpportunityId: opp, Reason: pipelinev1.LostReason_LOST_REASON_PRICE}))
		},
		"ReopenOpportunity": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.ReopenOpportunity(ctx, &pipelinev1.ReopenOpportunityRequest{OpportunityId: opp}))
		},
		"CreateQuote": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.CreateQuote(ctx, &pipelinev1.CreateQuoteRequest{OpportunityId: opp, Quote: quoteDraft()}))
		},
		"ReviseQuote": func(ctx context.Context, opp, q, _ string) error {
			return ignore(c.ReviseQuote(ctx, &pipelinev1.ReviseQuoteRequest{OpportunityId: opp, QuoteId: q, Quote: quoteDraft()}))
		},
		"SendQuote": func(ctx context.Context, opp, q, _ string) error {
			return ignore(c.SendQuote(ctx, &pipelinev1.SendQuoteRequest{OpportunityId: opp, QuoteId: q}))
		},
		"AcceptQuote": func(ctx context.Context, opp, q, _ string) error {
			return ignore(c.AcceptQuote(ctx, &pipelinev1.AcceptQuoteRequest{OpportunityId: opp, QuoteId: q}))
		},
		"RejectQuote": func(ctx context.Context, opp, q, _ string) error {
			return ignore(c.RejectQuote(ctx, &pipelinev1.RejectQuoteRequest{OpportunityId: opp, QuoteId: q, Reason: "price"}))
		},
		"CreateContract": func(ctx context.Context, opp, _, _ string) error {
			return ignore(c.CreateContract(ctx, &pipelinev1.CreateContractRequest{Contract: &pipelinev1.Contract{OpportunityId: opp,
				StartDate: inDays(0), EndDate: inDays(365)}}))
		},
		"UpdateContract": func(ctx context.Context, _, _, k string) error {
			return ignore(c.UpdateContract(ctx, &pipelinev1.UpdateContractRequest{ContractId: k, Contract: &pipelinev1.Contract{Terms: "net 30"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"terms"}}}))
		},
		"ActivateContract": func(ctx context.Context, _, _, k string) error {
			return ignore(c.ActivateContract(ctx, &pipelinev1.ActivateContractRequest{ContractId: k}))
		},
		"RenewContract": func(ctx context.Context, _, _, k string) error {
			return ignore(c.RenewContract(ctx, &pipelinev1.RenewContractRequest{ContractId: k, EndDate: inDays(800)}))
		},
	}
	before := r.h.streamMsgs(t)
	for name, do := range calls {
		t.Run(name, func(t *testing.T) {
			// o5 is rep-b's open deal with quote q5; CreateContract needs a won deal (o4, rep-c's),
			// the contract commands c4 (rep-c's, on o4).
			opp := r.opp["o5"]
			if name == "CreateContract" || name == "ReopenOpportunity" {
				opp = r.opp["o4"]
			}
			missing := do(rep, "no-such-opp", r.quote["o5"], "no-such-contract")
			got := do(rep, opp, r.quote["o5"], r.contract["c4"])
			if strings.Contains(name, "Contract") && name != "CreateContract" {
				sameAsMissing(t, missing, "no-such-contract", got, r.contract["c4"])
			} else {
				sameAsMissing(t, missing, "no-such-opp", got, opp)
			}
		})
	}
	// TerminateContract is the managers': a manager whose team is rep-b cannot reach c4.
	mgr := role(t, "mgr-1", "sales_manager", nil, []string{"rep-b"})
	missing := ignore(c.TerminateContract(mgr, &pipelinev1.TerminateContractRequest{ContractId: "no-such-contract", Reason: "x"}))
	got := ignore(c.TerminateContract(mgr, &pipelinev1.TerminateContractRequest{ContractId: r.contract["c4"], Reason: "x"}))
	sameAsMissing(t, missing, "no-such-contract", got, r.contract["c4"])
	assert.Equal(t, before, r.h.streamMsgs(t), "nothing appended")

	// In scope, the same commands go through: the rep's own deal, the manager's team's deal, a
	// contract on the rep's deal.
	_, err := c.UpdateOpportunityAmount(rep, &pipelinev1.UpdateOpportunityAmountRequest{OpportunityId: r.opp["o2"], Amount: usd(2_500)})
	require.NoError(t, err)
	_, err = c.UpdateOpportunityAmount(mgr, &pipelinev1.UpdateOpportunityAmountRequest{OpportunityId: r.opp["o5"], Amount: usd(17_000)})
	require.NoError(t, err)
	_, err = c.ReviseQuote(mgr, &pipelinev1.ReviseQuoteRequest{OpportunityId: r.opp["o5"], QuoteId: r.quote["o5"], Quote: quoteDraft()})
	require.NoError(t, err)
	_, err = c.ActivateContract(rep, &pipelinev1.ActivateContractRequest{ContractId: r.contract["c1"]})
	require.NoError(t, err)
	// c3 follows rep-b's deal but rep-a owns it.
	_, err = c.UpdateContract(rep, &pipelinev1.UpdateContractRequest{ContractId: r.contract["c3"], Contract: &pipelinev1.Contract{Terms: "net 30"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"terms"}}})
	require.NoError(t, err)
	// Creating stays open: a rep converting a lead opens the deal for the lead's owner.
	forB := newOpportunity("for b", 1_000, 30)
	forB.OwnerId = "rep-b"
	convert := &pipelinev1.CreateOpportunityRequest{Opportunity: forB, OpportunityId: "opp-from-lead-1",
		Options: &commonv1.WriteOptions{IdempotencyKey: "convert-lead-1"}}
	created, err := c.CreateOpportunity(rep, convert)
	require.NoError(t, err)
	assert.Equal(t, "rep-b", created.GetOpportunity().GetOwnerId())
	// A conversion's retry is replayed, though the deal is now out of the rep's scope.
	again, err := c.CreateOpportunity(rep, convert)
	require.NoError(t, err)
	assert.True(t, again.GetResult().GetReplayed())
	assert.Equal(t, "opp-from-lead-1", again.GetOpportunity().GetId())
	// ... and the rep then cannot reach it.
	_, err = c.GetOpportunity(rep, &pipelinev1.GetOpportunityRequest{OpportunityId: created.GetOpportunity().GetId(), Read: after(created.GetResult())})
	assert.Equal(t, codes.NotFound, status.Code(err), "%v", err)

	// A command's replay answers with the record's current state: after the rep gave the deal
	// away, the retry of that assignment is NOT_FOUND like any command on it.
	give := &pipelinev1.AssignOpportunityRequest{OpportunityId: r.opp["o2"], OwnerId: "rep-c", Options: &commonv1.WriteOptions{IdempotencyKey: "give-o2"}}
	gave, err := c.AssignOpportunity(rep, give)
	require.NoError(t, err)
	assert.Equal(t, "rep-c", gave.GetOpportunity().GetOwnerId())
	_, err = c.AssignOpportunity(rep, give)
	assert.Equal(t, codes.NotFound, status.Code(err), "%v", err)
}
