//! End-to-end tests of the `stt` binary on real speech from `shared/eval`.
//!
//! Models are fetched the way the README does (`stt models fetch`, which runs
//! `scripts/fetch-models.sh`) into the normal model store, once per machine.

mod accuracy;
mod audio_inputs;
mod bench;
mod output_formats;
mod quantized;
mod reference_tokens;
mod serve_flags;
mod support;
mod translation;
mod vad;
