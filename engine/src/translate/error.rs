//! The translation backend's error type.
//!
//! Kept separate from [`crate::error::EngineError`] so that the translation module stands
//! on its own; the pipeline converts it where it meets transcription.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    /// The model directory is incomplete, unreadable or describes an unsupported model.
    #[error("cannot load translation model from {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    /// The tokenizer failed on some input (rare: the SentencePiece models cover all text).
    #[error("translation tokenizer: {0}")]
    Tokenizer(String),
    /// Options that cannot be honoured, e.g. a beam size of 0.
    #[error("invalid translation options: {0}")]
    InvalidOptions(String),
    /// `translate_ids` was given more source tokens than the model has positions for.
    /// (`translate` and `translate_segments` split long text instead.)
    #[error("the source has {len} tokens, the model accepts at most {max}")]
    SourceTooLong { len: usize, max: usize },
    #[error("translation failed: {0}")]
    Inference(#[from] candle_core::Error),
}

impl TranslateError {
    pub(crate) fn load(path: impl Into<PathBuf>, reason: impl ToString) -> Self {
        Self::Load {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

pub type Result<T, E = TranslateError> = std::result::Result<T, E>;
