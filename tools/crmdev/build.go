package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// findRepo returns the directory holding go.work, searched upwards from dir: the services are
// built in workspace mode, so that is where `go build ./services/...` has to run.
func findRepo(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "services", "leads")); err == nil {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no evcrm repository (go.work beside services/) above %s; run from the repository or pass --repo or --bin-dir", dir)
		}
	}
}

// buildServices builds the four service binaries into binDir with one `go build`, which
// compiles them in parallel and reuses the build cache, so a second start costs only the links.
func buildServices(ctx context.Context, repo, binDir string, out *console) error {
	if err := os.MkdirAll(binDir, 0o750); err != nil {
		return err
	}
	args := []string{"build", "-o", binDir + string(filepath.Separator)}
	for _, svc := range services {
		args = append(args, "./services/"+svc+"/cmd/"+svc)
	}
	out.Printf("building the services into %s (go %s)", binDir, strings.Join(args, " "))
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repo
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("the go command is not in PATH (Go 1.26 builds the services; or pass --bin-dir with prebuilt ones)")
		}
		return fmt.Errorf("go build of the services failed: %w\n%s", err, strings.TrimSpace(stderr.String()))
	}
	out.Printf("built the services in %s", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// serviceBinary is the executable of svc in binDir; it must exist.
func serviceBinary(binDir, svc string) (string, error) {
	p := filepath.Join(binDir, svc)
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%s executable: %w", svc, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s executable %s is not an executable file", svc, p)
	}
	return p, nil
}

// knownFlags returns the flags a service binary declares, read from its -h output. The launcher
// asks so it can leave out flags an older build lacks (a prebuilt binary from before
// -http-addr) and say so, rather than have the service refuse to start.
func knownFlags(ctx context.Context, bin string) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-h")
	// The service's own EVCRM_* environment could make -h fail validation before it prints.
	cmd.Env = withoutEVCRM(os.Environ())
	out, err := cmd.CombinedOutput()
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("%s -h: %w", bin, err)
	}
	flags := map[string]bool{}
	for l := range strings.SplitSeq(string(out), "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(l, "-"), " ")
		flags[name] = true
	}
	if len(flags) == 0 {
		return nil, fmt.Errorf("%s -h listed no flags:\n%s", bin, out)
	}
	return flags, nil
}

func withoutEVCRM(env []string) []string {
	var kept []string
	for _, e := range env {
		if !strings.HasPrefix(e, "EVCRM_") {
			kept = append(kept, e)
		}
	}
	return kept
}
