//! Every format users send, and every kind of odd input, through the real binary.

use crate::support::*;
use serde_json::Value;
use std::time::Duration;
use stt_engine::eval::{normalize_english, word_errors};

fn wer_of(model: &str, clip: &Value, reference: &str) -> f64 {
    let body = transcribe_json(model, &clip_path(clip), &[])
        .unwrap_or_else(|e| panic!("{} should transcribe: {e}", clip["path"]));
    let hyp = normalize_english(body["original_text"].as_str().unwrap());
    word_errors(&normalize_english(reference), &hyp).rate()
}

/// The clip a format variant was converted from: named by `derived_from`, or else the
/// plain clip outside `formats` with the same reference text.
fn source_of(clip: &Value) -> &'static Value {
    let found = match clip["derived_from"].as_str() {
        Some(src) => manifest().iter().find(|c| c["path"] == src),
        None => manifest()
            .iter()
            .find(|c| c["set"] != "formats" && c["reference"] == clip["reference"]),
    };
    found.unwrap_or_else(|| panic!("no source clip for {}", clip["path"]))
}

#[test]
fn english_formats_match_their_source_clip() {
    let clips =
        clips_where(|c| c["set"] == "formats" && c["lang"] == "en" && c["format"] != "wav/gsm_ms");
    assert!(
        clips.len() >= 20,
        "found only {} English format clips",
        clips.len()
    );
    let mut failures = Vec::new();
    for clip in clips {
        let reference = clip["reference"].as_str().unwrap();
        let source = source_of(clip);
        let wer_source = wer_of("tiny.en", source, reference);
        let wer_format = wer_of("tiny.en", clip, reference);
        eprintln!(
            "{:<45} wer {wer_format:.3} (source {wer_source:.3})",
            clip["path"]
        );
        if wer_format > wer_source + 0.05 {
            failures.push(format!(
                "{}: {wer_format:.3} vs source {wer_source:.3}",
                clip["path"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "formats worse than their source: {failures:#?}"
    );
}

#[test]
fn gsm_wav_is_refused_with_a_clear_reason() {
    let clip = clips_where(|c| c["format"] == "wav/gsm_ms")[0];
    let err = transcribe_json("tiny.en", &clip_path(clip), &[]).expect_err("GSM is not decodable");
    assert!(
        err.contains("jfk_8k_amr_like_gsm.wav"),
        "error names the file: {err}"
    );
    assert!(
        err.to_lowercase().contains("gsm"),
        "error names the codec: {err}"
    );
}

/// Clips whose codec no maintained Rust crate decodes (5.1 AAC).
const KNOWN_UNSUPPORTED: &[&str] = &["odd/lhotse_big_buck_bunny_small.mp4"];

#[test]
fn odd_inputs_get_text_silence_or_a_clear_error_and_never_crash() {
    let mut problems = Vec::new();
    for clip in clips_where(|c| c["set"] == "odd") {
        let path = clip_path(clip);
        let name = clip["path"].as_str().unwrap();
        ensure_model("tiny.en");
        let mut cmd = stt();
        cmd.args([
            "transcribe",
            "--model",
            "tiny.en",
            "--threads",
            "2",
            "--format",
            "json",
        ])
        .arg(&path);
        let out = output_within(cmd, Duration::from_secs(900));
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let Some(code) = out.status.code() else {
            problems.push(format!("{name}: killed by a signal: {stderr}"));
            continue;
        };
        if stderr.contains("panicked") {
            problems.push(format!("{name}: panicked: {stderr}"));
            continue;
        }
        let body: Option<Value> = (code == 0).then(|| serde_json::from_slice(&out.stdout).unwrap());
        let text = body
            .as_ref()
            .map(|b| b["original_text"].as_str().unwrap().to_string());
        eprintln!("{name:<45} exit {code} text {text:?} err {stderr:?}");
        let clear_error = code != 0 && stderr.starts_with("error: ");
        let problem = match clip["reference_quality"].as_str().unwrap() {
            // symphonia's AAC decoder stops at stereo; this 5.1 film soundtrack must at least
            // be refused clearly (a known gap, listed in the README).
            "expected_empty" if KNOWN_UNSUPPORTED.contains(&name) => (!clear_error
                || !stderr.contains("is not supported"))
            .then(|| format!("expected a clear unsupported-codec error, got {text:?} / {stderr}")),
            "expected_empty" => (text.as_deref() != Some(""))
                .then(|| format!("expected no text, got {text:?} / {stderr}")),
            "expect_error" => (!clear_error || !stderr.contains(name.rsplit('/').next().unwrap()))
                .then(|| {
                    format!("expected a clear error naming the file, got exit {code}: {stderr}")
                }),
            "expect_error_or_empty" => (!(clear_error || text.as_deref() == Some("")))
                .then(|| format!("expected an error or no text, got {text:?} / {stderr}")),
            "exact" => {
                let hyp = normalize_english(text.as_deref().unwrap_or(""));
                let reference = normalize_english(clip["reference"].as_str().unwrap());
                let wer = word_errors(&reference, &hyp).rate();
                (wer > 0.15).then(|| format!("WER {wer:.3}: {text:?} / {stderr}"))
            }
            "partial_expected" => {
                let duration = body
                    .as_ref()
                    .map_or(0.0, |b| b["audio_duration_seconds"].as_f64().unwrap());
                let full = clip["duration_s"].as_f64().unwrap();
                let has_text = text.as_deref().is_some_and(|t| !t.is_empty());
                (!(duration > 0.0 && duration < full && has_text)).then(|| {
                    format!("expected the valid part to transcribe, got {duration}s {text:?} / {stderr}")
                })
            }
            _ => None,
        };
        if let Some(p) = problem {
            problems.push(format!("{name}: {p}"));
        }
    }
    assert!(problems.is_empty(), "odd inputs mishandled: {problems:#?}");
}

#[test]
fn speech_after_thirty_seconds_of_silence_is_timed_after_the_silence() {
    let clip = clips_where(|c| c["path"] == "odd/silence30s_then_jfk.wav")[0];
    let body = transcribe_json("tiny.en", &clip_path(clip), &[]).unwrap();
    let first = &body["segments"][0];
    assert!(
        first["start_time"].as_f64().unwrap() >= 29.0,
        "first segment {first}"
    );
}
