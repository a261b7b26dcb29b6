package eventstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/natsembed"
)

// benchServer starts a JetStream server with the given fsync mode and the CRM streams.
func benchServer(b *testing.B, syncAlways bool) (*nats.Conn, jetstream.JetStream) {
	b.Helper()
	srv, err := natsembed.Start(natsembed.Config{Port: -1, StoreDir: b.TempDir(), SyncAlways: syncAlways})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	if err := eventstore.EnsureStreams(context.Background(), js, eventstore.StreamOptions{}); err != nil {
		b.Fatal(err)
	}
	return nc, js
}

// payload is a lead-sized event (~300 bytes of envelope), the same bytes for both paths.
func payload() proto.Message {
	return wrapperspb.String("Ada Lovelace <ada@example.com>, CTO at Analytical Engines Ltd, London, UK; source=web_form; utm_campaign=q3-launch; score=42")
}

// runWriters runs total operations split over writers goroutines and returns the elapsed time.
func runWriters(b *testing.B, writers, total int, op func(w, i int) error) time.Duration {
	b.Helper()
	var wg sync.WaitGroup
	per := max(total/writers, 1)
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			for i := range per {
				if err := op(w, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkAppendVsRawPublish measures eventstore.Append (concurrency check, dedupe id, envelope,
// trace headers) against a raw js.Publish of the same envelope bytes, in the same run, and
// reports appends/s, raw publishes/s and their ratio (goal ≥ 0.8).
func BenchmarkAppendVsRawPublish(b *testing.B) {
	for _, syncAlways := range []bool{false, true} {
		for _, writers := range []int{1, 64} {
			name := fmt.Sprintf("sync=%s/writers=%d", map[bool]string{false: "interval", true: "always"}[syncAlways], writers)
			b.Run(name, func(b *testing.B) {
				nc, js := benchServer(b, syncAlways)
				st, err := eventstore.New(nc, eventstore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				body, _ := proto.Marshal(&eventsv1.Envelope{EventType: "google.protobuf.StringValue", Payload: mustMarshal(payload())})
				positions := make([]eventstore.Position, writers)
				b.ResetTimer()
				// Alternate the two paths in rounds so neither gets the warmer or emptier stream.
				const rounds = 4
				var raw, app time.Duration
				for r := range rounds {
					raw += runWriters(b, writers, b.N/rounds, func(w, i int) error {
						_, err := js.Publish(ctx, fmt.Sprintf("crm.bench.lead.raw%d-%d-%d.LeadCreated", r, w, i), body)
						return err
					})
					app += runWriters(b, writers, b.N/rounds, func(w, i int) error {
						ref := eventstore.Ref{Tenant: "bench", Type: "lead", ID: fmt.Sprintf("w%d", w)}
						res, err := st.Append(ctx, ref, positions[w], eventstore.Event{Payload: payload()})
						positions[w] = res.Position
						return err
					})
				}
				b.StopTimer()
				n := float64(rounds * max(b.N/rounds/writers, 1) * writers)
				b.ReportMetric(n/raw.Seconds(), "raw_publish/s")
				b.ReportMetric(n/app.Seconds(), "append/s")
				b.ReportMetric(raw.Seconds()/app.Seconds(), "append/raw")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkLoad10k loads an aggregate with 10,000 events: cold (a new repository folds the whole
// history) and cached (the repository checks the log for newer events and folds none).
func BenchmarkLoad10k(b *testing.B) {
	nc, _ := benchServer(b, false)
	st, err := eventstore.New(nc, eventstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ref := eventstore.Ref{Tenant: "bench", Type: "lead", ID: "long"}
	var pos eventstore.Position
	const events, batch = 10_000, 100
	for i := 0; i < events; i += batch {
		evs := make([]eventstore.Event, batch)
		for j := range evs {
			evs[j] = eventstore.Event{Payload: wrapperspb.Int64(1)}
		}
		res, err := st.Append(ctx, ref, pos, evs...)
		if err != nil {
			b.Fatal(err)
		}
		pos = res.Position
	}
	newRepo := func() *eventstore.Repository[counter, counterEvent] {
		r, err := eventstore.NewRepository(st, "lead", counterCodec{}, func() counter { return counter{Name: "long"} }, applyCounter, eventstore.RepositoryOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	check := func(agg eventstore.Aggregate[counter]) {
		if agg.State.Total != events {
			b.Fatalf("folded total %d, want %d", agg.State.Total, events)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			agg, err := newRepo().Load(ctx, ref)
			if err != nil {
				b.Fatal(err)
			}
			check(agg)
		}
	})
	b.Run("cached", func(b *testing.B) {
		repo := newRepo()
		if _, err := repo.Load(ctx, ref); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			agg, err := repo.Load(ctx, ref)
			if err != nil {
				b.Fatal(err)
			}
			check(agg)
		}
	})
	b.Run("cached-command", func(b *testing.B) {
		repo := newRepo()
		if _, err := repo.Load(ctx, ref); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := repo.Execute(ctx, ref, eventstore.Command{Name: "Add"}, add(0)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkBatchAppend measures what a multi-event command costs: 64 writers each append
// commands of one event (a plain publish) and of two events (an atomic batch), alternating in
// rounds, and reports commands/s of each and their ratio. On a single-node file stream
// nats-server 2.15 stages every atomic batch in a file store of its own (created, fsynced and
// deleted per batch; replicated streams stage in memory), so the two-event command costs far
// more than two publishes.
func BenchmarkBatchAppend(b *testing.B) {
	const writers = 64
	nc, _ := benchServer(b, false)
	st, err := eventstore.New(nc, eventstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	positions := make([]eventstore.Position, writers)
	b.ResetTimer()
	const rounds = 4
	var one, two time.Duration
	for r := range rounds {
		for _, size := range []int{1, 2} {
			el := runWriters(b, writers, b.N/rounds, func(w, i int) error {
				evs := make([]eventstore.Event, size)
				for k := range evs {
					evs[k] = eventstore.Event{Payload: payload()}
				}
				ref := eventstore.Ref{Tenant: "bench", Type: "lead", ID: fmt.Sprintf("w%d", w)}
				res, err := st.Append(ctx, ref, positions[w], evs...)
				positions[w] = res.Position
				return err
			})
			if size == 1 {
				one += el
			} else {
				two += el
			}
			_ = r
		}
	}
	b.StopTimer()
	n := float64(rounds * max(b.N/rounds/writers, 1) * writers)
	b.ReportMetric(n/one.Seconds(), "one_event_cmds/s")
	b.ReportMetric(n/two.Seconds(), "two_event_cmds/s")
	b.ReportMetric(one.Seconds()/two.Seconds(), "two/one")
	b.ReportMetric(0, "ns/op")
}
