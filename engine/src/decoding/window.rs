//! Decoding of one 30 s window at one temperature: greedy at 0, sampling above it.

use super::logit_filters::{self, FilterContext};
use super::steps::Stepper;
use crate::whisper::network::CrossAttentionCache;
use crate::whisper::WhisperModel;
use candle_core::{IndexOp, Result, Tensor};
use rand::Rng;
use std::sync::atomic::{AtomicBool, Ordering};

/// What one decoding pass over a window produced.
#[derive(Debug, Clone)]
pub struct WindowResult {
    /// Generated tokens, text and timestamps, without the end-of-text token.
    pub tokens: Vec<u32>,
    /// Log-probability of each generated token (same length as `tokens`).
    pub token_logprobs: Vec<f32>,
    /// Sum of log-probabilities including end-of-text, divided by (tokens + 1).
    pub avg_logprob: f64,
    /// Probability of the no-speech token at the start-of-transcript position.
    pub no_speech_prob: f64,
    pub temperature: f32,
}

fn log_softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let norm = max + logits.iter().map(|&l| (l - max).exp()).sum::<f32>().ln();
    logits.iter().map(|&l| l - norm).collect()
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

fn sample(logits: &[f32], temperature: f32, rng: &mut impl Rng) -> usize {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f32> = logits
        .iter()
        .map(|&l| ((l - max) / temperature).exp())
        .collect();
    let total: f32 = weights.iter().sum();
    let mut r = rng.random::<f32>() * total;
    for (i, w) in weights.iter().enumerate() {
        r -= w;
        if r <= 0.0 && *w > 0.0 {
            return i;
        }
    }
    argmax(logits)
}

/// Runs the decoder over `prompt` and generates until end-of-text or the context is full.
/// The prompt is fed here; each generated token is fed through `stepper`.
#[allow(clippy::too_many_arguments)]
pub async fn decode_window(
    model: &WhisperModel,
    cross: &CrossAttentionCache,
    prompt: &[u32],
    filters: &FilterContext<'_>,
    temperature: f32,
    rng: &mut impl Rng,
    cancel: Option<&AtomicBool>,
    stepper: &Stepper,
) -> Result<WindowResult> {
    let net = &model.network;
    let special = &model.tokenizer.special;
    let device = &net.device;
    let sot_index = prompt.iter().position(|&t| t == special.sot).unwrap_or(0);

    let mut cache = net.new_decoder_cache();
    let input = Tensor::new(prompt, device)?.unsqueeze(0)?;
    let hidden = net.decode(&input, &mut cache, cross)?;
    let picked = Tensor::cat(
        &[
            hidden.i((.., sot_index..sot_index + 1, ..))?,
            hidden.i((.., prompt.len() - 1..prompt.len(), ..))?,
        ],
        1,
    )?;
    let logits = net.logits(&picked)?.squeeze(0)?;
    let sot_logits: Vec<f32> = logits.i(0)?.to_vec1()?;
    let no_speech_prob = log_softmax(&sot_logits)[special.no_speech as usize].exp() as f64;
    let mut next_logits: Vec<f32> = logits.i(1)?.to_vec1()?;

    let mut tokens = Vec::new();
    let mut token_logprobs = Vec::new();
    let mut sum_logprob = 0f64;
    loop {
        logit_filters::apply(filters, &tokens, &mut next_logits);
        let next = if temperature > 0.0 {
            sample(&next_logits, temperature, rng)
        } else {
            argmax(&next_logits)
        } as u32;
        let logprob = log_softmax(&next_logits)[next as usize];
        sum_logprob += logprob as f64;
        if next == special.eot {
            break;
        }
        tokens.push(next);
        token_logprobs.push(logprob);
        // A cancelled job stops within a few tokens; the caller reports the cancellation.
        if cache.len() >= net.max_tokens() || cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            break;
        }
        next_logits = stepper.step(net, &mut cache, cross, next).await?;
    }
    Ok(WindowResult {
        avg_logprob: sum_logprob / (tokens.len() + 1) as f64,
        tokens,
        token_logprobs,
        no_speech_prob,
        temperature,
    })
}
