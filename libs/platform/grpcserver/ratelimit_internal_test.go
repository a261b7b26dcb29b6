package grpcserver

import (
	"fmt"
	"testing"
	"time"
)

// TestLimitersStayBounded checks the memory bound: idle buckets are swept once they would be full
// again, and the count never exceeds max even when distinct principals arrive faster than that.
func TestLimitersStayBounded(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	l := newLimiters(RateLimit{Rate: 10, Burst: 5}, func() time.Time { return now })
	l.max = 100
	for i := range 1000 {
		if ok, _ := l.take(fmt.Sprintf("t\x00u-%d", i)); !ok {
			t.Fatalf("first call of principal %d refused", i)
		}
	}
	if got := l.size(); got != 100 {
		t.Fatalf("size after 1000 principals = %d, want the cap 100", got)
	}
	// A principal that used its burst is still limited while it is held.
	for range 5 {
		l.take("t\x00busy")
	}
	if ok, retry := l.take("t\x00busy"); ok || retry <= 0 || retry > 100*time.Millisecond {
		t.Fatalf("6th call: ok=%v retry=%s, want refused with retry <= 100ms", ok, retry)
	}
	// Half a second later (burst 5 at 10/s refills in 0.5s) every bucket is full: swept.
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.take("t\x00fresh"); !ok {
		t.Fatal("fresh principal refused")
	}
	if got := l.size(); got != 1 {
		t.Fatalf("size after sweep = %d, want 1", got)
	}
}
