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

## fuzz: run each fuzz target for FUZZTIME, growing the corpus in testdata/
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeJSON$$' -fuzztime $(FUZZTIME) ./service/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzParseListQuery$$' -fuzztime $(FUZZTIME) ./service/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzAPI$$' -fuzztime $(FUZZTIME) ./service/server

tidy:
	$(GO) mod tidy
