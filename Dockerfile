# syntax=docker/dockerfile:1
#
# evcrm service images: one build stage compiles the four services (and the container health
# check) as static Go binaries; one small final stage per service holds only its binary.
#
#   docker build --target leads -t evcrm/leads .        (likewise pipeline, campaign, analytics)
#   docker compose build                                (docker-compose.yml builds all four)
#
# CGO_ENABLED=0 everywhere: the read models use modernc.org/sqlite (SQLite translated to Go, no
# C), ClickHouse and NATS clients are pure Go, so the binaries need no libc and run on a base
# image without one. deploy/ has a test that builds every service this way.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-trixie AS build
WORKDIR /src
# GOTOOLCHAIN=local: build with the image's Go, never download another toolchain mid-build.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-trimpath
# Module files first, so that the module download layer survives source edits. The workspace
# (go.work) names every module, so each module's go.mod must be present.
COPY go.work go.work.sum ./
COPY libs/go.mod libs/go.sum libs/
COPY services/leads/go.mod services/leads/go.sum services/leads/
COPY services/pipeline/go.mod services/pipeline/go.sum services/pipeline/
COPY services/campaign/go.mod services/campaign/go.sum services/campaign/
COPY services/analytics/go.mod services/analytics/go.sum services/analytics/
COPY tools/go.mod tools/go.sum tools/
COPY tools/crmctl/go.mod tools/crmctl/go.sum tools/crmctl/
COPY tools/crmdev/go.mod tools/crmdev/go.sum tools/crmdev/
COPY deploy/go.mod deploy/go.sum deploy/
COPY . .
# -s -w: no symbol table or DWARF (smaller images; stack traces keep function names and lines).
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags='-s -w' -o /out/ \
        ./services/leads/cmd/leads \
        ./services/pipeline/cmd/pipeline \
        ./services/campaign/cmd/campaign \
        ./services/analytics/cmd/analytics \
        ./deploy/cmd/grpchealth \
 && mkdir -p /out/data

# distroless static: CA certificates, tzdata and /etc/passwd with the nonroot user (65532), no
# shell or package manager. Pin by digest in production (docs/deploy.md).
FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/grpchealth /usr/local/bin/grpchealth
# The read models' directory (-data-dir). Owned by nonroot, so a fresh named volume mounted here
# inherits the ownership and the service can write it.
COPY --from=build --chown=65532:65532 /out/data /var/lib/evcrm
WORKDIR /var/lib/evcrm
USER 65532:65532

FROM runtime AS leads
COPY --from=build /out/leads /usr/local/bin/leads
ENV EVCRM_DATA_DIR=/var/lib/evcrm/leads
EXPOSE 9101 9201 9301
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["/usr/local/bin/grpchealth", "-addr", "127.0.0.1:9101"]
ENTRYPOINT ["/usr/local/bin/leads"]

FROM runtime AS pipeline
COPY --from=build /out/pipeline /usr/local/bin/pipeline
ENV EVCRM_DATA_DIR=/var/lib/evcrm/pipeline
EXPOSE 9102 9202 9302
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["/usr/local/bin/grpchealth", "-addr", "127.0.0.1:9102"]
ENTRYPOINT ["/usr/local/bin/pipeline"]

FROM runtime AS campaign
COPY --from=build /out/campaign /usr/local/bin/campaign
ENV EVCRM_DATA_DIR=/var/lib/evcrm/campaign
EXPOSE 9103 9203 9303
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["/usr/local/bin/grpchealth", "-addr", "127.0.0.1:9103"]
ENTRYPOINT ["/usr/local/bin/campaign"]

FROM runtime AS analytics
COPY --from=build /out/analytics /usr/local/bin/analytics
# analytics keeps no read model on disk (ClickHouse holds its tables); -data-dir is still required.
ENV EVCRM_DATA_DIR=/var/lib/evcrm/analytics
EXPOSE 9104 9204 9304
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["/usr/local/bin/grpchealth", "-addr", "127.0.0.1:9104"]
ENTRYPOINT ["/usr/local/bin/analytics"]
