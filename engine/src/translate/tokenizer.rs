//! The Marian tokenizer: SentencePiece pieces mapped through the shared `vocab.json`.
//!
//! An opus-mt directory ships two SentencePiece models (`source.spm`, `target.spm`) and a
//! `vocab.json` that gives the *model's* ids. transformers' `MarianTokenizer` splits the
//! source text with `source.spm`, looks every piece up in `vocab.json` (`<unk>` when
//! absent) and appends `</s>`; it turns output ids back into pieces through the same
//! vocabulary and joins them the SentencePiece way. The ids of the `.spm` files themselves
//! are never used.
//!
//! The Rust `tokenizers` crate cannot read `.spm` files, so stt requires their
//! `tokenizer.json` conversions next to them: `source.tokenizer.json` and
//! `target.tokenizer.json`, written by `scripts/reference/make_marian_reference.py convert
//! DIR` with transformers' own SentencePiece converter. Only the *pieces* (strings) of the
//! converted tokenizers are used here, never their ids, which is exactly why the
//! conversion is faithful: it reproduces SentencePiece's normalisation (`nmt_nfkc`) and
//! Viterbi segmentation, and the Rust test checks the resulting ids against transformers.

use super::error::{Result, TranslateError};
use std::collections::HashMap;
use std::path::Path;
use tokenizers::{Decoder, Tokenizer};

/// SentencePiece's word-boundary marker.
const SPIECE_UNDERLINE: char = '\u{2581}';

pub struct MarianTokenizer {
    source: Tokenizer,
    target: Tokenizer,
    vocab: HashMap<String, u32>,
    /// Piece of every model id (`vocab.json` inverted).
    pieces: Vec<Option<String>>,
    eos: u32,
    unk: u32,
    /// Ids dropped when decoding: what transformers counts as special (`</s>`, `<unk>`,
    /// `<pad>`), as `decode(..., skip_special_tokens=True)` does.
    skipped: Vec<u32>,
}

fn load_tokenizer(dir: &Path, side: &str) -> Result<Tokenizer> {
    let path = dir.join(format!("{side}.tokenizer.json"));
    if !path.is_file() {
        let hint = if dir.join(format!("{side}.spm")).is_file() {
            format!(
                "missing {side}.tokenizer.json: convert {side}.spm with \
                 `python3 scripts/reference/make_marian_reference.py convert {}`",
                dir.display()
            )
        } else {
            format!("missing {side}.tokenizer.json")
        };
        return Err(TranslateError::load(dir, hint));
    }
    Tokenizer::from_file(&path).map_err(|e| TranslateError::load(&path, e))
}

impl MarianTokenizer {
    /// Loads `vocab.json`, `source.tokenizer.json` and `target.tokenizer.json` from `dir`.
    /// `pad` is the model's pad id (also its decoder start token).
    pub fn load(dir: &Path, vocab_size: usize, pad: u32) -> Result<Self> {
        if dir.join("target_vocab.json").is_file() {
            // `separate_vocabs=True` models have two embedding tables; candle's Marian has one.
            return Err(TranslateError::load(
                dir,
                "separate source/target vocabularies are not supported",
            ));
        }
        let vocab_path = dir.join("vocab.json");
        let text = std::fs::read_to_string(&vocab_path)
            .map_err(|e| TranslateError::load(&vocab_path, e))?;
        let vocab: HashMap<String, u32> = serde_json::from_str(&text)
            .map_err(|e| TranslateError::load(&vocab_path, format!("invalid vocab.json: {e}")))?;
        let mut pieces = vec![None; vocab_size];
        for (piece, &id) in &vocab {
            let slot = pieces.get_mut(id as usize).ok_or_else(|| {
                TranslateError::load(
                    &vocab_path,
                    format!("id {id} of '{piece}' is outside the model's {vocab_size} tokens"),
                )
            })?;
            *slot = Some(piece.clone());
        }
        let id_of = |piece: &str| {
            vocab.get(piece).copied().ok_or_else(|| {
                TranslateError::load(&vocab_path, format!("vocab.json has no '{piece}'"))
            })
        };
        let eos = id_of("</s>")?;
        let unk = id_of("<unk>")?;
        let mut skipped = vec![eos, unk, pad];
        skipped.sort_unstable();
        skipped.dedup();
        Ok(Self {
            source: load_tokenizer(dir, "source")?,
            target: load_tokenizer(dir, "target")?,
            vocab,
            pieces,
            eos,
            unk,
            skipped,
        })
    }

