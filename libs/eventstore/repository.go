package eventstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// Codec maps an aggregate's domain events to protobuf payloads and back, so domain packages
// stay free of generated code (STYLE.md §1).
type Codec[E any] interface {
	Encode(E) (proto.Message, error)
	Decode(Recorded) (E, error)
}

// OccurredAter is implemented by codecs whose domain events carry the time they occurred; the
// repository records it as the envelope's occurred_at, so a state folded in memory right after
// a command equals the state folded from the log later.
type OccurredAter[E any] interface {
	OccurredAt(E) time.Time
}

// Aggregate is an aggregate's folded state and where it stands in the log.
type Aggregate[S any] struct {
	Ref      Ref
	State    S
	Position Position

	// The version and encoded size of the last snapshot taken of this state (see
	// Repository.snapshot): a large state is not encoded again after every event.
	snapVersion uint64
	snapBytes   int
}

// Exists reports whether the aggregate has any event.
func (a Aggregate[S]) Exists() bool { return a.Position.Version > 0 }

// Command describes one execution of a command.
type Command struct {
	// Name of the command, e.g. "QualifyLead"; an idempotency key is bound to it.
	Name string
	// IdempotencyKey is the client's key; a retry with the same key returns the first result.
	IdempotencyKey string
	// ID of the command, recorded as the causation id of its events. Defaults to the
	// idempotency key, else the request id.
	ID string
	// New says the caller just generated the aggregate's id (a UUIDv7), so there is nothing to
	// load: the first attempt decides on the initial state without a read. Should the aggregate
	// exist after all, its append fails the sequence check and the command is decided again on
	// the loaded state, so New only saves the read, never changes the outcome.
	New bool
	// ExpectedVersion, when set, makes the command fail with an apperr Conflict
	// (VERSION_MISMATCH) unless the aggregate is at this version when it is decided: optimistic
	// concurrency for a client that showed a record and then changed it.
	ExpectedVersion *uint64
}

// VersionMismatch is the error of a command whose ExpectedVersion the aggregate is not at. A
// service that must check something before the version (a row-level scope, which would
// otherwise learn that a record it may not see exists) leaves Command.ExpectedVersion unset
// and returns this from its decision.
func VersionMismatch(version, expected uint64) *apperr.Error {
	return &apperr.Error{Kind: apperr.Conflict, Reason: "VERSION_MISMATCH",
		Message: fmt.Sprintf("the record is at version %d, not the expected %d", version, expected)}
}

// ExpectVersion returns VersionMismatch unless expected is nil or version is *expected.
func ExpectVersion(version uint64, expected *uint64) error {
	if expected != nil && version != *expected {
		return VersionMismatch(version, *expected)
	}
	return nil
}

// Result is the outcome of a command.
type Result struct {
	Ref Ref `json:"ref"`
	// Position of the aggregate after the command: a read model that has applied
	// Position.Sequence has seen the command's effect.
	Position      Position `json:"position"`
	FirstSequence uint64   `json:"first_sequence,omitempty"`
	EventIDs      []string `json:"event_ids,omitempty"`
	// Replayed is true when the result is that of an earlier execution with the same
	// idempotency key; nothing was appended this time.
	Replayed bool `json:"-"`
}

// RepositoryOptions tune a Repository.
type RepositoryOptions struct {
	// CacheSize is how many aggregates' folded states are kept. Default 10,000; negative
	// disables the cache.
	CacheSize int
	// MaxAttempts bounds how often a command is decided again after losing a concurrency
	// conflict to another writer. Default 5.
	MaxAttempts int
	// Idempotency, when set, makes commands with an idempotency key replay-safe.
	Idempotency *Idempotency
	// Snapshots, when set, keeps every aggregate's state after each command and each read
	// from the stream, so an aggregate missing from the in-memory cache is loaded from it
	// instead of from its history (see SnapshotStore). The state type must round-trip through
	// encoding/json: NewRepository refuses one with unexported fields or interfaces.
	Snapshots SnapshotStore
	// SnapshotVersion is part of the snapshots' schema: bump it when Apply changes what it
	// folds while the state's fields stay the same, so older snapshots are ignored.
	SnapshotVersion string
}

