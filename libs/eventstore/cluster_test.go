package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/testkit"
)

// On a replicated stream a conflict is reported as 10164 and the dedupe and sequence checks run
// in another order than on one server; the store must still tell a retry from a lost race.
func TestReplicatedStreamConflictsAndRetries(t *testing.T) {
	t.Parallel()
	c := testkit.StartCluster(t, 3)
	nc := c.Connect(t)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.Eventually(t, func() bool {
		return eventstore.EnsureStreams(ctx, js, eventstore.StreamOptions{Replicas: 3}) == nil
	}, 30*time.Second, 200*time.Millisecond)
	st, err := eventstore.New(nc, eventstore.Options{})
	require.NoError(t, err)
	ref := eventstore.Ref{Tenant: "acme", Type: "opportunity", ID: "R3"}

	first := eventstore.Event{ID: "0190a000-0000-7000-8000-0000000000a1", Payload: wrapperspb.String("open")}
	var r1 eventstore.AppendResult
	require.Eventually(t, func() bool { r1, err = st.Append(ctx, ref, eventstore.Position{}, first); return err == nil },
		20*time.Second, 100*time.Millisecond, "first append: %v", err)

	_, err = st.Append(ctx, ref, eventstore.Position{}, eventstore.Event{Payload: wrapperspb.String("rival")})
	require.ErrorIs(t, err, eventstore.ErrConcurrency)

	again, err := st.Append(ctx, ref, eventstore.Position{}, first)
	require.NoError(t, err)
	assert.True(t, again.Duplicate)
	assert.Equal(t, r1.Position, again.Position)

	// Eight writers race on the aggregate: every event lands once, versions without gaps. Each
	// event keeps its id across attempts, as a client retrying a command does: an append that
	// failed on something other than a conflict (a publish timeout while the cluster is busy,
	// an ambiguous answer whose event may have been stored) is retried as it is, and the
	// store's deduplication by event id keeps it from landing twice.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			transient := 0
			for i := 0; i < 5; {
				ev := eventstore.Event{ID: fmt.Sprintf("0190a000-0000-7000-8000-%012x", 0x1000+w*100+i), Payload: wrapperspb.Int64(int64(w*100 + i))}
				_, pos, err := st.Load(ctx, ref)
				if err == nil {
					_, err = st.Append(ctx, ref, pos, ev)
				}
				switch {
				case err == nil:
					i++
				case errors.Is(err, eventstore.ErrConcurrency):
				case transient < 5 && ctx.Err() == nil:
					transient++
					t.Logf("writer %d, event %d: retrying after %v", w, i, err)
					time.Sleep(100 * time.Millisecond)
				default:
					t.Errorf("writer %d, event %d: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	recs, pos, err := st.Load(ctx, ref)
	require.NoError(t, err)
	assert.Len(t, recs, 41)
	assert.Equal(t, uint64(41), pos.Version)
}
