//! End-to-end tests of `stt serve`: the real binary on a free loopback port with the
//! tiny.en model, driven over HTTP with real speech from `shared/eval`.
//!
//! Models are fetched the way the README does (`stt models fetch`) into the normal
//! model store, once per machine. Each test starts its own server, so limits and
//! worker counts can differ and a crash in one cannot hide in another.

mod concurrency;
mod contract;
mod limits;
mod odd_inputs;
mod openai;
mod shutdown;
mod support;
