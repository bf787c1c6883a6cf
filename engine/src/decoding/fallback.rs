//! Temperature fallback for one window: decode greedily, and retry hotter while the
//! output looks repetitive (compression ratio) or unlikely (average log-probability),
//! unless the window is judged to be silence.

use super::logit_filters::FilterContext;
use super::options::TranscribeOptions;
use super::steps::Stepper;
use super::text::compression_ratio;
use super::window::{decode_window, WindowResult};
use crate::whisper::network::CrossAttentionCache;
use crate::whisper::WhisperModel;
use candle_core::Result;
use rand::rngs::StdRng;
use std::sync::atomic::{AtomicBool, Ordering};

/// The window result that was kept, with the checks it was judged by.
#[derive(Debug, Clone)]
pub struct FallbackResult {
    pub result: WindowResult,
    pub compression_ratio: f64,
    /// Temperature of the last attempt (decides whether the prompt is reset).
    pub final_temperature: f32,
}

#[allow(clippy::too_many_arguments)]
pub async fn decode_with_fallback(
    model: &WhisperModel,
    cross: &CrossAttentionCache,
    prompt: &[u32],
    filters: &FilterContext<'_>,
    opts: &TranscribeOptions,
    rng: &mut StdRng,
    cancel: Option<&AtomicBool>,
    stepper: &Stepper,
) -> Result<FallbackResult> {
    let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let mut attempts: Vec<(WindowResult, f64)> = Vec::new();
    let mut below_ratio: Vec<usize> = Vec::new();
    let temperatures = if opts.temperatures.is_empty() {
        &[0.0][..]
    } else {
        &opts.temperatures[..]
    };
    let mut last_temperature = temperatures[0];
    for &temperature in temperatures {
        last_temperature = temperature;
        let candidates = if temperature > 0.0 {
            opts.best_of.max(1)
        } else {
            1
        };
        let mut best: Option<WindowResult> = None;
        for _ in 0..candidates {
            let r = decode_window(
                model,
                cross,
                prompt,
                filters,
                temperature,
                rng,
                cancel,
                stepper,
            )
            .await?;
            let better = best.as_ref().is_none_or(|b| r.avg_logprob > b.avg_logprob);
            if better {
                best = Some(r);
            }
        }
        let result = best.expect("at least one candidate");
        let text = model.tokenizer.decode_text(&result.tokens);
        let ratio = compression_ratio(text.trim());

        let mut needs_fallback = false;
        if opts.compression_ratio_threshold.is_some_and(|t| ratio > t) {
            needs_fallback = true;
        } else {
            below_ratio.push(attempts.len());
        }
        let low_logprob = opts
            .log_prob_threshold
            .is_some_and(|t| result.avg_logprob < t);
        if low_logprob {
            needs_fallback = true;
        }
        let is_silence = low_logprob
            && opts
                .no_speech_threshold
                .is_some_and(|t| result.no_speech_prob > t);
        if is_silence {
            needs_fallback = false;
        }
        attempts.push((result, ratio));
        if !needs_fallback || cancelled() {
            let (result, compression_ratio) = attempts.pop().expect("just pushed");
            return Ok(FallbackResult {
                result,
                compression_ratio,
                final_temperature: temperature,
            });
        }
    }
    // Every temperature failed: keep the likeliest attempt, preferring non-repetitive ones.
    let pool: Vec<usize> = if below_ratio.is_empty() {
        (0..attempts.len()).collect()
    } else {
        below_ratio
    };
    let best = pool
        .into_iter()
        .max_by(|&a, &b| {
            attempts[a]
                .0
                .avg_logprob
                .total_cmp(&attempts[b].0.avg_logprob)
        })
        .expect("at least one attempt");
    let (result, compression_ratio) = attempts.swap_remove(best);
    Ok(FallbackResult {
        result,
        compression_ratio,
        final_temperature: last_temperature,
    })
}
