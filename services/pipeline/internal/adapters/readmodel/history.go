package readmodel

import "math/bits"

// The history table files each row under the smallest aligned window of 2^lvl nanoseconds that
// holds its interval (see migrations/0002_opportunity_history.sql); current rows, whose
// interval never ends, under currentLevel.
const currentLevel = 64

// window returns lvl and bkt of the closed interval [from, to), 0 <= from < to.
func window(from, to int64) (lvl, bkt int64) {
	l := bits.Len64(uint64(from) ^ uint64(to-1))
	return int64(l), from >> l
}

// probe is one index range the as-of query reads: the rows of window (lvl, bkt) that contain
// the instant, found by valid_from <= t (fromSide) or by valid_to > t.
type probe struct {
	lvl, bkt int64
	fromSide bool
}

// probes returns the ranges that together hold exactly the rows whose interval contains t
// (t >= 0). At level l > 0 every row of t's window contains the window's middle m: when t < m
// the rows containing t are those that start by t, else those that end after t, so each range
// holds only rows that count. Level 0 rows last one nanosecond and start at t.
func probes(t int64) []probe {
	out := make([]probe, 0, currentLevel+1)
	for l := range int64(currentLevel) {
		fromSide := l == 0 || t&(1<<(l-1)) == 0
		out = append(out, probe{lvl: l, bkt: t >> l, fromSide: fromSide})
	}
	return append(out, probe{lvl: currentLevel, bkt: 0, fromSide: true})
}
