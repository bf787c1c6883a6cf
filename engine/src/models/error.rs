//! The single error type of `stt_engine::models`.
//!
//! Every message is one line and names the file or model involved, because these errors
//! are shown verbatim by the `stt` CLI and by `scripts/fetch-models.sh`.

use std::path::PathBuf;

/// Result alias used throughout `stt_engine::models`.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// Everything that can go wrong while reading the manifest, resolving, or importing models.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A filesystem operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "cannot read".
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `model.bin` is truncated, corrupt, or not a CTranslate2 model at all.
    #[error("invalid CTranslate2 model file {path}: {message}")]
    Ct2Format { path: PathBuf, message: String },

    /// The model is well-formed but uses something the importer cannot represent.
    #[error("unsupported model {path}: {message}")]
    Unsupported { path: PathBuf, message: String },

    /// A JSON file (config, tokenizer, import record) could not be parsed or written.
    #[error("invalid JSON in {path}: {message}")]
    Json { path: PathBuf, message: String },

    /// The safetensors file could not be read or written.
    #[error("safetensors error in {path}: {message}")]
    Safetensors { path: PathBuf, message: String },

    /// The manifest is not valid TOML or breaks one of its rules.
    #[error("invalid model manifest: {0}")]
    Manifest(String),

    /// A file's content does not match the checksum the manifest pins.
    #[error("checksum mismatch for {path}: expected sha256 {expected}, got {actual}")]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    /// A name that is neither a known model nor an installed one nor a model directory.
    #[error("unknown model '{name}' (known models: {known})")]
    UnknownModel { name: String, known: String },

    /// A manifest model that has not been fetched into the store yet.
    #[error("model '{name}' is not installed in {store}; run `scripts/fetch-models.sh {name}`")]
    NotInstalled { name: String, store: PathBuf },

    /// A directory given as a model that lacks required files.
    #[error("{path} is not a usable model directory: missing {missing}")]
    NotAModelDir { path: PathBuf, missing: String },

    /// A model name that would not be a plain directory name inside the store.
    #[error("invalid model name '{name}': {reason}")]
    InvalidName { name: String, reason: &'static str },

    /// No environment variable tells where the model store lives.
    #[error("cannot locate the model store: set STT_MODELS_DIR (or XDG_DATA_HOME or HOME)")]
    NoStoreLocation,
}

impl ModelError {
    /// Wraps an I/O error with what was attempted and on which path.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        ModelError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
