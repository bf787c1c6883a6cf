//! int8 weights for the CPU, made once when a model is imported.
//!
//! Every linear weight of the encoder and decoder layers, and the token embedding (which
//! is also the output projection), becomes one signed byte per weight plus one f32 scale
//! per output row: `w ≈ code * scale`, `scale = max|row| / 127` (symmetric, per output
//! channel, as CTranslate2's int8). Convolutions, layer norms and position tables keep
//! their precision. A weight `X.weight` is stored as `X.weight_int8` (u8 tensor holding
//! two's complement bytes: safetensors readers without int8 support still load it) and
//! `X.weight_scale` (f32), which the network loader recognises.

use super::error::{ModelError, Result};
use half::{bf16, f16};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};
use std::path::Path;

/// Suffixes of a quantized weight's tensors; the network loader reads the same names.
pub const CODES_SUFFIX: &str = "weight_int8";
pub const SCALES_SUFFIX: &str = "weight_scale";

/// What quantization did to one model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuantizeSummary {
    pub quantized_tensors: usize,
    pub kept_tensors: usize,
    pub bytes_before: usize,
    pub bytes_after: usize,
    /// Largest `|w - code*scale| / max|row|` seen (at most 1/254 by construction).
    pub worst_row_relative_error: f32,
}

/// Linear weights inside the transformer layers, and the token embedding.
fn should_quantize(name: &str, shape: &[usize]) -> bool {
    shape.len() == 2
        && name.ends_with(".weight")
        && (name.contains(".layers.") || name == "model.decoder.embed_tokens.weight")
}

fn to_f32(view: &TensorView, name: &str, path: &Path) -> Result<Vec<f32>> {
    let data = view.data();
    Ok(match view.dtype() {
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        other => {
            return Err(ModelError::Unsupported {
                path: path.to_path_buf(),
                message: format!("{name}: cannot quantize {other:?} weights"),
            })
        }
    })
}

/// Quantizes one row: codes (two's complement bytes), scale, worst relative error.
pub fn quantize_row(row: &[f32]) -> (Vec<u8>, f32, f32) {
    let amax = row.iter().fold(0f32, |a, v| a.max(v.abs()));
    let scale = if amax > 0.0 { amax / 127.0 } else { 1.0 };
    let mut worst = 0f32;
    let codes = row
        .iter()
        .map(|&v| {
            let q = (v / scale).round().clamp(-127.0, 127.0);
            if amax > 0.0 {
                worst = worst.max((v - q * scale).abs() / amax);
            }
            q as i8 as u8
        })
        .collect();
    (codes, scale, worst)
}

