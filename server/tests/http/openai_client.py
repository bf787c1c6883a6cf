"""Drives a running `stt serve` with the official `openai` Python client.

Usage: openai_client.py BASE_URL AUDIO_FILE   (BASE_URL like http://127.0.0.1:8000/v1)
Exits non-zero with a message on the first mismatch.
"""

import sys

import openai
from openai import OpenAI


def main() -> None:
    base_url, audio_path = sys.argv[1], sys.argv[2]
    client = OpenAI(base_url=base_url, api_key="not-needed", max_retries=0, timeout=120)

    models = [m.id for m in client.models.list()]
    assert "whisper-1" in models, models

    with open(audio_path, "rb") as f:
        plain = client.audio.transcriptions.create(model="whisper-1", file=f)
    assert "ask not what your country can do for you" in plain.text.lower(), plain.text
    print("json:", plain.text)

    with open(audio_path, "rb") as f:
        verbose = client.audio.transcriptions.create(
            model="whisper-1",
            file=f,
            language="en",
            response_format="verbose_json",
            timestamp_granularities=["segment"],
        )
    assert verbose.language == "english", verbose.language
    assert abs(verbose.duration - 11.0) < 0.1, verbose.duration
    assert verbose.segments and verbose.segments[0].start == 0.0, verbose.segments
    assert all(s.end >= s.start for s in verbose.segments)
    print("verbose_json:", len(verbose.segments), "segments")

    for fmt, start in (("text", "And so"), ("srt", "1\n00:00:00,000 --> "), ("vtt", "WEBVTT")):
        with open(audio_path, "rb") as f:
            rendered = client.audio.transcriptions.create(model="whisper-1", file=f, response_format=fmt)
        assert isinstance(rendered, str) and rendered.startswith(start), (fmt, rendered)
        print(f"{fmt}: ok")

    # English-only model: translations are refused with OpenAI's error shape.
    try:
        with open(audio_path, "rb") as f:
            client.audio.translations.create(model="whisper-1", file=f)
    except openai.BadRequestError as e:
        assert "multilingual" in str(e), e
        print("translations: refused as expected:", e.message)
    else:
        raise AssertionError("translation with an English-only model should be refused")

    print("openai client: all checks passed")


if __name__ == "__main__":
    main()
