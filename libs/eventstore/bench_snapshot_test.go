package eventstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/snapshotstore"
)

// BenchmarkSparseLoad measures a command on an aggregate missing from the in-memory cache
// whose events are spread over a large stream (a lead touched now and then among everyone
// else's events), after JetStream's block caches expired: "stream" reads the aggregate from
// the log, "snapshot" from a snapshot store. EVCRM_BENCH_SPARSE_EVENTS sets the stream's size
// (default 300,000; the cost of "stream" grows with it, that of "snapshot" does not).
//
//	go test -run '^$' -bench SparseLoad -benchtime 300x ./eventstore/
func BenchmarkSparseLoad(b *testing.B) {
	n := 300_000
	if v, err := strconv.Atoi(os.Getenv("EVCRM_BENCH_SPARSE_EVENTS")); err == nil && v > 0 {
		n = v
	}
	nc, _ := benchServer(b, false)
	st, err := eventstore.New(nc, eventstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	snaps, err := snapshotstore.Open(ctx, "", snapshotstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = snaps.Close() })
	writer, err := eventstore.NewRepository(st, "lead", counterCodec{}, func() counter { return counter{} }, applyCounter,
		eventstore.RepositoryOptions{Snapshots: snaps})
	if err != nil {
		b.Fatal(err)
	}
	// 3,000 counters, each touched once per 100 events of filler spread over the stream.
	const aggs, filler = 3000, 100
	for k := 0; k < n; k += filler {
		evs := make([]eventstore.Event, filler)
		for j := range evs {
			evs[j] = eventstore.Event{Payload: payload()}
		}
		if _, err := st.Append(ctx, eventstore.Ref{Tenant: "bench", Type: "lead", ID: fmt.Sprint("filler", k)}, eventstore.Position{}, evs...); err != nil {
			b.Fatal(err)
		}
		ref := writer.Ref("bench", fmt.Sprint("c", k/filler%aggs))
		decide := add(1)
		if k/filler < aggs {
			decide = create("c")
		}
		if _, err := writer.Execute(ctx, ref, eventstore.Command{Name: "Touch"}, decide); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(12 * time.Second) // JetStream's block caches expire after 10 s idle
	for _, mode := range []string{"stream", "snapshot"} {
		b.Run(mode, func(b *testing.B) {
			opts := eventstore.RepositoryOptions{CacheSize: -1} // every load misses the memory cache
			if mode == "snapshot" {
				opts.Snapshots = snaps
			}
			repo, err := eventstore.NewRepository(st, "lead", counterCodec{}, func() counter { return counter{} }, applyCounter, opts)
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				ref := repo.Ref("bench", fmt.Sprint("c", (i*7919)%aggs))
				if _, err := repo.Execute(ctx, ref, eventstore.Command{Name: "Touch"}, add(1)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
