// Package segmentnames keeps segment names unique per tenant ignoring case, in the write path
// where a read model would be too late (two concurrent creates both see no such name). Each
// name is claimed in a JetStream KV bucket with kv.Create, which only one writer wins; the
// claim names the segment holding the name.
//
// A claim outlives what it guards when a create fails after claiming, or a rename or delete
// fails to release: the next claimant asks whether the holder still uses the name (Holds) and
// takes a stale claim over. A claim younger than PendingTimeout whose holder does not exist yet
// is a create in flight, and the claimant gets ErrBusy.
package segmentnames

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrTaken means another segment holds the name.
type ErrTaken struct{ SegmentID string }

func (e *ErrTaken) Error() string { return "segment name held by " + e.SegmentID }

// ErrBusy means a segment with the name is being created right now.
var ErrBusy = errors.New("segmentnames: a segment with this name is being created concurrently")

// Holds reports whether segment id exists (not deleted) and is named name (ignoring case).
type Holds = func(ctx context.Context, tenant, id, name string) (exists, holds bool, err error)

// Index is the name index.
type Index struct {
	kv      jetstream.KeyValue
	pending time.Duration
	now     func() time.Time
}

// Open creates or opens the bucket CRM_SEGMENT_NAMES.
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Index, error) {
	if replicas <= 0 {
		replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "CRM_SEGMENT_NAMES",
		Description: "Which segment holds each name, per tenant (case-insensitive).", Storage: jetstream.FileStorage,
		Replicas: replicas, History: 1})
	if err != nil {
		return nil, fmt.Errorf("segmentnames: bucket: %w", err)
	}
	return &Index{kv: kv, pending: 30 * time.Second, now: time.Now}, nil
}

type claim struct {
	SegmentID string    `json:"segment_id"`
	At        time.Time `json:"at"`
}

// key hashes the folded name: KV keys allow few characters, and names allow any.
func key(tenant, name string) string {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(name))))
	return tenant + "." + hex.EncodeToString(h[:16])
}

// Claim reserves name for segment id: nil when it now holds it (or already did), *ErrTaken or
// ErrBusy otherwise.
func (x *Index) Claim(ctx context.Context, tenant, name, id string, holds Holds) error {
	k := key(tenant, name)
	mine, _ := json.Marshal(claim{SegmentID: id, At: x.now()})
	for range 5 {
		if _, err := x.kv.Create(ctx, k, mine); err == nil {
			return nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("segmentnames: claim: %w", err)
		}
		entry, err := x.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("segmentnames: read claim: %w", err)
		}
		var c claim
		if err := json.Unmarshal(entry.Value(), &c); err != nil {
			return fmt.Errorf("segmentnames: claim %s: %w", k, err)
		}
		if c.SegmentID == id {
			return nil
		}
		exists, held, err := holds(ctx, tenant, c.SegmentID, name)
		switch {
		case err != nil:
			return err
		case held:
			return &ErrTaken{SegmentID: c.SegmentID}
		case !exists && x.now().Sub(c.At) < x.pending:
			return ErrBusy
		}
		if _, err := x.kv.Update(ctx, k, mine, entry.Revision()); err == nil {
			return nil
		}
	}
	return ErrBusy
}

// Release frees name if segment id holds it. Best effort: a claim left behind is taken over
// by the next claimant once Holds says it is stale.
func (x *Index) Release(ctx context.Context, tenant, name, id string) {
	ctx = context.WithoutCancel(ctx)
	k := key(tenant, name)
	entry, err := x.kv.Get(ctx, k)
	if err != nil {
		return
	}
	var c claim
	if json.Unmarshal(entry.Value(), &c) == nil && c.SegmentID == id {
		_ = x.kv.Delete(ctx, k, jetstream.LastRevision(entry.Revision()))
	}
}
