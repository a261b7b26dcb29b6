// Command bench is the harness behind `make bench` and `make bench-quick`: it runs every
// benchmark of the workspace (scenarios.go) with `go test -bench -json`, one package at a
// time, collects every reported figure of every repetition, and writes
// bench/results/<date>-<commit>.json and BENCHMARKS.md (medians, spreads, headline ratios).
// The benchmarks start their own NATS (in process), ClickHouse and PostgreSQL; see
// docs/benchmarks.md.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		os.Exit(1)
	}
}

type options struct {
	quick   bool
	race    bool
	jobs    int
	count   int
	only    string
	root    string
	out     string
	md      string
	list    bool
	fromRun string
	resume  string
}

func newCommand() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run every benchmark of the workspace and write bench/results/<date>-<commit>.json and BENCHMARKS.md",
		Long: "bench runs every scenario (go test -bench -json per package) --count times, then writes the results\n" +
			"and regenerates BENCHMARKS.md from them. --quick runs each scenario at a tiny size, once (-benchtime 1x,\n" +
			"no warm-up run), built with -race, and writes into bench/tmp/quick instead: a check that the harness and\n" +
			"every benchmark still work, which fails when a scenario fails or lacks one of its figures, or when the\n" +
			"results file or the Markdown is not written; no figure in it means anything.",
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.quick, "quick", false, "tiny sizes, one repetition, output under bench/tmp/quick")
	f.BoolVar(&o.race, "race", false, "build the benchmarks with -race (default with --quick: it reuses `make test`'s build cache, and a\n"+
		"race in a benchmark fails it; never for figures that mean something)")
	f.IntVar(&o.jobs, "jobs", 1, "scenarios run at the same time (default 3 with --quick, whose figures mean nothing anyway;\n"+
		"keep 1 for figures: scenarios running together slow each other down)")
	f.IntVar(&o.count, "count", 3, "repetitions of every benchmark (-count); --quick sets 1 unless given")
	f.StringVar(&o.only, "only", "", "run only the scenarios whose name matches this regular expression")
	f.StringVar(&o.root, "root", "", "repository root (default: the directory holding go.work, found upwards)")
	f.StringVar(&o.out, "out", "", "results directory (default bench/results, or bench/tmp/quick with --quick)")
	f.StringVar(&o.md, "markdown", "", "Markdown file to regenerate (default BENCHMARKS.md, or bench/tmp/quick/BENCHMARKS.md with --quick)")
	f.BoolVar(&o.list, "list", false, "list the scenarios and exit")
	f.StringVar(&o.fromRun, "render", "", "do not run: regenerate the Markdown from this results JSON file")
	f.StringVar(&o.resume, "resume", "", "go on with an interrupted run: this checkpoint (<out>/<date>-<commit>.partial.json, rewritten after\n"+
		"every scenario) keeps the scenarios that finished without error and runs the rest; it must be of the\n"+
		"same commit, with a clean tree, and the same --count and --quick")
	return cmd
}

