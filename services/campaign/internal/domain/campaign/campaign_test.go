package campaign_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
)

var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// eur is s in EUR; s may exceed ParseDecimal's API bounds (totals near the int64 limit).
func eur(s string) money.Money { return money.New("EUR", decimal.RequireFromString(s)) }

// assertMoney compares amounts by value: the exponent of a decimal (10 vs 10.00) is not part
// of it.
func assertMoney(t *testing.T, want, got money.Money, msgAndArgs ...any) {
	t.Helper()
	assert.True(t, want.Equal(got), append([]any{"want %s, got %s", want, got}, msgAndArgs...)...)
}

func valid() campaign.Details {
	return campaign.Details{Name: "Spring launch", Channel: campaign.ChannelEmail, StartDate: "2025-03-01", EndDate: "2025-03-31",
		Budget: eur("1000")}
}

func created(t *testing.T, d campaign.Details) campaign.Campaign {
	t.Helper()
	evs, err := campaign.Create(campaign.Campaign{}, "c1", d, now)
	require.NoError(t, err)
	c := campaign.Campaign{}
	for _, e := range evs {
		c = campaign.Apply(c, e)
	}
	return c
}

func fields(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperr.Invalid, e.Kind, "%v", err)
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestCreate(t *testing.T) {
	t.Parallel()
	c := created(t, valid())
	assert.Equal(t, campaign.StatusPlanned, c.Status)
	assert.Equal(t, campaign.DefaultStatuses(), c.MemberStatuses)
	assertMoney(t, eur("0"), c.ActualCost)
	assert.Equal(t, uint64(1), c.Version)

	tests := []struct {
		name   string
		modify func(*campaign.Details)
		want   []string
	}{
		{"no name", func(d *campaign.Details) { d.Name = "" }, []string{"name"}},
		{"no channel", func(d *campaign.Details) { d.Channel = 0 }, []string{"channel"}},
		{"end before start", func(d *campaign.Details) { d.EndDate = "2025-02-01" }, []string{"end_date"}},
		{"bad date", func(d *campaign.Details) { d.StartDate = "2025-02-30" }, []string{"start_date"}},
		{"negative budget", func(d *campaign.Details) { d.Budget = eur("-1") }, []string{"budget"}},
		{"bad currency", func(d *campaign.Details) { d.Budget = money.MustParse("eu", "1") }, []string{"budget.currency_code"}},
		{"percent over 100", func(d *campaign.Details) { d.ExpectedResponsePercent = "101" }, []string{"expected_response_percent.value"}},
		{"duplicate status names", func(d *campaign.Details) {
			d.MemberStatuses = append(campaign.DefaultStatuses(), campaign.MemberStatus{Name: "sent", Kind: campaign.KindOther})
		}, []string{"member_statuses[7].name"}},
		{"two SENT", func(d *campaign.Details) {
			d.MemberStatuses = append(campaign.DefaultStatuses(), campaign.MemberStatus{Name: "mailed", Kind: campaign.KindSent})
		}, []string{"member_statuses"}},
		{"no UNSUBSCRIBED", func(d *campaign.Details) { d.MemberStatuses = campaign.DefaultStatuses()[:6] }, []string{"member_statuses"}},
		{"bad status name", func(d *campaign.Details) {
			d.MemberStatuses = append(campaign.DefaultStatuses(), campaign.MemberStatus{Name: "Attended", Kind: campaign.KindOther})
		}, []string{"member_statuses[7].name"}},
		{"own parent", func(d *campaign.Details) { d.ParentCampaignID = "c1" }, []string{"parent_campaign_id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := valid()
			tc.modify(&d)
			evs, err := campaign.Create(campaign.Campaign{}, "c1", d, now)
			assert.Empty(t, evs)
			assert.Equal(t, tc.want, fields(t, err))
		})
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to campaign.Status
		ok       bool
	}{
		{campaign.StatusPlanned, campaign.StatusActive, true},
		{campaign.StatusPlanned, campaign.StatusAborted, true},
		{campaign.StatusPlanned, campaign.StatusPaused, false},
		{campaign.StatusPlanned, campaign.StatusCompleted, false},
		{campaign.StatusActive, campaign.StatusPaused, true},
		{campaign.StatusPaused, campaign.StatusActive, true},
		{campaign.StatusActive, campaign.StatusCompleted, true},
		{campaign.StatusPaused, campaign.StatusCompleted, true},
		{campaign.StatusPaused, campaign.StatusAborted, true},
		{campaign.StatusCompleted, campaign.StatusAborted, false},
		{campaign.StatusCompleted, campaign.StatusActive, false},
		{campaign.StatusAborted, campaign.StatusActive, false},
		{campaign.StatusActive, campaign.StatusPlanned, false},
	}
	for _, tc := range tests {
		t.Run(tc.from.String()+"→"+tc.to.String(), func(t *testing.T) {
			t.Parallel()
			c := created(t, valid())
			c.Status = tc.from
			evs, err := campaign.ChangeStatus(c, tc.to, "", now)
			if tc.ok {
				require.NoError(t, err)
				require.Len(t, evs, 1)
				assert.Equal(t, tc.to, campaign.Apply(c, evs[0]).Status)
				return
			}
			assert.Equal(t, apperr.FailedPrecondition, apperr.KindOf(err))
			assert.Contains(t, err.Error(), tc.from.String())
		})
	}
	c := created(t, valid())
	evs, err := campaign.ChangeStatus(c, campaign.StatusPlanned, "", now)
	require.NoError(t, err)
	assert.Empty(t, evs, "a move to the current status changes nothing")
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	c := created(t, valid())
	d := c.Details
	d.Name, d.Description = "Renamed", "ignored: not in the mask"
	evs, err := campaign.UpdateDetails(c, campaign.Update{Paths: []string{"name"}, Details: d}, now)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	u := evs[0].(campaign.CampaignUpdated)
	assert.Equal(t, []string{"name"}, u.Changed)
	n := campaign.Apply(c, u)
	assert.Equal(t, "Renamed", n.Name)
	assert.Empty(t, n.Description)

	evs, err = campaign.UpdateDetails(n, campaign.Update{Paths: []string{"name"}, Details: d}, now)
	require.NoError(t, err)
	assert.Empty(t, evs, "no change, no event")

	_, err = campaign.UpdateDetails(c, campaign.Update{Paths: []string{"bogus", "custom_fields.x", "end_date"},
		Details: campaign.Details{EndDate: "2025-01-01"}}, now)
	assert.Equal(t, []string{"update_mask.paths[0]", "update_mask.paths[1]", "end_date"}, fields(t, err))

	_, err = campaign.UpdateDetails(c, campaign.Update{Paths: []string{"name"}}, now)
	assert.Equal(t, []string{"name"}, fields(t, err), "name is required")
}

