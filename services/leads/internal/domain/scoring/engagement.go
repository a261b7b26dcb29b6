package scoring

import (
	"math"
	"time"
)

// Engagement is a lead's engagement points under exponential decay, kept as one running total:
// Value is Σ pointsᵢ·0.5^((AsOf−tᵢ)/halfLife) over every signal so far. Because exponential
// decay is multiplicative, this pair is exact — the score at any later time t is
// Value·0.5^((t−AsOf)/halfLife) — so a lead's history of signals never has to be kept or
// replayed. A change of half-life in a new model version applies from then on to the running
// total.
type Engagement struct {
	Value float64
	AsOf  time.Time
}

// IsZero reports whether no signal was ever recorded.
func (e Engagement) IsZero() bool { return e.Value == 0 && e.AsOf.IsZero() }

func decay(v float64, d, halfLife time.Duration) float64 {
	if d <= 0 || v == 0 {
		return v
	}
	return v * math.Exp2(-float64(d)/float64(halfLife))
}

// At returns the decayed total at t. A t before AsOf returns Value: the total never grows
// backwards in time.
func (e Engagement) At(t time.Time, halfLife time.Duration) float64 {
	return decay(e.Value, t.Sub(e.AsOf), halfLife)
}

// Add returns the total after a signal of points that happened at `at`. A late signal (before
// AsOf) is added decayed to AsOf; a newer one moves AsOf forward. Either way the result is
// exact.
func (e Engagement) Add(points float64, at time.Time, halfLife time.Duration) Engagement {
	if e.IsZero() {
		return Engagement{Value: points, AsOf: at}
	}
	if at.After(e.AsOf) {
		return Engagement{Value: decay(e.Value, at.Sub(e.AsOf), halfLife) + points, AsOf: at}
	}
	return Engagement{Value: e.Value + decay(points, e.AsOf.Sub(at), halfLife), AsOf: e.AsOf}
}

// Plus returns the sum of two totals (used when merging leads), referred to the later AsOf.
func (e Engagement) Plus(o Engagement, halfLife time.Duration) Engagement {
	switch {
	case o.IsZero():
		return e
	case e.IsZero():
		return o
	case o.AsOf.After(e.AsOf):
		return Engagement{Value: e.At(o.AsOf, halfLife) + o.Value, AsOf: o.AsOf}
	}
	return Engagement{Value: e.Value + o.At(e.AsOf, halfLife), AsOf: e.AsOf}
}

// Score returns the engagement score at now: the decayed total rounded to an integer and
// clamped to [0, MaxEngagement].
func (e Engagement) Score(now time.Time, halfLife time.Duration) int64 {
	return clamp(int64(math.Round(e.At(now, halfLife))), 0, MaxEngagement)
}
