//! Word error rate of tiny.en over the English clips with exact references.

use crate::support::*;
use stt_engine::eval::{normalize_english, word_errors, ErrorCounts};

/// faster-whisper gets 0.072 with these tiny.en weights, greedy; the bar is 0.080.
const MAX_CORPUS_WER: f64 = 0.080;

#[test]
fn tiny_en_corpus_wer_on_exact_english_references() {
    let clips = clips_where(|c| {
        c["reference_quality"] == "exact"
            && matches!(c["set"].as_str(), Some("librispeech" | "jfk" | "en_other"))
    });
    assert!(
        clips.len() >= 39,
        "expected the 39 exact English clips, found {}",
        clips.len()
    );
    let mut total = ErrorCounts::default();
    let mut report = Vec::new();
    for clip in &clips {
        let body = transcribe_json("tiny.en", &clip_path(clip), &[])
            .unwrap_or_else(|e| panic!("{}: {e}", clip["path"]));
        let hyp = normalize_english(body["original_text"].as_str().unwrap());
        let reference = normalize_english(clip["reference"].as_str().unwrap());
        let errors = word_errors(&reference, &hyp);
        report.push(format!("{:.3} {} | {hyp}", errors.rate(), clip["path"]));
        total += errors;
    }
    let wer = total.rate();
    eprintln!(
        "{}\ncorpus WER {wer:.4} over {} clips",
        report.join("\n"),
        clips.len()
    );
    assert!(
        wer <= MAX_CORPUS_WER,
        "corpus WER {wer:.4} > {MAX_CORPUS_WER}"
    );
}
