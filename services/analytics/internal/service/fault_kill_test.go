package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/ports/projector"
	"github.com/evcrm/evcrm/services/analytics/internal/service"
)

// TestFaultProjectorKilledAtRandomPoints is issue 11's first fault test.
//
// Fault: the analytics projector is killed at random points — its NATS connection is closed
// first, so nothing it has in flight can be acked or given back (what kill -9 of the process
// does), then its workers are stopped and a new instance takes over the same durable
// consumers, while events keep being appended.
//
// Load: 64 writers append the bench's mixed history (mixedUnit: about 8.7 events per unit over
// the three streams, one event per append): 2,000 units (about 17,000 events) and 3 kills by
// default; with -soak (EVCRM_SOAK=1) 23,000 units (about 200,000 events) and 12 kills.
//
// Invariants: afterwards ClickHouse holds exactly the streams' events — events FINAL has one row
// per appended event with distinct event ids, and the counts per stream and per event type are
// what the writers appended — and every current-state table and metric total (row counts FINAL,
// opportunity amounts per status, leads per status, responses) equals a clean replay of the same
// streams into a fresh database; nothing was dead-lettered.
//
// Time: the killed instances' unacked events come back only after the consumers' AckWait
// (shortened to killAckWait here; 30 s in production), and later events of their aggregates
// wait on the gap for twice that before the writer would apply them over it
// (chwriter.Options.GapWait). Before GapWait existed, a redelivery backoff this short
// (killBackoff) ran through the writer's delivery-count patience before AckWait, applied events
// over the gap and lost the killed instance's events when they came back (counted as replays):
// current-state rows missed their creation.
func TestFaultProjectorKilledAtRandomPoints(t *testing.T) {
	t.Parallel()
	units, kills := 2000, 3
	if testkit.Soak() {
		units, kills = 23000, 12
	}
	e := newEnv(t, testkit.SharedClickHouse(t))
	ns := testkit.StartNATS(t)
	// newEnv's server is replaced by one the test owns, so that each projector instance can
	// have a connection of its own to kill.
	e.nc = ns.Connect(t)
	js, err := jetstream.New(e.nc)
	if err != nil {
		t.Fatal(err)
	}
	e.js = js
	if err := eventstore.EnsureStreams(t.Context(), js, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if e.store, err = eventstore.New(e.nc, eventstore.Options{}); err != nil {
		t.Fatal(err)
	}

	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d, %d units, %d kills", seed, units, kills)

	// Writers run in the background for the whole kill phase; they count what they appended
	// per stream and event type (the expected contents of events).
	var mu sync.Mutex
	appended := map[string]int{} // "stream|type"
	perStream := map[string]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	base := time.Now().UTC().AddDate(0, 0, -200).Truncate(time.Second)
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= units || t.Failed() {
					return
				}
				for _, a := range mixedUnit(i, base) {
					var pos eventstore.Position
					for _, ev := range a.events {
						res, err := e.store.Append(context.Background(), a.ref, pos, ev)
						if err != nil {
							t.Errorf("append %s: %v", a.ref, err)
							return
						}
						pos = res.Position
						stream, _ := e.store.StreamOf(a.ref.Type)
						typ := eventstore.ShortType(string(ev.Payload.ProtoReflect().Descriptor().FullName()))
						mu.Lock()
						appended[stream+"|"+typ]++
						perStream[stream]++
						mu.Unlock()
					}
				}
			}
		})
	}

	start := time.Now()
	for k := range kills {
		nc := ns.Connect(t)
		_, stop := startOn(t, e, nc)
		// Random points: anywhere from a batch being pulled to one being inserted or acked.
		time.Sleep(time.Duration(200+rng.IntN(1800)) * time.Millisecond)
		nc.Close()
		stop()
		t.Logf("kill %d at %v, %d units appended", k+1, time.Since(start).Round(time.Millisecond), min(int(next.Load()), units))
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	svc, stop := startOn(t, e, ns.Connect(t))
	waitProjected(t, svc.App)
	stop()
	t.Logf("projected after %v", time.Since(start).Round(time.Millisecond))

	var total int
	var wantStreams, wantTypes []string
	for _, st := range []string{"CRM_CAMPAIGN", "CRM_LEADS", "CRM_PIPELINE"} {
		total += perStream[st]
		wantStreams = append(wantStreams, fmt.Sprintf("%s|%d|%d", st, perStream[st], perStream[st]))
	}
	for k, n := range appended {
		wantTypes = append(wantTypes, fmt.Sprintf("%s|%d", k, n))
	}
	slices.Sort(wantTypes)
	equalLines(t, "events", lines(t, e.conn, "count(),uniqExact(event_id)", "FROM events FINAL"),
		[]string{fmt.Sprintf("%d|%d", total, total)})
	equalLines(t, "events per stream", lines(t, e.conn, "stream,count(),max(seq)", "FROM events FINAL GROUP BY stream ORDER BY stream"), wantStreams)
	equalLines(t, "events per type", lines(t, e.conn, "stream,event_type,count()", "FROM events FINAL GROUP BY stream, event_type ORDER BY stream, event_type"), wantTypes)
	if dlq, err := js.Stream(t.Context(), projection.DefaultDeadLetterStream); err == nil {
		if info, err := dlq.Info(t.Context()); err == nil && info.State.Msgs != 0 {
			t.Errorf("%d events dead-lettered", info.State.Msgs)
		}
	}
	killed := metricTotals(t, e)
	replay := time.Now()

	// The reference: a clean replay of the same streams into a fresh database.
	if err := projector.DeleteConsumers(t.Context(), js, projector.DefaultName); err != nil {
		t.Fatal(err)
	}
	e.db = e.ch.NewDatabase(t)
	e.conn = e.ch.ConnDatabase(t, e.db)
	svc, stop = startOn(t, e, ns.Connect(t))
	waitProjected(t, svc.App)
	stop()
	t.Logf("clean replay in %v", time.Since(replay).Round(time.Millisecond))
	if clean := metricTotals(t, e); clean != killed {
		t.Errorf("the killed projection differs from a clean replay:\n killed %s\n clean  %s", killed, clean)
	}
}

