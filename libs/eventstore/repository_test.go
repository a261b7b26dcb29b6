package eventstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
)

// A tiny domain: a named counter. Its events are created(name) and added(n).
type counter struct {
	Name  string
	Total int64
	Adds  int
}

type counterEvent struct {
	created string
	added   int64
}

type counterCodec struct{}

func (counterCodec) Encode(e counterEvent) (proto.Message, error) {
	if e.created != "" {
		return wrapperspb.String(e.created), nil
	}
	return wrapperspb.Int64(e.added), nil
}

func (counterCodec) Decode(r eventstore.Recorded) (counterEvent, error) {
	p, err := r.Payload()
	if err != nil {
		return counterEvent{}, err
	}
	switch m := p.(type) {
	case *wrapperspb.StringValue:
		return counterEvent{created: m.GetValue()}, nil
	case *wrapperspb.Int64Value:
		return counterEvent{added: m.GetValue()}, nil
	}
	return counterEvent{}, fmt.Errorf("unexpected %T", p)
}

func applyCounter(s counter, e counterEvent) counter {
	if e.created != "" {
		s.Name = e.created
		return s
	}
	s.Total += e.added
	s.Adds++
	return s
}

func create(name string) func(counter) ([]counterEvent, error) {
	return func(s counter) ([]counterEvent, error) {
		if s.Name != "" {
			return nil, apperr.Exists("counter exists", s.Name)
		}
		return []counterEvent{{created: name}}, nil
	}
}

func add(n int64) func(counter) ([]counterEvent, error) {
	return func(s counter) ([]counterEvent, error) {
		if s.Name == "" {
			return nil, apperr.New(apperr.NotFound, "no counter")
		}
		return []counterEvent{{added: n}}, nil
	}
}

func newRepo(t *testing.T, st *eventstore.Store, opts eventstore.RepositoryOptions) *eventstore.Repository[counter, counterEvent] {
	t.Helper()
	r, err := eventstore.NewRepository(st, "lead", counterCodec{}, func() counter { return counter{} }, applyCounter, opts)
	require.NoError(t, err)
	return r
}

func TestRepositoryExecute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	repo := newRepo(t, e.store, eventstore.RepositoryOptions{})
	ref := repo.Ref("acme", "c1")

	_, err := repo.Execute(ctx, ref, eventstore.Command{Name: "Add"}, add(1))
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err), "a decision's error comes back as it is")
	res, err := repo.Execute(ctx, ref, eventstore.Command{Name: "Create"}, create("visits"))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), res.Position.Version)
	for i := range 5 {
		_, err = repo.Execute(ctx, ref, eventstore.Command{Name: "Add"}, add(int64(i)))
		require.NoError(t, err)
	}
	// A command that decides nothing appends nothing.
	res, err = repo.Execute(ctx, ref, eventstore.Command{Name: "Noop"}, func(counter) ([]counterEvent, error) { return nil, nil })
	require.NoError(t, err)
	assert.Equal(t, uint64(6), res.Position.Version)
	assert.Empty(t, res.EventIDs)

	agg, err := repo.Load(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, counter{Name: "visits", Total: 10, Adds: 5}, agg.State)
	assert.Equal(t, uint64(6), e.streamMsgs(t, "CRM_LEADS"))
}

