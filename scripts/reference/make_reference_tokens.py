#!/usr/bin/env python3
"""Record faster-whisper's greedy decoding of a few real clips as a reference for stt.

For each (model, clip) pair this writes the per-segment token ids, text, timing and
decoder statistics that faster-whisper produces with fully deterministic settings
(greedy, temperature 0 with no fallback, no VAD), so that the Rust decoder can be checked
token for token against an independent implementation of the same model.

Usage (from the repository root):

    /opt/fw/bin/python scripts/reference/make_reference_tokens.py \
        --eval-dir /work/shared/eval \
        --tiny-en /tmp/ct2/tiny.en --base /tmp/ct2/base \
        --out engine/tests/data/reference_tokens.json

The model directories are CTranslate2 conversions of the OpenAI checkpoints
(`ct2-transformers-converter --model openai/whisper-tiny.en`, etc.). Audio is decoded by
faster-whisper itself (PyAV, resampled to 16 kHz mono), so small differences in the
first/last frames of resampled clips (e.g. the 8 kHz one) are expected.
"""

import argparse
import dataclasses
import json
import os
import shlex
import sys
import time

import faster_whisper
from faster_whisper import WhisperModel

# Settings that make decoding deterministic. `temperature=0.0` (a single value) disables
# the temperature fallback, `beam_size=best_of=1` is greedy search.
SETTINGS = dict(
    beam_size=1,
    best_of=1,
    temperature=0.0,
    condition_on_previous_text=True,
    without_timestamps=False,
    vad_filter=False,
    word_timestamps=False,
    task="transcribe",
)

# (model name, clip path relative to the eval dir, forced language)
JOBS = [
    ("tiny.en", "jfk/jfk.wav", "en"),
    ("tiny.en", "librispeech/1089-134686-0000.flac", "en"),
    ("tiny.en", "en_other/LJ001-0001.wav", "en"),
    ("tiny.en", "en_other/OSR_us_000_0034_8k.wav", "en"),  # 35 s: two 30 s windows
    ("base", "jfk/jfk.wav", "en"),
    ("base", "librispeech/1089-134686-0000.flac", "en"),
    ("base", "multilingual/picovoice_test_es.wav", "es"),
    ("base", "multilingual/picovoice_test_de.wav", "de"),
]


def tokenizer_ids(model, language):
    """Special token ids of the tokenizer faster-whisper uses for this model/language."""
    from faster_whisper.tokenizer import Tokenizer

    multilingual = model.model.is_multilingual
    tok = Tokenizer(
        model.hf_tokenizer,
        multilingual,
        task="transcribe" if multilingual else None,
        language=language if multilingual else None,
    )
    ids = dict(
        sot=tok.sot,
        eot=tok.eot,
        sot_prev=tok.sot_prev,
        no_timestamps=tok.no_timestamps,
        timestamp_begin=tok.timestamp_begin,
        sot_sequence=list(tok.sot_sequence),
    )
    if multilingual:
        ids["transcribe"] = tok.transcribe
        ids["language_token"] = tok.language
    return ids


def round_f(x, nd=6):
    return None if x is None else round(float(x), nd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval-dir", default="/work/shared/eval")
    ap.add_argument("--tiny-en", default="/tmp/ct2/tiny.en")
    ap.add_argument("--base", default="/tmp/ct2/base")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="engine/tests/data/reference_tokens.json")
    args = ap.parse_args()

    manifest = {}
    with open(os.path.join(args.eval_dir, "manifest.jsonl")) as f:
        for line in f:
            m = json.loads(line)
            manifest[m["path"]] = m

    model_dirs = {"tiny.en": args.tiny_en, "base": args.base}
    models = {}
    results = []
    options_record = {}
    for model_name, clip, lang in JOBS:
        if model_name not in models:
            models[model_name] = WhisperModel(
                model_dirs[model_name],
                device="cpu",
                compute_type="float32",
                cpu_threads=args.threads,
            )
        model = models[model_name]
        t0 = time.perf_counter()
        segments, info = model.transcribe(
            os.path.join(args.eval_dir, clip), language=lang, **SETTINGS
        )
        segments = list(segments)  # the generator does the work
        elapsed = time.perf_counter() - t0
        opts = dataclasses.asdict(info.transcription_options)
        options_record[model_name] = opts
        entry = dict(
            model=model_name,
            clip=clip,
            language=lang,
            duration_s=round_f(info.duration, 4),
            reference=manifest.get(clip, {}).get("reference"),
            full_text="".join(s.text for s in segments),
            segments=[
                dict(
                    id=s.id,
                    seek=s.seek,
                    start=round_f(s.start, 3),
                    end=round_f(s.end, 3),
                    text=s.text,
                    tokens=list(s.tokens),
                    avg_logprob=round_f(s.avg_logprob),
                    no_speech_prob=round_f(s.no_speech_prob),
                    compression_ratio=round_f(s.compression_ratio),
                    temperature=s.temperature,
                )
                for s in segments
            ],
            tokenizer=tokenizer_ids(model, lang),
        )
        results.append(entry)
        print(
            f"{model_name:8s} {clip:45s} {elapsed:6.2f}s  {entry['full_text']!r}",
            file=sys.stderr,
        )

    doc = dict(
        description=(
            "Greedy decoding reference from faster-whisper (CTranslate2) for checking the "
            "stt decoder token for token. segments[].tokens are faster-whisper's "
            "Segment.tokens (text and timestamp tokens of that segment, no SOT prompt). "
            "Audio decoded and resampled by faster-whisper (PyAV). avg_logprob, "
            "no_speech_prob and compression_ratio are per 30 s window, so segments sharing "
            "a seek (in 10 ms mel frames) share them. With condition_on_previous_text the "
            "prompt of a later window is [sot_prev] + the previous windows' tokens "
            "(text and timestamps, at most the last 223) + sot_sequence."
        ),
        faster_whisper_version=faster_whisper.__version__,
        ctranslate2_version=__import__("ctranslate2").__version__,
        compute_type="float32",
        device="cpu",
        cpu_threads=args.threads,
        command=" ".join(shlex.quote(a) for a in [sys.executable] + sys.argv),
        arguments=dict(
            eval_dir=args.eval_dir, tiny_en=args.tiny_en, base=args.base, threads=args.threads
        ),
        settings=SETTINGS,
        # Every option faster-whisper actually used (thresholds, expanded suppress_tokens...).
        transcription_options=options_record,
        models={
            name: dict(
                ct2_dir=os.path.basename(os.path.normpath(d)),
                source=f"openai/whisper-{name} converted with ct2-transformers-converter",
            )
            for name, d in model_dirs.items()
        },
        results=results,
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
