//! The transcription response object of the HTTP contract (`shared/api-contract.md`),
//! also printed by `stt transcribe --format json`.

use serde::Serialize;
use stt_engine::Transcript;

#[derive(Debug, Serialize)]
pub struct SegmentBody {
    pub text: String,
    pub start_time: f64,
    pub end_time: f64,
    pub confidence: f64,
    pub speaker_id: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TranscriptionResponse {
    pub original_text: String,
    pub translated_text: String,
    pub original_language: String,
    pub segments: Vec<SegmentBody>,
    pub speaker_count: Option<u32>,
    pub audio_duration_seconds: f64,
    pub processing_time_seconds: f64,
    pub transcription_time_seconds: f64,
    pub translation_time_seconds: f64,
    pub confidence_average: f64,
    pub timestamp: String,
}

/// The old service answered in locales for the languages its clients used; detected
/// languages keep that form (`en` → `en-US`, `ar` → `ar-AE`), others stay ISO 639-1.
pub fn legacy_locale(iso: &str) -> String {
    match iso {
        "en" => "en-US".to_string(),
        "ar" => "ar-AE".to_string(),
        other => other.to_string(),
    }
}

/// Rounds to milliseconds: clients compare times, and 1e-17 noise helps nobody.
fn ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl TranscriptionResponse {
    /// `requested_language` is what the client asked for (`en-US`, `ar`, `auto`); a
    /// locale is echoed back so clients that switch on it keep working.
    pub fn from_transcript(
        t: &Transcript,
        requested_language: &str,
        transcription_time_s: f64,
        processing_time_s: f64,
    ) -> Self {
        let requested = requested_language.trim();
        let original_language = if requested.is_empty() || requested.eq_ignore_ascii_case("auto") {
            legacy_locale(&t.language)
        } else {
            requested.to_string()
        };
        let segments = t
            .segments
            .iter()
            .map(|s| SegmentBody {
                text: s.text.trim().to_string(),
                start_time: ms(s.start_s),
                end_time: ms(s.end_s),
                confidence: ms(s.confidence),
                speaker_id: None,
                language: Some(t.language.clone()),
            })
            .collect();
        // English speech (or a skipped translation) is its own translation.
        let translated_text = t
            .translation
            .as_ref()
            .map_or(&t.text, |tr| &tr.text)
            .clone();
        let translation_time_s = t.translation.as_ref().map_or(0.0, |tr| tr.elapsed_s);
        Self {
            original_text: t.text.clone(),
            translated_text,
            original_language,
            segments,
            speaker_count: None,
            audio_duration_seconds: ms(t.duration_s),
            processing_time_seconds: ms(processing_time_s),
            transcription_time_seconds: ms(transcription_time_s),
            translation_time_seconds: ms(translation_time_s),
            confidence_average: ms(t.confidence_average()),
            timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }
}
