//! Text helpers for decoding: the compression-ratio repetition check, and UTF-8
//! assembly that carries an incomplete character over to the next segment.

use flate2::{write::ZlibEncoder, Compression};
use std::io::Write;

/// Bytes of text divided by bytes after zlib: high values mean repetitive output.
pub fn compression_ratio(text: &str) -> f64 {
    if text.is_empty() {
        return 0.0;
    }
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::default());
    enc.write_all(text.as_bytes())
        .expect("writing to a Vec cannot fail");
    let compressed = enc.finish().expect("writing to a Vec cannot fail");
    text.len() as f64 / compressed.len() as f64
}

/// Joins token bytes into text. A character split across segments is completed by
/// the next call: trailing bytes of an incomplete UTF-8 sequence stay in `pending`.
#[derive(Default)]
pub struct Utf8Assembler {
    pending: Vec<u8>,
}

impl Utf8Assembler {
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let complete_len = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            // Invalid bytes in the middle: decode lossily and keep only an incomplete tail.
            Err(_) => incomplete_tail_start(&self.pending),
        };
        let rest = self.pending.split_off(complete_len);
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending = rest;
        text
    }

    /// Whatever is left at the end (an unfinished character becomes U+FFFD).
    pub fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        text
    }
}

/// Start of a trailing incomplete UTF-8 sequence (or the length if there is none).
fn incomplete_tail_start(bytes: &[u8]) -> usize {
    let n = bytes.len();
    for back in 1..=3.min(n) {
        let b = bytes[n - back];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let needed = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return n,
        };
        return if needed > back { n - back } else { n };
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetition_compresses_well() {
        let plain = "And so my fellow Americans, ask not what your country can do for you.";
        let looped = "thank you ".repeat(30);
        assert!(compression_ratio(plain) < 1.5);
        assert!(compression_ratio(&looped) > 2.4);
    }

    #[test]
    fn split_arabic_character_is_joined_across_pushes() {
        let word = "سلام".as_bytes();
        let mut a = Utf8Assembler::default();
        let first = a.push(&word[..3]);
        let second = a.push(&word[3..]);
        assert_eq!(first, "س");
        assert_eq!(format!("{first}{second}"), "سلام");
        assert_eq!(a.finish(), "");
    }

    #[test]
    fn invalid_bytes_do_not_swallow_a_pending_tail() {
        let mut a = Utf8Assembler::default();
        let out = a.push(&[b'a', 0xFF, b'b', 0xE4, 0xB8]);
        assert_eq!(out, "a\u{FFFD}b");
        assert_eq!(a.push(&[0xAD]), "中");
    }
}
