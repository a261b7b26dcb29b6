package roundrobin

import (
	"context"
	"sort"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/testkit"
)

func TestTurnsAreUniqueAcrossConcurrentCallers(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	ctx := context.Background()
	var counters []*Counter
	for range 2 { // two replicas, two connections
		js, err := jetstream.New(n.Connect(t))
		require.NoError(t, err)
		c, err := Open(ctx, js, "", 1)
		require.NoError(t, err)
		counters = append(counters, c)
	}
	var (
		mu    sync.Mutex
		turns []uint64
		wg    sync.WaitGroup
	)
	for i := range 20 {
		wg.Go(func() {
			for range 5 {
				turn, err := counters[i%2].Next(ctx, "acme", "emea")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				turns = append(turns, turn)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sort.Slice(turns, func(i, j int) bool { return turns[i] < turns[j] })
	require.Len(t, turns, 100)
	for i, turn := range turns {
		assert.Equal(t, uint64(i), turn, "turns are 0..99 without gaps or repeats")
	}
	first, err := counters[0].Next(ctx, "acme", "apac")
	require.NoError(t, err)
	assert.Zero(t, first, "each territory has its own counter")
}
