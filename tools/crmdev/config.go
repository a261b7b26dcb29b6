package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// services are the four evcrm services in the order they are started and listed. pipeline
// comes first because leads calls it; campaign calls leads; analytics only reads the streams.
var services = []string{"pipeline", "leads", "campaign", "analytics"}

// listen is one address the launcher (or a service it starts) listens on.
type listen struct {
	What string // what listens there, for messages: "leads gRPC"
	Flag string // the launcher flag that sets it, without dashes
	Addr string // host:port
}

// serviceAddrs are a service's three listen addresses.
type serviceAddrs struct {
	GRPC, HTTP, Metrics string
}

// settings is everything `crmdev run` needs, from flags with EVCRM_* environment fallbacks.
type settings struct {
	DataDir  string
	RepoDir  string
	BinDir   string
	LogLevel string
	RawLogs  bool

	// NATSURL, when set, is an external NATS server; NATSAddr is where the embedded one listens.
	NATSURL      string
	NATSAddr     string
	SyncInterval string
	// ServiceNATSURLs are per-service URLs (with that service's credentials) on the external
	// NATS, by service; a service without one uses NATSURL.
	ServiceNATSURLs map[string]*string

	// ClickHouseAddr, when set, is an external ClickHouse (native protocol); otherwise the
	// embedded server listens on ClickHouseNative and ClickHouseHTTP.
	ClickHouseAddr     string
	ClickHouseUser     string
	ClickHousePassword string
	ClickHouseNative   string
	ClickHouseHTTP     string
	ClickHouseBinary   string

	Services map[string]*serviceAddrs

	FreePorts    bool
	Seed         bool
	SeedValue    int64
	Tenant       string
	DemoLeads    int
	ReadyTimeout time.Duration
	StopTimeout  time.Duration
}

// Defaults of the addresses. Everything listens on loopback: the services run with -dev-auth,
// which believes whatever tenant and user a caller names, so they must not be reachable from
// the network.
var defaultServiceAddrs = map[string]serviceAddrs{
	"leads":     {GRPC: "127.0.0.1:9101", Metrics: "127.0.0.1:9201", HTTP: "127.0.0.1:9301"},
	"pipeline":  {GRPC: "127.0.0.1:9102", Metrics: "127.0.0.1:9202", HTTP: "127.0.0.1:9302"},
	"campaign":  {GRPC: "127.0.0.1:9103", Metrics: "127.0.0.1:9203", HTTP: "127.0.0.1:9303"},
	"analytics": {GRPC: "127.0.0.1:9104", Metrics: "127.0.0.1:9204", HTTP: "127.0.0.1:9304"},
}

// analystUser is the read-only ClickHouse user the embedded server gets, the local stand-in for
// deploy/clickhouse's evcrm_analyst. Its password is no secret: the server listens on loopback.
const (
	analystUser     = "evcrm_analyst"
	analystPassword = "analyst"
	// demoTenant is the tenant the demo data is written to and the examples use.
	demoTenant = "acme"
)

