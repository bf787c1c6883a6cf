//! Conversion of a CTranslate2 Whisper directory (`model.bin`, `config.json`,
//! `tokenizer.json`) into the Hugging Face layout candle loads.
//!
//! Dimensions are measured from tensor shapes and the `*/num_heads` scalars, because the
//! CTranslate2 `config.json` only carries decoding defaults. Tensor bytes are borrowed
//! from the memory-mapped `model.bin` and streamed into `model.safetensors`, so the
//! conversion never holds a second copy of the weights.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use safetensors::{Dtype, View};
use serde::Deserialize;

use super::ct2_format::{Ct2DType, Ct2Model, Ct2Variable};
use super::error::{ModelError, Result};
use super::files::{sha256_hex, sync_file, write_synced};
use super::hf_layout::{
    hf_configs, plan_for, DecodingDefaults, TensorPlan, WhisperDims, CT2_PROJECTION, HF_CONFIG,
    HF_GENERATION_CONFIG, HF_TOKENIZER, HF_WEIGHTS, PROJ_OUT,
};
use super::special_tokens::WhisperTokenIds;

/// The files a CTranslate2 Whisper directory must contain.
const CT2_WHISPER_FILES: [&str; 3] = ["model.bin", "config.json", "tokenizer.json"];

/// CTranslate2's code for the exact (erf) GELU in `decoder/activation`.
const CT2_GELU: i64 = 3;

/// Decoder flags whose value Whisper fixes; another value means an architecture the
/// Hugging Face Whisper layout cannot express.
const FIXED_FLAGS: [(&str, i64); 5] = [
    ("decoder/activation", CT2_GELU),
    ("decoder/pre_norm", 1),
    ("decoder/scale_embeddings", 0),
    ("decoder/alibi", 0),
    ("decoder/start_from_zero_embedding", 0),
];

/// What a conversion measured, for the import record and the caller's log.
#[derive(Debug, Clone)]
pub(crate) struct ConvertedWhisper {
    pub source_sha256: String,
    pub dims: WhisperDims,
    pub tensors: usize,
}

/// The decoding defaults in a CTranslate2 Whisper `config.json`.
#[derive(Debug, Deserialize)]
struct Ct2Config {
    #[serde(default)]
    alignment_heads: Vec<[u32; 2]>,
    #[serde(default)]
    lang_ids: Vec<u32>,
    #[serde(default)]
    suppress_ids: Vec<u32>,
    #[serde(default)]
    suppress_ids_begin: Vec<u32>,
}

/// A tensor to be written: borrowed bytes plus the metadata safetensors needs.
#[derive(Debug)]
struct BorrowedTensor<'a> {
    dtype: Dtype,
    shape: Vec<usize>,
    data: &'a [u8],
}

