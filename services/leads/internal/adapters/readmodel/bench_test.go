package readmodel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkReadModel loads LEADS_BENCH_LEADS synthetic leads (default
// 1,000,000) into a file database through Apply (a bulk load, as a rebuild
// is), then measures the queries ListLeads and SearchLeads run, reporting
// p50/p99 in milliseconds. Load and Memory/after-queries report the process's
// resident memory (procMemory) after loading and after the queries, with the
// default Options: page caches of 64 MiB for the writer and 16 MiB for each of
// the 4 readers, and a 2 GiB mmap window. The load happens once per process
// and only when a benchmark selects it; plain `go test` never runs it.
//
//	go test -run '^$' -bench ReadModel -benchtime 2000x ./internal/adapters/readmodel/
func BenchmarkReadModel(b *testing.B) {
	fx := &benchFixture{n: 1_000_000}
	if v := os.Getenv("LEADS_BENCH_LEADS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("LEADS_BENCH_LEADS=%q: want a positive integer", v)
		}
		fx.n = n
	}
	fx.dir = b.TempDir()
	defer fx.close()

	b.Run("Load", func(b *testing.B) {
		fx.ensure(b)
		b.ReportMetric(fx.loadRate, "rows/s")
		b.ReportMetric(fx.dbMiB, "db-MiB")
		fx.loadMem.report(b)
		b.ReportMetric(0, "ns/op")
	})

	rng := rand.New(rand.NewPCG(7, 7))
	owner := func() string { return fmt.Sprintf("user-%02d", fx.gen.ownerZ.Uint64()) }
	status := func() string { return weighted(rng, genStatuses, genStatusWeights) }
	lists := []struct {
		name string
		q    func() ListQuery
	}{
		{"List/status+owner/created-desc", func() ListQuery {
			return ListQuery{Statuses: []string{status()}, Owners: []string{owner()}}
		}},
		{"List/owner/updated-desc", func() ListQuery {
			return ListQuery{Owners: []string{owner()}, Sort: SortUpdatedAt}
		}},
		{"List/statuses+territory/score-desc", func() ListQuery {
			return ListQuery{Statuses: []string{status(), status()}, Territories: []string{genTerritories[rng.IntN(10)]}, Sort: SortTotalScore}
		}},
		{"List/tag+status/created-desc", func() ListQuery {
			return ListQuery{Tag: genTags[rng.IntN(len(genTags))], Statuses: []string{status()}}
		}},
		{"List/campaign/created-desc", func() ListQuery {
			return ListQuery{CampaignID: fmt.Sprintf("cmp-%03d", rng.IntN(200))}
		}},
		{"List/hot+source/last-name-asc", func() ListQuery {
			return ListQuery{Temperatures: []string{"HOT"}, Sources: []string{genSources[rng.IntN(9)]}, Sort: SortLastName, Direction: Ascending}
		}},
		{"List/created-range/created-asc", func() ListQuery {
			from := fx.base.Add(time.Duration(rng.IntN(fx.n)) * fx.step)
			return ListQuery{CreatedFrom: from, CreatedTo: from.Add(30 * 24 * time.Hour), Direction: Ascending}
		}},
	}
	for _, l := range lists {
		b.Run(l.name, func(b *testing.B) {
			fx.ensure(b)
			fx.measure(b, func(ctx context.Context) error {
				q := l.q()
				q.Tenant = benchTenant
				_, _, err := fx.s.List(ctx, q)
				return err
			})
		})
	}
	b.Run("List/status+owner/page-20", func(b *testing.B) {
		// The 20th page costs what the first does: keyset, not offset.
		fx.ensure(b)
		tokens := fx.deepTokens(b, 20)
		i := 0
		fx.measure(b, func(ctx context.Context) error {
			q := tokens[i%len(tokens)]
			i++
			_, _, err := fx.s.List(ctx, q)
			return err
		})
	})

	searches := []struct {
		name string
		q    func() string
	}{
		{"Search/last-name-prefix-3", func() string { return prefix(fx.gen.lastNames[fx.gen.lastZ.Uint64()], 3) }},
		{"Search/company-prefix-4", func() string { return prefix(fx.gen.companies[fx.gen.companyZ.Uint64()], 4) }},
		{"Search/first+last-prefix", func() string {
			return fx.gen.firstNames[rng.IntN(len(fx.gen.firstNames))] + " " + prefix(fx.gen.lastNames[fx.gen.lastZ.Uint64()], 2)
		}},
		{"Search/full-last-name", func() string { return fx.gen.lastNames[fx.gen.lastZ.Uint64()] }},
		{"Search/one-letter", func() string { return string(rune('a' + rng.IntN(26))) }},
	}
	for _, sq := range searches {
		b.Run(sq.name, func(b *testing.B) {
			fx.ensure(b)
			fx.measure(b, func(ctx context.Context) error {
				_, _, err := fx.s.Search(ctx, SearchQuery{Tenant: benchTenant, Query: sq.q()})
				return err
			})
		})
	}
	b.Run("Get", func(b *testing.B) {
		fx.ensure(b)
		fx.measure(b, func(ctx context.Context) error {
			_, err := fx.s.Get(ctx, benchTenant, fmt.Sprintf("ld-%08d", rng.IntN(fx.n)))
			return err
		})
	})
	// After every query above: the read pool's caches are warm.
	b.Run("Memory/after-queries", func(b *testing.B) {
		fx.ensure(b)
		mem, err := readProcMemory()
		if err != nil {
			b.Fatal(err)
		}
		mem.report(b)
		b.ReportMetric(0, "ns/op")
	})
	// Last: it changes the data the queries above ran on.
	b.Run("Update", fx.benchUpdate)
}

