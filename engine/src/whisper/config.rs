//! Model configuration as read from a Hugging Face `config.json`, plus the fixed
//! audio framing every Whisper model shares.

use serde::Deserialize;

/// Samples per STFT window.
pub const N_FFT: usize = 400;
/// Samples between mel frames (10 ms at 16 kHz).
pub const HOP_SAMPLES: usize = 160;
/// Mel frames in one 30 s encoder window.
pub const WINDOW_FRAMES: usize = 3000;
/// Mel frames per second of audio.
pub const FRAMES_PER_SECOND: usize = 100;
/// The encoder halves the frame rate: one output position (and one timestamp step) per 2 frames.
pub const FRAMES_PER_POSITION: usize = 2;
/// Seconds between two consecutive timestamp tokens.
pub const TIMESTAMP_STEP_S: f64 = 0.02;

/// The fields of a Hugging Face Whisper `config.json` that the network needs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct WhisperConfig {
    pub num_mel_bins: usize,
    pub max_source_positions: usize,
    pub max_target_positions: usize,
    pub d_model: usize,
    pub encoder_attention_heads: usize,
    pub encoder_layers: usize,
    pub decoder_attention_heads: usize,
    pub decoder_layers: usize,
    pub vocab_size: usize,
    #[serde(default)]
    pub suppress_tokens: Vec<i64>,
    #[serde(default)]
    pub begin_suppress_tokens: Vec<i64>,
}

impl WhisperConfig {
    /// English-only checkpoints have one token fewer (no `<|yue|>`-era growth, no language tokens used).
    pub fn is_multilingual(&self) -> bool {
        self.vocab_size >= 51865
    }
}
