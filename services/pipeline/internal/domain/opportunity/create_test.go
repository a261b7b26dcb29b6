package opportunity_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	t.Run("defaults from the pipeline and the tenant", func(t *testing.T) {
		t.Parallel()
		cmd := newOpp()
		cmd.Amount = money.Money{Amount: eur("2500.50").Amount} // no currency: the tenant's default
		cmd.Details.Name = "  Acme expansion "
		cmd.Details.Tags = []string{" Q2 ", "q2", "Upsell"}
		cmd.Details.Competitors = []string{" Globex ", "globex", "Initech"}
		cmd.Details.CustomFields = map[string]customfield.Value{"plan": customfield.StringValue("pro")}
		cmd.LeadID = "lead1"
		evs, err := opportunity.Create(opportunity.Opportunity{}, cmd, pipe(), policy(), t0)
		require.NoError(t, err)
		require.Equal(t, []string{"OpportunityCreated"}, types(evs))
		o := opportunity.ApplyAll(opportunity.Opportunity{}, evs...)
		assert.EqualValues(t, 1, o.Version)
		assert.True(t, o.Exists())
		assert.Equal(t, "Acme expansion", o.Name)
		assert.Equal(t, []string{"q2", "upsell"}, o.Tags)
		assert.Equal(t, []string{"Globex", "Initech"}, o.Competitors)
		assert.Equal(t, "lead1", o.LeadID)
		assert.Equal(t, "default", o.PipelineID)
		assert.Equal(t, "prospecting", o.StageID)
		assert.Equal(t, "Prospecting", o.StageName)
		assert.EqualValues(t, 10, o.Probability)
		assert.False(t, o.ProbabilityOverridden)
		assert.Equal(t, pipelinedef.CategoryPipeline, o.ForecastCategory)
		assert.False(t, o.CategoryOverridden)
		assert.Equal(t, "EUR 2500.50", o.Amount.String())
		assert.Equal(t, opportunity.StatusOpen, o.Status)
		assert.Equal(t, t0, o.StageEnteredAt)
		assert.Equal(t, t0, o.CreatedAt)
		assert.Equal(t, t0, o.UpdatedAt)
		assert.Equal(t, []opportunity.StageVisit{{StageID: "prospecting", StageName: "Prospecting", EnteredAt: t0}}, o.StageHistory)
	})
	t.Run("explicit stage and overrides", func(t *testing.T) {
		t.Parallel()
		cmd := newOpp()
		cmd.StageID = "proposal"
		cmd.Probability = ptr[int32](80)
		cmd.ForecastCategory = pipelinedef.CategoryCommit
		cmd.ContactRoles = []opportunity.ContactRole{{ContactID: "c1", Role: opportunity.RoleChampion, Primary: true},
			{ContactID: "c2", Role: opportunity.RoleEconomicBuyer}}
		evs, err := opportunity.Create(opportunity.Opportunity{}, cmd, pipe(), policy(), t0)
		o := apply(t, opportunity.Opportunity{}, evs, err)
		assert.Equal(t, "proposal", o.StageID)
		assert.EqualValues(t, 80, o.Probability)
		assert.True(t, o.ProbabilityOverridden)
		assert.EqualValues(t, 75, o.StageProbability)
		assert.Equal(t, pipelinedef.CategoryCommit, o.ForecastCategory)
		assert.True(t, o.CategoryOverridden)
		assert.Equal(t, pipelinedef.CategoryBestCase, o.StageCategory)
		assert.Len(t, o.ContactRoles, 2)
	})
	t.Run("bad input, one violation per field, nothing decided", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name  string
			edit  func(*opportunity.NewOpportunity)
			field string
		}{
			{"id", func(c *opportunity.NewOpportunity) { c.ID = "no spaces allowed" }, "id"},
			{"name required", func(c *opportunity.NewOpportunity) { c.Details.Name = "  " }, "name"},
			{"account id", func(c *opportunity.NewOpportunity) { c.Details.AccountID = "a/b" }, "account_id"},
			{"source", func(c *opportunity.NewOpportunity) { c.Details.Source = 42 }, "source"},
			{"description control characters", func(c *opportunity.NewOpportunity) { c.Details.Description = "a\x00b" }, "description"},
			{"tag", func(c *opportunity.NewOpportunity) { c.Details.Tags = []string{"ok", " "} }, "tags[1]"},
			{"competitor", func(c *opportunity.NewOpportunity) { c.Details.Competitors = []string{""} }, "competitors[0]"},
			{"unknown custom field", func(c *opportunity.NewOpportunity) {
				c.Details.CustomFields = map[string]customfield.Value{"nope": customfield.StringValue("x")}
			}, "custom_fields.nope"},
			{"custom field type", func(c *opportunity.NewOpportunity) {
				c.Details.CustomFields = map[string]customfield.Value{"seats": customfield.StringValue("x")}
			}, "custom_fields.seats"},
			{"owner required", func(c *opportunity.NewOpportunity) { c.OwnerID = "" }, "owner_id"},
			{"lead id", func(c *opportunity.NewOpportunity) { c.LeadID = "l 1" }, "lead_id"},
			{"unknown stage", func(c *opportunity.NewOpportunity) { c.StageID = "upcoming" }, "stage_id"},
			{"won stage", func(c *opportunity.NewOpportunity) { c.StageID = "closed_won" }, "stage_id"},
			{"lost stage", func(c *opportunity.NewOpportunity) { c.StageID = "closed_lost" }, "stage_id"},
			{"negative amount", func(c *opportunity.NewOpportunity) { c.Amount = eur("-1") }, "amount"},
			{"amount below the minor unit", func(c *opportunity.NewOpportunity) { c.Amount = eur("1.005") }, "amount"},
			{"JPY amount with decimals", func(c *opportunity.NewOpportunity) { c.Amount = money.MustParse("JPY", "100.5") }, "amount"},
			{"bad currency", func(c *opportunity.NewOpportunity) { c.Amount = money.MustParse("EURO", "1") }, "amount"},
			{"probability", func(c *opportunity.NewOpportunity) { c.Probability = ptr[int32](101) }, "probability"},
			{"category closed", func(c *opportunity.NewOpportunity) { c.ForecastCategory = pipelinedef.CategoryClosed }, "forecast_category"},
			{"close date required", func(c *opportunity.NewOpportunity) { c.ExpectedCloseDate = date(0, 0, 0) }, "expected_close_date"},
			{"close date not a date", func(c *opportunity.NewOpportunity) { c.ExpectedCloseDate = date(2025, 2, 30) }, "expected_close_date"},
			{"close date in the past", func(c *opportunity.NewOpportunity) { c.ExpectedCloseDate = date(2025, 3, 2) }, "expected_close_date"},
			{"duplicate contact", func(c *opportunity.NewOpportunity) {
				c.ContactRoles = []opportunity.ContactRole{{ContactID: "c1", Role: opportunity.RoleUser}, {ContactID: "c1", Role: opportunity.RoleOther}}
			}, "contact_roles[1].contact_id"},
			{"two primaries", func(c *opportunity.NewOpportunity) {
				c.ContactRoles = []opportunity.ContactRole{{ContactID: "c1", Role: opportunity.RoleUser, Primary: true},
					{ContactID: "c2", Role: opportunity.RoleOther, Primary: true}}
			}, "contact_roles[1].primary"},
			{"role", func(c *opportunity.NewOpportunity) {
				c.ContactRoles = []opportunity.ContactRole{{ContactID: "c1"}}
			}, "contact_roles[0].role"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				cmd := newOpp()
				tc.edit(&cmd)
				evs, err := opportunity.Create(opportunity.Opportunity{}, cmd, pipe(), policy(), t0)
				assert.Nil(t, evs)
				assert.Equal(t, []string{tc.field}, violations(t, err))
			})
		}
	})
	t.Run("every bad field at once", func(t *testing.T) {
		t.Parallel()
		_, err := opportunity.Create(opportunity.Opportunity{}, opportunity.NewOpportunity{Amount: eur("-5"), StageID: "x"}, pipe(), policy(), t0)
		assert.Equal(t, []string{"id", "name", "owner_id", "stage_id", "amount", "expected_close_date"}, violations(t, err))
	})
	t.Run("close date window", func(t *testing.T) {
		t.Parallel()
		p := policy()
		p.MaxCloseDatePastDays = 30
		cmd := newOpp()
		cmd.ExpectedCloseDate = date(2025, 2, 1) // 30 days before 2025-03-03
		_, err := opportunity.Create(opportunity.Opportunity{}, cmd, pipe(), p, t0)
		require.NoError(t, err)
		cmd.ExpectedCloseDate = date(2025, 1, 31)
		_, err = opportunity.Create(opportunity.Opportunity{}, cmd, pipe(), p, t0)
		assert.Equal(t, []string{"expected_close_date"}, violations(t, err))
	})
	t.Run("required custom field", func(t *testing.T) {
		t.Parallel()
		p := policy()
		p.CustomFields["plan"] = customfield.Definition{Name: "plan", Type: customfield.TypeString, Required: true}
		_, err := opportunity.Create(opportunity.Opportunity{}, newOpp(), pipe(), p, t0)
		assert.Equal(t, []string{"custom_fields.plan"}, violations(t, err))
	})
	t.Run("exists", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		_, err := opportunity.Create(o, newOpp(), pipe(), policy(), t0)
		e, ok := apperr.As(err)
		require.True(t, ok)
		assert.Equal(t, apperr.AlreadyExists, e.Kind)
		assert.Equal(t, "o1", e.ExistingID)
	})
	t.Run("archived pipeline", func(t *testing.T) {
		t.Parallel()
		p := pipe()
		p.Archived = true
		reason, _ := precondition(t, errOf(opportunity.Create(opportunity.Opportunity{}, newOpp(), p, policy(), t0)))
		assert.Equal(t, opportunity.ReasonPipelineArchived, reason)
	})
	t.Run("today follows now", func(t *testing.T) {
		t.Parallel()
		cmd := newOpp()
		cmd.ExpectedCloseDate = date(2025, 3, 3)
		_, err := opportunity.Create(opportunity.Opportunity{}, cmd, pipe(), policy(), time.Date(2025, 3, 3, 23, 59, 0, 0, time.UTC))
		require.NoError(t, err)
		_, err = opportunity.Create(opportunity.Opportunity{}, cmd, pipe(), policy(), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC))
		assert.Equal(t, []string{"expected_close_date"}, violations(t, err))
	})
}
