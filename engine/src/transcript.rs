//! What a transcription produces: timed segments and the whole text.

use crate::decoding::Task;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
    /// Token ids of the segment, timestamps included.
    pub tokens: Vec<u32>,
    /// Mean probability of the segment's tokens, in [0, 1].
    pub confidence: f64,
    pub avg_logprob: f64,
    pub no_speech_prob: f64,
    pub compression_ratio: f64,
    pub temperature: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Transcript {
    pub text: String,
    pub segments: Vec<Segment>,
    /// Whisper language code, given or detected.
    pub language: String,
    /// Probability of the detected language (1.0 when given or English-only model).
    pub language_probability: f64,
    pub duration_s: f64,
    pub task: Task,
    /// English translation, when asked for and the speech is not English.
    pub translation: Option<Translation>,
}

/// Which engine produced a translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TranslationMethod {
    /// Whisper's own translate task on the transcription's encoder output.
    WhisperTranslate,
    /// A Marian (opus-mt) text translation model.
    Marian,
}

#[derive(Debug, Clone, Serialize)]
pub struct Translation {
    pub text: String,
    pub segments: Vec<Segment>,
    pub method: TranslationMethod,
    /// Time spent translating, included in the whole transcription time.
    pub elapsed_s: f64,
}

impl Transcript {
    /// Mean segment confidence; 0 when there are no segments.
    pub fn confidence_average(&self) -> f64 {
        if self.segments.is_empty() {
            0.0
        } else {
            self.segments.iter().map(|s| s.confidence).sum::<f64>() / self.segments.len() as f64
        }
    }
}
