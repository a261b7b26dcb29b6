package leadview

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// BenchmarkRebuild measures how fast the read model is rebuilt from the stream. It appends
// LEADS_BENCH_LEADS LeadCreated events (default 20,000; the documented figure is at
// 1,000,000) to CRM_LEADS in an embedded JetStream through the event store, then, each from an
// empty read model:
//
//   - projector: runs the projector as internal/service configures it until the read model
//     has applied the last sequence and WaitFor returns (the bulk load has ended: every index
//     is built); reports events/s.
//
//   - projector-row-by-row: the same with readmodel.Options.NoBulkLoad.
//
//   - apply-only: the same rows straight into Store.Apply in batches of 500, the projector's
//     batch size, the ceiling of the projector; reports rows/s.
//
//     LEADS_BENCH_LEADS=1000000 go test -run '^$' -bench Rebuild -benchtime 1x -timeout 1h ./internal/adapters/leadview/
func BenchmarkRebuild(b *testing.B) {
	n := 20_000
	if v := os.Getenv("LEADS_BENCH_LEADS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("LEADS_BENCH_LEADS=%q: want a positive integer", v)
		}
	}
	ctx := context.Background()
	srv := testkit.StartNATS(b)
	nc := srv.Connect(b)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	if err := eventstore.EnsureStreams(ctx, js, eventstore.StreamOptions{}, eventstore.LeadsStream); err != nil {
		b.Fatal(err)
	}
	es, err := eventstore.New(nc, eventstore.Options{Streams: []eventstore.StreamSpec{eventstore.LeadsStream}})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	lastSeq := appendCreated(b, es, n)
	b.Logf("appended %d LeadCreated events in %s", n, time.Since(start).Round(time.Millisecond))

	b.Run("projector", func(b *testing.B) { benchProjector(b, js, lastSeq, readmodel.Options{}) })
	b.Run("projector-row-by-row", func(b *testing.B) { benchProjector(b, js, lastSeq, readmodel.Options{NoBulkLoad: true}) })
	b.Run("apply-only", func(b *testing.B) { benchApply(b, n) })
}

// benchProjector runs the projector from an empty read model until it has applied lastSeq.
func benchProjector(b *testing.B, js jetstream.JetStream, lastSeq uint64, opts readmodel.Options) {
	var total time.Duration
	for range b.N {
		total += rebuild(b, js, lastSeq, opts)
	}
	b.ReportMetric(float64(lastSeq)*float64(b.N)/total.Seconds(), "events/s")
	b.ReportMetric(0, "ns/op")
}

