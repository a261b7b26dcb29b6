package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// errInterrupted is returned when a signal cut a start short; it is not a failure.
var errInterrupted = errors.New("interrupted")

// runSystem is `crmdev run`: it starts NATS, ClickHouse and the four services, waits for their
// health, seeds the demo data on a fresh data dir, prints the addresses, and runs until
// SIGINT/SIGTERM or until any part dies, then stops everything in order.
func runSystem(ctx context.Context, s *settings, out *console) error {
	if err := s.resolve(); err != nil {
		return err
	}
	release, err := lockDataDir(s.DataDir)
	if err != nil {
		return err
	}
	defer release()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sys := newSystem(s, out)
	stopSignals := handleSignals(cancel, sys, out)
	defer stopSignals()

	if s.FreePorts {
		if err := pickFreePorts(s.listenPtrs()); err != nil {
			return err
		}
	}
	// Install before the port check: a package that starts its own server would take the port.
	if s.embeddedClickHouse() {
		if err := ensureClickHouse(ctx, s.ClickHouseBinary, out); err != nil {
			return err
		}
	}
	if err := checkPorts(s.listens()); err != nil {
		return err
	}
	binDir, err := prepareBinaries(ctx, s, out)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	defer func() {
		start := time.Now()
		sys.stop()
		out.Printf("everything stopped (%s)", time.Since(start).Round(100*time.Millisecond))
	}()
	err = sys.start(ctx, binDir)
	switch {
	case errors.Is(err, errInterrupted):
		return nil
	case err != nil:
		out.Printf("start failed, stopping everything: %v", err)
		return err
	}

	// The seed stops when a service dies or the user interrupts it.
	seedCtx, cancelSeed := context.WithCancel(ctx)
	go func() {
		select {
		case <-sys.failed:
			cancelSeed()
		case <-seedCtx.Done():
		}
	}()
	sys.seedOnce(seedCtx, seedDemo)
	cancelSeed()

	select {
	case <-sys.failed:
	case <-ctx.Done():
		return nil
	default:
		out.Raw(sys.banner())
	}
	select {
	case <-ctx.Done():
		return nil
	case <-sys.failed:
		out.Printf("%s: stopping everything", sys.failure)
		return sys.failErr()
	}
}

// start brings the parts up in dependency order: NATS, ClickHouse, the services, their health.
func (sys *system) start(ctx context.Context, binDir string) error {
	s := sys.s
	if s.embeddedNATS() {
		if err := sys.startNATS(); err != nil {
			return err
		}
	}
	if s.embeddedClickHouse() {
		if err := sys.startClickHouse(ctx); err != nil {
			if ctx.Err() != nil {
				return errInterrupted
			}
			return err
		}
	}
	if ctx.Err() != nil {
		return errInterrupted
	}
	// Fresh tokens every start; the key (and so tokens stored by 'crmctl login') stays.
	if err := s.mintDevTokens(); err != nil {
		return err
	}
	if err := sys.startServices(ctx, binDir); err != nil {
		return err
	}
	if err := sys.waitHealthy(ctx); err != nil {
		if ctx.Err() != nil && !sys.hasFailed() {
			return errInterrupted
		}
		return err
	}
	return nil
}

func (sys *system) hasFailed() bool {
	select {
	case <-sys.failed:
		return true
	default:
		return false
	}
}

// prepareBinaries returns the directory of the service executables: --bin-dir as given, or
// <data-dir>/bin after building them there.
func prepareBinaries(ctx context.Context, s *settings, out *console) (string, error) {
	if s.BinDir != "" {
		for _, svc := range services {
			if _, err := serviceBinary(s.BinDir, svc); err != nil {
				return "", fmt.Errorf("--bin-dir: %w", err)
			}
		}
		return s.BinDir, nil
	}
	repo := s.RepoDir
	if repo == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		if repo, err = findRepo(wd); err != nil {
			return "", err
		}
	}
	binDir := s.dataPath("bin")
	if err := buildServices(ctx, filepath.Clean(repo), binDir, out); err != nil {
		return "", err
	}
	return binDir, nil
}

// doubleSignal is how soon after the first a signal is taken as the same one: a terminal's
// Ctrl-C under make, or timeout(1), can deliver one interrupt twice.
const doubleSignal = 500 * time.Millisecond

// handleSignals cancels the run on the first SIGINT or SIGTERM (an orderly stop follows) and
// kills the services on the second, for a user who does not want to wait.
func handleSignals(cancel context.CancelFunc, sys *system, out *console) (stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first time.Time
		for {
			select {
			case sig := <-sigs:
				switch {
				case first.IsZero():
					first = time.Now()
					out.Printf("%s: stopping (press Ctrl-C again to kill the services at once)", sig)
					cancel()
				case time.Since(first) > doubleSignal:
					out.Printf("second signal: killing the services")
					sys.kill()
					return
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}
