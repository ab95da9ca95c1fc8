# Two commands matter: `make run` (the main job, no setup) and `make test`.
GO       ?= go
FUZZTIME ?= 30s
BENCHTIME ?= 2s

KUBE_SCORE ?= $(GO) run github.com/zegl/kube-score/cmd/kube-score@v1.20.0
ACTIONLINT ?= $(GO) run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

# The CI load gate (.github/workflows/gate.yml, .gitlab-ci.yml): the scenario,
# where the run goes, and the baseline a CI cache or artifact restores.
LOAD_SCENARIO ?= smoke
LOAD_OUT      ?= out/load
LOAD_BASELINE ?= baseline
LOAD_FLAGS    ?=
LOAD_HARNESS  ?= ./bin/harness
DRY_BASELINE  ?=
CALIBRATE_RUNS   ?= 10
CALIBRATE_SLOWER ?= mongo=200us

.PHONY: help run check build api test vet lint lint-k8s lint-ci ci-load ci-reports ci-baseline ci-gate ci-dry-run ci-calibrate bench bench-engine bench-soak fuzz tidy clean dashboards dashboards-verify alerts

## run: embedded stores, two API instances, seed, contract smoke, the smoke scenario; reports in out/latest/
run: build
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		echo "make run: PostgreSQL is not installed, so FerretDB runs on SQLite (fine for this smoke run, slow under load); for the faster backend: $$( [ "$$(id -u)" = 0 ] || echo "sudo ")apt-get install postgresql"
	./bin/harness run -provider embedded -api-bin ./bin/taskapi

## check: the readiness checks against an embedded environment (production settings, served over HTTPS), with a backup first; reports in out/readiness/
check: build
	./bin/harness check -provider embedded -api-bin ./bin/taskapi -tls \
		-backup-dir out/backups -backup-first -out out/readiness

## ci-load: the CI job's load run: LOAD_SCENARIO on the embedded environment into LOAD_OUT, compared with LOAD_BASELINE when it holds a run; the exit code goes to LOAD_OUT/exit-code for ci-gate, so the reports are published whatever it is
ci-load: build
	$(if $(LOAD_OUT),,$(error LOAD_OUT is empty))
	@mkdir -p $(LOAD_OUT) && rm -f $(LOAD_OUT)/exit-code
	@if [ -f "$(LOAD_BASELINE)/summary.json" ]; then base="$(LOAD_BASELINE)"; \
	else base=; echo "ci-load: no baseline in $(LOAD_BASELINE)/: this run is compared with nothing"; fi; \
	code=0; $(LOAD_HARNESS) run -provider embedded -api-bin ./bin/taskapi -scenario $(LOAD_SCENARIO) -out $(LOAD_OUT) $${base:+-baseline "$$base"} $(LOAD_FLAGS) || code=$$?; \
	echo $$code > $(LOAD_OUT)/exit-code

## ci-reports: what CI systems read of LOAD_OUT's run: comment.md (the pull-request comment, comparison first) and load-performance.json (GitLab's load_performance report)
ci-reports:
	@if [ -f $(LOAD_OUT)/summary.json ]; then \
	  $(LOAD_HARNESS) report -format comment -o $(LOAD_OUT)/comment.md $(LOAD_OUT) && \
	  $(LOAD_HARNESS) report -format load-performance -o $(LOAD_OUT)/load-performance.json $(LOAD_OUT); \
	else echo "ci-reports: $(LOAD_OUT) holds no summary.json: the run failed before its end (ci-gate says how)"; fi

## ci-baseline: keep LOAD_OUT's run as the compact baseline LOAD_BASELINE (summary.json and histograms/run.json, about 100 KB for tour or gate) when it passed (exit 0): a run that crossed a threshold, regressed, was invalid or stopped is no baseline
ci-baseline:
	$(if $(LOAD_BASELINE),,$(error LOAD_BASELINE is empty))
	@code=$$(cat $(LOAD_OUT)/exit-code 2>/dev/null); if [ "$$code" = 0 ]; then \
	  rm -rf $(LOAD_BASELINE) && mkdir -p $(LOAD_BASELINE)/histograms && \
	  cp $(LOAD_OUT)/summary.json $(LOAD_BASELINE)/ && cp $(LOAD_OUT)/histograms/run.json $(LOAD_BASELINE)/histograms/ && \
	  echo "ci-baseline: $(LOAD_BASELINE)/ holds the run of $(LOAD_OUT) ($$(( $$(cat $(LOAD_BASELINE)/summary.json $(LOAD_BASELINE)/histograms/run.json | wc -c) / 1024 )) KB)"; \
	else echo "ci-baseline: the run in $(LOAD_OUT) exited $${code:-before its end}: not kept as a baseline"; fi

