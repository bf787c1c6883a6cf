//! `MarianTranslator`: an opus-mt model on candle, from text to text.
//!
//! The network is candle-transformers' `marian::MTModel`; this module adds what turns it
//! into a translator: loading a Hugging Face directory, tokenization, the decoding
//! policy of transformers' `generate()` (greedy or beam search, see [`super::search`] and
//! [`super::beam`]) and segment-by-segment translation of long text.
//!
//! Threading: candle's model keeps its key/value caches inside itself and needs `&mut`
//! to run, so the loaded model is never run directly. Every call clones it (the weights
//! are reference-counted tensors: a clone copies a few hundred pointers, not weights),
//! runs the encoder on the clone, and each beam owns a further clone as its decoder
//! state. `MarianTranslator` itself is therefore immutable, `Send + Sync`, and can be
//! shared by any number of threads that translate at the same time.
//!
//! Two quirks of candle 0.11's Marian that this relies on, checked by the reference test:
//! its encoder layers are built with decoder attention and also keep a cache (harmless on
//! a fresh clone that encodes once; cleared right after encoding), and the decoder's
//! cross-attention recomputes the encoder keys/values at every step (correct, if slower).

use super::config::{EarlyStopping, ModelConfig};
use super::error::{Result, TranslateError};
use super::search::{greedy, Hypothesis, SearchParams, StepDecoder};
use super::tokenizer::MarianTokenizer;
use super::{beam::beam_search, segments::split_for_translation};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::marian::MTModel;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Decoding options for one translation call.
#[derive(Debug, Clone, PartialEq)]
pub struct MarianOptions {
    /// 1: greedy search; more: beam search with this many beams.
    pub beam_size: usize,
    /// Maximum generated tokens per chunk, EOS included (transformers' `max_new_tokens`).
    /// `None`: `3 × source tokens + 16`, capped by the model's positions. The cap guards
    /// against the repetition loops a model can fall into, which would otherwise run to
    /// 511 tokens; real translations are far shorter than three target tokens per source
    /// token.
    pub max_length: Option<usize>,
    /// Exponent of the length normalisation of beam scores: > 0 favours longer output.
    pub length_penalty: f32,
    pub early_stopping: EarlyStopping,
    /// Whether beam scores are renormalised over the allowed tokens (opus-mt: yes).
    pub renormalize_logits: bool,
    /// Chunks of text longer than this many source tokens are split (see
    /// [`super::segments`]); capped by the model's positions.
    pub max_source_tokens: usize,
}

impl Default for MarianOptions {
    /// The settings of the opus-mt models' generation configs: 4 beams, length penalty 1,
    /// renormalised scores; chunks of at most 128 source tokens.
    fn default() -> Self {
        Self {
            beam_size: 4,
            max_length: None,
            length_penalty: 1.0,
            early_stopping: EarlyStopping::Heuristic,
            renormalize_logits: true,
            max_source_tokens: 128,
        }
    }
}

impl MarianOptions {
    /// Greedy search with otherwise default options.
    pub fn greedy() -> Self {
        Self {
            beam_size: 1,
            ..Self::default()
        }
    }
}

/// A loaded Marian (opus-mt) model. Immutable and `Sync`: share it behind an `Arc`.
pub struct MarianTranslator {
    model: MTModel,
    tokenizer: MarianTokenizer,
    config: ModelConfig,
    device: Device,
    dir: PathBuf,
}

/// One hypothesis' decoder: a private copy of the model (for its KV cache), the encoder
/// output it attends to, and the position of the next token.
#[derive(Clone)]
struct MarianStep {
    model: MTModel,
    encoder_output: Tensor,
    position: usize,
}

impl StepDecoder for MarianStep {
    fn step(&mut self, token: u32) -> Result<Vec<f32>> {
        let input = Tensor::new(&[[token]], self.encoder_output.device())?;
        let logits = self
            .model
            .decode(&input, &self.encoder_output, self.position)?;
        self.position += 1;
        Ok(logits.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?)
    }
}