func run(cmd *cobra.Command, o options) error {
	stderr := cmd.ErrOrStderr()
	if o.list {
		for _, s := range scenarios {
			fmt.Fprintf(cmd.OutOrStdout(), "%-28s %s (%s %s -bench %s)\n", s.Name, s.Title, s.Dir, s.Pkg, s.Bench)
		}
		return nil
	}
	root := o.root
	if root == "" {
		var err error
		if root, err = findRoot(); err != nil {
			return err
		}
	}
	if o.quick && !cmd.Flags().Changed("count") {
		o.count = 1
	}
	if o.quick && !cmd.Flags().Changed("race") {
		o.race = true
	}
	if o.quick && !cmd.Flags().Changed("jobs") {
		o.jobs = 3
	}
	o.jobs = max(o.jobs, 1)
	if o.out == "" {
		o.out = filepath.Join(root, "bench", "results")
		if o.quick {
			o.out = filepath.Join(root, "bench", "tmp", "quick")
		}
	}
	if o.md == "" {
		o.md = filepath.Join(root, "BENCHMARKS.md")
		if o.quick {
			o.md = filepath.Join(root, "bench", "tmp", "quick", "BENCHMARKS.md")
		}
	}
	if o.fromRun != "" {
		r, err := readRun(o.fromRun)
		if err != nil {
			return err
		}
		return writeMarkdown(o.md, r, relTo(root, o.fromRun))
	}
	var only *regexp.Regexp
	if o.only != "" {
		var err error
		if only, err = regexp.Compile(o.only); err != nil {
			return fmt.Errorf("--only: %w", err)
		}
	}

	started := time.Now()
	r := &Run{Started: started.UTC(), Quick: o.quick, Count: o.count, Machine: describeMachine(root)}
	r.Commit, r.Dirty = gitCommit(root)
	var before time.Duration // the elapsed time of the interrupted run --resume goes on with
	var done map[string]*ScenarioResult
	if o.resume != "" {
		prev, err := readRun(o.resume)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		if err := resumable(prev, r); err != nil {
			return fmt.Errorf("--resume %s: %w", o.resume, err)
		}
		before, _ = time.ParseDuration(prev.Elapsed)
		r.Started, r.Resumed = prev.Started, append(prev.Resumed, started.UTC())
		done = map[string]*ScenarioResult{}
		for _, s := range prev.Scenarios {
			if s != nil && s.Error == "" && s.Skipped == "" {
				done[s.Name] = s
			}
		}
	}
	name := fmt.Sprintf("%s-%s.json", r.Started.Format("2006-01-02"), r.Commit)
	path := filepath.Join(o.out, name)
	checkpoint := strings.TrimSuffix(path, ".json") + ".partial.json"
	log := &syncWriter{w: stderr}
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.jobs)
	var selected []scenario
	for _, s := range scenarios {
		if only == nil || only.MatchString(s.Name) {
			selected = append(selected, s)
		}
	}
	r.Scenarios = make([]*ScenarioResult, len(selected)) // in the scenarios' order, however they finish
	// finished records a scenario's result and rewrites the checkpoint, so that a run stopped
	// part-way (hours into a full run) loses only the scenario it was in: --resume goes on.
	var mu sync.Mutex
	finished := func(i int, res *ScenarioResult) {
		mu.Lock()
		defer mu.Unlock()
		r.Scenarios[i] = res
		if o.quick {
			return
		}
		snap := *r
		snap.Elapsed = (before + time.Since(started)).Round(time.Second).String()
		snap.Scenarios = slices.DeleteFunc(slices.Clone(r.Scenarios), func(s *ScenarioResult) bool { return s == nil })
		if err := writeRun(checkpoint, &snap); err != nil {
			fmt.Fprintf(log, "bench: checkpoint: %v\n", err)
		}
	}
	// Scenarios of one package run one after the other, never side by side: two `go test` of
	// a package whose build is not cached yet would each compile it, where the second one
	// otherwise finds it in the build cache.
	pkgLocks := map[string]*sync.Mutex{}
	for _, s := range selected {
		pkgLocks[s.Dir+" "+s.Pkg] = &sync.Mutex{}
	}
	for i, s := range selected {
		if o.quick && s.FullOnly != "" {
			finished(i, &ScenarioResult{Name: s.Name, Title: s.Title, Skipped: "full run only: " + s.FullOnly})
			fmt.Fprintf(log, "bench: %s: skipped in the quick run (%s)\n", s.Name, s.FullOnly)
			continue
		}
		if prev, ok := done[s.Name]; ok {
			finished(i, prev)
			fmt.Fprintf(log, "bench: %s: kept from %s (%s)\n", s.Name, o.resume, prev.Elapsed)
			continue
		}
		if o.jobs == 1 { // in the list's order
			finished(i, runScenario(cmd.Context(), log, root, s, o.quick, o.race, o.count))
			continue
		}
		wg.Go(func() {
			pkg := pkgLocks[s.Dir+" "+s.Pkg]
			pkg.Lock()
			defer pkg.Unlock()
			sem <- struct{}{}
			defer func() { <-sem }()
			finished(i, runScenario(cmd.Context(), log, root, s, o.quick, o.race, o.count))
		})
		time.Sleep(10 * time.Millisecond) // roughly the list's order among those ready
	}
	wg.Wait()
	var failed []string
	for _, res := range r.Scenarios {
		if res.Error != "" {
			failed = append(failed, res.Name)
		}
	}
	r.Elapsed = (before + time.Since(started)).Round(time.Second).String()

	if err := writeRun(path, r); err != nil {
		return err
	}
	if err := os.Remove(checkpoint); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := writeMarkdown(o.md, r, relTo(root, path)); err != nil {
		return err
	}
	if err := verifyOutputs(path, o.md, r); err != nil {
		return fmt.Errorf("bench: the harness's own output is wrong: %w", err)
	}
	fmt.Fprintf(stderr, "bench: %d scenarios in %s; wrote %s and %s\n", len(r.Scenarios), r.Elapsed, relTo(root, path), relTo(root, o.md))
	if len(failed) > 0 {
		return fmt.Errorf("bench: failed scenarios: %v", failed)
	}
	return nil
}

// syncWriter serializes the progress lines of scenarios running at the same time.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// verifyOutputs reads back what the run wrote: the results file must hold every scenario the
// run ran, each with figures unless it failed or was skipped, and the Markdown must show every
// scenario. This is what the quick run in CI proves, besides every benchmark passing.
func verifyOutputs(jsonPath, mdPath string, want *Run) error {
	got, err := readRun(jsonPath)
	if err != nil {
		return err
	}
	if len(got.Scenarios) != len(want.Scenarios) {
		return fmt.Errorf("%s holds %d scenarios, the run had %d", jsonPath, len(got.Scenarios), len(want.Scenarios))
	}
	md, err := os.ReadFile(mdPath)
	if err != nil {
		return err
	}
	for _, s := range got.Scenarios {
		if s.Error == "" && s.Skipped == "" && len(s.Figures) == 0 {
			return fmt.Errorf("%s: scenario %s has no figures and no error", jsonPath, s.Name)
		}
		if !bytes.Contains(md, []byte("### "+s.Title+"\n")) {
			return fmt.Errorf("%s does not show scenario %s", mdPath, s.Name)
		}
	}
	if got.Machine.Cores == 0 || !bytes.Contains(md, []byte(fmt.Sprintf("| cores | %d |", got.Machine.Cores))) {
		return fmt.Errorf("%s lacks the machine's core count", mdPath)
	}
	return nil
}

// findRoot walks up from the working directory to the directory holding go.work.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.work above the working directory: pass --root")
		}
		dir = parent
	}
}

func relTo(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil {
		return rel
	}
	return path
}

// resumable says whether the checkpoint prev can go on in the run cur is about to start: the
// figures of both parts must come from the same code and repetitions.
func resumable(prev, cur *Run) error {
	switch {
	case prev.Commit != cur.Commit:
		return fmt.Errorf("it is of commit %s, the tree is at %s", prev.Commit, cur.Commit)
	case prev.Dirty || cur.Dirty:
		return errors.New("a resumed run needs a clean tree in both parts (uncommitted changes cannot be compared)")
	case prev.Quick != cur.Quick:
		return fmt.Errorf("it is quick=%v, this run quick=%v", prev.Quick, cur.Quick)
	case prev.Count != cur.Count:
		return fmt.Errorf("it ran --count %d, this run --count %d", prev.Count, cur.Count)
	}
	return nil
}
