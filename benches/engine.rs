//! Criterion benchmarks of the engine's parts: log-mel, one encoder window, one decoder
//! step (f16 and int8 weights), batched decoder steps and encoder windows, voice
//! activity detection, and the CPU kernels against the candle ops they replace.
//!
//! Run from the repository root (models from `scripts/fetch-models.sh`; the int8 rows
//! need `stt models quantize tiny.en`):
//!
//! ```sh
//! cargo bench -p stt-engine --bench engine
//! STT_BENCH_MODEL=base cargo bench -p stt-engine --bench engine -- encoder
//! RAYON_NUM_THREADS=1 cargo bench -p stt-engine --bench engine   # one core
//! ```
//!
//! Model benchmarks are skipped, with a message, when the model is not installed.

use candle_core::{DType, Device, Tensor, D};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::path::PathBuf;
use stt_engine::kernels;
use stt_engine::models::ModelStore;
use stt_engine::whisper::mel::log_mel_spectrogram;
use stt_engine::whisper::network::StepInput;
use stt_engine::WhisperModel;

fn installed(name: &str) -> Option<PathBuf> {
    let dir = ModelStore::from_env().ok()?.resolve(name).ok()?.dir;
    Some(dir)
}

fn model_name() -> String {
    std::env::var("STT_BENCH_MODEL").unwrap_or_else(|_| "tiny.en".to_string())
}

/// Thirty seconds of a deterministic chirp with noise: spectrally busy, like speech.
fn test_audio(seconds: usize) -> Vec<f32> {
    let n = seconds * 16_000;
    let mut state = 0x2545_f491u32;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let t = i as f32 / 16_000.0;
            let noise = (state as f32 / u32::MAX as f32 - 0.5) * 0.05;
            0.3 * (2.0 * std::f32::consts::PI * (200.0 + 40.0 * t) * t).sin() + noise
        })
        .collect()
}

fn front_end(c: &mut Criterion) {
    let pcm = test_audio(30);
    let filters = stt_engine::whisper::mel::mel_filterbank(16_000, 80);
    c.bench_function("log_mel_30s", |b| {
        b.iter(|| log_mel_spectrogram(black_box(&pcm), &filters, 80))
    });
    if let Some(dir) = installed("silero-vad") {
        let vad = stt_engine::vad::SileroVad::load(&dir.join("model.safetensors"), &Device::Cpu)
            .expect("silero loads");
        c.bench_function("vad_30s", |b| {
            b.iter(|| vad.speech_probabilities(black_box(&pcm)).unwrap())
        });
    } else {
        eprintln!("skipping vad_30s: silero-vad is not installed (scripts/fetch-models.sh)");
    }
}

fn network(c: &mut Criterion) {
    let name = model_name();
    let mut variants = vec![name.clone()];
    if installed(&format!("{name}-int8")).is_some() {
        variants.push(format!("{name}-int8"));
    }
    for variant in variants {
        let Some(dir) = installed(&variant) else {
            eprintln!("skipping {variant}: not installed (scripts/fetch-models.sh {variant})");
            continue;
        };
        let model = WhisperModel::load(&dir, &Device::Cpu).expect("model loads");
        let net = &model.network;
        let mel =
            Tensor::randn(0f32, 1.0, (1, net.config.num_mel_bins, 3000), &Device::Cpu).unwrap();
        c.bench_function(&format!("encoder_window/{variant}"), |b| {
            b.iter(|| net.encode(black_box(&mel)).unwrap())
        });
        let audio = net.encode(&mel).unwrap();
        let cross = net.cross_attention_cache(&audio).unwrap();
        // Steady-state decoder steps in the middle of a window: after a 32-token prompt,
        // one token per step; a fresh cache (prompt untimed) before the context fills up.
        let prompt = Tensor::new(&[[50257u32; 32]], &Device::Cpu).unwrap();
        let token = Tensor::new(&[[440u32]], &Device::Cpu).unwrap();
        c.bench_function(&format!("decoder_step_with_logits/{variant}"), |b| {
            b.iter_custom(|iters| {
                let mut total = std::time::Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let mut cache = net.new_decoder_cache();
                    net.decode(&prompt, &mut cache, &cross).unwrap();
                    let steps = (iters - done).min(200);
                    let start = std::time::Instant::now();
                    for _ in 0..steps {
                        let hidden = net.decode(black_box(&token), &mut cache, &cross).unwrap();
                        black_box(net.logits(&hidden).unwrap());
                    }
                    total += start.elapsed();
                    done += steps;
                }
                total
            })
        });
        batched(c, &variant, net, &mel);
    }
}

