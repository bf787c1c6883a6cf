//! Reading a Hugging Face Marian `config.json` (and `generation_config.json`).
//!
//! candle's `marian::Config` has no serde defaults, but real opus-mt configs differ in
//! which keys they carry (the older ones lack `share_encoder_decoder_embeddings`,
//! `decoder_vocab_size`, sometimes `forced_eos_token_id`), so the file is read here with
//! the defaults of transformers' `MarianConfig` and then checked for the variants candle's
//! model does not implement, which would otherwise load and silently compute garbage.

use super::error::{Result, TranslateError};
use candle_transformers::models::marian;
use serde::Deserialize;
use std::path::Path;

/// `config.json` as written by transformers, with `MarianConfig`'s defaults.
#[derive(Debug, Clone, Deserialize)]
struct RawConfig {
    #[serde(default)]
    model_type: Option<String>,
    #[serde(default = "defaults::vocab_size")]
    vocab_size: usize,
    #[serde(default)]
    decoder_vocab_size: Option<usize>,
    #[serde(default = "defaults::max_position_embeddings")]
    max_position_embeddings: usize,
    #[serde(default = "defaults::layers")]
    encoder_layers: usize,
    #[serde(default = "defaults::ffn_dim")]
    encoder_ffn_dim: usize,
    #[serde(default = "defaults::heads")]
    encoder_attention_heads: usize,
    #[serde(default = "defaults::layers")]
    decoder_layers: usize,
    #[serde(default = "defaults::ffn_dim")]
    decoder_ffn_dim: usize,
    #[serde(default = "defaults::heads")]
    decoder_attention_heads: usize,
    #[serde(default = "defaults::activation")]
    activation_function: String,
    #[serde(default = "defaults::d_model")]
    d_model: usize,
    #[serde(default = "defaults::pad")]
    decoder_start_token_id: u32,
    #[serde(default)]
    scale_embedding: bool,
    #[serde(default = "defaults::pad_opt")]
    pad_token_id: Option<u32>,
    #[serde(default = "defaults::eos")]
    eos_token_id: IdOrList,
    #[serde(default = "defaults::eos")]
    forced_eos_token_id: IdOrList,
    #[serde(default = "defaults::yes")]
    share_encoder_decoder_embeddings: bool,
    #[serde(default = "defaults::yes")]
    tie_word_embeddings: bool,
    // Options of the BART family that old Marian configs still spell out. candle's model
    // implements only Marian's choice (post-norm, no extra norms); anything else is refused.
    #[serde(default)]
    normalize_before: bool,
    #[serde(default)]
    add_final_layer_norm: bool,
    #[serde(default)]
    normalize_embedding: bool,
    #[serde(default)]
    add_bias_logits: bool,
    #[serde(flatten)]
    generation: RawGeneration,
}

/// Generation settings: in `generation_config.json`, or in `config.json` for old models.
#[derive(Debug, Clone, Default, Deserialize)]
struct RawGeneration {
    #[serde(default)]
    num_beams: Option<usize>,
    #[serde(default)]
    max_length: Option<usize>,
    #[serde(default)]
    length_penalty: Option<f32>,
    #[serde(default)]
    early_stopping: Option<serde_json::Value>,
    #[serde(default)]
    renormalize_logits: Option<bool>,
    #[serde(default)]
    bad_words_ids: Option<Vec<Vec<i64>>>,
}

/// An id that transformers allows to be a list (several EOS tokens); Marian has one.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum IdOrList {
    One(u32),
    Many(Vec<u32>),
}

impl IdOrList {
    fn first(&self) -> Option<u32> {
        match self {
            Self::One(id) => Some(*id),
            Self::Many(ids) => ids.first().copied(),
        }
    }
}

mod defaults {
    // transformers' MarianConfig defaults.
    pub fn vocab_size() -> usize {
        58101
    }
    pub fn max_position_embeddings() -> usize {
        1024
    }
    pub fn layers() -> usize {
        12
    }
    pub fn ffn_dim() -> usize {
        4096
    }
    pub fn heads() -> usize {
        16
    }
    pub fn d_model() -> usize {
        1024
    }
    pub fn activation() -> String {
        "gelu".into()
    }
    pub fn pad() -> u32 {
        58100
    }
    pub fn pad_opt() -> Option<u32> {
        Some(58100)
    }
    pub fn eos() -> super::IdOrList {
        super::IdOrList::One(0)
    }
    pub fn yes() -> bool {
        true
    }
}

/// How beam search stops, with transformers' meaning of `early_stopping`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EarlyStopping {
    /// `false` (the default): stop once no running beam can, by the length-normalised
    /// estimate at the current length, beat the worst finished hypothesis.
    #[default]
    Heuristic,
    /// `true`: stop as soon as `beam_size` hypotheses have finished.
    OnFullBeam,
    /// `"never"`: like `Heuristic`, but with a positive length penalty the estimate uses
    /// the maximum length, i.e. the canonical beam search that cannot stop early.
    Never,
}

