//! The replaced service's transcription routes (`/transcriptions` and its aliases):
//! multipart `audio_file` + optional `language` in, the contract's JSON object out,
//! errors as `{"detail": ...}`.

use super::errors::{ApiError, ContractError};
use super::job::transcribe_upload;
use super::upload::{discard, read_form};
use super::SharedState;
use crate::response::TranscriptionResponse;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::Json;
use std::time::Instant;
use stt_engine::transcript::TranslationMethod;
use stt_engine::whisper::languages::parse_language;
use stt_engine::TranscribeOptions;

const FILE_FIELD: &str = "audio_file";
/// Response header naming the translation path: `whisper-translate`, `marian` or `none`.
pub const TRANSLATION_HEADER: &str = "x-stt-translation";

pub async fn transcribe(
    State(state): State<SharedState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<([(HeaderName, HeaderValue); 1], Json<TranscriptionResponse>), ContractError> {
    let started = Instant::now();
    let multipart = multipart.map_err(|e| {
        ApiError::BadRequest(format!(
            "send multipart/form-data with the audio in '{FILE_FIELD}': {}",
            e.body_text()
        ))
    })?;
    // Admit before reading the upload: a full server says so at once.
    let admission = match state.admit() {
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
    // Locales (en-US), ISO codes (en), names (arabic) or auto. The contract's call is
    // "transcribe + translate to English": non-English speech gets `translated_text`
    // (multilingual models; English is its own translation). Old clients' `translate`
    // `translate=false` skips the second pass for clients that do not need it.
    let language = form.text("language").unwrap_or("auto").to_string();
    let translate = !form
        .text("translate")
        .is_some_and(|t| matches!(t.trim().to_ascii_lowercase().as_str(), "false" | "0" | "no"));
    let code = parse_language(&language).map_err(ApiError::BadLanguage)?;
    let options = TranscribeOptions {
        language: code.map(str::to_string),
        translate_to_english: translate,
        ..Default::default()
    };
    let out = transcribe_upload(&state, admission, file, options).await?;
    // Which path produced `translated_text`; the JSON body keeps the old fields only.
    let method = match &out.transcript.translation {
        Some(t) if t.method == TranslationMethod::Marian => "marian",
        Some(_) => "whisper-translate",
        None => "none",
    };
    let header = (
        HeaderName::from_static(TRANSLATION_HEADER),
        HeaderValue::from_static(method),
    );
    Ok((
        [header],
        Json(TranscriptionResponse::from_transcript(
            &out.transcript,
            &language,
            out.transcription_s,
            started.elapsed().as_secs_f64(),
        )),
    ))
}
