package daemon

import (
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestMemoryLimitOf(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		path string
		want int64
	}{
		{write("limited", "1073741824\n"), 1 << 30},
		{write("unlimited", "max\n"), 0},
		{write("garbage", "lots\n"), 0},
		{filepath.Join(dir, "missing"), 0},
	} {
		if got := memoryLimitOf(tc.path); got != tc.want {
			t.Errorf("memoryLimitOf(%s) = %d, want %d", filepath.Base(tc.path), got, tc.want)
		}
	}
}

func TestSetMemoryLimitFromCgroup(t *testing.T) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		t.Setenv("GOMEMLIMIT", "") // LookupEnv must report it unset
		os.Unsetenv("GOMEMLIMIT")
	}
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := filepath.Join(t.TempDir(), "memory.max")
	if err := os.WriteFile(p, []byte("2147483648\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := setMemoryLimit(logger, p)
	if want := int64(float64(2<<30) * goShareOfLimit); got != want || debug.SetMemoryLimit(-1) != want {
		t.Fatalf("limit %d (runtime %d), want %d", got, debug.SetMemoryLimit(-1), want)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	if err := os.WriteFile(p, []byte("max\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := setMemoryLimit(logger, p); got != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Fatalf("no container limit: set %d, runtime %d", got, debug.SetMemoryLimit(-1))
	}

	t.Setenv("GOMEMLIMIT", "512MiB")
	if err := os.WriteFile(p, []byte("2147483648\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := setMemoryLimit(logger, p); got != 0 {
		t.Fatalf("GOMEMLIMIT set, but the cgroup's limit was applied: %d", got)
	}
}
