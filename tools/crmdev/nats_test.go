package main

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/pflag"
)

// The launcher's embedded NATS admits only its users: each service as itself with natsperm's
// permissions (pipeline may not write lead events), the launcher's admin with everything. A
// service's password reaches it in its environment, never on its command line.
func TestEmbeddedNATSHasAUserPerService(t *testing.T) {
	s := &settings{DataDir: t.TempDir(), NATSAddr: "127.0.0.1:0", LogLevel: "info", Services: map[string]*serviceAddrs{}}
	for _, svc := range services {
		a := defaultServiceAddrs[svc]
		s.Services[svc] = &a
	}
	if err := pickFreePorts([]*string{&s.NATSAddr}); err != nil {
		t.Fatal(err)
	}
	sys := newSystem(s, &console{w: &bytes.Buffer{}})
	if err := sys.startNATS(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.nats.Shutdown)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	if nc, err := nats.Connect("nats://" + s.NATSAddr); !errors.Is(err, nats.ErrAuthorization) {
		if nc != nil {
			nc.Close()
		}
		t.Errorf("a connection without credentials: %v, want an authorization error", err)
	}

	pipelineURL := envValue(sys.serviceEnv("pipeline"), "EVCRM_NATS_URL")
	u, err := url.Parse(pipelineURL)
	if err != nil || u.User.Username() != "pipeline" {
		t.Fatalf("pipeline's EVCRM_NATS_URL %q: %v, want user pipeline", pipelineURL, err)
	}
	pw, _ := u.User.Password()
	if args := strings.Join(sys.serviceArgs("pipeline"), " "); len(pw) < 20 || strings.Contains(args, pw) {
		t.Errorf("pipeline's password %q is short or on its command line: %s", pw, args)
	}
	if other := envValue(sys.serviceEnv("leads"), "EVCRM_NATS_URL"); strings.Contains(other, pw) {
		t.Errorf("leads got pipeline's password: %s", other)
	}

	denied := make(chan error, 1)
	pipeline, err := nats.Connect(pipelineURL, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case denied <- err:
		default:
		}
	}))
	if err != nil {
		t.Fatalf("connect as pipeline: %v", err)
	}
	defer pipeline.Close()
	// What pipeline may do works (account info, which every service reads) ...
	js, err := jetstream.New(pipeline)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Errorf("pipeline reading the account info: %v", err)
	}
	// ... writing a lead event does not.
	if err := pipeline.Publish("crm.acme.lead.l1.LeadCreated", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-denied:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("pipeline publishing a lead event: %v, want a permissions violation", err)
		}
	case <-ctx.Done():
		t.Errorf("pipeline published a lead event unhindered")
	}

	// The admin URL file is the user's only and gives full access.
	if fi, err := os.Stat(s.natsAdminURLPath()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin URL file: %v, %v", fi, err)
	}
	b, _ := os.ReadFile(s.natsAdminURLPath())
	admin, err := nats.Connect(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("connect as admin: %v", err)
	}
	defer admin.Close()
	ajs, err := jetstream.New(admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ajs.CreateStream(ctx, jetstream.StreamConfig{Name: "ADMIN_CHECK", Subjects: []string{"admin.check.>"}}); err != nil {
		t.Errorf("admin creating a stream: %v", err)
	}
}

// envValue is the value of key in env (KEY=value entries), the last one winning as in exec.
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range slices.Backward(env) {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
			break
		}
	}
	return v
}

// On an external NATS a service connects with its own --<svc>-nats-url when given, else with
// --nats-url; the banner shows no password, and the per-service URLs need --nats-url.
func TestExternalNATSPerServiceURLs(t *testing.T) {
	s := &settings{}
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	s.addFlags(fs)
	if err := fs.Parse([]string{"--nats-url", "nats://shared:pw1@nats.example:4222"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"EVCRM_LEADS_NATS_URL": "nats://leads:pw2@nats.example:4222"}
	if err := applyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if err := s.resolve(); err != nil {
		t.Fatal(err)
	}
	sys := newSystem(s, &console{w: &bytes.Buffer{}})
	if got := envValue(sys.serviceEnv("leads"), "EVCRM_NATS_URL"); got != env["EVCRM_LEADS_NATS_URL"] {
		t.Errorf("leads connects with %q", got)
	}
	if got := envValue(sys.serviceEnv("pipeline"), "EVCRM_NATS_URL"); got != s.NATSURL {
		t.Errorf("pipeline connects with %q, want --nats-url", got)
	}
	if got := s.redactedNATSURL(); strings.Contains(got, "pw1") || !strings.Contains(got, "nats.example:4222") {
		t.Errorf("the banner's NATS URL is %q", got)
	}

	s.NATSURL = ""
	if err := s.resolve(); err == nil || !strings.Contains(err.Error(), "--leads-nats-url needs --nats-url") {
		t.Errorf("--leads-nats-url with the embedded NATS: %v", err)
	}
}
