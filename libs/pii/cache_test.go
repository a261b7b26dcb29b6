package pii

import (
	"fmt"
	"testing"
	"time"
)

// TestCacheDropsExpiredEntriesWhenFull checks the key cache's bound: expired entries go when it
// is full (before, they stayed until 100,000 entries had piled up), fresh ones stay, and a
// cache full of fresh entries starts over rather than grow.
func TestCacheDropsExpiredEntriesWhenFull(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := &KV{opts: KVOptions{CacheTTL: time.Minute, CacheEntries: 10}, now: func() time.Time { return now }, cache: map[string]cached{}}
	for i := range 6 {
		s.remember(fmt.Sprint("old", i), cached{erased: true})
	}
	now = now.Add(2 * time.Minute) // the six are expired
	for i := range 4 {
		s.remember(fmt.Sprint("new", i), cached{erased: true})
	}
	if len(s.cache) != 10 {
		t.Fatalf("%d entries before the bound is reached, want 10", len(s.cache))
	}
	s.remember("one more", cached{erased: true})
	if len(s.cache) != 5 {
		t.Fatalf("%d entries after the sweep, want the 4 fresh ones and the new one", len(s.cache))
	}
	for _, k := range []string{"new0", "new3", "one more"} {
		if _, ok := s.fromCache(k); !ok {
			t.Errorf("fresh entry %s dropped", k)
		}
	}
	if _, ok := s.fromCache("old0"); ok {
		t.Error("expired entry served")
	}

	for i := range 10 { // all fresh: the cache fills up again
		s.remember(fmt.Sprint("fresh", i), cached{erased: true})
	}
	if len(s.cache) > 10 {
		t.Fatalf("%d entries, over the bound of 10", len(s.cache))
	}
}
