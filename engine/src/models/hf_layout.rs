//! The Hugging Face Whisper layout: tensor names and shapes, and the `config.json` /
//! `generation_config.json` documents, plus how CTranslate2 tensor names map onto it.
//!
//! CTranslate2 fuses the self-attention Q/K/V projections into one `[3d, d]` matrix and
//! the cross-attention K/V projections into one `[2d, d]` matrix. Both are row-major with
//! the parts stacked along dimension 0, so each part is a contiguous byte range and the
//! split costs no copy. Hugging Face has no K bias; CTranslate2 stores zeros there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::special_tokens::WhisperTokenIds;

/// File names of a Hugging Face Whisper model directory.
pub(crate) const HF_CONFIG: &str = "config.json";
pub(crate) const HF_GENERATION_CONFIG: &str = "generation_config.json";
/// Also the weights file name of every other model kind in the store.
pub(crate) const HF_WEIGHTS: &str = "model.safetensors";
pub(crate) const HF_TOKENIZER: &str = "tokenizer.json";

/// The files a Hugging Face Whisper directory must have to be loadable
/// (`generation_config.json` is optional: defaults exist for all of it).
pub(crate) fn hf_whisper_files(dir: &Path) -> [PathBuf; 3] {
    [
        dir.join(HF_CONFIG),
        dir.join(HF_WEIGHTS),
        dir.join(HF_TOKENIZER),
    ]
}

/// Where one CTranslate2 tensor goes in the Hugging Face checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TensorPlan {
    /// Stored unchanged under this name.
    Direct(String),
    /// Cut into equal parts along dimension 0; `None` parts are dropped.
    Split(Vec<Option<String>>),
}

/// Name of the untied output projection; only written when it differs from the embedding.
pub(crate) const PROJ_OUT: &str = "proj_out.weight";

/// CTranslate2 name of the output projection (normally an alias of the embedding).
pub(crate) const CT2_PROJECTION: &str = "decoder/projection/weight";

fn norm_param(p: &str) -> Option<&'static str> {
    match p {
        "gamma" => Some("weight"),
        "beta" => Some("bias"),
        _ => None,
    }
}

fn linear_param(p: &str) -> Option<&'static str> {
    match p {
        "weight" => Some("weight"),
        "bias" => Some("bias"),
        _ => None,
    }
}

/// `layer_12` → 12; rejects signs, spaces and empty numbers that `parse` would accept or
/// that would alias another layer.
fn layer_index(segment: &str) -> Option<usize> {
    let digits = segment.strip_prefix("layer_")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    digits.parse().ok()
}

/// Maps a CTranslate2 Whisper tensor name to its Hugging Face destination(s).
/// `None` for names this converter does not know (the caller treats that as an error so
/// no weight is silently lost).
pub(crate) fn plan_for(ct2_name: &str) -> Option<TensorPlan> {
    let parts: Vec<&str> = ct2_name.split('/').collect();
    let (side, rest) = match parts.split_first()? {
        (&"encoder", rest) => ("encoder", rest),
        (&"decoder", rest) => ("decoder", rest),
        _ => return None,
    };
    let direct = |name: String| Some(TensorPlan::Direct(name));
    match (side, rest) {
        ("encoder", [conv @ ("conv1" | "conv2"), p]) => {
            direct(format!("model.encoder.{conv}.{}", linear_param(p)?))
        }
        (_, ["position_encodings", "encodings"]) => {
            direct(format!("model.{side}.embed_positions.weight"))
        }
        (_, ["layer_norm", p]) => direct(format!("model.{side}.layer_norm.{}", norm_param(p)?)),
        ("decoder", ["embeddings", "weight"]) => direct("model.decoder.embed_tokens.weight".into()),
        ("decoder", ["projection", "weight"]) => direct(PROJ_OUT.into()),
        (_, [layer, block, rest @ ..]) => {
            let n = layer_index(layer)?;
            layer_plan(
                &format!("model.{side}.layers.{n}"),
                side == "decoder",
                block,
                rest,
            )
        }
        _ => None,
    }
}

