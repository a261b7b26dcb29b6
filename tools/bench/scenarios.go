package main

// scenario is one `go test -bench` invocation of the harness: one package, one benchmark
// pattern, with the full run's and the quick run's iterations and sizes.
type scenario struct {
	// Name identifies the scenario in the results and in --only.
	Name string
	// Title is the heading of its table in BENCHMARKS.md.
	Title string
	// Dir is the Go module (relative to the repository root) and Pkg the package in it.
	Dir, Pkg string
	// Bench is the -bench pattern.
	Bench string
	// BenchTime is -benchtime of the full run. A quick run uses 1x: one iteration, and no
	// warm-up run (with -benchtime Nx, N > 1, `go test` runs every benchmark once with b.N = 1
	// first, then with N, which is the full run's warm-up of every set-up).
	BenchTime string
	// Timeout is the full run's -timeout (a quick run uses 10m).
	Timeout string
	// MaxCount caps --count for this scenario (0: no cap), for a scenario too long to repeat as
	// often as the others.
	MaxCount int
	// ProcessPerRun runs each repetition as a `go test -count 1` process of its own, for a
	// benchmark whose parts share state they use up (BenchmarkAnalytics consumes the streams it
	// loaded: a second -count repetition in the same process found nothing left to consume and
	// waited for ever).
	ProcessPerRun bool
	// FullOnly, when set, says why the quick run leaves the scenario out (it is another
	// scenario's benchmark at a larger size: the quick run would run the same code again).
	FullOnly string
	// Want are the figures the scenario must report, each "<regexp> <unit>": some benchmark whose
	// name (without "Benchmark") matches the regexp entirely must report that unit with finite
	// values. A missing figure fails the scenario in every run, quick or full.
	Want []string
	// Env and QuickEnv are the sizes the benchmark reads from the environment in the full and
	// the quick run; a variable set in the harness's own environment wins over both (the
	// Makefile's `make bench LEADS_BENCH_LEADS=...` passes its variables on that way).
	Env, QuickEnv map[string]string
}

