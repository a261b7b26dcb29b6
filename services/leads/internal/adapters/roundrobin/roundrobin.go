// Package roundrobin hands out turns for round-robin lead assignment. Each territory has a
// counter in a JetStream KV bucket advanced with compare-and-swap, so replicas of the leads
// service never give two consecutive leads the same turn. The domain maps a turn to a rep
// (turn modulo the number of reps).
package roundrobin

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// maxAttempts bounds the compare-and-swap rounds of one Next; with the backoff between them a
// caller gives up only after about two seconds of losing to other replicas.
const maxAttempts = 100

// Counter is the per-territory turn counter.
type Counter struct {
	kv jetstream.KeyValue
	// Callers in one process take turns on a territory through a local lock, so only replicas
	// race on the counter's revision, not every concurrent create of this one.
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// Open creates or opens the bucket (default "CRM_LEAD_ROUND_ROBIN").
func Open(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (*Counter, error) {
	if bucket == "" {
		bucket = "CRM_LEAD_ROUND_ROBIN"
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "Round-robin turn counters of lead territories.",
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		History:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("roundrobin: bucket %s: %w", bucket, err)
	}
	return &Counter{kv: kv, locks: map[string]*sync.Mutex{}}, nil
}

// Next returns the next turn of the territory (0, 1, 2, … across all replicas).
func (c *Counter) Next(ctx context.Context, tenant, territoryID string) (uint64, error) {
	key := tenant + "." + territoryID
	unlock := c.lock(key)
	defer unlock()
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return 0, err
			}
		}
		entry, err := c.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if _, err := c.kv.Create(ctx, key, []byte("1")); err == nil {
				return 0, nil
			} else if !errors.Is(err, jetstream.ErrKeyExists) {
				return 0, fmt.Errorf("roundrobin: %w", err)
			}
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("roundrobin: %w", err)
		}
		turn, err := strconv.ParseUint(string(entry.Value()), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("roundrobin: counter %s: %w", key, err)
		}
		if _, err := c.kv.Update(ctx, key, []byte(strconv.FormatUint(turn+1, 10)), entry.Revision()); err == nil {
			return turn, nil
		}
		// Another replica took this turn; read again.
	}
	return 0, errors.New("roundrobin: counter too contended")
}

func (c *Counter) lock(key string) (unlock func()) {
	c.mu.Lock()
	l, ok := c.locks[key]
	if !ok {
		l = &sync.Mutex{}
		c.locks[key] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// backoff waits a jittered, growing pause (up to 20 ms) before another round, so replicas that
// collided do not collide again in lockstep.
func backoff(ctx context.Context, attempt int) error {
	d := min(time.Millisecond<<min(attempt, 5), 20*time.Millisecond)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