fn layer_plan(prefix: &str, decoder: bool, block: &str, rest: &[&str]) -> Option<TensorPlan> {
    let direct = |name: String| Some(TensorPlan::Direct(name));
    match (block, rest) {
        ("self_attention", ["linear_0", p]) => {
            let p = linear_param(p)?;
            let k = (p == "weight").then(|| format!("{prefix}.self_attn.k_proj.{p}"));
            Some(TensorPlan::Split(vec![
                Some(format!("{prefix}.self_attn.q_proj.{p}")),
                k,
                Some(format!("{prefix}.self_attn.v_proj.{p}")),
            ]))
        }
        ("self_attention", ["linear_1", p]) => {
            direct(format!("{prefix}.self_attn.out_proj.{}", linear_param(p)?))
        }
        ("self_attention", ["layer_norm", p]) => {
            direct(format!("{prefix}.self_attn_layer_norm.{}", norm_param(p)?))
        }
        ("attention", ["linear_0", p]) if decoder => {
            direct(format!("{prefix}.encoder_attn.q_proj.{}", linear_param(p)?))
        }
        ("attention", ["linear_1", p]) if decoder => {
            let p = linear_param(p)?;
            let k = (p == "weight").then(|| format!("{prefix}.encoder_attn.k_proj.{p}"));
            Some(TensorPlan::Split(vec![
                k,
                Some(format!("{prefix}.encoder_attn.v_proj.{p}")),
            ]))
        }
        ("attention", ["linear_2", p]) if decoder => direct(format!(
            "{prefix}.encoder_attn.out_proj.{}",
            linear_param(p)?
        )),
        ("attention", ["layer_norm", p]) if decoder => direct(format!(
            "{prefix}.encoder_attn_layer_norm.{}",
            norm_param(p)?
        )),
        ("ffn", ["linear_0", p]) => direct(format!("{prefix}.fc1.{}", linear_param(p)?)),
        ("ffn", ["linear_1", p]) => direct(format!("{prefix}.fc2.{}", linear_param(p)?)),
        ("ffn", ["layer_norm", p]) => {
            direct(format!("{prefix}.final_layer_norm.{}", norm_param(p)?))
        }
        _ => None,
    }
}

/// Model dimensions, as Hugging Face's `WhisperConfig` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WhisperDims {
    pub d_model: usize,
    pub encoder_layers: usize,
    pub decoder_layers: usize,
    pub encoder_attention_heads: usize,
    pub decoder_attention_heads: usize,
    pub encoder_ffn_dim: usize,
    pub decoder_ffn_dim: usize,
    pub num_mel_bins: usize,
    pub vocab_size: usize,
    pub max_source_positions: usize,
    pub max_target_positions: usize,
}

/// Vocabulary size of the English-only checkpoints; the multilingual ones have one more
/// token (51865), large-v3 has 51866.
pub(crate) const ENGLISH_ONLY_VOCAB: usize = 51864;

impl WhisperDims {
    pub(crate) fn is_multilingual(&self) -> bool {
        self.vocab_size > ENGLISH_ONLY_VOCAB
    }

    /// Every tensor a complete Hugging Face checkpoint of these dimensions holds (without
    /// the tied `proj_out.weight`), with its shape.
    pub(crate) fn expected_tensors(&self) -> BTreeMap<String, Vec<usize>> {
        let d = self.d_model;
        let mut t = BTreeMap::new();
        let mut put = |name: String, shape: Vec<usize>| {
            t.insert(name, shape);
        };
        put(
            "model.encoder.conv1.weight".into(),
            vec![d, self.num_mel_bins, 3],
        );
        put("model.encoder.conv1.bias".into(), vec![d]);
        put("model.encoder.conv2.weight".into(), vec![d, d, 3]);
        put("model.encoder.conv2.bias".into(), vec![d]);
        put(
            "model.encoder.embed_positions.weight".into(),
            vec![self.max_source_positions, d],
        );
        put(
            "model.decoder.embed_positions.weight".into(),
            vec![self.max_target_positions, d],
        );
        put(
            "model.decoder.embed_tokens.weight".into(),
            vec![self.vocab_size, d],
        );
        for side in ["encoder", "decoder"] {
            put(format!("model.{side}.layer_norm.weight"), vec![d]);
            put(format!("model.{side}.layer_norm.bias"), vec![d]);
        }
        let sides = [
            ("encoder", self.encoder_layers, self.encoder_ffn_dim),
            ("decoder", self.decoder_layers, self.decoder_ffn_dim),
        ];
        for (side, layers, ffn) in sides {
            for n in 0..layers {
                let l = format!("model.{side}.layers.{n}");
                let mut attention = |block: &str| {
                    for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                        put(format!("{l}.{block}.{proj}.weight"), vec![d, d]);
                        if proj != "k_proj" {
                            put(format!("{l}.{block}.{proj}.bias"), vec![d]);
                        }
                    }
                    put(format!("{l}.{block}_layer_norm.weight"), vec![d]);
                    put(format!("{l}.{block}_layer_norm.bias"), vec![d]);
                };
                attention("self_attn");
                if side == "decoder" {
                    attention("encoder_attn");
                }
                put(format!("{l}.fc1.weight"), vec![ffn, d]);
                put(format!("{l}.fc1.bias"), vec![ffn]);
                put(format!("{l}.fc2.weight"), vec![d, ffn]);
                put(format!("{l}.fc2.bias"), vec![d]);
                put(format!("{l}.final_layer_norm.weight"), vec![d]);
                put(format!("{l}.final_layer_norm.bias"), vec![d]);
            }
        }
        t
    }
}

