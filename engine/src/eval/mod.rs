//! Evaluation helpers: transcript normalisation and word/character error rates.
//!
//! Word error rate is only meaningful once reference and hypothesis are written the same
//! way, so both go through a normaliser first:
//!
//! - [`normalize_english`] follows the behaviour of Whisper's English text normaliser
//!   (lowercase, bracketed text and filler words removed, contractions expanded, numbers
//!   written as digits, British spellings made American, punctuation removed);
//! - [`normalize_basic`] is for every other language: lowercase, bracketed text removed,
//!   punctuation and symbols turned into spaces, every script kept.
//!
//! [`word_errors`] and [`char_errors`] then align the normalised texts (Levenshtein) and
//! return [`ErrorCounts`]; add the counts of many clips together with `+=` and call
//! [`ErrorCounts::rate`] for the corpus-level rate (total edits / total reference length).
//!
//! ```
//! use stt_engine::eval::{normalize_english, word_errors, ErrorCounts};
//!
//! let mut total = ErrorCounts::default();
//! for (reference, hypothesis) in [
//!     ("Mr. Smith paid twenty five dollars.", "mister smith paid $25"),
//!     ("It's the colour of the sea", "it is the color of a sea"),
//! ] {
//!     total += word_errors(&normalize_english(reference), &normalize_english(hypothesis));
//! }
//! assert_eq!(total.substitutions, 1);
//! assert_eq!(total.reference_len, 11);
//! assert!((total.rate() - 1.0 / 11.0).abs() < 1e-12);
//! ```

mod basic;
mod english;
mod error_rate;
mod numbers;
mod spelling;

pub use basic::normalize_basic;
pub use english::normalize_english;
pub use error_rate::{char_errors, word_errors, ErrorCounts};
