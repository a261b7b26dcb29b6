package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/evcrm/evcrm/libs/chembed"
	"github.com/evcrm/evcrm/libs/natsembed"
	"github.com/evcrm/evcrm/libs/natsperm"
)

// system is what one `crmdev run` started, so it can be stopped in order.
type system struct {
	s   *settings
	out *console

	nats *natsembed.Server
	// natsPasswords are this run's passwords of the embedded server's users, by user name:
	// the four services and natsAdminUser.
	natsPasswords map[string]string
	ch            *chembed.Server
	childMu       sync.Mutex
	children      []*child
	// missing are the flags each service binary lacks and was started without.
	missing map[string][]string

	failOnce sync.Once
	failed   chan struct{} // closed on the first unexpected exit
	failure  string        // which part died and how; read after failed is closed
	detail   string        // its last log lines, if any

	stopMu   sync.Mutex
	stopping bool
}

func newSystem(s *settings, out *console) *system {
	return &system{s: s, out: out, failed: make(chan struct{}), missing: map[string][]string{}}
}

// fail records the first unexpected exit; the run loop then stops everything.
func (sys *system) fail(why, detail string) {
	sys.failOnce.Do(func() {
		sys.failure, sys.detail = why, detail
		close(sys.failed)
	})
}

// failErr is the error the run ends with after a failure.
func (sys *system) failErr() error {
	if sys.detail == "" {
		return errors.New(sys.failure)
	}
	return fmt.Errorf("%s; %s", sys.failure, sys.detail)
}

func (sys *system) isStopping() bool {
	sys.stopMu.Lock()
	defer sys.stopMu.Unlock()
	return sys.stopping
}

// natsAdminUser is the embedded server's user for everything that is not a service: the
// launcher's own checks, the tests and the operator's tools (`crmctl events tail`, the nats
// CLI). It has full access: it stands for the developer who owns the data dir anyway.
const natsAdminUser = "crmdev"

// natsAdminURLFile is where, under the auth dir, the admin user's URL (with this run's password)
// is written for the developer's tools.
const natsAdminURLFile = "nats-admin.url"

// startNATS starts the embedded NATS server with JetStream on <data-dir>/nats. Every service
// connects as its own user with the permissions of libs/natsperm, as in deploy/, so a service
// that uses a subject the table does not grant fails here first; the passwords are new every
// run and reach the services through their environment only.
func (sys *system) startNATS() error {
	s := sys.s
	host, port, _ := splitAddr(s.NATSAddr)
	interval, always, _ := s.syncInterval()
	users, passwords, err := launcherNATSUsers()
	if err != nil {
		return fmt.Errorf("NATS: %w", err)
	}
	srv, err := natsembed.Start(natsembed.Config{
		Name: "evcrm-dev", Host: host, Port: port, StoreDir: s.dataPath("nats"),
		SyncInterval: interval, SyncAlways: always, ReadyTimeout: 30 * time.Second,
		Users: users,
	})
	if err != nil {
		return fmt.Errorf("NATS: %w", err)
	}
	sys.nats, sys.natsPasswords = srv, passwords
	if err := writeAdminURL(s, sys.natsUserURL(natsAdminUser)); err != nil {
		return fmt.Errorf("NATS: %w", err)
	}
	sys.out.Printf("NATS JetStream listening on %s (store %s; a user per service, admin URL in %s)",
		srv.ClientURL(), s.dataPath("nats"), s.natsAdminURLPath())
	return nil
}

// launcherNATSUsers are the embedded server's users: the four services with their natsperm
// permissions and natsAdminUser with full access, each with a fresh random password.
func launcherNATSUsers() ([]*server.User, map[string]string, error) {
	passwords := map[string]string{}
	var creds []natsperm.Credential
	for _, svc := range services {
		p, err := natsperm.For(svc)
		if err != nil {
			return nil, nil, err
		}
		pw, err := randomPassword()
		if err != nil {
			return nil, nil, err
		}
		passwords[p.User] = pw
		creds = append(creds, natsperm.Credential{Permissions: p, Password: pw})
	}
	users := natsperm.ServerUsers(creds)
	pw, err := randomPassword()
	if err != nil {
		return nil, nil, err
	}
	passwords[natsAdminUser] = pw
	// No Permissions: everything is allowed.
	users = append(users, &server.User{Username: natsAdminUser, Password: pw})
	return users, passwords, nil
}

