package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/apperr"
)

// IdempotencyOptions configure the idempotency store.
type IdempotencyOptions struct {
	// Bucket is the JetStream KV bucket. Default "CRM_IDEMPOTENCY".
	Bucket string
	// TTL is how long a key's outcome is remembered after the command. Default 24h: clients
	// retry within minutes, integrations replay within hours.
	TTL time.Duration
	// ClaimTimeout is how long a started command may run before a retry with the same key may
	// take it over (the first executor is presumed dead). Default 30s.
	ClaimTimeout time.Duration
	// Replicas of the bucket. Default 1.
	Replicas int
}

// Idempotency remembers, per tenant and client idempotency key, the outcome of a command, so a
// retry returns the first outcome and appends nothing — for as long as TTL, well past
// JetStream's duplicate window.
type Idempotency struct {
	kv   jetstream.KeyValue
	opts IdempotencyOptions
	now  func() time.Time
}

// NewIdempotency creates (or opens) the KV bucket.
func NewIdempotency(ctx context.Context, js jetstream.JetStream, o IdempotencyOptions) (*Idempotency, error) {
	if o.Bucket == "" {
		o.Bucket = "CRM_IDEMPOTENCY"
	}
	if o.TTL <= 0 {
		o.TTL = 24 * time.Hour
	}
	if o.ClaimTimeout <= 0 {
		o.ClaimTimeout = 30 * time.Second
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      o.Bucket,
		Description: "Outcome of commands by tenant and client idempotency key.",
		TTL:         o.TTL,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		History:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("eventstore: idempotency bucket %s: %w", o.Bucket, err)
	}
	return &Idempotency{kv: kv, opts: o, now: time.Now}, nil
}

const (
	claimPending = "pending"
	claimDone    = "done"
)

type idemRecord struct {
	State     string    `json:"state"`
	Command   string    `json:"command"`
	Ref       Ref       `json:"ref"`
	StartedAt time.Time `json:"started_at"`
	Result    *Result   `json:"result,omitempty"`
}

// claim is a command's hold on an idempotency key.
type claim struct {
	key      string
	revision uint64
	ref      Ref
	// takeover is set when a previous executor's claim went stale: its events may have landed.
	takeover bool
}

// ValidateIdempotencyKey checks a client key: 1 to 255 printable ASCII characters.
func ValidateIdempotencyKey(k string) error {
	if len(k) == 0 || len(k) > 255 {
		return apperr.InvalidFields("invalid idempotency key", apperr.FieldViolation{Field: "idempotency_key", Description: "must be 1 to 255 characters"})
	}
	for _, c := range []byte(k) {
		if c < 0x21 || c > 0x7e {
			return apperr.InvalidFields("invalid idempotency key", apperr.FieldViolation{Field: "idempotency_key", Description: "must be printable ASCII without spaces"})
		}
	}
	return nil
}

func kvKey(tenant, key string) string {
	sum := sha256.Sum256([]byte(key))
	return tenant + "." + hex.EncodeToString(sum[:20])
}

// begin claims the key for a command on ref, or returns the result the key already produced.
func (s *Idempotency) begin(ctx context.Context, tenant, key, command string, ref Ref) (*claim, *Result, error) {
	if err := ValidateIdempotencyKey(key); err != nil {
		return nil, nil, err
	}
	k := kvKey(tenant, key)
	for range 5 {
		entry, err := s.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			rec, _ := json.Marshal(idemRecord{State: claimPending, Command: command, Ref: ref, StartedAt: s.now()})
			rev, err := s.kv.Create(ctx, k, rec)
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue // another executor claimed it first; read its claim
			}
			if err != nil {
				return nil, nil, unavailable(fmt.Errorf("eventstore: claim idempotency key: %w", err))
			}
			return &claim{key: k, revision: rev, ref: ref}, nil, nil
		}
		if err != nil {
			return nil, nil, unavailable(fmt.Errorf("eventstore: read idempotency key: %w", err))
		}
		var rec idemRecord
		if err := json.Unmarshal(entry.Value(), &rec); err != nil {
			return nil, nil, fmt.Errorf("eventstore: idempotency record %s: %w", k, err)
		}
		if rec.Command != command {
			return nil, nil, apperr.InvalidFields("idempotency key reused", apperr.FieldViolation{
				Field: "idempotency_key", Description: fmt.Sprintf("already used for a %s command", rec.Command)})
		}
		switch {
		case rec.State == claimDone && rec.Result != nil:
			r := *rec.Result
			r.Replayed = true
			idempotentReplays.WithLabelValues(command).Inc()
			return nil, &r, nil
		case s.now().Sub(rec.StartedAt) < s.opts.ClaimTimeout:
			return nil, nil, &apperr.Error{Kind: apperr.Conflict, Reason: "IDEMPOTENCY_KEY_IN_USE",
				Message: "a command with this idempotency key is still running; retry later"}
		}
		// The first executor died after claiming: take over, keeping its aggregate so a create
		// command resumes on the id it may already have written.
		rec.StartedAt = s.now()
		val, _ := json.Marshal(rec)
		rev, err := s.kv.Update(ctx, k, val, entry.Revision())
		if err != nil {
			continue // someone else took over or finished meanwhile
		}
		return &claim{key: k, revision: rev, ref: rec.Ref, takeover: true}, nil, nil
	}
	return nil, nil, &apperr.Error{Kind: apperr.Conflict, Reason: "IDEMPOTENCY_KEY_IN_USE",
		Message: "a command with this idempotency key is contended; retry later"}
}

// complete records the outcome of a claimed command.
func (s *Idempotency) complete(ctx context.Context, c *claim, command string, r Result) error {
	val, _ := json.Marshal(idemRecord{State: claimDone, Command: command, Ref: c.ref, StartedAt: s.now(), Result: &r})
	// Put, not Update: the events are in the log, so this outcome is the truth even if a
	// stale-claim takeover raced us.
	if _, err := s.kv.Put(ctx, c.key, val); err != nil {
		return unavailable(fmt.Errorf("eventstore: record idempotency outcome: %w", err))
	}
	return nil
}

// release drops a claim whose command failed, so the client may retry with the same key.
func (s *Idempotency) release(ctx context.Context, c *claim) {
	// A failed delete only delays the retry until ClaimTimeout.
	_ = s.kv.Delete(context.WithoutCancel(ctx), c.key, jetstream.LastRevision(c.revision))
}
