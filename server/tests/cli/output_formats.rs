//! The rendered outputs: the contract's JSON object, SRT, VTT and text, and segment
//! invariants on long-form audio.

use crate::support::*;
use serde_json::Value;
use stt_engine::eval::{normalize_english, word_errors};

fn jfk() -> std::path::PathBuf {
    eval_dir().join("jfk/jfk.flac")
}

/// Ordered, non-overlapping, inside [0, duration], end >= start, confidences in [0, 1].
fn assert_segment_invariants(body: &Value) {
    let duration = body["audio_duration_seconds"].as_f64().unwrap();
    let mut previous_end = 0.0;
    for s in body["segments"].as_array().unwrap() {
        let (start, end) = (
            s["start_time"].as_f64().unwrap(),
            s["end_time"].as_f64().unwrap(),
        );
        let confidence = s["confidence"].as_f64().unwrap();
        assert!(start >= previous_end - 1e-9, "overlap at {s}");
        assert!(
            end >= start && end <= duration + 1e-9,
            "bad times {s} (duration {duration})"
        );
        assert!((0.0..=1.0).contains(&confidence), "confidence {s}");
        assert!(s["text"].is_string() && !s["text"].as_str().unwrap().is_empty());
        previous_end = end;
    }
}

#[test]
fn json_has_every_contract_field_with_its_type() {
    let body = transcribe_json("tiny.en", &jfk(), &["--language", "en-US"]).unwrap();
    for key in [
        "original_text",
        "translated_text",
        "original_language",
        "timestamp",
    ] {
        assert!(body[key].is_string(), "{key} should be a string: {body}");
    }
    for key in [
        "audio_duration_seconds",
        "processing_time_seconds",
        "transcription_time_seconds",
        "translation_time_seconds",
        "confidence_average",
    ] {
        assert!(
            body[key].is_f64() || body[key].is_u64(),
            "{key} should be a number: {body}"
        );
    }
    assert!(body["speaker_count"].is_null() || body["speaker_count"].is_u64());
    assert_eq!(
        body["original_language"], "en-US",
        "a locale the client sent is echoed"
    );
    let duration = body["audio_duration_seconds"].as_f64().unwrap();
    assert!((duration - 11.0).abs() < 0.05, "duration {duration}");
    let confidence = body["confidence_average"].as_f64().unwrap();
    assert!(
        confidence > 0.5 && confidence <= 1.0,
        "confidence_average {confidence}"
    );
    let segments = body["segments"].as_array().unwrap();
    assert!(!segments.is_empty());
    for s in segments {
        for key in [
            "text",
            "start_time",
            "end_time",
            "confidence",
            "speaker_id",
            "language",
        ] {
            assert!(s.get(key).is_some(), "segment lacks {key}: {s}");
        }
    }
    assert_segment_invariants(&body);
    let text = normalize_english(body["original_text"].as_str().unwrap());
    assert!(
        text.contains("ask not what your country can do for you"),
        "{text}"
    );
}

#[test]
fn srt_and_vtt_are_well_formed() {
    let srt = run_transcribe("tiny.en", &jfk(), &["--format", "srt"]);
    assert!(srt.status.success());
    let srt = String::from_utf8(srt.stdout).unwrap();
    assert!(srt.starts_with("1\n00:00:00,000 --> 00:00:"), "{srt}");
    assert!(srt.contains("\n\n2\n"), "two cues expected: {srt}");

    let vtt = run_transcribe("tiny.en", &jfk(), &["--format", "vtt"]);
    assert!(vtt.status.success());
    let vtt = String::from_utf8(vtt.stdout).unwrap();
    assert!(
        vtt.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:"),
        "{vtt}"
    );
}

#[test]
fn text_goes_to_a_file_with_output() {
    let dir = std::env::temp_dir().join(format!("stt-test-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("jfk.txt");
    let out = run_transcribe("tiny.en", &jfk(), &["--output", target.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout when --output is given"
    );
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        normalize_english(&text).contains("my fellow americans"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn english_only_model_refuses_other_languages_clearly() {
    let out = run_transcribe("tiny.en", &jfk(), &["--language", "ar-AE"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("English-only"), "{err}");
}

#[test]
fn longform_recording_is_seeked_by_timestamps_and_accurate() {
    let clip = clips_where(|c| c["set"] == "longform")[0];
    let body = transcribe_json("tiny.en", &clip_path(clip), &[]).unwrap();
    assert_segment_invariants(&body);
    let segments = body["segments"].as_array().unwrap();
    let last_end = segments.last().unwrap()["end_time"].as_f64().unwrap();
    let duration = body["audio_duration_seconds"].as_f64().unwrap();
    assert!(
        last_end > duration - 10.0,
        "speech runs to the end: {last_end} of {duration}"
    );
    // Seeking to timestamps, not fixed 30 s hops: some segment starts off the 30 s grid.
    assert!(segments.iter().any(|s| {
        let start = s["start_time"].as_f64().unwrap();
        start > 1.0 && (start % 30.0).abs() > 0.5
    }));
    let hyp = normalize_english(body["original_text"].as_str().unwrap());
    let wer = word_errors(
        &normalize_english(clip["reference"].as_str().unwrap()),
        &hyp,
    )
    .rate();
    eprintln!("longform WER {wer:.4}");
    assert!(wer < 0.10, "longform WER {wer:.4}");
}
