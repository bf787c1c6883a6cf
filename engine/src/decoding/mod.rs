//! Decoding policy on top of the network: logit filters (suppression, timestamp
//! rules), one 30 s window with temperature fallback, language detection, and the
//! long-form loop that seeks to the last complete timestamp.

pub mod fallback;
pub mod language;
pub mod logit_filters;
pub mod longform;
pub mod options;
pub mod steps;
pub mod text;
pub mod window;

pub use longform::{transcribe_pcm, transcribe_pcm_with, Hooks};
pub use options::{Task, TranscribeOptions};
pub use steps::{BatchStats, StepModel, Stepper, StreamBatcher, StreamEnd};