// Repository runs commands against one aggregate type: load (from cache, catching up with the
// log) → decide (a pure function of the state) → append → fold the new events into the cached
// state. On a concurrency conflict it reloads and decides again, a bounded number of times.
//
// Commands on one aggregate are serialized inside the process, so the common case costs one
// publish and conflicts only arise between replicas. initial and apply must be pure: apply
// returns the next state and must not modify a state it was given if S holds references that a
// caller of Load may still read.
type Repository[S, E any] struct {
	store   *Store
	typ     string
	codec   Codec[E]
	initial func() S
	fold    func(S, ...E) S
	opts    RepositoryOptions
	cache   *lru.Cache[Ref, Aggregate[S]]
	locks   keyedMutex
	schema  string // of the snapshots, when opts.Snapshots is set
}

// NewRepository returns a repository for aggregates of type aggregateType.
func NewRepository[S, E any](store *Store, aggregateType string, codec Codec[E], initial func() S, apply func(S, E) S, opts RepositoryOptions) (*Repository[S, E], error) {
	return NewRepositoryFold(store, aggregateType, codec, initial, func(s S, evs ...E) S {
		for _, e := range evs {
			s = apply(s, e)
		}
		return s
	}, opts)
}

// NewRepositoryFold is NewRepository with a fold of several events at once in place of an
// apply of one: fold(s, evs...) must give the state of applying evs to s in order and, like
// apply, must not modify s. A domain whose apply copies a state that grows with its history
// (an opportunity's stage visits) folds a load of n events with one copy instead of n — O(n)
// instead of O(n²): 10,000 stage moves took 15 s to load one by one.
func NewRepositoryFold[S, E any](store *Store, aggregateType string, codec Codec[E], initial func() S, fold func(S, ...E) S, opts RepositoryOptions) (*Repository[S, E], error) {
	if _, err := store.StreamOf(aggregateType); err != nil {
		return nil, err
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = 10_000
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	r := &Repository[S, E]{store: store, typ: aggregateType, codec: codec, initial: initial, fold: fold, opts: opts}
	if opts.Snapshots != nil {
		schema, err := snapshotSchema[S](aggregateType, opts.SnapshotVersion)
		if err != nil {
			return nil, err
		}
		r.schema = schema
	}
	if opts.CacheSize > 0 {
		c, err := lru.New[Ref, Aggregate[S]](opts.CacheSize)
		if err != nil {
			return nil, err
		}
		r.cache = c
	}
	return r, nil
}

// Ref builds the reference of an aggregate of this repository's type.
func (r *Repository[S, E]) Ref(tenant, id string) Ref {
	return Ref{Tenant: tenant, Type: r.typ, ID: id}
}

// Load returns the aggregate's current state (a new aggregate has the initial state and the
// zero Position).
func (r *Repository[S, E]) Load(ctx context.Context, ref Ref) (Aggregate[S], error) {
	unlock := r.locks.lock(ref)
	defer unlock()
	agg, _, err := r.load(ctx, ref, true)
	return agg, err
}

// load returns the aggregate from the cache (or the snapshot store), caught up with the log
// when fresh is set; verified reports whether it was. A command trusts a cached state on its
// first attempt: the append's sequence check catches a stale entry, so a cached command costs
// one publish.
func (r *Repository[S, E]) load(ctx context.Context, ref Ref, fresh bool) (agg Aggregate[S], verified bool, err error) {
	if ref.Type != r.typ {
		return Aggregate[S]{}, false, fmt.Errorf("eventstore: repository of %q cannot load %s", r.typ, ref)
	}
	agg, ok := r.cached(ref)
	if !ok {
		if agg, ok = r.fromSnapshot(ctx, ref); ok {
			r.remember(agg)
		}
	}
	if ok && !fresh {
		return agg, false, nil
	}
	if !ok {
		agg = Aggregate[S]{Ref: ref, State: r.initial()}
	}
	recs, pos, err := r.store.ReadAfter(ctx, ref, agg.Position)
	if err != nil {
		return Aggregate[S]{}, false, err
	}
	evs := make([]E, len(recs))
	for i, rec := range recs {
		if evs[i], err = r.codec.Decode(rec); err != nil {
			return Aggregate[S]{}, false, fmt.Errorf("eventstore: decode %s v%d: %w", ref, rec.Envelope.GetAggregateVersion(), err)
		}
	}
	if len(evs) > 0 {
		agg.State = r.fold(agg.State, evs...)
	}
	agg.Position = pos
	if len(recs) > 0 {
		r.snapshot(&agg)
	}
	r.remember(agg)
	return agg, true, nil
}

func (r *Repository[S, E]) cached(ref Ref) (Aggregate[S], bool) {
	if r.cache == nil {
		return Aggregate[S]{}, false
	}
	return r.cache.Get(ref)
}

func (r *Repository[S, E]) remember(agg Aggregate[S]) {
	if r.cache != nil && agg.Position.Version > 0 {
		r.cache.Add(agg.Ref, agg)
	}
}

// Execute runs decide against the aggregate's current state and appends the events it
// returns. A decide that returns no events changes nothing and yields the current position.
// Errors from decide are returned as they are (use apperr kinds).
func (r *Repository[S, E]) Execute(ctx context.Context, ref Ref, cmd Command, decide func(S) ([]E, error)) (Result, error) {
	_, res, err := r.run(ctx, ref, cmd, decide)
	return res, err
}

// Run is Execute that also returns the aggregate's state after the command: the state the
// decided events were folded into, or, when the command was an idempotent replay (nothing
// decided this time), the state loaded from the log.
func (r *Repository[S, E]) Run(ctx context.Context, ref Ref, cmd Command, decide func(S) ([]E, error)) (S, Result, error) {
	agg, res, err := r.run(ctx, ref, cmd, decide)
	if err != nil {
		var zero S
		return zero, Result{}, err
	}
	if res.Replayed {
		if agg, err = r.Load(ctx, res.Ref); err != nil {
			var zero S
			return zero, Result{}, err
		}
	}
	return agg.State, res, nil
}

func (r *Repository[S, E]) run(ctx context.Context, ref Ref, cmd Command, decide func(S) ([]E, error)) (Aggregate[S], Result, error) {
	if err := ref.Validate(); err != nil {
		return Aggregate[S]{}, Result{}, err
	}
	var c *claim
	if cmd.IdempotencyKey != "" {
		if r.opts.Idempotency == nil {
			return Aggregate[S]{}, Result{}, errors.New("eventstore: idempotency key given but the repository has no idempotency store")
		}
		var prior *Result
		var err error
		c, prior, err = r.opts.Idempotency.begin(ctx, ref.Tenant, cmd.IdempotencyKey, cmd.Name, ref)
		if err != nil {
			return Aggregate[S]{}, Result{}, err
		}
		if prior != nil {
			return Aggregate[S]{}, *prior, nil
		}
		// A retry of a create must address the aggregate the first attempt chose.
		ref = c.ref
	}
	if cmd.ID == "" {
		cmd.ID = cmd.IdempotencyKey
	}
	if cmd.ID == "" {
		cmd.ID = reqctx.RequestID(ctx)
	}
	meta := MetadataFrom(ctx)
	meta.CausationID = cmd.ID
	ctx = WithMetadata(ctx, meta)

	agg, res, err := r.execute(ctx, ref, cmd, c, decide)
	var u uncertain
	mayHaveLanded := errors.As(err, &u)
	if mayHaveLanded {
		err = u.error
	}
	if c != nil {
		if err != nil && !mayHaveLanded {
			r.opts.Idempotency.release(ctx, c)
		} else if err == nil {
			// If recording the outcome fails the events are stored all the same: a retry within
			// ClaimTimeout is told to wait, after it the takeover finds the events by causation
			// id. So the command reports success either way.
			_ = r.opts.Idempotency.complete(context.WithoutCancel(ctx), c, cmd.Name, res)
		}
	}
	return agg, res, err
}

func (r *Repository[S, E]) execute(ctx context.Context, ref Ref, cmd Command, c *claim, decide func(S) ([]E, error)) (_ Aggregate[S], _ Result, err error) {
	unlock := r.locks.lock(ref)
	defer unlock()
	if c != nil && c.takeover {
		if res, found, err := r.findApplied(ctx, ref, cmd.ID); err != nil || found {
			return Aggregate[S]{}, res, err
		}
	}
	conflicts, fresh := 0, false
	for {
		var agg Aggregate[S]
		verified := false
		if !fresh && cmd.New && (c == nil || !c.takeover) {
			agg, verified = Aggregate[S]{Ref: ref, State: r.initial()}, true
		} else if agg, verified, err = r.load(ctx, ref, fresh); err != nil {
			return Aggregate[S]{}, Result{}, err
		}
		fresh = true
		if cmd.ExpectedVersion != nil && agg.Position.Version != *cmd.ExpectedVersion {
			if !verified {
				continue // the cached state may be behind: compare with the log's
			}
			return Aggregate[S]{}, Result{}, VersionMismatch(agg.Position.Version, *cmd.ExpectedVersion)
		}
		evs, err := decide(agg.State)
		if (err != nil || len(evs) == 0) && !verified {
			// No append will check this answer against the log: decide again on the log's state.
			continue
		}
		if err != nil {
			return Aggregate[S]{}, Result{}, err
		}
		if len(evs) == 0 {
			return agg, Result{Ref: ref, Position: agg.Position}, nil
		}
		toAppend := make([]Event, len(evs))
		for i, ev := range evs {
			msg, err := r.codec.Encode(ev)
			if err != nil {
				return Aggregate[S]{}, Result{}, fmt.Errorf("eventstore: encode %T: %w", ev, err)
			}
			toAppend[i] = Event{Payload: msg}
			if oa, ok := r.codec.(OccurredAter[E]); ok {
				toAppend[i].OccurredAt = oa.OccurredAt(ev)
			}
		}
		// A decided command finishes its append even when its caller goes away (a client
		// disconnecting, a consumer being stopped): cancelling mid-publish would leave the
		// outcome unknown, and a retry could not tell whether to apply it again. The store
		// bounds each attempt with its own timeout.
		ar, err := r.store.Append(context.WithoutCancel(ctx), ref, agg.Position, toAppend...)
		if errors.Is(err, ErrConcurrency) {
			// Another replica wrote first; the next load catches up from the cached position.
			if conflicts++; conflicts >= r.opts.MaxAttempts {
				return Aggregate[S]{}, Result{}, err
			}
			conflictRetries.WithLabelValues(ref.Type).Inc()
			continue
		}
		if err != nil {
			r.forget(ref) // the append may have landed; do not trust the cached position
			return Aggregate[S]{}, Result{}, uncertain{err}
		}
		agg.State = r.fold(agg.State, evs...)
		agg.Position = ar.Position
		r.snapshot(&agg)
		r.remember(agg)
		return agg, Result{Ref: ref, Position: ar.Position, FirstSequence: ar.FirstSequence, EventIDs: ar.EventIDs}, nil
	}
}

// uncertain marks an append that failed without an answer: its events may have landed. The
// command's idempotency claim is then kept, not released, so a retry with the same key waits
// for ClaimTimeout and takes the command over, finding its events by causation id, instead of
// applying it a second time (a second task, a second opportunity).
type uncertain struct{ error }

func (u uncertain) Unwrap() error { return u.error }

// findApplied looks for events a dead executor of the same command wrote (by causation id).
func (r *Repository[S, E]) findApplied(ctx context.Context, ref Ref, commandID string) (Result, bool, error) {
	recs, _, err := r.store.Load(ctx, ref)
	if err != nil {
		return Result{}, false, err
	}
	var res Result
	for _, rec := range recs {
		if rec.Envelope.GetCausationId() != commandID {
			continue
		}
		if len(res.EventIDs) == 0 {
			res.FirstSequence = rec.Sequence
		}
		res.EventIDs = append(res.EventIDs, rec.Envelope.GetEventId())
		res.Position = rec.Position()
	}
	res.Ref = ref
	res.Replayed = true
	return res, len(res.EventIDs) > 0, nil
}

func (r *Repository[S, E]) forget(ref Ref) {
	if r.cache != nil {
		r.cache.Remove(ref)
	}
}

// keyedMutex serializes work per aggregate without holding a lock per aggregate forever.
type keyedMutex struct {
	mu sync.Mutex
	m  map[Ref]*refLock
}

type refLock struct {
	mu      sync.Mutex
	waiters int
}

func (k *keyedMutex) lock(ref Ref) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[Ref]*refLock{}
	}
	l := k.m[ref]
	if l == nil {
		l = &refLock{}
		k.m[ref] = l
	}
	l.waiters++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.waiters--
		if l.waiters == 0 {
			delete(k.m, ref)
		}
		k.mu.Unlock()
	}
}
