//! Per-request decoding options, with the reference implementation's defaults in one place.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    #[default]
    Transcribe,
    /// Speech in any language to English text (multilingual models only).
    Translate,
}

impl std::str::FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "transcribe" => Ok(Task::Transcribe),
            "translate" => Ok(Task::Translate),
            other => Err(format!(
                "unknown task '{other}': use transcribe or translate"
            )),
        }
    }
}

/// Everything a caller can tune per transcription; shared by the CLI, HTTP API and benchmarks.
#[derive(Debug, Clone)]
pub struct TranscribeOptions {
    /// Whisper language code (`en`, `ar`, ...); `None` detects it from the first window.
    pub language: Option<String>,
    pub task: Task,
    /// Tried in order until a window's output passes the quality checks.
    pub temperatures: Vec<f32>,
    /// Samples drawn per window at temperature > 0; the most likely one is kept.
    pub best_of: usize,
    /// Above this zlib compression ratio the text is too repetitive: retry hotter.
    pub compression_ratio_threshold: Option<f64>,
    /// Below this average token log-probability the text is unreliable: retry hotter.
    pub log_prob_threshold: Option<f64>,
    /// Above this no-speech probability (with low log-probability) a window is silence.
    pub no_speech_threshold: Option<f64>,
    /// Feed the previous window's text as a prompt, for consistent style across windows.
    pub condition_on_previous_text: bool,
    /// Drop the previous-text prompt after a window needed a temperature above this.
    pub prompt_reset_on_temperature: f32,
    /// Text to prime the decoder with (vocabulary, spelling of names).
    pub initial_prompt: Option<String>,
    /// The first timestamp of a window may not be later than this.
    pub max_initial_timestamp_s: f64,
    /// Forbid a blank or end-of-text as the first token of a window.
    pub suppress_blank: bool,
    /// Seed for sampling at temperature > 0, so results are reproducible.
    pub seed: u64,
    /// Also produce an English translation of non-English speech (multilingual models).
    pub translate_to_english: bool,
    /// Skip windows in which the voice activity detector (if the model has one) finds no speech.
    pub vad_filter: bool,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        Self {
            language: None,
            task: Task::Transcribe,
            temperatures: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            best_of: 5,
            compression_ratio_threshold: Some(2.4),
            log_prob_threshold: Some(-1.0),
            no_speech_threshold: Some(0.6),
            condition_on_previous_text: true,
            prompt_reset_on_temperature: 0.5,
            initial_prompt: None,
            max_initial_timestamp_s: 1.0,
            suppress_blank: true,
            seed: 0,
            vad_filter: true,
            translate_to_english: false,
        }
    }
}
