package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
)

// The launcher end to end, as `make run` uses it, on free ports and a temp data dir: it builds
// and starts everything, prints the addresses, stops everything on SIGINT without leaving a
// process or a port behind, and a second start on the same data dir serves what the first
// wrote (NATS, the leads read model and ClickHouse all kept their data).
func TestRunStopsCleanlyAndResumesWithTheSameData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ClickHouse and the four services")
	}
	requireClickHouse(t)
	bin := buildLauncher(t)
	dir := t.TempDir()
	addrs := freeAddrs(t)

	// First start: the launcher builds the services into <data-dir>/bin and seeds a tiny demo
	// data set. Half the addresses come from the environment, to check the EVCRM_* fallbacks.
	first := startLauncher(t, bin, dir, addrs, "--demo-leads", "8")
	first.waitFor(t, readyLine, 5*time.Minute)
	if _, err := os.Stat(filepath.Join(dir, seededMarker)); err != nil {
		t.Errorf("no seed marker after the first start: %v", err)
	}
	banner := first.output()
	for _, want := range []string{
		addrs["leads-grpc-addr"], addrs["pipeline-grpc-addr"], addrs["campaign-grpc-addr"], addrs["analytics-grpc-addr"],
		"nats://" + addrs["nats-addr"],
		"native " + addrs["clickhouse-native-addr"], "http://" + addrs["clickhouse-http-addr"],
		analystUser, "clickhouse-client", "crmctl",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("the banner does not mention %q:\n%s", want, banner)
		}
	}
	for _, svc := range services {
		checkServing(t, addrs[svc+"-grpc-addr"])
	}
	checkRestrictedNATSUser(t, addrs)
	if !strings.Contains(banner, "off (binary lacks -http-addr)") {
		if !strings.Contains(banner, "http://"+addrs["analytics-http-addr"]+"/dashboard/") {
			t.Errorf("the banner does not show the dashboard:\n%s", banner)
		}
	}

	// The services run JWT authentication with the launcher's key: the printed admin token
	// works, no token does not (development auth is off).
	adminTok := readTokenFile(t, filepath.Join(dir, "auth", "admin.token"))
	if !strings.Contains(banner, adminTok) {
		t.Errorf("the banner does not print the admin token")
	}
	leads := leadsClient(t, addrs["leads-grpc-addr"])
	anon := metadata.NewOutgoingContext(t.Context(), metadata.Pairs("x-tenant-id", demoTenant, "x-user-id", "crmdev-test"))
	if _, err := leads.ListLeads(anon, &leadsv1.ListLeadsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("a call without a token: %v, want Unauthenticated", err)
	}
	analyst := metadata.NewOutgoingContext(t.Context(), metadata.Pairs("authorization",
		"Bearer "+readTokenFile(t, filepath.Join(dir, "auth", "analyst.token"))))
	if _, err := leads.ListLeads(analyst, &leadsv1.ListLeadsRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("the analyst token listing leads: %v, want PermissionDenied", err)
	}
	ctx := metadata.NewOutgoingContext(t.Context(), metadata.Pairs("authorization", "Bearer "+adminTok))
	created, err := leads.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{
		FirstName: "Ada", LastName: "Lovelace", Email: testEmail, Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
	if err != nil {
		t.Fatalf("CreateLead: %v", err)
	}
	id := created.GetLead().GetId()
	if !strings.Contains(banner, "off (binary lacks -http-addr)") {
		checkREST(t, addrs["leads-http-addr"], id, created.GetResult().GetSequence(), adminTok)
	}
	chHTTP := addrs["clickhouse-http-addr"]
	waitProjected(t, chHTTP, id)

	first.interrupt(t)
	checkNothingLeft(t, dir, addrs)

	// Second start on the same data dir, with the binaries the first one built.
	second := startLauncher(t, bin, dir, addrs, "--bin-dir", filepath.Join(dir, "bin"))
	second.waitFor(t, readyLine, 3*time.Minute)
	if strings.Contains(second.output(), "building the services") {
		t.Errorf("--bin-dir still built the services")
	}
	if !strings.Contains(second.output(), "demo data: already loaded") || strings.Contains(second.output(), "demo: seeding") {
		t.Errorf("the second start did not skip the seed")
	}
	leads = leadsClient(t, addrs["leads-grpc-addr"])
	got, err := leads.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id,
		Read: &commonv1.ReadOptions{MinSequence: created.GetResult().GetSequence()}})
	if err != nil {
		t.Fatalf("GetLead after the restart: %v", err)
	}
	if got.GetLead().GetEmail() != testEmail {
		t.Errorf("after the restart the lead is %v", got.GetLead())
	}
	if n := countEvents(t, chHTTP, id); n < 1 {
		t.Errorf("after the restart ClickHouse has %d events of the lead", n)
	}
	second.interrupt(t)
	checkNothingLeft(t, dir, addrs)
}

