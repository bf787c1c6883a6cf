//! Machine translation of transcripts: Marian (opus-mt) models on candle.
//!
//! - [`MarianTranslator`]: loads a Hugging Face opus-mt directory and translates text,
//!   segment by segment, with greedy or beam search ([`MarianOptions`]).
//! - [`TranslationModelInfo`]: a model directory's language pair and shape, read without
//!   loading weights (for `stt models` and for choosing a model).
//!
//! # Model directory
//!
//! ```text
//! config.json              transformers MarianConfig (model_type "marian")
//! generation_config.json   optional: beams, bad_words_ids, renormalize_logits, ...
//! model.safetensors        weights, tied embedding as model.shared.weight
//! vocab.json               shared Marian vocabulary (the model's ids)
//! source.tokenizer.json    source.spm converted to the `tokenizers` format
//! target.tokenizer.json    target.spm converted likewise
//! stt-translation.json     optional: {"source_languages": [..], "target_languages": [..]}
//! ```
//!
//! opus-mt downloads carry `source.spm` / `target.spm` (SentencePiece), which the Rust
//! `tokenizers` crate cannot read; `python3 scripts/reference/make_marian_reference.py
//! convert DIR` writes the two `*.tokenizer.json` with transformers' own converter (and
//! `model.safetensors` when only `pytorch_model.bin` is there). The converted tokenizers
//! are used only to split text into SentencePiece *pieces*; ids always come from
//! `vocab.json`, as in transformers' `MarianTokenizer` (see [`tokenizer`]).
//!
//! # Fidelity
//!
//! Output ids are those of transformers' `MarianMTModel.generate()` for the same options:
//! `engine/tests/marian_reference.rs` checks source ids, output ids, beam scores and text
//! against a reference made by `scripts/reference/make_marian_reference.py` on a tiny
//! Marian model (no real Arabic→English weights can be fetched where this was built).

mod beam;
mod config;
mod error;
mod info;
mod marian;
mod search;
pub mod segments;
pub mod tokenizer;
mod transcript;

pub use config::{EarlyStopping, GenerationDefaults};
pub use error::TranslateError;
pub use info::{
    is_translation_model, parse_opus_mt_name, PairSource, TranslationInfoFile,
    TranslationModelInfo, INFO_FILE, REQUIRED_FILES,
};
pub use marian::{MarianOptions, MarianTranslator};
pub use search::Hypothesis;
pub use tokenizer::MarianTokenizer;
pub use transcript::translate_transcript;
