package projector

import (
	"testing"
	"time"

	"github.com/evcrm/evcrm/libs/projection"
)

func TestStretchBackoff(t *testing.T) {
	span := func(b []time.Duration, n int) (total time.Duration) {
		for i := range n {
			total += b[min(i, len(b)-1)]
		}
		return total
	}
	for _, tc := range []struct {
		name    string
		backoff []time.Duration
		want    time.Duration
	}{
		{"short test backoff", []time.Duration{200 * time.Millisecond}, 7500 * time.Millisecond},
		{"two entries", []time.Duration{100 * time.Millisecond, 300 * time.Millisecond}, 10 * time.Second},
		{"long enough already", []time.Duration{5 * time.Second}, 10 * time.Second},
		{"default", nil, 75 * time.Second},
	} {
		got := stretchBackoff(tc.backoff, projection.DefaultMaxDeliver-1, tc.want)
		if s := span(got, projection.DefaultMaxDeliver-1); s < tc.want {
			t.Errorf("%s: %v spans %v, want at least %v", tc.name, got, s, tc.want)
		}
		if len(tc.backoff) > 1 && got[0] != tc.backoff[0] {
			t.Errorf("%s: first delay changed to %v", tc.name, got[0])
		}
	}
	if d := stretchBackoff([]time.Duration{5 * time.Second}, 9, time.Second); d[0] != 5*time.Second {
		t.Errorf("a long enough backoff was changed: %v", d)
	}
}
