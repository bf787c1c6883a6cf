#!/usr/bin/env python3
"""Time stt against faster-whisper on the same clips and print a Markdown report.

For each thread count (default 1 and 2) the clips are run one after the other, stt and
faster-whisper alternating on every clip (which one goes first alternates too), each
after an untimed warm-up run of that clip. The timed value per engine and clip is the
median of --runs runs.

- stt runs as a persistent worker (`stt bench --stdin`, STT_BIN default
  target/release/stt) that loads the model once; its time per clip covers audio decoding
  and transcription, like faster-whisper's below.
- faster-whisper runs in a persistent worker process (this script with --worker, under a
  Python that has faster-whisper installed, see --fw-python) that loads the model once,
  so its times exclude model load too. It decodes greedily with the same settings as
  scripts/reference/ (beam_size=1, best_of=1, temperature=0, no VAD, timestamps on,
  condition_on_previous_text), language "en" for .en models.

faster-whisper needs the CTranslate2 conversion of the model: --fw-model-dir, default
${STT_CACHE_DIR:-$HOME/.cache/stt}/ct2/<model>, which is where scripts/fetch-models.sh
leaves it.

Example (from the repository root; the parent needs only the standard library):

    cargo build --release
    python3 benches/compare_faster_whisper.py --model tiny.en --threads 1,2 --runs 3 \\
        --fw-python /opt/fw/bin/python --out bench-fw.md

Ratio = stt seconds / faster-whisper seconds (above 1: stt is slower). RTF = processing
seconds / audio seconds. Clips with an exact reference in the manifest are also scored:
corpus WER of both engines, normalised by stt's English normaliser (the same function for
both). Paste the printed Markdown into BENCHMARKS.md.
"""

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SETS = ("librispeech", "jfk", "en_other")

FW_SETTINGS = dict(
    beam_size=1,
    best_of=1,
    temperature=0.0,
    condition_on_previous_text=True,
    without_timestamps=False,
    vad_filter=False,
    word_timestamps=False,
    task="transcribe",
)


# --------------------------------------------------------------------------- worker


def worker_main(model_dir, threads, language, compute_type):
    """Persistent faster-whisper process: one JSON request per stdin line
    ({"path": ...}), one JSON reply per stdout line."""
    from faster_whisper import WhisperModel
    import faster_whisper

    model = WhisperModel(model_dir, device="cpu", compute_type=compute_type, cpu_threads=threads)
    out = sys.stdout
    out.write(json.dumps({"ready": True, "version": faster_whisper.__version__}) + "\n")
    out.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        try:
            t0 = time.perf_counter()
            segments, info = model.transcribe(request["path"], language=language, **FW_SETTINGS)
            text = "".join(s.text for s in segments)  # the generator does the work
            seconds = time.perf_counter() - t0
            reply = {"text": text.strip(), "seconds": seconds, "duration": info.duration}
        except Exception as exc:  # report, keep serving
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


class JsonLineWorker:
    """A child process answering one JSON line per JSON request line."""

    name = "worker"

    def start(self, cmd, hint=""):
        self.cmd = cmd
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        hello = self.proc.stdout.readline()
        if not hello:
            raise SystemExit(f"error: the {self.name} worker did not start ({shlex.join(cmd)}){hint}")
        return json.loads(hello)

    def request(self, payload):
        self.proc.stdin.write(json.dumps(payload) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"error: the {self.name} worker exited unexpectedly ({shlex.join(self.cmd)})")
        reply = json.loads(line)
        if "error" in reply:
            raise SystemExit(f"error: {self.name} failed on {payload}: {reply['error']}")
        return reply

    def transcribe(self, path):
        return self.request({"path": path})

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class FasterWhisperWorker(JsonLineWorker):
    name = "faster-whisper"

    def __init__(self, python, model_dir, threads, language, compute_type):
        cmd = [
            python,
            os.path.abspath(__file__),
            "--worker",
            "--fw-model-dir",
            model_dir,
            "--worker-threads",
            str(threads),
            "--worker-language",
            language or "",
            "--fw-compute-type",
            compute_type,
        ]
        hello = self.start(cmd, "; is faster-whisper installed for --fw-python?")
        self.version = hello.get("version")


