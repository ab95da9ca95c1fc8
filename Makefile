# Two commands matter: `make run` (the main job, no setup) and `make test`.
GO       ?= go
FUZZTIME ?= 30s
BENCHTIME ?= 2s

.PHONY: run build api test vet bench fuzz tidy

## run: start the API on embedded stores and smoke-test its contract
run: build
	./bin/harness run -provider embedded -api-bin ./bin/taskapi

## build: compile the API and the harness into bin/
build:
	$(GO) build -o bin/taskapi ./cmd/taskapi
	$(GO) build -o bin/harness ./cmd/harness

## api: serve the API on :5000 with embedded stores (Ctrl-C to stop)
api:
	$(GO) run ./cmd/taskapi

## test: vet and run every test (real FerretDB and redis-server, race detector on)
test: vet
	$(GO) test -race -count=1 -timeout 20m ./...

vet:
	$(GO) vet ./...

## bench: hot-path benchmarks with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

## fuzz: run each fuzz target for FUZZTIME, then keep what it found in testdata/fuzz/
# (go test -fuzz writes new inputs to the build cache; the copy makes them
# regression seeds that every `make test` replays)
FUZZ_TARGETS = \
	service/httpapi:FuzzDecodeJSON service/httpapi:FuzzParseListQuery service/server:FuzzAPI \
	loadtest/scenario:FuzzParse loadtest/threshold:FuzzParseExpression loadtest/threshold:FuzzParseSelector \
	loadtest/pace:FuzzRamping
fuzz:
	@set -e; cache=$$($(GO) env GOCACHE)/fuzz/$$($(GO) list -m); \
	for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz: $$pkg $$name for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) ./$$pkg; \
	  mkdir -p $$pkg/testdata/fuzz/$$name; \
	  cp -n $$cache/$$pkg/$$name/* $$pkg/testdata/fuzz/$$name/ 2>/dev/null || true; \
	done

tidy:
	$(GO) mod tidy
