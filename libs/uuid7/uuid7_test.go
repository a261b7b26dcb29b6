package uuid7_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/uuid7"
)

func TestNewIsAValidIncreasingUUIDv7(t *testing.T) {
	t.Parallel()
	before := time.Now().UnixMilli()
	prev := ""
	for range 10_000 { // more than 4096 per millisecond: the counter borrows from the clock
		s := uuid7.New()
		u, err := uuid.Parse(s)
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(7), u.Version())
		assert.Equal(t, uuid.RFC4122, u.Variant())
		require.Greater(t, s, prev, "ids increase")
		prev = s
	}
	u := uuid.MustParse(prev)
	sec, nsec := u.Time().UnixTime()
	ms := sec*1000 + nsec/1e6
	assert.GreaterOrEqual(t, ms, before)
	assert.LessOrEqual(t, ms, time.Now().UnixMilli()+10, "the borrowed clock stays close to the real one")
}

func TestNewIsUniqueAcrossGoroutines(t *testing.T) {
	t.Parallel()
	const workers, each = 16, 5_000
	var mu sync.Mutex
	seen := make(map[string]bool, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			mine := make([]string, each)
			for i := range mine {
				mine[i] = uuid7.New()
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range mine {
				seen[s] = true
			}
		})
	}
	wg.Wait()
	assert.Len(t, seen, workers*each)
}

func BenchmarkNewParallel(b *testing.B) {
	b.Run("uuid7", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = uuid7.New()
			}
		})
	})
	b.Run("google/uuid", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = uuid.Must(uuid.NewV7()).String()
			}
		})
	})
}
