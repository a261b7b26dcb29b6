package pii

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/uuid7"
)

// DefaultBucket is the JetStream KV bucket of the data keys. Only the leads service, which
// owns the people, may use it (libs/natsperm).
const DefaultBucket = "CRM_PERSON_KEYS"

// KVOptions configure a KV key store.
type KVOptions struct {
	// Bucket name; DefaultBucket when empty.
	Bucket string
	// Replicas of the bucket (1 single node, 3 clusters).
	Replicas int
	// CacheTTL is how long a key (or a subject's erasure) is remembered in the process, saving
	// a KV read per sealed or opened event. Another process's Destroy is seen at the latest
	// after it; Destroy in this process forgets at once. Default one minute; negative
	// disables the cache.
	CacheTTL time.Duration
	// CacheEntries bounds the cache (default 20,000, about a minute of a busy replica's
	// subjects). Expired entries are dropped when it is full, and the whole cache only when
	// every entry is still fresh; either way a dropped entry costs one KV read.
	CacheEntries int
}

// KV is a KeyStore in a JetStream KV bucket: one entry per subject, key
// "<tenant>.<subject>", whose value is the key material or, once erased, a tombstone.
//
// Destroy writes the tombstone and then erases every earlier revision of the entry with the
// stream's secure delete ($JS.API.STREAM.MSG.DELETE with no_erase false), which overwrites the
// message in the store's block files. A KV Delete or Purge alone would not do: JetStream's file
// store removes such messages from its index but leaves their bytes in the block file until
// the block is compacted, so the key would stay on disk (and in backups of it) indefinitely.
type KV struct {
	kv     jetstream.KeyValue
	stream jetstream.Stream
	opts   KVOptions
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	keys   map[string]Key
	erased bool
	at     time.Time
}

// value is what an entry holds.
type value struct {
	ID       string    `json:"id,omitempty"`
	Key      []byte    `json:"key,omitempty"`
	Created  time.Time `json:"created_at,omitzero"`
	ErasedAt time.Time `json:"erased_at,omitzero"`
}

// historyDepth keeps the key's revision when the tombstone is written over it, so Destroy
// can erase it securely itself instead of leaving it to the bucket's history limit (which
// removes without erasing).
const historyDepth = 5

// OpenKV creates or opens the bucket.
func OpenKV(ctx context.Context, js jetstream.JetStream, o KVOptions) (*KV, error) {
	if o.Bucket == "" {
		o.Bucket = DefaultBucket
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = time.Minute
	}
	if o.CacheEntries <= 0 {
		o.CacheEntries = 20_000
	}
	// The bucket's stream is created here, not by CreateKeyValue: KV buckets deny message
	// deletes, a setting a stream update cannot take back, and Destroy needs the secure
	// delete. Otherwise it is the stream nats.go makes for a bucket (so the KV API binds to
	// it), purges still denied by nothing but the permissions (libs/natsperm).
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:              "KV_" + o.Bucket,
		Description:       "Data keys of people (crypto-shredding); a tombstone once erased.",
		Subjects:          []string{"$KV." + o.Bucket + ".>"},
		MaxMsgsPerSubject: historyDepth,
		MaxBytes:          -1,
		MaxMsgSize:        -1,
		MaxMsgs:           -1,
		MaxConsumers:      -1,
		Storage:           jetstream.FileStorage,
		Replicas:          o.Replicas,
		AllowRollup:       true,
		AllowDirect:       true,
		Duplicates:        2 * time.Minute,
		Discard:           jetstream.DiscardNew,
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		st, err = js.Stream(ctx, "KV_"+o.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("pii: bucket %s: %w", o.Bucket, err)
	}
	if st.CachedInfo().Config.DenyDelete {
		return nil, fmt.Errorf("pii: bucket %s denies message deletes, so keys could not be destroyed; recreate it with OpenKV", o.Bucket)
	}
	kv, err := js.KeyValue(ctx, o.Bucket)
	if err != nil {
		return nil, fmt.Errorf("pii: bucket %s: %w", o.Bucket, err)
	}
	return &KV{kv: kv, stream: st, opts: o, now: time.Now, cache: map[string]cached{}}, nil
}

var _ KeyStore = (*KV)(nil)

func entryKey(tenant, subject string) string { return tenant + "." + subject }

