package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"
)

// Run is one harness run: what bench/results/<date>-<commit>.json holds.
type Run struct {
	Started time.Time `json:"started"`
	// Resumed are the times an interrupted run was taken up again (--resume); Elapsed sums the
	// parts' running times.
	Resumed   []time.Time       `json:"resumed,omitempty"`
	Elapsed   string            `json:"elapsed"`
	Commit    string            `json:"commit"`
	Dirty     bool              `json:"dirty"` // the working tree had uncommitted changes
	Quick     bool              `json:"quick"`
	Count     int               `json:"count"`
	Machine   Machine           `json:"machine"`
	Scenarios []*ScenarioResult `json:"scenarios"`
}

// Machine is what the figures were measured on.
type Machine struct {
	Cores      int    `json:"cores"`
	CPU        string `json:"cpu"`
	MemoryMiB  int    `json:"memory_mib"`
	OS         string `json:"os"`
	Go         string `json:"go"`
	NATS       string `json:"nats_server"`
	ClickHouse string `json:"clickhouse"`
	PostgreSQL string `json:"postgresql"`
}

// ScenarioResult is one scenario's invocation and every figure it reported.
type ScenarioResult struct {
	Name    string            `json:"name"`
	Title   string            `json:"title"`
	Command string            `json:"command"`
	Env     map[string]string `json:"env,omitempty"`
	Elapsed string            `json:"elapsed"`
	// Skipped says why this run left the scenario out (a quick run's FullOnly scenarios).
	Skipped string    `json:"skipped,omitempty"`
	Error   string    `json:"error,omitempty"`
	Figures []*Figure `json:"figures"`
}

// Figure is one metric of one benchmark over the repetitions: every value, their median and
// spread (min, max and the interquartile range).
type Figure struct {
	Benchmark string    `json:"benchmark"`
	Unit      string    `json:"unit"`
	Values    []float64 `json:"values"`
	Median    float64   `json:"median"`
	Min       float64   `json:"min"`
	Max       float64   `json:"max"`
	Q1        float64   `json:"q1"`
	Q3        float64   `json:"q3"`
}

// testEvent is a line of `go test -json` (cmd/test2json).
type testEvent struct {
	Action string
	Output string
}

// runScenario runs one scenario's `go test -bench -json` and collects its figures. A failing
// run is recorded (Error, with the end of its output) and the harness goes on with the next.
// race builds the benchmarks with -race (the quick run: see options.race).
func runScenario(ctx context.Context, log io.Writer, root string, s scenario, quick, race bool, count int) *ScenarioResult {
	benchtime, timeout, env := s.BenchTime, s.Timeout, s.Env
	if quick {
		benchtime, timeout, env = "1x", "10m", s.QuickEnv
	}
	if s.MaxCount > 0 {
		count = min(count, s.MaxCount)
	}
	used := map[string]string{}
	for k, v := range env {
		used[k] = v
	}
	for k := range env {
		if v, ok := os.LookupEnv(k); ok {
			used[k] = v
		}
	}
	// A scenario whose benchmark cannot repeat inside one process runs as count processes of
	// -count 1, one after the other; their outputs together are the repetitions.
	runs, perRun := 1, count
	if s.ProcessPerRun {
		runs, perRun = count, 1
	}
	args := []string{"test", "-run", "^$", "-bench", s.Bench, "-benchtime", benchtime,
		"-count", strconv.Itoa(perRun), "-timeout", timeout, "-json", s.Pkg}
	if race {
		args = slices.Insert(args, 1, "-race")
	}
	res := &ScenarioResult{Name: s.Name, Title: s.Title, Env: used,
		Command: envPrefix(used) + "cd " + s.Dir + " && go " + strings.Join(quoteArgs(args), " ")}
	if runs > 1 {
		res.Command += fmt.Sprintf(" (%d times)", runs)
	}
	fmt.Fprintf(log, "bench: %s: %s\n", s.Name, res.Command)

	start := time.Now()
	var text, nonJSON, stderr strings.Builder
	var err error
	for range runs {
		var t, n, e string
		t, n, e, err = runGoTest(ctx, log, root, s, args, used)
		text.WriteString(t)
		nonJSON.WriteString(n)
		stderr.WriteString(e)
		if err != nil {
			break
		}
	}
	res.Elapsed = time.Since(start).Round(100 * time.Millisecond).String()
	res.Figures, _ = parseFigures(text.String())
	all := text.String() + nonJSON.String() + stderr.String()
	switch {
	case err != nil:
		res.Error = fmt.Sprintf("%v\n%s", err, tail(all, 4000))
	case len(res.Figures) == 0:
		res.Error = "no benchmark results (does -bench " + s.Bench + " match a benchmark?)\n" + tail(all, 4000)
	default:
		if missing := missingFigures(s, res.Figures); len(missing) > 0 {
			res.Error = "missing figures: " + strings.Join(missing, "; ") + "\n" + tail(all, 4000)
		}
	}
	if res.Error != "" {
		fmt.Fprintf(log, "bench: %s FAILED after %s:\n%s\n", s.Name, res.Elapsed, res.Error)
	} else {
		fmt.Fprintf(log, "bench: %s: %d figures in %s\n", s.Name, len(res.Figures), res.Elapsed)
	}
	return res
}