// metricTotals sums what the metrics are computed from: every table's rows FINAL, the
// opportunity amounts per status and the leads per status.
func metricTotals(t *testing.T, e *env) string {
	t.Helper()
	return fmt.Sprint(finalCounts(t, e.conn),
		lines(t, e.conn, "status,count(),sum(amount_micros)", "FROM opportunities FINAL GROUP BY status ORDER BY status"),
		lines(t, e.conn, "status,count()", "FROM leads FINAL GROUP BY status ORDER BY status"),
		lines(t, e.conn, "count()", "FROM responses FINAL"))
}

// startOn runs a projector instance on its own connection nc (so that closing nc kills it)
// until the returned stop is called, with killAckWait and killBackoff.
func startOn(t *testing.T, e *env, nc *nats.Conn) (*service.Service, func()) {
	t.Helper()
	svc, err := service.New(t.Context(), nc, service.Options{
		ClickHouse: service.ClickHouseOptions{Addr: e.ch.Addr(), Database: e.db, User: "default"},
		BatchSize:  500, BatchWait: 50 * time.Millisecond, Backoff: killBackoff, AckWait: killAckWait,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("service.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, w := range svc.Workers() {
		wg.Go(func() { _ = w.Run(ctx) })
	}
	stop := sync.OnceFunc(func() {
		cancel()
		wg.Wait()
		_ = svc.Close()
	})
	t.Cleanup(stop)
	return svc, stop
}

// killAckWait is the consumers' AckWait in the test: a killed instance's batch is offered again
// after it.
const killAckWait = 3 * time.Second

// killBackoff is the redelivery backoff of the killed projectors: 200 ms, so that events
// waiting on a killed instance's gap are offered again many times before AckWait brings the
// missing events back (the projector stretches it so that its 9 redeliveries span the writer's
// GapWait); EVCRM_KILL_BACKOFF overrides it for experiments.
var killBackoff = func() []time.Duration {
	if d, err := time.ParseDuration(os.Getenv("EVCRM_KILL_BACKOFF")); err == nil {
		return []time.Duration{d}
	}
	return []time.Duration{200 * time.Millisecond}
}()
