package campaign_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
)

func apply(c campaign.Campaign, evs []campaign.Event) campaign.Campaign {
	for _, e := range evs {
		c = campaign.Apply(c, e)
	}
	return c
}

// A campaign created with a budget in one currency and moved to another before any cost was
// recorded keeps a zero actual cost in the old currency; the first cost entry, in the new
// currency, must not be summed into the old one.
func TestRecordCostAfterTheBudgetCurrencyChanged(t *testing.T) {
	t.Parallel()
	c := created(t, valid()) // budget EUR 1000, actual cost EUR 0
	evs, err := campaign.UpdateDetails(c, campaign.Update{Paths: []string{"budget"},
		Details: campaign.Details{Budget: money.MustParse("USD", "1000")}}, now)
	require.NoError(t, err)
	c = apply(c, evs)
	require.Equal(t, "USD", c.Currency())

	evs, err = campaign.RecordCost(c, campaign.CostEntry{Amount: money.MustParse("USD", "10")}, now)
	require.NoError(t, err)
	got := evs[0].(campaign.CampaignCostRecorded).ActualCost
	assert.True(t, money.MustParse("USD", "10").Equal(got), "the total is in the entry's (the campaign's) currency: got %s", got)
	c = apply(c, evs)

	_, err = campaign.RecordCost(c, campaign.CostEntry{Amount: eur("5")}, now)
	assert.Equal(t, []string{"entry.amount.currency_code"}, fields(t, err), "the old currency is refused")
}

// The documented order: the budget's currency, else the expected revenue's, else the cost's.
func TestCurrencyFallsBackToTheExpectedRevenueBeforeAZeroCost(t *testing.T) {
	t.Parallel()
	c := created(t, valid()) // budget EUR, actual cost EUR 0
	evs, err := campaign.UpdateDetails(c, campaign.Update{Paths: []string{"budget", "expected_revenue"},
		Details: campaign.Details{ExpectedRevenue: money.MustParse("USD", "5000")}}, now)
	require.NoError(t, err)
	c = apply(c, evs)
	assert.Equal(t, "USD", c.Currency())
	_, err = campaign.RecordCost(c, campaign.CostEntry{Amount: money.MustParse("USD", "1")}, now)
	assert.NoError(t, err)
}

// The running total travels as google.type.Money-like units (int64): a total beyond that
// cannot be encoded and would make the campaign unreadable, so the entry is refused.
func TestRecordCostRefusesATotalBeyondTheRepresentableRange(t *testing.T) {
	t.Parallel()
	c := created(t, valid())
	big := eur("9223372036854775000")
	evs, err := campaign.RecordCost(c, campaign.CostEntry{Amount: big}, now)
	require.NoError(t, err)
	c = apply(c, evs)
	evs, err = campaign.RecordCost(c, campaign.CostEntry{Amount: eur("1000")}, now)
	assert.Empty(t, evs)
	assert.Equal(t, []string{"entry.amount"}, fields(t, err))
}