/// Hugging Face `config.json` for `WhisperForConditionalGeneration`.
#[derive(Debug, Serialize)]
pub(crate) struct HfWhisperConfig {
    pub architectures: Vec<&'static str>,
    pub model_type: &'static str,
    pub is_encoder_decoder: bool,
    pub torch_dtype: &'static str,
    pub activation_function: &'static str,
    pub d_model: usize,
    pub encoder_layers: usize,
    pub encoder_attention_heads: usize,
    pub encoder_ffn_dim: usize,
    pub decoder_layers: usize,
    pub decoder_attention_heads: usize,
    pub decoder_ffn_dim: usize,
    pub num_hidden_layers: usize,
    pub num_mel_bins: usize,
    pub vocab_size: usize,
    pub max_source_positions: usize,
    pub max_target_positions: usize,
    pub max_length: usize,
    pub bos_token_id: u32,
    pub eos_token_id: u32,
    pub pad_token_id: u32,
    pub decoder_start_token_id: u32,
    pub suppress_tokens: Vec<u32>,
    pub begin_suppress_tokens: Vec<u32>,
    pub scale_embedding: bool,
    pub tie_word_embeddings: bool,
    pub use_cache: bool,
    pub dropout: f32,
    pub attention_dropout: f32,
    pub activation_dropout: f32,
    pub encoder_layerdrop: f32,
    pub decoder_layerdrop: f32,
    pub init_std: f32,
    pub apply_spec_augment: bool,
    pub median_filter_width: usize,
}

/// Hugging Face `generation_config.json` for Whisper.
#[derive(Debug, Serialize)]
pub(crate) struct HfGenerationConfig {
    pub alignment_heads: Vec<[u32; 2]>,
    pub begin_suppress_tokens: Vec<u32>,
    pub bos_token_id: u32,
    pub decoder_start_token_id: u32,
    pub eos_token_id: u32,
    pub pad_token_id: u32,
    /// `[[position, token or null]]`, the prompt HF forces after the start token.
    pub forced_decoder_ids: Vec<(u32, Option<u32>)>,
    pub is_multilingual: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang_to_id: Option<BTreeMap<String, u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_to_id: Option<BTreeMap<String, u32>>,
    pub max_initial_timestamp_index: u32,
    pub max_length: usize,
    pub no_timestamps_token_id: u32,
    pub prev_sot_token_id: u32,
    pub return_timestamps: bool,
    pub suppress_tokens: Vec<u32>,
}

/// What the CTranslate2 `config.json` contributes.
#[derive(Debug, Clone, Default)]
pub(crate) struct DecodingDefaults {
    pub alignment_heads: Vec<[u32; 2]>,
    pub suppress_tokens: Vec<u32>,
    pub begin_suppress_tokens: Vec<u32>,
}

