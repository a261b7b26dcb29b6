package snapshotstore_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/snapshotstore"
)

func snap(key string, seq uint64, state string) eventstore.Snapshot {
	return eventstore.Snapshot{Key: key, Schema: "lead/x/1", Position: eventstore.Position{Version: seq, Sequence: seq * 10}, State: []byte(state)}
}

// The latest snapshot of a key wins, whatever order the writes arrive in, queued snapshots are
// readable before they are written, and Close writes the queue.
func TestStoreKeepsTheLatest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "snapshots.db")
	s, err := snapshotstore.Open(ctx, path, snapshotstore.Options{})
	require.NoError(t, err)
	for i := range 2000 {
		s.PutSnapshot(snap(fmt.Sprint("acme/lead/", i%100), uint64(i+1), fmt.Sprintf(`{"n":%d}`, i)))
	}
	got, ok, err := s.GetSnapshot(ctx, "acme/lead/7")
	require.NoError(t, err)
	require.True(t, ok)
	assert.JSONEq(t, `{"n":1907}`, string(got.State), "queued or written, the latest is read")
	s.PutSnapshot(snap("acme/lead/7", 5, `{"n":-1}`)) // an older position never replaces a newer one
	require.NoError(t, s.Close())
	s.PutSnapshot(snap("acme/lead/8", 9999, `{}`)) // after Close: ignored, no panic

	s, err = snapshotstore.Open(ctx, path, snapshotstore.Options{})
	require.NoError(t, err)
	defer s.Close()
	for i := range 100 {
		got, ok, err := s.GetSnapshot(ctx, fmt.Sprint("acme/lead/", i))
		require.NoError(t, err)
		require.True(t, ok, "key %d", i)
		assert.JSONEq(t, fmt.Sprintf(`{"n":%d}`, 1900+i), string(got.State))
		assert.Equal(t, eventstore.Position{Version: uint64(1901 + i), Sequence: uint64(1901+i) * 10}, got.Position)
	}
	_, ok, err = s.GetSnapshot(ctx, "acme/lead/none")
	require.NoError(t, err)
	assert.False(t, ok)
}

// A replaced or forgotten snapshot's bytes are gone from the file once the WAL is
// checkpointed (secure_delete): snapshots may hold personal data an erasure replaced.
func TestStoreOverwritesReplacedState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "snapshots.db")
	s, err := snapshotstore.Open(ctx, path, snapshotstore.Options{})
	require.NoError(t, err)
	s.PutSnapshot(snap("acme/lead/a", 1, `{"Email":"ada.secret@example.com"}`))
	s.PutSnapshot(snap("acme/lead/b", 1, `{"Email":"bob.secret@example.com"}`))
	require.NoError(t, s.Close())

	s, err = snapshotstore.Open(ctx, path, snapshotstore.Options{})
	require.NoError(t, err)
	s.PutSnapshot(snap("acme/lead/a", 2, `{"Email":"[erased]"}`))
	require.NoError(t, s.Forget(ctx, "acme/lead/b"))
	require.NoError(t, s.Close()) // the last connection's close checkpoints and removes the WAL

	files, err := filepath.Glob(path + "*")
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.False(t, bytes.Contains(data, []byte("ada.secret")), "%s still holds the replaced state", f)
		assert.False(t, bytes.Contains(data, []byte("bob.secret")), "%s still holds the forgotten state", f)
	}
}