# --------------------------------------------------------------------------- stt


def resolve_stt_bin(value):
    path = value if os.path.isabs(value) else os.path.join(REPO_ROOT, value)
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    found = shutil.which(value) if os.sep not in value else None
    if found:
        return found
    raise SystemExit(
        f"error: stt binary not found or not executable: {path}\n"
        "Build it with `cargo build --release` (from the repository root) or point STT_BIN "
        "(or --stt-bin) at it. Use --fw-only to time faster-whisper alone."
    )


class SttWorker(JsonLineWorker):
    """`stt bench --stdin`: model loaded once, one JSON request/reply per line."""

    name = "stt"

    def __init__(self, stt_bin, model, threads, extra_args):
        cmd = [stt_bin, "bench", "--stdin", "--model", model, "--threads", str(threads)]
        self.info = self.start(cmd + extra_args)

    def score(self, reference, hypothesis):
        return self.request({"reference": reference, "hypothesis": hypothesis})


# --------------------------------------------------------------------------- clips


def default_eval_dir():
    return os.environ.get("STT_EVAL_DIR") or os.path.join(
        os.path.dirname(REPO_ROOT), "shared", "eval"
    )


def load_clips(eval_dir, clips_arg):
    manifest = {}
    manifest_path = os.path.join(eval_dir, "manifest.jsonl")
    if os.path.isfile(manifest_path):
        with open(manifest_path) as f:
            for line in f:
                m = json.loads(line)
                manifest[m["path"]] = m
    if clips_arg:
        clips = []
        for item in clips_arg.split(","):
            item = item.strip()
            if not item:
                continue
            path = item if os.path.isabs(item) else os.path.join(eval_dir, item)
            if not os.path.isfile(path):
                raise SystemExit(f"error: clip not found: {path}")
            m = manifest.get(item, {})
            clips.append({"name": item, "path": path, "duration": m.get("duration_s"),
                          "reference": m.get("reference") if m.get("reference_quality") == "exact" else None})
        return clips
    if not manifest:
        raise SystemExit(f"error: no manifest at {manifest_path}; pass --eval-dir or --clips")
    return [
        {"name": p, "path": os.path.join(eval_dir, p), "duration": m.get("duration_s"),
         "reference": m.get("reference")}
        for p, m in manifest.items()
        if m.get("reference_quality") == "exact" and m.get("set") in DEFAULT_SETS
    ]


def quick_words(text):
    return re.sub(r"[^\w\s]", " ", text.lower()).split()


# --------------------------------------------------------------------------- report


def fmt(x, nd=3):
    return "–" if x is None else f"{x:.{nd}f}"


def ratio(a, b):
    return None if a is None or not b else a / b


def markdown_table(rows, fw_only):
    if fw_only:
        lines = ["| clip | duration (s) | fw (s) | fw RTF |", "|---|---:|---:|---:|"]
        for r in rows:
            lines.append(
                f"| {r['name']} | {fmt(r['duration'], 2)} | {fmt(r['fw'])} | "
                f"{fmt(ratio(r['fw'], r['duration']))} |"
            )
        return lines
    lines = [
        "| clip | duration (s) | stt (s) | fw (s) | ratio stt/fw | stt RTF | fw RTF |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {fmt(r['duration'], 2)} | {fmt(r['stt'])} | {fmt(r['fw'])} | "
            f"{fmt(ratio(r['stt'], r['fw']), 2)} | "
            f"{fmt(ratio(r['stt'], r['duration']))} | {fmt(ratio(r['fw'], r['duration']))} |"
        )
    return lines


