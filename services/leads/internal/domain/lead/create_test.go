package lead_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	t.Run("plain lead", func(t *testing.T) {
		t.Parallel()
		d := details()
		d.Email = "  jane@acme.com "
		d.Country = "br"
		d.CustomFields = map[string]customfield.Value{"plan": customfield.StringValue("pro")}
		evs, err := lead.Create(lead.Lead{}, lead.NewLead{ID: "l1", Details: d, Tags: []string{" VIP ", "west  coast", "vip"}},
			policy(), nil, t0)
		require.NoError(t, err)
		require.Equal(t, []string{"LeadCreated"}, types(evs))
		l := lead.ApplyAll(lead.Lead{}, evs...)
		assert.EqualValues(t, 1, l.Version)
		assert.Equal(t, "jane@acme.com", l.Email)
		assert.Equal(t, "BR", l.Country)
		assert.Equal(t, []string{"vip", "west coast"}, l.Tags)
		assert.Equal(t, lead.StatusNew, l.Status)
		assert.Equal(t, t0, l.StatusChangedAt)
		assert.Equal(t, t0, l.CreatedAt)
		assert.Empty(t, l.TerritoryID)
		assert.Empty(t, l.OwnerID)
		assert.Equal(t, scoring.Score{Temperature: scoring.TemperatureCold, ModelVersion: 1, ScoredAt: t0}, l.Score)
		assert.Equal(t, customfield.StringValue("pro"), l.CustomFields["plan"])
	})
	t.Run("round-robin territory", func(t *testing.T) {
		t.Parallel()
		d := details()
		d.Country = "DE"
		var asked []string
		assign := func(ter territory.Territory) (string, error) {
			asked = append(asked, ter.ID)
			return "r2", nil
		}
		evs, err := lead.Create(lead.Lead{}, lead.NewLead{ID: "l1", Details: d}, policy(), assign, t0)
		require.NoError(t, err)
		l := lead.ApplyAll(lead.Lead{}, evs...)
		assert.Equal(t, []string{"emea"}, asked)
		assert.Equal(t, "emea", l.TerritoryID)
		assert.Equal(t, "r2", l.OwnerID)
		assert.Equal(t, lead.AssignRoundRobin, l.AssignmentReason)
		assert.EqualValues(t, 10, l.Score.Fit, "DE is a target country")
	})
	t.Run("fixed owner territory", func(t *testing.T) {
		t.Parallel()
		d := details()
		d.Country, d.EmployeeCount = "US", 5000
		l := create(t, d)
		assert.Equal(t, "us-ent", l.TerritoryID)
		assert.Equal(t, "olga", l.OwnerID)
		assert.Equal(t, lead.AssignTerritoryOwner, l.AssignmentReason)
	})
	t.Run("explicit owner wins and skips round-robin", func(t *testing.T) {
		t.Parallel()
		d := details()
		d.Country = "DE"
		assign := func(territory.Territory) (string, error) { t.Fatal("assigner called"); return "", nil }
		evs, err := lead.Create(lead.Lead{}, lead.NewLead{ID: "l1", Details: d, OwnerID: "max"}, policy(), assign, t0)
		l := apply(t, lead.Lead{}, evs, err)
		assert.Equal(t, "max", l.OwnerID)
		assert.Equal(t, lead.AssignManual, l.AssignmentReason)
		assert.Equal(t, "emea", l.TerritoryID)
	})
	t.Run("assigner failure fails the command", func(t *testing.T) {
		t.Parallel()
		d := details()
		d.Country = "FR"
		boom := errors.New("kv down")
		_, err := lead.Create(lead.Lead{}, lead.NewLead{ID: "l1", Details: d}, policy(),
			func(territory.Territory) (string, error) { return "", boom }, t0)
		assert.ErrorIs(t, err, boom)
	})
	t.Run("auto MQL on arrival", func(t *testing.T) {
		t.Parallel()
		d := details()
		d.JobTitle, d.EmployeeCount, d.Industry, d.Country = "VP Marketing", 200, "Software", "US"
		evs, err := lead.Create(lead.Lead{}, lead.NewLead{ID: "l1", Details: d}, policy(), nil, t0)
		require.NoError(t, err)
		require.Equal(t, []string{"LeadCreated", "LeadStatusChanged"}, types(evs))
		sc := evs[1].(lead.LeadStatusChanged)
		assert.Equal(t, lead.StatusNew, sc.From)
		assert.Equal(t, lead.StatusMQL, sc.To)
		assert.True(t, sc.Automatic)
		assert.Equal(t, lead.PathScore, sc.QualificationPath)
		assert.Zero(t, sc.TimeInPrevious)
		assert.Equal(t, lead.SourceWebForm, sc.Source)
		assert.Equal(t, "total score 65 reached the MQL threshold 60 (scoring model v1)", sc.Reason)
		l := lead.ApplyAll(lead.Lead{}, evs...)
		assert.Equal(t, lead.StatusMQL, l.Status)
		assert.Equal(t, scoring.TemperatureWarm, l.Score.Temperature)
		assert.EqualValues(t, 2, l.Version)
	})
	t.Run("already exists", func(t *testing.T) {
		t.Parallel()
		l := create(t, details())
		_, err := lead.Create(l, lead.NewLead{ID: "l1", Details: details()}, policy(), nil, t0)
		e, ok := apperr.As(err)
		require.True(t, ok)
		assert.Equal(t, apperr.AlreadyExists, e.Kind)
		assert.Equal(t, "l1", e.ExistingID)
	})
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		edit   func(*lead.NewLead)
		fields []string
	}{
		{"bad email, negative revenue and unknown custom field: three violations", func(c *lead.NewLead) {
			c.Details.Email = "jane@"
			c.Details.AnnualRevenue = lead.Money{Currency: "USD", Units: -5}
			c.Details.CustomFields = map[string]customfield.Value{"nope": customfield.BoolValue(true)}
		}, []string{"email", "annual_revenue", "custom_fields.nope"}},
		{"id", func(c *lead.NewLead) { c.ID = "a.b" }, []string{"id"}},
		{"display-name email", func(c *lead.NewLead) { c.Details.Email = "Jane <jane@acme.com>" }, []string{"email"}},
		{"first name too long", func(c *lead.NewLead) { c.Details.FirstName = strings.Repeat("x", 101) }, []string{"first_name"}},
		{"phone", func(c *lead.NewLead) { c.Details.Phone = "12-34" }, []string{"phone"}},
		{"website", func(c *lead.NewLead) { c.Details.Website = "ftp://acme.com" }, []string{"website"}},
		{"country name instead of code", func(c *lead.NewLead) { c.Details.Country = "Germany" }, []string{"country"}},
		{"negative employees", func(c *lead.NewLead) { c.Details.EmployeeCount = -1 }, []string{"employee_count"}},
		{"revenue without currency", func(c *lead.NewLead) { c.Details.AnnualRevenue = lead.Money{Units: 5} }, []string{"annual_revenue"}},
		{"revenue nanos of the wrong sign", func(c *lead.NewLead) {
			c.Details.AnnualRevenue = lead.Money{Currency: "EUR", Units: 5, Nanos: -1}
		}, []string{"annual_revenue"}},
		{"source unspecified", func(c *lead.NewLead) { c.Details.Source = lead.SourceUnspecified }, []string{"source"}},
		{"source unknown", func(c *lead.NewLead) { c.Details.Source = 42 }, []string{"source"}},
		{"utm too long", func(c *lead.NewLead) { c.Details.UTM.Term = strings.Repeat("x", 201) }, []string{"utm.term"}},
		{"campaign id", func(c *lead.NewLead) { c.Details.CampaignID = "spring sale" }, []string{"campaign_id"}},
		{"custom field of the wrong type", func(c *lead.NewLead) {
			c.Details.CustomFields = map[string]customfield.Value{"seats": customfield.StringValue("ten"),
				"renewal": customfield.DateValue("2025-02-30")}
		}, []string{"custom_fields.renewal", "custom_fields.seats"}},
		{"bad tag", func(c *lead.NewLead) { c.Tags = []string{"ok", "  "} }, []string{"tags[1]"}},
		{"owner id", func(c *lead.NewLead) { c.OwnerID = "a b" }, []string{"owner_id"}},
		{"no way to reach the lead", func(c *lead.NewLead) {
			c.Details.Email, c.Details.LastName, c.Details.Phone = "", "", ""
		}, []string{"email"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := lead.NewLead{ID: "l1", Details: details()}
			tc.edit(&cmd)
			evs, err := lead.Create(lead.Lead{}, cmd, policy(), nil, t0)
			assert.Nil(t, evs)
			assert.Equal(t, tc.fields, violations(t, err))
		})
	}
	t.Run("required custom field", func(t *testing.T) {
		t.Parallel()
		p := policy()
		p.CustomFields["plan"] = customfield.Definition{Name: "plan", Type: customfield.TypeString, Required: true}
		_, err := lead.Create(lead.Lead{}, lead.NewLead{ID: "l1", Details: details()}, p, nil, t0)
		assert.Equal(t, []string{"custom_fields.plan"}, violations(t, err))
	})
}
