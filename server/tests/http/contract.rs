//! The replaced service's contract (`shared/api-contract.md`): every endpoint, every
//! response field with its type, and the error statuses with `{"detail": ...}`.

use crate::support::*;
use serde_json::Value;

const TRANSCRIPTION_PATHS: &[&str] = &[
    "/transcriptions",
    "/transcriptions/process-isolated",
    "/transcriptions/fast",
    "/transcriptions/hybrid",
];

#[test]
fn service_endpoints_answer_as_the_contract_says() {
    let server = Server::start(&[], &[("STT_ENVIRONMENT", "test")]);

    let root = get(&server.url("/"));
    assert_eq!(root.status, 200);
    let body = root.json();
    assert_eq!(body["name"], "stt");
    assert!(body["version"].is_string(), "{body}");
    assert_eq!(body["environment"], "test");

    let health = get(&server.url("/health"));
    assert_eq!(health.status, 200);
    assert_eq!(health.json(), serde_json::json!({"status": "healthy"}));

    let ready = get(&server.url("/readiness"));
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["status"], "ready");
    assert!(ready.json()["version"].is_string());

    let metrics = get(&server.url("/metrics"));
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain"),
        "{:?}",
        metrics.headers
    );
    for name in [
        "stt_http_requests_total",
        "stt_queue_depth",
        "stt_workers_busy",
        "stt_workers ",
        "stt_ready 1",
    ] {
        assert!(
            metrics.body.contains(name),
            "missing {name}:\n{}",
            metrics.body
        );
    }

    // Every answer carries a request id; a client's own id is kept.
    assert!(health
        .header("x-request-id")
        .is_some_and(|id| !id.is_empty()));
    let mine = ureq::get(&server.url("/health"))
        .set("x-request-id", "client-chosen-42")
        .call()
        .unwrap();
    assert_eq!(mine.header("x-request-id"), Some("client-chosen-42"));
    assert!(
        server.log_text().contains("client-chosen-42"),
        "the request id is in the logs"
    );
}

