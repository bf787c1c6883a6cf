//! Whisper's vocabulary: special-token ids, timestamp ids, language tokens, and
//! text assembled from token bytes (so multi-byte UTF-8 is never split mid-character).

use super::languages::LANGUAGES;
use std::collections::HashMap;
use std::path::Path;
use tokenizers::Tokenizer;

#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("cannot load tokenizer {path}: {reason}")]
    Load { path: String, reason: String },
    #[error("tokenizer lacks the special token {0}; is this a Whisper tokenizer.json?")]
    MissingToken(&'static str),
    #[error("cannot encode text: {0}")]
    Encode(String),
}

/// Special-token ids of one Whisper vocabulary.
#[derive(Debug, Clone)]
pub struct SpecialTokens {
    pub eot: u32,
    pub sot: u32,
    pub sot_prev: u32,
    pub sot_lm: u32,
    pub translate: u32,
    pub transcribe: u32,
    pub no_speech: u32,
    pub no_timestamps: u32,
    /// `<|0.00|>`; every id at or above it is a timestamp.
    pub timestamp_begin: u32,
}

/// Tokenizer plus the byte sequence of every id, for exact UTF-8 assembly.
pub struct WhisperTokenizer {
    inner: Tokenizer,
    token_bytes: Vec<Vec<u8>>,
    pub special: SpecialTokens,
    /// Language code → token id, for the languages this vocabulary has.
    language_ids: HashMap<&'static str, u32>,
    pub vocab_size: usize,
}

/// GPT-2's byte-level BPE maps each byte to a printable char; this is the inverse.
fn byte_level_decoder() -> HashMap<char, u8> {
    let mut printable: Vec<u32> = (b'!' as u32..=b'~' as u32).collect();
    printable.extend(0xA1u32..=0xAC);
    printable.extend(0xAEu32..=0xFF);
    let mut map = HashMap::new();
    let mut next_unprintable = 0u32;
    for byte in 0u32..256 {
        let ch = if printable.contains(&byte) {
            byte
        } else {
            next_unprintable += 1;
            255 + next_unprintable
        };
        map.insert(char::from_u32(ch).expect("valid scalar"), byte as u8);
    }
    map
}

impl WhisperTokenizer {
    pub fn load(path: &Path, vocab_size: usize) -> Result<Self, TokenizerError> {
        let inner = Tokenizer::from_file(path).map_err(|e| TokenizerError::Load {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let id = |name: &'static str| {
            inner
                .token_to_id(name)
                .ok_or(TokenizerError::MissingToken(name))
        };
        let no_timestamps = id("<|notimestamps|>")?;
        let no_speech = id("<|nospeech|>").or_else(|_| id("<|nocaptions|>"))?;
        let special = SpecialTokens {
            eot: id("<|endoftext|>")?,
            sot: id("<|startoftranscript|>")?,
            sot_prev: id("<|startofprev|>")?,
            sot_lm: id("<|startoflm|>")?,
            translate: id("<|translate|>")?,
            transcribe: id("<|transcribe|>")?,
            no_speech,
            no_timestamps,
            // English-only tokenizers ship without timestamp tokens: they follow <|notimestamps|>.
            timestamp_begin: no_timestamps + 1,
        };
        let language_ids = LANGUAGES
            .iter()
            .filter_map(|(code, _)| {
                inner
                    .token_to_id(&format!("<|{code}|>"))
                    .map(|id| (*code, id))
            })
            .collect();
        let decoder = byte_level_decoder();
        let token_bytes = (0..vocab_size as u32)
            .map(|id| match inner.id_to_token(id) {
                Some(tok) if id < special.eot => tok
                    .chars()
                    .map(|c| decoder.get(&c).copied().unwrap_or(b'?'))
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        Ok(Self {
            inner,
            token_bytes,
            special,
            language_ids,
            vocab_size,
        })
    }

    pub fn language_id(&self, code: &str) -> Option<u32> {
        self.language_ids.get(code).copied()
    }

    /// (code, token id) of every language token, in id order.
    pub fn languages(&self) -> Vec<(&'static str, u32)> {
        let mut v: Vec<_> = self.language_ids.iter().map(|(c, i)| (*c, *i)).collect();
        v.sort_by_key(|(_, id)| *id);
        v
    }

    pub fn is_timestamp(&self, id: u32) -> bool {
        id >= self.special.timestamp_begin
    }

    /// Raw bytes of the text tokens among `ids` (special and timestamp tokens contribute nothing).
    pub fn text_bytes(&self, ids: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        for &id in ids {
            if let Some(b) = self.token_bytes.get(id as usize) {
                out.extend_from_slice(b);
            }
        }
        out
    }

    pub fn decode_text(&self, ids: &[u32]) -> String {
        String::from_utf8_lossy(&self.text_bytes(ids)).into_owned()
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|e| TokenizerError::Encode(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_map_is_a_bijection() {
        let m = byte_level_decoder();
        assert_eq!(m.len(), 256);
        let mut bytes: Vec<u8> = m.values().copied().collect();
        bytes.sort();
        bytes.dedup();
        assert_eq!(bytes.len(), 256);
        assert_eq!(m[&'Ġ'], b' ');
        assert_eq!(m[&'a'], b'a');
    }
}
