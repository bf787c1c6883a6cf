//! Loads a Hugging Face-layout Whisper directory (config.json, model.safetensors,
//! tokenizer.json) into a ready-to-run model: network, tokenizer and mel filters.

use super::config::WhisperConfig;
use super::mel::mel_filterbank;
use super::network::{WeightSource, WhisperNetwork};
use super::tokens::WhisperTokenizer;
use crate::audio::WHISPER_SAMPLE_RATE;
use crate::error::EngineError;
use crate::kernels::WeightsFile;
use crate::vad::SileroVad;
use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use std::path::{Path, PathBuf};

/// Everything needed to transcribe with one Whisper checkpoint; shared by all workers.
pub struct WhisperModel {
    pub network: WhisperNetwork,
    pub tokenizer: WhisperTokenizer,
    pub mel_filters: Vec<f64>,
    pub dir: PathBuf,
    /// Token ids never sampled (non-speech symbols and task tokens).
    pub suppress_tokens: Vec<u32>,
    /// Token ids not allowed as the first sampled token (blank, end of text).
    pub begin_suppress_tokens: Vec<u32>,
    /// Voice activity detector used to skip windows without speech, when installed.
    pub vad: Option<SileroVad>,
}

fn read_json(path: &Path) -> Result<serde_json::Value, EngineError> {
    let text = std::fs::read_to_string(path).map_err(|e| EngineError::ModelLoad {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| EngineError::ModelLoad {
        path: path.to_path_buf(),
        reason: format!("invalid JSON: {e}"),
    })
}

fn id_list(v: Option<&serde_json::Value>) -> Vec<u32> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_i64())
                .filter(|&x| x >= 0)
                .map(|x| x as u32)
                .collect()
        })
        .unwrap_or_default()
}

impl WhisperModel {
    pub fn load(dir: &Path, device: &Device) -> Result<Self, EngineError> {
        let config_path = dir.join("config.json");
        let raw = read_json(&config_path)?;
        let config: WhisperConfig =
            serde_json::from_value(raw.clone()).map_err(|e| EngineError::ModelLoad {
                path: config_path.clone(),
                reason: format!("not a Whisper config: {e}"),
            })?;
        // Newer checkpoints keep generation settings in a separate file.
        let generation = read_json(&dir.join("generation_config.json")).ok();
        let pick = |key: &str| {
            let from_config = id_list(raw.get(key));
            if from_config.is_empty() {
                id_list(generation.as_ref().and_then(|g| g.get(key)))
            } else {
                from_config
            }
        };
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(EngineError::ModelLoad {
                path: weights,
                reason: "missing model.safetensors".into(),
            });
        }
        // SAFETY: the weights file is memory-mapped read-only; the store never rewrites a
        // model in place (imports write a new directory and rename it).
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, device) }
            .map_err(|e| EngineError::ModelLoad {
                path: weights.clone(),
                reason: e.to_string(),
            })?;
        // On the CPU the f16 matrices are used in place from the mapped file.
        let mapped = if device.is_cpu() {
            Some(
                WeightsFile::open(&weights).map_err(|e| EngineError::ModelLoad {
                    path: weights.clone(),
                    reason: e.to_string(),
                })?,
            )
        } else {
            None
        };
        let network = WhisperNetwork::load(WeightSource::new(vb, mapped.as_ref()), config.clone())
            .map_err(|e| EngineError::ModelLoad {
                path: weights.clone(),
                reason: e.to_string(),
            })?;
        let tokenizer = WhisperTokenizer::load(&dir.join("tokenizer.json"), config.vocab_size)?;
        let s = &tokenizer.special;
        let mut suppress_tokens = pick("suppress_tokens");
        suppress_tokens.extend([
            s.transcribe,
            s.translate,
            s.sot,
            s.sot_prev,
            s.sot_lm,
            s.no_speech,
        ]);
        suppress_tokens.sort_unstable();
        suppress_tokens.dedup();
        let mut begin_suppress_tokens = pick("begin_suppress_tokens");
        if begin_suppress_tokens.is_empty() {
            begin_suppress_tokens = tokenizer.encode(" ")?;
            begin_suppress_tokens.push(s.eot);
        }
        Ok(Self {
            mel_filters: mel_filterbank(WHISPER_SAMPLE_RATE as usize, config.num_mel_bins),
            network,
            tokenizer,
            dir: dir.to_path_buf(),
            suppress_tokens,
            begin_suppress_tokens,
            vad: None,
        })
    }

    /// Attaches a voice activity detector (Silero VAD weights at `weights`).
    pub fn with_vad(mut self, weights: &Path) -> Result<Self, EngineError> {
        let vad =
            // A small recurrent net over 32 ms chunks: the CPU in every build.
            SileroVad::load(weights, &candle_core::Device::Cpu).map_err(|e| EngineError::ModelLoad {
                path: weights.to_path_buf(),
                reason: e.to_string(),
            })?;
        self.vad = Some(vad);
        Ok(self)
    }

    pub fn is_multilingual(&self) -> bool {
        self.network.config.is_multilingual()
    }
}
