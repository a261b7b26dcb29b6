package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample is what `go test -bench -count 3` prints for a command-path benchmark (test2json's
// output events concatenated), with a sub-benchmark's name line printed apart from its result.
const sample = `goos: linux
goarch: amd64
pkg: example/svc
cpu: Test CPU
BenchmarkCommandPath/MoveStage/sync=interval/clients=16
BenchmarkCommandPath/MoveStage/sync=interval/clients=16-2         	     128	         0.40 evcrm/pg	         0.036 evcrm/raw	      1793 evcrm_ops/s	         4.5 evcrm_p50_ms	0 ns/op
BenchmarkCommandPath/MoveStage/sync=interval/clients=16-2         	     128	         0.50 evcrm/pg	         0.040 evcrm/raw	      2000 evcrm_ops/s	         4.0 evcrm_p50_ms	0 ns/op
BenchmarkCommandPath/MoveStage/sync=interval/clients=16-2         	     128	         0.30 evcrm/pg	         0.030 evcrm/raw	      1500 evcrm_ops/s	         5.0 evcrm_p50_ms	0 ns/op
BenchmarkConditionEval-2   	    8000	        96.0 ns/op	       0 B/op	       0 allocs/op
PASS
ok  	example/svc	52.370s
`

func TestParseFigures(t *testing.T) {
	figs, err := parseFigures(sample)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*Figure{}
	for _, f := range figs {
		got[f.Benchmark+" "+f.Unit] = f
	}
	ops := got["BenchmarkCommandPath/MoveStage/sync=interval/clients=16 evcrm_ops/s"]
	if ops == nil || len(ops.Values) != 3 || ops.Median != 1793 || ops.Min != 1500 || ops.Max != 2000 {
		t.Fatalf("evcrm_ops/s = %+v", ops)
	}
	if f := got["BenchmarkCommandPath/MoveStage/sync=interval/clients=16 ns/op"]; f != nil {
		t.Errorf("zero ns/op kept: %+v", f)
	}
	if f := got["BenchmarkConditionEval ns/op"]; f == nil || f.Median != 96 {
		t.Errorf("ConditionEval ns/op = %+v (want 96, not benchfmt's sec/op)", f)
	}
	if f := got["BenchmarkConditionEval allocs/op"]; f == nil || f.Median != 0 {
		t.Errorf("allocs/op = %+v", f)
	}
}

func TestQuantile(t *testing.T) {
	s := []float64{1, 2, 3, 4}
	for q, want := range map[float64]float64{0: 1, 0.5: 2.5, 0.25: 1.75, 1: 4} {
		if got := quantile(s, q); got != want {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
}

func TestWriteMarkdown(t *testing.T) {
	figs, err := parseFigures(sample)
	if err != nil {
		t.Fatal(err)
	}
	r := &Run{Commit: "abc", Count: 3, Machine: Machine{Cores: 2, PostgreSQL: "postgres (PostgreSQL) 15.18"},
		Scenarios: []*ScenarioResult{{Name: "x", Title: "Command path", Command: "go test", Figures: figs},
			{Name: "y", Title: "Broken", Command: "go test", Error: "exit status 1\nboom"}}}
	dir := t.TempDir()
	if err := writeRun(filepath.Join(dir, "r.json"), r); err != nil {
		t.Fatal(err)
	}
	back, err := readRun(filepath.Join(dir, "r.json"))
	if err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "B.md")
	if err := writeMarkdown(md, back, "r.json"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(md)
	for _, want := range []string{
		"| cores | 2 |", "| PostgreSQL | postgres (PostgreSQL) 15.18 |",
		"| MoveStage | interval | 16 | 1,793 | 4.5 / – / – |",
		"**0.4** (0.3–0.5)", // evcrm/pg median and spread
		"**Failed**: exit status 1",
		"| ConditionEval | ns/op | 96.0 | 96.0–96.0 |",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b)
		}
	}
}

func TestEveryScenarioComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range scenarios {
		if seen[s.Name] {
			t.Errorf("scenario %s twice", s.Name)
		}
		seen[s.Name] = true
		if s.Dir == "" || s.Pkg == "" || s.Bench == "" || s.BenchTime == "" || s.QuickBenchTime == "" || s.Timeout == "" {
			t.Errorf("scenario %s incomplete: %+v", s.Name, s)
		}
		if _, err := os.Stat(filepath.Join("..", "..", s.Dir, s.Pkg)); err != nil {
			t.Errorf("scenario %s: %v", s.Name, err)
		}
	}
}
