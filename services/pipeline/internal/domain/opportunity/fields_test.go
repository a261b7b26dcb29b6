package opportunity_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

func TestUpdateAmount(t *testing.T) {
	t.Parallel()
	o := create(t)
	for _, tc := range []struct {
		name   string
		o      opportunity.Opportunity
		amount money.Money
		want   string // the new amount; "" for no events
		field  string // the violation, if any
	}{
		{"new amount", o, eur("12000.5"), "EUR 12000.50", ""},
		{"empty currency keeps the opportunity's", o, money.Money{Amount: eur("9000").Amount}, "EUR 9000.00", ""},
		{"same amount", o, eur("10000.00"), "", ""},
		{"new currency without quotes", o, money.MustParse("usd", "11000"), "USD 11000.00", ""},
		{"zero", o, eur("0"), "EUR 0.00", ""},
		{"negative", o, eur("-1"), "", "amount"},
		{"below the minor unit", o, eur("1.001"), "", "amount"},
		{"new currency with quotes", withQuote(t, o), money.MustParse("USD", "11000"), "", "amount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, err := opportunity.UpdateAmount(tc.o, tc.amount, t0.Add(day))
			if tc.field != "" {
				assert.Equal(t, []string{tc.field}, violations(t, err))
				return
			}
			require.NoError(t, err)
			if tc.want == "" {
				assert.Empty(t, evs)
				return
			}
			require.Equal(t, []string{"OpportunityAmountChanged"}, types(evs))
			e := evs[0].(opportunity.OpportunityAmountChanged)
			assert.Equal(t, "EUR 10000.00", e.Old.String())
			assert.Equal(t, tc.want, e.New.String())
			assert.Equal(t, opportunity.AmountManual, e.Reason)
			assert.Empty(t, e.QuoteID)
			assert.Equal(t, tc.want, opportunity.ApplyAll(tc.o, evs...).Amount.String())
		})
	}
}

// withQuote adds a draft quote q1 to o.
func withQuote(t *testing.T, o opportunity.Opportunity) opportunity.Opportunity {
	t.Helper()
	evs, err := opportunity.CreateQuote(o, draft("q1", "10"), t0)
	return apply(t, o, evs, err)
}

func draft(id, price string) opportunity.QuoteDraft {
	return opportunity.QuoteDraft{QuoteID: id, Name: "Offer", ValidUntil: date(2025, 3, 31),
		Lines: []quote.Line{{SKU: "SEAT", Quantity: decimal.NewFromInt(1), UnitPrice: eur(price)}}}
}

func TestUpdateCloseDate(t *testing.T) {
	t.Parallel()
	o := create(t) // expected 2025-06-30
	t.Run("pushed out and pulled in", func(t *testing.T) {
		t.Parallel()
		evs, err := opportunity.UpdateCloseDate(o, date(2025, 7, 31), policy(), t0)
		require.NoError(t, err)
		assert.Equal(t, []opportunity.Event{opportunity.OpportunityCloseDateChanged{Old: date(2025, 6, 30), New: date(2025, 7, 31),
			DaysMoved: 31, At: t0}}, evs)
		n := opportunity.ApplyAll(o, evs...)
		assert.Equal(t, date(2025, 7, 31), n.ExpectedCloseDate)
		evs, err = opportunity.UpdateCloseDate(n, date(2025, 3, 3), policy(), t0)
		require.NoError(t, err)
		assert.EqualValues(t, -150, evs[0].(opportunity.OpportunityCloseDateChanged).DaysMoved)
	})
	t.Run("same date", func(t *testing.T) {
		t.Parallel()
		evs, err := opportunity.UpdateCloseDate(o, date(2025, 6, 30), policy(), t0)
		require.NoError(t, err)
		assert.Empty(t, evs)
	})
	t.Run("past or missing", func(t *testing.T) {
		t.Parallel()
		_, err := opportunity.UpdateCloseDate(o, date(2025, 3, 2), policy(), t0)
		assert.Equal(t, []string{"expected_close_date"}, violations(t, err))
		_, err = opportunity.UpdateCloseDate(o, date(0, 0, 0), policy(), t0)
		assert.Equal(t, []string{"expected_close_date"}, violations(t, err))
	})
}

