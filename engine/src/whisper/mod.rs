//! Whisper on candle: configuration, log-mel front end, the network with its caches,
//! and the tokenizer's special tokens.
//!
//! Not here: the decoding policy (timestamps, fallback, seeking), which lives in
//! [`crate::decoding`] so that the network stays a pure function of its inputs.

pub mod config;
pub mod languages;
pub mod loader;
pub mod mel;
pub mod network;
pub mod tokens;

pub use config::WhisperConfig;
pub use loader::WhisperModel;
pub use network::{CrossAttentionCache, DecoderCache, WhisperNetwork};
pub use tokens::WhisperTokenizer;