// testEmail is the test lead's address, on a domain the demo data does not use (lead dedupe
// would refuse a second lead with an address the demo data has).
const testEmail = "ada@crmdev-test.example"

// An occupied port stops the launcher before it starts anything, with the port and the flag
// that moves it in the message.
func TestRunRefusesAnOccupiedPort(t *testing.T) {
	requireClickHouse(t)
	bin := buildLauncher(t)
	addrs := freeAddrs(t)
	busy, err := net.Listen("tcp", addrs["leads-grpc-addr"])
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := net.SplitHostPort(addrs["leads-grpc-addr"])

	dir := t.TempDir()
	cmd := launcherCmd(bin, dir, addrs, "--seed=false")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if code := exitCode(err); code == 0 {
		t.Fatalf("crmdev run with port %s busy exited 0:\n%s", port, out.String())
	}
	want := "port " + port + " is in use (leads gRPC); change it with --leads-grpc-addr"
	if !strings.Contains(out.String(), want) {
		t.Errorf("the message does not say %q:\n%s", want, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "nats")); err == nil {
		t.Errorf("NATS was started before the port check")
	}
}

// A service that dies is not restarted: the launcher stops everything else and exits non-zero,
// naming the service and how it ended.
func TestRunStopsEverythingWhenAServiceDies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ClickHouse and the four services")
	}
	requireClickHouse(t)
	bin := buildLauncher(t)
	dir := t.TempDir()
	addrs := freeAddrs(t)
	l := startLauncher(t, bin, dir, addrs, "--seed=false", "--bin-dir", serviceBins(t))
	l.waitFor(t, readyLine, 3*time.Minute)

	pid := processOf(t, "campaign", addrs["campaign-grpc-addr"])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the launcher kept running after campaign died")
	}
	if code := exitCode(l.err); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if out := l.output(); !strings.Contains(out, "crmdev: campaign was killed by SIGKILL") {
		t.Errorf("the launcher does not say which service died and how")
	}
	checkNothingLeft(t, dir, addrs)
}

// checkRestrictedNATSUser checks that the running pipeline service is connected as the NATS
// user pipeline, its password in its environment and not on its command line, and that this
// user may not write lead events.
func checkRestrictedNATSUser(t *testing.T, addrs map[string]string) {
	t.Helper()
	pid := processOf(t, "pipeline", addrs["pipeline-grpc-addr"])
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	natsURL := envValue(strings.Split(string(environ), "\x00"), "EVCRM_NATS_URL")
	u, err := url.Parse(natsURL)
	if err != nil || u.User.Username() != "pipeline" {
		t.Fatalf("pipeline runs with EVCRM_NATS_URL %q (%v), want user pipeline", natsURL, err)
	}
	pw, _ := u.User.Password()
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if pw == "" || strings.Contains(string(cmdline), pw) {
		t.Errorf("pipeline's NATS password %q is empty or on its command line", pw)
	}
	denied := make(chan error, 1)
	nc, err := nats.Connect(natsURL, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case denied <- err:
		default:
		}
	}))
	if err != nil {
		t.Fatalf("connect as pipeline: %v", err)
	}
	defer nc.Close()
	if err := nc.Publish("crm."+demoTenant+".lead.l1.LeadCreated", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-denied:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("pipeline publishing a lead event: %v, want a permissions violation", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("the pipeline user published a lead event unhindered")
	}
}

