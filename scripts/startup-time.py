#!/usr/bin/env python3
"""Time from starting `stt serve` to its first `GET /readiness` 200, and its memory then.

Starts the server RUNS times (default 5) on a free port, polls /readiness every 5 ms,
records the elapsed time and the process's resident memory (VmRSS) at readiness, stops it
with SIGTERM, and prints each run and the median. Standard library only.

    python3 scripts/startup-time.py --model tiny.en --runs 5
    STT_BIN=target/release/stt python3 scripts/startup-time.py --model base
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def one_run(stt_bin, model, timeout):
    port = free_port()
    cmd = [stt_bin, "serve", "--host", "127.0.0.1", "--port", str(port), "--model", model]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/readiness"
    try:
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                raise SystemExit(f"error: {' '.join(cmd)} exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0, rss_mib(proc.pid)
            except OSError:
                pass
            time.sleep(0.005)
        raise SystemExit(f"error: not ready after {timeout} s")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--stt-bin", default=os.environ.get("STT_BIN", os.path.join(ROOT, "target/release/stt")))
    args = ap.parse_args()
    times = []
    for i in range(args.runs):
        elapsed, rss = one_run(args.stt_bin, args.model, args.timeout)
        times.append(elapsed)
        print(f"run {i + 1}: ready after {elapsed:.3f} s, RSS {rss:.0f} MiB" if rss else
              f"run {i + 1}: ready after {elapsed:.3f} s")
    print(f"median start-to-readiness ({args.model}, {args.runs} runs): {statistics.median(times):.3f} s")


if __name__ == "__main__":
    sys.exit(main())