const benchTenant = "acme-corp"

func prefix(s string, n int) string {
	r := []rune(strings.ToLower(s))
	return string(r[:min(n, len(r))])
}

type benchFixture struct {
	n    int
	dir  string
	once sync.Once
	err  error

	s        *Store
	gen      *leadGen // vocabulary and distributions for query parameters
	base     time.Time
	step     time.Duration
	seq      uint64
	loadRate float64
	dbMiB    float64
	loadMem  procMemory // right after loading
}

func (fx *benchFixture) ensure(b *testing.B) {
	b.Helper()
	b.StopTimer()
	fx.once.Do(func() { fx.err = fx.load(b) })
	if fx.err != nil {
		b.Fatal(fx.err)
	}
	b.StartTimer()
}

func (fx *benchFixture) close() {
	if fx.s != nil {
		_ = fx.s.Close()
	}
}

// load applies the leads in batches of 1,000, as the projector would during
// a rebuild of a stream whose events are mostly creations: a bulk load.
func (fx *benchFixture) load(b *testing.B) error {
	ctx := context.Background()
	path := filepath.Join(fx.dir, "leads.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		return err
	}
	fx.s = s
	// Two years of leads.
	fx.base = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	fx.step = 2 * 365 * 24 * time.Hour / time.Duration(fx.n)
	g := newLeadGen(1, benchTenant, fx.base, fx.step)
	const batch = 1000
	rows := make([]LeadRow, 0, batch)
	start := time.Now()
	for i := 0; i < fx.n; i += batch {
		rows = rows[:0]
		for range min(batch, fx.n-i) {
			rows = append(rows, g.lead())
		}
		fx.seq += uint64(len(rows))
		if err := s.Apply(ctx, testStream, fx.seq, rows, nil); err != nil {
			return err
		}
		if i > 0 && i%200_000 == 0 {
			b.Logf("loaded %d leads, %.0f rows/s", i, float64(i)/time.Since(start).Seconds())
		}
	}
	// As the projector does once it has caught up: the indexes of the bulk
	// load (bulk.go) are built within the measured time.
	if err := s.EndBulkLoad(ctx); err != nil {
		return err
	}
	elapsed := time.Since(start)
	fx.loadRate = float64(fx.n) / elapsed.Seconds()
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fx.dbMiB = float64(st.Size()) / (1 << 20)
	if fx.loadMem, err = readProcMemory(); err != nil {
		return err
	}
	b.Logf("loaded %d leads in %s: %.0f rows/s, database %.0f MiB", fx.n, elapsed.Round(time.Millisecond), fx.loadRate, fx.dbMiB)
	fx.gen = newLeadGen(99, benchTenant, fx.base, fx.step)
	return nil
}

