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

/// The device inference runs on: the GPU of a `cuda` or `metal` build when one is
/// present, else the CPU. `STT_DEVICE=cpu` forces the CPU in GPU builds.
pub fn default_device() -> candle_core::Device {
    if std::env::var("STT_DEVICE").is_ok_and(|d| d.eq_ignore_ascii_case("cpu")) {
        return candle_core::Device::Cpu;
    }
    #[cfg(feature = "cuda")]
    match candle_core::Device::new_cuda(0) {
        Ok(device) => return device,
        Err(e) => tracing::warn!(error = %e, "no usable CUDA device; running on the CPU"),
    }
    #[cfg(feature = "metal")]
    match candle_core::Device::new_metal(0) {
        Ok(device) => return device,
        Err(e) => tracing::warn!(error = %e, "no usable Metal device; running on the CPU"),
    }
    candle_core::Device::Cpu
}