/// What serving a backlog saves: one decoder step for n streams at once (each with its own
/// prefix and window) and the encoder on n windows in one pass, per batch; divide by n
/// for the cost per stream and compare with n = 1.
fn batched(
    c: &mut Criterion,
    variant: &str,
    net: &stt_engine::whisper::WhisperNetwork,
    mel: &Tensor,
) {
    // Each stream gets its own copy of the cross-attention keys/values, as in serving:
    // shared ones would stay in cache and flatter the batch.
    let audio = net.encode(mel).unwrap();
    let crosses: Vec<_> = (0..8)
        .map(|_| net.cross_attention_cache(&audio).unwrap())
        .collect();
    let prompt = Tensor::new(&[[50257u32; 32]], &Device::Cpu).unwrap();
    let mut group = c.benchmark_group(format!("decoder_steps_batched/{variant}"));
    for n in [1usize, 2, 4, 8] {
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let mut total = std::time::Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let mut caches: Vec<_> = (0..n).map(|_| net.new_decoder_cache()).collect();
                    for (cache, cross) in caches.iter_mut().zip(&crosses) {
                        net.decode(&prompt, cache, cross).unwrap();
                    }
                    let steps = (iters - done).min(200);
                    let start = std::time::Instant::now();
                    for _ in 0..steps {
                        let mut inputs: Vec<StepInput> = caches
                            .iter_mut()
                            .zip(&crosses)
                            .map(|(cache, cross)| StepInput {
                                cache,
                                cross,
                                token: 440,
                            })
                            .collect();
                        black_box(net.decode_steps(&mut inputs).unwrap());
                    }
                    total += start.elapsed();
                    done += steps;
                }
                total
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group(format!("encoder_windows_batched/{variant}"));
    group.sample_size(10);
    for n in [1usize, 2] {
        let mels = Tensor::cat(&vec![mel.clone(); n], 0).unwrap();
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| net.encode(black_box(&mels)).unwrap())
        });
    }
    group.finish();
}

/// Our kernels next to the candle ops they replace, on encoder-sized inputs.
fn kernels_vs_candle(c: &mut Criterion) {
    let dev = Device::Cpu;
    let (t, d, heads) = (1500, 384, 6);
    let q = Tensor::randn(0f32, 1.0, (1, t, d), &dev).unwrap();
    let k = Tensor::randn(0f32, 1.0, (1, t, d), &dev).unwrap();
    let v = Tensor::randn(0f32, 1.0, (1, t, d), &dev).unwrap();
    let mut group = c.benchmark_group("attention_1500x384");
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("stt_kernel", heads), |b| {
        b.iter(|| kernels::attention(&q, &k, &v, heads, None).unwrap())
    });
    group.bench_function(BenchmarkId::new("candle_ops", heads), |b| {
        b.iter(|| {
            let split = |x: &Tensor| {
                x.reshape((1, t, heads, d / heads))
                    .unwrap()
                    .transpose(1, 2)
                    .unwrap()
                    .contiguous()
                    .unwrap()
            };
            let (q, k, v) = (split(&q), split(&k), split(&v));
            let scores = (q.matmul(&k.t().unwrap()).unwrap() * 0.125).unwrap();
            let w = candle_nn::ops::softmax(&scores, D::Minus1).unwrap();
            w.matmul(&v).unwrap()
        })
    });
    group.finish();
    let x = Tensor::randn(0f32, 1.0, (1, t, 4 * d), &dev).unwrap();
    let mut group = c.benchmark_group("gelu_erf_1500x1536");
    group.bench_function("stt_kernel", |b| b.iter(|| kernels::gelu_erf(&x).unwrap()));
    group.bench_function("candle_op", |b| b.iter(|| x.gelu_erf().unwrap()));
    group.finish();
    let w = Tensor::randn(0f32, 0.1, (51_864, d), &dev).unwrap();
    let h = Tensor::randn(0f32, 1.0, (1, 1, d), &dev).unwrap();
    let packed = kernels::PackedLinear::new(
        kernels::PackedWeight::f16(w.to_dtype(DType::F16).unwrap()).unwrap(),
        None,
    )
    .unwrap();
    let dense = candle_nn::Linear::new(w.clone(), None);
    let mut group = c.benchmark_group("logits_51864x384");
    group.bench_function("stt_f16_streaming", |b| {
        b.iter(|| candle_core::Module::forward(&packed, &h).unwrap())
    });
    group.bench_function("candle_f32_matmul", |b| {
        b.iter(|| candle_core::Module::forward(&dense, &h).unwrap())
    });
    // Several streams' rows at once read the weights once: what batching decoders saves.
    for rows in [2, 4] {
        let hs = Tensor::randn(0f32, 1.0, (rows, 1, d), &dev).unwrap();
        group.bench_function(BenchmarkId::new("stt_f16_streaming_rows", rows), |b| {
            b.iter(|| candle_core::Module::forward(&packed, &hs).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, front_end, network, kernels_vs_candle);
criterion_main!(benches);
