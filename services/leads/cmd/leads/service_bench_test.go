package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/evcrm/evcrm/libs/eventstore"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

const serviceBenchTenant = "bench"

// BenchmarkServiceReadModel measures the leads service as it runs, in its own process: it
// appends LEADS_BENCH_LEADS LeadCreated events (default 1,000,000) to CRM_LEADS in an embedded
// JetStream, builds and starts the leads binary on it with an empty data directory, and
//
//   - Rebuild: times the service from its start until a ListLeads asking for the last
//     sequence (ReadOptions.min_sequence) answers, i.e. the read model has caught up with the
//     whole stream: events/s, process start included;
//   - List/..., Search/...: b.N calls each over gRPC (dev authentication), p50/p99 ms;
//   - Memory: the process's memory from /proc/<pid>/status after the queries — VmHWM (peak
//     resident set over its life, the rebuild included), VmRSS, RssAnon (its heap: Go and
//     SQLite's page caches) and RssFile (pages of the mmap'd SQLite database, shared with the
//     OS page cache) — and the data directory's size on disk.
//
// The memory is the service's own: measured in a separate process, it counts nothing of the
// benchmark's (the embedded NATS server, the generator). The load runs once per process (the
// sub-benchmarks share it).
//
//	LEADS_BENCH_LEADS=1000000 go test -run '^$' -bench ServiceReadModel -benchtime 1000x -timeout 2h ./cmd/leads/
func BenchmarkServiceReadModel(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("LEADS_BENCH_LEADS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("LEADS_BENCH_LEADS=%q: want a positive integer", v)
		}
	}
	ctx := context.Background()
	ns := testkit.StartNATS(b)
	nc := ns.Connect(b)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	if err := eventstore.EnsureStreams(ctx, js, eventstore.StreamOptions{}); err != nil {
		b.Fatal(err)
	}
	es, err := eventstore.New(nc, eventstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	lastSeq := appendLeads(b, es, n)
	b.Logf("appended %d LeadCreated events in %s", n, time.Since(start).Round(time.Millisecond))

	svc := startService(b, ns.ClientURL())
	conn, err := grpc.NewClient("passthrough:///"+svc.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	client := leadsv1.NewLeadsServiceClient(conn)
	caughtUp := waitCaughtUp(b, client, svc, lastSeq)
	b.Logf("the service read %d events into its read model in %s", lastSeq, caughtUp.Round(time.Millisecond))

	b.Run("Rebuild", func(b *testing.B) {
		b.ReportMetric(float64(lastSeq)/caughtUp.Seconds(), "events/s")
		b.ReportMetric(caughtUp.Seconds(), "s")
		b.ReportMetric(0, "ns/op")
	})
	rng := rand.New(rand.NewPCG(5, 5))
	owner := func() string { return fmt.Sprintf("user-%02d", min(rng.IntN(20), rng.IntN(20))) }
	queries := []struct {
		name string
		call func(context.Context) (int, error)
	}{
		{"List/owner", func(ctx context.Context) (int, error) {
			r, err := client.ListLeads(ctx, &leadsv1.ListLeadsRequest{OwnerIds: []string{owner()}, PageSize: 50})
			return len(r.GetLeads()), err
		}},
		{"List/status+owner", func(ctx context.Context) (int, error) {
			r, err := client.ListLeads(ctx, &leadsv1.ListLeadsRequest{Statuses: []leadsv1.LeadStatus{leadsv1.LeadStatus_LEAD_STATUS_NEW},
				OwnerIds: []string{owner()}, PageSize: 50})
			return len(r.GetLeads()), err
		}},
		{"Search/last-name-prefix", func(ctx context.Context) (int, error) {
			last := benchLastNames[rng.IntN(len(benchLastNames))]
			r, err := client.SearchLeads(ctx, &leadsv1.SearchLeadsRequest{Query: last[:min(3, len(last))], PageSize: 50})
			return len(r.GetLeads()), err
		}},
		{"Search/first+last", func(ctx context.Context) (int, error) {
			q := benchFirstNames[rng.IntN(len(benchFirstNames))] + " " + benchLastNames[rng.IntN(len(benchLastNames))]
			r, err := client.SearchLeads(ctx, &leadsv1.SearchLeadsRequest{Query: q, PageSize: 50})
			return len(r.GetLeads()), err
		}},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			found := 0
			b.ResetTimer()
			for range b.N {
				callCtx := testkit.As(b, serviceBenchTenant, "u1")
				t0 := time.Now()
				rows, err := q.call(callCtx)
				if err != nil {
					b.Fatalf("%s: %v", q.name, err)
				}
				lat = append(lat, time.Since(t0))
				found += rows
			}
			b.StopTimer()
			if found == 0 {
				b.Fatalf("%s found no lead in %d calls: it measured nothing", q.name, b.N)
			}
			slices.Sort(lat)
			b.ReportMetric(testkit.Percentile(lat, 50), "p50-ms")
			b.ReportMetric(testkit.Percentile(lat, 99), "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
	b.Run("Memory", func(b *testing.B) {
		mem, err := procStatus(svc.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range []string{"VmHWM", "VmRSS", "RssAnon", "RssFile"} {
			b.ReportMetric(mem[k], k+"-MiB")
		}
		b.ReportMetric(dirMiB(b, svc.dataDir), "data-dir-MiB")
		b.ReportMetric(0, "ns/op")
	})
}

// benchService is the leads binary running as a child process.
type benchService struct {
	cmd     *exec.Cmd
	addr    string
	dataDir string
	started time.Time
	exited  chan struct{}
}

// startService builds the leads binary and starts it on natsURL with the flags a test daemon
// gets (testkit's: development authentication, no metrics or REST listener, warnings only),
// returning once it listens; it is stopped (SIGTERM, then SIGKILL) when the benchmark ends.
func startService(b *testing.B, natsURL string) *benchService {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "leads")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	s := &benchService{addr: testkit.FreeAddr(b), dataDir: filepath.Join(dir, "data"), exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "-nats-url", natsURL, "-grpc-addr", s.addr, "-metrics-addr", "", "-http-addr", "",
		"-dev-auth", "-data-dir", s.dataDir, "-log-level", "warn")
	s.cmd.Stderr = os.Stderr
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	b.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	for deadline := time.Now().Add(5 * time.Minute); ; {
		if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
			_ = c.Close()
			return s
		}
		select {
		case <-s.exited:
			b.Fatalf("the leads service exited before listening: %v", s.cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			b.Fatal("the leads service did not listen within 5 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCaughtUp calls ListLeads with min_sequence lastSeq until it answers (each call waits up
// to its deadline for the read model) and returns the time since the service started.
func waitCaughtUp(b *testing.B, client leadsv1.LeadsServiceClient, s *benchService, lastSeq uint64) time.Duration {
	b.Helper()
	deadline := time.Now().Add(2 * time.Hour)
	for {
		ctx, cancel := context.WithTimeout(testkit.As(b, serviceBenchTenant, "u1"), 30*time.Second)
		_, err := client.ListLeads(ctx, &leadsv1.ListLeadsRequest{PageSize: 1, Read: &commonv1.ReadOptions{MinSequence: lastSeq}})
		cancel()
		if err == nil {
			return time.Since(s.started)
		}
		select {
		case <-s.exited:
			b.Fatalf("the leads service exited while catching up: %v", s.cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("the read model did not reach sequence %d: %v", lastSeq, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// procStatus reads the memory lines (kB) of /proc/<pid>/status, in MiB.
func procStatus(pid int) (map[string]float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasSuffix(rest, " kB") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(rest, " kB")), 64)
		if err == nil {
			out[name] = kb / 1024
		}
	}
	for _, k := range []string{"VmHWM", "VmRSS", "RssAnon", "RssFile"} {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("/proc/%d/status has no %s", pid, k)
		}
	}
	return out, nil
}

func dirMiB(b *testing.B, dir string) float64 {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			size += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return float64(size) / (1 << 20)
}

var (
	benchFirstNames = []string{"James", "Mary", "John", "Patricia", "Anna", "Lukas", "Chloé", "Hiroshi", "Min-jun",
		"Priya", "João", "Giulia", "Aoife", "Daan", "Olivia", "Noah", "Lucía", "Wei", "Fatima", "Omar"}
	benchLastNames = []string{"Smith", "Johnson", "Müller", "Schmidt", "Dubois", "Tanaka", "Kim", "Nguyen", "Singh",
		"Silva", "Rossi", "O'Brien", "de Vries", "Garcia", "Martin", "Weber", "Kowalski", "Novak"}
)

// appendLeads appends n LeadCreated events (lead i the same on every run, owners and last names
// skewed as in a CRM) with 64 writers through the event store, and returns the stream's last
// sequence.
func appendLeads(b *testing.B, es *eventstore.Store, n int) uint64 {
	b.Helper()
	ctx := context.Background()
	codec := protomap.LeadCodec{}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && !failed.Load(); i = int(next.Add(1) - 1) {
				rng := rand.New(rand.NewPCG(uint64(i), 11))
				created := base.Add(time.Duration(i) * time.Minute)
				last := benchLastNames[min(rng.IntN(len(benchLastNames)), rng.IntN(len(benchLastNames)))]
				fit, eng := int64(rng.IntN(60)), int64(rng.IntN(50))
				l := lead.Lead{ID: fmt.Sprintf("lead-%08d", i), Version: 1,
					Details: lead.Details{FirstName: benchFirstNames[rng.IntN(len(benchFirstNames))], LastName: last,
						Email: fmt.Sprintf("%s.%d@example.com", strings.ReplaceAll(last, " ", ""), i), Company: fmt.Sprintf("Company %d", rng.IntN(5000)),
						Country: "DE", Industry: "software", EmployeeCount: int64(10 + rng.IntN(5000)), Source: lead.Source(1 + rng.IntN(9))},
					OwnerID: fmt.Sprintf("user-%02d", min(rng.IntN(20), rng.IntN(20))), AssignmentReason: lead.AssignRoundRobin,
					TerritoryID: fmt.Sprintf("territory-%d", rng.IntN(10)), Status: lead.StatusNew, StatusChangedAt: created,
					Score: scoring.Score{Fit: fit, Engagement: eng, Total: fit + eng, Temperature: scoring.Temperature(1 + rng.IntN(3)),
						ModelVersion: 1, ScoredAt: created},
					CreatedAt: created, UpdatedAt: created}
				payload, err := codec.Encode(lead.LeadCreated{Lead: l, At: created})
				if err == nil {
					_, err = es.Append(ctx, eventstore.Ref{Tenant: serviceBenchTenant, Type: "lead", ID: l.ID},
						eventstore.Position{}, eventstore.Event{Payload: payload, OccurredAt: created})
				}
				if err != nil {
					failed.Store(true)
					b.Errorf("append lead %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		b.FailNow()
	}
	st, err := es.JetStream().Stream(ctx, "CRM_LEADS")
	if err != nil {
		b.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return info.State.LastSeq
}
