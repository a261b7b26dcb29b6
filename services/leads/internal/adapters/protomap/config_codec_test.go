package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/customfield"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/domain/tenantcfg"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

func fullModel() scoring.Model {
	return scoring.Model{
		Version: 4,
		FitRules: []scoring.Rule{
			{Field: scoring.FieldSeniority, Op: scoring.OpIn, Values: []string{"vp", "c_level"}, Points: 20, Description: "senior"},
			{Field: scoring.FieldEmployeeCount, Op: scoring.OpBetween, Values: []string{"50", "500"}, Points: -5},
		},
		EngagementWeights: []scoring.Weight{{Signal: scoring.SignalMeeting, Points: 15},
			{Signal: scoring.SignalUnsubscribed, Points: -20}},
		HalfLife:      14*24*time.Hour + time.Nanosecond,
		WarmThreshold: 40, HotThreshold: 70, MQLThreshold: 60, RevenueCurrency: "EUR",
	}
}

func fullTerritory() territory.Territory {
	return territory.Territory{ID: "emea", Name: "EMEA", Priority: 3, Countries: []string{"DE", "FR"},
		Regions: []string{"Bavaria"}, Industries: []string{"Software"}, MinEmployees: 10,
		MaxEmployees: 1000, Mode: territory.ModeRoundRobin, RepIDs: []string{"u1", "u2"}, OwnerID: "u0"}
}

func configEvents() []tenantcfg.Event {
	occurred := at(time.Minute)
	return []tenantcfg.Event{
		tenantcfg.ScoringModelUpdated{Model: fullModel(), At: occurred},
		tenantcfg.TerritoryUpserted{Territory: fullTerritory(), At: occurred},
		tenantcfg.TerritoryDeleted{TerritoryID: "emea", At: occurred},
		tenantcfg.CustomFieldDefined{Field: customfield.Definition{Name: "plan", Type: customfield.TypeDate,
			Label: "Plan", Required: true}, At: occurred},
		tenantcfg.CustomFieldDeleted{Name: "plan", At: occurred},
		tenantcfg.LeadSettingsUpdated{Settings: lead.Settings{StallDays: 45, RequireBudget: true,
			RequireAuthority: true, RequireNeed: true, RequireTimeline: true, ConvertSalesAccepted: true}, At: occurred},
	}
}

func TestConfigCodecRoundTripsEveryEvent(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, e := range configEvents() {
		seen[e.EventType()] = true
		t.Run(e.EventType(), func(t *testing.T) {
			t.Parallel()
			var codec protomap.ConfigCodec
			msg, err := codec.Encode(e)
			require.NoError(t, err)
			assert.Empty(t, unsetFields(msg))

			got, err := codec.Decode(record(t, msg, e.OccurredAt()))
			require.NoError(t, err)
			assert.Equal(t, e, got)
		})
	}
	assert.Len(t, seen, 6, "every config event type has a case")
}

func TestConfigCodecRejectsLeadEvents(t *testing.T) {
	t.Parallel()
	_, err := protomap.ConfigCodec{}.Decode(record(t, &leadsv1.LeadMergedInto{SurvivorLeadId: "x"}, t0))
	assert.Error(t, err)
	_, err = protomap.ConfigCodec{}.Encode(nil)
	assert.Error(t, err)
}

func TestConfigMappingsRoundTrip(t *testing.T) {
	t.Parallel()
	m, err := protomap.ScoringModelFromProto(protomap.ScoringModelToProto(fullModel()))
	require.NoError(t, err)
	assert.Equal(t, fullModel(), m)

	tr, err := protomap.TerritoryFromProto(protomap.TerritoryToProto(fullTerritory()))
	require.NoError(t, err)
	assert.Equal(t, fullTerritory(), tr)

	def := customfield.Definition{Name: "seats", Type: customfield.TypeNumber, Label: "Seats", Required: true}
	for _, o := range []tenantcfg.Object{tenantcfg.ObjectLead, tenantcfg.ObjectContact, tenantcfg.ObjectAccount} {
		obj, d, err := protomap.CustomFieldFromProto(protomap.CustomFieldToProto(o, def))
		require.NoError(t, err)
		assert.Equal(t, def, d)
		assert.Equal(t, o, obj)
	}

	s := lead.Settings{StallDays: 9, RequireNeed: true}
	got, err := protomap.SettingsFromProto(protomap.SettingsToProto(s))
	require.NoError(t, err)
	assert.Equal(t, s, got)
}

func TestConfigFromProtoViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func() error
		want []string
	}{
		{"model enums and half-life", func() error {
			p := protomap.ScoringModelToProto(fullModel())
			p.FitRules[1].Operator = 42
			p.EngagementWeights[0].Signal = -1
			p.EngagementHalfLife.Nanos = -5 // seconds positive, nanos negative
			_, err := protomap.ScoringModelFromProto(p)
			return err
		}, []string{"model.fit_rules[1].operator", "model.engagement_weights[0].signal", "model.engagement_half_life"}},
		{"nil model", func() error { _, err := protomap.ScoringModelFromProto(nil); return err }, []string{"model"}},
		{"territory mode", func() error {
			p := protomap.TerritoryToProto(fullTerritory())
			p.AssignmentMode = 3
			_, err := protomap.TerritoryFromProto(p)
			return err
		}, []string{"territory.assignment_mode"}},
		{"nil territory", func() error { _, err := protomap.TerritoryFromProto(nil); return err }, []string{"territory"}},
		{"custom field type", func() error {
			_, _, err := protomap.CustomFieldFromProto(&leadsv1.CustomFieldDefinition{Name: "x", Type: 5})
			return err
		}, []string{"field.type"}},
		{"nil custom field", func() error { _, _, err := protomap.CustomFieldFromProto(nil); return err }, []string{"field"}},
		{"nil settings", func() error { _, err := protomap.SettingsFromProto(nil); return err }, []string{"settings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, violations(t, tt.run()))
		})
	}
}