## ci-gate: end the CI job with the load run's exit code and one message for it (on GitHub an ::error:: annotation)
ci-gate:
	@code=$$(cat $(LOAD_OUT)/exit-code 2>/dev/null || echo 1); case "$$code" in \
	  0) title="load gate passed"; msg="every threshold held, and no regression against the baseline";; \
	  99) title="Load gate: threshold crossed (exit 99)"; msg="a threshold or recovery budget of $(LOAD_SCENARIO) was crossed: report.md names it";; \
	  100) title="Load gate: regression (exit 100)"; msg="slower or failing more than the baseline, beyond its run-to-run noise: see the comparison table";; \
	  101) title="Load gate: invalid run (exit 101)"; msg="the load generator could not keep up (dropped iterations, send lag or CPU), so the numbers describe the runner, not the change: run the job again";; \
	  105) title="Load gate: interrupted (exit 105)"; msg="the run was stopped before its end, and nothing was judged";; \
	  *) title="Load gate: the run failed (exit $$code)"; msg="the environment, the scenario or the baseline was refused before a verdict: the load run's log says why";; \
	esac; \
	if [ "$$code" != 0 ] && [ "$$GITHUB_ACTIONS" = true ]; then echo "::error title=$$title::$$msg"; else echo "$$title: $$msg"; fi; \
	exit $$code

## ci-calibrate: measure the gate's noise on this runner: CALIBRATE_RUNS pairs of LOAD_SCENARIO runs of one build (A/A) and against one slowed by CALIBRATE_SLOWER (A/B), each on a new embedded environment, into LOAD_OUT/calibration.json for run -calibration (gate: about 17 minutes for 10)
ci-calibrate: build
	$(LOAD_HARNESS) calibrate -provider embedded -api-bin ./bin/taskapi -scenario $(LOAD_SCENARIO) -runs $(CALIBRATE_RUNS) \
	  $(if $(CALIBRATE_SLOWER),-b-link-latency $(CALIBRATE_SLOWER)) -runs-dir $(LOAD_OUT)/calibration-runs -out $(LOAD_OUT)/calibration.json

## ci-dry-run: the pull-request job of .github/workflows/gate.yml on this machine, the baseline fetch replaced by DRY_BASELINE (else a run made first, as the main branch's job makes it); prints the comment body (smoke: under a minute)
ci-dry-run: build
	@rm -rf out/ci-dry-run; base="$(DRY_BASELINE)"; if [ -z "$$base" ]; then \
	  echo "ci-dry-run: the main branch's job: a run kept as the baseline"; \
	  $(MAKE) --no-print-directory ci-load LOAD_OUT=out/ci-dry-run/main LOAD_BASELINE=out/ci-dry-run/none && \
	  $(MAKE) --no-print-directory ci-baseline LOAD_OUT=out/ci-dry-run/main LOAD_BASELINE=out/ci-dry-run/baseline || exit 1; \
	  base=out/ci-dry-run/baseline; fi; \
	echo "ci-dry-run: the pull request's job, the baseline fetched: $$base/"; \
	$(MAKE) --no-print-directory ci-load LOAD_OUT=out/ci-dry-run/pr LOAD_BASELINE=$$base && \
	$(MAKE) --no-print-directory ci-reports LOAD_OUT=out/ci-dry-run/pr && \
	echo "---- the comment body (out/ci-dry-run/pr/comment.md) ----" && cat out/ci-dry-run/pr/comment.md && echo "----" && \
	$(MAKE) --no-print-directory ci-gate LOAD_OUT=out/ci-dry-run/pr

## dashboards: write the Grafana dashboards the code in dashboards/ builds (commit the JSON)
dashboards:
	$(GO) run ./cmd/harness dashboards generate -dir dashboards

## dashboards-verify: a real Prometheus scrapes a short run and the blackbox and Redis exporters; every panel of every dashboard must show data (the MongoDB exporter's are excluded); installs them if missing
dashboards-verify: build
	@command -v prometheus >/dev/null && command -v prometheus-blackbox-exporter >/dev/null && command -v prometheus-redis-exporter >/dev/null || \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y prometheus prometheus-blackbox-exporter prometheus-redis-exporter
	./bin/harness dashboards verify -provider embedded -api-bin ./bin/taskapi