/// Checks one 200 body field by field against the contract.
fn assert_contract_body(body: &Value, clip: &Value, language: &str) {
    let text = body["original_text"].as_str().expect("original_text: str");
    assert_eq!(
        body["translated_text"].as_str(),
        Some(text),
        "English is its own translation"
    );
    assert_eq!(body["original_language"], language);
    let duration = body["audio_duration_seconds"]
        .as_f64()
        .expect("audio_duration_seconds: float");
    let expected = clip["duration_s"].as_f64().unwrap();
    assert!(
        (duration - expected).abs() < 0.1,
        "duration {duration} vs {expected}"
    );
    for key in [
        "processing_time_seconds",
        "transcription_time_seconds",
        "translation_time_seconds",
        "confidence_average",
    ] {
        assert!(
            body[key].as_f64().is_some_and(|v| v >= 0.0),
            "{key}: {body}"
        );
    }
    assert!(body["speaker_count"].is_null() || body["speaker_count"].is_u64());
    let timestamp = body["timestamp"].as_str().expect("timestamp: str");
    assert!(
        timestamp.len() >= 20 && timestamp.as_bytes()[10] == b'T',
        "ISO-8601: {timestamp}"
    );
    let segments = body["segments"].as_array().expect("segments: array");
    assert!(!segments.is_empty());
    let mut previous_end = 0.0;
    let mut confidence_sum = 0.0;
    for s in segments {
        assert!(s["text"].is_string());
        let (start, end) = (
            s["start_time"].as_f64().unwrap(),
            s["end_time"].as_f64().unwrap(),
        );
        assert!(
            start >= previous_end - 1e-6,
            "ordered, non-overlapping: {segments:?}"
        );
        assert!(end >= start && end <= duration + 1e-6, "{s}");
        let confidence = s["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence));
        confidence_sum += confidence;
        assert!(s["speaker_id"].is_null() || s["speaker_id"].is_string());
        assert!(s["language"].is_null() || s["language"].is_string());
        previous_end = end;
    }
    let mean = confidence_sum / segments.len() as f64;
    assert!((body["confidence_average"].as_f64().unwrap() - mean).abs() < 0.01);
    let reference = clip["reference"].as_str().unwrap();
    let rate = wer(reference, text);
    // A shape test, not an accuracy test: the right speech came back (tiny.en).
    assert!(rate < 0.4, "WER {rate:.2}: {text:?} vs {reference:?}");
}

#[test]
fn every_transcription_path_returns_the_contract_object() {
    let server = Server::start(&[], &[]);
    let clips = librispeech_clips();
    for (i, path) in TRANSCRIPTION_PATHS.iter().enumerate() {
        let clip = clips[i % clips.len()];
        let reply = post_form(&server.url(path), Form::audio(clip, "en-US"));
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert!(reply
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        assert!(reply.header("x-request-id").is_some());
        assert_contract_body(&reply.json(), clip, "en-US");
    }
    // Language variants old clients send, and none at all (auto).
    let clip = clips[0];
    for language in ["en", "en-GB", "auto", "English"] {
        let reply = post_form(&server.url("/transcriptions"), Form::audio(clip, language));
        assert_eq!(reply.status, 200, "{language}: {}", reply.body);
        // A given language is echoed; a detected one in the old service's locale form.
        let expected = if language == "auto" {
            "en-US"
        } else {
            language
        };
        assert_eq!(reply.json()["original_language"], expected);
    }
    let bytes = clip_bytes(clip);
    let no_language = Form::new().file("audio_file", &file_name(clip), None, &bytes);
    let reply = post_form(&server.url("/transcriptions"), no_language);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["original_language"], "en-US");
    // `translate=false` of old clients is accepted.
    let reply = post_form(
        &server.url("/transcriptions"),
        Form::audio(clip, "en-US").text("translate", "false"),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);

    let metrics = get(&server.url("/metrics")).body;
    for name in [
        "stt_transcriptions_total{status=\"200\"}",
        "stt_audio_duration_seconds_count",
        "stt_transcription_time_seconds_count",
        "stt_translation_time_seconds_count",
        "stt_real_time_factor_bucket",
        "stt_audio_seconds_processed_total",
        "stt_http_request_duration_seconds_bucket",
        "path=\"/transcriptions/process-isolated\",status=\"200\"",
    ] {
        assert!(metrics.contains(name), "missing {name}:\n{metrics}");
    }
}

#[test]
fn errors_use_the_detail_shape_and_the_contract_statuses() {
    let mut server = Server::start(&[], &[]);
    let url = server.url("/transcriptions");
    let clip = clip("jfk/jfk.wav");
    let wav = clip_bytes(clip);

    // No file: another field name, or no multipart at all.
    let reply = post_form(&url, Form::new().file("file", "jfk.wav", None, &wav));
    assert_eq!(reply.status, 400);
    assert!(reply.detail().contains("audio_file"), "{}", reply.body);
    let reply = post_form(&url, Form::new().text("language", "en"));
    assert_eq!(reply.status, 400, "{}", reply.body);
    let reply = post_raw(&url, "application/json", b"{\"audio_file\": null}");
    assert_eq!(reply.status, 400, "{}", reply.body);
    reply.detail();

    // Disallowed extension and content type, even with good audio inside.
    let reply = post_form(&url, Form::new().file("audio_file", "jfk.txt", None, &wav));
    assert_eq!(reply.status, 400);
    assert!(reply.detail().contains(".txt"), "{}", reply.body);
    let reply = post_form(
        &url,
        Form::new().file("audio_file", "jfk.wav", Some("text/plain"), &wav),
    );
    assert_eq!(reply.status, 400);
    assert!(reply.detail().contains("text/plain"), "{}", reply.body);

    // Accepted: audio/*, octet-stream, no extension (decided by content).
    for (name, ct) in [
        ("jfk.wav", Some("audio/wav")),
        ("jfk.wav", Some("application/octet-stream")),
        ("blob", None),
    ] {
        let reply = post_form(&url, Form::new().file("audio_file", name, ct, &wav));
        assert_eq!(reply.status, 200, "{name} {ct:?}: {}", reply.body);
    }

    // Undecodable bytes under an allowed name.
    let reply = post_form(
        &url,
        Form::new().file(
            "audio_file",
            "noise.mp3",
            None,
            b"certainly not audio at all",
        ),
    );
    assert_eq!(reply.status, 400);
    reply.detail();

    // Languages: unknown, and one the English-only model cannot do.
    let reply = post_form(&url, Form::audio(clip, "klingon"));
    assert_eq!(reply.status, 400);
    assert!(reply.detail().contains("klingon"), "{}", reply.body);
    let reply = post_form(&url, Form::audio(clip, "ar-AE"));
    assert_eq!(reply.status, 400);
    assert!(
        reply.detail().to_lowercase().contains("english"),
        "{}",
        reply.body
    );

    // Wrong method and unknown path.
    let reply = get(&url);
    assert_eq!(reply.status, 405);
    reply.detail();
    let reply = get(&server.url("/no/such/path"));
    assert_eq!(reply.status, 404);
    reply.detail();

    server.assert_healthy();
    let metrics = get(&server.url("/metrics")).body;
    assert!(
        metrics.contains("stt_transcriptions_total{status=\"400\"}"),
        "{metrics}"
    );
}

/// With a multilingual model, non-English speech gets an English `translated_text`,
/// the header names the path, and `translate=false` skips the pass.
#[test]
fn german_speech_is_translated_and_translate_false_skips_it() {
    let server = Server::start_with_model("base", &[], &[]);
    let german = clip("multilingual/picovoice_test_de.wav");
    let reply = post_form(&server.url("/transcriptions"), Form::audio(german, "auto"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("x-stt-translation"), Some("whisper-translate"));
    let body = reply.json();
    assert_eq!(body["original_language"], "de");
    assert_ne!(body["translated_text"], body["original_text"]);
    assert!(
        body["translated_text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("portal"),
        "{body}"
    );
    assert!(body["translation_time_seconds"].as_f64().unwrap() > 0.0);

    let skipped = post_form(
        &server.url("/transcriptions"),
        Form::audio(german, "de").text("translate", "false"),
    );
    assert_eq!(skipped.status, 200, "{}", skipped.body);
    assert_eq!(skipped.header("x-stt-translation"), Some("none"));
    let body = skipped.json();
    assert_eq!(body["translated_text"], body["original_text"]);
    assert_eq!(body["translation_time_seconds"].as_f64().unwrap(), 0.0);
}