    pub fn eos_id(&self) -> u32 {
        self.eos
    }

    pub fn unk_id(&self) -> u32 {
        self.unk
    }

    /// The source pieces of `text`, as `MarianTokenizer.tokenize` gives them: a leading
    /// `>>xx<<` target-language code (multilingual models) as one piece, then
    /// SentencePiece's pieces of the rest.
    pub fn source_pieces(&self, text: &str) -> Result<Vec<String>> {
        let (code, rest) = split_language_code(text);
        let encoding = self
            .source
            .encode(rest, false)
            .map_err(|e| TranslateError::Tokenizer(e.to_string()))?;
        let mut pieces: Vec<String> = code.map(str::to_string).into_iter().collect();
        pieces.extend(encoding.get_tokens().iter().cloned());
        Ok(pieces)
    }

    /// Model input ids of `text`: pieces through `vocab.json` (`<unk>` if absent) + `</s>`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids: Vec<u32> = self
            .source_pieces(text)?
            .iter()
            .map(|piece| self.vocab.get(piece).copied().unwrap_or(self.unk))
            .collect();
        ids.push(self.eos);
        Ok(ids)
    }

    /// Number of model input ids of `text` (including `</s>`).
    pub fn count(&self, text: &str) -> Result<usize> {
        Ok(self.source_pieces(text)?.len() + 1)
    }

    /// Text of output ids: special ids dropped, pieces joined by the target SentencePiece
    /// decoder, `▁` turned into spaces and the ends trimmed, like
    /// `MarianTokenizer.decode(ids, skip_special_tokens=True)` with the target model.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        let pieces: Vec<String> = ids
            .iter()
            .filter(|id| self.skipped.binary_search(id).is_err())
            .filter_map(|&id| self.pieces.get(id as usize).cloned().flatten())
            .collect();
        let joined = match self.target.get_decoder() {
            Some(decoder) => decoder
                .decode(pieces)
                .map_err(|e| TranslateError::Tokenizer(e.to_string()))?,
            None => pieces.concat(),
        };
        // SentencePiece leaves pieces it does not know (here: source-only pieces) verbatim,
        // and transformers then replaces every remaining `▁` and strips the result.
        Ok(joined.replace(SPIECE_UNDERLINE, " ").trim().to_string())
    }
}

/// Splits a leading `>>xx<<` language code off `text`, as transformers'
/// `MarianTokenizer.remove_language_code` does (code kept whole, rest unchanged).
fn split_language_code(text: &str) -> (Option<&str>, &str) {
    if let Some(after) = text.strip_prefix(">>") {
        if let Some(end) = after.find("<<") {
            let split = 2 + end + 2;
            return (Some(&text[..split]), &text[split..]);
        }
    }
    (None, text)
}

#[cfg(test)]
mod tests {
    use super::split_language_code;

    #[test]
    fn language_codes_are_split_off_like_transformers() {
        assert_eq!(
            split_language_code(">>fra<< Bonjour"),
            (Some(">>fra<<"), " Bonjour")
        );
        assert_eq!(split_language_code(">>x<<"), (Some(">>x<<"), ""));
        assert_eq!(
            split_language_code("Bonjour >>fra<<"),
            (None, "Bonjour >>fra<<")
        );
        assert_eq!(split_language_code(">> no end"), (None, ">> no end"));
    }
}
