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
