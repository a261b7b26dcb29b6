package pipelinecfg_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func violations(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "want an apperr.Error, got %v", err)
	require.Equal(t, apperr.Invalid, e.Kind, "%v", err)
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
	}
	return fields
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s := pipelinecfg.New()
	assert.EqualValues(t, 0, s.Version)
	p := s.Config.Policy()
	assert.Equal(t, "USD", p.DefaultCurrency)
	assert.EqualValues(t, 0, p.MaxCloseDatePastDays)
	assert.Empty(t, p.CustomFields)
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	plan := customfield.Definition{Name: "plan", Type: customfield.TypeString, Label: " Plan "}
	t.Run("whole configuration", func(t *testing.T) {
		t.Parallel()
		s := pipelinecfg.New()
		evs, err := pipelinecfg.Update(s, pipelinecfg.Config{CustomFields: map[string]customfield.Definition{"plan": plan},
			MaxCloseDatePastDays: 30, DefaultCurrency: " eur "}, t0)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		u := evs[0].(pipelinecfg.PipelineConfigUpdated)
		assert.Equal(t, "PipelineConfigUpdated", u.EventType())
		assert.EqualValues(t, 1, u.Version)
		assert.Equal(t, "EUR", u.Config.DefaultCurrency)
		assert.Equal(t, "Plan", u.Config.CustomFields["plan"].Label)
		s = pipelinecfg.ApplyAll(s, evs...)
		assert.EqualValues(t, 1, s.Version)
		assert.EqualValues(t, 30, s.Config.Policy().MaxCloseDatePastDays)

		// The same configuration again: no events.
		evs, err = pipelinecfg.Update(s, pipelinecfg.Config{CustomFields: map[string]customfield.Definition{"plan": plan},
			MaxCloseDatePastDays: 30, DefaultCurrency: "EUR"}, t0)
		require.NoError(t, err)
		assert.Empty(t, evs)

		// A field's type cannot change.
		_, err = pipelinecfg.Update(s, pipelinecfg.Config{CustomFields: map[string]customfield.Definition{
			"plan": {Name: "plan", Type: customfield.TypeNumber}}, DefaultCurrency: "EUR"}, t0)
		assert.Equal(t, []string{"custom_fields.plan.type"}, violations(t, err))
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		_, err := pipelinecfg.Update(pipelinecfg.New(), pipelinecfg.Config{
			CustomFields: map[string]customfield.Definition{
				"a":  {Name: "b", Type: customfield.TypeString},
				"ok": {Name: "ok"},
			},
			MaxCloseDatePastDays: -1, DefaultCurrency: "euro"}, t0)
		assert.Equal(t, []string{"custom_fields.a.name", "custom_fields.ok.type", "max_close_date_past_days", "default_currency"},
			violations(t, err))
	})
	t.Run("apply copies the map", func(t *testing.T) {
		t.Parallel()
		defs := map[string]customfield.Definition{"plan": plan}
		s := pipelinecfg.Apply(pipelinecfg.New(), pipelinecfg.PipelineConfigUpdated{Config: pipelinecfg.Config{CustomFields: defs}, Version: 1, At: t0})
		delete(defs, "plan")
		assert.Contains(t, s.Config.CustomFields, "plan")
	})
}
