// Package scoring holds a tenant's versioned lead scoring model and the arithmetic of scores:
// a fit score from rules over firmographic and demographic facts, an engagement score from
// behaviour signals with exponential time decay, their total, and the temperature and MQL
// thresholds over the total.
package scoring

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
)

// Score bounds. Fit and engagement are each clamped to [0, 100] so that neither a pile of
// matching rules nor a burst of clicks can make the other meaningless; the total is their sum.
const (
	MaxFit        = 100
	MaxEngagement = 100
	MaxTotal      = MaxFit + MaxEngagement
	// MaxRulePoints bounds the points of one fit rule or engagement weight (either sign).
	MaxRulePoints = 100
	// MaxFitRules bounds the size of a model.
	MaxFitRules = 200
	// MinHalfLife and MaxHalfLife bound the engagement half-life.
	MinHalfLife = time.Hour
	MaxHalfLife = 5 * 365 * 24 * time.Hour
)

// Rule adds Points to the fit score of a lead whose Field matches Values under Op.
type Rule struct {
	Field Field
	Op    Op
	// Values to compare with: one for equals/contains/prefix/gte/lte, one or more for in, two
	// (low, high) for between. Numbers are decimal integers (whole currency units for
	// annual_revenue).
	Values []string
	// Points added when the rule matches; negative points penalise.
	Points int64
	// Description is free text shown with score explanations.
	Description string
}

// Matches reports whether the rule matches facts. A rule never matches an unknown attribute.
// It assumes the rule is valid.
func (r Rule) Matches(f Facts) bool {
	switch fieldKinds[r.Field] {
	case kindNumber:
		units, nanos, ok := f.number(r.Field)
		if !ok {
			return false
		}
		cmp := func(s string) int {
			n, _ := strconv.ParseInt(s, 10, 64)
			return compare(units, nanos, n)
		}
		switch r.Op {
		case OpEquals, OpIn:
			for _, v := range r.Values {
				if cmp(v) == 0 {
					return true
				}
			}
		case OpGTE:
			return cmp(r.Values[0]) >= 0
		case OpLTE:
			return cmp(r.Values[0]) <= 0
		case OpBetween:
			return cmp(r.Values[0]) >= 0 && cmp(r.Values[1]) <= 0
		}
		return false
	case kindText, kindEnum:
		got := strings.ToLower(strings.TrimSpace(f.text(r.Field)))
		if got == "" {
			return false
		}
		for _, v := range r.Values {
			v = strings.ToLower(strings.TrimSpace(v))
			switch r.Op {
			case OpEquals, OpIn:
				if got == v {
					return true
				}
			case OpContains:
				if strings.Contains(got, v) {
					return true
				}
			case OpPrefix:
				if strings.HasPrefix(got, v) {
					return true
				}
			}
		}
	}
	return false
}

// compare compares units+nanos (same sign, |nanos| < 1e9) with the integer n exactly.
func compare(units int64, nanos int32, n int64) int {
	switch {
	case units < n:
		return -1
	case units > n:
		return 1
	case nanos > 0:
		return 1
	case nanos < 0:
		return -1
	}
	return 0
}

// Weight gives the engagement points of one signal.
type Weight struct {
	Signal Signal
	Points int64
}