// runGoTest runs `go <args>` for scenario s in its module with the environment used added, and
// returns what collectOutput makes of its output, its stderr and how it ended.
func runGoTest(ctx context.Context, log io.Writer, root string, s scenario, args []string, used map[string]string) (text, nonJSON, stderr string, err error) {
	c := exec.CommandContext(ctx, "go", args...)
	c.Dir = filepath.Join(root, s.Dir)
	c.Env = os.Environ()
	for _, k := range slices.Sorted(maps.Keys(used)) {
		c.Env = append(c.Env, k+"="+used[k])
	}
	var errBuf bytes.Buffer
	c.Stderr = &errBuf
	stdout, err := c.StdoutPipe()
	if err != nil {
		return "", "", "", err
	}
	if err := c.Start(); err != nil {
		return "", "", "", err
	}
	text, nonJSON = collectOutput(stdout, log, s.Name+": ")
	err = c.Wait()
	return text, nonJSON, errBuf.String(), err
}

// collectOutput reads test2json events, returns the test binary's output as text (what `go
// test -bench` would have printed) and any lines that were not JSON (build errors), and echoes
// result lines to log as they come so a long run shows progress.
func collectOutput(r io.Reader, log io.Writer, prefix string) (text, nonJSON string) {
	var out, other strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var line strings.Builder // the current output line, to echo whole lines
	for sc.Scan() {
		var ev testEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			other.WriteString(sc.Text() + "\n")
			continue
		}
		if ev.Action == "build-output" { // compiler errors (go test -json reports them apart since Go 1.24)
			other.WriteString(ev.Output)
			continue
		}
		if ev.Action != "output" {
			continue
		}
		out.WriteString(ev.Output)
		line.WriteString(ev.Output)
		if strings.HasSuffix(ev.Output, "\n") {
			l := line.String()
			if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "--- FAIL") || strings.HasPrefix(l, "FAIL") {
				fmt.Fprint(log, "  "+prefix+l) // one Write per line: scenarios may run side by side
			}
			line.Reset()
		}
	}
	return out.String(), other.String()
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseFigures reads the benchmark lines of text (benchfmt) and groups the values by benchmark
// (without the -GOMAXPROCS suffix) and unit, in the order they first appear. ns/op is left out
// when every value of it is 0: the benchmarks report their own rates and zero ns/op.
func parseFigures(text string) ([]*Figure, error) {
	rd := benchfmt.NewReader(strings.NewReader(text), "go test output")
	byKey := map[[2]string]*Figure{}
	var order []*Figure
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue // unit metadata, or a line that is not a result
		}
		// benchfmt drops the "Benchmark" prefix; the figures keep go test's names.
		name := "Benchmark" + procsSuffix.ReplaceAllString(string(res.Name.Full()), "")
		for _, v := range res.Values {
			unit, val := v.Unit, v.Value
			if v.OrigUnit != "" { // benchfmt tidies ns/op into sec/op; keep what was reported
				unit, val = v.OrigUnit, v.OrigValue
			}
			k := [2]string{name, unit}
			f := byKey[k]
			if f == nil {
				f = &Figure{Benchmark: name, Unit: unit}
				byKey[k] = f
				order = append(order, f)
			}
			f.Values = append(f.Values, val)
		}
	}
	out := order[:0]
	for _, f := range order {
		if f.Unit == "ns/op" && !slices.ContainsFunc(f.Values, func(v float64) bool { return v != 0 }) {
			continue
		}
		f.summarize()
		out = append(out, f)
	}
	return out, rd.Err()
}

