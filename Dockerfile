# The task API as a static binary in a minimal, non-root image.
# Base images are arguments: machines that cannot pull the official ones
# pass local equivalents (--build-arg GO_IMAGE=... RUNTIME_IMAGE=...).
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/taskapi ./cmd/taskapi

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/taskapi /taskapi
USER 65532:65532
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["/taskapi", "healthcheck"]
ENTRYPOINT ["/taskapi"]
