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
	// BenchTime and QuickBenchTime are -benchtime of the full and of the quick run.
	BenchTime, QuickBenchTime string
	// Timeout is the full run's -timeout (a quick run uses 10m).
	Timeout string
	// Env and QuickEnv are the sizes the benchmark reads from the environment in the full and
	// the quick run; a variable set in the harness's own environment wins over both (the
	// Makefile's `make bench LEADS_BENCH_LEADS=...` passes its variables on that way).
	Env, QuickEnv map[string]string
}

// scenarios are every benchmark of the workspace, in the order they run (docs/benchmarks.md
// describes each). The command-path scenarios come first: they are the headline.
var scenarios = []scenario{
	{Name: "leads-command-path", Title: "Command path: CreateLead (leads) vs raw JetStream vs PostgreSQL",
		Dir: "services/leads", Pkg: "./internal/service/", Bench: "^BenchmarkCommandPath$",
		BenchTime: "4000x", QuickBenchTime: "64x", Timeout: "30m"},
	{Name: "pipeline-command-path", Title: "Command path: MoveStage (pipeline) vs raw JetStream vs PostgreSQL",
		Dir: "services/pipeline", Pkg: "./internal/service/", Bench: "^BenchmarkCommandPath$",
		BenchTime: "4000x", QuickBenchTime: "64x", Timeout: "30m"},
	{Name: "campaign-command-path", Title: "Command path: RecordResponse (campaign) vs raw JetStream vs PostgreSQL",
		Dir: "services/campaign", Pkg: "./internal/service/", Bench: "^BenchmarkCommandPath$",
		BenchTime: "4000x", QuickBenchTime: "64x", Timeout: "30m"},
	{Name: "pipeline-history", Title: "Scale with history: MoveStage on an opportunity with 10,000 prior events vs a fresh one",
		Dir: "services/pipeline", Pkg: "./internal/service/", Bench: "^BenchmarkMoveStageHistory$",
		BenchTime: "1000x", QuickBenchTime: "20x", Timeout: "30m",
		Env: map[string]string{"PIPELINE_BENCH_HISTORY": "10000"}, QuickEnv: map[string]string{"PIPELINE_BENCH_HISTORY": "200"}},
	{Name: "eventstore", Title: "Event store (libs/eventstore): append vs raw publish, server checks, multi-event commands",
		Dir: "libs", Pkg: "./eventstore/", Bench: "^Benchmark(AppendVsRawPublish|ServerCheckCost|BatchAppend)$",
		BenchTime: "8000x", QuickBenchTime: "8x", Timeout: "60m"},
	// Load10k's cold load folds 10,000 events per iteration (≈ 120 ms): fewer iterations.
	{Name: "eventstore-load", Title: "Event store (libs/eventstore): loading an aggregate with 10,000 events",
		Dir: "libs", Pkg: "./eventstore/", Bench: "^BenchmarkLoad10k$", BenchTime: "200x", QuickBenchTime: "3x", Timeout: "30m"},
	{Name: "leads-create-lead", Title: "CreateLead vs raw publish, 64 clients (leads)",
		Dir: "services/leads", Pkg: "./internal/service/", Bench: "^BenchmarkCreateLeadVsRawPublish$",
		BenchTime: "8000x", QuickBenchTime: "64x", Timeout: "30m"},
	{Name: "leads-import", Title: "CSV import (leads)",
		Dir: "services/leads", Pkg: "./internal/service/", Bench: "^BenchmarkImport100k$",
		BenchTime: "1x", QuickBenchTime: "1x", Timeout: "10m", QuickEnv: map[string]string{"LEADS_IMPORT_BENCH_ROWS": "500"}},
	{Name: "leads-campaign-reaction", Title: "Campaign responses reaching lead engagement (leads)",
		Dir: "services/leads", Pkg: "./internal/service/", Bench: "^BenchmarkCampaignResponseReaction$",
		BenchTime: "2000x", QuickBenchTime: "10x", Timeout: "20m"},
	{Name: "leads-read-model", Title: "Leads read model: lists and searches",
		Dir: "services/leads", Pkg: "./internal/adapters/readmodel/", Bench: "ReadModel",
		BenchTime: "1000x", QuickBenchTime: "20x", Timeout: "2h",
		Env: map[string]string{"LEADS_BENCH_LEADS": "1000000"}, QuickEnv: map[string]string{"LEADS_BENCH_LEADS": "2000"}},
	{Name: "leads-rebuild", Title: "Leads read model rebuild from the stream",
		Dir: "services/leads", Pkg: "./internal/adapters/leadview/", Bench: "Rebuild",
		BenchTime: "1x", QuickBenchTime: "1x", Timeout: "2h",
		Env: map[string]string{"LEADS_BENCH_LEADS": "1000000"}, QuickEnv: map[string]string{"LEADS_BENCH_LEADS": "2000"}},
	{Name: "pipeline-move-stage", Title: "MoveStage vs raw publish, 64 clients (pipeline)",
		Dir: "services/pipeline", Pkg: "./internal/service/", Bench: "^BenchmarkMoveStageVsRawPublish$",
		BenchTime: "8000x", QuickBenchTime: "64x", Timeout: "30m"},
	{Name: "pipeline-forecast", Title: "Pipeline read model: forecast and lists",
		Dir: "services/pipeline", Pkg: "./internal/adapters/readmodel/", Bench: "Forecast",
		BenchTime: "200x", QuickBenchTime: "5x", Timeout: "2h",
		Env: map[string]string{"PIPELINE_BENCH_OPPS": "200000"}, QuickEnv: map[string]string{"PIPELINE_BENCH_OPPS": "500"}},
	{Name: "campaign-record-responses", Title: "Bulk RecordResponses vs raw async publish (campaign)",
		Dir: "services/campaign", Pkg: "./internal/service/", Bench: "^BenchmarkRecordResponses$",
		BenchTime: "100000x", QuickBenchTime: "2000x", Timeout: "20m", QuickEnv: map[string]string{"CAMPAIGN_BENCH_MEMBERS": "500"}},
	{Name: "campaign-enroll", Title: "EnrollSegment (campaign)",
		Dir: "services/campaign", Pkg: "./internal/service/", Bench: "^BenchmarkEnrollSegment100k$",
		BenchTime: "1x", QuickBenchTime: "1x", Timeout: "40m", QuickEnv: map[string]string{"CAMPAIGN_ENROLL_BENCH_ROWS": "300"}},
	{Name: "campaign-rules", Title: "Rule latency (campaign)",
		Dir: "services/campaign", Pkg: "./internal/service/", Bench: "^BenchmarkRuleLatency$",
		BenchTime: "500x", QuickBenchTime: "5x", Timeout: "10m"},
	{Name: "campaign-condition", Title: "Rule condition evaluation (campaign)",
		Dir: "services/campaign", Pkg: "./internal/domain/rule/", Bench: "ConditionEval",
		BenchTime: "8000x", QuickBenchTime: "100x", Timeout: "10m"},
	// Bench "Analytics" runs every part of BenchmarkAnalytics, the "postgres" comparison too.
	{Name: "analytics", Title: "Analytics: projection, freshness, queries (ClickHouse), the five metrics vs PostgreSQL",
		Dir: "services/analytics", Pkg: "./internal/service/", Bench: "Analytics",
		BenchTime: "1x", QuickBenchTime: "1x", Timeout: "3h",
		Env: map[string]string{"ANALYTICS_BENCH_EVENTS": "1000000", "ANALYTICS_BENCH_RATE": "5000"},
		QuickEnv: map[string]string{"ANALYTICS_BENCH_EVENTS": "2000", "ANALYTICS_BENCH_RATE": "500",
			"ANALYTICS_BENCH_SECONDS": "1", "ANALYTICS_BENCH_QUERIES": "3"}},
}