// processOf finds the pid of the service process listening on grpcAddr.
func processOf(t *testing.T, svc, grpcAddr string) int {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if filepath.Base(args[0]) == svc && slices.Contains(args, grpcAddr) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid
		}
	}
	t.Fatalf("no %s process with %s", svc, grpcAddr)
	return 0
}

var sharedBins struct {
	once sync.Once
	dir  string
	err  error
}

// serviceBins builds the four services once per test binary, for tests that do not test the
// launcher's own build.
func serviceBins(t *testing.T) string {
	t.Helper()
	b := &sharedBins
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "crmdev-test-services-"); b.err != nil {
			return
		}
		repo, err := findRepo(".")
		if err != nil {
			b.err = err
			return
		}
		b.err = buildServices(t.Context(), repo, b.dir, &console{w: io.Discard})
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.dir
}

// launcherAddrFlags are the launcher's listen-address flags; freeAddrs gives each a port.
var launcherAddrFlags = func() []string {
	fs := []string{"nats-addr", "clickhouse-native-addr", "clickhouse-http-addr"}
	for _, svc := range services {
		fs = append(fs, svc+"-grpc-addr", svc+"-http-addr", svc+"-metrics-addr")
	}
	return fs
}()

func freeAddrs(t *testing.T) map[string]string {
	t.Helper()
	addrs := map[string]string{}
	var ptrs []*string
	vals := make([]string, len(launcherAddrFlags))
	for i := range vals {
		vals[i] = "127.0.0.1:1"
		ptrs = append(ptrs, &vals[i])
	}
	if err := pickFreePorts(ptrs); err != nil {
		t.Fatal(err)
	}
	for i, f := range launcherAddrFlags {
		addrs[f] = vals[i]
	}
	return addrs
}

// launcherCmd is `crmdev run` on dir and addrs: every other address as a flag, the rest
// through EVCRM_* variables.
func launcherCmd(bin, dir string, addrs map[string]string, extra ...string) *exec.Cmd {
	args := []string{"run", "--data-dir", dir, "--stop-timeout", "20s"}
	env := withoutEVCRM(os.Environ())
	for i, f := range launcherAddrFlags {
		if i%2 == 0 {
			args = append(args, "--"+f, addrs[f])
		} else {
			env = append(env, envName(f)+"="+addrs[f])
		}
	}
	cmd := exec.Command(bin, append(args, extra...)...)
	cmd.Env = env
	return cmd
}

type launcher struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

func startLauncher(t *testing.T, bin, dir string, addrs map[string]string, extra ...string) *launcher {
	t.Helper()
	l := &launcher{cmd: launcherCmd(bin, dir, addrs, extra...), out: &syncBuffer{}, done: make(chan struct{})}
	l.cmd.Stdout, l.cmd.Stderr = l.out, l.out
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		l.err = l.cmd.Wait()
		close(l.done)
	}()
	// A failed test must not leave the system running: killing the launcher takes its
	// children down through their parent-death signal.
	t.Cleanup(func() {
		select {
		case <-l.done:
		default:
			_ = l.cmd.Process.Kill()
			<-l.done
		}
		if t.Failed() {
			t.Logf("launcher output:\n%s", l.output())
		}
	})
	return l
}

func (l *launcher) output() string { return l.out.String() }

func (l *launcher) waitFor(t *testing.T, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(l.output(), text) {
		select {
		case <-l.done:
			t.Fatalf("the launcher exited (%v) before it printed %q", l.err, text)
		case <-deadline:
			t.Fatalf("the launcher did not print %q within %s", text, timeout)
		case <-tick.C:
		}
	}
}