// addFlags declares the settings on fs. Service addresses get one flag each, named
// <service>-<kind>-addr.
func (s *settings) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&s.DataDir, "data-dir", ".data", "directory of all local state: nats/, clickhouse/, <service>/, bin/")
	fs.StringVar(&s.RepoDir, "repo", "", "repository root the services are built from (default: the directory holding go.work, found upwards from the working directory)")
	fs.StringVar(&s.BinDir, "bin-dir", "", "directory with prebuilt leads, pipeline, campaign and analytics executables (default: build them into <data-dir>/bin)")
	fs.StringVar(&s.LogLevel, "log-level", "info", "log level of the services: debug, info, warn, error")
	fs.BoolVar(&s.RawLogs, "raw-logs", false, "show the services' log lines as the JSON they write (for jq) instead of one readable line each")

	fs.StringVar(&s.NATSURL, "nats-url", "", "external NATS server URL(s); set, no embedded NATS is started")
	fs.StringVar(&s.NATSAddr, "nats-addr", "127.0.0.1:4222", "listen address of the embedded NATS server")
	fs.StringVar(&s.SyncInterval, "sync-interval", "", `fsync interval of the embedded JetStream file store: a duration, "always", or empty for the server default (2m)`)

	fs.StringVar(&s.ClickHouseAddr, "clickhouse-addr", "", "external ClickHouse native-protocol address; set, no embedded ClickHouse is started")
	fs.StringVar(&s.ClickHouseUser, "clickhouse-user", "default", "ClickHouse user the analytics projector writes as")
	fs.StringVar(&s.ClickHousePassword, "clickhouse-password", "", "password of --clickhouse-user")
	fs.StringVar(&s.ClickHouseNative, "clickhouse-native-addr", "127.0.0.1:9000", "native-protocol listen address of the embedded ClickHouse")
	fs.StringVar(&s.ClickHouseHTTP, "clickhouse-http-addr", "127.0.0.1:8123", "HTTP listen address of the embedded ClickHouse")
	fs.StringVar(&s.ClickHouseBinary, "clickhouse-binary", "", "clickhouse-server (or clickhouse) executable (default: looked up in PATH, /usr/sbin, /usr/bin)")

	s.ServiceNATSURLs = map[string]*string{}
	for _, svc := range services {
		s.ServiceNATSURLs[svc] = fs.String(svc+"-nats-url", "", "with --nats-url: the URL "+svc+" connects with instead, e.g. with its own user's credentials (best as $"+envName(svc+"-nats-url")+", which ps does not show)")
	}
	s.Services = map[string]*serviceAddrs{}
	for _, svc := range services {
		a := defaultServiceAddrs[svc]
		s.Services[svc] = &a
		fs.StringVar(&a.GRPC, svc+"-grpc-addr", a.GRPC, svc+" gRPC listen address")
		fs.StringVar(&a.HTTP, svc+"-http-addr", a.HTTP, svc+" REST/JSON listen address"+dashboardNote(svc))
		fs.StringVar(&a.Metrics, svc+"-metrics-addr", a.Metrics, svc+" /metrics and /healthz listen address")
	}

	fs.BoolVar(&s.FreePorts, "free-ports", false, "listen on free loopback ports instead of the defaults (a second system beside the first; the banner lists them)")
	fs.BoolVar(&s.Seed, "seed", true, "load the demo data on the first start of a data dir")
	fs.Int64Var(&s.SeedValue, "seed-value", 1, "random seed of the demo data (the same seed gives the same data)")
	fs.StringVar(&s.Tenant, "tenant", demoTenant, "tenant of the demo data")
	fs.IntVar(&s.DemoLeads, "demo-leads", 3000, "leads in the demo data")
	fs.DurationVar(&s.ReadyTimeout, "ready-timeout", 3*time.Minute, "how long to wait for ClickHouse and the services to become healthy")
	fs.DurationVar(&s.StopTimeout, "stop-timeout", 30*time.Second, "how long a service may take to stop after SIGTERM before it is killed")
}

func dashboardNote(svc string) string {
	if svc == "analytics" {
		return " (also serves /dashboard/)"
	}
	return ""
}

// envName is the environment variable that backs a flag: EVCRM_ and the flag in upper case
// with underscores, the convention the services follow (-nats-url: EVCRM_NATS_URL).
func envName(flag string) string {
	return "EVCRM_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets every flag not given on the command line from its environment variable, so
// flags beat the environment, which beats the defaults.
func applyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil || f.Name == "help" {
			return
		}
		v, ok := lookup(envName(f.Name))
		if !ok {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("%s=%q (for --%s): %w", envName(f.Name), v, f.Name, e)
		}
	})
	return err
}

// embeddedNATS and embeddedClickHouse say whether the launcher starts them itself.
func (s *settings) embeddedNATS() bool       { return s.NATSURL == "" }
func (s *settings) embeddedClickHouse() bool { return s.ClickHouseAddr == "" }

// listens lists every address the launcher is about to listen on (or make a child listen on),
// each with the flag that moves it.
func (s *settings) listens() []listen {
	var ls []listen
	if s.embeddedNATS() {
		ls = append(ls, listen{What: "NATS", Flag: "nats-addr", Addr: s.NATSAddr})
	}
	if s.embeddedClickHouse() {
		ls = append(ls,
			listen{What: "ClickHouse native", Flag: "clickhouse-native-addr", Addr: s.ClickHouseNative},
			listen{What: "ClickHouse HTTP", Flag: "clickhouse-http-addr", Addr: s.ClickHouseHTTP})
	}
	for _, svc := range services {
		a := s.Services[svc]
		ls = append(ls,
			listen{What: svc + " gRPC", Flag: svc + "-grpc-addr", Addr: a.GRPC},
			listen{What: svc + " REST", Flag: svc + "-http-addr", Addr: a.HTTP},
			listen{What: svc + " metrics", Flag: svc + "-metrics-addr", Addr: a.Metrics})
	}
	return ls
}