// randomPassword is 24 random bytes, URL-safe base64: nothing to escape in a nats:// URL.
func randomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// natsUserURL is the embedded server's URL with user's credentials of this run.
func (sys *system) natsUserURL(user string) string {
	u := url.URL{Scheme: "nats", User: url.UserPassword(user, sys.natsPasswords[user]), Host: dialAddr(sys.s.NATSAddr)}
	return u.String()
}

// serviceNATSURL is the NATS URL svc connects with: as its own user on the embedded server, or
// --<svc>-nats-url, or else --nats-url on an external one.
func (sys *system) serviceNATSURL(svc string) string {
	s := sys.s
	if s.embeddedNATS() {
		return sys.natsUserURL(svc)
	}
	if u := s.serviceNATSURL(svc); u != "" {
		return u
	}
	return s.NATSURL
}

// natsAdminURLPath is the file holding the admin user's URL.
func (s *settings) natsAdminURLPath() string { return filepath.Join(s.authDir(), natsAdminURLFile) }

// writeAdminURL writes the admin URL for the developer's tools, readable by the user only
// (EVCRM_NATS_URL=$(cat .data/auth/nats-admin.url) crmctl events tail).
func writeAdminURL(s *settings, u string) error {
	if err := os.MkdirAll(s.authDir(), 0o700); err != nil {
		return err
	}
	return os.WriteFile(s.natsAdminURLPath(), []byte(u+"\n"), 0o600)
}

// startClickHouse starts the embedded ClickHouse and watches it.
func (sys *system) startClickHouse(ctx context.Context) error {
	sys.out.Printf("starting ClickHouse (data %s)", sys.s.dataPath("clickhouse"))
	srv, err := startClickHouse(ctx, sys.s)
	if err != nil {
		return fmt.Errorf("ClickHouse: %w", err)
	}
	sys.ch = srv
	sys.out.Printf("ClickHouse listening on %s (native) and %s (HTTP), pid %d", srv.Addr(), srv.HTTPAddr(), srv.Pid())
	done := srv.Done()
	go func() {
		<-done
		if !sys.isStopping() {
			sys.fail(fmt.Sprintf("clickhouse-server exited (%v)", srv.Err()),
				"its logs are in "+filepath.Join(srv.Dir(), "log"))
		}
	}()
	return nil
}

// serviceArgs are the flags a service is started with. Every address is explicit, so nothing
// depends on the services' own defaults (which listen on all interfaces).
func (sys *system) serviceArgs(svc string) []string {
	s := sys.s
	a := s.Services[svc]
	args := []string{
		"-grpc-addr", a.GRPC,
		"-metrics-addr", a.Metrics,
		"-http-addr", a.HTTP,
		"-data-dir", s.dataPath(svc),
		"-log-level", s.LogLevel,
		"-allow-backfill",
	}
	args = append(args, s.authArgs(svc)...)
	switch svc {
	case "leads":
		args = append(args, "-pipeline-addr", dialAddr(s.Services["pipeline"].GRPC))
	case "campaign":
		args = append(args, "-leads-addr", dialAddr(s.Services["leads"].GRPC))
	case "analytics":
		args = append(args, "-clickhouse-addr", s.clickHouseAddr(), "-clickhouse-user", s.ClickHouseUser)
	}
	return args
}

// serviceEnv is the service's environment: the launcher's, plus its NATS URL (with its
// password) and the ClickHouse password for analytics, which go there rather than on a command
// line every user of the machine can read.
func (sys *system) serviceEnv(svc string) []string {
	var env []string
	for _, kv := range os.Environ() {
		// The launcher's own EVCRM_NATS_URL (an external --nats-url) must not stand beside the
		// service's.
		if !strings.HasPrefix(kv, "EVCRM_NATS_URL=") {
			env = append(env, kv)
		}
	}
	env = append(env, "EVCRM_NATS_URL="+sys.serviceNATSURL(svc))
	if svc == "analytics" && sys.s.ClickHousePassword != "" {
		env = append(env, "EVCRM_CLICKHOUSE_PASSWORD="+sys.s.ClickHousePassword)
	}
	return env
}

