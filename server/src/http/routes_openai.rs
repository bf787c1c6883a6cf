//! OpenAI-compatible routes, so the official clients work with a changed base URL:
//! `POST /v1/audio/transcriptions`, `POST /v1/audio/translations`, `GET /v1/models`.
//! Errors use OpenAI's `{"error": {...}}` shape.
//!
//! The `model` field is accepted whatever it says (`whisper-1` included): a server runs
//! one model, named in `/v1/models`.

use super::errors::{ApiError, OpenAiError};
use super::job::transcribe_upload;
use super::upload::{discard, read_form, Form};
use super::SharedState;
use crate::subtitles;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use stt_engine::whisper::languages::{parse_language, LANGUAGES};
use stt_engine::{Task, TranscribeOptions, Transcript};

const FILE_FIELD: &str = "file";
/// The name OpenAI's clients default to; listed as an alias of the loaded model.
const OPENAI_MODEL_ALIAS: &str = "whisper-1";

#[derive(Debug, Clone, Copy, PartialEq)]
enum ResponseFormat {
    Json,
    Text,
    Srt,
    Vtt,
    VerboseJson,
}

impl ResponseFormat {
    fn parse(s: &str) -> Result<Self, ApiError> {
        Ok(match s {
            "json" => Self::Json,
            "text" => Self::Text,
            "srt" => Self::Srt,
            "vtt" => Self::Vtt,
            "verbose_json" => Self::VerboseJson,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "response_format '{other}' is not supported: use json, text, srt, vtt or verbose_json"
                )))
            }
        })
    }
}

pub async fn transcriptions(
    state: State<SharedState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, OpenAiError> {
    handle(state, multipart, Task::Transcribe).await
}

pub async fn translations(
    state: State<SharedState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, OpenAiError> {
    handle(state, multipart, Task::Translate).await
}

pub async fn models(State(state): State<SharedState>) -> Result<Json<Value>, OpenAiError> {
    let engine = state.engine()?;
    let entry = |id: &str| json!({ "id": id, "object": "model", "created": 0, "owned_by": "stt" });
    Ok(Json(json!({
        "object": "list",
        "data": [entry(&engine.model_name), entry(OPENAI_MODEL_ALIAS)],
    })))
}

/// Fallback temperatures from the requested one up, like OpenAI: 0 (or none) is the
/// full schedule; a higher start skips the colder steps.
fn temperature_schedule(form: &Form) -> Result<Vec<f32>, ApiError> {
    let default = TranscribeOptions::default().temperatures;
    let Some(raw) = form.text("temperature") else {
        return Ok(default);
    };
    let t: f32 = raw
        .parse()
        .ok()
        .filter(|t: &f32| (0.0..=1.0).contains(t))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "temperature '{raw}' is not a number between 0 and 1"
            ))
        })?;
    let mut schedule: Vec<f32> = default.into_iter().filter(|&d| d > t + 1e-6).collect();
    schedule.insert(0, t);
    Ok(schedule)
}

/// `timestamp_granularities[]`: segment timestamps are always produced; word-level
/// ones are not implemented, and saying so beats silently leaving `words` out.
fn check_granularities(form: &Form) -> Result<(), ApiError> {
    let requested = form
        .all("timestamp_granularities[]")
        .iter()
        .chain(form.all("timestamp_granularities"));
    for g in requested {
        match g.trim() {
            "segment" => {}
            "word" => {
                return Err(ApiError::Unsupported(
                    "word-level timestamps are not supported yet; use timestamp_granularities[]=segment".into(),
                ))
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "timestamp granularity '{other}' is unknown: use segment"
                )))
            }
        }
    }
    Ok(())
}