def summary_lines(threads, rows, fw_only):
    audio = sum(r["duration"] or 0 for r in rows)
    fw_total = sum(r["fw"] for r in rows)
    lines = [f"- audio: {len(rows)} clips, {audio:.1f} s"]
    lines.append(f"- faster-whisper: {fw_total:.2f} s total, RTF {fw_total / audio:.3f}")
    if not fw_only:
        stt_total = sum(r["stt"] for r in rows)
        lines.append(f"- stt: {stt_total:.2f} s total, RTF {stt_total / audio:.3f}")
        ratios = [ratio(r["stt"], r["fw"]) for r in rows]
        lines.append(
            f"- **median ratio stt/fw at {threads} thread(s): {statistics.median(ratios):.2f}** "
            f"(per clip: min {min(ratios):.2f}, max {max(ratios):.2f})"
        )
        agree = sum(quick_words(r["stt_text"]) == quick_words(r["fw_text"]) for r in rows)
        lines.append(f"- transcripts identical after lowercasing and removing punctuation: {agree}/{len(rows)}")
        scored = [r for r in rows if r.get("wer")]
        if scored:
            words = sum(r["wer"]["words"] for r in scored)
            stt_edits = sum(r["wer"]["stt"] for r in scored)
            fw_edits = sum(r["wer"]["fw"] for r in scored)
            lines.append(
                f"- corpus WER over the {len(scored)} clips with exact references ({words} words, "
                f"stt's English normaliser for both): **stt {stt_edits / words:.4f}, "
                f"faster-whisper {fw_edits / words:.4f}**"
            )
        rss = [r["stt_peak_rss_mib"] for r in rows if r.get("stt_peak_rss_mib")]
        if rss:
            lines.append(f"- stt worker peak RSS: {max(rss):.0f} MiB")
    return lines


# --------------------------------------------------------------------------- main


