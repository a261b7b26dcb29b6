package deploy

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// services are the four service binaries and their main packages, relative to the repository root.
var services = []string{"leads", "pipeline", "campaign", "analytics"}

// repoRoot is the repository root: the parent of this module's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Dir(filepath.Dir(file))
}

// binary is one built service and the flags its -h lists.
type binary struct {
	path string
	// flags maps a flag name (without the dash) to its environment variable.
	flags map[string]string
	// envs is the reverse of flags.
	envs map[string]string
}

var (
	buildOnce sync.Once
	built     map[string]binary
	buildErr  error
	buildDir  string
)

var flagLineRE = regexp.MustCompile(`^  -([a-z0-9][a-z0-9.-]*)`)
var envRE = regexp.MustCompile(`\[\$(EVCRM_[A-Z0-9_]+)\]`)

// serviceBinaries builds the four services as the Dockerfile does (CGO_ENABLED=0, so a service
// that needs cgo fails here) once per test run, and reads each one's flags from -h.
func serviceBinaries(t *testing.T) map[string]binary {
	t.Helper()
	buildOnce.Do(func() {
		var err error
		buildDir, err = tempDirNoCleanup()
		if err != nil {
			buildErr = err
			return
		}
		args := []string{"build", "-trimpath", "-o", buildDir + "/"}
		for _, s := range services {
			args = append(args, "./services/"+s+"/cmd/"+s)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = repoRoot(t)
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{out: string(out), err: err}
			return
		}
		built = map[string]binary{}
		for _, s := range services {
			b := binary{path: filepath.Join(buildDir, s), flags: map[string]string{}, envs: map[string]string{}}
			out, _ := exec.Command(b.path, "-h").CombinedOutput()
			var last string
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				line := sc.Text()
				if m := flagLineRE.FindStringSubmatch(line); m != nil {
					last = m[1]
					b.flags[last] = ""
					continue
				}
				if m := envRE.FindStringSubmatch(line); m != nil && last != "" {
					b.flags[last] = m[1]
					b.envs[m[1]] = last
				}
			}
			built[s] = b
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	for _, s := range services {
		if len(built[s].flags) < 10 || len(built[s].envs) < 10 {
			t.Fatalf("%s -h listed %d flags and %d variables: the help format changed?", s, len(built[s].flags), len(built[s].envs))
		}
	}
	return built
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string {
	return "go build (CGO_ENABLED=0): " + e.err.Error() + "\n" + e.out
}

// checkServiceSettings reports every variable of env and every flag of args that the binary
// does not accept.
func checkServiceSettings(t *testing.T, where string, b binary, env map[string]string, args []string) {
	t.Helper()
	for k := range env {
		if !strings.HasPrefix(k, "EVCRM_") {
			t.Errorf("%s: variable %s is not an evcrm setting", where, k)
			continue
		}
		if _, ok := b.envs[k]; !ok {
			t.Errorf("%s: the binary does not read %s (its -h lists no such variable)", where, k)
		}
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name := strings.TrimLeft(a, "-")
		name, _, _ = strings.Cut(name, "=")
		if _, ok := b.flags[name]; !ok {
			t.Errorf("%s: the binary has no flag -%s", where, name)
		}
	}
	if env["EVCRM_DEV_AUTH"] == "true" || env["EVCRM_ALLOW_BACKFILL"] == "true" {
		t.Errorf("%s: development settings (dev auth, backfill) in a production-shaped deployment", where)
	}
	for _, a := range args {
		if strings.Contains(a, "dev-auth") || strings.Contains(a, "allow-backfill") {
			t.Errorf("%s: development flag %s", where, a)
		}
	}
}