func TestUpdateProbability(t *testing.T) {
	t.Parallel()
	o := create(t) // prospecting, 10 %
	evs, err := opportunity.UpdateProbability(o, ptr[int32](35), t0)
	overridden := apply(t, o, evs, err)
	for _, tc := range []struct {
		name string
		o    opportunity.Opportunity
		p    *int32
		want []opportunity.Event
	}{
		{"override", o, ptr[int32](35), []opportunity.Event{opportunity.OpportunityProbabilityChanged{Old: 10, New: 35, Overridden: true, At: t0}}},
		{"override with the stage's value marks it overridden", o, ptr[int32](10),
			[]opportunity.Event{opportunity.OpportunityProbabilityChanged{Old: 10, New: 10, Overridden: true, At: t0}}},
		{"same override", overridden, ptr[int32](35), nil},
		{"clear restores the stage default", overridden, nil,
			[]opportunity.Event{opportunity.OpportunityProbabilityChanged{Old: 35, New: 10, Overridden: false, At: t0}}},
		{"clear without override", o, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, err := opportunity.UpdateProbability(tc.o, tc.p, t0)
			require.NoError(t, err)
			assert.Equal(t, tc.want, evs)
		})
	}
	_, err = opportunity.UpdateProbability(o, ptr[int32](-1), t0)
	assert.Equal(t, []string{"probability"}, violations(t, err))
	_, err = opportunity.UpdateProbability(o, ptr[int32](101), t0)
	assert.Equal(t, []string{"probability"}, violations(t, err))
	assert.True(t, overridden.ProbabilityOverridden)
	assert.EqualValues(t, 35, overridden.Probability)
}

func TestUpdateForecastCategory(t *testing.T) {
	t.Parallel()
	o := create(t) // pipeline category
	commit := pipelinedef.CategoryCommit
	evs, err := opportunity.UpdateForecastCategory(o, &commit, t0)
	overridden := apply(t, o, evs, err)
	assert.Equal(t, pipelinedef.CategoryCommit, overridden.ForecastCategory)
	assert.True(t, overridden.CategoryOverridden)
	for _, tc := range []struct {
		name string
		o    opportunity.Opportunity
		c    *pipelinedef.Category
		want []opportunity.Event
	}{
		{"override", o, ptr(pipelinedef.CategoryBestCase), []opportunity.Event{opportunity.OpportunityForecastCategoryChanged{
			Old: pipelinedef.CategoryPipeline, New: pipelinedef.CategoryBestCase, Overridden: true, At: t0}}},
		{"omit from the forecast", o, ptr(pipelinedef.CategoryOmitted), []opportunity.Event{opportunity.OpportunityForecastCategoryChanged{
			Old: pipelinedef.CategoryPipeline, New: pipelinedef.CategoryOmitted, Overridden: true, At: t0}}},
		{"same override", overridden, ptr(pipelinedef.CategoryCommit), nil},
		{"clear", overridden, nil, []opportunity.Event{opportunity.OpportunityForecastCategoryChanged{
			Old: pipelinedef.CategoryCommit, New: pipelinedef.CategoryPipeline, At: t0}}},
		{"clear without override", o, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, err := opportunity.UpdateForecastCategory(tc.o, tc.c, t0)
			require.NoError(t, err)
			assert.Equal(t, tc.want, evs)
		})
	}
	for _, c := range []pipelinedef.Category{pipelinedef.CategoryClosed, pipelinedef.CategoryUnspecified, 9} {
		_, err = opportunity.UpdateForecastCategory(o, &c, t0)
		assert.Equal(t, []string{"forecast_category"}, violations(t, err), c.String())
	}
}

func TestAssign(t *testing.T) {
	t.Parallel()
	o := create(t)
	evs, err := opportunity.Assign(o, opportunity.Assignment{OwnerID: " max ", Reason: " territory change "}, t0)
	require.NoError(t, err)
	assert.Equal(t, []opportunity.Event{opportunity.OpportunityOwnerChanged{Previous: "olga", New: "max",
		Reason: "territory change", At: t0}}, evs)
	assert.Equal(t, "max", opportunity.ApplyAll(o, evs...).OwnerID)

	evs, err = opportunity.Assign(o, opportunity.Assignment{OwnerID: "olga"}, t0)
	require.NoError(t, err)
	assert.Empty(t, evs)
	_, err = opportunity.Assign(o, opportunity.Assignment{}, t0)
	assert.Equal(t, []string{"owner_id"}, violations(t, err), "an opportunity always has an owner")
	_, err = opportunity.Assign(o, opportunity.Assignment{OwnerID: "has space"}, t0)
	assert.Equal(t, []string{"owner_id"}, violations(t, err))
}

