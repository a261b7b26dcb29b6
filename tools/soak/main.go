// Command soak runs evcrm for a long time at a fixed command rate and fails when resources grow.
//
// It starts the whole system the way `make run` does (tools/crmdev: NATS in process, ClickHouse
// and the four services as child processes, no demo data) on free loopback ports in a temporary
// data directory, sends commands to the leads service at -rate per second (open loop: the rate
// does not drop when the system slows down; commands that cannot start because -concurrency are
// already in flight are counted as dropped), and every -interval reads each service's /metrics
// (goroutines, Go heap, projection lag) and every process's RSS from /proc, split into
// anonymous memory (RssAnon) and file-backed memory (RssFile: mapped read-model files and
// binaries, clean page cache the kernel reclaims). The processes are the four services,
// ClickHouse and the launcher, which holds NATS. The analytics projector consumes everything
// the commands append, so projection lag is measured under the same load.
//
// After -warmup it checks that each service's anonymous RSS is flat (the rise of a
// least-squares line through the samples over the judged window at most -rss-slack-mib or
// -max-rss-growth of its level, whichever is larger), that goroutines are flat (the last third
// of the samples against the first third, within -goroutine-slack), that the projection lag
// stays under -max-lag, and that commands succeed; it exits 1 when one of them does not hold.
// File-backed RSS is judged with -judge-file; NATS, whose memory grows with the number of
// subjects, with -nats-kib-per-lead; ClickHouse is reported only (docs/operations.md#memory).
//
//	go run ./tools/soak -duration 10m -rate 100     # make soak
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
)

var services = []string{"leads", "pipeline", "campaign", "analytics"}

type config struct {
	duration, warmup, interval time.Duration
	rate, concurrency          int
	rssGrowth                  float64
	rssSlack                   float64 // MiB
	goroutineSlack             int
	maxLag                     time.Duration
	keep, judgeFile            bool
	natsKiBPerLead             float64
	repo                       string
}

