# evcrm — build, generate, lint, test and benchmark the whole workspace.
# `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

# Every Go module of the workspace (go.work). A module that only pins tools has no packages and
# is skipped by vet and test.
MODULES := $(shell go list -m -f '{{.Dir}}' 2>/dev/null)
GO_TEST_FLAGS ?= -race -count=1 -timeout 20m
# Go files we own (generated code is checked by checkgenerate instead).
GOFILES = $(shell git ls-files --cached --others --exclude-standard '*.go' | grep -v '^libs/gen/')

APT_GET := $(shell command -v apt-get 2>/dev/null)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: generate
generate: ## Generate Go code (libs/gen: messages, gRPC, REST gateway) and the OpenAPI document (libs/openapi/gen) from proto/
	go tool buf generate

.PHONY: checkgenerate
checkgenerate: generate ## Fail when the committed generated code is stale
	@if [ -n "$$(git status --porcelain -- libs/gen libs/openapi/gen)" ]; then \
		echo "libs/gen or libs/openapi/gen is stale: run 'make generate' and commit the result"; \
		git status --porcelain -- libs/gen libs/openapi/gen; exit 1; fi

# What `make breaking` compares proto/ against: main as committed (a branch compares with main,
# main compares its working tree with its last commit).
BREAKING_AGAINST ?= .git\#branch=main

.PHONY: breaking
breaking: ## Fail when proto/ breaks wire or source compatibility with main (buf breaking, FILE)
	@if git rev-parse --verify -q main >/dev/null; then go tool buf breaking --against '$(BREAKING_AGAINST)'; \
	else echo "no main branch to compare with; skipping buf breaking"; fi

.PHONY: lint
lint: breaking checkdashboard ## gofmt, go vet, go mod tidy, buf lint, buf format check, buf breaking, dashboard bundle up to date
	@out="$$(gofmt -l $(GOFILES))"; if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	for m in $(MODULES); do (cd $$m && if [ -n "$$(go list ./... 2>/dev/null)" ]; then go vet ./...; fi); done
	@# go.mod and go.sum of every module say exactly what its code imports.
	for m in $(MODULES); do (cd $$m && go mod tidy -diff) || { echo "$$m: run 'go mod tidy' there"; exit 1; }; done
	go tool buf lint
	go tool buf format --diff --exit-code

.PHONY: deps
deps: ## Install what the tests need and is missing (Debian's clickhouse-server and zookeeper, and chromium for the browser test)
	@if ! command -v clickhouse-server >/dev/null && ! command -v clickhouse >/dev/null; then \
		if [ -z "$(APT_GET)" ]; then \
			echo "ClickHouse is missing and apt-get is not available: install clickhouse-server (18.16+) by hand"; exit 1; fi; \
		echo "Installing Debian's clickhouse-server (the tests start it as a child process)..."; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null; \
	fi
	@command -v clickhouse-server >/dev/null && echo "clickhouse-server: $$(command -v clickhouse-server)" || true
	@# The clustered ClickHouse tests replicate through a throwaway ZooKeeper (Debian's 3.8, run
	@# with java by libs/testkit StartZooKeeper; skipped without it, failed under CI).
	@if [ ! -f /usr/share/java/zookeeper.jar ] && [ -z "$${EVCRM_ZOOKEEPER_JAR:-}" ] || ! command -v java >/dev/null; then \
		if [ -z "$(APT_GET)" ]; then \
			echo "ZooKeeper is missing and apt-get is not available: install Debian's zookeeper package (or set EVCRM_ZOOKEEPER_JAR)"; exit 1; fi; \
		echo "Installing Debian's zookeeper (the ClickHouse cluster tests start it as a child process)..."; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeper >/dev/null; \
	fi
	@# The benchmarks compare with PostgreSQL: a throwaway cluster from Debian's package (initdb/pg_ctl
	@# under /usr/lib/postgresql/*/bin, run as the package's postgres user when we are root).
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "$${EVCRM_PG_BIN:-}" ]; then \
		if [ -z "$(APT_GET)" ]; then \
			echo "PostgreSQL is missing and apt-get is not available: install the postgresql server (or set EVCRM_PG_BIN)"; exit 1; fi; \
		echo "Installing Debian's postgresql (the benchmarks start a throwaway cluster)..."; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@# The dashboard's browser test drives Debian's chromium headless (skipped without it, failed under CI).
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && [ -z "$${EVCRM_CHROMIUM:-}" ]; then \
		if [ -z "$(APT_GET)" ]; then \
			echo "chromium is missing and apt-get is not available: install Chromium by hand (or set EVCRM_CHROMIUM) for the dashboard's browser test"; \
		else \
			echo "Installing Debian's chromium (the dashboard's browser test runs it headless)..."; \
			$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
			$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
		fi; \
	fi

