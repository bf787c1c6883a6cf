//! stt engine: everything between an audio file and a transcript, with no HTTP.
//!
//! - [`audio`]: decode any common container/codec, mix down, resample to 16 kHz.
//! - [`whisper`]: log-mel features and the Whisper network on candle.
//! - [`decoding`]: the decoding policy (timestamps, fallback, long-form seeking).
//! - [`transcript`]: segments and text, the result type.
//! - [`translate`]: Marian (opus-mt) text translation on candle, segment by segment.
//!
//! Threading: a loaded [`whisper::WhisperModel`] is immutable and `Sync`; any number of
//! threads may call [`decoding::transcribe_pcm`] on it at once, each with its own caches.
//! candle's CPU kernels size their thread pool from `RAYON_NUM_THREADS`.

pub mod audio;
pub mod decoding;
pub mod error;
pub mod eval;
pub mod kernels;
pub mod models;
pub mod transcript;
pub mod translate;
pub mod vad;
pub mod whisper;

pub use decoding::{transcribe_pcm, Hooks, Task, TranscribeOptions};
pub use error::EngineError;
pub use transcript::{Segment, Transcript};
pub use whisper::WhisperModel;

/// The device inference runs on: CPU unless a GPU feature is enabled and a GPU is present.
pub fn default_device() -> candle_core::Device {
    candle_core::Device::Cpu
}