// benchUpdate applies batches of changes to existing leads (status, owner,
// score, updated_at; a few renames and retags) at random leads, the
// steady-state projector load. Reports rows/s.
func (fx *benchFixture) benchUpdate(b *testing.B) {
	fx.ensure(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 3))
	const batch = 200 // a steady-state projector batch; one op = one Apply
	b.ResetTimer()
	var applying time.Duration
	total := 0
	for range b.N {
		b.StopTimer()
		rows := make([]LeadRow, batch)
		for i := range rows {
			g := newLeadGenAt(fx, rng.IntN(fx.n))
			r := g.lead()
			r.Status = weighted(rng, genStatuses, genStatusWeights)
			r.Owner = fmt.Sprintf("user-%02d", rng.IntN(20))
			r.TotalScore = rng.IntN(110)
			r.UpdatedAt = time.Now()
			fx.seq++
			r.Sequence = fx.seq
			if rng.IntN(20) == 0 {
				r.LastName += "x"
				r.Tags = append(r.Tags, "re-engaged")
			}
			rows[i] = r
		}
		b.StartTimer()
		t0 := time.Now()
		if err := fx.s.Apply(ctx, testStream, fx.seq, rows, nil); err != nil {
			b.Fatal(err)
		}
		applying += time.Since(t0)
		total += batch
	}
	b.ReportMetric(float64(total)/applying.Seconds(), "rows/s")
}

// newLeadGenAt regenerates lead i of the fixture (the generator is
// sequential, so this rebuilds a generator positioned at i cheaply enough
// for a benchmark: only the fields matter, not the exact original values).
func newLeadGenAt(fx *benchFixture, i int) *leadGen {
	g := &leadGen{rng: rand.New(rand.NewPCG(uint64(i), 1)), tenant: benchTenant, base: fx.base, step: fx.step, next: i,
		lastNames: fx.gen.lastNames, firstNames: fx.gen.firstNames, companies: fx.gen.companies}
	g.ownerZ = rand.NewZipf(g.rng, 1.1, 2, 19)
	g.lastZ = rand.NewZipf(g.rng, 1.05, 3, 999)
	g.companyZ = rand.NewZipf(g.rng, 1.05, 5, 999)
	return g
}

// deepTokens returns queries positioned at page `page` of status+owner
// lists, for owners and statuses that have that many pages.
func (fx *benchFixture) deepTokens(b *testing.B, page int) []ListQuery {
	b.Helper()
	ctx := context.Background()
	var out []ListQuery
	for o := range 20 {
		for _, st := range genStatuses {
			q := ListQuery{Tenant: benchTenant, Statuses: []string{st}, Owners: []string{fmt.Sprintf("user-%02d", o)}}
			ok := true
			for range page - 1 {
				_, next, err := fx.s.List(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if next == "" {
					ok = false
					break
				}
				q.PageToken = next
			}
			if ok {
				out = append(out, q)
			}
		}
	}
	if len(out) == 0 {
		b.Skip("no list has that many pages at this size")
	}
	return out
}

// measure runs op b.N times and reports latency percentiles in ms.
func (fx *benchFixture) measure(b *testing.B, op func(ctx context.Context) error) {
	b.Helper()
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if err := op(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1.0), "max-ms")
}

// procMemory is the process's memory from /proc/self/status, in MiB. RSS counts
// the Go heap and SQLite's page caches (anonymous memory) and the pages of the
// database file the process has touched through mmap (file-backed: shared with
// the OS page cache, which may drop them under memory pressure).
type procMemory struct {
	rss, hwm, anon, file float64 // VmRSS, VmHWM (peak RSS), RssAnon, RssFile
}

func readProcMemory() (procMemory, error) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return procMemory{}, err
	}
	var m procMemory
	for _, line := range strings.Split(string(raw), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		dst := map[string]*float64{"VmRSS": &m.rss, "VmHWM": &m.hwm, "RssAnon": &m.anon, "RssFile": &m.file}[name]
		if dst == nil {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			return procMemory{}, fmt.Errorf("/proc/self/status %s: %w", name, err)
		}
		*dst = kb / 1024
	}
	return m, nil
}

func (m procMemory) report(b *testing.B) {
	b.ReportMetric(m.rss, "VmRSS-MiB")
	b.ReportMetric(m.hwm, "VmHWM-MiB")
	b.ReportMetric(m.anon, "RssAnon-MiB")
	b.ReportMetric(m.file, "RssFile-MiB")
}
