//! Whisper's special tokens, read from a Hugging Face `tokenizer.json`.
//!
//! The ids differ between English-only and multilingual vocabularies (everything after
//! `<|endoftext|>` moves by one), so they are looked up by text rather than hard-coded.

use std::collections::HashMap;

use serde::Deserialize;

/// The special-token ids a Whisper config refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WhisperTokenIds {
    pub end_of_text: u32,
    pub start_of_transcript: u32,
    pub translate: u32,
    pub transcribe: u32,
    pub start_of_prev: u32,
    pub no_timestamps: u32,
    /// `<|xx|>` language tokens in id order: (token text, id).
    pub languages: Vec<(String, u32)>,
    /// The largest id any token in the file has.
    pub max_id: u32,
}

#[derive(Deserialize)]
struct TokenizerFile {
    added_tokens: Vec<AddedToken>,
    #[serde(default)]
    model: Option<TokenizerModel>,
}

#[derive(Deserialize)]
struct AddedToken {
    id: u32,
    content: String,
}

#[derive(Deserialize)]
struct TokenizerModel {
    #[serde(default)]
    vocab: HashMap<String, u32>,
}

/// A language token looks like `<|en|>` or `<|haw|>`: two or three lowercase letters.
fn language_code(content: &str) -> Option<&str> {
    let code = content.strip_prefix("<|")?.strip_suffix("|>")?;
    let ok = (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase());
    ok.then_some(code)
}

impl WhisperTokenIds {
    /// Finds the special tokens in `tokenizer.json`; the error names the missing token.
    pub(crate) fn from_tokenizer_json(text: &str) -> Result<Self, String> {
        let file: TokenizerFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let by_text: HashMap<&str, u32> = file
            .added_tokens
            .iter()
            .map(|t| (t.content.as_str(), t.id))
            .collect();
        let need = |token: &str| {
            by_text.get(token).copied().ok_or_else(|| {
                format!("the tokenizer has no {token} token; is it a Whisper tokenizer?")
            })
        };
        let start_of_transcript = need("<|startoftranscript|>")?;
        let translate = need("<|translate|>")?;
        let mut languages: Vec<(String, u32)> = file
            .added_tokens
            .iter()
            .filter(|t| t.id > start_of_transcript && t.id < translate)
            .filter_map(|t| language_code(&t.content).map(|_| (t.content.clone(), t.id)))
            .collect();
        languages.sort_by_key(|(_, id)| *id);
        let max_added = file.added_tokens.iter().map(|t| t.id).max().unwrap_or(0);
        let max_vocab = file
            .model
            .iter()
            .flat_map(|m| m.vocab.values())
            .copied()
            .max()
            .unwrap_or(0);
        Ok(WhisperTokenIds {
            end_of_text: need("<|endoftext|>")?,
            start_of_transcript,
            translate,
            transcribe: need("<|transcribe|>")?,
            start_of_prev: need("<|startofprev|>")?,
            no_timestamps: need("<|notimestamps|>")?,
            languages,
            max_id: max_added.max(max_vocab),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::test_support::TinyWhisper;

    #[test]
    fn reads_english_and_multilingual_ids() {
        let en =
            WhisperTokenIds::from_tokenizer_json(&TinyWhisper::english().tokenizer_json()).unwrap();
        assert_eq!(en.end_of_text, 50256);
        assert_eq!(en.start_of_transcript, 50257);
        assert_eq!(en.no_timestamps, 50362);
        assert_eq!(en.start_of_prev, 50360);
        assert_eq!(
            en.languages,
            vec![("<|en|>".to_owned(), 50258), ("<|zh|>".to_owned(), 50259)]
        );
        let multi =
            WhisperTokenIds::from_tokenizer_json(&TinyWhisper::multilingual().tokenizer_json())
                .unwrap();
        assert_eq!(multi.end_of_text, 50257);
        assert_eq!(multi.transcribe, 50359);
        assert_eq!(multi.no_timestamps, 50363);
        assert_eq!(multi.max_id, 51864);
    }

    #[test]
    fn missing_token_is_named() {
        let err = WhisperTokenIds::from_tokenizer_json(r#"{"added_tokens": []}"#).unwrap_err();
        assert!(err.contains("<|startoftranscript|>"), "{err}");
        assert!(WhisperTokenIds::from_tokenizer_json("not json").is_err());
    }

    #[test]
    fn language_codes() {
        assert_eq!(language_code("<|haw|>"), Some("haw"));
        assert_eq!(language_code("<|en|>"), Some("en"));
        assert_eq!(language_code("<|0.00|>"), None);
        assert_eq!(language_code("<|nospeech|>"), None);
    }
}
