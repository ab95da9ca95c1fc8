# Two commands matter: `make run` (the main job, no setup) and `make test`.
GO       ?= go
FUZZTIME ?= 30s
BENCHTIME ?= 2s

KUBE_SCORE ?= $(GO) run github.com/zegl/kube-score/cmd/kube-score@v1.20.0

.PHONY: help run check build api test vet lint lint-k8s bench bench-engine bench-soak fuzz tidy clean dashboards dashboards-verify

## run: embedded stores, two API instances, seed, contract smoke, the smoke scenario; reports in out/latest/
run: build
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		echo "make run: PostgreSQL is not installed, so FerretDB runs on SQLite (fine for this smoke run, slow under load); for the faster backend: $$( [ "$$(id -u)" = 0 ] || echo "sudo ")apt-get install postgresql"
	./bin/harness run -provider embedded -api-bin ./bin/taskapi

## check: the readiness checks against an embedded environment (production settings), with a backup first; reports in out/readiness/
check: build
	./bin/harness check -provider embedded -api-bin ./bin/taskapi \
		-backup-dir out/backups -backup-first -out out/readiness

## dashboards: write the Grafana dashboards the code in dashboards/ builds (commit the JSON)
dashboards:
	$(GO) run ./cmd/harness dashboards generate -dir dashboards

## dashboards-verify: a real Prometheus scrapes a short run; every panel of every dashboard must show data; installs prometheus if missing
dashboards-verify: build
	@command -v prometheus >/dev/null || $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y prometheus
	./bin/harness dashboards verify -provider embedded -api-bin ./bin/taskapi

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

vet:
	$(GO) vet ./...

## lint: gofmt and go vet over the module, then every kube-score finding (lint-k8s)
lint: vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './out/*')); \
	  [ -z "$$unformatted" ] || { echo "lint: these files need gofmt -w:"; echo "$$unformatted"; exit 1; }
	@$(MAKE) --no-print-directory lint-k8s

## lint-k8s: kube-score over deploy/k8s and a rendered distributed run (the tests assert no critical finding; this shows every finding)
lint-k8s:
	$(KUBE_SCORE) score --kubernetes-version v1.30 $$(sed -n 's|^  - |deploy/k8s/|p' deploy/k8s/kustomization.yaml)
	$(GO) run ./cmd/harness k8s render -workers 2 -image REGISTRY/harness:TAG -target http://taskapi.default.svc | $(KUBE_SCORE) score --kubernetes-version v1.30 -

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