func rebuild(b *testing.B, js jetstream.JetStream, lastSeq uint64, opts readmodel.Options) time.Duration {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := readmodel.Open(ctx, filepath.Join(b.TempDir(), "leads.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	runner, err := projection.NewOrdered(js, projection.Config{
		Name:        "leads-rebuild-bench",
		Sources:     []projection.Source{{Stream: Stream, FilterSubjects: []string{"crm.*.lead.>"}}},
		BatchSize:   500, // as internal/service configures it
		BatchWait:   20 * time.Millisecond,
		LagInterval: -1,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, New(store, protomap.LeadCodec{}))
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = runner.Run(ctx)
	}()
	// When the last sequence is stored, as opposed to when WaitFor returns: the difference is
	// the end of the bulk load (its idle wait and the index builds).
	var stored atomic.Int64
	go func() {
		for ctx.Err() == nil {
			if ck, err := store.Checkpoint(ctx); err == nil && ck[Stream] >= lastSeq {
				stored.Store(int64(time.Since(start)))
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	if err := store.WaitFor(ctx, Stream, lastSeq); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	cancel()
	<-done
	storedAfter := min(time.Duration(stored.Load()), elapsed)
	if storedAfter == 0 {
		storedAfter = elapsed
	}
	b.Logf("rebuilt %d events in %s (all stored after %s)", lastSeq, elapsed.Round(time.Millisecond), storedAfter.Round(time.Millisecond))
	return elapsed
}

// benchApply loads the leads' rows into an empty read model with Apply alone, then ends the bulk
// load as the projector does once it has caught up; only those calls are timed.
func benchApply(b *testing.B, n int) {
	ctx := context.Background()
	var total time.Duration
	for range b.N {
		store, err := readmodel.Open(ctx, filepath.Join(b.TempDir(), "leads.db"), readmodel.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rows := make([]readmodel.LeadRow, 0, 500)
		for i := 0; i < n; i += 500 {
			rows = rows[:0]
			for j := i; j < min(i+500, n); j++ {
				r, err := toRow(benchLead(j), benchTenant, uint64(j+1))
				if err != nil {
					b.Fatal(err)
				}
				rows = append(rows, r)
			}
			start := time.Now()
			if err := store.Apply(ctx, Stream, uint64(i+len(rows)), rows, nil); err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
		}
		start := time.Now()
		if err := store.EndBulkLoad(ctx); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		if err := store.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "rows/s")
	b.ReportMetric(0, "ns/op")
}

const benchTenant = "acme-corp"

// appendCreated appends LeadCreated of benchLead(0..n-1) with 64 concurrent writers, as
// CreateLead does, and returns the last stream sequence.
func appendCreated(b *testing.B, es *eventstore.Store, n int) uint64 {
	b.Helper()
	ctx := context.Background()
	codec := protomap.LeadCodec{}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				l := benchLead(i)
				ev := lead.LeadCreated{Lead: l, At: l.CreatedAt}
				payload, err := codec.Encode(ev)
				if err == nil {
					_, err = es.Append(ctx, eventstore.Ref{Tenant: benchTenant, Type: "lead", ID: l.ID},
						eventstore.Position{}, eventstore.Event{Payload: payload, OccurredAt: ev.At})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	st, err := es.JetStream().Stream(ctx, Stream)
	if err != nil {
		b.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return info.State.LastSeq
}

var (
	benchFirst = []string{"James", "Mary", "John", "Patricia", "Anna", "Lukas", "Chloé", "Hiroshi", "Min-jun",
		"Priya", "João", "Giulia", "Aoife", "Daan", "Olivia", "Noah", "Lucía", "Wei", "Fatima", "Omar"}
	benchLast = []string{"Smith", "Johnson", "Müller", "Schmidt", "Dubois", "Tanaka", "Kim", "Nguyen", "Singh",
		"Silva", "Rossi", "O'Brien", "de Vries", "Garcia", "Martin", "Weber", "Kowalski", "Novak"}
	benchBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
)

// benchLead is lead i as CreateLead makes it, the same on every call (so no phase of the
// benchmark holds all of them), with CRM-like skew in owners and last names and a UUIDv7 id.
func benchLead(i int) lead.Lead {
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	created := benchBase.Add(time.Duration(i) * time.Minute)
	var id uuid.UUID
	ms := uint64(created.UnixMilli())
	for k := range 6 {
		id[k] = byte(ms >> (40 - 8*k))
	}
	for k := 6; k < 16; k++ {
		id[k] = byte(rng.Uint32())
	}
	id[6] = id[6]&0x0f | 0x70 // version 7
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	last := benchLast[min(rng.IntN(len(benchLast)), rng.IntN(len(benchLast)))]
	fit, eng := int64(rng.IntN(60)), int64(rng.IntN(50))
	var tags []string
	for range rng.IntN(3) {
		tags = append(tags, fmt.Sprintf("tag-%02d", rng.IntN(30)))
	}
	slices.Sort(tags)
	return lead.Lead{
		ID:      id.String(),
		Version: 1,
		Details: lead.Details{
			FirstName: benchFirst[rng.IntN(len(benchFirst))], LastName: last,
			Email: fmt.Sprintf("%s.%d@example.com", last, i), Phone: fmt.Sprintf("+49 30 %07d", rng.IntN(10_000_000)),
			Company: fmt.Sprintf("Company %d", rng.IntN(5000)), JobTitle: "Head of Operations",
			Country: "DE", City: "Berlin", Industry: "software",
			EmployeeCount: int64(10 + rng.IntN(5000)), Source: lead.Source(1 + rng.IntN(9)),
		},
		Tags:             slices.Compact(tags),
		OwnerID:          fmt.Sprintf("user-%02d", min(rng.IntN(20), rng.IntN(20))),
		AssignmentReason: lead.AssignRoundRobin,
		TerritoryID:      fmt.Sprintf("territory-%d", rng.IntN(10)),
		Status:           lead.StatusNew,
		StatusChangedAt:  created,
		Score: scoring.Score{Fit: fit, Engagement: eng, Total: fit + eng,
			Temperature: scoring.Temperature(1 + rng.IntN(3)), ModelVersion: 1, ScoredAt: created},
		CreatedAt: created,
		UpdatedAt: created,
	}
}