// Model is a tenant's scoring model. Version is assigned by the tenant configuration aggregate:
// the built-in default is version 1 and every update adds one, so a score's ModelVersion
// always names the rules that produced it.
type Model struct {
	Version  uint64
	FitRules []Rule
	// EngagementWeights give each signal's points; a signal not listed earns 0.
	EngagementWeights []Weight
	// HalfLife is the time after which engagement points count half.
	HalfLife time.Duration
	// WarmThreshold and HotThreshold map the total score to a temperature: total ≥ hot is hot,
	// total ≥ warm is warm, else cold.
	WarmThreshold int64
	HotThreshold  int64
	// MQLThreshold is the total at which a NEW lead becomes MQL automatically; 0 turns
	// auto-qualification off.
	MQLThreshold int64
	// RevenueCurrency (ISO 4217) is the currency of annual_revenue rule values; revenue in
	// other currencies matches no revenue rule (no exchange rates in the domain).
	RevenueCurrency string
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// ValidCurrency reports whether c looks like an ISO 4217 code (three upper-case letters).
func ValidCurrency(c string) bool { return currencyRE.MatchString(c) }

// Validate returns an Invalid error with one violation per bad field, with paths such as
// "fit_rules[2].field", "engagement_weights[0].points", "engagement_half_life".
func (m Model) Validate() error {
	var v apperr.Violations
	if len(m.FitRules) > MaxFitRules {
		v.Add("fit_rules", "at most %d rules", MaxFitRules)
	}
	for i, r := range m.FitRules {
		r.validate(fmt.Sprintf("fit_rules[%d].", i), &v)
	}
	seen := map[Signal]bool{}
	for i, w := range m.EngagementWeights {
		p := fmt.Sprintf("engagement_weights[%d].", i)
		switch {
		case !w.Signal.Valid():
			v.Add(p+"signal", "unknown signal %d", int(w.Signal))
		case seen[w.Signal]:
			v.Add(p+"signal", "signal %s is listed twice", w.Signal)
		}
		seen[w.Signal] = true
		if w.Points < -MaxRulePoints || w.Points > MaxRulePoints {
			v.Add(p+"points", "must be between %d and %d", -MaxRulePoints, MaxRulePoints)
		}
	}
	if m.HalfLife < MinHalfLife || m.HalfLife > MaxHalfLife {
		v.Add("engagement_half_life", "must be between %s and %s", MinHalfLife, MaxHalfLife)
	}
	if m.WarmThreshold < 1 || m.WarmThreshold > MaxTotal {
		v.Add("warm_threshold", "must be between 1 and %d", MaxTotal)
	}
	if m.HotThreshold <= m.WarmThreshold || m.HotThreshold > MaxTotal {
		v.Add("hot_threshold", "must be above warm_threshold and at most %d", MaxTotal)
	}
	if m.MQLThreshold < 0 || m.MQLThreshold > MaxTotal {
		v.Add("mql_threshold", "must be between 0 (off) and %d", MaxTotal)
	}
	if !ValidCurrency(m.RevenueCurrency) {
		v.Add("revenue_currency", "must be an ISO 4217 code such as USD")
	}
	return v.Err("invalid scoring model")
}

// validate adds at most one violation per field of the rule.
func (r Rule) validate(p string, v *apperr.Violations) {
	kind, knownField := fieldKinds[r.Field]
	if !knownField {
		v.Add(p+"field", "unknown field %q; one of %s", r.Field, fieldList())
	}
	opOK := r.Op.Valid()
	switch {
	case !opOK:
		v.Add(p+"op", "unknown operator %d", int(r.Op))
	case knownField && kind == kindNumber && (r.Op == OpContains || r.Op == OpPrefix):
		v.Add(p+"op", "%s does not apply to the numeric field %s", r.Op, r.Field)
		opOK = false
	case knownField && kind != kindNumber && (r.Op == OpGTE || r.Op == OpLTE || r.Op == OpBetween):
		v.Add(p+"op", "%s needs a numeric field (employee_count, annual_revenue)", r.Op)
		opOK = false
	case knownField && kind == kindEnum && r.Op != OpEquals && r.Op != OpIn:
		v.Add(p+"op", "%s takes equals or in", r.Field)
		opOK = false
	}
	if opOK {
		want := 1
		switch r.Op {
		case OpIn:
			want = -1
		case OpBetween:
			want = 2
		}
		switch {
		case want == -1 && len(r.Values) == 0:
			v.Add(p+"values", "in needs at least one value")
		case want > 0 && len(r.Values) != want:
			v.Add(p+"values", "%s needs exactly %d value(s)", r.Op, want)
		default:
			r.validateValues(p, kind, knownField, v)
		}
	}
	if r.Points < -MaxRulePoints || r.Points > MaxRulePoints {
		v.Add(p+"points", "must be between %d and %d", -MaxRulePoints, MaxRulePoints)
	}
	if utf8.RuneCountInString(r.Description) > 500 {
		v.Add(p+"description", "must be at most 500 characters")
	}
}

func (r Rule) validateValues(p string, kind fieldKind, knownField bool, v *apperr.Violations) {
	var nums []int64
	for j, val := range r.Values {
		vp := fmt.Sprintf("%svalues[%d]", p, j)
		switch {
		case strings.TrimSpace(val) == "" || utf8.RuneCountInString(val) > 200:
			v.Add(vp, "must be 1 to 200 characters")
		case !knownField:
		case kind == kindNumber:
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil || n < 0 {
				v.Add(vp, "must be a non-negative integer")
				continue
			}
			nums = append(nums, n)
		case r.Field == FieldSeniority && !seniorities[strings.ToLower(strings.TrimSpace(val))]:
			v.Add(vp, "unknown seniority; one of c_level, vp, director, manager, individual")
		}
	}
	if r.Op == OpBetween && len(nums) == 2 && nums[0] > nums[1] {
		v.Add(p+"values[1]", "must not be below values[0]")
	}
}

func fieldList() string {
	names := make([]string, 0, len(fieldKinds))
	for _, f := range Fields() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// Points returns the engagement points of a signal (0 when the model does not list it).
func (m Model) Points(s Signal) int64 {
	for _, w := range m.EngagementWeights {
		if w.Signal == s {
			return w.Points
		}
	}
	return 0
}

// Fit returns the fit score of facts: the sum of the points of every matching rule, clamped to
// [0, MaxFit].
func (m Model) Fit(f Facts) int64 {
	var sum int64
	for _, r := range m.FitRules {
		if r.Matches(f) {
			sum += r.Points
		}
	}
	return clamp(sum, 0, MaxFit)
}

// Temperature maps a total score to a temperature.
func (m Model) Temperature(total int64) Temperature {
	switch {
	case total >= m.HotThreshold:
		return TemperatureHot
	case total >= m.WarmThreshold:
		return TemperatureWarm
	}
	return TemperatureCold
}

// QualifiesForMQL reports whether total reaches the MQL threshold (never when it is 0/off).
func (m Model) QualifiesForMQL(total int64) bool {
	return m.MQLThreshold > 0 && total >= m.MQLThreshold
}

// Score is a lead's score under one model version at one time.
type Score struct {
	Fit        int64
	Engagement int64
	Total      int64
	// Temperature of Total under the model's thresholds.
	Temperature  Temperature
	ModelVersion uint64
	ScoredAt     time.Time
}

// SameAs reports whether s and o agree on everything but ScoredAt, i.e. whether rescoring
// changed anything worth an event.
func (s Score) SameAs(o Score) bool {
	s.ScoredAt, o.ScoredAt = time.Time{}, time.Time{}
	return s == o
}

// Score scores facts and an engagement total at now.
func (m Model) Score(f Facts, e Engagement, now time.Time) Score {
	fit := m.Fit(f)
	eng := e.Score(now, m.HalfLife)
	total := fit + eng
	return Score{Fit: fit, Engagement: eng, Total: total, Temperature: m.Temperature(total),
		ModelVersion: m.Version, ScoredAt: now}
}

func clamp(v, lo, hi int64) int64 {
	return max(lo, min(hi, v))
}
