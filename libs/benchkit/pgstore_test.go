package benchkit_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/benchkit"
	"github.com/evcrm/evcrm/libs/testkit"
)

func TestPGStoreAppend(t *testing.T) {
	pg := testkit.StartPostgres(t)
	ctx := context.Background()
	s, err := benchkit.NewPGStore(ctx, pg.Pool)
	require.NoError(t, err)

	v, err := s.Append(ctx, "acme", "lead", "l1", 0, benchkit.PGEvent{ID: "e1", Type: "Created", Payload: []byte("a")})
	require.NoError(t, err)
	require.EqualValues(t, 1, v)
	v, err = s.Append(ctx, "acme", "lead", "l1", 1,
		benchkit.PGEvent{ID: "e2", Type: "Scored", Payload: []byte("b")}, benchkit.PGEvent{ID: "e3", Type: "Tagged", Payload: []byte("c")})
	require.NoError(t, err)
	require.EqualValues(t, 3, v)

	// A writer still at version 1 conflicts, and appends nothing of its batch.
	_, err = s.Append(ctx, "acme", "lead", "l1", 1, benchkit.PGEvent{ID: "e4", Type: "Scored"}, benchkit.PGEvent{ID: "e5", Type: "Tagged"})
	require.ErrorIs(t, err, benchkit.ErrConflict)
	// A retried command (same event id) is a duplicate, not a conflict.
	_, err = s.Append(ctx, "acme", "lead", "l1", 3, benchkit.PGEvent{ID: "e1", Type: "Created"})
	require.ErrorIs(t, err, benchkit.ErrDuplicate)
	got, err := s.Version(ctx, "acme", "lead", "l1")
	require.NoError(t, err)
	require.EqualValues(t, 3, got)
	// The same id in another tenant is another aggregate.
	_, err = s.Append(ctx, "other", "lead", "l1", 0, benchkit.PGEvent{ID: "o1", Type: "Created"})
	require.NoError(t, err)

	// Concurrent writers at the same expected version: exactly one wins.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.Append(ctx, "acme", "lead", "race", 0, benchkit.PGEvent{ID: "race-" + string(rune('a'+i)), Type: "Created"})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else {
			require.ErrorIs(t, err, benchkit.ErrConflict)
		}
	}
	require.Equal(t, 1, won)

	require.NoError(t, s.Reset(ctx))
	got, err = s.Version(ctx, "acme", "lead", "l1")
	require.NoError(t, err)
	require.Zero(t, got)
}