impl View for BorrowedTensor<'_> {
    fn dtype(&self) -> Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.data)
    }

    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn unsupported(path: &Path, message: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Converts `src_dir` into `out_dir` (which must exist and be empty of these files).
///
/// With `expected_sha256`, the source `model.bin` must have that checksum; it is computed
/// from the mapping that is converted, so what is checked is exactly what is imported.
pub(crate) fn convert_whisper(
    src_dir: &Path,
    out_dir: &Path,
    expected_sha256: Option<&str>,
) -> Result<ConvertedWhisper> {
    let missing: Vec<&str> = CT2_WHISPER_FILES
        .into_iter()
        .filter(|f| !src_dir.join(f).is_file())
        .collect();
    if !missing.is_empty() {
        return Err(ModelError::NotAModelDir {
            path: src_dir.to_path_buf(),
            missing: missing.join(", "),
        });
    }
    let model = Ct2Model::open(&src_dir.join("model.bin"))?;
    let source_sha256 = sha256_hex(model.file_bytes());
    if let Some(expected) = expected_sha256 {
        if expected != source_sha256 {
            return Err(ModelError::Checksum {
                path: model.path().to_path_buf(),
                expected: expected.to_owned(),
                actual: source_sha256,
            });
        }
    }
    if model.spec() != "WhisperSpec" {
        return Err(unsupported(
            model.path(),
            format!(
                "spec is {} (revision {}), not WhisperSpec",
                model.spec(),
                model.spec_revision()
            ),
        ));
    }
    check_fixed_flags(&model)?;
    let dims = measure_dims(&model)?;

    let config_path = src_dir.join("config.json");
    let config: Ct2Config = read_json(&config_path)?;
    let tokenizer_path = src_dir.join("tokenizer.json");
    let tokenizer_text = std::fs::read_to_string(&tokenizer_path)
        .map_err(|e| ModelError::io("cannot read", &tokenizer_path, e))?;
    let tokens = WhisperTokenIds::from_tokenizer_json(&tokenizer_text).map_err(|message| {
        ModelError::Json {
            path: tokenizer_path.clone(),
            message,
        }
    })?;
    check_consistency(&dims, &config, &tokens, &config_path, &tokenizer_path)?;

    let (tensors, tied_output) = plan_tensors(&model, &dims)?;
    let torch_dtype = match tensors
        .get("model.decoder.embed_tokens.weight")
        .map(|t| t.dtype)
    {
        Some(Dtype::F32) => "float32",
        Some(Dtype::BF16) => "bfloat16",
        _ => "float16",
    };
    let count = tensors.len();

    let weights_path = out_dir.join(HF_WEIGHTS);
    // "pt" tells transformers the tensors are in PyTorch layout, which they are.
    let metadata = Some(std::collections::HashMap::from([(
        "format".to_owned(),
        "pt".to_owned(),
    )]));
    safetensors::serialize_to_file(tensors, metadata, &weights_path).map_err(|e| {
        ModelError::Safetensors {
            path: weights_path.clone(),
            message: e.to_string(),
        }
    })?;
    sync_file(&weights_path)?;

    let defaults = DecodingDefaults {
        alignment_heads: config.alignment_heads,
        suppress_tokens: config.suppress_ids,
        begin_suppress_tokens: config.suppress_ids_begin,
    };
    let (hf_config, generation) = hf_configs(&dims, &tokens, &defaults, torch_dtype, tied_output);
    write_json(&out_dir.join(HF_CONFIG), &hf_config)?;
    write_json(&out_dir.join(HF_GENERATION_CONFIG), &generation)?;
    write_synced(&out_dir.join(HF_TOKENIZER), tokenizer_text.as_bytes())?;

    Ok(ConvertedWhisper {
        source_sha256,
        dims,
        tensors: count,
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io("cannot read", path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| ModelError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    bytes.push(b'\n');
    write_synced(path, &bytes)
}

fn check_fixed_flags(model: &Ct2Model) -> Result<()> {
    for (name, expected) in FIXED_FLAGS {
        if let Some(value) = model.scalar_int(name)? {
            if value != expected {
                let what = if name == "decoder/activation" {
                    format!("decoder activation code {value} is not GELU ({CT2_GELU})")
                } else {
                    format!("{name} is {value}, Whisper needs {expected}")
                };
                return Err(unsupported(model.path(), what));
            }
        }
    }
    Ok(())
}

/// Shape of a required tensor, checked for rank.
fn shape_of<'m>(model: &'m Ct2Model, name: &str, rank: usize) -> Result<&'m [usize]> {
    let var = model
        .variable(name)
        .ok_or_else(|| unsupported(model.path(), format!("missing tensor {name}")))?;
    if var.shape.len() != rank {
        return Err(unsupported(
            model.path(),
            format!(
                "tensor {name} has shape {:?}, expected rank {rank}",
                var.shape
            ),
        ));
    }
    Ok(&var.shape)
}

/// Number of `{side}/layer_N` blocks: one more than the highest N. A gap shows up later
/// as missing tensors.
fn layer_count(model: &Ct2Model, side: &str) -> usize {
    let prefix = format!("{side}/layer_");
    model
        .variables()
        .iter()
        .filter_map(|v| v.name.strip_prefix(&prefix))
        .filter_map(|rest| rest.split('/').next()?.parse::<usize>().ok())
        .map(|n| n + 1)
        .max()
        .unwrap_or(0)
}

fn heads(model: &Ct2Model, side: &str, d_model: usize) -> Result<usize> {
    let name = format!("{side}/num_heads");
    let value = model
        .scalar_int(&name)?
        .ok_or_else(|| unsupported(model.path(), format!("missing scalar {name}")))?;
    match usize::try_from(value) {
        Ok(h) if h > 0 && d_model.is_multiple_of(h) => Ok(h),
        _ => Err(unsupported(
            model.path(),
            format!("{name} = {value} does not divide d_model {d_model}"),
        )),
    }
}

fn measure_dims(model: &Ct2Model) -> Result<WhisperDims> {
    let embeddings = shape_of(model, "decoder/embeddings/weight", 2)?;
    let (vocab_size, d_model) = (embeddings[0], embeddings[1]);
    let conv1 = shape_of(model, "encoder/conv1/weight", 3)?;
    let num_mel_bins = conv1[1];
    let max_source_positions = shape_of(model, "encoder/position_encodings/encodings", 2)?[0];
    let max_target_positions = shape_of(model, "decoder/position_encodings/encodings", 2)?[0];
    let encoder_layers = layer_count(model, "encoder");
    let decoder_layers = layer_count(model, "decoder");
    if encoder_layers == 0 || decoder_layers == 0 {
        return Err(unsupported(
            model.path(),
            "the model has no encoder or no decoder layers",
        ));
    }
    let encoder_ffn_dim = shape_of(model, "encoder/layer_0/ffn/linear_0/weight", 2)?[0];
    let decoder_ffn_dim = shape_of(model, "decoder/layer_0/ffn/linear_0/weight", 2)?[0];
    Ok(WhisperDims {
        d_model,
        encoder_layers,
        decoder_layers,
        encoder_attention_heads: heads(model, "encoder", d_model)?,
        decoder_attention_heads: heads(model, "decoder", d_model)?,
        encoder_ffn_dim,
        decoder_ffn_dim,
        num_mel_bins,
        vocab_size,
        max_source_positions,
        max_target_positions,
    })
}

/// Catches a tokenizer or config.json that belongs to another model.
fn check_consistency(
    dims: &WhisperDims,
    config: &Ct2Config,
    tokens: &WhisperTokenIds,
    config_path: &Path,
    tokenizer_path: &Path,
) -> Result<()> {
    if tokens.max_id as usize >= dims.vocab_size {
        return Err(unsupported(
            tokenizer_path,
            format!(
                "token id {} is outside the model's {}-entry vocabulary (tokenizer of another model?)",
                tokens.max_id, dims.vocab_size
            ),
        ));
    }
    // The converter takes lang_ids from the model's own tokenizer, so for multilingual
    // models they must coincide. (English-only conversions carry meaningless lang_ids.)
    let language_ids: Vec<u32> = tokens.languages.iter().map(|(_, id)| *id).collect();
    if dims.is_multilingual() && !config.lang_ids.is_empty() && config.lang_ids != language_ids {
        return Err(unsupported(
            config_path,
            format!(
                "lang_ids ({} ids from {:?}) disagree with the tokenizer's {} language tokens (from {:?})",
                config.lang_ids.len(),
                config.lang_ids.first(),
                language_ids.len(),
                language_ids.first()
            ),
        ));
    }
    for &[layer, head] in &config.alignment_heads {
        if layer as usize >= dims.decoder_layers || head as usize >= dims.decoder_attention_heads {
            return Err(unsupported(
                config_path,
                format!(
                    "alignment head [{layer}, {head}] is outside the {}-layer, {}-head decoder",
                    dims.decoder_layers, dims.decoder_attention_heads
                ),
            ));
        }
    }
    Ok(())
}

fn safetensors_dtype(model: &Ct2Model, var: &Ct2Variable) -> Result<Dtype> {
    match var.dtype {
        Ct2DType::F16 => Ok(Dtype::F16),
        Ct2DType::F32 => Ok(Dtype::F32),
        Ct2DType::BF16 => Ok(Dtype::BF16),
        other => Err(unsupported(
            model.path(),
            format!(
                "tensor {} is {} (quantized); convert with --quantization float16",
                var.name,
                other.name()
            ),
        )),
    }
}

/// Maps every tensor of the model onto Hugging Face names, checks the result is exactly a
/// complete checkpoint of `dims`, and says whether the output projection is tied.
fn plan_tensors<'m>(
    model: &'m Ct2Model,
    dims: &WhisperDims,
) -> Result<(BTreeMap<String, BorrowedTensor<'m>>, bool)> {
    let mut out: BTreeMap<String, BorrowedTensor<'m>> = BTreeMap::new();
    let mut put = |name: String, view: BorrowedTensor<'m>| -> Result<()> {
        match out.entry(name) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(view);
                Ok(())
            }
            std::collections::btree_map::Entry::Occupied(slot) => Err(unsupported(
                model.path(),
                format!("two tensors map to {}", slot.key()),
            )),
        }
    };
    for var in model.variables() {
        if var.shape.is_empty() {
            // Scalars are configuration (num_heads, flags), read in measure_dims and
            // check_fixed_flags; the rest (alignment_layer, ...) has no HF counterpart.
            tracing::trace!(name = %var.name, "skipping CTranslate2 scalar");
            continue;
        }
        let plan = plan_for(&var.name)
            .ok_or_else(|| unsupported(model.path(), format!("unexpected tensor {}", var.name)))?;
        let dtype = safetensors_dtype(model, var)?;
        let data = model.data(var);
        match plan {
            TensorPlan::Direct(name) => put(
                name,
                BorrowedTensor {
                    dtype,
                    shape: var.shape.clone(),
                    data,
                },
            )?,
            TensorPlan::Split(parts) => {
                let n = parts.len();
                if var.shape[0] % n != 0 {
                    return Err(unsupported(
                        model.path(),
                        format!(
                            "tensor {} with shape {:?} cannot be split in {n}",
                            var.name, var.shape
                        ),
                    ));
                }
                let mut shape = var.shape.clone();
                shape[0] /= n;
                let part_len = data.len() / n;
                for (i, part) in parts.into_iter().enumerate() {
                    let bytes = &data[i * part_len..(i + 1) * part_len];
                    match part {
                        Some(name) => put(
                            name,
                            BorrowedTensor {
                                dtype,
                                shape: shape.clone(),
                                data: bytes,
                            },
                        )?,
                        None if bytes.iter().any(|&b| b != 0) => {
                            // Dropping a K bias is exact even when it is not zero: it adds
                            // q·b to every score of a query row, which softmax cancels.
                            tracing::debug!(name = %var.name, "dropping a non-zero key bias");
                        }
                        None => {}
                    }
                }
            }
        }
    }

    let tied = match out.remove(PROJ_OUT) {
        // The usual case: the projection is an alias, so it never appears as a variable.
        None => {
            let target = model.aliases().get(CT2_PROJECTION);
            if target.is_some_and(|t| t != "decoder/embeddings/weight") {
                return Err(unsupported(
                    model.path(),
                    format!(
                        "{CT2_PROJECTION} aliases {}, not the embeddings",
                        target.unwrap_or(&String::new())
                    ),
                ));
            }
            true
        }
        Some(projection) => {
            let embedding = out.get("model.decoder.embed_tokens.weight");
            if embedding.is_some_and(|e| e.data == projection.data && e.shape == projection.shape) {
                true
            } else {
                out.insert(PROJ_OUT.to_owned(), projection);
                false
            }
        }
    };

    let mut expected = dims.expected_tensors();
    if !tied {
        expected.insert(PROJ_OUT.to_owned(), vec![dims.vocab_size, dims.d_model]);
    }
    let missing: Vec<&String> = expected.keys().filter(|k| !out.contains_key(*k)).collect();
    if !missing.is_empty() {
        return Err(unsupported(
            model.path(),
            format!("{} tensors missing, first {}", missing.len(), missing[0]),
        ));
    }
    let extra: BTreeSet<&String> = out.keys().filter(|k| !expected.contains_key(*k)).collect();
    if let Some(first) = extra.first() {
        return Err(unsupported(
            model.path(),
            format!("{} unexpected tensors, first {first}", extra.len()),
        ));
    }
    for (name, view) in &out {
        if view.shape != expected[name] {
            return Err(unsupported(
                model.path(),
                format!(
                    "{name} has shape {:?}, expected {:?}",
                    view.shape, expected[name]
                ),
            ));
        }
    }
    Ok((out, tied))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::test_support::{f16_values, Ct2Writer, TinyWhisper};
    use safetensors::SafeTensors;

    fn convert(fixture: &TinyWhisper) -> (tempfile::TempDir, ConvertedWhisper) {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        let out = tmp.path().join("out");
        fixture.write_source_dir(&src);
        std::fs::create_dir(&out).unwrap();
        let converted = convert_whisper(&src, &out, None).unwrap();
        (tmp, converted)
    }

    fn read_json_value(path: &Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn converts_every_tensor_to_the_right_place() {
        let fixture = TinyWhisper::english();
        let (tmp, converted) = convert(&fixture);
        let out = tmp.path().join("out");
        let bytes = std::fs::read(out.join(HF_WEIGHTS)).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.len(), converted.tensors);
        assert_eq!(st.len(), converted.dims.expected_tensors().len());
        assert!(
            st.tensor(PROJ_OUT).is_err(),
            "tied projection must not be stored"
        );

        let d = fixture.d_model;
        let ct2: BTreeMap<String, (Vec<usize>, Vec<f32>)> = fixture
            .tensors()
            .into_iter()
            .map(|(n, s, v)| (n, (s, v)))
            .collect();
        let hf = |name: &str| {
            let t = st.tensor(name).unwrap_or_else(|_| panic!("{name} missing"));
            assert_eq!(t.dtype(), Dtype::F16, "{name}");
            (t.shape().to_vec(), f16_values(t.data()))
        };
        // Unsplit tensors are bit-identical.
        for (ct2_name, hf_name) in [
            ("encoder/conv1/weight", "model.encoder.conv1.weight"),
            (
                "decoder/embeddings/weight",
                "model.decoder.embed_tokens.weight",
            ),
            (
                "decoder/layer_1/attention/linear_0/bias",
                "model.decoder.layers.1.encoder_attn.q_proj.bias",
            ),
            (
                "encoder/layer_1/ffn/layer_norm/gamma",
                "model.encoder.layers.1.final_layer_norm.weight",
            ),
        ] {
            assert_eq!(hf(hf_name), ct2[ct2_name].clone(), "{hf_name}");
        }
        // Fused self-attention: rows [0, d) → q, [d, 2d) → k, [2d, 3d) → v.
        let (_, fused) = &ct2["decoder/layer_1/self_attention/linear_0/weight"];
        let p = "model.decoder.layers.1.self_attn";
        assert_eq!(
            hf(&format!("{p}.q_proj.weight")),
            (vec![d, d], fused[..d * d].to_vec())
        );
        assert_eq!(
            hf(&format!("{p}.k_proj.weight")),
            (vec![d, d], fused[d * d..2 * d * d].to_vec())
        );
        assert_eq!(
            hf(&format!("{p}.v_proj.weight")),
            (vec![d, d], fused[2 * d * d..].to_vec())
        );
        let (_, fused_bias) = &ct2["decoder/layer_1/self_attention/linear_0/bias"];
        assert_eq!(hf(&format!("{p}.q_proj.bias")).1, fused_bias[..d].to_vec());
        assert_eq!(
            hf(&format!("{p}.v_proj.bias")).1,
            fused_bias[2 * d..].to_vec()
        );
        assert!(st.tensor(&format!("{p}.k_proj.bias")).is_err());
        // Fused cross-attention K/V: first half → k, second half → v.
        let (_, kv) = &ct2["decoder/layer_0/attention/linear_1/weight"];
        let p = "model.decoder.layers.0.encoder_attn";
        assert_eq!(hf(&format!("{p}.k_proj.weight")).1, kv[..d * d].to_vec());
        assert_eq!(hf(&format!("{p}.v_proj.weight")).1, kv[d * d..].to_vec());
        let (_, kv_bias) = &ct2["decoder/layer_0/attention/linear_1/bias"];
        assert_eq!(hf(&format!("{p}.v_proj.bias")).1, kv_bias[d..].to_vec());
    }

    #[test]
    fn writes_hf_configs_for_english_only() {
        let fixture = TinyWhisper::english();
        let (tmp, converted) = convert(&fixture);
        let out = tmp.path().join("out");
        assert!(!converted.dims.is_multilingual());
        let c = read_json_value(&out.join(HF_CONFIG));
        assert_eq!(c["model_type"], "whisper");
        assert_eq!(c["activation_function"], "gelu");
        assert_eq!(c["d_model"], 4);
        assert_eq!(c["encoder_layers"], 2);
        assert_eq!(c["decoder_layers"], 2);
        assert_eq!(c["encoder_attention_heads"], 2);
        assert_eq!(c["encoder_ffn_dim"], 8);
        assert_eq!(c["num_mel_bins"], 3);
        assert_eq!(c["vocab_size"], 51864);
        assert_eq!(c["max_source_positions"], 6);
        assert_eq!(c["max_target_positions"], 5);
        assert_eq!(c["decoder_start_token_id"], 50257);
        assert_eq!(c["eos_token_id"], 50256);
        assert_eq!(
            c["suppress_tokens"],
            serde_json::json!([1, 2, 50257, 50357, 50358])
        );
        assert_eq!(c["begin_suppress_tokens"], serde_json::json!([220, 50256]));
        assert_eq!(c["tie_word_embeddings"], true);
        assert_eq!(c["torch_dtype"], "float16");
        let g = read_json_value(&out.join(HF_GENERATION_CONFIG));
        assert_eq!(g["is_multilingual"], false);
        assert_eq!(g["no_timestamps_token_id"], 50362);
        assert_eq!(g["prev_sot_token_id"], 50360);
        assert_eq!(g["alignment_heads"], serde_json::json!([[1, 0], [1, 1]]));
        assert_eq!(g["forced_decoder_ids"], serde_json::json!([[1, 50362]]));
        assert!(g.get("lang_to_id").is_none());
        assert_eq!(
            std::fs::read_to_string(out.join(HF_TOKENIZER)).unwrap(),
            fixture.tokenizer_json()
        );
    }

    #[test]
    fn writes_hf_configs_for_multilingual() {
        let (tmp, converted) = convert(&TinyWhisper::multilingual());
        assert!(converted.dims.is_multilingual());
        assert_eq!(converted.dims.decoder_layers, 1);
        let g = read_json_value(&tmp.path().join("out").join(HF_GENERATION_CONFIG));
        assert_eq!(g["is_multilingual"], true);
        assert_eq!(
            g["lang_to_id"],
            serde_json::json!({"<|en|>": 50259, "<|zh|>": 50260})
        );
        assert_eq!(
            g["task_to_id"],
            serde_json::json!({"transcribe": 50359, "translate": 50358})
        );
        assert_eq!(
            g["forced_decoder_ids"],
            serde_json::json!([[1, null], [2, 50359]])
        );
        assert_eq!(g["decoder_start_token_id"], 50258);
        assert_eq!(g["no_timestamps_token_id"], 50363);
    }

    #[test]
    fn untied_projection_is_kept() {
        let fixture = TinyWhisper::english();
        let mut w = Ct2Writer::new("WhisperSpec", 3);
        w.scalar_i16("decoder/num_heads", 2);
        w.scalar_i16("encoder/num_heads", 2);
        for (name, shape, values) in fixture.tensors() {
            w.f16(&name, &shape, &values);
        }
        let projection = vec![0.25; fixture.vocab * fixture.d_model];
        w.f16(
            CT2_PROJECTION,
            &[fixture.vocab, fixture.d_model],
            &projection,
        );
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        fixture.write_source_dir(&src);
        std::fs::write(src.join("model.bin"), w.finish()).unwrap();
        convert_whisper(&src, tmp.path(), None).unwrap();
        let bytes = std::fs::read(tmp.path().join(HF_WEIGHTS)).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(f16_values(st.tensor(PROJ_OUT).unwrap().data()), projection);
        let c = read_json_value(&tmp.path().join(HF_CONFIG));
        assert_eq!(c["tie_word_embeddings"], false);
    }

    /// Writes the English fixture with one tensor replaced (or dropped, for `None`).
    fn source_with(
        edit: impl Fn(&str, &[usize], &[f32], &mut Ct2Writer) -> bool,
    ) -> tempfile::TempDir {
        let fixture = TinyWhisper::english();
        let mut w = Ct2Writer::new("WhisperSpec", 3);
        w.scalar_i8("decoder/activation", 3);
        w.scalar_i16("decoder/num_heads", 2);
        w.scalar_i16("encoder/num_heads", 2);
        for (name, shape, values) in fixture.tensors() {
            if !edit(&name, &shape, &values, &mut w) {
                w.f16(&name, &shape, &values);
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        fixture.write_source_dir(tmp.path());
        std::fs::write(tmp.path().join("model.bin"), w.finish()).unwrap();
        tmp
    }

    fn convert_err(src: &Path) -> String {
        let out = tempfile::tempdir().unwrap();
        convert_whisper(src, out.path(), None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn incomplete_or_foreign_models_are_refused() {
        let missing = source_with(|name, _, _, _| name == "decoder/layer_1/ffn/linear_1/bias");
        let err = convert_err(missing.path());
        assert!(
            err.contains("tensors missing, first model.decoder.layers.1.fc2.bias"),
            "{err}"
        );

        let extra = source_with(|name, shape, values, w| {
            if name == "encoder/conv1/bias" {
                w.f16(name, shape, values);
                w.f16("encoder/extra/weight", &[1], &[1.0]);
                return true;
            }
            false
        });
        let err = convert_err(extra.path());
        assert!(
            err.contains("unexpected tensor encoder/extra/weight"),
            "{err}"
        );

        let bad_shape = source_with(|name, _, _, w| {
            if name == "decoder/layer_0/ffn/linear_1/bias" {
                w.f16(name, &[3], &[1.0, 2.0, 3.0]);
                return true;
            }
            false
        });
        let err = convert_err(bad_shape.path());
        assert!(
            err.contains("model.decoder.layers.0.fc2.bias has shape [3]"),
            "{err}"
        );

        let quantized = source_with(|name, shape, _, w| {
            if name == "encoder/conv2/weight" {
                let n: usize = shape.iter().product();
                let dims: Vec<u32> = shape.iter().map(|&d| d as u32).collect();
                w.raw_variable(name, &dims, Ct2DType::I8.code(), &vec![0u8; n]);
                return true;
            }
            false
        });
        let err = convert_err(quantized.path());
        assert!(err.contains("int8 (quantized)"), "{err}");
    }

    #[test]
    fn wrong_activation_and_spec_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        TinyWhisper::english().write_source_dir(tmp.path());
        let mut w = Ct2Writer::new("WhisperSpec", 3);
        w.scalar_i8("decoder/activation", 1);
        std::fs::write(tmp.path().join("model.bin"), w.finish()).unwrap();
        assert!(convert_err(tmp.path()).contains("activation code 1 is not GELU"));

        let w = Ct2Writer::new("TransformerSpec", 1);
        std::fs::write(tmp.path().join("model.bin"), w.finish()).unwrap();
        assert!(convert_err(tmp.path()).contains("not WhisperSpec"));
    }

    #[test]
    fn mismatched_tokenizer_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        TinyWhisper::english().write_source_dir(tmp.path());
        std::fs::write(
            tmp.path().join("tokenizer.json"),
            TinyWhisper::multilingual().tokenizer_json(),
        )
        .unwrap();
        let err = convert_err(tmp.path());
        assert!(
            err.contains("outside the model's 51864-entry vocabulary"),
            "{err}"
        );

        let tmp = tempfile::tempdir().unwrap();
        let multi = TinyWhisper::multilingual();
        multi.write_source_dir(tmp.path());
        // Every id fits the vocabulary, but the language tokens sit one id lower.
        let english = TinyWhisper::english().tokenizer_json();
        std::fs::write(tmp.path().join("tokenizer.json"), english).unwrap();
        let err = convert_err(tmp.path());
        assert!(err.contains("lang_ids"), "{err}");
    }

    #[test]
    fn missing_source_files_are_listed() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("config.json"), "{}").unwrap();
        let err = convert_err(tmp.path());
        assert!(err.contains("missing model.bin, tokenizer.json"), "{err}");
    }

    #[test]
    fn checksum_is_checked_before_writing() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        let out = tmp.path().join("out");
        TinyWhisper::english().write_source_dir(&src);
        std::fs::create_dir(&out).unwrap();
        let err = convert_whisper(&src, &out, Some(&"0".repeat(64))).unwrap_err();
        assert!(matches!(err, ModelError::Checksum { .. }), "{err}");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    }
}
