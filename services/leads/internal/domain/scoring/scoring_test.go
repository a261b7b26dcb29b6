package scoring_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

const day = 24 * time.Hour

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestSeniorityOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ title, want string }{
		{"CEO", scoring.SeniorityCLevel},
		{"Chief Revenue Officer", scoring.SeniorityCLevel},
		{"Co-Founder & CTO", scoring.SeniorityCLevel},
		{"Vice President of Sales", scoring.SeniorityVP},
		{"SVP Engineering", scoring.SeniorityVP},
		{"Managing Director", scoring.SeniorityDirector},
		{"Head of Marketing", scoring.SeniorityDirector},
		{"Sales Manager", scoring.SeniorityManager},
		{"Team Lead, Platform", scoring.SeniorityManager},
		{"Software Engineer", scoring.SeniorityIndividual},
		{"  ", ""},
	} {
		t.Run(tc.title, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, scoring.SeniorityOf(tc.title))
		})
	}
}

func TestRuleMatches(t *testing.T) {
	t.Parallel()
	f := scoring.Facts{JobTitle: "VP Sales", Industry: "Software", Country: "DE", Source: "referral",
		EmailDomain: "gmail.com", EmployeeCount: 250, AnnualRevenueUnits: 10_000_000, AnnualRevenueNanos: 500_000_000, HasAnnualRevenue: true}
	for _, tc := range []struct {
		name string
		rule scoring.Rule
		want bool
	}{
		{"equals case-insensitive", scoring.Rule{Field: scoring.FieldIndustry, Op: scoring.OpEquals, Values: []string{"software"}}, true},
		{"equals miss", scoring.Rule{Field: scoring.FieldIndustry, Op: scoring.OpEquals, Values: []string{"retail"}}, false},
		{"in", scoring.Rule{Field: scoring.FieldCountry, Op: scoring.OpIn, Values: []string{"us", "de"}}, true},
		{"contains", scoring.Rule{Field: scoring.FieldJobTitle, Op: scoring.OpContains, Values: []string{"sales"}}, true},
		{"prefix", scoring.Rule{Field: scoring.FieldJobTitle, Op: scoring.OpPrefix, Values: []string{"vp"}}, true},
		{"prefix miss", scoring.Rule{Field: scoring.FieldJobTitle, Op: scoring.OpPrefix, Values: []string{"sales"}}, false},
		{"seniority", scoring.Rule{Field: scoring.FieldSeniority, Op: scoring.OpIn, Values: []string{"vp", "c_level"}}, true},
		{"gte", scoring.Rule{Field: scoring.FieldEmployeeCount, Op: scoring.OpGTE, Values: []string{"250"}}, true},
		{"lte", scoring.Rule{Field: scoring.FieldEmployeeCount, Op: scoring.OpLTE, Values: []string{"249"}}, false},
		{"between inclusive", scoring.Rule{Field: scoring.FieldEmployeeCount, Op: scoring.OpBetween, Values: []string{"50", "250"}}, true},
		{"numeric equals", scoring.Rule{Field: scoring.FieldEmployeeCount, Op: scoring.OpIn, Values: []string{"1", "250"}}, true},
		{"revenue with nanos is above its units", scoring.Rule{Field: scoring.FieldAnnualRevenue, Op: scoring.OpLTE, Values: []string{"10000000"}}, false},
		{"revenue gte units", scoring.Rule{Field: scoring.FieldAnnualRevenue, Op: scoring.OpGTE, Values: []string{"10000000"}}, true},
		{"unknown attribute never matches", scoring.Rule{Field: scoring.FieldRegion, Op: scoring.OpPrefix, Values: []string{""}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.rule.Matches(f))
		})
	}
	unknownSize := scoring.Rule{Field: scoring.FieldEmployeeCount, Op: scoring.OpLTE, Values: []string{"10"}}
	assert.False(t, unknownSize.Matches(scoring.Facts{}), "employee count 0 is unknown, not small")
}