/// Opens `model.safetensors` for candle, accepting the key variants of HF checkpoints.
///
/// candle reads the tied embedding as `model.shared.weight`. transformers writes that key,
/// but checkpoints converted by other tools may keep only one of its tied aliases; then the
/// file is read into memory and the alias renamed (the common case stays memory-mapped).
fn var_builder(dir: &Path, device: &Device) -> Result<VarBuilder<'static>> {
    let path = dir.join("model.safetensors");
    if !path.is_file() {
        let hint = if dir.join("pytorch_model.bin").is_file() {
            ": convert pytorch_model.bin with \
             `python3 scripts/reference/make_marian_reference.py convert DIR`"
        } else {
            ""
        };
        return Err(TranslateError::load(
            dir,
            format!("missing model.safetensors{hint}"),
        ));
    }
    // SAFETY: the weights are memory-mapped read-only; model directories are written
    // once and never modified in place while in use.
    let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&path], DType::F32, device) }
        .map_err(|e| TranslateError::load(&path, e))?;
    const SHARED: &str = "model.shared.weight";
    if vb.contains_tensor(SHARED) {
        return Ok(vb);
    }
    let mut tensors: HashMap<String, Tensor> = candle_core::safetensors::load(&path, device)
        .map_err(|e| TranslateError::load(&path, e))?;
    let alias = [
        "model.encoder.embed_tokens.weight",
        "model.decoder.embed_tokens.weight",
        "lm_head.weight",
    ]
    .into_iter()
    .find(|k| tensors.contains_key(*k))
    .ok_or_else(|| TranslateError::load(&path, "no token embedding (model.shared.weight)"))?;
    let shared = tensors[alias].clone();
    tensors.insert(SHARED.to_string(), shared);
    Ok(VarBuilder::from_tensors(tensors, DType::F32, device))
}