// DataKey implements KeyStore.
func (s *KV) DataKey(ctx context.Context, tenant, subject string) (Key, error) {
	k := entryKey(tenant, subject)
	if c, ok := s.fromCache(k); ok {
		if c.erased {
			return Key{}, ErrErased
		}
		for _, key := range c.keys {
			return key, nil
		}
	}
	for range 5 {
		v, _, err := s.read(ctx, k)
		switch {
		case err == nil && !v.ErasedAt.IsZero():
			s.remember(k, cached{erased: true})
			return Key{}, ErrErased
		case err == nil:
			key := Key{ID: v.ID, Bytes: v.Key}
			s.remember(k, cached{keys: map[string]Key{key.ID: key}})
			return key, nil
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return Key{}, err
		}
		key := Key{ID: uuid7.New(), Bytes: make([]byte, 32)}
		if _, err := rand.Read(key.Bytes); err != nil {
			return Key{}, fmt.Errorf("pii: new key: %w", err)
		}
		body, err := json.Marshal(value{ID: key.ID, Key: key.Bytes, Created: s.now().UTC()})
		if err != nil {
			return Key{}, err
		}
		// Create, not Put: of two writers creating the first key at once, one wins and the other
		// reads the winner's key on its next round.
		if _, err := s.kv.Create(ctx, k, body); err == nil {
			s.remember(k, cached{keys: map[string]Key{key.ID: key}})
			return key, nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return Key{}, fmt.Errorf("pii: store key: %w", err)
		}
	}
	return Key{}, fmt.Errorf("pii: key of %s: too much contention", k)
}

// Key implements KeyStore.
func (s *KV) Key(ctx context.Context, tenant, subject, keyID string) (Key, error) {
	k := entryKey(tenant, subject)
	if c, ok := s.fromCache(k); ok {
		if c.erased {
			return Key{}, ErrErased
		}
		if key, ok := c.keys[keyID]; ok {
			return key, nil
		}
	}
	v, _, err := s.read(ctx, k)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return Key{}, fmt.Errorf("%w %s of %s", ErrUnknownKey, keyID, k)
	case err != nil:
		return Key{}, err
	case !v.ErasedAt.IsZero():
		s.remember(k, cached{erased: true})
		return Key{}, ErrErased
	case v.ID != keyID:
		return Key{}, fmt.Errorf("%w %s of %s", ErrUnknownKey, keyID, k)
	}
	key := Key{ID: v.ID, Bytes: v.Key}
	s.remember(k, cached{keys: map[string]Key{key.ID: key}})
	return key, nil
}

// Destroy implements KeyStore.
func (s *KV) Destroy(ctx context.Context, tenant, subject string) error {
	k := entryKey(tenant, subject)
	s.forget(k)
	tomb, err := json.Marshal(value{ErasedAt: s.now().UTC()})
	if err != nil {
		return err
	}
	written := false
	for range 5 {
		v, rev, err := s.read(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			_, err = s.kv.Create(ctx, k, tomb)
		case err != nil:
			return err
		case !v.ErasedAt.IsZero():
			err = nil // erased before; still make sure no old revision is left below
		default:
			_, err = s.kv.Update(ctx, k, tomb, rev)
		}
		if err == nil {
			written = true
			break
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("pii: tombstone %s: %w", k, err)
		}
	}
	if !written {
		return fmt.Errorf("pii: erase %s: too much contention", k)
	}
	s.remember(k, cached{erased: true})
	return s.eraseHistory(ctx, k)
}

// eraseHistory overwrites every revision of the entry that holds key material.
func (s *KV) eraseHistory(ctx context.Context, k string) error {
	hist, err := s.kv.History(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pii: history of %s: %w", k, err)
	}
	for _, e := range hist {
		var v value
		if e.Operation() == jetstream.KeyValuePut && json.Unmarshal(e.Value(), &v) == nil && v.ErasedAt.IsZero() {
			if err := s.stream.SecureDeleteMsg(ctx, e.Revision()); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
				return fmt.Errorf("pii: erase key of %s: %w", k, err)
			}
		}
	}
	return nil
}

func (s *KV) read(ctx context.Context, k string) (value, uint64, error) {
	e, err := s.kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyDeleted) {
		err = jetstream.ErrKeyNotFound
	}
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return value{}, 0, err
		}
		return value{}, 0, fmt.Errorf("pii: read %s: %w", k, err)
	}
	var v value
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return value{}, 0, fmt.Errorf("pii: entry %s: %w", k, err)
	}
	if v.ErasedAt.IsZero() && len(v.Key) != 32 {
		return value{}, 0, fmt.Errorf("pii: entry %s holds no 256-bit key", k)
	}
	return v, e.Revision(), nil
}

func (s *KV) fromCache(k string) (cached, bool) {
	if s.opts.CacheTTL < 0 {
		return cached{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cache[k]
	if !ok || s.now().Sub(c.at) > s.opts.CacheTTL {
		return cached{}, false
	}
	return c, true
}

func (s *KV) remember(k string, c cached) {
	if s.opts.CacheTTL < 0 {
		return
	}
	c.at = s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cache) >= s.opts.CacheEntries {
		// Expired entries were only skipped by fromCache, never removed: without this the
		// cache held every subject seen until it was full (the soak's heap grew with it).
		now := s.now()
		for key, e := range s.cache {
			if now.Sub(e.at) > s.opts.CacheTTL {
				delete(s.cache, key)
			}
		}
		if len(s.cache) >= s.opts.CacheEntries*3/4 {
			// A fresh map, not clear(): a Go map keeps its buckets when emptied.
			s.cache = make(map[string]cached)
		}
	}
	s.cache[k] = c
}

func (s *KV) forget(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cache, k)
}
