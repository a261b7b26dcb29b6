package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// builtBinaries are the executables BuildBinary made in this test binary, one per package.
var builtBinaries struct {
	mu     sync.Mutex
	dir    string // made on first use, removed by Main
	builds map[string]*build
}

type build struct {
	once sync.Once
	n    int // keeps two packages with the same last element apart
	path string
	err  error
}

// BuildBinary builds the main package pkg (an import path or a directory, as `go build` takes
// it) and returns the path of the executable. The build runs once per test binary, however
// many tests ask for it, and the executable lives in a temporary directory that Main removes
// after the last test.
//
// Tests build the service itself, not a stub, so a test can run another service for real and
// kill it like a crashed server (see StartProcess).
func BuildBinary(t testing.TB, pkg string) string {
	t.Helper()
	b := &builtBinaries
	b.mu.Lock()
	bd, ok := b.builds[pkg]
	if !ok {
		if b.builds == nil {
			b.builds = map[string]*build{}
		}
		bd = &build{n: len(b.builds)}
		b.builds[pkg] = bd
	}
	b.mu.Unlock()
	bd.once.Do(func() { bd.path, bd.err = goBuild(pkg, bd.n) })
	if bd.err != nil {
		t.Fatalf("testkit: %v", bd.err)
	}
	return bd.path
}

func goBuild(pkg string, n int) (string, error) {
	b := &builtBinaries
	b.mu.Lock()
	if b.dir == "" {
		dir, err := os.MkdirTemp("", "evcrm-testkit-bin-")
		if err != nil {
			b.mu.Unlock()
			return "", err
		}
		b.dir = dir
	}
	out := filepath.Join(b.dir, fmt.Sprintf("%s-%d", path.Base(filepath.ToSlash(pkg)), n))
	b.mu.Unlock()
	if msg, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// removeBinaries deletes what BuildBinary built.
func removeBinaries() error {
	b := &builtBinaries
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dir == "" {
		return nil
	}
	err := os.RemoveAll(b.dir)
	b.dir, b.builds = "", nil
	return err
}