func TestSetContactRoles(t *testing.T) {
	t.Parallel()
	o := create(t)
	roles := []opportunity.ContactRole{{ContactID: "c1", Role: opportunity.RoleDecisionMaker, Primary: true},
		{ContactID: " c2 ", Role: opportunity.RoleInfluencer}}
	evs, err := opportunity.SetContactRoles(o, roles, t0)
	require.NoError(t, err)
	require.Equal(t, []string{"OpportunityContactRolesChanged"}, types(evs))
	n := opportunity.ApplyAll(o, evs...)
	assert.Equal(t, []opportunity.ContactRole{{ContactID: "c1", Role: opportunity.RoleDecisionMaker, Primary: true},
		{ContactID: "c2", Role: opportunity.RoleInfluencer}}, n.ContactRoles)
	assert.Equal(t, " c2 ", roles[1].ContactID, "the command is not modified")

	evs, err = opportunity.SetContactRoles(n, roles, t0)
	require.NoError(t, err)
	assert.Empty(t, evs, "same roles")
	evs, err = opportunity.SetContactRoles(n, nil, t0)
	require.NoError(t, err)
	assert.Empty(t, opportunity.ApplyAll(n, evs...).ContactRoles, "clearing the roles")

	_, err = opportunity.SetContactRoles(o, []opportunity.ContactRole{{ContactID: "c1", Role: opportunity.RoleUser, Primary: true},
		{ContactID: "c1", Role: opportunity.RoleChampion, Primary: true}, {ContactID: "", Role: 99}}, t0)
	assert.Equal(t, []string{"roles[1].contact_id", "roles[1].primary", "roles[2].contact_id", "roles[2].role"}, violations(t, err))
}

// TestClosedRejectsEverythingButReopen runs every command but Reopen on a won and a lost
// opportunity.
func TestClosedRejectsEverythingButReopen(t *testing.T) {
	t.Parallel()
	lost := func(t *testing.T) opportunity.Opportunity {
		o := create(t)
		evs, err := opportunity.MarkLost(o, opportunity.Loss{Reason: opportunity.LostPrice, MovedBy: "olga"}, pipe(), t0)
		return apply(t, o, evs, err)
	}
	p, pol := pipe(), policy()
	commands := map[string]func(o opportunity.Opportunity) error{
		"UpdateDetails": func(o opportunity.Opportunity) error {
			return errOf(opportunity.UpdateDetails(o, opportunity.Update{Paths: []string{"next_step"}}, pol, t0))
		},
		"UpdateAmount": func(o opportunity.Opportunity) error { return errOf(opportunity.UpdateAmount(o, eur("1"), t0)) },
		"UpdateCloseDate": func(o opportunity.Opportunity) error {
			return errOf(opportunity.UpdateCloseDate(o, date(2025, 9, 1), pol, t0))
		},
		"UpdateProbability": func(o opportunity.Opportunity) error {
			return errOf(opportunity.UpdateProbability(o, ptr[int32](5), t0))
		},
		"UpdateForecastCategory": func(o opportunity.Opportunity) error {
			return errOf(opportunity.UpdateForecastCategory(o, ptr(pipelinedef.CategoryCommit), t0))
		},
		"Assign": func(o opportunity.Opportunity) error {
			return errOf(opportunity.Assign(o, opportunity.Assignment{OwnerID: "x"}, t0))
		},
		"SetContactRoles": func(o opportunity.Opportunity) error { return errOf(opportunity.SetContactRoles(o, nil, t0)) },
		"MoveStage": func(o opportunity.Opportunity) error {
			return errOf(opportunity.MoveStage(o, opportunity.StageMove{StageID: "qualification", MovedBy: "x"}, p, t0))
		},
		"MarkWon": func(o opportunity.Opportunity) error {
			return errOf(opportunity.MarkWon(o, opportunity.Win{MovedBy: "x"}, p, t0))
		},
		"MarkLost": func(o opportunity.Opportunity) error {
			return errOf(opportunity.MarkLost(o, opportunity.Loss{Reason: opportunity.LostOther, MovedBy: "x"}, p, t0))
		},
		"CreateQuote": func(o opportunity.Opportunity) error { return errOf(opportunity.CreateQuote(o, draft("q9", "1"), t0)) },
		"ReviseQuote": func(o opportunity.Opportunity) error { return errOf(opportunity.ReviseQuote(o, draft("q1", "2"), t0)) },
		"SendQuote": func(o opportunity.Opportunity) error {
			return errOf(opportunity.SendQuote(o, opportunity.QuoteRef{QuoteID: "q1"}, t0))
		},
		"AcceptQuote": func(o opportunity.Opportunity) error {
			return errOf(opportunity.AcceptQuote(o, opportunity.QuoteRef{QuoteID: "q1"}, t0))
		},
		"RejectQuote": func(o opportunity.Opportunity) error {
			return errOf(opportunity.RejectQuote(o, opportunity.QuoteRef{QuoteID: "q1"}, "", t0))
		},
		"ExpireQuotes": func(o opportunity.Opportunity) error { return errOf(opportunity.ExpireQuotes(o, t0)) },
	}
	for name, run := range commands {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for status, o := range map[string]opportunity.Opportunity{"WON": won(t), "LOST": lost(t)} {
				reason, msg := precondition(t, run(o))
				assert.Equal(t, opportunity.ReasonClosed, reason)
				assert.Contains(t, msg, status)
			}
		})
	}
}
