//! Voice activity detection with Silero VAD (v6, 16 kHz), run on candle.
//!
//! Whisper invents text for silence, noise and music ("you", "Thank you for
//! watching."); the transcriber uses these speech regions to skip 30 s windows that
//! hold no speech at all. Windows with speech are decoded unchanged.

pub mod regions;
pub mod silero;

pub use regions::{speech_regions, RegionOptions, SpeechRegion};
pub use silero::SileroVad;
