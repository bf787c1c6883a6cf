//! The engine's one error type; the CLI and HTTP layers map it to messages and statuses.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Audio(#[from] crate::audio::AudioError),
    #[error("cannot load model from {path}: {reason}")]
    ModelLoad { path: PathBuf, reason: String },
    #[error(transparent)]
    Tokenizer(#[from] crate::whisper::tokens::TokenizerError),
    #[error("language '{language}' is not supported: {reason}")]
    UnsupportedLanguage { language: String, reason: String },
    #[error("{0}")]
    InvalidOptions(String),
    #[error("transcription was cancelled")]
    Cancelled,
    #[error("inference failed: {0}")]
    Inference(#[from] candle_core::Error),
}