/// The model's own generation defaults (opus-mt: 4 or 6 beams, 512 positions, pad banned).
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationDefaults {
    pub num_beams: usize,
    /// Total length limit including the decoder start token, if the model sets one.
    pub max_length: Option<usize>,
    pub length_penalty: f32,
    pub early_stopping: EarlyStopping,
    pub renormalize_logits: bool,
    /// Tokens never generated: single-token `bad_words_ids` plus pad (see [`ModelConfig`]).
    pub suppressed_tokens: Vec<u32>,
}

/// What the translator needs from the configuration files.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// The configuration handed to candle's Marian model.
    pub marian: marian::Config,
    /// `model_type` from config.json (`"marian"` for opus-mt).
    pub model_type: Option<String>,
    pub eos_token_id: u32,
    pub pad_token_id: u32,
    pub decoder_start_token_id: u32,
    pub max_position_embeddings: usize,
    pub generation: GenerationDefaults,
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| TranslateError::load(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| TranslateError::load(path, format!("invalid JSON: {e}")))
}

impl ModelConfig {
    /// Reads `dir/config.json` and, when present, `dir/generation_config.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join("config.json");
        let value = read_json(&path)?;
        let raw: RawConfig = serde_json::from_value(value)
            .map_err(|e| TranslateError::load(&path, format!("not a Marian config: {e}")))?;
        // generation_config.json overrides the (legacy) generation keys of config.json,
        // as transformers does.
        let gen_path = dir.join("generation_config.json");
        let generation = if gen_path.is_file() {
            serde_json::from_value(read_json(&gen_path)?)
                .map_err(|e| TranslateError::load(&gen_path, e))?
        } else {
            raw.generation.clone()
        };
        Self::from_raw(raw, generation).map_err(|reason| TranslateError::load(&path, reason))
    }

    fn from_raw(raw: RawConfig, generation: RawGeneration) -> Result<Self, String> {
        if let Some(kind) = raw.model_type.as_deref() {
            if kind != "marian" {
                return Err(format!(
                    "model_type is '{kind}', only 'marian' is supported"
                ));
            }
        }
        if raw.normalize_before
            || raw.add_final_layer_norm
            || raw.normalize_embedding
            || raw.add_bias_logits
        {
            return Err(
                "pre-norm / extra layer norms / logit bias variants are not Marian \
                        models candle implements"
                    .into(),
            );
        }
        let decoder_vocab = raw.decoder_vocab_size.unwrap_or(raw.vocab_size);
        // candle ties encoder, decoder and output embeddings to one matrix.
        if !raw.share_encoder_decoder_embeddings || !raw.tie_word_embeddings {
            return Err(
                "models with separate encoder/decoder vocabularies or an untied output \
                        layer are not supported"
                    .into(),
            );
        }
        if decoder_vocab != raw.vocab_size {
            return Err(format!(
                "decoder_vocab_size {decoder_vocab} differs from vocab_size {}",
                raw.vocab_size
            ));
        }
        if !raw.d_model.is_multiple_of(raw.encoder_attention_heads)
            || !raw.d_model.is_multiple_of(raw.decoder_attention_heads)
        {
            return Err("d_model is not a multiple of the number of attention heads".into());
        }
        let activation: candle_nn::Activation =
            serde_json::from_value(serde_json::Value::String(raw.activation_function.clone()))
                .map_err(|_| format!("unsupported activation '{}'", raw.activation_function))?;
        let eos = raw.eos_token_id.first().ok_or("eos_token_id is empty")?;
        let forced_eos = raw.forced_eos_token_id.first().unwrap_or(eos);
        let pad = raw.pad_token_id.unwrap_or(raw.decoder_start_token_id);
        for (name, id) in [
            ("eos_token_id", eos),
            ("pad_token_id", pad),
            ("decoder_start_token_id", raw.decoder_start_token_id),
        ] {
            if id as usize >= raw.vocab_size {
                return Err(format!("{name} {id} is outside the vocabulary"));
            }
        }

        // Marian (C++) has no pad token at all; transformers added one and bans it through
        // `bad_words_ids`, which old configs may lack. It is always banned here: emitting
        // the decoder start token mid-sentence is never a translation.
        let mut suppressed = vec![pad, raw.decoder_start_token_id];
        for words in generation.bad_words_ids.iter().flatten() {
            match words.as_slice() {
                [id] if *id >= 0 && (*id as usize) < raw.vocab_size => suppressed.push(*id as u32),
                _ => tracing::warn!(?words, "multi-token bad_words_ids entry ignored"),
            }
        }
        suppressed.sort_unstable();
        suppressed.dedup();
        let early_stopping = match &generation.early_stopping {
            Some(serde_json::Value::Bool(true)) => EarlyStopping::OnFullBeam,
            Some(serde_json::Value::String(s)) if s == "never" => EarlyStopping::Never,
            _ => EarlyStopping::Heuristic,
        };

        let marian = marian::Config {
            vocab_size: raw.vocab_size,
            decoder_vocab_size: Some(decoder_vocab),
            max_position_embeddings: raw.max_position_embeddings,
            encoder_layers: raw.encoder_layers,
            encoder_ffn_dim: raw.encoder_ffn_dim,
            encoder_attention_heads: raw.encoder_attention_heads,
            decoder_layers: raw.decoder_layers,
            decoder_ffn_dim: raw.decoder_ffn_dim,
            decoder_attention_heads: raw.decoder_attention_heads,
            use_cache: true,
            is_encoder_decoder: true,
            activation_function: activation,
            d_model: raw.d_model,
            decoder_start_token_id: raw.decoder_start_token_id,
            scale_embedding: raw.scale_embedding,
            pad_token_id: pad,
            eos_token_id: eos,
            forced_eos_token_id: forced_eos,
            share_encoder_decoder_embeddings: true,
        };
        Ok(Self {
            marian,
            model_type: raw.model_type,
            eos_token_id: eos,
            pad_token_id: pad,
            decoder_start_token_id: raw.decoder_start_token_id,
            max_position_embeddings: raw.max_position_embeddings,
            generation: GenerationDefaults {
                num_beams: generation.num_beams.unwrap_or(1).max(1),
                max_length: generation.max_length,
                length_penalty: generation.length_penalty.unwrap_or(1.0),
                early_stopping,
                renormalize_logits: generation.renormalize_logits.unwrap_or(false),
                suppressed_tokens: suppressed,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(config: serde_json::Value) -> Result<ModelConfig, String> {
        let raw: RawConfig = serde_json::from_value(config).map_err(|e| e.to_string())?;
        let generation = raw.generation.clone();
        ModelConfig::from_raw(raw, generation)
    }

    /// The shape of Helsinki-NLP/opus-mt-*-en config.json files (2020 conversion).
    fn opus_mt_like() -> serde_json::Value {
        serde_json::json!({
            "activation_function": "swish", "add_bias_logits": false,
            "add_final_layer_norm": false, "bad_words_ids": [[62833]],
            "d_model": 512, "decoder_attention_heads": 8, "decoder_ffn_dim": 2048,
            "decoder_layers": 6, "decoder_start_token_id": 62833,
            "encoder_attention_heads": 8, "encoder_ffn_dim": 2048, "encoder_layers": 6,
            "eos_token_id": 0, "max_length": 512, "max_position_embeddings": 512,
            "model_type": "marian", "normalize_before": false, "normalize_embedding": false,
            "num_beams": 4, "pad_token_id": 62833, "scale_embedding": true,
            "static_position_embeddings": true, "vocab_size": 62834
        })
    }

    #[test]
    fn old_opus_mt_config_gets_transformers_defaults() {
        let c = parse(opus_mt_like()).unwrap();
        assert_eq!(c.marian.activation_function, candle_nn::Activation::Swish);
        assert_eq!(c.marian.decoder_vocab_size, Some(62834));
        assert_eq!(c.marian.forced_eos_token_id, 0);
        assert_eq!(c.eos_token_id, 0);
        assert_eq!(c.pad_token_id, 62833);
        assert_eq!(c.generation.num_beams, 4);
        assert_eq!(c.generation.max_length, Some(512));
        assert_eq!(c.generation.suppressed_tokens, vec![62833]);
        assert_eq!(c.generation.early_stopping, EarlyStopping::Heuristic);
        assert!(!c.generation.renormalize_logits);
    }

    #[test]
    fn unsupported_variants_are_refused() {
        for (key, value) in [
            ("normalize_before", serde_json::json!(true)),
            ("share_encoder_decoder_embeddings", serde_json::json!(false)),
            ("decoder_vocab_size", serde_json::json!(1000)),
            (
                "activation_function",
                serde_json::json!("no_such_activation"),
            ),
            ("model_type", serde_json::json!("bart")),
        ] {
            let mut config = opus_mt_like();
            config[key] = value;
            assert!(parse(config).is_err(), "{key} should be refused");
        }
    }

    #[test]
    fn early_stopping_values() {
        for (value, want) in [
            (serde_json::json!(true), EarlyStopping::OnFullBeam),
            (serde_json::json!(false), EarlyStopping::Heuristic),
            (serde_json::json!("never"), EarlyStopping::Never),
        ] {
            let mut config = opus_mt_like();
            config["early_stopping"] = value;
            assert_eq!(parse(config).unwrap().generation.early_stopping, want);
        }
    }
}