func TestRecordCost(t *testing.T) {
	t.Parallel()
	c := created(t, valid())
	evs, err := campaign.RecordCost(c, campaign.CostEntry{Amount: eur("120.50"), Date: "2025-03-02"}, now)
	require.NoError(t, err)
	c = campaign.Apply(c, evs[0])
	evs, err = campaign.RecordCost(c, campaign.CostEntry{Amount: eur("0.5")}, now)
	require.NoError(t, err)
	assert.Equal(t, "2025-03-01", evs[0].(campaign.CampaignCostRecorded).Entry.Date, "the date defaults to today")
	c = campaign.Apply(c, evs[0])
	assertMoney(t, eur("121"), c.ActualCost)

	for name, tc := range map[string]struct {
		e    campaign.CostEntry
		want string
	}{
		"negative":       {campaign.CostEntry{Amount: eur("-1")}, "entry.amount"},
		"other currency": {campaign.CostEntry{Amount: money.MustParse("USD", "1")}, "entry.amount.currency_code"},
		"missing":        {campaign.CostEntry{}, "entry.amount"},
		"bad date":       {campaign.CostEntry{Amount: eur("1"), Date: "yesterday"}, "entry.date"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := campaign.RecordCost(c, tc.e, now)
			assert.Equal(t, []string{tc.want}, fields(t, err))
		})
	}
}