// Run returns the state after the command, also for an idempotent replay, and an expected
// version guards the decision.
func TestRepositoryRunReturnsTheStateAfterTheCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	idem, err := eventstore.NewIdempotency(ctx, e.js, eventstore.IdempotencyOptions{Bucket: "IDEM_RUN"})
	require.NoError(t, err)
	repo := newRepo(t, e.store, eventstore.RepositoryOptions{Idempotency: idem})
	ref := repo.Ref("acme", "r1")

	s, res, err := repo.Run(ctx, ref, eventstore.Command{Name: "Create"}, create("visits"))
	require.NoError(t, err)
	assert.Equal(t, counter{Name: "visits"}, s)
	s, res, err = repo.Run(ctx, ref, eventstore.Command{Name: "Add", IdempotencyKey: "k1"}, add(3))
	require.NoError(t, err)
	assert.Equal(t, counter{Name: "visits", Total: 3, Adds: 1}, s)
	assert.Equal(t, uint64(2), res.Position.Version)

	_, _, err = repo.Run(ctx, ref, eventstore.Command{Name: "Add"}, add(4))
	require.NoError(t, err)
	// The replay decides nothing; its state is loaded (the later add included).
	s, res, err = repo.Run(ctx, ref, eventstore.Command{Name: "Add", IdempotencyKey: "k1"}, add(3))
	require.NoError(t, err)
	assert.True(t, res.Replayed)
	assert.Equal(t, counter{Name: "visits", Total: 7, Adds: 2}, s)

	stale := uint64(2)
	_, _, err = repo.Run(ctx, ref, eventstore.Command{Name: "Add", ExpectedVersion: &stale}, add(1))
	require.Equal(t, apperr.Conflict, apperr.KindOf(err), "%v", err)
	e2, _ := apperr.As(err)
	assert.Equal(t, "VERSION_MISMATCH", e2.Reason)
	current := uint64(3)
	s, _, err = repo.Run(ctx, ref, eventstore.Command{Name: "Add", ExpectedVersion: &current}, add(1))
	require.NoError(t, err)
	assert.Equal(t, int64(8), s.Total)
	assert.Equal(t, uint64(4), e.streamMsgs(t, "CRM_LEADS"), "the rejected command appended nothing")
}

func TestRepositoryReplicasConverge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	// Two replicas with their own caches and connections write to the same aggregates.
	other, err := eventstore.New(e.nats.Connect(t), eventstore.Options{})
	require.NoError(t, err)
	repos := []*eventstore.Repository[counter, counterEvent]{
		newRepo(t, e.store, eventstore.RepositoryOptions{MaxAttempts: 50}),
		newRepo(t, other, eventstore.RepositoryOptions{MaxAttempts: 50}),
	}
	ref := repos[0].Ref("acme", "shared")
	_, err = repos[0].Execute(ctx, ref, eventstore.Command{Name: "Create"}, create("shared"))
	require.NoError(t, err)

	const perReplica, goroutines = 25, 4
	var wg sync.WaitGroup
	for _, repo := range repos {
		for range goroutines {
			wg.Go(func() {
				for range perReplica {
					if _, err := repo.Execute(ctx, ref, eventstore.Command{Name: "Add"}, add(1)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	want := int64(len(repos) * goroutines * perReplica)
	for i, repo := range repos {
		agg, err := repo.Load(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, want, agg.State.Total, "replica %d", i)
		assert.Equal(t, uint64(want+1), agg.Position.Version, "replica %d", i)
	}
}

func TestIdempotentCommandAfterDuplicateWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{Duplicates: 100 * time.Millisecond})
	ctx := context.Background()
	idem, err := eventstore.NewIdempotency(ctx, e.js, eventstore.IdempotencyOptions{Bucket: "IDEM_TEST"})
	require.NoError(t, err)
	repo := newRepo(t, e.store, eventstore.RepositoryOptions{Idempotency: idem})

	cmd := eventstore.Command{Name: "CreateCounter", IdempotencyKey: "client-key-1"}
	first, err := repo.Execute(ctx, repo.Ref("acme", "k1"), cmd, create("first"))
	require.NoError(t, err)
	assert.False(t, first.Replayed)
	before := e.streamMsgs(t, "CRM_LEADS")

	time.Sleep(300 * time.Millisecond) // past JetStream's duplicate window

	// The retry generated a new id for the record it would create; the key brings back the
	// first outcome and nothing is appended.
	again, err := repo.Execute(ctx, repo.Ref("acme", "k2"), cmd, create("second"))
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.Ref, again.Ref)
	assert.Equal(t, first.Position, again.Position)
	assert.Equal(t, first.EventIDs, again.EventIDs)
	assert.Equal(t, before, e.streamMsgs(t, "CRM_LEADS"))

	// The key is bound to its command and scoped to its tenant.
	_, err = repo.Execute(ctx, repo.Ref("acme", "k3"), eventstore.Command{Name: "Other", IdempotencyKey: "client-key-1"}, create("x"))
	assert.Equal(t, apperr.Invalid, apperr.KindOf(err))
	res, err := repo.Execute(ctx, repo.Ref("globex", "k1"), cmd, create("globex"))
	require.NoError(t, err)
	assert.False(t, res.Replayed)

	// A failed command releases its key, so the client can retry it.
	failing := eventstore.Command{Name: "Add", IdempotencyKey: "client-key-2"}
	_, err = repo.Execute(ctx, repo.Ref("acme", "missing"), failing, add(1))
	require.Error(t, err)
	_, err = repo.Execute(ctx, repo.Ref("acme", "k1"), failing, add(1))
	require.NoError(t, err)

	_, err = repo.Execute(ctx, repo.Ref("acme", "k9"), eventstore.Command{Name: "Create", IdempotencyKey: "has space"}, create("x"))
	assert.Equal(t, apperr.Invalid, apperr.KindOf(err))
}

func TestIdempotencyLiveClaimMakesRetriesWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	idem, err := eventstore.NewIdempotency(ctx, e.js, eventstore.IdempotencyOptions{Bucket: "IDEM_TAKEOVER", ClaimTimeout: time.Minute})
	require.NoError(t, err)
	repo := newRepo(t, e.store, eventstore.RepositoryOptions{Idempotency: idem})
	cmd := eventstore.Command{Name: "CreateCounter", IdempotencyKey: "dies-after-append"}

	// The first executor appends and then "dies" before recording the outcome: its decide
	// blocks the second executor's claim check until the first has appended.
	blocked := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := repo.Execute(ctx, repo.Ref("acme", "orig"), cmd, func(s counter) ([]counterEvent, error) {
			close(blocked)
			<-release
			return create("orig")(s)
		})
		done <- err
	}()
	<-blocked
	_, err = repo.Execute(ctx, repo.Ref("acme", "retry"), cmd, create("retry"))
	assert.Equal(t, apperr.Conflict, apperr.KindOf(err), "a live claim makes retries wait")
	close(release)
	require.NoError(t, <-done)

	res, err := repo.Execute(ctx, repo.Ref("acme", "retry"), cmd, create("retry"))
	require.NoError(t, err)
	assert.True(t, res.Replayed)
	assert.Equal(t, "orig", res.Ref.ID)
	assert.Equal(t, uint64(1), e.streamMsgs(t, "CRM_LEADS"))
}

