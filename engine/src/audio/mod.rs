//! Placeholder until the audio intake module lands.
pub const WHISPER_SAMPLE_RATE: u32 = 16_000;
#[derive(Debug, thiserror::Error)]
#[error("audio")]
pub struct AudioError;
