# The task API and the load harness as static binaries in minimal, non-root
# images, from one build stage:
#   docker build .                  the API (the last stage is the default)
#   docker build --target harness . the harness
# Base images are arguments: machines that cannot pull the official ones
# pass local equivalents (--build-arg GO_IMAGE=... RUNTIME_IMAGE=...).
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
# Modules first, in their own layer: a source change does not download them
# again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# One build of both binaries shares the packages they have in common. The
# scenarios are embedded in the harness (package scenarios), so neither
# image needs files beside its binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/ ./cmd/taskapi ./cmd/harness

FROM ${RUNTIME_IMAGE} AS harness
COPY --from=build /out/harness /harness
USER 65532:65532
# The harness's own Prometheus /metrics (harness run -metrics-addr 0.0.0.0:9465).
EXPOSE 9465
ENTRYPOINT ["/harness"]

FROM ${RUNTIME_IMAGE} AS api
COPY --from=build /out/taskapi /taskapi
USER 65532:65532
# The API, and its /metrics listener when METRICS_ADDR=0.0.0.0:9464 (the
# default, 127.0.0.1:9464, is reachable from inside the container only).
EXPOSE 5000 9464
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["/taskapi", "healthcheck"]
ENTRYPOINT ["/taskapi"]
