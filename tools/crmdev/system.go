package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/evcrm/evcrm/libs/chembed"
	"github.com/evcrm/evcrm/libs/natsembed"
)

// system is what one `crmdev run` started, so it can be stopped in order.
type system struct {
	s   *settings
	out *console

	nats     *natsembed.Server
	ch       *chembed.Server
	childMu  sync.Mutex
	children []*child
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

// startNATS starts the embedded NATS server with JetStream on <data-dir>/nats.
func (sys *system) startNATS() error {
	s := sys.s
	host, port, _ := splitAddr(s.NATSAddr)
	interval, always, _ := s.syncInterval()
	srv, err := natsembed.Start(natsembed.Config{
		Name: "evcrm-dev", Host: host, Port: port, StoreDir: s.dataPath("nats"),
		SyncInterval: interval, SyncAlways: always, ReadyTimeout: 30 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("NATS: %w", err)
	}
	sys.nats = srv
	sys.out.Printf("NATS JetStream listening on %s (store %s)", srv.ClientURL(), s.dataPath("nats"))
	return nil
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
		"-nats-url", s.natsURL(),
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

// serviceEnv is the service's environment: the launcher's, plus the ClickHouse password for
// analytics, which goes there rather than on a command line every user of the machine can read.
func (sys *system) serviceEnv(svc string) []string {
	env := os.Environ()
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
