// Package rulechains remembers which automation rules fired in which causal chain of events, in
// a JetStream key-value bucket shared by every replica of the rule engine. It is what stops a
// rule whose actions (directly or through other rules) cause the event that triggers it again.
//
// A chain is rooted at an event no rule caused. Two kinds of keys:
//
//	<tenant>.run.<rule>.<event>    → the root of the chain the run of rule for event is in
//	<tenant>.fired.<rule>.<root>   → the event the rule fired for in that chain (first wins)
//
// Entries expire after TTL: a chain whose events take longer than that to go round is not
// recognised as one (the default of 7 days is far beyond any redelivery).
package rulechains

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
)

// Bucket is the key-value bucket's name.
const Bucket = "CRM_RULE_CHAINS"

// DefaultTTL is how long a chain is remembered.
const DefaultTTL = 7 * 24 * time.Hour

// Chains implements app.RuleChains.
type Chains struct{ kv jetstream.KeyValue }

var _ app.RuleChains = (*Chains)(nil)

// Open creates or updates the bucket.
func Open(ctx context.Context, js jetstream.JetStream, replicas int, ttl time.Duration) (*Chains, error) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: Bucket, Description: "Automation rule chains: which rule fired in which causal chain (cycle detection).",
		TTL: ttl, Replicas: max(replicas, 1), Storage: jetstream.FileStorage, History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("rulechains: bucket: %w", err)
	}
	return &Chains{kv: kv}, nil
}

// Root returns the root recorded for the run of ruleID for eventID.
func (c *Chains) Root(ctx context.Context, tenant, ruleID, eventID string) (string, bool, error) {
	e, err := c.kv.Get(ctx, tenant+".run."+ruleID+"."+eventID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, unavailable(err)
	}
	return string(e.Value()), true, nil
}

// Enter records that ruleID fires for eventID in the chain rooted at root; false means the
// rule already fired for another event of the chain.
func (c *Chains) Enter(ctx context.Context, tenant, ruleID, root, eventID string) (bool, error) {
	firedKey := tenant + ".fired." + ruleID + "." + root
	_, err := c.kv.Create(ctx, firedKey, []byte(eventID))
	if errors.Is(err, jetstream.ErrKeyExists) {
		e, gerr := c.kv.Get(ctx, firedKey)
		if gerr != nil {
			return false, unavailable(gerr)
		}
		if string(e.Value()) != eventID {
			return false, nil
		}
	} else if err != nil {
		return false, unavailable(err)
	}
	// Recorded before the actions run, so the events they cause find their chain.
	if _, err := c.kv.Put(ctx, tenant+".run."+ruleID+"."+eventID, []byte(root)); err != nil {
		return false, unavailable(err)
	}
	return true, nil
}

func unavailable(err error) error {
	return apperr.Wrap(apperr.Unavailable, err, "rule chains bucket")
}