func TestNewCommandSkipsTheReadButNotTheCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	repo := newRepo(t, e.store, eventstore.RepositoryOptions{})
	res, err := repo.Execute(ctx, repo.Ref("acme", "fresh"), eventstore.Command{Name: "Create", New: true}, create("fresh"))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), res.Position.Version)

	// A second repository (no cache) wrongly claims the aggregate is new: the append's sequence
	// check catches it and the decision sees the real state.
	other := newRepo(t, e.store, eventstore.RepositoryOptions{})
	_, err = other.Execute(ctx, other.Ref("acme", "fresh"), eventstore.Command{Name: "Create", New: true}, create("again"))
	assert.Equal(t, apperr.AlreadyExists, apperr.KindOf(err))
	assert.Equal(t, uint64(1), e.streamMsgs(t, "CRM_LEADS"))
}

// A command whose caller goes away after the decision (a client disconnecting, a consumer
// stopped mid-saga) still stores its events and records its outcome, so a retry with the same
// key replays it instead of creating a second record. Found by the campaign rule engine's
// mid-action kill test: the leads service's append was cancelled with its caller, the claim
// released, and the restarted engine's retry created a second task.
func TestCommandOutlivesItsCaller(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	idem, err := eventstore.NewIdempotency(context.Background(), e.js, eventstore.IdempotencyOptions{Bucket: "IDEM_CANCEL"})
	require.NoError(t, err)
	repo := newRepo(t, e.store, eventstore.RepositoryOptions{Idempotency: idem})
	cmd := eventstore.Command{Name: "CreateCounter", IdempotencyKey: "caller-gone", New: true}

	ctx, cancel := context.WithCancel(context.Background())
	first, err := repo.Execute(ctx, repo.Ref("acme", "gone-1"), cmd, func(s counter) ([]counterEvent, error) {
		cancel() // the caller disconnects while the command is being decided
		return create("first")(s)
	})
	require.NoError(t, err, "the decided command is stored although its caller went away")
	assert.Equal(t, uint64(1), first.Position.Version)

	// The retry names a new record, as a client generating ids would; the key replays the first.
	again, err := repo.Execute(context.Background(), repo.Ref("acme", "gone-2"), cmd, create("second"))
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.Ref, again.Ref)
	assert.Equal(t, uint64(1), e.streamMsgs(t, "CRM_LEADS"), "one record, not two")
}
