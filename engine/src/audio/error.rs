//! Errors returned by audio intake.
//!
//! Every message is a single line that states the reason and, where the user can
//! do something about it, what to do. Callers (the CLI, the HTTP server) add the
//! file name themselves, so messages never repeat it.

use std::path::PathBuf;

/// The formats we tell users to convert to when their input cannot be used.
const CONVERT_HINT: &str = "convert it to WAV, FLAC, MP3 or Opus";

/// Why an input could not be turned into 16 kHz mono PCM.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("cannot read the file: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Zero bytes of input.
    #[error("the file is empty (0 bytes); upload the recording again")]
    Empty,

    /// The content matches no audio container we know (text, images, headerless PCM, ...).
    #[error("not a recognised audio file (no known audio format signature); if it is audio, {CONVERT_HINT}")]
    NotAudio,

    /// A container we recognise but cannot read (e.g. RF64, Sun AU, WMA).
    #[error("this kind of file is not supported ({format}); {CONVERT_HINT}")]
    UnsupportedFormat { format: String },

    /// The container is fine but its audio codec has no decoder here (e.g. GSM 6.10).
    #[error("the audio codec {codec} is not supported; {CONVERT_HINT}")]
    UnsupportedCodec { codec: String },

    /// The container holds no audio track (e.g. a video-only MP4).
    #[error("the file contains no audio track")]
    NoAudioTrack,

    /// The stream is well formed but holds no samples (header only, or all skipped as padding).
    #[error("the file contains no audio samples (only a header or an empty stream)")]
    NoSamples,

    /// The header or stream is damaged and not a single valid frame could be decoded.
    #[error("the audio could not be decoded ({reason}); the file is damaged or incomplete, re-export it or {CONVERT_HINT}")]
    DecodeFailed { reason: String },

    /// Decoding would exceed the configured maximum duration.
    #[error("the audio is longer than the {limit_s:.0} s limit; split it into shorter files")]
    TooLong { limit_s: f64 },
}
