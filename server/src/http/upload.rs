//! Reads a `multipart/form-data` request: the audio part streams chunk by chunk into a
//! temporary file, never into memory, and the size limit is enforced while reading, so
//! an oversized upload is cut off at the limit instead of being received in full.
//! Small text fields (language, model, ...) are kept in memory with their own caps.

use super::errors::ApiError;
use super::Limits;
use axum::extract::multipart::{Multipart, MultipartError};
use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;
use tempfile::NamedTempFile;

/// Extensions accepted for the audio part: the old service's list, plus the names
/// OpenAI's API accepts and Opus. A part without an extension is judged by content.
pub const ALLOWED_EXTENSIONS: &[&str] = &[
    "wav", "mp3", "m4a", "flac", "aac", "ogg", "webm", "mp4", "opus", "oga", "mpeg", "mpga",
];
pub const ALLOWED_EXTENSIONS_TEXT: &str =
    ".wav .mp3 .m4a .flac .aac .ogg .webm .mp4 .opus .oga .mpeg .mpga";

/// A text field longer than this is refused (a prompt is the longest legitimate one).
const MAX_TEXT_FIELD_BYTES: usize = 64 * 1024;
/// More fields than this is not a client of this API.
const MAX_FIELDS: usize = 64;
/// How long a refused request's body is read and dropped before the refusal is sent.
const DISCARD_TIME: Duration = Duration::from_secs(2);

/// The audio part, on disk.
pub struct UploadedFile {
    pub temp: NamedTempFile,
    pub filename: Option<String>,
    pub size_bytes: u64,
}

/// Everything the form held.
pub struct Form {
    pub file: Option<UploadedFile>,
    /// Text fields by name; repeated names (`timestamp_granularities[]`) keep every value.
    pub fields: HashMap<String, Vec<String>>,
}

impl Form {
    /// The first value of a text field, trimmed; `None` when absent or empty.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .and_then(|v| v.first())
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    pub fn all(&self, name: &str) -> &[String] {
        self.fields.get(name).map_or(&[], Vec::as_slice)
    }
}

fn multipart_error(e: MultipartError) -> ApiError {
    // multer reports a body cut by the client and malformed framing the same way:
    // both are the client's fault.
    ApiError::BadRequest(format!("malformed multipart body: {}", e.body_text()))
}

/// Reads the whole form; `file_field` names the audio part (`audio_file` or `file`).
/// A form refused half-way (bad extension, bad field) has the rest of its body read
/// and dropped first, so the client sees the 400; one over the size limit does not.
pub async fn read_form(
    mut multipart: Multipart,
    file_field: &'static str,
    limits: &Limits,
) -> Result<Form, ApiError> {
    let max_file_bytes = limits.max_file_bytes;
    let result = read_fields(
        &mut multipart,
        file_field,
        max_file_bytes,
        limits.upload_idle,
    )
    .await;
    if let Err(e) = &result {
        if !matches!(
            e,
            ApiError::TooLarge { .. } | ApiError::UploadStalled { .. }
        ) {
            discard(multipart, max_file_bytes).await;
        }
    }
    result
}

/// The next piece of the body, or [`ApiError::UploadStalled`] if none comes within `idle`.
async fn within<T>(
    idle: Duration,
    next: impl std::future::Future<Output = Result<T, MultipartError>>,
) -> Result<T, ApiError> {
    match tokio::time::timeout(idle, next).await {
        Ok(piece) => piece.map_err(multipart_error),
        Err(_) => Err(ApiError::UploadStalled {
            idle_s: idle.as_secs(),
        }),
    }
}