/// Writes `dst`: the tensors of `src` with the linear weights in int8.
pub fn quantize_safetensors(src: &Path, dst: &Path) -> Result<QuantizeSummary> {
    let bytes = std::fs::read(src).map_err(|e| ModelError::io("cannot read", src, e))?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| ModelError::Safetensors {
        path: src.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut summary = QuantizeSummary::default();
    // Owned outputs first; views borrow them for serialisation.
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut names: Vec<String> = tensors.names().into_iter().map(str::to_owned).collect();
    names.sort();
    for name in names {
        let view = tensors.tensor(&name).map_err(|e| ModelError::Safetensors {
            path: src.to_path_buf(),
            message: e.to_string(),
        })?;
        let shape = view.shape().to_vec();
        summary.bytes_before += view.data().len();
        if !should_quantize(&name, &shape) {
            summary.kept_tensors += 1;
            summary.bytes_after += view.data().len();
            owned.push((name, view.dtype(), shape, view.data().to_vec()));
            continue;
        }
        let values = to_f32(&view, &name, src)?;
        let (rows, cols) = (shape[0], shape[1]);
        let mut codes = Vec::with_capacity(rows * cols);
        let mut scales = Vec::with_capacity(rows * 4);
        for row in values.chunks_exact(cols) {
            let (c, s, worst) = quantize_row(row);
            codes.extend(c);
            scales.extend(s.to_le_bytes());
            summary.worst_row_relative_error = summary.worst_row_relative_error.max(worst);
        }
        let stem = name.strip_suffix("weight").expect("checked suffix");
        summary.quantized_tensors += 1;
        summary.bytes_after += codes.len() + scales.len();
        owned.push((format!("{stem}{CODES_SUFFIX}"), Dtype::U8, shape, codes));
        owned.push((
            format!("{stem}{SCALES_SUFFIX}"),
            Dtype::F32,
            vec![rows],
            scales,
        ));
    }
    let views = owned
        .iter()
        .map(|(name, dtype, shape, data)| {
            TensorView::new(*dtype, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| ModelError::Safetensors {
                    path: dst.to_path_buf(),
                    message: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = std::collections::HashMap::from([(
        "stt_quantization".to_string(),
        "int8 per output row".to_string(),
    )]);
    safetensors::serialize_to_file(views, Some(metadata), dst).map_err(|e| {
        ModelError::Safetensors {
            path: dst.to_path_buf(),
            message: e.to_string(),
        }
    })?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_within_half_a_step() {
        let row: Vec<f32> = (0..300).map(|i| ((i as f32) * 0.37).sin() * 0.05).collect();
        let (codes, scale, worst) = quantize_row(&row);
        let amax = row.iter().fold(0f32, |a, v| a.max(v.abs()));
        assert!((scale - amax / 127.0).abs() < 1e-9);
        for (v, c) in row.iter().zip(&codes) {
            assert!((v - (*c as i8) as f32 * scale).abs() <= scale / 2.0 + 1e-9);
        }
        assert!(worst <= 1.0 / 254.0 + 1e-6);
        let (codes, _, _) = quantize_row(&[0.0; 8]);
        assert!(codes.iter().all(|&c| c == 0));
    }

    #[test]
    fn only_layer_weights_and_the_embedding_are_quantized() {
        assert!(should_quantize(
            "model.encoder.layers.0.fc1.weight",
            &[1536, 384]
        ));
        assert!(should_quantize(
            "model.decoder.embed_tokens.weight",
            &[51864, 384]
        ));
        assert!(!should_quantize(
            "model.decoder.embed_positions.weight",
            &[448, 384]
        ));
        assert!(!should_quantize(
            "model.encoder.conv1.weight",
            &[384, 80, 3]
        ));
        assert!(!should_quantize("model.encoder.layers.0.fc1.bias", &[1536]));
        assert!(!should_quantize(
            "model.encoder.layers.0.self_attn_layer_norm.weight",
            &[384]
        ));
    }

    #[test]
    fn file_round_trip_keeps_other_tensors_and_shrinks_weights() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("in.safetensors");
        let dst = dir.path().join("out.safetensors");
        let w: Vec<u8> = (0..64 * 32)
            .flat_map(|i| f16::from_f32((i as f32 * 0.01).cos()).to_le_bytes())
            .collect();
        let b: Vec<u8> = (0..64).flat_map(|i| (i as f32).to_le_bytes()).collect();
        let views = vec![
            (
                "model.decoder.layers.0.fc1.weight",
                TensorView::new(Dtype::F16, vec![64, 32], &w).unwrap(),
            ),
            (
                "model.decoder.layers.0.fc1.bias",
                TensorView::new(Dtype::F32, vec![64], &b).unwrap(),
            ),
        ];
        safetensors::serialize_to_file(views, None, &src).unwrap();
        let summary = quantize_safetensors(&src, &dst).unwrap();
        assert_eq!((summary.quantized_tensors, summary.kept_tensors), (1, 1));
        assert_eq!(summary.bytes_after, 64 * 32 + 64 * 4 + 64 * 4);
        let bytes = std::fs::read(&dst).unwrap();
        let out = SafeTensors::deserialize(&bytes).unwrap();
        let codes = out
            .tensor("model.decoder.layers.0.fc1.weight_int8")
            .unwrap();
        assert_eq!(
            (codes.dtype(), codes.shape()),
            (Dtype::U8, &[64usize, 32][..])
        );
        let scales = out
            .tensor("model.decoder.layers.0.fc1.weight_scale")
            .unwrap();
        assert_eq!(scales.shape(), &[64]);
        assert_eq!(
            out.tensor("model.decoder.layers.0.fc1.bias")
                .unwrap()
                .data(),
            &b[..]
        );
        assert!(out.tensor("model.decoder.layers.0.fc1.weight").is_err());
    }
}
