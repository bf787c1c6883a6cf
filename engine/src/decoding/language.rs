//! Spoken-language detection from one encoded window: the decoder's distribution
//! over language tokens right after start-of-transcript.

use crate::whisper::network::CrossAttentionCache;
use crate::whisper::WhisperModel;
use candle_core::{Result, Tensor};

/// Detected language with its probability, and every language's probability (descending).
#[derive(Debug, Clone)]
pub struct LanguageGuess {
    pub code: &'static str,
    pub probability: f64,
    pub all: Vec<(&'static str, f64)>,
}

pub fn detect_language(model: &WhisperModel, cross: &CrossAttentionCache) -> Result<LanguageGuess> {
    let net = &model.network;
    let languages = model.tokenizer.languages();
    let mut cache = net.new_decoder_cache();
    let sot = Tensor::new(&[model.tokenizer.special.sot], &net.device)?.unsqueeze(0)?;
    let hidden = net.decode(&sot, &mut cache, cross)?;
    let logits: Vec<f32> = net.logits(&hidden)?.flatten_all()?.to_vec1()?;
    let lang_logits: Vec<f64> = languages
        .iter()
        .map(|(_, id)| logits[*id as usize] as f64)
        .collect();
    let max = lang_logits
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = lang_logits.iter().map(|l| (l - max).exp()).sum();
    let mut all: Vec<(&'static str, f64)> = languages
        .iter()
        .zip(&lang_logits)
        .map(|((code, _), l)| (*code, (l - max).exp() / total))
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (code, probability) = all.first().copied().unwrap_or(("en", 1.0));
    Ok(LanguageGuess {
        code,
        probability,
        all,
    })
}