// scenarios are every benchmark of the workspace, in the order they run (docs/benchmarks.md
// describes each). The command-path scenarios come first: they are the headline. The scenarios
// that load 1,000,000 rows or more come last, so that an interrupted full run (--resume) has
// the most scenarios done.
var scenarios = []scenario{
	{Name: "leads-command-path", Title: "Command path: CreateLead (leads) vs raw JetStream vs PostgreSQL",
		Dir: "services/leads", Pkg: "./internal/service/", Bench: "^BenchmarkCommandPath$",
		BenchTime: "4000x", Timeout: "30m", QuickEnv: quickCommandPath, Want: commandPathWants("CreateLead")},
	{Name: "pipeline-command-path", Title: "Command path: MoveStage (pipeline) vs raw JetStream vs PostgreSQL",
		Dir: "services/pipeline", Pkg: "./internal/service/", Bench: "^BenchmarkCommandPath$",
		BenchTime: "4000x", Timeout: "30m", QuickEnv: quickCommandPath, Want: commandPathWants("MoveStage")},
	{Name: "campaign-command-path", Title: "Command path: RecordResponse (campaign) vs raw JetStream vs PostgreSQL",
		Dir: "services/campaign", Pkg: "./internal/service/", Bench: "^BenchmarkCommandPath$",
		BenchTime: "4000x", Timeout: "30m", QuickEnv: quickCommandPath, Want: commandPathWants("RecordResponse")},
	{Name: "pipeline-history", Title: "Scale with history: MoveStage on an opportunity with 10,000 prior events vs a fresh one",
		Dir: "services/pipeline", Pkg: "./internal/service/", Bench: "^BenchmarkMoveStageHistory$",
		BenchTime: "1000x", Timeout: "30m",
		Env: map[string]string{"PIPELINE_BENCH_HISTORY": "10000"}, QuickEnv: map[string]string{"PIPELINE_BENCH_HISTORY": "50"},
		Want: []string{"MoveStageHistory prior_events", "MoveStageHistory history/fresh", "MoveStageHistory history_cold_first_ms", "MoveStageHistory fresh_cold_first_ms"}},
	{Name: "eventstore", Title: "Event store (libs/eventstore): append vs raw publish, server checks, multi-event commands",
		Dir: "libs", Pkg: "./eventstore/", Bench: "^Benchmark(AppendVsRawPublish|ServerCheckCost|BatchAppend)$",
		BenchTime: "8000x", Timeout: "60m",
		Want: []string{"AppendVsRawPublish/sync=interval/writers=64 append/raw", "AppendVsRawPublish/sync=always/writers=64 append/raw",
			"ServerCheckCost id+seq/plain", "BatchAppend two/one"}},
	// Load10k's cold load folds 10,000 events per iteration (≈ 120 ms): fewer iterations.
	{Name: "eventstore-load", Title: "Event store (libs/eventstore): loading an aggregate with 10,000 events",
		Dir: "libs", Pkg: "./eventstore/", Bench: "^BenchmarkLoad10k$", BenchTime: "200x", Timeout: "30m",
		Want: []string{"Load10k/cold ns/op", "Load10k/cached-command ns/op"}},
	{Name: "leads-create-lead", Title: "CreateLead vs raw publish, 64 clients (leads)",
		Dir: "services/leads", Pkg: "./internal/service/", Bench: "^BenchmarkCreateLeadVsRawPublish$",
		BenchTime: "8000x", Timeout: "30m", Want: []string{"CreateLeadVsRawPublish/full create/raw"}},
	{Name: "leads-import", Title: "CSV import (leads)",
		Dir: "services/leads", Pkg: "./internal/service/", Bench: "^BenchmarkImport100k$",
		BenchTime: "1x", Timeout: "10m", QuickEnv: map[string]string{"LEADS_IMPORT_BENCH_ROWS": "500"},
		Want: []string{"Import100k rows/s", "Import100k import/raw"}},
	{Name: "leads-campaign-reaction", Title: "Campaign responses reaching lead engagement (leads)",
		Dir: "services/leads", Pkg: "./internal/service/", Bench: "^BenchmarkCampaignResponseReaction$",
		BenchTime: "2000x", Timeout: "20m", Want: []string{"CampaignResponseReaction responses/s"}},
	{Name: "pipeline-move-stage", Title: "MoveStage vs raw publish, 64 clients (pipeline)",
		Dir: "services/pipeline", Pkg: "./internal/service/", Bench: "^BenchmarkMoveStageVsRawPublish$",
		BenchTime: "8000x", Timeout: "30m", Want: []string{"MoveStageVsRawPublish move/raw"}},
	{Name: "campaign-record-responses", Title: "Bulk RecordResponses vs raw async publish (campaign)",
		Dir: "services/campaign", Pkg: "./internal/service/", Bench: "^BenchmarkRecordResponses$",
		BenchTime: "100000x", Timeout: "20m", QuickEnv: map[string]string{"CAMPAIGN_BENCH_MEMBERS": "500"},
		Want: []string{"RecordResponses responses/raw"}},
	{Name: "campaign-enroll", Title: "EnrollSegment (campaign)",
		Dir: "services/campaign", Pkg: "./internal/service/", Bench: "^BenchmarkEnrollSegment100k$",
		BenchTime: "1x", Timeout: "40m", QuickEnv: map[string]string{"CAMPAIGN_ENROLL_BENCH_ROWS": "300"},
		Want: []string{"EnrollSegment100k members/s"}},
	{Name: "campaign-rules", Title: "Rule latency (campaign)",
		Dir: "services/campaign", Pkg: "./internal/service/", Bench: "^BenchmarkRuleLatency$",
		BenchTime: "500x", Timeout: "10m", Want: []string{"RuleLatency p99-ms"}},
	{Name: "campaign-condition", Title: "Rule condition evaluation (campaign)",
		Dir: "services/campaign", Pkg: "./internal/domain/rule/", Bench: "ConditionEval",
		BenchTime: "8000x", Timeout: "10m", Want: []string{"ConditionEval ns/op"}},
	{Name: "leads-read-model", Title: "Leads read model: lists and searches",
		Dir: "services/leads", Pkg: "./internal/adapters/readmodel/", Bench: "ReadModel",
		BenchTime: "1000x", Timeout: "2h", MaxCount: 1,
		Env: map[string]string{"LEADS_BENCH_LEADS": "1000000"}, QuickEnv: map[string]string{"LEADS_BENCH_LEADS": "2000"},
		Want: []string{"ReadModel/Load rows/s", "ReadModel/List/.* p99-ms", "ReadModel/Search/.* p99-ms", "ReadModel/Memory/after-queries VmHWM-MiB"}},
	{Name: "leads-rebuild", Title: "Leads read model rebuild from the stream",
		Dir: "services/leads", Pkg: "./internal/adapters/leadview/", Bench: "Rebuild",
		BenchTime: "1x", Timeout: "2h", MaxCount: 1,
		Env: map[string]string{"LEADS_BENCH_LEADS": "1000000"}, QuickEnv: map[string]string{"LEADS_BENCH_LEADS": "2000"},
		Want: []string{"Rebuild/projector events/s"}},
	{Name: "leads-service", Title: "Leads service in its own process: read-model rebuild, ListLeads/SearchLeads over gRPC, service RSS",
		Dir: "services/leads", Pkg: "./cmd/leads/", Bench: "^BenchmarkServiceReadModel$",
		BenchTime: "1000x", Timeout: "2h", MaxCount: 1,
		Env: map[string]string{"LEADS_BENCH_LEADS": "1000000"}, QuickEnv: map[string]string{"LEADS_BENCH_LEADS": "2000"},
		Want: []string{"ServiceReadModel/Rebuild events/s", "ServiceReadModel/List/.* p99-ms", "ServiceReadModel/Search/.* p99-ms",
			"ServiceReadModel/Memory VmHWM-MiB", "ServiceReadModel/Memory VmRSS-MiB"}},
	{Name: "pipeline-forecast", Title: "Pipeline read model: forecast and lists",
		Dir: "services/pipeline", Pkg: "./internal/adapters/readmodel/", Bench: "Forecast",
		BenchTime: "200x", Timeout: "2h", MaxCount: 1,
		Env: map[string]string{"PIPELINE_BENCH_OPPS": "200000"}, QuickEnv: map[string]string{"PIPELINE_BENCH_OPPS": "500"},
		Want: []string{"Forecast/Load opps/s", "Forecast/Forecast/asof-6-months/.* p99-ms"}},
	// Bench "Analytics" runs every part of BenchmarkAnalytics, the "postgres" comparison too.
	{Name: "analytics", Title: "Analytics (1,000,000 events in the full run): projection, queries, the five metrics vs PostgreSQL, freshness, rebuild",
		Dir: "services/analytics", Pkg: "./internal/service/", Bench: "Analytics",
		BenchTime: "1x", Timeout: "3h", ProcessPerRun: true,
		Env: map[string]string{"ANALYTICS_BENCH_EVENTS": "1000000", "ANALYTICS_BENCH_RATE": "1000,5000,20000"},
		QuickEnv: map[string]string{"ANALYTICS_BENCH_EVENTS": "2000", "ANALYTICS_BENCH_RATE": "200,500,1000",
			"ANALYTICS_BENCH_SECONDS": "1", "ANALYTICS_BENCH_QUERIES": "3"},
		Want: append([]string{
			"Analytics/throughput projector_events/s", "Analytics/throughput raw_jetstream_events/s",
			"Analytics/throughput raw_clickhouse_events/s", "Analytics/throughput raw_clickhouse_tsv_events/s",
			"Analytics/throughput ratio_to_slower_raw", "Analytics/throughput ratio_to_slower_raw_tsv",
			"Analytics/queries funnel_p50_ms", "Analytics/queries sales_velocity_p50_ms",
			"Analytics/freshness/rate=\\d+ p99_ms", "Analytics/freshness/rate=\\d+ appended_events/s",
			"Analytics/rebuild rebuild_s", "Analytics/rebuild rebuild_events/s",
		}, pgWants...)},
	// The 10,000,000 events: queries on both engines and the full rebuild. Loading and
	// projecting 10M events takes most of an hour on two cores, so one repetition.
	{Name: "analytics-10m", Title: "Analytics (10,000,000 events, full run only): queries, the five metrics vs PostgreSQL, rebuild",
		Dir: "services/analytics", Pkg: "./internal/service/", Bench: "Analytics/(queries|postgres|rebuild)$",
		BenchTime: "1x", Timeout: "6h", MaxCount: 1, ProcessPerRun: true,
		FullOnly: "the analytics scenario's benchmark at 10,000,000 events",
		Env:      map[string]string{"ANALYTICS_BENCH_EVENTS": "10000000", "ANALYTICS_BENCH_QUERIES": "20"},
		Want:     append([]string{"Analytics/queries funnel_p50_ms", "Analytics/rebuild rebuild_s", "Analytics/rebuild rebuild_events/s"}, pgWants...)},
}