/// Builds both JSON documents from the measured dimensions, the tokenizer's special
/// tokens and the CTranslate2 decoding defaults.
pub(crate) fn hf_configs(
    dims: &WhisperDims,
    tokens: &WhisperTokenIds,
    defaults: &DecodingDefaults,
    torch_dtype: &'static str,
    tied_output: bool,
) -> (HfWhisperConfig, HfGenerationConfig) {
    let multilingual = dims.is_multilingual();
    let config = HfWhisperConfig {
        architectures: vec!["WhisperForConditionalGeneration"],
        model_type: "whisper",
        is_encoder_decoder: true,
        torch_dtype,
        // Whisper uses the exact (erf) GELU; the converter refuses any other activation.
        activation_function: "gelu",
        d_model: dims.d_model,
        encoder_layers: dims.encoder_layers,
        encoder_attention_heads: dims.encoder_attention_heads,
        encoder_ffn_dim: dims.encoder_ffn_dim,
        decoder_layers: dims.decoder_layers,
        decoder_attention_heads: dims.decoder_attention_heads,
        decoder_ffn_dim: dims.decoder_ffn_dim,
        num_hidden_layers: dims.encoder_layers,
        num_mel_bins: dims.num_mel_bins,
        vocab_size: dims.vocab_size,
        max_source_positions: dims.max_source_positions,
        max_target_positions: dims.max_target_positions,
        max_length: dims.max_target_positions,
        // Whisper's tokenizer uses <|endoftext|> as its BOS, EOS and padding token.
        bos_token_id: tokens.end_of_text,
        eos_token_id: tokens.end_of_text,
        pad_token_id: tokens.end_of_text,
        decoder_start_token_id: tokens.start_of_transcript,
        suppress_tokens: defaults.suppress_tokens.clone(),
        begin_suppress_tokens: defaults.begin_suppress_tokens.clone(),
        scale_embedding: false,
        tie_word_embeddings: tied_output,
        use_cache: true,
        dropout: 0.0,
        attention_dropout: 0.0,
        activation_dropout: 0.0,
        encoder_layerdrop: 0.0,
        decoder_layerdrop: 0.0,
        init_std: 0.02,
        apply_spec_augment: false,
        median_filter_width: 7,
    };
    let (forced, lang_to_id, task_to_id) = if multilingual {
        let langs = tokens
            .languages
            .iter()
            .map(|(token, id)| (token.clone(), *id))
            .collect();
        let tasks = BTreeMap::from([
            ("transcribe".to_owned(), tokens.transcribe),
            ("translate".to_owned(), tokens.translate),
        ]);
        // Language left open (detected), task transcribe: the upstream default prompt.
        (
            vec![(1, None), (2, Some(tokens.transcribe))],
            Some(langs),
            Some(tasks),
        )
    } else {
        // English-only models take no language or task token.
        (vec![(1, Some(tokens.no_timestamps))], None, None)
    };
    let generation = HfGenerationConfig {
        alignment_heads: defaults.alignment_heads.clone(),
        begin_suppress_tokens: defaults.begin_suppress_tokens.clone(),
        bos_token_id: tokens.end_of_text,
        decoder_start_token_id: tokens.start_of_transcript,
        eos_token_id: tokens.end_of_text,
        pad_token_id: tokens.end_of_text,
        forced_decoder_ids: forced,
        is_multilingual: multilingual,
        lang_to_id,
        task_to_id,
        // OpenAI's decoder caps the first timestamp at 1.0 s = 50 steps of 20 ms.
        max_initial_timestamp_index: 50,
        max_length: dims.max_target_positions,
        no_timestamps_token_id: tokens.no_timestamps,
        prev_sot_token_id: tokens.start_of_prev,
        return_timestamps: false,
        suppress_tokens: defaults.suppress_tokens.clone(),
    };
    (config, generation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(s: &str) -> Option<TensorPlan> {
        Some(TensorPlan::Direct(s.to_owned()))
    }

    #[test]
    fn maps_top_level_tensors() {
        assert_eq!(
            plan_for("encoder/conv1/weight"),
            direct("model.encoder.conv1.weight")
        );
        assert_eq!(
            plan_for("encoder/conv2/bias"),
            direct("model.encoder.conv2.bias")
        );
        assert_eq!(
            plan_for("encoder/position_encodings/encodings"),
            direct("model.encoder.embed_positions.weight")
        );
        assert_eq!(
            plan_for("decoder/position_encodings/encodings"),
            direct("model.decoder.embed_positions.weight")
        );
        assert_eq!(
            plan_for("decoder/embeddings/weight"),
            direct("model.decoder.embed_tokens.weight")
        );
        assert_eq!(
            plan_for("encoder/layer_norm/gamma"),
            direct("model.encoder.layer_norm.weight")
        );
        assert_eq!(
            plan_for("decoder/layer_norm/beta"),
            direct("model.decoder.layer_norm.bias")
        );
        assert_eq!(plan_for(CT2_PROJECTION), direct(PROJ_OUT));
    }

    #[test]
    fn maps_layer_tensors() {
        assert_eq!(
            plan_for("encoder/layer_3/self_attention/linear_1/weight"),
            direct("model.encoder.layers.3.self_attn.out_proj.weight")
        );
        assert_eq!(
            plan_for("decoder/layer_0/self_attention/layer_norm/gamma"),
            direct("model.decoder.layers.0.self_attn_layer_norm.weight")
        );
        assert_eq!(
            plan_for("decoder/layer_1/attention/linear_0/bias"),
            direct("model.decoder.layers.1.encoder_attn.q_proj.bias")
        );
        assert_eq!(
            plan_for("decoder/layer_1/attention/linear_2/weight"),
            direct("model.decoder.layers.1.encoder_attn.out_proj.weight")
        );
        assert_eq!(
            plan_for("decoder/layer_1/attention/layer_norm/beta"),
            direct("model.decoder.layers.1.encoder_attn_layer_norm.bias")
        );
        assert_eq!(
            plan_for("encoder/layer_11/ffn/linear_0/weight"),
            direct("model.encoder.layers.11.fc1.weight")
        );
        assert_eq!(
            plan_for("encoder/layer_0/ffn/linear_1/bias"),
            direct("model.encoder.layers.0.fc2.bias")
        );
        assert_eq!(
            plan_for("decoder/layer_0/ffn/layer_norm/gamma"),
            direct("model.decoder.layers.0.final_layer_norm.weight")
        );
    }

    #[test]
    fn splits_fused_projections_and_drops_k_bias() {
        let s = |v: &[Option<&str>]| {
            Some(TensorPlan::Split(
                v.iter().map(|o| o.map(str::to_owned)).collect(),
            ))
        };
        assert_eq!(
            plan_for("encoder/layer_0/self_attention/linear_0/weight"),
            s(&[
                Some("model.encoder.layers.0.self_attn.q_proj.weight"),
                Some("model.encoder.layers.0.self_attn.k_proj.weight"),
                Some("model.encoder.layers.0.self_attn.v_proj.weight"),
            ])
        );
        assert_eq!(
            plan_for("decoder/layer_2/self_attention/linear_0/bias"),
            s(&[
                Some("model.decoder.layers.2.self_attn.q_proj.bias"),
                None,
                Some("model.decoder.layers.2.self_attn.v_proj.bias"),
            ])
        );
        assert_eq!(
            plan_for("decoder/layer_0/attention/linear_1/weight"),
            s(&[
                Some("model.decoder.layers.0.encoder_attn.k_proj.weight"),
                Some("model.decoder.layers.0.encoder_attn.v_proj.weight"),
            ])
        );
        assert_eq!(
            plan_for("decoder/layer_0/attention/linear_1/bias"),
            s(&[
                None,
                Some("model.decoder.layers.0.encoder_attn.v_proj.bias")
            ])
        );
    }

    #[test]
    fn rejects_unknown_names() {
        for name in [
            "",
            "encoder",
            "decoder/num_heads",
            "encoder/layer_0/attention/linear_0/weight", // the encoder has no cross-attention
            "decoder/conv1/weight",
            "encoder/layer_x/ffn/linear_0/weight",
            "encoder/layer_+1/ffn/linear_0/weight",
            "encoder/layer_01/ffn/linear_0/weight",
            "encoder/layer_0/ffn/linear_0/scale",
            "encoder/layer_0/ffn/linear_3/weight",
            "encoder/layer_norm/weight",
            "decoder/embeddings/weight/extra",
            "other/conv1/weight",
        ] {
            assert_eq!(plan_for(name), None, "{name}");
        }
    }

    #[test]
    fn expected_tensor_count_matches_whisper() {
        let dims = WhisperDims {
            d_model: 384,
            encoder_layers: 4,
            decoder_layers: 4,
            encoder_attention_heads: 6,
            decoder_attention_heads: 6,
            encoder_ffn_dim: 1536,
            decoder_ffn_dim: 1536,
            num_mel_bins: 80,
            vocab_size: 51864,
            max_source_positions: 1500,
            max_target_positions: 448,
        };
        let t = dims.expected_tensors();
        // 11 top-level + 15 per encoder layer + 24 per decoder layer (HF whisper-tiny.en).
        assert_eq!(t.len(), 11 + 4 * 15 + 4 * 24);
        assert_eq!(t["model.decoder.embed_tokens.weight"], vec![51864, 384]);
        assert!(!t.contains_key("model.encoder.layers.0.self_attn.k_proj.bias"));
        assert!(!dims.is_multilingual());
    }
}
