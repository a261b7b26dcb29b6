package eventstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/snapshotstore"
)

func openSnapshots(t *testing.T, path string) *snapshotstore.Store {
	t.Helper()
	s, err := snapshotstore.Open(context.Background(), path, snapshotstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// A replica that restarts (empty in-memory cache) loads aggregates from its snapshots, and
// every way a snapshot can be behind the log still gives the log's answer: an append checks
// the snapshot's sequence, and a rejection or a no-op decided on a snapshot is decided again
// on the log's state.
func TestRepositorySnapshots(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	path := t.TempDir() + "/snapshots.db"

	snaps := openSnapshots(t, path)
	repo := newRepo(t, e.store, eventstore.RepositoryOptions{Snapshots: snaps})
	ref := repo.Ref("acme", "s1")
	_, err := repo.Execute(ctx, ref, eventstore.Command{Name: "Create"}, create("visits"))
	require.NoError(t, err)
	_, err = repo.Execute(ctx, ref, eventstore.Command{Name: "Add"}, add(5))
	require.NoError(t, err)
	require.NoError(t, snaps.Close()) // writes what is queued

	snaps = openSnapshots(t, path)
	snap, ok, err := snaps.GetSnapshot(ctx, ref.String())
	require.NoError(t, err)
	require.True(t, ok, "the command's state was stored")
	assert.Equal(t, eventstore.Position{Version: 2, Sequence: snap.Position.Sequence}, snap.Position)
	assert.JSONEq(t, `{"Name":"visits","Total":5,"Adds":1}`, string(snap.State))

	// Another writer (a replica without snapshots) moves the aggregate on: the snapshot is stale.
	other := newRepo(t, e.store, eventstore.RepositoryOptions{})
	_, err = other.Execute(ctx, ref, eventstore.Command{Name: "Add"}, add(100))
	require.NoError(t, err)

	// A restarted replica trusts the snapshot, loses the append's check and decides again.
	restarted := newRepo(t, e.store, eventstore.RepositoryOptions{Snapshots: snaps})
	res, err := restarted.Execute(ctx, ref, eventstore.Command{Name: "Add"}, add(1))
	require.NoError(t, err)
	assert.Equal(t, uint64(4), res.Position.Version)
	agg, err := restarted.Load(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, counter{Name: "visits", Total: 106, Adds: 3}, agg.State)

	// A decision that rejects on a stale snapshot's state is decided again on the log's: the
	// snapshot says 106, another writer took the log back to 6, and "add 10 unless that passes
	// 50" is allowed.
	_, err = other.Execute(ctx, ref, eventstore.Command{Name: "Add"}, add(-100)) // log: 6
	require.NoError(t, err)
	atMost := func(limit int64) func(counter) ([]counterEvent, error) {
		return func(s counter) ([]counterEvent, error) {
			if s.Total+10 > limit {
				return nil, apperr.New(apperr.FailedPrecondition, "over the limit")
			}
			return []counterEvent{{added: 10}}, nil
		}
	}
	require.NoError(t, snaps.Close()) // writes restarted's snapshot (106)
	snaps = openSnapshots(t, path)
	third := newRepo(t, e.store, eventstore.RepositoryOptions{Snapshots: snaps})
	stale, ok, err := snaps.GetSnapshot(ctx, ref.String())
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(4), stale.Position.Version, "the snapshot holds 106, the log 6")
	res, err = third.Execute(ctx, ref, eventstore.Command{Name: "Add"}, atMost(50))
	require.NoError(t, err, "rejected on the snapshot (106), allowed on the log (6)")
	assert.Equal(t, uint64(6), res.Position.Version)

	// A no-op decided on a stale snapshot is checked too.
	fourth := func() *eventstore.Repository[counter, counterEvent] {
		require.NoError(t, snaps.Close())
		snaps = openSnapshots(t, path)
		return newRepo(t, e.store, eventstore.RepositoryOptions{Snapshots: snaps})
	}()
	_, err = other.Execute(ctx, ref, eventstore.Command{Name: "Add"}, add(1)) // log: 17, snapshot 16
	require.NoError(t, err)
	seen := int64(-1)
	_, err = fourth.Execute(ctx, ref, eventstore.Command{Name: "Look"}, func(s counter) ([]counterEvent, error) {
		seen = s.Total
		return nil, nil
	})
	require.NoError(t, err)
	assert.Equal(t, int64(17), seen, "the last decision saw the log's state")
}

// A snapshot of another schema (the state's fields changed, or SnapshotVersion was bumped) is
// ignored, and a state that JSON would not round-trip is refused up front.
func TestRepositorySnapshotSchema(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	snaps := openSnapshots(t, "")
	ref := eventstore.Ref{Tenant: "acme", Type: "lead", ID: "v1"}
	v1 := newRepo(t, e.store, eventstore.RepositoryOptions{Snapshots: snaps, SnapshotVersion: "1"})
	_, err := v1.Execute(ctx, ref, eventstore.Command{Name: "Create"}, create("visits"))
	require.NoError(t, err)
	// A forged snapshot under the old schema that disagrees with the log.
	snap, ok, err := snaps.GetSnapshot(ctx, ref.String())
	require.NoError(t, err)
	require.True(t, ok)
	snap.State = []byte(`{"Name":"forged","Total":999}`)
	snap.Position.Sequence++ // later than the stored one, so it replaces it
	snaps.PutSnapshot(snap)

	seen := ""
	look := func(s counter) ([]counterEvent, error) { seen = s.Name; return []counterEvent{{added: 1}}, nil }
	_, err = newRepo(t, e.store, eventstore.RepositoryOptions{Snapshots: snaps, SnapshotVersion: "2"}).
		Execute(ctx, ref, eventstore.Command{Name: "Look"}, look)
	require.NoError(t, err)
	assert.Equal(t, "visits", seen, "a version-2 repository ignores version-1 snapshots")

	type hidden struct{ n int }
	_, err = eventstore.NewRepository(e.store, "lead", counterCodec{}, func() hidden { return hidden{} },
		func(s hidden, _ counterEvent) hidden { return s }, eventstore.RepositoryOptions{Snapshots: snaps})
	assert.ErrorContains(t, err, "unexported")
}

// countingSnapshots counts what a repository hands to the store it wraps.
type countingSnapshots struct {
	eventstore.SnapshotStore
	mu       sync.Mutex
	versions []uint64
}

func (c *countingSnapshots) PutSnapshot(s eventstore.Snapshot) {
	c.mu.Lock()
	c.versions = append(c.versions, s.Position.Version)
	c.mu.Unlock()
	c.SnapshotStore.PutSnapshot(s)
}

// A small state is stored after every command; a large one every size/4 KiB events, so that
// encoding it does not cost a megabyte per command. A replica restarted on the paced snapshot
// reads the events after it from the stream and has the same state.
func TestRepositorySnapshotPace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	path := t.TempDir() + "/snapshots.db"
	snaps := &countingSnapshots{SnapshotStore: openSnapshots(t, path)}
	repo := newRepo(t, e.store, eventstore.RepositoryOptions{Snapshots: snaps})

	small := repo.Ref("acme", "small")
	_, err := repo.Execute(ctx, small, eventstore.Command{Name: "Create"}, create("visits"))
	require.NoError(t, err)
	for range 5 {
		_, err = repo.Execute(ctx, small, eventstore.Command{Name: "Add"}, add(1))
		require.NoError(t, err)
	}
	assert.Equal(t, []uint64{1, 2, 3, 4, 5, 6}, snaps.versions, "a small state after every command")

	// A state of ~16 KiB: the next snapshot 4 events after the last.
	snaps.versions = nil
	large := repo.Ref("acme", "large")
	_, err = repo.Execute(ctx, large, eventstore.Command{Name: "Create"}, create(strings.Repeat("x", 16*1024)))
	require.NoError(t, err)
	for range 12 {
		_, err = repo.Execute(ctx, large, eventstore.Command{Name: "Add"}, add(1))
		require.NoError(t, err)
	}
	assert.Equal(t, []uint64{1, 5, 9, 13}, snaps.versions, "a 16 KiB state every 4 events")
	_, err = repo.Execute(ctx, large, eventstore.Command{Name: "Add"}, add(1)) // version 14: not stored
	require.NoError(t, err)
	require.NoError(t, snaps.SnapshotStore.(*snapshotstore.Store).Close())

	reopened := openSnapshots(t, path)
	snap, ok, err := reopened.GetSnapshot(ctx, large.String())
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(13), snap.Position.Version)
	restarted := newRepo(t, e.store, eventstore.RepositoryOptions{Snapshots: reopened})
	agg, err := restarted.Load(ctx, large)
	require.NoError(t, err)
	assert.Equal(t, uint64(14), agg.Position.Version, "the events after the snapshot come from the stream")
	assert.Equal(t, int64(13), agg.State.Total)
}
