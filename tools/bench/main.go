// Command bench is the harness behind `make bench` and `make bench-quick`: it runs every
// benchmark of the workspace (scenarios.go) with `go test -bench -json`, one package at a
// time, collects every reported figure of every repetition, and writes
// bench/results/<date>-<commit>.json and BENCHMARKS.md (medians, spreads, headline ratios).
// The benchmarks start their own NATS (in process), ClickHouse and PostgreSQL; see
// docs/benchmarks.md.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
	count   int
	only    string
	root    string
	out     string
	md      string
	list    bool
	fromRun string
}

func newCommand() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run every benchmark of the workspace and write bench/results/<date>-<commit>.json and BENCHMARKS.md",
		Long: "bench runs every scenario (go test -bench -json per package) --count times, then writes the results\n" +
			"and regenerates BENCHMARKS.md from them. --quick runs each scenario at a tiny size, once, and writes\n" +
			"into bench/tmp/quick instead (a check that the harness and every benchmark still work; no figure in\n" +
			"it means anything).",
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.quick, "quick", false, "tiny sizes, one repetition, output under bench/tmp/quick")
	f.IntVar(&o.count, "count", 5, "repetitions of every benchmark (-count); --quick sets 1 unless given")
	f.StringVar(&o.only, "only", "", "run only the scenarios whose name matches this regular expression")
	f.StringVar(&o.root, "root", "", "repository root (default: the directory holding go.work, found upwards)")
	f.StringVar(&o.out, "out", "", "results directory (default bench/results, or bench/tmp/quick with --quick)")
	f.StringVar(&o.md, "markdown", "", "Markdown file to regenerate (default BENCHMARKS.md, or bench/tmp/quick/BENCHMARKS.md with --quick)")
	f.BoolVar(&o.list, "list", false, "list the scenarios and exit")
	f.StringVar(&o.fromRun, "render", "", "do not run: regenerate the Markdown from this results JSON file")
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
	var failed []string
	for _, s := range scenarios {
		if only != nil && !only.MatchString(s.Name) {
			continue
		}
		res := runScenario(cmd.Context(), stderr, root, s, o.quick, o.count)
		r.Scenarios = append(r.Scenarios, res)
		if res.Error != "" {
			failed = append(failed, s.Name)
		}
	}
	r.Elapsed = time.Since(started).Round(time.Second).String()

	name := fmt.Sprintf("%s-%s.json", started.UTC().Format("2006-01-02"), r.Commit)
	path := filepath.Join(o.out, name)
	if err := writeRun(path, r); err != nil {
		return err
	}
	if err := writeMarkdown(o.md, r, relTo(root, path)); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: %d scenarios in %s; wrote %s and %s\n", len(r.Scenarios), r.Elapsed, relTo(root, path), relTo(root, o.md))
	if len(failed) > 0 {
		return fmt.Errorf("bench: failed scenarios: %v", failed)
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
