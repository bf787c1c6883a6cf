//! Every way an HTTP request can fail, mapped to its status in exactly one table
//! ([`ApiError::status`]), and rendered in the two body shapes clients parse: the
//! contract's `{"detail": ...}` and OpenAI's `{"error": {"message", "type", ...}}`.
//!
//! Rendering has no side effects; errors are logged by the middleware in `http/mod.rs`,
//! which finds their reason in the [`ErrorDetail`] response extension.

use crate::scheduler::JobError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use stt_engine::audio::AudioError;
use stt_engine::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no file was sent: put the audio in the multipart field '{field}'")]
    NoFile { field: &'static str },
    #[error("file type '{extension}' is not allowed; send one of: {allowed}")]
    BadExtension {
        extension: String,
        allowed: &'static str,
    },
    #[error("content type '{content_type}' is not audio; send audio/*, video/* or application/octet-stream")]
    BadContentType { content_type: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    BadLanguage(String),
    #[error("the audio cannot be decoded: {0}")]
    Undecodable(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("the upload is larger than the limit of {limit_mb} MB")]
    TooLarge { limit_mb: u64 },
    #[error("the audio is longer than the limit of {limit_s:.0} s{}; split it into shorter files", lasts(*.duration_s))]
    TooLong { duration_s: f64, limit_s: f64 },
    #[error("the file decodes to no audio samples")]
    NoAudio,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("the model is still loading; try again shortly")]
    NotReady,
    #[error("the server is shutting down; send the request to another instance")]
    Draining,
    #[error(
        "the server is at capacity (all workers busy, queue full); retry after {retry_after_s} s"
    )]
    Overloaded { retry_after_s: u64 },
    #[error("the upload stalled: no data arrived for {idle_s} s; send the file again")]
    UploadStalled { idle_s: u64 },
    #[error("the request took longer than the time limit of {limit_s} s")]
    TimedOut { limit_s: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

/// ` (it lasts N s)` when the duration is known.
fn lasts(duration_s: f64) -> String {
    if duration_s.is_finite() {
        format!(" (it lasts {duration_s:.0} s)")
    } else {
        String::new()
    }
}

/// Seconds a client should wait after a "not ready" or "draining" answer.
const RETRY_NOT_READY_S: u64 = 5;

impl ApiError {
    /// The one table from error to HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NoFile { .. }
            | ApiError::BadExtension { .. }
            | ApiError::BadContentType { .. }
            | ApiError::BadRequest(_)
            | ApiError::BadLanguage(_)
            | ApiError::Undecodable(_)
            | ApiError::Unsupported(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge { .. } | ApiError::TooLong { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NoAudio => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotReady | ApiError::Draining | ApiError::Overloaded { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::UploadStalled { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::TimedOut { .. } => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `Retry-After` seconds for the answers that ask the client to come back.
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            ApiError::Overloaded { retry_after_s } => Some(*retry_after_s),
            ApiError::NotReady | ApiError::Draining => Some(RETRY_NOT_READY_S),
            _ => None,
        }
    }

    /// OpenAI's error `type` for this status.
    fn openai_type(&self) -> &'static str {
        match self.status() {
            StatusCode::NOT_FOUND => "not_found_error",
            StatusCode::SERVICE_UNAVAILABLE => "overloaded_error",
            s if s.is_client_error() => "invalid_request_error",
            _ => "server_error",
        }
    }

    /// Maps a scheduler outcome; `limit_s` is the request time limit in force.
    pub fn from_job(e: JobError, limit_s: u64, retry_after_s: u64) -> Self {
        match e {
            JobError::Overloaded => ApiError::Overloaded { retry_after_s },
            JobError::TimedOut => ApiError::TimedOut { limit_s },
            JobError::Panicked(msg) => ApiError::Internal(format!("the job panicked: {msg}")),
            JobError::Stopped => ApiError::Draining,
        }
    }

    fn into_response_with(self, body: serde_json::Value) -> Response {
        let status = self.status();
        let mut response = (status, Json(body)).into_response();
        if let Some(s) = self.retry_after_s() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        response
            .extensions_mut()
            .insert(ErrorDetail(self.to_string()));
        response
    }
}

impl ApiError {
    /// Why an upload could not be used; `name` is the client's file name. Listed
    /// variant by variant so a new kind of audio error gets a deliberate status.
    pub fn from_audio(e: AudioError, name: &str) -> Self {
        match e {
            AudioError::Empty
            | AudioError::NotAudio
            | AudioError::UnsupportedFormat { .. }
            | AudioError::UnsupportedCodec { .. }
            | AudioError::NoAudioTrack
            | AudioError::DecodeFailed { .. } => ApiError::Undecodable(format!("{name}: {e}")),
            AudioError::NoSamples => ApiError::NoAudio,
            AudioError::TooLong { limit_s } => ApiError::TooLong {
                duration_s: f64::NAN,
                limit_s,
            },
            // The upload is our own temporary file: failing to read it is our fault.
            AudioError::Io { .. } => ApiError::Internal(format!("reading the upload: {e}")),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Audio(a) => ApiError::from_audio(a, "the audio"),
            EngineError::UnsupportedLanguage { .. } => ApiError::BadLanguage(e.to_string()),
            EngineError::InvalidOptions(msg) => ApiError::BadRequest(msg),
            // Only seen if the waiter is still there, i.e. the limit ran out.
            EngineError::Cancelled => ApiError::TimedOut { limit_s: 0 },
            EngineError::ModelLoad { .. }
            | EngineError::Tokenizer(_)
            | EngineError::Inference(_) => ApiError::Internal(e.to_string()),
        }
    }
}

/// The reason behind an error answer, for the logging middleware.
#[derive(Clone, Debug)]
pub struct ErrorDetail(pub String);

/// An error in the contract's shape: `{"detail": "..."}`.
pub struct ContractError(pub ApiError);

impl From<ApiError> for ContractError {
    fn from(e: ApiError) -> Self {
        ContractError(e)
    }
}

impl IntoResponse for ContractError {
    fn into_response(self) -> Response {
        let body = json!({ "detail": self.0.to_string() });
        self.0.into_response_with(body)
    }
}

/// An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.
pub struct OpenAiError(pub ApiError);

impl From<ApiError> for OpenAiError {
    fn from(e: ApiError) -> Self {
        OpenAiError(e)
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "message": self.0.to_string(),
                "type": self.0.openai_type(),
                "param": null,
                "code": self.0.status().as_u16().to_string(),
            }
        });
        self.0.into_response_with(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One example of every variant with the status the contract demands. The match
    /// below has no wildcard: a new variant does not compile until it is listed here.
    fn expected_status(e: &ApiError) -> u16 {
        match e {
            ApiError::NoFile { .. } => 400,
            ApiError::BadExtension { .. } => 400,
            ApiError::BadContentType { .. } => 400,
            ApiError::BadRequest(_) => 400,
            ApiError::BadLanguage(_) => 400,
            ApiError::Undecodable(_) => 400,
            ApiError::Unsupported(_) => 400,
            ApiError::TooLarge { .. } => 413,
            ApiError::TooLong { .. } => 413,
            ApiError::NoAudio => 422,
            ApiError::NotFound => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::NotReady => 503,
            ApiError::Draining => 503,
            ApiError::Overloaded { .. } => 503,
            ApiError::UploadStalled { .. } => 408,
            ApiError::TimedOut { .. } => 504,
            ApiError::Internal(_) => 500,
        }
    }

    fn every_variant() -> Vec<ApiError> {
        vec![
            ApiError::NoFile {
                field: "audio_file",
            },
            ApiError::BadExtension {
                extension: "txt".into(),
                allowed: "wav",
            },
            ApiError::BadContentType {
                content_type: "text/plain".into(),
            },
            ApiError::BadRequest("x".into()),
            ApiError::BadLanguage("x".into()),
            ApiError::Undecodable("x".into()),
            ApiError::Unsupported("x".into()),
            ApiError::TooLarge { limit_mb: 1 },
            ApiError::TooLong {
                duration_s: 9.0,
                limit_s: 1.0,
            },
            ApiError::NoAudio,
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::NotReady,
            ApiError::Draining,
            ApiError::Overloaded { retry_after_s: 3 },
            ApiError::UploadStalled { idle_s: 30 },
            ApiError::TimedOut { limit_s: 2 },
            ApiError::Internal("x".into()),
        ]
    }

    #[test]
    fn every_error_has_its_contract_status() {
        for e in every_variant() {
            assert_eq!(e.status().as_u16(), expected_status(&e), "{e:?}");
        }
    }

    #[test]
    fn unavailable_answers_carry_retry_after_and_others_do_not() {
        for e in every_variant() {
            let is_503 = e.status() == StatusCode::SERVICE_UNAVAILABLE;
            let response = ContractError(e).into_response();
            assert_eq!(
                response.headers().contains_key(header::RETRY_AFTER),
                is_503,
                "{}",
                response.status()
            );
        }
        let r = ContractError(ApiError::Overloaded { retry_after_s: 7 }).into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "7");
    }

    #[test]
    fn every_error_carries_its_reason_for_the_log() {
        for e in every_variant() {
            let reason = e.to_string();
            let response = OpenAiError(e).into_response();
            let detail = response.extensions().get::<ErrorDetail>().unwrap();
            assert_eq!(detail.0, reason);
        }
    }

    #[test]
    fn audio_errors_map_to_400_413_422_and_500() {
        let status = |e| ApiError::from_audio(e, "x.wav").status().as_u16();
        assert_eq!(status(AudioError::NotAudio), 400);
        assert_eq!(status(AudioError::Empty), 400);
        assert_eq!(
            status(AudioError::DecodeFailed {
                reason: "bad".into()
            }),
            400
        );
        assert_eq!(status(AudioError::NoSamples), 422);
        assert_eq!(status(AudioError::TooLong { limit_s: 60.0 }), 413);
        let e = ApiError::from_audio(AudioError::NotAudio, "notes.wav");
        assert!(e.to_string().contains("notes.wav"), "{e}");
        let long = ApiError::from_audio(AudioError::TooLong { limit_s: 60.0 }, "x");
        assert_eq!(
            long.to_string(),
            "the audio is longer than the limit of 60 s; split it into shorter files"
        );
    }

    #[test]
    fn job_errors_map_to_overload_timeout_and_internal() {
        let status = |e| ApiError::from_job(e, 10, 2).status().as_u16();
        assert_eq!(status(JobError::Overloaded), 503);
        assert_eq!(status(JobError::TimedOut), 504);
        assert_eq!(status(JobError::Panicked("boom".into())), 500);
        assert_eq!(status(JobError::Stopped), 503);
    }
}
