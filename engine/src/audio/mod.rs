//! Placeholder until the audio intake module lands.
pub const WHISPER_SAMPLE_RATE: u32 = 16_000;
#[derive(Debug, thiserror::Error)]
#[error("audio")]
pub struct AudioError;
pub struct DecodedAudio {
    pub pcm_16k: Vec<f32>,
    pub duration_s: f64,
}
pub fn decode_file(path: &std::path::Path) -> Result<DecodedAudio, AudioError> {
    let bytes = std::fs::read(path).map_err(|_| AudioError)?;
    let pos = bytes
        .windows(4)
        .position(|w| w == b"data")
        .ok_or(AudioError)?
        + 8;
    let pcm: Vec<f32> = bytes[pos..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32768.0)
        .collect();
    Ok(DecodedAudio {
        duration_s: pcm.len() as f64 / 16000.0,
        pcm_16k: pcm,
    })
}