// pointers to the same addresses, for --free-ports to rewrite.
func (s *settings) listenPtrs() []*string {
	var ps []*string
	if s.embeddedNATS() {
		ps = append(ps, &s.NATSAddr)
	}
	if s.embeddedClickHouse() {
		ps = append(ps, &s.ClickHouseNative, &s.ClickHouseHTTP)
	}
	for _, svc := range services {
		a := s.Services[svc]
		ps = append(ps, &a.GRPC, &a.HTTP, &a.Metrics)
	}
	return ps
}

// resolve validates the settings and makes the paths absolute. It is called once, after flags
// and environment are applied.
func (s *settings) resolve() error {
	var errs []string
	for _, l := range s.listens() {
		if _, _, err := splitAddr(l.Addr); err != nil {
			errs = append(errs, fmt.Sprintf("--%s=%q: %v", l.Flag, l.Addr, err))
		}
	}
	if s.embeddedClickHouse() {
		nh, _, _ := net.SplitHostPort(s.ClickHouseNative)
		hh, _, _ := net.SplitHostPort(s.ClickHouseHTTP)
		if nh != hh {
			errs = append(errs, fmt.Sprintf("--clickhouse-native-addr and --clickhouse-http-addr must have the same host (the embedded server listens on one), got %q and %q", nh, hh))
		}
	}
	for _, svc := range services {
		if u := s.serviceNATSURL(svc); u != "" && s.embeddedNATS() {
			errs = append(errs, fmt.Sprintf("--%s-nats-url needs --nats-url: the embedded NATS gives every service its own user", svc))
		}
	}
	if _, _, err := s.syncInterval(); err != nil {
		errs = append(errs, fmt.Sprintf("--sync-interval=%q: %v", s.SyncInterval, err))
	}
	switch s.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("--log-level=%q: use debug, info, warn or error", s.LogLevel))
	}
	if s.DataDir == "" {
		errs = append(errs, "--data-dir must not be empty")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid settings:\n  %s", strings.Join(errs, "\n  "))
	}
	var err error
	if s.DataDir, err = filepath.Abs(s.DataDir); err != nil {
		return err
	}
	if s.BinDir != "" {
		if s.BinDir, err = filepath.Abs(s.BinDir); err != nil {
			return err
		}
	}
	return nil
}

// syncInterval parses --sync-interval.
func (s *settings) syncInterval() (d time.Duration, always bool, err error) {
	switch v := strings.TrimSpace(s.SyncInterval); v {
	case "":
		return 0, false, nil
	case "always":
		return 0, true, nil
	default:
		d, err := time.ParseDuration(v)
		if err == nil && d <= 0 {
			err = fmt.Errorf("must be positive")
		}
		return d, false, err
	}
}

// splitAddr splits host:port into the host and a port number (1-65535).
func splitAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number from 1 to 65535", p)
	}
	return host, port, nil
}

// dialAddr is how a client on this machine reaches a listen address: an empty or unspecified
// host is reached through loopback.
func dialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// natsURL is the URL the services connect to.
func (s *settings) natsURL() string {
	if !s.embeddedNATS() {
		return s.NATSURL
	}
	return "nats://" + dialAddr(s.NATSAddr)
}

// serviceNATSURL is --<svc>-nats-url, "" when not given.
func (s *settings) serviceNATSURL(svc string) string {
	if p := s.ServiceNATSURLs[svc]; p != nil {
		return *p
	}
	return ""
}

// redactedNATSURL is natsURL without passwords, for printing.
func (s *settings) redactedNATSURL() string {
	var out []string
	for raw := range strings.SplitSeq(s.natsURL(), ",") {
		if u, err := url.Parse(strings.TrimSpace(raw)); err == nil {
			raw = u.Redacted()
		}
		out = append(out, raw)
	}
	return strings.Join(out, ",")
}

// clickHouseAddr is the native address analytics connects to.
func (s *settings) clickHouseAddr() string {
	if !s.embeddedClickHouse() {
		return s.ClickHouseAddr
	}
	return dialAddr(s.ClickHouseNative)
}

// dataPath is a path under the data dir.
func (s *settings) dataPath(elem ...string) string {
	return filepath.Join(append([]string{s.DataDir}, elem...)...)
}

func lookupEnv(k string) (string, bool) { return os.LookupEnv(k) }