# --- current-ClickHouse check (tools/chcompat: chDB = ClickHouse 26.x inside an npm package) ---
CHCOMPAT_DIR := tools/chcompat
# Installed-stamp: rebuilt when node_modules is missing or package(-lock).json is newer.
CHCOMPAT_STAMP := $(CHCOMPAT_DIR)/node_modules/.evcrm-installed
# What `make chcompat` checks: space-separated dirs, each applied/run in the order given. By
# default the analytics service's migrations, its metric queries and the analysts' example
# queries of docs/analytics.md (`npm run selftest` in tools/chcompat checks the tool itself).
ANALYTICS_CH := services/analytics/internal/adapters
CHCOMPAT_MIGRATIONS ?= $(ANALYTICS_CH)/chschema/migrations
CHCOMPAT_QUERIES ?= $(ANALYTICS_CH)/chquery docs/analytics/examples
CHCOMPAT_PARAMS ?= $(ANALYTICS_CH)/chquery/testdata/params.json

.PHONY: node-deps
node-deps: ## Install Node.js and npm from Debian when node is missing (chcompat needs Node >= 18.17)
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
		if [ -z "$(APT_GET)" ]; then \
			echo "node/npm are missing and apt-get is not available: install Node.js >= 18.17 and npm by hand"; exit 1; fi; \
		echo "Installing Debian's nodejs and npm (for tools/chcompat)..."; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
	fi
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<18||(a===18&&b<17)) { console.error("tools/chcompat needs Node >= 18.17, found "+process.version); process.exit(1) }'

# npm install --no-save, not npm ci: chdb 3.4.0 lists optional packages for darwin and
# linux-arm64 that are not on the registry, and npm >= 11 `ci` refuses a lockfile without
# them (npm 9 and 10 accept it). With the lockfile present, install uses its exact versions
# and integrity hashes; --no-save leaves package.json and package-lock.json untouched.
$(CHCOMPAT_STAMP): $(CHCOMPAT_DIR)/package.json $(CHCOMPAT_DIR)/package-lock.json | node-deps
	cd $(CHCOMPAT_DIR) && npm install --no-audit --no-fund --no-save
	@touch $@

.PHONY: chcompat-deps
chcompat-deps: $(CHCOMPAT_STAMP) ## Install chDB into tools/chcompat/node_modules (~550 MB, git-ignored)

.PHONY: chcompat
chcompat: chcompat-deps ## Run the ClickHouse migrations and metric queries on ClickHouse 26.x (chDB)
	node $(CHCOMPAT_DIR)/check.mjs $(addprefix --migrations ,$(CHCOMPAT_MIGRATIONS)) \
		$(addprefix --queries ,$(CHCOMPAT_QUERIES)) $(if $(CHCOMPAT_PARAMS),--params $(CHCOMPAT_PARAMS))

# --- the analytics dashboard (services/analytics/web: ECharts + Vite; the bundle is committed in
# services/analytics/internal/ports/dashboard/dist and embedded in the analytics binary) ---
DASHBOARD_WEB := services/analytics/web
DASHBOARD_DIST := services/analytics/internal/ports/dashboard/dist
DASHBOARD_STAMP := $(DASHBOARD_WEB)/node_modules/.evcrm-installed

$(DASHBOARD_STAMP): $(DASHBOARD_WEB)/package.json $(DASHBOARD_WEB)/package-lock.json | node-deps
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)||(a===21)||(a===22&&b<12)) { console.error("the dashboard build (Vite 8) needs Node 20.19+ or 22.12+, found "+process.version); process.exit(1) }'
	cd $(DASHBOARD_WEB) && npm ci --no-audit --no-fund
	@touch $@

.PHONY: dashboard
dashboard: $(DASHBOARD_STAMP) ## Rebuild the dashboard bundle from services/analytics/web (commit the dist/ it writes)
	cd $(DASHBOARD_WEB) && npm run build