// keepKnown drops the flags (and their values) a binary does not declare.
func keepKnown(args []string, known map[string]bool) (kept, dropped []string) {
	for i := 0; i < len(args); i++ {
		name := args[i][1:]
		hasValue := i+1 < len(args) && (len(args[i+1]) == 0 || args[i+1][0] != '-')
		if known[name] {
			kept = append(kept, args[i])
			if hasValue {
				kept = append(kept, args[i+1])
			}
		} else {
			dropped = append(dropped, "-"+name)
		}
		if hasValue {
			i++
		}
	}
	return kept, dropped
}

// startServices starts the four services from binDir and watches them.
func (sys *system) startServices(ctx context.Context, binDir string) error {
	for _, svc := range services {
		bin, err := serviceBinary(binDir, svc)
		if err != nil {
			return err
		}
		known, err := knownFlags(ctx, bin)
		if err != nil {
			return err
		}
		args := sys.serviceArgs(svc)
		if !known["auth-jwks"] {
			// A build from before JWT authentication: development auth is all it has.
			args = append(args, "-dev-auth")
		}
		args, dropped := keepKnown(args, known)
		if len(dropped) > 0 {
			sys.missing[svc] = dropped
			sys.out.Printf("%s does not know %v (an older build?); starting it without", svc, dropped)
		}
		log := sys.out.Writer(svc)
		if !sys.s.RawLogs {
			log.render = humanLog
		}
		c, err := startChild(svc, bin, args, sys.serviceEnv(svc), log)
		if err != nil {
			return err
		}
		sys.childMu.Lock()
		sys.children = append(sys.children, c)
		sys.childMu.Unlock()
		go func() {
			<-c.done
			if !c.expected() {
				sys.fail(c.exitReason(), c.lastLines())
			}
		}()
	}
	return nil
}

// hasHTTP reports whether svc was started with its REST listener.
func (sys *system) hasHTTP(svc string) bool {
	for _, f := range sys.missing[svc] {
		if f == "-http-addr" {
			return false
		}
	}
	return true
}

// stop stops the services (SIGTERM, then SIGKILL after --stop-timeout), then ClickHouse, then
// NATS: the services still flush to both while they drain.
func (sys *system) stop() {
	sys.stopMu.Lock()
	if sys.stopping {
		sys.stopMu.Unlock()
		return
	}
	sys.stopping = true
	sys.stopMu.Unlock()

	if children := sys.childList(); len(children) > 0 {
		sys.out.Printf("stopping the services")
		var wg sync.WaitGroup
		for _, c := range children {
			if c.exited() {
				continue // it is the one that failed; that was reported
			}
			wg.Go(func() {
				start := time.Now()
				if c.stop(sys.s.StopTimeout) {
					sys.out.Printf("%s did not stop within %s of SIGTERM; killed it", c.name, sys.s.StopTimeout)
				} else if c.exitErr != nil {
					sys.out.Printf("%s while stopping (%s)", c.exitReason(), time.Since(start).Round(100*time.Millisecond))
				} else {
					sys.out.Printf("%s stopped (%s)", c.name, time.Since(start).Round(100*time.Millisecond))
				}
			})
		}
		wg.Wait()
	}
	if sys.ch != nil {
		stopClickHouse(sys.ch, sys.out)
	}
	if sys.nats != nil {
		sys.nats.Shutdown()
		sys.out.Printf("NATS stopped")
	}
}

// kill ends the services at once (a second Ctrl-C); stop then finds them gone.
func (sys *system) kill() {
	for _, c := range sys.childList() {
		c.kill()
	}
}

func (sys *system) childList() []*child {
	sys.childMu.Lock()
	defer sys.childMu.Unlock()
	return append([]*child(nil), sys.children...)
}
