package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestFlagsFallBackToTheEnvironment(t *testing.T) {
	s := &settings{}
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	s.addFlags(fs)
	if err := fs.Parse([]string{"--leads-grpc-addr", "127.0.0.1:7101"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"EVCRM_LEADS_GRPC_ADDR": "127.0.0.1:8101", // the flag wins
		"EVCRM_NATS_URL":        "nats://nats.example:4222",
		"EVCRM_SEED":            "false",
	}
	if err := applyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if got := s.Services["leads"].GRPC; got != "127.0.0.1:7101" {
		t.Errorf("leads gRPC = %q, want the flag's value", got)
	}
	if s.NATSURL != "nats://nats.example:4222" || s.embeddedNATS() {
		t.Errorf("EVCRM_NATS_URL not applied: %q", s.NATSURL)
	}
	if s.Seed {
		t.Errorf("EVCRM_SEED=false not applied")
	}
	for _, l := range s.listens() {
		if l.What == "NATS" {
			t.Errorf("an external NATS still has its port checked")
		}
	}

	err := applyEnv(fs, func(k string) (string, bool) { return "many", k == "EVCRM_DEMO_LEADS" })
	if err == nil || !strings.Contains(err.Error(), "EVCRM_DEMO_LEADS") {
		t.Errorf("a bad environment value: %v", err)
	}
}

func TestCheckPortsNamesThePortAndTheFlag(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	free := []*string{new(string), new(string)}
	*free[0], *free[1] = "127.0.0.1:1", "127.0.0.1:1"
	if err := pickFreePorts(free); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		listen []listen
		want   []string
	}{
		{"free", []listen{{"leads gRPC", "leads-grpc-addr", *free[0]}}, nil},
		{"in use", []listen{{"leads gRPC", "leads-grpc-addr", addr}},
			[]string{"port " + port + " is in use (leads gRPC); change it with --leads-grpc-addr (or EVCRM_LEADS_GRPC_ADDR)"}},
		{"twice", []listen{{"leads gRPC", "leads-grpc-addr", *free[1]}, {"leads REST", "leads-http-addr", *free[1]}},
			[]string{"is given twice, for leads gRPC (--leads-grpc-addr) and leads REST (--leads-http-addr)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPorts(tt.listen)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestKeepKnownDropsFlagsWithTheirValues(t *testing.T) {
	args := []string{"-grpc-addr", "127.0.0.1:9101", "-http-addr", "127.0.0.1:9301", "-dev-auth", "-allow-backfill", "-data-dir", "/d"}
	kept, dropped := keepKnown(args, map[string]bool{"grpc-addr": true, "dev-auth": true, "data-dir": true})
	if want := []string{"-grpc-addr", "127.0.0.1:9101", "-dev-auth", "-data-dir", "/d"}; !slices.Equal(kept, want) {
		t.Errorf("kept %q, want %q", kept, want)
	}
	if want := []string{"-http-addr", "-allow-backfill"}; !slices.Equal(dropped, want) {
		t.Errorf("dropped %q, want %q", dropped, want)
	}
}

func TestHumanLog(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"time":"2026-11-22T13:02:20.08Z","level":"INFO","msg":"gRPC listening","addr":"127.0.0.1:9101","n":3,"v":[1,2]}`,
			`INFO  gRPC listening addr=127.0.0.1:9101 n=3 v=[1,2]`},
		{`{"level":"ERROR","msg":"failed","error":"no such host"}`, ` ERROR failed error="no such host"`},
		{`panic: boom`, `panic: boom`},
		{`{"broken":`, `{"broken":`},
	}
	for _, tt := range tests {
		if got := humanLog(tt.in); !strings.HasSuffix(got, tt.want) {
			t.Errorf("humanLog(%s) = %q, want ...%q", tt.in, got, tt.want)
		}
	}
}

func TestConsoleKeepsLinesWhole(t *testing.T) {
	var b bytes.Buffer
	c := &console{w: &b}
	w := c.Writer("leads")
	_, _ = io.WriteString(w, "one\ntw")
	_, _ = io.WriteString(w, "o\nthree")
	w.Close()
	want := "leads     | one\nleads     | two\nleads     | three\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	if tail := w.Tail(); !slices.Equal(tail, []string{"one", "two", "three"}) {
		t.Errorf("tail %q", tail)
	}
}

// The demo data is seeded once per data dir; a failed seed is retried on the next start, which
// says the earlier one did not finish.
func TestSeedOnceRetriesAFailedSeed(t *testing.T) {
	s := &settings{DataDir: t.TempDir(), Seed: true, Tenant: demoTenant, DemoLeads: 10,
		Services: map[string]*serviceAddrs{}}
	for _, svc := range services {
		a := defaultServiceAddrs[svc]
		s.Services[svc] = &a
	}
	var out bytes.Buffer
	sys := newSystem(s, &console{w: &out})
	calls := 0
	seed := func(fail bool) seedFunc {
		return func(context.Context, *settings, serviceConns, io.Writer) (string, error) {
			calls++
			if fail {
				return "", errors.New("pipeline unavailable")
			}
			return "10 leads", nil
		}
	}

	sys.seedOnce(t.Context(), seed(true))
	if st, _ := readSeedState(s); st.Seeded || !st.Interrupted {
		t.Fatalf("after a failed seed: %+v", st)
	}
	if !strings.Contains(out.String(), "seeding failed: pipeline unavailable") || !strings.Contains(out.String(), "the next start seeds again") {
		t.Errorf("the failure is not reported:\n%s", out.String())
	}

	out.Reset()
	sys.seedOnce(t.Context(), seed(false))
	if !strings.Contains(out.String(), "did not finish; seeding again") {
		t.Errorf("the retry does not say so:\n%s", out.String())
	}
	if st, _ := readSeedState(s); !st.Seeded || st.Interrupted || !strings.Contains(st.SeededNote, "10 leads") {
		t.Fatalf("after a good seed: %+v", st)
	}

	out.Reset()
	sys.seedOnce(t.Context(), seed(false))
	if calls != 2 || !strings.Contains(out.String(), "already loaded") {
		t.Errorf("seeded again (%d calls):\n%s", calls, out.String())
	}
	if _, err := os.Stat(s.dataPath(seedingMarker)); err == nil {
		t.Errorf("the in-progress marker is still there")
	}
}
