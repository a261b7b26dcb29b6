package app

import (
	"sync"
	"time"
)

// settingsCache keeps the few, rarely changed records every command reads (the pipeline a deal
// is in, the tenant's configuration) for a short time. Without it every command would read
// them from the log, and since the repository serialises commands per record, 64 concurrent
// stage moves would queue behind one read of the "default" pipeline. A change made through this
// replica is seen at once (the entry is dropped); one made through another replica within TTL.
type settingsCache[S any] struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cached[S]
}

type cached[S any] struct {
	state S
	at    time.Time
}

func newSettingsCache[S any](ttl time.Duration) *settingsCache[S] {
	return &settingsCache[S]{ttl: ttl, entries: map[string]cached[S]{}}
}

func (c *settingsCache[S]) get(key string) (S, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Since(e.at) >= c.ttl {
		var zero S
		return zero, false
	}
	return e.state, true
}

func (c *settingsCache[S]) put(key string, s S) {
	c.mu.Lock()
	c.entries[key] = cached[S]{state: s, at: time.Now()}
	c.mu.Unlock()
}

func (c *settingsCache[S]) forget(key string) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}