async fn read_fields(
    multipart: &mut Multipart,
    file_field: &'static str,
    max_file_bytes: u64,
    idle: Duration,
) -> Result<Form, ApiError> {
    let limit_mb = max_file_bytes / (1024 * 1024);
    let mut form = Form {
        file: None,
        fields: HashMap::new(),
    };
    let mut field_count = 0;
    // Other file parts are skipped, but count against the same size limit.
    let mut skipped_bytes = 0u64;
    while let Some(mut field) = within(idle, multipart.next_field()).await? {
        field_count += 1;
        if field_count > MAX_FIELDS {
            return Err(ApiError::BadRequest(format!(
                "too many form fields (more than {MAX_FIELDS})"
            )));
        }
        let name = field.name().unwrap_or_default().to_string();
        if name == file_field {
            if form.file.is_some() {
                return Err(ApiError::BadRequest(format!(
                    "send one file per request in '{file_field}'"
                )));
            }
            let filename = field.file_name().map(str::to_string);
            let content_type = field.content_type().map(str::to_string);
            check_name_and_type(filename.as_deref(), content_type.as_deref())?;
            let mut temp = NamedTempFile::with_prefix("stt-upload-")
                .map_err(|e| ApiError::Internal(format!("cannot create a temporary file: {e}")))?;
            let mut size_bytes = 0u64;
            while let Some(chunk) = within(idle, field.chunk()).await? {
                size_bytes += chunk.len() as u64;
                if size_bytes > max_file_bytes {
                    // Returning drops the stream: the rest of the body is never read.
                    return Err(ApiError::TooLarge { limit_mb });
                }
                // Small synchronous writes to a local temp file: cheaper than a hop to
                // the blocking pool per chunk, and bounded by the chunk size.
                temp.write_all(&chunk).map_err(|e| {
                    ApiError::Internal(format!("cannot write the upload to disk: {e}"))
                })?;
            }
            temp.flush()
                .map_err(|e| ApiError::Internal(format!("cannot write the upload to disk: {e}")))?;
            form.file = Some(UploadedFile {
                temp,
                filename,
                size_bytes,
            });
        } else if field.file_name().is_some() {
            while let Some(chunk) = within(idle, field.chunk()).await? {
                skipped_bytes += chunk.len() as u64;
                if skipped_bytes > max_file_bytes {
                    return Err(ApiError::TooLarge { limit_mb });
                }
            }
        } else {
            let mut value = Vec::new();
            while let Some(chunk) = within(idle, field.chunk()).await? {
                value.extend_from_slice(&chunk);
                if value.len() > MAX_TEXT_FIELD_BYTES {
                    return Err(ApiError::BadRequest(format!(
                        "form field '{name}' is longer than {MAX_TEXT_FIELD_BYTES} bytes"
                    )));
                }
            }
            let value = String::from_utf8(value).map_err(|_| {
                ApiError::BadRequest(format!("form field '{name}' is not UTF-8 text"))
            })?;
            form.fields.entry(name).or_default().push(value);
        }
    }
    Ok(form)
}

/// Reads and drops the rest of a refused request's body (at most `max_bytes`, for at
/// most two seconds). Otherwise the connection closes with the client still sending,
/// and many clients then report a broken pipe instead of the answer (a 503 and its
/// `Retry-After`, or the 400 that says what was wrong).
pub async fn discard(mut multipart: Multipart, max_bytes: u64) {
    let drain = async {
        let mut seen = 0u64;
        while let Ok(Some(mut field)) = multipart.next_field().await {
            while let Ok(Some(chunk)) = field.chunk().await {
                seen += chunk.len() as u64;
                if seen > max_bytes {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DISCARD_TIME, drain).await;
}

/// The old service's rules: a known extension (when there is one) and an audio/video
/// content type (when one is set). Whether the bytes really are audio is decided
/// later by decoding them, whatever the name says.
pub fn check_name_and_type(
    filename: Option<&str>,
    content_type: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(extension) = filename.and_then(extension_of) {
        if !ALLOWED_EXTENSIONS.contains(&extension.as_str()) {
            return Err(ApiError::BadExtension {
                extension: format!(".{extension}"),
                allowed: ALLOWED_EXTENSIONS_TEXT,
            });
        }
    }
    if let Some(ct) = content_type {
        let essence = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let acceptable = essence.is_empty()
            || essence.starts_with("audio/")
            || essence.starts_with("video/")
            || essence == "application/octet-stream"
            || essence == "application/ogg";
        if !acceptable {
            return Err(ApiError::BadContentType {
                content_type: ct.to_string(),
            });
        }
    }
    Ok(())
}

/// Lower-case extension of a client-supplied file name (which may carry a path).
fn extension_of(filename: &str) -> Option<String> {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let (stem, ext) = base.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_of_the_old_service_are_allowed() {
        for name in [
            "a.wav", "b.MP3", "c.m4a", "d.flac", "e.aac", "f.ogg", "g.webm", "h.mp4",
        ] {
            assert!(check_name_and_type(Some(name), None).is_ok(), "{name}");
        }
    }

    #[test]
    fn other_extensions_are_refused_and_missing_ones_are_sniffed() {
        let err = check_name_and_type(Some("goforward.raw"), None).unwrap_err();
        assert!(err.to_string().contains(".raw"), "{err}");
        assert!(check_name_and_type(Some("notes.txt"), None).is_err());
        assert!(check_name_and_type(Some("blob"), None).is_ok());
        assert!(check_name_and_type(Some(".hidden"), None).is_ok());
        assert!(check_name_and_type(None, None).is_ok());
        assert!(check_name_and_type(Some("C:\\rec\\x.wav"), None).is_ok());
    }

    #[test]
    fn content_types_audio_video_and_octet_stream_pass() {
        for ct in [
            "audio/wav",
            "audio/mpeg",
            "video/mp4",
            "application/octet-stream",
            "Audio/X-WAV; charset=binary",
            "application/ogg",
        ] {
            assert!(check_name_and_type(Some("a.wav"), Some(ct)).is_ok(), "{ct}");
        }
        for ct in ["text/plain", "application/json", "image/png"] {
            let err = check_name_and_type(Some("a.wav"), Some(ct)).unwrap_err();
            assert_eq!(err.status(), 400, "{ct}");
        }
    }
}