// pgWants are the figures of BenchmarkAnalytics/postgres: each metric's speed-up of ClickHouse
// over PostgreSQL (the benchmark fails before reporting when the two answers differ).
var pgWants = []string{
	"Analytics/postgres funnel_pg/ch_p50", "Analytics/postgres stage_metrics_pg/ch_p50",
	"Analytics/postgres sales_velocity_pg/ch_p50", "Analytics/postgres forecast_pg/ch_p50",
	"Analytics/postgres campaign_performance_pg/ch_p50", "Analytics/postgres pg_load_s",
}

// quickCommandPath runs the command-path scenarios of the quick run at one concurrency of 4
// clients (libs/benchkit: every concurrency runs the same code; the full run has 1, 16 and 64).
var quickCommandPath = map[string]string{"BENCH_COMMAND_CLIENTS": "4"}

// commandPathWants are the figures of a command-path scenario, in both fsync modes (at every
// concurrency the run has: the quick run has one).
func commandPathWants(command string) []string {
	var out []string
	for _, sync := range []string{"interval", "always"} {
		name := "CommandPath/" + command + "/sync=" + sync + "/clients=\\d+"
		out = append(out, name+" evcrm/raw", name+" evcrm/pg", name+" evcrm_p99_ms")
	}
	return out
}