.PHONY: checkdashboard
checkdashboard: $(DASHBOARD_STAMP) ## Fail when the committed dashboard bundle is not what its sources build to
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	(cd $(DASHBOARD_WEB) && npx tsc --noEmit && npx vite build --outDir "$$tmp" --emptyOutDir --logLevel warn) && \
	if ! diff -r "$$tmp" $(DASHBOARD_DIST) >/dev/null; then \
		echo "$(DASHBOARD_DIST) is stale: run 'make dashboard' and commit the result"; diff -rq "$$tmp" $(DASHBOARD_DIST); exit 1; fi

.PHONY: test
test: deps ## Run every module's tests with -race against real NATS and ClickHouse 18.16, then chcompat (26.x)
	for m in $(MODULES); do (cd $$m && if [ -n "$$(go list ./... 2>/dev/null)" ]; then go test $(GO_TEST_FLAGS) ./...; fi); done
	$(MAKE) --no-print-directory chcompat

# Harness flags for `make bench` / `make bench-quick`, e.g. BENCH_ARGS='--only command-path'
# (`go run ./tools/bench --help`, `--list` lists the scenarios with their sizes). The sizes are
# the scenarios' own (tools/bench/scenarios.go: 1,000,000 leads and events, 10,000,000 events
# for the analytics queries and rebuild, ...); a size variable given to make, e.g.
# `make bench ANALYTICS_BENCH_EVENTS=300000`, reaches the harness's environment and wins.
BENCH_ARGS ?=
# Three repetitions (the scenarios that load 1,000,000 rows or more run once: tools/bench
# MaxCount). A full run takes hours on two cores; an interrupted one goes on with
# `make bench BENCH_ARGS='--resume bench/results/<date>-<commit>.partial.json'`.
BENCH_COUNT ?= 3

.PHONY: bench
bench: deps ## Run every benchmark BENCH_COUNT times (tools/bench): bench/results/<date>-<commit>.json and BENCHMARKS.md
	go run ./tools/bench --count $(BENCH_COUNT) $(BENCH_ARGS)

.PHONY: bench-quick
bench-quick: deps ## Run every benchmark once at a tiny size, with -race (checks the harness and every figure, asserts no speed; output in bench/tmp/quick)
	go run ./tools/bench --quick $(BENCH_ARGS)

# The soak (tools/soak, docs/operations.md): SOAK_RATE commands/s for SOAK_DURATION against the
# whole system started as `make run` does, e.g. `make soak SOAK_DURATION=2m SOAK_ARGS='-interval 10s'`.
SOAK_DURATION ?= 10m
SOAK_RATE ?= 100
SOAK_ARGS ?=

.PHONY: soak
soak: deps ## Run the system SOAK_DURATION at SOAK_RATE commands/s; fail when RSS, goroutines or projection lag grow after warm-up
	go run ./tools/soak -duration $(SOAK_DURATION) -rate $(SOAK_RATE) $(SOAK_ARGS)

# The fault tests (TestFault*) at soak size: 200,000 events through killed projectors, more
# restarts and cluster faults, a 30 s ClickHouse outage. For nightly runs; `make test` runs them short.
.PHONY: soak-faults
soak-faults: deps ## Run the fault tests (TestFault*) with their soak-sized load (EVCRM_SOAK=1)
	cd libs && EVCRM_SOAK=1 go test -count=1 -timeout 60m -run 'TestFault' -v ./eventstore
	cd services/leads && EVCRM_SOAK=1 go test -count=1 -timeout 60m -run 'TestFault' -v ./internal/service
	cd services/analytics && EVCRM_SOAK=1 go test -count=1 -timeout 60m -run 'TestFault' -v ./internal/service

# Flags for the launcher, e.g. `make run CRMDEV_FLAGS=--free-ports` (`.data/bin/crmdev run -h`
# lists them; each also reads EVCRM_<FLAG>).
CRMDEV_FLAGS ?=

.PHONY: run
run: ## Start NATS, ClickHouse and the four services with a year of demo data; Ctrl-C stops them
	@mkdir -p .data/bin
	go build -o .data/bin/crmdev ./tools/crmdev
	.data/bin/crmdev run $(CRMDEV_FLAGS)

.PHONY: crmctl
crmctl: ## Build the command-line client into bin/crmctl (docs/crmctl.md)
	go build -o bin/crmctl ./tools/crmctl

.PHONY: nats-auth
nats-auth: ## Rewrite deploy/nats/auth.conf and the NATS users of deploy/k8s/nats/values.yaml from libs/natsperm's permission table
	cd libs && go test ./natsperm -run TestDeployConfigMatchesTable -count=1 -update

.PHONY: clean
clean: ## Remove local state and caches of this workspace
	rm -rf .data bench/tmp
	go clean -testcache
