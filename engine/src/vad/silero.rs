//! The Silero VAD network: a learned STFT (a fixed convolution), four convolutions,
//! one LSTM cell carried across 32 ms chunks, and a sigmoid speech probability.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{Conv1d, Conv1dConfig, VarBuilder};
use std::path::Path;

/// Samples per decision (32 ms at 16 kHz).
pub const CHUNK_SAMPLES: usize = 512;
/// Samples of the previous chunk prepended to each chunk.
const CONTEXT_SAMPLES: usize = 64;
/// Right reflect-padding before the STFT convolution.
const REFLECT_PAD: usize = 64;
const HIDDEN: usize = 128;
/// Chunks pushed through the convolutions at once (bounds memory on long audio).
const CHUNKS_PER_BATCH: usize = 2048;

pub struct SileroVad {
    stft: Conv1d,
    convs: [Conv1d; 4],
    /// LSTM weights, row-major `[4 * HIDDEN, HIDDEN]`, gates in PyTorch's order i, f, g, o.
    w_ih: Vec<f32>,
    w_hh: Vec<f32>,
    bias: Vec<f32>,
    final_w: Vec<f32>,
    final_b: f32,
    device: Device,
}

fn conv(
    vb: &VarBuilder,
    name: &str,
    shape: (usize, usize, usize),
    stride: usize,
    padding: usize,
    bias: bool,
) -> Result<Conv1d> {
    let vb = vb.pp(name);
    let b = if bias {
        Some(vb.get(shape.0, "bias")?)
    } else {
        None
    };
    let cfg = Conv1dConfig {
        padding,
        stride,
        ..Default::default()
    };
    Ok(Conv1d::new(vb.get(shape, "weight")?, b, cfg))
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl SileroVad {
    /// Loads `model.safetensors` of the `silero-vad` store entry (or any file with the same tensors).
    pub fn load(weights: &Path, device: &Device) -> Result<Self> {
        // SAFETY: read-only map of a file the store never rewrites in place.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, device)? };
        let flat = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            vb.get(shape, name)?.flatten_all()?.to_vec1::<f32>()
        };
        let b_ih = flat("lstm_cell.bias_ih", &[4 * HIDDEN])?;
        let b_hh = flat("lstm_cell.bias_hh", &[4 * HIDDEN])?;
        Ok(Self {
            stft: conv(&vb, "stft_conv", (258, 1, 256), 128, 0, false)?,
            convs: [
                conv(&vb, "conv1", (128, 129, 3), 1, 1, true)?,
                conv(&vb, "conv2", (64, 128, 3), 2, 1, true)?,
                conv(&vb, "conv3", (64, 64, 3), 2, 1, true)?,
                conv(&vb, "conv4", (128, 64, 3), 1, 1, true)?,
            ],
            w_ih: flat("lstm_cell.weight_ih", &[4 * HIDDEN, HIDDEN])?,
            w_hh: flat("lstm_cell.weight_hh", &[4 * HIDDEN, HIDDEN])?,
            bias: b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect(),
            final_w: flat("final_conv.weight", &[1, HIDDEN, 1])?,
            final_b: flat("final_conv.bias", &[1])?[0],
            device: device.clone(),
        })
    }

    /// Per-chunk features before the LSTM: `[n, HIDDEN]` for chunks `first..first + n`.
    fn features(&self, pcm_16k: &[f32], first: usize, n: usize) -> Result<Vec<f32>> {
        let len = CONTEXT_SAMPLES + CHUNK_SAMPLES + REFLECT_PAD;
        let mut input = vec![0f32; n * len];
        for (k, row) in input.chunks_mut(len).enumerate() {
            let start = ((first + k) * CHUNK_SAMPLES) as isize - CONTEXT_SAMPLES as isize;
            let body = CONTEXT_SAMPLES + CHUNK_SAMPLES;
            for (j, v) in row[..body].iter_mut().enumerate() {
                let i = start + j as isize;
                *v = if i >= 0 {
                    pcm_16k.get(i as usize).copied().unwrap_or(0.0)
                } else {
                    0.0
                };
            }
            // Reflect (without repeating the edge sample) to the right.
            for j in 0..REFLECT_PAD {
                row[body + j] = row[body - 2 - j];
            }
        }
        let x = Tensor::from_vec(input, (n, 1, len), &self.device)?;
        let spec = self.stft.forward(&x)?;
        let re = spec.narrow(1, 0, 129)?;
        let im = spec.narrow(1, 129, 129)?;
        let mut x = (re.sqr()? + im.sqr()?)?.sqrt()?;
        for conv in &self.convs {
            x = conv.forward(&x)?.relu()?;
        }
        // One time step is left after the two stride-2 convolutions.
        x.squeeze(D::Minus1)?.flatten_all()?.to_vec1::<f32>()
    }

    /// Speech probability of every 32 ms chunk of 16 kHz audio.
    pub fn speech_probabilities(&self, pcm_16k: &[f32]) -> Result<Vec<f32>> {
        let n_chunks = pcm_16k.len().div_ceil(CHUNK_SAMPLES);
        let mut probs = Vec::with_capacity(n_chunks);
        let mut h = vec![0f32; HIDDEN];
        let mut c = vec![0f32; HIDDEN];
        let mut gates = vec![0f32; 4 * HIDDEN];
        for first in (0..n_chunks).step_by(CHUNKS_PER_BATCH) {
            let n = CHUNKS_PER_BATCH.min(n_chunks - first);
            let feats = self.features(pcm_16k, first, n)?;
            for x in feats.chunks(HIDDEN) {
                for (g, gate) in gates.iter_mut().enumerate() {
                    let wi = &self.w_ih[g * HIDDEN..(g + 1) * HIDDEN];
                    let wh = &self.w_hh[g * HIDDEN..(g + 1) * HIDDEN];
                    let dot_x: f32 = wi.iter().zip(x).map(|(a, b)| a * b).sum();
                    let dot_h: f32 = wh.iter().zip(&h).map(|(a, b)| a * b).sum();
                    *gate = self.bias[g] + dot_x + dot_h;
                }
                let mut logit = self.final_b;
                for k in 0..HIDDEN {
                    let i = sigmoid(gates[k]);
                    let f = sigmoid(gates[HIDDEN + k]);
                    let g = gates[2 * HIDDEN + k].tanh();
                    let o = sigmoid(gates[3 * HIDDEN + k]);
                    c[k] = f * c[k] + i * g;
                    h[k] = o * c[k].tanh();
                    logit += self.final_w[k] * h[k].max(0.0);
                }
                probs.push(sigmoid(logit));
            }
        }
        Ok(probs)
    }
}
