package main

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// readyLine ends the banner; scripts and the tests wait for it.
const readyLine = "evcrm is ready. Press Ctrl-C to stop everything."

// banner is what the user reads once everything is up: where each part listens and three
// commands to try.
func (sys *system) banner() string {
	s := sys.s
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("")
	w("evcrm is running. Data: %s", s.DataDir)
	w("")
	w("  %-10s %-22s %-30s %s", "service", "gRPC", "REST/JSON", "metrics")
	for _, svc := range services {
		a := s.Services[svc]
		rest := "off (binary lacks -http-addr)"
		if sys.hasHTTP(svc) {
			rest = "http://" + dialAddr(a.HTTP)
		}
		w("  %-10s %-22s %-30s %s", svc, dialAddr(a.GRPC), rest, "http://"+dialAddr(a.Metrics)+"/metrics")
	}
	w("")
	if sys.hasHTTP("analytics") {
		w("  dashboard   http://%s/dashboard/#token=%s", dialAddr(s.Services["analytics"].HTTP), readToken(s.tokenFile("analyst")))
	}
	where := "external"
	if s.embeddedNATS() {
		where = "embedded, store " + s.dataPath("nats")
	}
	w("  NATS        %s (%s)", s.redactedNATSURL(), where)
	if s.embeddedNATS() {
		w("              a user per service (docs/security.md); admin URL, new every start, in %s", s.natsAdminURLPath())
	}
	if s.embeddedClickHouse() {
		w("  ClickHouse  native %s, HTTP http://%s (embedded, data %s)", dialAddr(s.ClickHouseNative), dialAddr(s.ClickHouseHTTP), s.dataPath("clickhouse"))
		w("              analyst user %s, password %s (read-only), database evcrm", analystUser, analystPassword)
	} else {
		w("  ClickHouse  native %s (external)", s.ClickHouseAddr)
	}
	w("")
	w("  auth        JWT, development key and JWKS in %s (docs/security.md)", s.authDir())
	w("  admin token (tenant %s, valid %s, also in %s):", s.Tenant, devTokenTTL, s.tokenFile("admin"))
	w("    %s", readToken(s.tokenFile("admin")))
	w("  analyst token (analytics only, also in %s):", s.tokenFile("analyst"))
	w("    %s", readToken(s.tokenFile("analyst")))
	w("")
	w("Try:")
	w("  go run ./tools/crmctl login < %s", s.tokenFile("admin"))
	w("  %s", crmctlExample(s))
	if sys.hasHTTP("leads") {
		w("  curl -s -H \"Authorization: Bearer $(cat %s)\" 'http://%s/v1/leads?page_size=5'", s.tokenFile("admin"), dialAddr(s.Services["leads"].HTTP))
	}
	w("  %s", clickhouseClientExample(s))
	if s.embeddedNATS() {
		w("  EVCRM_NATS_URL=$(cat %s) go run ./tools/crmctl events tail --from-start --limit 5 -o table", s.natsAdminURLPath())
	}
	w("")
	w("%s", readyLine)
	return b.String()
}

// crmctlExample creates a lead with crmctl, whose defaults are the launcher's: flags only for
// what differs.
func crmctlExample(s *settings) string {
	cmd := "go run ./tools/crmctl"
	if a := dialAddr(s.Services["leads"].GRPC); a != defaultServiceAddrs["leads"].GRPC {
		cmd += " --leads-addr " + a
	}
	if s.Tenant != demoTenant {
		cmd += " --tenant " + s.Tenant
	}
	return cmd + " leads create --first-name Ada --last-name Lovelace --email ada@example.com --source web-form"
}

// clickhouseClientExample asks ClickHouse, as the analyst, what the event log holds.
func clickhouseClientExample(s *settings) string {
	query := "SELECT event_type, count() FROM events GROUP BY event_type ORDER BY count() DESC LIMIT 10"
	if !s.embeddedClickHouse() {
		host, port, _ := net.SplitHostPort(s.ClickHouseAddr)
		return fmt.Sprintf("clickhouse-client --host %s --port %s --database evcrm --query %q", host, port, query)
	}
	cmd := "clickhouse-client"
	if a := dialAddr(s.ClickHouseNative); a != "127.0.0.1:9000" {
		host, port, _ := net.SplitHostPort(a)
		cmd += " --host " + host + " --port " + port
	}
	return fmt.Sprintf("%s --user %s --password %s --database evcrm --query %q", cmd, analystUser, analystPassword, query)
}

// readToken returns the token in path, or a note that it is missing.
func readToken(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no token: " + err.Error() + ")"
	}
	return strings.TrimSpace(string(b))
}
