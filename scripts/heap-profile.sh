#!/usr/bin/env bash
# Where the server's heap goes under load: runs `stt serve` under heaptrack, drives it
# with the project's k6 load test (scripts/loadtest.sh --layout none), stops it, and
# prints the peak heap with the allocations alive at that moment, grouped by the first
# frame in stt's own code (engine/ or server/).
#
# Usage: scripts/heap-profile.sh [options]
#   --workers N     server workers (default 2), each with --threads-per-job 1
#   --vus N         k6 virtual users (default 20); --hold D (default 1m)
#   --model NAME    model to serve (default tiny.en)
#   --port P        port (default 8420)
#   --out DIR       where heaptrack's recording goes (default target/heap-profile)
#   --top N         allocation sites to list (default 25)
# Needs heaptrack (Debian: apt-get install heaptrack). Environment: STT_BIN (default
# target/release/stt), K6 and EVAL_DIR as for scripts/loadtest.sh.
set -euo pipefail

PROG=heap-profile
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
WORKERS=2 VUS=20 HOLD=1m MODEL=tiny.en PORT=8420 OUT=$ROOT/target/heap-profile TOP=25
while (($#)); do
    [[ $# -ge 2 ]] || die "$1 needs a value (see --help)"
    case $1 in
    --workers) WORKERS=$2 ;;
    --vus) VUS=$2 ;;
    --hold) HOLD=$2 ;;
    --model) MODEL=$2 ;;
    --port) PORT=$2 ;;
    --out) OUT=$2 ;;
    --top) TOP=$2 ;;
    -h | --help)
        sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
    shift 2
done

command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null ||
    die "heaptrack not found (Debian: apt-get install heaptrack)"
STT_BIN=${STT_BIN:-$ROOT/target/release/stt}
[[ -x $STT_BIN ]] || die "$STT_BIN not found: cargo build --release"
mkdir -p "$OUT"
rm -f "$OUT"/stt.*

say "serving $MODEL with $WORKERS worker(s) under heaptrack on port $PORT"
heaptrack -o "$OUT/stt" "$STT_BIN" serve --model "$MODEL" --host 127.0.0.1 --port "$PORT" \
    --workers "$WORKERS" --threads-per-job 1 >"$OUT/server.log" 2>&1 &
tracker=$!
server=""
stop() {
    [[ -n $server ]] && kill -TERM "$server" 2>/dev/null || true
    wait "$tracker" 2>/dev/null || true
}
trap stop EXIT

for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$PORT/readiness" >/dev/null && break
    sleep 0.2
done
curl -sf "http://127.0.0.1:$PORT/readiness" >/dev/null || die "server not ready (see $OUT/server.log)"
server=$(pgrep -f -n "$STT_BIN serve --model $MODEL --host 127.0.0.1 --port $PORT") ||
    die "server process not found"

"$ROOT/scripts/loadtest.sh" --layout none --port "$PORT" --preset steady \
    --vus "$VUS" --hold "$HOLD" --ramp 10s --ramp-down 5s
hwm=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$server/status")
stop
trap - EXIT
server=""

recording=$(ls "$OUT"/stt.*)
say "server VmHWM under heaptrack (its own bookkeeping included): $hwm MiB"
heaptrack_print -f "$recording" --print-peaks 0 --print-allocators 0 --print-temporary 0 \
    --print-leaks 0 2>/dev/null | grep -E 'peak heap memory consumption'
heaptrack_print -f "$recording" --print-peaks 1 --print-allocators 0 --print-temporary 0 \
    --print-leaks 0 --peak-limit 400 --merge-backtraces 0 2>/dev/null |
    python3 -c '
import collections, re, sys

top = int(sys.argv[1])
units = {"": 1e-6, "K": 1e-3, "M": 1.0, "G": 1e3}
sites = collections.Counter()
size, frames = None, []

def flush():
    if size is not None:
        sites[" < ".join(frames[:3]) or "(outside stt code)"] += size

for line in sys.stdin:
    head = re.match(r"^([\d.]+)([KMG]?)B? peak memory consumed over", line)
    if head:
        flush()
        size, frames = float(head.group(1)) * units[head.group(2)], []
        continue
    frame = re.search(r"at ((?:engine|server)/src/\S+)", line)
    if size is not None and frame:
        frames.append(frame.group(1))
flush()
print(f"alive at the peak, by first stt frames (MB), top {top}:")
for site, mb in sites.most_common(top):
    print(f"{mb:8.2f}  {site}")
' "$TOP"