// interrupt sends SIGINT, as Ctrl-C would, and expects a clean exit.
func (l *launcher) interrupt(t *testing.T) {
	t.Helper()
	if err := l.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the launcher did not exit within 2m of SIGINT")
	}
	if l.err != nil {
		t.Fatalf("the launcher exited with %v after SIGINT", l.err)
	}
	if !strings.Contains(l.output(), "everything stopped") {
		t.Errorf("the launcher did not report the stop")
	}
}

// checkNothingLeft checks that no process runs from the data dir (the services' binaries and
// ClickHouse's config live there) and that every port is free again.
func checkNothingLeft(t *testing.T, dir string, addrs map[string]string) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte(dir)) {
			continue
		}
		if state := procState(filepath.Dir(p)); state != "Z" {
			t.Errorf("process %s still runs after the stop: %s", filepath.Base(filepath.Dir(p)),
				strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	for _, f := range launcherAddrFlags {
		ln, err := net.Listen("tcp", addrs[f])
		if err != nil {
			t.Errorf("port of --%s still busy after the stop: %v", f, err)
			continue
		}
		ln.Close()
	}
}

func procState(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return ""
	}
	// pid (comm) state ...; comm may hold spaces, so read after the last ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return ""
}

func checkServing(t *testing.T, addr string) {
	t.Helper()
	conn, err := dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health of %s: %v %v", addr, resp.GetStatus(), err)
	}
}

func leadsClient(t *testing.T, addr string) leadsv1.LeadsServiceClient {
	t.Helper()
	conn, err := dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return leadsv1.NewLeadsServiceClient(conn)
}

// checkREST reads the lead through the leads service's REST/JSON gateway, with the same
// bearer token, waiting for the read model to hold the write.
func checkREST(t *testing.T, addr, leadID string, minSeq uint64, token string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fmt.Sprintf("http://%s/v1/leads/%s?read.min_sequence=%d", addr, leadID, minSeq), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("REST: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), testEmail) {
		t.Errorf("GET /v1/leads/%s: %s %s", leadID, resp.Status, body)
	}
}

// waitProjected waits until analytics has written the lead's events to ClickHouse.
func waitProjected(t *testing.T, chHTTP, leadID string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for countEvents(t, chHTTP, leadID) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the lead's events did not reach ClickHouse within a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// countEvents asks ClickHouse's HTTP interface, as the analyst user, how many events of the
// aggregate it holds.
func countEvents(t *testing.T, chHTTP, aggregateID string) int {
	t.Helper()
	q := url.Values{
		"user": {analystUser}, "password": {analystPassword}, "database": {"evcrm"},
		"query": {fmt.Sprintf("SELECT count() FROM events WHERE aggregate_id = '%s'", aggregateID)},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+chHTTP+"/?"+q.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ClickHouse query: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ClickHouse query: %s: %s", resp.Status, body)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(body)))
	if err != nil {
		t.Fatalf("ClickHouse answered %q", body)
	}
	return n
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// requireClickHouse skips when there is no ClickHouse to start (make test installs it).
func requireClickHouse(t *testing.T) {
	t.Helper()
	if !haveClickHouse("") {
		t.Skip("clickhouse-server is not installed; `make deps` installs it")
	}
}

var launcherBuild struct {
	once sync.Once
	path string
	err  error
}

// buildLauncher builds this command once per test binary.
func buildLauncher(t *testing.T) string {
	t.Helper()
	b := &launcherBuild
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "crmdev-test-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "crmdev")
		if out, err := exec.Command("go", "build", "-o", b.path, ".").CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if launcherBuild.path != "" {
		os.RemoveAll(filepath.Dir(launcherBuild.path))
	}
	if sharedBins.dir != "" {
		os.RemoveAll(sharedBins.dir)
	}
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for the writer and the test reading it at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// readTokenFile returns a token the launcher wrote.
func readTokenFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// mintToken signs a token for user of the demo tenant with the launcher's key in dir.
func mintToken(t *testing.T, dir, user string, roles ...string) string {
	t.Helper()
	s := &settings{DataDir: dir, Tenant: demoTenant}
	iss, err := s.devIssuer()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Mint(grpcauth.TokenClaims{Subject: user, Tenant: demoTenant, Roles: roles, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
