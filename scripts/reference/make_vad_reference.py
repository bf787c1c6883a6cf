#!/usr/bin/env python3
"""Reference speech probabilities of Silero VAD (the silero-vad==6.2.3 wheel's 16 kHz
safetensors), computed with numpy straight from the architecture the wheel itself
documents in silero_vad/tinygrad_model.py, to test stt's candle implementation.

Usage (a Python with numpy, safetensors and faster-whisper for audio decoding):
    python scripts/reference/make_vad_reference.py MODEL.safetensors EVAL_DIR > engine/tests/data/vad_reference.json
"""
import json
import sys

import numpy as np
from faster_whisper.audio import decode_audio
from safetensors.numpy import load_file

CLIPS = ["jfk/jfk.wav", "odd/synth_music_no_speech_12s.mp3", "odd/silence30s_then_jfk.wav"]


def conv1d(x, w, b, stride, pad):
    x = np.pad(x, ((0, 0), (pad, pad)))
    k = w.shape[2]
    steps = (x.shape[1] - k) // stride + 1
    cols = np.stack([x[:, t * stride : t * stride + k] for t in range(steps)], 0)
    y = np.einsum("tck,ock->ot", cols, w)
    return y + b[:, None] if b is not None else y


def probabilities(weights, audio):
    sig = lambda z: 1 / (1 + np.exp(-z))
    audio = np.pad(audio, (0, (512 - len(audio) % 512) % 512))
    h = np.zeros(128, np.float32)
    c = np.zeros(128, np.float32)
    context = np.zeros(64, np.float32)
    out = []
    for i in range(0, len(audio), 512):
        chunk = audio[i : i + 512]
        x = np.pad(np.concatenate([context, chunk]), (0, 64), mode="reflect")[None, :]
        context = chunk[-64:]
        s = conv1d(x, weights["stft_conv.weight"], None, 128, 0)
        m = np.sqrt(s[:129] ** 2 + s[129:] ** 2)
        for name, stride in [("conv1", 1), ("conv2", 2), ("conv3", 2), ("conv4", 1)]:
            m = np.maximum(conv1d(m, weights[f"{name}.weight"], weights[f"{name}.bias"], stride, 1), 0)
        m = m[:, 0]
        g = (weights["lstm_cell.weight_ih"] @ m + weights["lstm_cell.bias_ih"]
             + weights["lstm_cell.weight_hh"] @ h + weights["lstm_cell.bias_hh"])
        i_g, f_g, g_g, o_g = np.split(g, 4)
        c = sig(f_g) * c + sig(i_g) * np.tanh(g_g)
        h = sig(o_g) * np.tanh(c)
        out.append(float(sig(weights["final_conv.weight"][0, :, 0] @ np.maximum(h, 0) + weights["final_conv.bias"][0])))
    return out


def main():
    weights = load_file(sys.argv[1])
    result = {"command": " ".join(["python"] + sys.argv), "clips": {}}
    for clip in CLIPS:
        audio = decode_audio(f"{sys.argv[2]}/{clip}", sampling_rate=16000)
        result["clips"][clip] = [round(p, 5) for p in probabilities(weights, audio)]
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