def main():
    cache = os.environ.get("STT_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "stt")
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--model", default="tiny.en", help="model name (default: tiny.en)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default: 1,2)")
    ap.add_argument(
        "--clips",
        default="",
        help="comma-separated clip paths, relative to --eval-dir or absolute "
        "(default: the exact-reference English clips of the manifest)",
    )
    ap.add_argument("--runs", type=int, default=1, help="timed runs per clip and engine (median)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs per clip and engine")
    ap.add_argument("--eval-dir", default=default_eval_dir(), help="default: $STT_EVAL_DIR or ../shared/eval")
    ap.add_argument("--stt-bin", default=os.environ.get("STT_BIN", "target/release/stt"),
                    help="stt binary, relative to the repository root or absolute "
                    "(default: $STT_BIN or target/release/stt)")
    ap.add_argument("--stt-arg", action="append", default=[], help="extra argument for stt (repeatable)")
    ap.add_argument("--fw-model-dir", default=None, help=f"default: {cache}/ct2/<model>")
    ap.add_argument("--fw-python", default=os.environ.get("FW_PYTHON", sys.executable),
                    help="Python with faster-whisper for the worker (default: $FW_PYTHON or this one)")
    ap.add_argument("--fw-only", action="store_true", help="time faster-whisper only")
    ap.add_argument("--fw-compute-type", default="float32",
                    help="CTranslate2 compute type for faster-whisper: float32 (default), int8, ...")
    ap.add_argument("--stt-model", default=None,
                    help="model name or directory for stt (default: --model), e.g. a quantized import")
    ap.add_argument("--out", help="also write the Markdown report here")
    ap.add_argument("--json-out", help="also write the raw per-clip results here")
    # Internal: worker mode.
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker-threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--worker-language", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        worker_main(args.fw_model_dir, args.worker_threads, args.worker_language or None,
                    args.fw_compute_type)
        return

    threads_list = [int(t) for t in args.threads.split(",") if t.strip()]
    fw_model_dir = args.fw_model_dir or os.path.join(cache, "ct2", args.model)
    if not os.path.isfile(os.path.join(fw_model_dir, "model.bin")):
        raise SystemExit(
            f"error: no CTranslate2 model at {fw_model_dir} (model.bin missing). "
            "scripts/fetch-models.sh leaves it in ${STT_CACHE_DIR:-~/.cache/stt}/ct2/<model>; "
            "or pass --fw-model-dir."
        )
    stt_bin = None if args.fw_only else resolve_stt_bin(args.stt_bin)
    clips = load_clips(args.eval_dir, args.clips)
    if not clips:
        raise SystemExit("error: no clips selected")
    language = "en" if args.model.endswith(".en") else None

    command = shlex.join([os.path.basename(sys.executable)] + sys.argv)
    report = [
        f"### stt vs faster-whisper — {args.model}",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}; "
        f"Python {platform.python_version()}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}.",
    ]
    results = {}
    fw_version = None
    for threads in threads_list:
        print(f"== {threads} thread(s): starting faster-whisper worker", file=sys.stderr)
        worker = FasterWhisperWorker(args.fw_python, fw_model_dir, threads, language,
                                     args.fw_compute_type)
        stt = None if args.fw_only else SttWorker(stt_bin, args.stt_model or args.model, threads,
                                                  (["--language", language] if language else [])
                                                  + args.stt_arg)
        fw_version = worker.version
        rows = []
        try:
            for index, clip in enumerate(clips):
                engines = ["fw"] if args.fw_only else (["stt", "fw"] if index % 2 == 0 else ["fw", "stt"])
                times = {"stt": [], "fw": []}
                rss = None
                texts = {}
                duration = clip["duration"]
                for engine in engines:
                    for run in range(args.warmup + args.runs):
                        if engine == "stt":
                            r = stt.transcribe(clip["path"])
                            rss = r.get("peak_rss_mib")
                        else:
                            r = worker.transcribe(clip["path"])
                        duration = duration or r.get("duration")
                        texts[engine] = r["text"]
                        if run >= args.warmup:
                            times[engine].append(r["seconds"])
                med = {k: (statistics.median(v) if v else None) for k, v in times.items()}
                row = dict(
                    name=clip["name"],
                    duration=duration,
                    stt=med["stt"],
                    fw=med["fw"],
                    stt_text=texts.get("stt", ""),
                    fw_text=texts.get("fw", ""),
                    stt_peak_rss_mib=rss,
                )
                if stt and clip.get("reference"):
                    a = stt.score(clip["reference"], row["stt_text"])
                    b = stt.score(clip["reference"], row["fw_text"])
                    row["wer"] = {"words": a["reference_words"], "stt": a["edits"], "fw": b["edits"]}
                rows.append(row)
                print(
                    f"  {clip['name']:50s} fw {fmt(row['fw'])}s"
                    + ("" if args.fw_only else f"  stt {fmt(row['stt'])}s"),
                    file=sys.stderr,
                )
        finally:
            worker.close()
            if stt:
                stt.close()
        results[threads] = rows
        report += ["", f"#### {threads} thread(s)", ""]
        report += markdown_table(rows, args.fw_only)
        report += [""] + summary_lines(threads, rows, args.fw_only)

    report += [
        "",
        f"faster-whisper {fw_version} (CTranslate2, {args.fw_compute_type}, model loaded once per thread count, "
        f"model dir `{fw_model_dir}`), greedy: "
        + ", ".join(f"{k}={v}" for k, v in FW_SETTINGS.items())
        + f"; {args.warmup} warm-up + {args.runs} timed run(s) per clip and engine, median shown."
        + (
            ""
            if args.fw_only
            else f" stt: `{stt_bin} bench --stdin` (model `{args.stt_model or args.model}`, loaded "
            "once per thread count; voice activity detection on, as by default)."
        ),
    ]
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"command": command, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