impl MarianTranslator {
    /// Loads an opus-mt directory: `config.json`, `model.safetensors`, `vocab.json`,
    /// `source.tokenizer.json`, `target.tokenizer.json` (and `generation_config.json` if
    /// present). See [`super`] for how to produce the tokenizer files.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, TranslateError> {
        let config = ModelConfig::read(dir)?;
        let vb = var_builder(dir, device)?;
        let model = MTModel::new(&config.marian, vb)
            .map_err(|e| TranslateError::load(dir.join("model.safetensors"), e))?;
        let tokenizer = MarianTokenizer::load(dir, config.marian.vocab_size, config.pad_token_id)?;
        if tokenizer.eos_id() != config.eos_token_id {
            return Err(TranslateError::load(
                dir,
                format!(
                    "vocab.json's </s> is {}, config.json's eos_token_id {}",
                    tokenizer.eos_id(),
                    config.eos_token_id
                ),
            ));
        }
        Ok(Self {
            model,
            tokenizer,
            config,
            device: device.clone(),
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn tokenizer(&self) -> &MarianTokenizer {
        &self.tokenizer
    }

    /// The model's own generation defaults (`generation_config.json`) as options.
    pub fn default_options(&self) -> MarianOptions {
        let g = &self.config.generation;
        MarianOptions {
            beam_size: g.num_beams,
            max_length: None,
            length_penalty: g.length_penalty,
            early_stopping: g.early_stopping,
            renormalize_logits: g.renormalize_logits,
            ..MarianOptions::default()
        }
    }

    /// Longest output the decoder's positions allow (transformers: max_length 512 with
    /// 512 positions, i.e. 511 generated tokens after the start token).
    fn max_new_tokens_cap(&self) -> usize {
        let positions = self.config.max_position_embeddings.saturating_sub(1);
        let configured = self
            .config
            .generation
            .max_length
            .map(|l| l.saturating_sub(1));
        configured.map_or(positions, |c| c.min(positions)).max(1)
    }

    fn search_params(&self, source_len: usize, opts: &MarianOptions) -> Result<SearchParams> {
        if opts.beam_size == 0 {
            return Err(TranslateError::InvalidOptions(
                "beam_size must be at least 1".into(),
            ));
        }
        if opts.max_length == Some(0) {
            return Err(TranslateError::InvalidOptions(
                "max_length must be at least 1".into(),
            ));
        }
        if !opts.length_penalty.is_finite() {
            return Err(TranslateError::InvalidOptions(
                "length_penalty must be finite".into(),
            ));
        }
        let wanted = opts.max_length.unwrap_or(3 * source_len + 16);
        Ok(SearchParams {
            start: self.config.decoder_start_token_id,
            eos: self.config.eos_token_id,
            suppressed: self.config.generation.suppressed_tokens.clone(),
            max_new_tokens: wanted.min(self.max_new_tokens_cap()),
            beam_size: opts.beam_size,
            length_penalty: opts.length_penalty,
            early_stopping: opts.early_stopping,
            renormalize: opts.renormalize_logits,
        })
    }

    /// Translates model input ids (as [`MarianTokenizer::encode`] makes them, ending with
    /// `</s>`) and returns the best hypothesis: generated ids ending with EOS, and score.
    pub fn generate(&self, source_ids: &[u32], opts: &MarianOptions) -> Result<Hypothesis> {
        let max = self.config.max_position_embeddings;
        if source_ids.len() > max {
            return Err(TranslateError::SourceTooLong {
                len: source_ids.len(),
                max,
            });
        }
        if source_ids.is_empty() {
            return Err(TranslateError::InvalidOptions("empty source".into()));
        }
        let params = self.search_params(source_ids.len(), opts)?;
        let mut model = self.model.clone();
        let source = Tensor::new(source_ids, &self.device)?.unsqueeze(0)?;
        let encoder_output = model.encoder().forward(&source, 0)?;
        model.reset_kv_cache();
        let state = MarianStep {
            model,
            encoder_output,
            position: 0,
        };
        if params.beam_size == 1 {
            greedy(state, &params)
        } else {
            beam_search(state, &params)
        }
    }

    /// Output ids (ending with EOS) for model input ids; see [`Self::generate`].
    pub fn translate_ids(&self, source_ids: &[u32], opts: &MarianOptions) -> Result<Vec<u32>> {
        Ok(self.generate(source_ids, opts)?.tokens)
    }

    /// Translates one piece of text. Long text is split into chunks (sentences first) that
    /// are translated separately and joined with spaces; blank text gives "".
    pub fn translate(&self, text: &str, opts: &MarianOptions) -> Result<String> {
        let max_tokens = opts
            .max_source_tokens
            .clamp(2, self.config.max_position_embeddings);
        // The tokenizer cannot fail on valid UTF-8 in practice; a failure counts as "too
        // long" so that splitting goes on and the error surfaces from `encode` below.
        let count = |s: &str| self.tokenizer.count(s).unwrap_or(usize::MAX);
        let mut outputs = Vec::new();
        for chunk in split_for_translation(text, max_tokens, &count) {
            let ids = self.tokenizer.encode(&chunk)?;
            let hypothesis = self.generate(&ids, opts)?;
            let translated = self.tokenizer.decode(&hypothesis.tokens)?;
            tracing::debug!(source = %chunk, translation = %translated, "translated chunk");
            if !translated.is_empty() {
                outputs.push(translated);
            }
        }
        Ok(outputs.join(" "))
    }

    /// Translates transcript segments one by one: one output per input, in order, so the
    /// translation keeps the transcript's segment boundaries (and timestamps).
    pub fn translate_segments(
        &self,
        segments: &[&str],
        opts: &MarianOptions,
    ) -> Result<Vec<String>> {
        segments.iter().map(|s| self.translate(s, opts)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translator_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<MarianTranslator>();
    }
}