// missingFigures lists the scenario's Want entries no figure satisfies, and every figure with a
// value that is not a finite number (a division by a zero duration, say). Such values are
// dropped from the figure, since JSON cannot hold them.
func missingFigures(s scenario, figs []*Figure) []string {
	var missing []string
	for _, f := range figs {
		finite := slices.DeleteFunc(slices.Clone(f.Values), func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
		if len(finite) != len(f.Values) {
			missing = append(missing, fmt.Sprintf("%s %s has a value that is not a finite number", f.Benchmark, f.Unit))
			if f.Values = finite; len(finite) > 0 {
				f.summarize()
			} else {
				f.Median, f.Min, f.Max, f.Q1, f.Q3 = 0, 0, 0, 0, 0
			}
		}
	}
	for _, w := range s.Want {
		pattern, unit, _ := strings.Cut(w, " ")
		re := regexp.MustCompile("^(?:" + pattern + ")$")
		if !slices.ContainsFunc(figs, func(f *Figure) bool {
			return f.Unit == unit && len(f.Values) > 0 && re.MatchString(strings.TrimPrefix(f.Benchmark, "Benchmark"))
		}) {
			missing = append(missing, w)
		}
	}
	return missing
}

// summarize sets the median, min, max and quartiles of f.Values.
func (f *Figure) summarize() {
	s := slices.Clone(f.Values)
	slices.Sort(s)
	f.Min, f.Max = s[0], s[len(s)-1]
	f.Median = quantile(s, 0.5)
	f.Q1, f.Q3 = quantile(s, 0.25), quantile(s, 0.75)
}

// quantile of sorted values, linearly interpolated between the closest ranks.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}

func envPrefix(env map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		b.WriteString(k + "=" + env[k] + " ")
	}
	return b.String()
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$|*() ") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// describeMachine collects the core count, CPU, memory and the versions the figures depend
// on. A version that cannot be found is recorded as "unknown (...)" rather than failing the run.
func describeMachine(root string) Machine {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if i := bytes.Index(b, []byte("model name")); i >= 0 {
			line, _, _ := strings.Cut(string(b[i:]), "\n")
			_, m.CPU, _ = strings.Cut(line, ":")
			m.CPU = strings.TrimSpace(m.CPU)
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryMiB = kb / 1024
		}
	}
	m.Go = output(root, "go", "env", "GOVERSION")
	m.NATS = "nats-server " + output(filepath.Join(root, "libs"), "go", "list", "-m", "-f", "{{.Version}}", "github.com/nats-io/nats-server/v2") + " (in process)"
	// Debian's clickhouse-server 18.16 has no --version; its client has, and comes with it.
	m.ClickHouse = output(root, "clickhouse-client", "--version")
	if strings.HasPrefix(m.ClickHouse, "unknown") {
		m.ClickHouse = output(root, "clickhouse", "client", "--version")
	}
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres"); len(dirs) > 0 {
		bin := dirs[len(dirs)-1]
		if d := os.Getenv("EVCRM_PG_BIN"); d != "" {
			bin = filepath.Join(d, "postgres")
		}
		m.PostgreSQL = output(root, bin, "--version")
	} else {
		m.PostgreSQL = "unknown (no /usr/lib/postgresql/*/bin/postgres)"
	}
	return m
}

// output runs a command and returns its first line of output, or "unknown (error)".
func output(dir, name string, args ...string) string {
	c := exec.Command(name, args...)
	c.Dir = dir
	b, err := c.Output()
	if err != nil {
		return fmt.Sprintf("unknown (%s: %v)", name, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}

// gitCommit is the short commit of HEAD and whether the working tree differs from it.
func gitCommit(root string) (string, bool) {
	commit := output(root, "git", "rev-parse", "--short=12", "HEAD")
	if strings.HasPrefix(commit, "unknown") {
		return "nocommit", false
	}
	c := exec.Command("git", "status", "--porcelain")
	c.Dir = root
	b, _ := c.Output()
	return commit, len(bytes.TrimSpace(b)) > 0
}
