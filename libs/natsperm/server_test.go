package natsperm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/natsperm"
)

// adminUser has no permissions block: it stands for the operator and checks the state the
// restricted users left behind.
const adminUser = "admin"

func password(user string) string { return user + "-pw" }

// startServer runs nats-server from a configuration file whose authorization block is
// RenderConf's output, so the tests exercise the rendered text, not only the Go values.
func startServer(t *testing.T, integrationTenants ...string) string {
	t.Helper()
	var creds []natsperm.Credential
	for _, p := range natsperm.ServiceUsers() {
		creds = append(creds, natsperm.Credential{Permissions: p, Password: password(p.User)})
	}
	for _, tenant := range integrationTenants {
		p, err := natsperm.Integration(tenant)
		if err != nil {
			t.Fatal(err)
		}
		creds = append(creds, natsperm.Credential{Permissions: p, Password: password(p.User)})
	}
	dir := t.TempDir()
	conf := fmt.Sprintf("host: 127.0.0.1\nport: -1\njetstream { store_dir: %q }\n%s", filepath.Join(dir, "js"), natsperm.RenderConf(creds))
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("rendered configuration: %v\n%s", err, conf)
	}
	opts.NoSigs, opts.NoLog = true, true
	opts.Users = append(opts.Users, &server.User{Username: adminUser, Password: password(adminUser)})
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.ClientURL()
}

// client is one user's connection; it records the permission violations the server reports
// asynchronously (a denied publish is dropped with an -ERR, the request just gets no answer).
type client struct {
	nc *nats.Conn
	js jetstream.JetStream

	mu         sync.Mutex
	violations []string
}

func connect(t *testing.T, url, user string, opts ...nats.Option) *client {
	t.Helper()
	c := &client{}
	opts = append([]nats.Option{
		nats.UserInfo(user, password(user)),
		nats.Name(user),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.violations = append(c.violations, err.Error())
		}),
	}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	t.Cleanup(func() {
		if t.Failed() {
			c.mu.Lock()
			defer c.mu.Unlock()
			for _, v := range c.violations {
				t.Logf("%s: %s", user, v)
			}
		}
	})
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	c.nc, c.js = nc, js
	return c
}

// sawViolation waits briefly for the server's report of a denied publish or subscription to
// subject.
func (c *client) sawViolation(kind, subject string) bool {
	want := fmt.Sprintf("permissions violation for %s to %q", kind, subject)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, v := range c.violations {
			if strings.Contains(strings.ToLower(v), strings.ToLower(want)) {
				c.mu.Unlock()
				return true
			}
		}
		c.mu.Unlock()
		_ = c.nc.Flush()
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// noViolations fails the test if the server refused anything the user did.
func (c *client) noViolations(t *testing.T, user string) {
	t.Helper()
	_ = c.nc.Flush()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.violations {
		if strings.Contains(strings.ToLower(v), "permissions violation") {
			t.Errorf("%s: %s", user, v)
		}
	}
}

// short bounds a call that is expected to get no answer.
func short(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}
