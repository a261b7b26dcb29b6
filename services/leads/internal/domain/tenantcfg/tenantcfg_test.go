package tenantcfg_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/domain/tenantcfg"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func fold(t *testing.T, c tenantcfg.Config, evs []tenantcfg.Event, err error) tenantcfg.Config {
	t.Helper()
	require.NoError(t, err)
	for _, e := range evs {
		c = tenantcfg.Apply(c, e)
	}
	return c
}

func fields(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperr.Invalid, e.Kind)
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := tenantcfg.New()
	assert.EqualValues(t, 0, c.Version)
	assert.EqualValues(t, scoring.DefaultModelVersion, c.Model.Version)
	assert.Equal(t, lead.Settings{StallDays: 30, RequireBudget: true, RequireAuthority: true, RequireNeed: true,
		RequireTimeline: true}, c.Settings)
	p := c.Policy()
	assert.Empty(t, p.Territories)
	assert.NoError(t, p.Model.Validate())
	// Every source the default model names is a lead source.
	_, err := tenantcfg.UpdateScoringModel(c, scoring.DefaultModel(), t0)
	require.NoError(t, err)
}

func TestCustomFields(t *testing.T) {
	t.Parallel()
	c := tenantcfg.New()
	plan := customfield.Definition{Name: "plan", Type: customfield.TypeString, Label: " Plan "}
	evs, err := tenantcfg.DefineCustomField(c, tenantcfg.ObjectLead, plan, t0)
	c = fold(t, c, evs, err)
	assert.Equal(t, "Plan", c.CustomFields["plan"].Label)

	_, err = tenantcfg.DefineCustomField(c, tenantcfg.ObjectLead, plan, t0)
	assert.Equal(t, apperr.AlreadyExists, apperr.KindOf(err))
	_, err = tenantcfg.DefineCustomField(c, tenantcfg.ObjectLead, customfield.Definition{Name: "9x"}, t0)
	assert.Equal(t, []string{"field.name", "field.type"}, fields(t, err))

	_, err = tenantcfg.UpdateCustomField(c, tenantcfg.ObjectLead, customfield.Definition{Name: "plan", Type: customfield.TypeNumber}, t0)
	e, _ := apperr.As(err)
	require.NotNil(t, e)
	assert.Equal(t, tenantcfg.ReasonTypeImmutable, e.Reason)
	evs, err = tenantcfg.UpdateCustomField(c, tenantcfg.ObjectLead, customfield.Definition{Name: "plan", Type: customfield.TypeString, Label: "Plan"}, t0)
	require.NoError(t, err)
	assert.Empty(t, evs, "unchanged")
	before := c
	evs, err = tenantcfg.UpdateCustomField(c, tenantcfg.ObjectLead, customfield.Definition{Name: "plan", Type: customfield.TypeString, Label: "Plan", Required: true}, t0)
	c = fold(t, c, evs, err)
	assert.True(t, c.CustomFields["plan"].Required)
	assert.False(t, before.CustomFields["plan"].Required, "Apply copies the map")
	_, err = tenantcfg.UpdateCustomField(c, tenantcfg.ObjectLead, customfield.Definition{Name: "nope", Type: customfield.TypeString}, t0)
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))

	evs, err = tenantcfg.RemoveCustomField(c, tenantcfg.ObjectLead, "plan", t0)
	c = fold(t, c, evs, err)
	assert.Empty(t, c.CustomFields)
	_, err = tenantcfg.RemoveCustomField(c, tenantcfg.ObjectLead, "plan", t0)
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
	assert.EqualValues(t, 3, c.Version)
}

func TestUpdateScoringModel(t *testing.T) {
	t.Parallel()
	c := tenantcfg.New()
	m := scoring.DefaultModel()
	m.MQLThreshold = 70
	m.Version = 99 // ignored: the aggregate numbers versions
	evs, err := tenantcfg.UpdateScoringModel(c, m, t0)
	c = fold(t, c, evs, err)
	assert.EqualValues(t, 2, c.Model.Version)
	assert.EqualValues(t, 70, c.Model.MQLThreshold)

	evs, err = tenantcfg.UpdateScoringModel(c, m, t0)
	require.NoError(t, err)
	assert.Empty(t, evs, "a retried update mints no version")

	m.HotThreshold = 90
	evs, err = tenantcfg.UpdateScoringModel(c, m, t0)
	c = fold(t, c, evs, err)
	assert.EqualValues(t, 3, c.Model.Version)
	assert.EqualValues(t, 3, c.Policy().Model.Version)

	bad := scoring.DefaultModel()
	bad.FitRules[9].Values = []string{"referral", "carrier pigeon"} // the source rule
	bad.WarmThreshold = 0
	_, err = tenantcfg.UpdateScoringModel(c, bad, t0)
	assert.Equal(t, []string{"warm_threshold", "fit_rules[9].values[1]"}, fields(t, err))
}

