package benchkit

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/natsembed"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/libs/uuid7"
)

// Clients are the concurrencies of the command-path scenario: closed-loop clients, each
// waiting for its call before the next. BENCH_COMMAND_CLIENTS (a comma-separated list) replaces
// them: `make bench-quick` runs one small concurrency, as every level runs the same code.
var Clients = []int{1, 16, 64}

// clients is Clients, or BENCH_COMMAND_CLIENTS when it is set.
func clients(b *testing.B) []int {
	v := os.Getenv("BENCH_COMMAND_CLIENTS")
	if v == "" {
		return Clients
	}
	var out []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("BENCH_COMMAND_CLIENTS=%q: want positive integers separated by commas", v)
		}
		out = append(out, n)
	}
	return out
}

// warmup is how many calls each client makes on every path before the timed part (even, so a
// command that alternates between two states starts the timed part where it began).
const warmup = 4

// pgPoolSize is the PostgreSQL pool of the scenario: a connection for every client at the
// highest concurrency, so the pool never queues a command.
const pgPoolSize = 64

// Durability is one fsync mode of the scenario, with the matching settings of both stores.
type Durability struct {
	// Name is the sub-benchmark's name: "sync=interval" or "sync=always".
	Name string
	// NATS is the JetStream server's fsync setting.
	SyncAlways bool
	// Postgres is the PostgreSQL server's.
	Postgres testkit.PostgresOptions
}

// Durabilities are the two fsync modes the scenario compares:
//   - sync=interval: each server's default trade-off. nats-server fsyncs its file store every
//     2 minutes (sync_interval default) and acknowledges a publish once it is written to the
//     OS; PostgreSQL runs with synchronous_commit = off (a commit returns before its WAL is
//     flushed, the WAL writer flushes every 200 ms), fsync on. Both can lose the last moments of
//     writes in an OS crash and neither corrupts its store.
//   - sync=always: every acknowledged write is on disk. nats-server with `sync_interval: always`
//     (natsembed.Config.SyncAlways) fsyncs before each acknowledgement; PostgreSQL with fsync = on
//     and synchronous_commit = on flushes the WAL before each commit returns (concurrent commits
//     share a flush).
var Durabilities = []Durability{
	{Name: "sync=interval", Postgres: testkit.PostgresOptions{SynchronousCommit: "off", MaxConns: pgPoolSize}},
	{Name: "sync=always", SyncAlways: true, Postgres: testkit.PostgresOptions{SynchronousCommit: "on", MaxConns: pgPoolSize}},
}

// CommandPath describes one command of a service for RunCommandPath.
type CommandPath struct {
	// AggregateType and EventType name the raw subjects and the PostgreSQL rows, e.g. "lead"
	// and "crm.leads.v1.LeadCreated".
	AggregateType, EventType string
	// Payload is what one command appends: the event's envelope as evcrm stores it. The raw
	// publish and the PostgreSQL append write exactly these bytes.
	Payload []byte
	// NewAggregate is true when every command creates an aggregate (CreateLead); otherwise each
	// client appends to an aggregate of its own, one version after the other (MoveStage,
	// RecordResponse).
	NewAggregate bool
	// Start starts the service on n, prepares what clients concurrent clients need (their
	// aggregates) and returns the command: client c's i-th call (i counts on from the warm-up).
	Start func(b *testing.B, n *testkit.NATS, clients int) func(c, i int) error
}

// RunCommandPath runs the command-path scenario as sub-benchmarks
// sync=<interval|always>/clients=<1|16|64>. Each runs, on a fresh JetStream server with that
// fsync mode and after a warm-up of every path: raw synchronous JetStream publishes of
// cp.Payload (the ceiling: no envelope work, no checks), the PostgreSQL event store appending
// the same bytes (one transaction per command, optimistic concurrency), and the service's
// command over gRPC; b.N calls of each, spread over the clients. It reports, per path, calls/s
// and p50/p99/p999 latency in ms, and the ratios evcrm/raw and evcrm/pg of the throughputs.
func RunCommandPath(b *testing.B, cp CommandPath) {
	for _, d := range Durabilities {
		b.Run(d.Name, func(b *testing.B) {
			pg := testkit.StartPostgresWith(b, d.Postgres)
			store, err := NewPGStore(context.Background(), pg.Pool)
			if err != nil {
				b.Fatal(err)
			}
			for _, clients := range clients(b) {
				b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
					runCommandPath(b, cp, d, store, clients)
				})
			}
		})
	}
}

func runCommandPath(b *testing.B, cp CommandPath, d Durability, store *PGStore, clients int) {
	ctx := context.Background()
	n := testkit.StartNATSWith(b, natsembed.Config{SyncAlways: d.SyncAlways})
	command := cp.Start(b, n, clients)
	js := n.JetStream(b)
	rawCfg := eventstore.StreamConfig(eventstore.StreamSpec{Name: "BENCH_RAW", AggregateTypes: []string{cp.AggregateType}}, eventstore.StreamOptions{})
	rawCfg.Subjects = []string{"bench.>"}
	if _, err := js.CreateOrUpdateStream(ctx, rawCfg); err != nil {
		b.Fatal(err)
	}
	if err := store.Reset(ctx); err != nil {
		b.Fatal(err)
	}
	aggID := func(c, i int) string {
		if cp.NewAggregate {
			return fmt.Sprintf("c%d-%d", c, i)
		}
		return fmt.Sprintf("c%d", c)
	}
	raw := func(c, i int) error {
		_, err := js.Publish(ctx, fmt.Sprintf("bench.acme.%s.%s.%s", cp.AggregateType, aggID(c, i), cp.EventType), cp.Payload)
		return err
	}
	versions := make([]int64, clients) // each client's aggregate, when it keeps one
	pgAppend := func(c, i int) error {
		var expected int64
		if !cp.NewAggregate {
			expected = versions[c]
		}
		v, err := store.Append(ctx, "acme", cp.AggregateType, aggID(c, i), expected, PGEvent{ID: uuid7.New(), Type: cp.EventType, Payload: cp.Payload})
		versions[c] = v
		return err
	}
	per := max(b.N/clients, 1)
	from := func(op func(c, i int) error, offset int) func(c, i int) error {
		return func(c, i int) error { return op(c, offset+i) }
	}
	for _, op := range []func(c, i int) error{raw, pgAppend, command} {
		testkit.Load(b, clients, warmup, op)
	}

	b.ResetTimer()
	rawEl, rawLat := testkit.Load(b, clients, per, from(raw, warmup))
	pgEl, pgLat := testkit.Load(b, clients, per, from(pgAppend, warmup))
	cmdEl, cmdLat := testkit.Load(b, clients, per, from(command, warmup))
	b.StopTimer()

	total := float64(per * clients)
	report := func(prefix string, el time.Duration, lat []time.Duration) {
		b.ReportMetric(total/el.Seconds(), prefix+"_ops/s")
		b.ReportMetric(testkit.Percentile(lat, 50), prefix+"_p50_ms")
		b.ReportMetric(testkit.Percentile(lat, 99), prefix+"_p99_ms")
		b.ReportMetric(testkit.Percentile(lat, 99.9), prefix+"_p999_ms")
	}
	report("evcrm", cmdEl, cmdLat)
	report("raw", rawEl, rawLat)
	report("pg", pgEl, pgLat)
	// Throughput ratios: the elapsed times of the same number of calls.
	b.ReportMetric(rawEl.Seconds()/cmdEl.Seconds(), "evcrm/raw")
	b.ReportMetric(pgEl.Seconds()/cmdEl.Seconds(), "evcrm/pg")
	b.ReportMetric(0, "ns/op")
}
