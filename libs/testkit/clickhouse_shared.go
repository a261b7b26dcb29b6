package testkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/evcrm/evcrm/libs/chembed"
)

// Main runs a package's tests, then stops and removes what the test kit shares between them
// (the ClickHouse server of SharedClickHouse, the executables of BuildBinary) and exits. Call
// it from TestMain:
//
//	func TestMain(m *testing.M) { testkit.Main(m) }
//
// Without it the shared server still goes down when the test binary exits (on Linux the kernel
// sends it SIGTERM), but its temporary directory stays behind until a later test binary
// sweeps it up, and built executables stay in the system's temporary directory.
func Main(m *testing.M) {
	code := m.Run()
	for _, err := range []error{stopSharedClickHouse(), removeBinaries()} {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// sharedClickHouse is the one server per test binary behind SharedClickHouse.
var sharedClickHouse struct {
	once sync.Once
	mu   sync.Mutex // guards the fields below against Main stopping it
	ch   *ClickHouse
	dir  string
	err  error
}

// sharedDirPrefix names the temporary directories of shared servers; ownerFile in each holds
// the pid of the test binary that made it, so a later binary can tell abandoned ones.
const (
	sharedDirPrefix = "evcrm-testkit-clickhouse-"
	ownerFile       = "owner.pid"
)

// SharedClickHouse returns the test binary's ClickHouse server, starting it on first use:
// starting a server takes about a second on a small machine, so a package's tests share one and
// keep apart through NewDatabase. Use testkit.Main in TestMain to stop it at the end.
//
// Tests must not stop or restart it. A missing binary skips (or, with CI set, fails) each
// calling test, like StartClickHouse.
func SharedClickHouse(t testing.TB) *ClickHouse {
	t.Helper()
	s := &sharedClickHouse
	s.once.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		sweepSharedDirs()
		s.ch, s.dir, s.err = startShared()
	})
	s.mu.Lock()
	ch, err := s.ch, s.err
	s.mu.Unlock()
	if err != nil {
		clickhouseUnavailable(t, err)
	}
	if ch == nil {
		t.Fatalf("testkit: the shared ClickHouse server has been stopped (testkit.Main has returned)")
	}
	return ch
}

func startShared() (*ClickHouse, string, error) {
	dir, err := os.MkdirTemp("", sharedDirPrefix)
	if err != nil {
		return nil, "", fmt.Errorf("testkit: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("testkit: %w", err)
	}
	// Not a test's context: the server outlives the test that happens to start it.
	srv, err := chembed.Start(context.Background(), clickhouseConfig(dir))
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	return &ClickHouse{srv: srv, shared: true}, dir, nil
}

func stopSharedClickHouse() error {
	s := &sharedClickHouse
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		return nil
	}
	err := s.ch.srv.Stop()
	s.ch = nil
	if rmErr := os.RemoveAll(s.dir); rmErr != nil && err == nil {
		err = rmErr
	}
	if err != nil {
		return fmt.Errorf("testkit: stop shared clickhouse: %w", err)
	}
	return nil
}

// sweepSharedDirs removes the directories of shared servers whose test binary is gone (it
// exited without testkit.Main). Best effort: anything unclear is left alone.
func sweepSharedDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), sharedDirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		os.RemoveAll(dir)
	}
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	// Any other answer (EPERM: someone else's process) means the pid is in use.
	return !errors.Is(err, os.ErrProcessDone) && !errors.Is(err, syscall.ESRCH)
}
