package testkit_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/evcrm/evcrm/libs/testkit"
)

func TestLoadRunsEveryCallAndSortsLatencies(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	elapsed, lat := testkit.Load(t, 8, 5, func(c, i int) error {
		calls.Add(1)
		time.Sleep(time.Duration(c) * time.Millisecond)
		return nil
	})
	assert.EqualValues(t, 40, calls.Load())
	assert.Len(t, lat, 40)
	assert.IsNonDecreasing(t, lat)
	assert.GreaterOrEqual(t, elapsed, 35*time.Millisecond, "client 7 sleeps 7 ms five times")
	assert.Equal(t, float64(lat[39].Microseconds())/1000, testkit.Percentile(lat, 100))
	assert.Equal(t, float64(lat[20].Microseconds())/1000, testkit.Percentile(lat, 50))
	assert.Zero(t, testkit.Percentile(nil, 99))
}
