//! Translating a finished transcript with a Marian model, segment by segment, so the
//! translation keeps the transcript's timing.

use super::{MarianOptions, MarianTranslator, TranslateError};
use crate::transcript::{Segment, Transcript, Translation, TranslationMethod};
use std::time::Instant;

/// Translates every segment of `transcript` (its text is then the joined segments).
pub fn translate_transcript(
    transcript: &Transcript,
    translator: &MarianTranslator,
    opts: &MarianOptions,
) -> Result<Translation, TranslateError> {
    let started = Instant::now();
    let sources: Vec<&str> = transcript.segments.iter().map(|s| s.text.trim()).collect();
    let targets = translator.translate_segments(&sources, opts)?;
    let segments: Vec<Segment> = transcript
        .segments
        .iter()
        .zip(targets)
        .map(|(s, text)| Segment {
            text: format!(" {}", text.trim()),
            tokens: Vec::new(),
            ..s.clone()
        })
        .collect();
    let text = segments
        .iter()
        .map(|s| s.text.trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Translation {
        text,
        segments,
        method: TranslationMethod::Marian,
        elapsed_s: started.elapsed().as_secs_f64(),
    })
}
