// Package roundrobin hands out turns for round-robin lead assignment. Each territory has a
// counter in a JetStream KV bucket advanced with compare-and-swap, so replicas of the leads
// service never give two consecutive leads the same turn. The domain maps a turn to a rep
// (turn modulo the number of reps).
package roundrobin

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// Counter is the per-territory turn counter.
type Counter struct {
	kv jetstream.KeyValue
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
	return &Counter{kv: kv}, nil
}

// Next returns the next turn of the territory (0, 1, 2, … across all replicas).
func (c *Counter) Next(ctx context.Context, tenant, territoryID string) (uint64, error) {
	key := tenant + "." + territoryID
	for attempt := 0; attempt < 50; attempt++ {
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
