// Package uniqueness enforces "one lead per normalised email (and phone) per tenant" in the write
// path, where a read model would be too late: two concurrent creates both see an empty read
// model. Each key is claimed in a JetStream KV bucket with kv.Create, which only one writer can
// win; the claim names the lead that holds the key.
//
// A claim is written pending, costing the create no second round trip. A later claimant that
// finds another lead's pending claim asks whether that lead exists: if it does, the claim is
// marked confirmed and the key is taken (no more look-ups for it); if not, the creator is still
// at work (ErrBusy) or, after PendingTimeout, presumed dead, and the claimant takes the key over.
package uniqueness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrTaken means a key is held by another lead, named in the error.
type ErrTaken struct {
	// Key is the kind of the key ("email", "phone").
	Key    string
	LeadID string
}

func (e *ErrTaken) Error() string { return fmt.Sprintf("key held by lead %s", e.LeadID) }

// ErrBusy means another creator holds a fresh pending claim on a key; retry shortly.
var ErrBusy = errors.New("uniqueness: a lead with this key is being created concurrently")

// Options configure an Index.
type Options struct {
	// Bucket name; default "CRM_LEAD_KEYS".
	Bucket string
	// PendingTimeout is how long a creator may hold a pending claim. Default 30s.
	PendingTimeout time.Duration
	// Replicas of the bucket. Default 1.
	Replicas int
}

// Index is the uniqueness index.
type Index struct {
	kv   jetstream.KeyValue
	opts Options
	now  func() time.Time
}

// Open creates or opens the bucket.
func Open(ctx context.Context, js jetstream.JetStream, o Options) (*Index, error) {
	if o.Bucket == "" {
		o.Bucket = "CRM_LEAD_KEYS"
	}
	if o.PendingTimeout <= 0 {
		o.PendingTimeout = 30 * time.Second
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      o.Bucket,
		Description: "Which lead holds each normalised email/phone, per tenant.",
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		History:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("uniqueness: bucket %s: %w", o.Bucket, err)
	}
	return &Index{kv: kv, opts: o, now: time.Now}, nil
}

type claim struct {
	LeadID    string    `json:"lead_id"`
	Confirmed bool      `json:"confirmed"`
	At        time.Time `json:"at"`
}

// Keys are the domain's uniqueness keys (dedupe.Keys: "<kind>_<sha256 hex>", no personal data
// in clear); the index scopes them by tenant.
func kvKey(tenant, key string) string { return tenant + "." + key }

// kindOf is the part of a key before the hash ("email", "phone").
func kindOf(key string) string {
	if i := strings.IndexByte(key, '_'); i > 0 {
		return key[:i]
	}
	return key
}

// Exists reports whether a lead exists (has events), to settle stale pending claims.
type Exists = func(ctx context.Context, leadID string) (bool, error)

// Claim reserves keys for leadID. It returns *ErrTaken naming the lead that holds a key, or
// ErrBusy; on any error no key stays claimed by this call. Claiming a key the lead already
// holds succeeds (retries are safe).
func (x *Index) Claim(ctx context.Context, tenant, leadID string, keys []string, exists Exists) error {
	var got []string
	for _, k := range keys {
		if err := x.claimOne(ctx, tenant, leadID, k, exists); err != nil {
			x.Release(ctx, tenant, leadID, got)
			return err
		}
		got = append(got, k)
	}
	return nil
}

func (x *Index) claimOne(ctx context.Context, tenant, leadID string, k string, exists Exists) error {
	key := kvKey(tenant, k)
	pending, _ := json.Marshal(claim{LeadID: leadID, At: x.now()})
	for range 5 {
		_, err := x.kv.Create(ctx, key, pending)
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("uniqueness: claim: %w", err)
		}
		entry, err := x.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // released meanwhile
		}
		if err != nil {
			return fmt.Errorf("uniqueness: read claim: %w", err)
		}
		var c claim
		if err := json.Unmarshal(entry.Value(), &c); err != nil {
			return fmt.Errorf("uniqueness: claim %s: %w", key, err)
		}
		switch {
		case c.LeadID == leadID:
			return nil
		case c.Confirmed:
			return &ErrTaken{Key: kindOf(k), LeadID: c.LeadID}
		}
		ok, err := exists(ctx, c.LeadID)
		if err != nil {
			return err
		}
		if ok {
			c.Confirmed = true
			val, _ := json.Marshal(c)
			_, _ = x.kv.Update(ctx, key, val, entry.Revision())
			return &ErrTaken{Key: kindOf(k), LeadID: c.LeadID}
		}
		if x.now().Sub(c.At) < x.opts.PendingTimeout {
			return ErrBusy
		}
		// The creator died before storing the lead: take the key over.
		if _, err := x.kv.Update(ctx, key, pending, entry.Revision()); err == nil {
			return nil
		}
	}
	return ErrBusy
}

// Release frees keys still held by leadID (after a failed create, a changed email, or a merge).
// Keys held by another lead are left alone. Best effort: a key left behind is settled by the
// stale-claim check of the next claimant.
func (x *Index) Release(ctx context.Context, tenant, leadID string, keys []string) {
	ctx = context.WithoutCancel(ctx)
	for _, k := range keys {
		key := kvKey(tenant, k)
		entry, err := x.kv.Get(ctx, key)
		if err != nil {
			continue
		}
		var c claim
		if json.Unmarshal(entry.Value(), &c) == nil && c.LeadID == leadID {
			_ = x.kv.Delete(ctx, key, jetstream.LastRevision(entry.Revision()))
		}
	}
}