func main() {
	var c config
	flag.DurationVar(&c.duration, "duration", 10*time.Minute, "how long to run the load")
	flag.DurationVar(&c.warmup, "warmup", 0, "samples before this are not judged (default: a third of -duration)")
	flag.DurationVar(&c.interval, "interval", 15*time.Second, "sampling interval (the services refresh their lag gauges every 15s)")
	flag.IntVar(&c.rate, "rate", 100, "commands per second sent to the leads service (half a CreateLead create is its own lead, half RecordEngagement on an earlier one)")
	flag.IntVar(&c.concurrency, "concurrency", 64, "commands in flight at most; a tick finding them all busy is dropped and counted")
	flag.Float64Var(&c.rssGrowth, "max-rss-growth", 0.25, "allowed growth of a process's anonymous RSS over the judged window (fitted line), as a fraction of its level")
	flag.Float64Var(&c.rssSlack, "rss-slack-mib", 48, "RSS growth always allowed over the judged window (MiB): GC pacing and allocator noise")
	flag.Float64Var(&c.natsKiBPerLead, "nats-kib-per-lead", 0, "judge the launcher holding NATS, allowing this much growth per lead created (NATS keeps every subject in memory); 0 reports it only")
	flag.BoolVar(&c.judgeFile, "judge-file", false, "judge file-backed RSS (mapped SQLite files, binaries) like anonymous RSS; by default it is reported only")
	flag.IntVar(&c.goroutineSlack, "goroutine-slack", 25, "goroutine growth always allowed after warm-up")
	flag.DurationVar(&c.maxLag, "max-lag", 30*time.Second, "the projection's oldest unprojected event may be at most this old after warm-up")
	flag.BoolVar(&c.keep, "keep", false, "keep the data directory (for a look at the logs)")
	flag.StringVar(&c.repo, "repo", ".", "repository root (holding go.work)")
	flag.Parse()
	if c.warmup == 0 {
		c.warmup = c.duration / 3
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// addrs are the loopback addresses of one system.
type addrs struct {
	nats, chNative, chHTTP string
	grpc, http, metrics    map[string]string
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func pickAddrs() (addrs, error) {
	a := addrs{grpc: map[string]string{}, http: map[string]string{}, metrics: map[string]string{}}
	var err error
	pick := func(p *string) {
		if err == nil {
			*p, err = freeAddr()
		}
	}
	pick(&a.nats)
	pick(&a.chNative)
	pick(&a.chHTTP)
	for _, s := range services {
		var g, h, m string
		pick(&g)
		pick(&h)
		pick(&m)
		a.grpc[s], a.http[s], a.metrics[s] = g, h, m
	}
	return a, err
}

func run(ctx context.Context, c config) error {
	dir, err := os.MkdirTemp("", "evcrm-soak-")
	if err != nil {
		return err
	}
	if c.keep {
		fmt.Println("data dir:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	a, err := pickAddrs()
	if err != nil {
		return err
	}
	crmdev := filepath.Join(dir, "crmdev")
	fmt.Println("building tools/crmdev …")
	build := exec.CommandContext(ctx, "go", "build", "-o", crmdev, "./tools/crmdev")
	build.Dir, build.Stdout, build.Stderr = c.repo, os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build crmdev: %w", err)
	}
	args := []string{"run", "--seed=false", "--data-dir", filepath.Join(dir, "data"), "--repo", c.repo, "--log-level", "warn",
		"--nats-addr", a.nats, "--clickhouse-native-addr", a.chNative, "--clickhouse-http-addr", a.chHTTP}
	for _, s := range services {
		args = append(args, "--"+s+"-grpc-addr", a.grpc[s], "--"+s+"-http-addr", a.http[s], "--"+s+"-metrics-addr", a.metrics[s])
	}
	logPath := filepath.Join(dir, "crmdev.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	launcher := exec.Command(crmdev, args...)
	launcher.Dir, launcher.Stdout, launcher.Stderr = c.repo, logf, logf
	launcher.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := launcher.Start(); err != nil {
		return err
	}
	// exited is closed when the launcher has exited, with its error in exitErr: closed, so the
	// deferred stop below still sees the exit after waitServing or the loop did.
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = launcher.Wait(); close(exited) }()
	defer func() {
		// crmdev stops the services, ClickHouse and NATS in order on SIGINT.
		_ = launcher.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(90 * time.Second):
			_ = syscall.Kill(-launcher.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}()

	fmt.Printf("starting the system (crmdev pid %d, log %s) …\n", launcher.Process.Pid, logPath)
	conns := map[string]*grpc.ClientConn{}
	for _, s := range services {
		conn, err := grpc.NewClient("passthrough:///"+a.grpc[s], grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		conns[s] = conn
	}
	if err := waitServing(ctx, conns, exited, &exitErr, 5*time.Minute); err != nil {
		return fmt.Errorf("%w (see %s)", err, logPath)
	}
	// Every process's memory comes from /proc/<pid>/status: the launcher's (NATS runs in it),
	// the services' (their binaries are in this run's data directory) and ClickHouse's.
	pids := findProcs(dir, launcher.Process.Pid)
	for _, n := range append([]string{"clickhouse"}, services...) {
		if pids[n] == 0 {
			return fmt.Errorf("no process found for %s under %s", n, dir)
		}
	}

	fmt.Printf("load: %d commands/s for %v, samples every %v, judged after %v\n\n", c.rate, c.duration, c.interval, c.warmup)
	l := &load{client: leadsv1.NewLeadsServiceClient(conns["leads"]), sem: make(chan struct{}, c.concurrency),
		md: callerMetadata(filepath.Join(dir, "data"))}
	loadCtx, stopLoad := context.WithTimeout(ctx, c.duration)
	defer stopLoad()
	var wg sync.WaitGroup
	wg.Go(func() { l.run(loadCtx, c.rate) })

	var samples []sample
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "t\tcmd/s\tp50 ms\tp99 ms\terrors\tdropped\t"+strings.Join(rssCols(pids), "\t")+"\tGo heap l/p/c/a MiB\tgoroutines l/p/c/a\tlag events\tlag age s\t")
	tw.Flush()
	start := time.Now()
	tick := time.NewTicker(c.interval)
	defer tick.Stop()
	var failure error
loop:
	for {
		select {
		case <-loadCtx.Done():
			break loop
		case <-exited:
			failure = fmt.Errorf("the launcher exited during the soak: %v (see %s)", exitErr, logPath)
			break loop
		case <-tick.C:
		}
		s := l.sample(time.Since(start))
		s.mem, s.goroutines, s.heap = map[string]memory{}, map[string]float64{}, map[string]float64{}
		for n, pid := range pids {
			s.mem[n] = readMemory(pid)
		}
		for _, svc := range services {
			m, err := scrape(a.metrics[svc])
			if err != nil {
				fmt.Fprintf(os.Stderr, "scrape %s: %v\n", svc, err)
				continue
			}
			s.goroutines[svc] = m.sum("go_goroutines")
			s.heap[svc] = m.sum("go_memstats_heap_inuse_bytes") / (1 << 20)
			if svc == "analytics" {
				s.lagEvents = m.sum("evcrm_projection_lag_pending_events")
				s.lagAge = m.max("evcrm_projection_lag_oldest_age_seconds")
			}
		}
		samples = append(samples, s)
		fmt.Fprintln(tw, s.row(pids))
		tw.Flush()
		if len(samples) == 1 && s.rate == 0 && s.errs > 0 {
			failure = fmt.Errorf("no command succeeded in the first %v: %s", c.interval, l.lastError())
			break loop
		}
	}
	stopLoad()
	wg.Wait()
	if failure != nil {
		return failure
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	fmt.Println()
	return judge(c, samples, pids, l)
}

func rssCols(pids map[string]int) []string {
	var cols []string
	for _, n := range sortedKeys(pids) {
		cols = append(cols, n+" anon/file MiB")
	}
	return cols
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func waitServing(ctx context.Context, conns map[string]*grpc.ClientConn, exited <-chan struct{}, exitErr *error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, s := range services {
		for {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			res, err := healthpb.NewHealthClient(conns[s]).Check(cctx, &healthpb.HealthCheckRequest{})
			cancel()
			if err == nil && res.GetStatus() == healthpb.HealthCheckResponse_SERVING {
				break
			}
			select {
			case <-exited:
				return fmt.Errorf("the launcher exited before %s was serving: %v", s, *exitErr)
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not serving after %v", s, timeout)
			}
		}
	}
	return nil
}

// callerMetadata authenticates the load: with the admin token the launcher minted (JWT auth,
// docs/security.md) when there is one, else with development-auth metadata.
func callerMetadata(dataDir string) metadata.MD {
	if b, err := os.ReadFile(filepath.Join(dataDir, "auth", "admin.token")); err == nil {
		return metadata.Pairs("authorization", "Bearer "+strings.TrimSpace(string(b)))
	}
	return metadata.Pairs(grpcauth.MetadataTenant, "soak", grpcauth.MetadataUser, "soak-1")
}

// load sends commands at a fixed rate and keeps the figures of the current interval.
type load struct {
	client leadsv1.LeadsServiceClient
	sem    chan struct{}
	md     metadata.MD

	mu          sync.Mutex
	leads       []string
	latencies   []time.Duration
	ok, errs    int
	dropped     int
	totalOK     atomic.Int64
	totalErrors atomic.Int64
	lastErr     string
	last        time.Duration // when the previous sample was taken
}

func (l *load) lastError() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

func (l *load) run(ctx context.Context, rate int) {
	ctx = metadata.NewOutgoingContext(ctx, l.md)
	every := time.Second / time.Duration(rate)
	next := time.Now()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; ; i++ {
		next = next.Add(every)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		select {
		case l.sem <- struct{}{}:
		default:
			l.mu.Lock()
			l.dropped++
			l.mu.Unlock()
			continue
		}
		wg.Go(func() {
			defer func() { <-l.sem }()
			l.command(ctx, i)
		})
	}
}

func (l *load) command(ctx context.Context, i int) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	var err error
	l.mu.Lock()
	n := len(l.leads)
	var target string
	if n > 0 && i%2 == 1 {
		target = l.leads[rand.IntN(n)]
	}
	l.mu.Unlock()
	if target == "" {
		var res *leadsv1.CreateLeadResponse
		res, err = l.client.CreateLead(cctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Soak", LastName: strconv.Itoa(i),
			Email: fmt.Sprintf("soak%d@example.com", i), Company: "Soak Testing", Country: "DE",
			Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
		if err == nil {
			l.mu.Lock()
			l.leads = append(l.leads, res.GetLead().GetId())
			l.mu.Unlock()
		}
	} else {
		_, err = l.client.RecordEngagement(cctx, &leadsv1.RecordEngagementRequest{LeadId: target,
			Signal: leadsv1.EngagementSignal_ENGAGEMENT_SIGNAL_WEB_VISIT, OccurredAt: timestamppb.Now()})
	}
	if dl, ok := ctx.Deadline(); ctx.Err() != nil || ok && !time.Now().Before(dl) {
		return // the end of the run, not a failure
	}
	d := time.Since(start)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.errs++
		l.totalErrors.Add(1)
		l.lastErr = fmt.Sprintf("%v (after %v)", err, d.Round(time.Millisecond))
		return
	}
	l.ok++
	l.totalOK.Add(1)
	l.latencies = append(l.latencies, d)
}

type sample struct {
	at                time.Duration
	rate, p50, p99    float64
	errs, dropped     int
	mem               map[string]memory  // by process
	goroutines, heap  map[string]float64 // by service (heap in use, MiB)
	lagEvents, lagAge float64
	leads             int // created so far
}

func (l *load) sample(at time.Duration) sample {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := sample{at: at, errs: l.errs, dropped: l.dropped, leads: len(l.leads)}
	s.rate = float64(l.ok) / (at - l.last).Seconds()
	slices.Sort(l.latencies)
	if n := len(l.latencies); n > 0 {
		s.p50 = float64(l.latencies[n/2].Microseconds()) / 1000
		s.p99 = float64(l.latencies[min(n-1, n*99/100)].Microseconds()) / 1000
	}
	l.latencies, l.ok, l.errs, l.dropped, l.last = l.latencies[:0], 0, 0, 0, at
	return s
}

func (s sample) row(pids map[string]int) string {
	cols := []string{s.at.Round(time.Second).String(), fmt.Sprintf("%.0f", s.rate), fmt.Sprintf("%.1f", s.p50), fmt.Sprintf("%.1f", s.p99),
		strconv.Itoa(s.errs), strconv.Itoa(s.dropped)}
	for _, n := range sortedKeys(pids) {
		cols = append(cols, fmt.Sprintf("%.0f/%.0f", s.mem[n].anon, s.mem[n].file))
	}
	var gs, hs []string
	for _, svc := range services {
		gs = append(gs, fmt.Sprintf("%.0f", s.goroutines[svc]))
		hs = append(hs, fmt.Sprintf("%.0f", s.heap[svc]))
	}
	cols = append(cols, strings.Join(hs, "/"), strings.Join(gs, "/"), fmt.Sprintf("%.0f", s.lagEvents), fmt.Sprintf("%.1f", s.lagAge))
	return strings.Join(cols, "\t") + "\t"
}

// judge applies the soak's invariants to the samples after warm-up.
func judge(c config, samples []sample, pids map[string]int, l *load) error {
	var judged []sample
	for _, s := range samples {
		if s.at >= c.warmup {
			judged = append(judged, s)
		}
	}
	ok, failed := l.totalOK.Load(), l.totalErrors.Load()
	fmt.Printf("commands: %d OK, %d failed (last error: %q)\n", ok, failed, l.lastErr)
	if len(judged) < 3 {
		return fmt.Errorf("only %d samples after the warm-up of %v: run longer or sample more often", len(judged), c.warmup)
	}
	var errs []error
	if failed > ok/1000 {
		errs = append(errs, fmt.Errorf("%d of %d commands failed (more than 0.1%%)", failed, ok+failed))
	}
	// Flat: the mean of the last third against the mean of the first third after warm-up.
	third := max(1, len(judged)/3)
	head, tail := judged[:third], judged[len(judged)-third:]
	mean := func(ss []sample, f func(sample) float64) float64 {
		var sum float64
		for _, s := range ss {
			sum += f(s)
		}
		return sum / float64(len(ss))
	}
	// Memory: a least-squares line through the samples after warm-up, per process, for
	// anonymous memory (heaps, SQLite's page caches, NATS's state: what a leak grows) and for
	// file-backed memory (mapped read-model files and binaries: clean page cache the kernel
	// reclaims, bounded by the files and mmap_size). Anonymous memory fails the soak when the
	// line rises over the judged window by more than the larger of -rss-slack-mib and
	// -max-rss-growth of its level; file-backed memory is reported, and judged only with
	// -judge-file. ClickHouse is reported, not judged (its caches are its own configuration).
	// Neither is NATS unless -nats-kib-per-lead: its memory grows with the data, since the
	// server keeps an index entry per subject (each lead adds four) and caches the blocks read
	// in the last seconds (docs/operations.md#memory); its growth per lead is printed.
	span := (judged[len(judged)-1].at - judged[0].at).Minutes()
	newLeads := judged[len(judged)-1].leads - judged[0].leads
	fmt.Printf("memory after warm-up (%.1f min judged, %d leads created; fitted line start → end, slope):\n", span, newLeads)
	var natsNote string
	for _, n := range sortedKeys(pids) {
		for _, kind := range []string{"anon", "file"} {
			pick := func(s sample) float64 { return s.mem[n].anon }
			if kind == "file" {
				pick = func(s sample) float64 { return s.mem[n].file }
			}
			slope, level := fit(judged, pick) // MiB per minute, mean MiB
			growth := slope * span
			from, to := level-growth/2, level+growth/2
			allowed := max(c.rssSlack, c.rssGrowth*level)
			judgedHere := n != "clickhouse" && (kind == "anon" || c.judgeFile)
			if n == "crmdev+nats" {
				allowed += c.natsKiBPerLead * float64(newLeads) / 1024
				judgedHere = judgedHere && c.natsKiBPerLead > 0
				if kind == "anon" && newLeads > 0 {
					natsNote = fmt.Sprintf("  crmdev+nats anon grew %.1f KiB per lead created\n", growth*1024/float64(newLeads))
				}
			}
			verdict := "flat"
			switch {
			case growth > allowed && judgedHere:
				verdict = "GROWS"
				errs = append(errs, fmt.Errorf("%s RSS of %s grew by %.0f MiB (%.1f MiB/min) after warm-up, more than the %.0f MiB allowed", kind, n, growth, slope, allowed))
			case growth > allowed:
				verdict = "grows (not judged)"
			case !judgedHere:
				verdict = "flat (not judged)"
			}
			fmt.Printf("  %-12s %s %6.0f → %6.0f MiB  %+6.1f MiB/min  (allowed +%.0f)  %s\n", n, kind, from, to, slope, allowed, verdict)
		}
	}
	fmt.Print(natsNote)
	for _, svc := range services {
		from, to := mean(head, func(s sample) float64 { return s.goroutines[svc] }), mean(tail, func(s sample) float64 { return s.goroutines[svc] })
		verdict := "flat"
		if to > from+float64(c.goroutineSlack) {
			verdict = "GROWS"
			errs = append(errs, fmt.Errorf("goroutines of %s grew from %.0f to %.0f after warm-up", svc, from, to))
		}
		fmt.Printf("goroutines %-10s %6.0f → %6.0f  %s\n", svc, from, to, verdict)
	}
	var maxAge float64
	for _, s := range judged {
		maxAge = max(maxAge, s.lagAge)
	}
	fmt.Printf("projection lag after warm-up: oldest unprojected event at most %.1f s (bound %v)\n", maxAge, c.maxLag)
	if maxAge > c.maxLag.Seconds() {
		errs = append(errs, fmt.Errorf("projection lag reached %.1f s", maxAge))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Println("soak passed")
	return nil
}

// metrics is one scrape: metric name (without labels) → values of its series.
type metrics map[string][]float64

func (m metrics) sum(name string) float64 {
	var s float64
	for _, v := range m[name] {
		s += v
	}
	return s
}

func (m metrics) max(name string) float64 {
	var x float64
	for _, v := range m[name] {
		x = max(x, v)
	}
	return x
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// scrape reads the text exposition format; only plain samples are needed (gauges).
func scrape(addr string) (metrics, error) {
	res, err := httpClient.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", addr, res.Status)
	}
	m := metrics{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 && i < len(name) {
			name = line[:i]
			_, rest, _ = strings.Cut(line[strings.LastIndexByte(line, '}'):], " ")
		}
		val, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			m[name] = append(m[name], v)
		}
	}
	return m, sc.Err()
}

// memory is a process's resident set in MiB, split as /proc/<pid>/status does: anonymous
// (RssAnon: heaps, malloc'd caches) and file-backed (RssFile: mapped files and the binary;
// RssShmem is counted with it).
type memory struct{ anon, file float64 }

// readMemory reads /proc/<pid>/status (zeros when the process is gone).
func readMemory(pid int) memory {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}
	}
	var m memory
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		switch name {
		case "RssAnon":
			m.anon = kb / 1024
		case "RssFile", "RssShmem":
			m.file += kb / 1024
		}
	}
	return m
}

// findProcs finds this run's processes: the launcher (launcherPid, which holds NATS), the
// services (their binaries were built into dir) and ClickHouse (its configuration is in dir).
func findProcs(dir string, launcherPid int) map[string]int {
	pids := map[string]int{"crmdev+nats": launcherPid}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		switch {
		case strings.HasPrefix(argv[0], dir) && slices.Contains(services, filepath.Base(argv[0])):
			pids[filepath.Base(argv[0])] = pid
		case strings.Contains(filepath.Base(argv[0]), "clickhouse") && strings.Contains(string(b), dir):
			pids["clickhouse"] = pid
		}
	}
	return pids
}

// fit is the least-squares line of f over the samples: its slope in MiB per minute and the
// mean of f (the line's value at the samples' mean time).
func fit(ss []sample, f func(sample) float64) (slope, mean float64) {
	var mt, mv float64
	for _, s := range ss {
		mt += s.at.Minutes()
		mv += f(s)
	}
	n := float64(len(ss))
	mt, mv = mt/n, mv/n
	var num, den float64
	for _, s := range ss {
		dt := s.at.Minutes() - mt
		num += dt * (f(s) - mv)
		den += dt * dt
	}
	if den == 0 {
		return 0, mv
	}
	return num / den, mv
}
