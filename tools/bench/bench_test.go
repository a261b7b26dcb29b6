package main

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
		if s.Dir == "" || s.Pkg == "" || s.Bench == "" || s.BenchTime == "" || s.Timeout == "" || len(s.Want) == 0 {
			t.Errorf("scenario %s incomplete: %+v", s.Name, s)
		}
		for _, w := range s.Want {
			pattern, unit, ok := strings.Cut(w, " ")
			if _, err := regexp.Compile(pattern); err != nil || !ok || unit == "" || strings.Contains(unit, " ") {
				t.Errorf("scenario %s: Want %q is not \"<regexp> <unit>\" (%v)", s.Name, w, err)
			}
		}
		if _, err := os.Stat(filepath.Join("..", "..", s.Dir, s.Pkg)); err != nil {
			t.Errorf("scenario %s: %v", s.Name, err)
		}
	}
}

// A scenario fails when one of its Want figures is missing or a value is not finite, and the
// non-finite value is dropped so that the results file can still be written.
func TestMissingFigures(t *testing.T) {
	figs, err := parseFigures(sample)
	if err != nil {
		t.Fatal(err)
	}
	s := scenario{Want: []string{
		"CommandPath/MoveStage/sync=interval/clients=\\d+ evcrm/pg", // present
		"ConditionEval ns/op", // present
		"CommandPath/MoveStage/sync=always/clients=16 evcrm/pg", // absent
		"Condition ns/op", // a prefix only: the regexp must match the whole name
	}}
	if got := missingFigures(s, figs); !slices.Equal(got, []string{s.Want[2], s.Want[3]}) {
		t.Errorf("missing = %q", got)
	}
	nan := &Figure{Benchmark: "BenchmarkX", Unit: "a/b", Values: []float64{math.NaN(), 2, math.Inf(1), 4}}
	got := missingFigures(scenario{}, []*Figure{nan})
	if len(got) != 1 || !strings.Contains(got[0], "not a finite number") {
		t.Errorf("missing = %q", got)
	}
	if !slices.Equal(nan.Values, []float64{2, 4}) || nan.Median != 3 {
		t.Errorf("non-finite values kept: %+v", nan)
	}
}

// The analytics tables of BENCHMARKS.md: projection with both raw ClickHouse paths, freshness
// per rate, the rebuild and the five metrics; a skipped scenario is named; verifyOutputs
// accepts what writeRun and writeMarkdown wrote and refuses a Markdown without a scenario.
func TestAnalyticsMarkdownAndVerify(t *testing.T) {
	const out = `BenchmarkAnalytics/throughput-2 1 10 ns/op 20000 projector_events/s 100000 raw_jetstream_events/s 50000 raw_clickhouse_events/s 80000 raw_clickhouse_tsv_events/s 0.4 ratio_to_slower_raw 0.25 ratio_to_slower_raw_tsv
BenchmarkAnalytics/throughput-2 1 10 ns/op 22000 projector_events/s 100000 raw_jetstream_events/s 50000 raw_clickhouse_events/s 80000 raw_clickhouse_tsv_events/s 0.44 ratio_to_slower_raw 0.27 ratio_to_slower_raw_tsv
BenchmarkAnalytics/postgres-2 1 10 ns/op 2.5 funnel_pg/ch_p50 100 funnel_ch_p50_ms 250 funnel_pg_p50_ms 3.1 pg_load_s
BenchmarkAnalytics/freshness/rate=1000-2 1 10 ns/op 1000 appended_events/s 300 p50_ms 700 p99_ms
BenchmarkAnalytics/freshness/rate=20000-2 1 10 ns/op 12000 appended_events/s 900 p50_ms 2500 p99_ms
BenchmarkAnalytics/rebuild-2 1 10 ns/op 1000000 rebuild_events 40 rebuild_s 25000 rebuild_events/s
`
	figs, err := parseFigures(out)
	if err != nil {
		t.Fatal(err)
	}
	r := &Run{Commit: "abc", Count: 2, Machine: Machine{Cores: 2}, Scenarios: []*ScenarioResult{
		{Name: "analytics", Title: "Analytics at 1M", Command: "go test", Figures: figs},
		{Name: "analytics-10m", Title: "Analytics at 10M", Skipped: "full run only: bigger"}}}
	dir := t.TempDir()
	js, md := filepath.Join(dir, "r.json"), filepath.Join(dir, "B.md")
	if err := writeRun(js, r); err != nil {
		t.Fatal(err)
	}
	if err := writeMarkdown(md, r, "r.json"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(md)
	for _, want := range []string{
		"| 21,000 (20,000–22,000) | 100,000 | 50,000 | 80,000 | **0.42 (0.4–0.44)** | **0.26 (0.25–0.27)** |",
		"| 1,000 | 1,000 | 300 | 700 |", "| 20,000 | 12,000 | 900 | 2,500 |",
		"1,000,000 events in **40.0 s**, 25,000 events/s",
		"| funnel | 100 | – | 250 | – | **2.5** |", "PostgreSQL loaded in 3.1 s",
		"### Analytics at 10M\n\nNot run: full run only: bigger.",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b)
		}
	}
	if err := verifyOutputs(js, md, r); err != nil {
		t.Errorf("verifyOutputs: %v", err)
	}
	if err := os.WriteFile(md, []byte(strings.ReplaceAll(string(b), "### Analytics at 10M", "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := verifyOutputs(js, md, r); err == nil || !strings.Contains(err.Error(), "analytics-10m") {
		t.Errorf("verifyOutputs of a Markdown without a scenario: %v", err)
	}
}

func TestResumable(t *testing.T) {
	base := Run{Commit: "abc", Count: 3}
	if err := resumable(&base, &base); err != nil {
		t.Fatalf("same run refused: %v", err)
	}
	for name, change := range map[string]func(*Run){
		"commit": func(r *Run) { r.Commit = "def" },
		"dirty":  func(r *Run) { r.Dirty = true },
		"quick":  func(r *Run) { r.Quick = true },
		"count":  func(r *Run) { r.Count = 5 },
	} {
		cur := base
		change(&cur)
		if err := resumable(&base, &cur); err == nil {
			t.Errorf("%s: a checkpoint of another %s was accepted", name, name)
		}
	}
}

func TestNotRun(t *testing.T) {
	r := &Run{}
	for _, s := range scenarios[1:] {
		r.Scenarios = append(r.Scenarios, &ScenarioResult{Name: s.Name})
	}
	if got := notRun(r); !slices.Equal(got, []string{"`" + scenarios[0].Name + "`"}) {
		t.Errorf("notRun = %v, want only the first scenario", got)
	}
	r.Scenarios = append(r.Scenarios, &ScenarioResult{Name: scenarios[0].Name, Skipped: "full run only"})
	if got := notRun(r); len(got) != 0 {
		t.Errorf("a complete run (skipped ones included) lacks %v", got)
	}
}