## alerts: write the Prometheus alerting rules from the load scenario's budgets into deploy/prometheus/alerts.yml (commit it)
alerts:
	$(GO) run ./cmd/harness alerts generate -scenario load -o deploy/prometheus/alerts.yml

## build: compile the API and the harness into bin/
build:
	$(GO) build -buildvcs=auto -o bin/taskapi ./cmd/taskapi
	$(GO) build -buildvcs=auto -o bin/harness ./cmd/harness

## api: serve the API on 127.0.0.1:5000 with embedded stores (Ctrl-C to stop; HOST=0.0.0.0 for every interface)
api:
	$(GO) run ./cmd/taskapi

## test: vet and run every test (real FerretDB on PostgreSQL and SQLite, redis-server, race detector on)
test: vet
	$(GO) test -race -count=1 -timeout 40m ./...
	@# the raw system calls (internal/rawio) are built only without -race
	$(GO) test -count=1 ./internal/rawio ./internal/clock ./loadtest/transport ./loadtest/journey

vet:
	$(GO) vet ./...

## lint: gofmt and go vet over the module, then every kube-score finding (lint-k8s) and actionlint over the workflows (lint-ci)
lint: vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './out/*')); \
	  [ -z "$$unformatted" ] || { echo "lint: these files need gofmt -w:"; echo "$$unformatted"; exit 1; }
	@$(MAKE) --no-print-directory lint-k8s
	@$(MAKE) --no-print-directory lint-ci

## lint-k8s: kube-score over deploy/k8s and a rendered distributed run (the tests assert no critical finding; this shows every finding)
lint-k8s:
	$(KUBE_SCORE) score --kubernetes-version v1.30 $$(sed -n 's|^  - |deploy/k8s/|p' deploy/k8s/kustomization.yaml)
	$(GO) run ./cmd/harness k8s render -workers 2 -image REGISTRY/harness:TAG -target http://taskapi.default.svc | $(KUBE_SCORE) score --kubernetes-version v1.30 -

## lint-ci: actionlint v1.7.12 over .github/workflows (through go run; ACTIONLINT names another; go test ./deploy/ fails on any finding)
lint-ci:
	$(ACTIONLINT) -no-color

## bench: hot-path benchmarks with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

## bench-engine: the engine beside wrk, bombardier, vegeta (and k6 when installed) against a private nginx, quiet then crowded: closed-model ratios to wrk, open-model tables, dispatch bias, goals (about 8 min; BENCH_* settings: go doc ./cmd/benchengine); installs nginx and wrk if missing
bench-engine:
	@command -v wrk >/dev/null || $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y wrk
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y nginx
	@$(GO) build -o bin/benchengine ./cmd/benchengine
	@./bin/benchengine

## bench-soak: the engine at a steady 500/s for 5m30s (SOAK_DURATION, SOAK_RATE): peak RSS of the last minute against the first (goal <= 1.10)
bench-soak:
	SOAK=1 $(GO) test -run '^$$' -bench '^BenchmarkSoakMemory$$' -benchtime=1x -timeout 30m ./loadtest/engine

## fuzz: run each fuzz target for FUZZTIME, then keep what it found in testdata/fuzz/
# (go test -fuzz writes new inputs to the build cache; the copy makes them
# regression seeds that every `make test` replays)
FUZZ_TARGETS = \
	service/httpapi:FuzzDecodeJSON service/httpapi:FuzzParseListQuery service/server:FuzzAPI \
	loadtest/scenario:FuzzParse loadtest/threshold:FuzzParseExpression loadtest/threshold:FuzzParseSelector \
	loadtest/pace:FuzzRamping loadtest/k6:FuzzReadStream loadtest/k6:FuzzReadSummaryExport loadtest/segment:FuzzParse \
	internal/promql:FuzzSelectors
fuzz:
	@set -e; cache=$$($(GO) env GOCACHE)/fuzz/$$($(GO) list -m); \
	for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz: $$pkg $$name for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) ./$$pkg; \
	  mkdir -p $$pkg/testdata/fuzz/$$name; \
	  cp -n $$cache/$$pkg/$$name/* $$pkg/testdata/fuzz/$$name/ 2>/dev/null || true; \
	done

## tidy: go mod tidy
tidy:
	$(GO) mod tidy

## clean: remove the built binaries and every run's reports (bin/, out/)
clean:
	rm -rf bin out

## help: this list
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST) | sed 's/: /\t/' | awk -F'\t' '{printf "  %-18s %s\n", $$1, $$2}'
