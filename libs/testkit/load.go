package testkit

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Load runs op per times on each of clients goroutines at once (the benchmarks' closed-loop
// load: each client waits for its call before the next) and returns the wall time and every
// call's latency, sorted. A failing call fails tb and stops that client.
func Load(tb testing.TB, clients, per int, op func(client, i int) error) (time.Duration, []time.Duration) {
	tb.Helper()
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		lat = make([]time.Duration, 0, clients*per)
	)
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			mine := make([]time.Duration, 0, per)
			for i := range per {
				t0 := time.Now()
				if err := op(c, i); err != nil {
					tb.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return elapsed, lat
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted latencies in milliseconds, for
// b.ReportMetric; 0 when there are none.
func Percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(float64(len(sorted))*p/100))
	return float64(sorted[i].Microseconds()) / 1000
}
