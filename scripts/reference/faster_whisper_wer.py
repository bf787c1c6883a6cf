#!/usr/bin/env python3
"""Transcribe the exact-reference English clips with faster-whisper (tiny.en, greedy).

Writes engine/tests/data/faster_whisper_tiny_en_hypotheses.json (clip path -> hypothesis,
plus the settings used) so the Rust test suite can compare stt's word error rate on the
same clips with faster-whisper's, normalised by the same Rust normaliser
(stt_engine::eval). Prints a sanity-check WER computed with a deliberately simple Python
normaliser (lowercase, punctuation stripped, a few number words); it is not the number to
quote, the Rust normaliser's is.

Usage (from the repository root):

    /opt/fw/bin/python scripts/reference/faster_whisper_wer.py \
        --eval-dir /work/shared/eval --model-dir /tmp/ct2/tiny.en \
        --out engine/tests/data/faster_whisper_tiny_en_hypotheses.json
"""

import argparse
import json
import os
import re
import shlex
import sys
import time

import faster_whisper
from faster_whisper import WhisperModel

SETS = {"librispeech", "jfk", "en_other"}
SETTINGS = dict(
    beam_size=1,
    best_of=1,
    temperature=0.0,
    condition_on_previous_text=True,
    without_timestamps=False,
    vad_filter=False,
    word_timestamps=False,
    language="en",
    task="transcribe",
)

_NUMS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}


def quick_normalize(text):
    """Rough normaliser for a sanity check only (see module doc)."""
    t = text.lower().replace("\u2019", "'")
    t = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", t)
    t = re.sub(r"'s\b", "s", t)
    t = re.sub(r"[^\w\s']|_", " ", t)
    t = t.replace("'", "")
    words = [_NUMS.get(w, w) for w in t.split()]
    return words


def edit_distance(r, h):
    prev = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        cur = [i] + [0] * len(h)
        for j in range(1, len(h) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] != h[j - 1]))
        prev = cur
    return prev[-1]


def exact_english_clips(eval_dir):
    clips = []
    with open(os.path.join(eval_dir, "manifest.jsonl")) as f:
        for line in f:
            m = json.loads(line)
            if m.get("reference_quality") == "exact" and m.get("set") in SETS:
                clips.append(m)
    return clips


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval-dir", default="/work/shared/eval")
    ap.add_argument("--model-dir", default="/tmp/ct2/tiny.en")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="engine/tests/data/faster_whisper_tiny_en_hypotheses.json")
    args = ap.parse_args()

    clips = exact_english_clips(args.eval_dir)
    print(f"{len(clips)} clips (reference_quality == exact, set in {sorted(SETS)})")
    model = WhisperModel(
        args.model_dir, device="cpu", compute_type="float32", cpu_threads=args.threads
    )
    hyps = {}
    edits = ref_words = 0
    audio_s = wall_s = 0.0
    for m in clips:
        t0 = time.perf_counter()
        segments, info = model.transcribe(os.path.join(args.eval_dir, m["path"]), **SETTINGS)
        text = "".join(s.text for s in segments).strip()
        wall_s += time.perf_counter() - t0
        audio_s += info.duration
        hyps[m["path"]] = text
        r, h = quick_normalize(m["reference"]), quick_normalize(text)
        e = edit_distance(r, h)
        edits += e
        ref_words += len(r)
        flag = "" if e == 0 else f"  [{e} err]"
        print(f"{m['path']:50s} {text!r}{flag}")
        if e:
            print(f"{'':50s} ref: {m['reference']!r}")

    doc = dict(
        description=(
            "faster-whisper tiny.en greedy hypotheses for the exact-reference English "
            "clips of the shared eval set (path relative to the eval dir -> text, "
            "segments joined and stripped)."
        ),
        faster_whisper_version=faster_whisper.__version__,
        ctranslate2_version=__import__("ctranslate2").__version__,
        model="tiny.en",
        compute_type="float32",
        cpu_threads=args.threads,
        settings=SETTINGS,
        selection=dict(reference_quality="exact", sets=sorted(SETS)),
        clip_count=len(clips),
        command=" ".join(shlex.quote(a) for a in [sys.executable] + sys.argv),
        quick_python_wer=round(edits / ref_words, 4),
        hypotheses=hyps,
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(
        f"clips={len(clips)} ref_words={ref_words} edits={edits} "
        f"quick WER={edits / ref_words:.4f}  audio={audio_s:.1f}s wall={wall_s:.1f}s "
        f"RTF={wall_s / audio_s:.3f}"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