async fn handle(
    State(state): State<SharedState>,
    multipart: Result<Multipart, MultipartRejection>,
    task: Task,
) -> Result<Response, OpenAiError> {
    let multipart = multipart.map_err(|e| {
        ApiError::BadRequest(format!(
            "send multipart/form-data with the audio in '{FILE_FIELD}': {}",
            e.body_text()
        ))
    })?;
    // Refusals before the upload is read still read (and drop) it: see `discard`.
    let refusal = match state.engine() {
        Ok(engine) if task == Task::Translate && !engine.multilingual => Some(ApiError::Unsupported(format!(
            "translation needs a multilingual model, and this server runs the English-only model '{}'; start it with a multilingual one (e.g. --model base)",
            engine.model_name
        ))),
        _ => None,
    };
    let admission = match refusal.map_or_else(|| state.admit(), Err) {
        Ok(a) => a,
        Err(e) => {
            discard(multipart, state.limits.max_file_bytes).await;
            return Err(e.into());
        }
    };
    let mut form = read_form(multipart, FILE_FIELD, &state.limits).await?;
    let file = form
        .file
        .take()
        .ok_or(ApiError::NoFile { field: FILE_FIELD })?;
    let format = ResponseFormat::parse(form.text("response_format").unwrap_or("json"))?;
    check_granularities(&form)?;
    let language = match form.text("language") {
        Some(l) => parse_language(l).map_err(ApiError::BadLanguage)?,
        None => None,
    };
    let options = TranscribeOptions {
        language: language.map(str::to_string),
        task,
        initial_prompt: form.text("prompt").map(str::to_string),
        temperatures: temperature_schedule(&form)?,
        ..Default::default()
    };
    let out = transcribe_upload(&state, admission, file, options).await?;
    Ok(render(format, &out.transcript))
}

fn language_name(code: &str) -> &str {
    LANGUAGES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, name)| name)
}

fn render(format: ResponseFormat, t: &Transcript) -> Response {
    let text = |body: String, content_type: &'static str| {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    // Whisper bills (and OpenAI reports) whole seconds of audio.
    let usage = json!({ "type": "duration", "seconds": t.duration_s.ceil() as u64 });
    match format {
        ResponseFormat::Json => Json(json!({ "text": t.text, "usage": usage })).into_response(),
        ResponseFormat::Text => text(subtitles::to_text(t), "text/plain; charset=utf-8"),
        ResponseFormat::Srt => text(subtitles::to_srt(t), "text/plain; charset=utf-8"),
        ResponseFormat::Vtt => text(subtitles::to_vtt(t), "text/vtt; charset=utf-8"),
        ResponseFormat::VerboseJson => {
            let segments: Vec<Value> = t
                .segments
                .iter()
                .enumerate()
                .map(|(id, s)| {
                    json!({
                        "id": id,
                        // Whisper's seek is in mel frames (100 per second).
                        "seek": (s.start_s * 100.0).round() as u64,
                        "start": s.start_s,
                        "end": s.end_s,
                        "text": s.text,
                        "tokens": s.tokens,
                        "temperature": s.temperature,
                        "avg_logprob": s.avg_logprob,
                        "compression_ratio": s.compression_ratio,
                        "no_speech_prob": s.no_speech_prob,
                    })
                })
                .collect();
            let task = match t.task {
                Task::Transcribe => "transcribe",
                Task::Translate => "translate",
            };
            Json(json!({
                "task": task,
                "language": language_name(&t.language),
                "duration": t.duration_s,
                "text": t.text,
                "segments": segments,
                "usage": usage,
            }))
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn form(fields: &[(&str, &str)]) -> Form {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in fields {
            map.entry(k.to_string()).or_default().push(v.to_string());
        }
        Form {
            file: None,
            fields: map,
        }
    }

    #[test]
    fn temperature_starts_the_fallback_schedule() {
        assert_eq!(
            temperature_schedule(&form(&[])).unwrap(),
            TranscribeOptions::default().temperatures
        );
        assert_eq!(
            temperature_schedule(&form(&[("temperature", "0.5")])).unwrap(),
            vec![0.5, 0.6, 0.8, 1.0]
        );
        assert_eq!(
            temperature_schedule(&form(&[("temperature", "1")])).unwrap(),
            vec![1.0]
        );
        assert!(temperature_schedule(&form(&[("temperature", "2")])).is_err());
        assert!(temperature_schedule(&form(&[("temperature", "hot")])).is_err());
    }

    #[test]
    fn granularities_segment_ok_word_refused() {
        assert!(check_granularities(&form(&[("timestamp_granularities[]", "segment")])).is_ok());
        let e = check_granularities(&form(&[
            ("timestamp_granularities[]", "segment"),
            ("timestamp_granularities[]", "word"),
        ]))
        .unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(check_granularities(&form(&[("timestamp_granularities[]", "char")])).is_err());
    }

    #[test]
    fn response_formats() {
        assert_eq!(
            ResponseFormat::parse("verbose_json").unwrap(),
            ResponseFormat::VerboseJson
        );
        assert!(ResponseFormat::parse("xml").is_err());
        assert_eq!(language_name("en"), "english");
        assert_eq!(language_name("xx"), "xx");
    }
}