func TestFitIsClamped(t *testing.T) {
	t.Parallel()
	rule := func(p int64) scoring.Rule {
		return scoring.Rule{Field: scoring.FieldCountry, Op: scoring.OpEquals, Values: []string{"DE"}, Points: p}
	}
	f := scoring.Facts{Country: "DE"}
	assert.EqualValues(t, 100, scoring.Model{FitRules: []scoring.Rule{rule(80), rule(80)}}.Fit(f))
	assert.EqualValues(t, 0, scoring.Model{FitRules: []scoring.Rule{rule(10), rule(-30)}}.Fit(f))
	assert.EqualValues(t, 30, scoring.Model{FitRules: []scoring.Rule{rule(10), rule(20)}}.Fit(f))
}

func TestDefaultModel(t *testing.T) {
	t.Parallel()
	m := scoring.DefaultModel()
	require.NoError(t, m.Validate())
	assert.EqualValues(t, scoring.DefaultModelVersion, m.Version)
	// The documented examples.
	vp := scoring.Facts{JobTitle: "VP Marketing", EmployeeCount: 200, Industry: "Software", Country: "US", Source: "web_form"}
	assert.EqualValues(t, 65, m.Fit(vp))
	small := scoring.Facts{JobTitle: "Office Manager", EmployeeCount: 8, Country: "BR", EmailDomain: "gmail.com"}
	assert.EqualValues(t, 0, m.Fit(small), "10 − 15 clamps at 0")
	rich := scoring.Facts{AnnualRevenueUnits: 20_000_000, HasAnnualRevenue: true}
	assert.EqualValues(t, 10, m.Fit(rich))
	assert.EqualValues(t, 15, m.Points(scoring.SignalMeeting))
	assert.EqualValues(t, -20, m.Points(scoring.SignalUnsubscribed))
	assert.Equal(t, scoring.TemperatureCold, m.Temperature(39))
	assert.Equal(t, scoring.TemperatureWarm, m.Temperature(40))
	assert.Equal(t, scoring.TemperatureHot, m.Temperature(70))
	assert.True(t, m.QualifiesForMQL(60))
	assert.False(t, m.QualifiesForMQL(59))
	m.MQLThreshold = 0
	assert.False(t, m.QualifiesForMQL(200), "threshold 0 turns auto-qualification off")
}

func TestModelValidate(t *testing.T) {
	t.Parallel()
	base := scoring.DefaultModel
	for _, tc := range []struct {
		name   string
		edit   func(*scoring.Model)
		fields []string
	}{
		{"unknown field", func(m *scoring.Model) { m.FitRules[2].Field = "shoe_size" }, []string{"fit_rules[2].field"}},
		{"unknown op", func(m *scoring.Model) { m.FitRules[0].Op = 99 }, []string{"fit_rules[0].op"}},
		{"text op on number", func(m *scoring.Model) { m.FitRules[3].Op = scoring.OpContains }, []string{"fit_rules[3].op"}},
		{"number op on text", func(m *scoring.Model) { m.FitRules[7].Op = scoring.OpGTE }, []string{"fit_rules[7].op"}},
		{"enum field takes equals/in", func(m *scoring.Model) { m.FitRules[0].Op = scoring.OpPrefix }, []string{"fit_rules[0].op"}},
		{"between needs two", func(m *scoring.Model) { m.FitRules[3].Values = []string{"5"} }, []string{"fit_rules[3].values"}},
		{"between reversed", func(m *scoring.Model) { m.FitRules[3].Values = []string{"500", "5"} }, []string{"fit_rules[3].values[1]"}},
		{"not a number", func(m *scoring.Model) { m.FitRules[4].Values = []string{"many"} }, []string{"fit_rules[4].values[0]"}},
		{"unknown seniority", func(m *scoring.Model) { m.FitRules[0].Values = []string{"vp", "boss"} }, []string{"fit_rules[0].values[1]"}},
		{"points out of range", func(m *scoring.Model) { m.FitRules[1].Points = 101 }, []string{"fit_rules[1].points"}},
		{"one violation per field of a rule", func(m *scoring.Model) {
			m.FitRules[1] = scoring.Rule{Field: "x", Op: 0, Points: -500}
		}, []string{"fit_rules[1].field", "fit_rules[1].op", "fit_rules[1].points"}},
		{"duplicate signal", func(m *scoring.Model) { m.EngagementWeights[1].Signal = m.EngagementWeights[0].Signal },
			[]string{"engagement_weights[1].signal"}},
		{"unknown signal", func(m *scoring.Model) { m.EngagementWeights[0].Signal = 77 }, []string{"engagement_weights[0].signal"}},
		{"thresholds and half-life", func(m *scoring.Model) {
			m.HalfLife = time.Minute
			m.WarmThreshold, m.HotThreshold, m.MQLThreshold = 80, 70, 500
			m.RevenueCurrency = "usd"
		}, []string{"engagement_half_life", "hot_threshold", "mql_threshold", "revenue_currency"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := base()
			tc.edit(&m)
			err := m.Validate()
			require.Error(t, err)
			e, ok := apperr.As(err)
			require.True(t, ok)
			assert.Equal(t, apperr.Invalid, e.Kind)
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			assert.Equal(t, tc.fields, got)
		})
	}
}

