package uniqueness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Lookup returns the lead holding key, if any, without claiming anything: a dry-run import
// uses it to say which rows would be duplicates. A pending claim counts as held (its creator
// is most likely still at work); the answer is advisory, the write path's Claim decides.
func (x *Index) Lookup(ctx context.Context, tenant, key string) (leadID string, found bool, err error) {
	entry, err := x.kv.Get(ctx, kvKey(tenant, key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("uniqueness: lookup: %w", err)
	}
	var c claim
	if err := json.Unmarshal(entry.Value(), &c); err != nil {
		return "", false, fmt.Errorf("uniqueness: claim %s: %w", kvKey(tenant, key), err)
	}
	return c.LeadID, true, nil
}