func TestTerritories(t *testing.T) {
	t.Parallel()
	c := tenantcfg.New()
	emea := territory.Territory{ID: "emea", Name: "EMEA", Priority: 10, Countries: []string{"de", " fr"},
		Mode: territory.ModeRoundRobin, RepIDs: []string{"r1"}}
	evs, err := tenantcfg.UpsertTerritory(c, emea, t0)
	c = fold(t, c, evs, err)
	assert.Equal(t, []string{"DE", "FR"}, c.Territories["emea"].Countries)

	evs, err = tenantcfg.UpsertTerritory(c, emea, t0)
	require.NoError(t, err)
	assert.Empty(t, evs, "unchanged after normalisation")

	all := territory.Territory{ID: "all", Name: "Everyone", Priority: 100, Mode: territory.ModeFixedOwner, OwnerID: "olga"}
	evs, err = tenantcfg.UpsertTerritory(c, all, t0)
	c = fold(t, c, evs, err)
	var ids []string
	for _, t := range c.Policy().Territories {
		ids = append(ids, t.ID)
	}
	assert.Equal(t, []string{"emea", "all"}, ids, "match order")

	_, err = tenantcfg.UpsertTerritory(c, territory.Territory{ID: "x", Name: "X", Mode: territory.ModeRoundRobin}, t0)
	assert.Equal(t, []string{"territory.rep_ids"}, fields(t, err))

	evs, err = tenantcfg.RemoveTerritory(c, "emea", t0)
	c = fold(t, c, evs, err)
	assert.Len(t, c.Territories, 1)
	_, err = tenantcfg.RemoveTerritory(c, "emea", t0)
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
}

func TestSettings(t *testing.T) {
	t.Parallel()
	c := tenantcfg.New()
	s := lead.Settings{StallDays: 14, RequireNeed: true}
	evs, err := tenantcfg.SetSettings(c, s, t0)
	c = fold(t, c, evs, err)
	assert.Equal(t, s, c.Settings)
	evs, err = tenantcfg.SetSettings(c, s, t0)
	require.NoError(t, err)
	assert.Empty(t, evs)
	_, err = tenantcfg.SetSettings(c, lead.Settings{StallDays: -1}, t0)
	assert.Equal(t, []string{"settings.stall_days"}, fields(t, err))
}

func TestCustomFieldsPerObject(t *testing.T) {
	t.Parallel()
	c := tenantcfg.New()
	def := customfield.Definition{Name: "tier", Type: customfield.TypeString}
	for _, obj := range []tenantcfg.Object{tenantcfg.ObjectLead, tenantcfg.ObjectContact, tenantcfg.ObjectAccount} {
		evs, err := tenantcfg.DefineCustomField(c, obj, def, t0)
		require.NoError(t, err, obj)
		c = tenantcfg.Apply(c, evs[0])
	}
	_, err := tenantcfg.DefineCustomField(c, tenantcfg.ObjectAccount, def, t0)
	assert.Equal(t, apperr.AlreadyExists, apperr.KindOf(err))
	evs, err := tenantcfg.RemoveCustomField(c, tenantcfg.ObjectContact, "tier", t0)
	require.NoError(t, err)
	c = tenantcfg.Apply(c, evs[0])
	assert.Contains(t, c.CustomFields, "tier")
	assert.NotContains(t, c.ContactFields, "tier")
	assert.Contains(t, c.AccountPolicy().CustomFields, "tier")
	assert.Empty(t, c.ContactPolicy().CustomFields)
	assert.Len(t, c.SortedCustomFields(tenantcfg.ObjectAccount), 1)
	// An event without an object (recorded before objects existed) is a lead field.
	c = tenantcfg.Apply(tenantcfg.New(), tenantcfg.CustomFieldDefined{Field: def, At: t0})
	assert.Contains(t, c.CustomFields, "tier")
}