func TestEngagementDecay(t *testing.T) {
	t.Parallel()
	const h = 30 * day
	var e scoring.Engagement
	assert.True(t, e.IsZero())
	e = e.Add(10, t0, h)
	assert.Equal(t, scoring.Engagement{Value: 10, AsOf: t0}, e)
	assert.InDelta(t, 5, e.At(t0.Add(30*day), h), 1e-12)
	assert.InDelta(t, 2.5, e.At(t0.Add(60*day), h), 1e-12)
	assert.InDelta(t, 10, e.At(t0.Add(-day), h), 0, "no growth backwards in time")

	later := e.Add(10, t0.Add(30*day), h)
	assert.InDelta(t, 15, later.Value, 1e-12)
	assert.Equal(t, t0.Add(30*day), later.AsOf)
	assert.InDelta(t, 7.5, later.At(t0.Add(60*day), h), 1e-12)
	assert.EqualValues(t, 8, later.Score(t0.Add(60*day), h), "7.5 rounds half away from zero")

	// A late signal gives the same total as the ordered history.
	late := scoring.Engagement{}.Add(10, t0.Add(30*day), h).Add(10, t0, h)
	assert.Equal(t, t0.Add(30*day), late.AsOf)
	assert.InDelta(t, 15, late.Value, 1e-12)

	// Σ points·0.5^(age/h) over three signals, checked at an arbitrary time.
	hist := scoring.Engagement{}.Add(8, t0, h).Add(3, t0.Add(10*day), h).Add(15, t0.Add(45*day), h)
	now := t0.Add(50 * day)
	want := 8*math.Exp2(-50.0/30) + 3*math.Exp2(-40.0/30) + 15*math.Exp2(-5.0/30)
	assert.InDelta(t, want, hist.At(now, h), 1e-9)

	// Plus is commutative and exact.
	a := scoring.Engagement{Value: 10, AsOf: t0}
	b := scoring.Engagement{Value: 10, AsOf: t0.Add(30 * day)}
	assert.InDelta(t, 15, a.Plus(b, h).Value, 1e-12)
	assert.Equal(t, a.Plus(b, h), b.Plus(a, h))
	assert.Equal(t, a, a.Plus(scoring.Engagement{}, h))

	// The score is clamped to 0…100.
	assert.EqualValues(t, 100, scoring.Engagement{Value: 250, AsOf: t0}.Score(t0, h))
	assert.EqualValues(t, 0, scoring.Engagement{Value: -20, AsOf: t0}.Score(t0, h))
}

func TestModelScore(t *testing.T) {
	t.Parallel()
	m := scoring.DefaultModel()
	m.Version = 4
	f := scoring.Facts{JobTitle: "Director of IT", EmployeeCount: 120} // 20 + 20
	e := scoring.Engagement{Value: 40, AsOf: t0}
	s := m.Score(f, e, t0.Add(30*day))
	assert.Equal(t, scoring.Score{Fit: 40, Engagement: 20, Total: 60, Temperature: scoring.TemperatureWarm,
		ModelVersion: 4, ScoredAt: t0.Add(30 * day)}, s)
	assert.True(t, s.SameAs(m.Score(f, e, t0.Add(30*day+time.Minute))))
}
