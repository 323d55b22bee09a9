# syntax=docker/dockerfile:1
#
# promolint as a container image: one static (musl) binary on a distroless base, run as a
# non-root user, `promolint` as the entry point:
#
#   docker run --rm -v "$PWD:/repo" -w /repo ghcr.io/promolint/promolint:0.1.0 check
#
# Two ways to get the binary, chosen with the BINARY build argument:
#
#   source    (default) compile it here, from this checkout, in a Rust Alpine image (musl:
#             the binary is static). For a local `docker build .`.
#   prebuilt  take dist/<arch>/promolint from the build context: the release workflow
#             passes the binaries it already built, checksummed and attested, so that the
#             image holds exactly those bytes and a multi-platform build needs no emulator.
#
# BASE picks the runtime image: the default distroless `static` has no shell; its
# `debug-nonroot` variant adds a busybox shell at /busybox/sh for CI systems that run job
# scripts inside the image (GitLab CI): the release publishes that one as the `-debug` tags.
ARG BINARY=source
ARG BASE=gcr.io/distroless/static-debian12:nonroot

FROM rust:1-alpine AS source
WORKDIR /src
COPY Cargo.toml Cargo.lock README.md ./
COPY src ./src
COPY rules ./rules
RUN cargo build --release --locked --bin promolint \
    && install -D -m 0755 target/release/promolint /out/promolint

FROM scratch AS prebuilt
ARG TARGETARCH
COPY --chmod=0755 dist/${TARGETARCH}/promolint /out/promolint

FROM ${BINARY} AS binary

FROM ${BASE}
COPY --from=binary /out/promolint /usr/local/bin/promolint
# distroless's nonroot user (65532); numeric, so that Kubernetes' runAsNonRoot can check it.
USER 65532:65532
ENTRYPOINT ["promolint"]
CMD ["--help"]
