package eventstore_test

import (
	"context"
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
