//! Splitting text into pieces the translation model can take whole.
//!
//! opus-mt models are trained on single sentences and have a fixed number of positions
//! (512), so a transcript is translated segment by segment (which also keeps the
//! transcript's segment boundaries in the translation), and a segment that is still too
//! long is cut into chunks of at most `max_tokens` source tokens, preferring the most
//! natural boundary available:
//! 1. sentence ends (`.` `!` `?` `…`, Arabic `؟` and `۔`, CJK `。！？`, line breaks),
//! 2. clause punctuation (`,` `;` `:`, Arabic `،` `؛`, dashes),
//! 3. spaces between words,
//! 4. as a last resort, between characters (a "word" longer than the limit).
//!
//! Adjacent pieces are then packed back together while they fit, so a long segment of
//! short sentences becomes a few chunks of several sentences, not one chunk per sentence.
//! Token counts come from the model's own tokenizer through a callback.

/// Counts the model tokens of a piece of text (including the end-of-sentence token).
pub type TokenCounter<'a> = dyn Fn(&str) -> usize + 'a;

/// Splits `text` into chunks of at most `max_tokens` tokens (see the module docs).
/// Empty or whitespace-only text gives no chunk. A chunk can exceed the limit only if a
/// single character does (impossible with real tokenizers and limits).
pub fn split_for_translation(text: &str, max_tokens: usize, count: &TokenCounter) -> Vec<String> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    if count(text) <= max_tokens {
        return vec![text.to_string()];
    }
    let mut pieces = Vec::new();
    split_level(text, 0, max_tokens, count, &mut pieces);
    pack(pieces, max_tokens, count)
}

/// A boundary rule: is there a split point after `c`, given the character after it?
type Boundary = fn(char, Option<char>) -> bool;

const LEVELS: [Boundary; 3] = [sentence_end, clause_end, word_end];

fn sentence_end(c: char, next: Option<char>) -> bool {
    match c {
        // A period only before whitespace or at the end: not in "3.5" or "e.g.x".
        '.' => next.is_none_or(char::is_whitespace),
        '!' | '?' | '…' | '\u{061F}' | '\u{06D4}' | '。' | '！' | '？' | '\n' => true,
        _ => false,
    }
}

fn clause_end(c: char, _next: Option<char>) -> bool {
    matches!(
        c,
        ',' | ';' | ':' | '\u{060C}' | '\u{061B}' | '，' | '；' | '、' | '—' | '–'
    )
}

fn word_end(c: char, _next: Option<char>) -> bool {
    c.is_whitespace()
}

/// Pieces of `text` split after every boundary character, trimmed, empty ones dropped.
fn split_after(text: &str, boundary: Boundary) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        if boundary(c, next) {
            let end = i + c.len_utf8();
            pieces.push(&text[start..end]);
            start = end;
        }
    }
    pieces.push(&text[start..]);
    pieces
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Splits with the rule of `level`, recursing into finer rules for pieces still too long.
fn split_level(
    text: &str,
    level: usize,
    max_tokens: usize,
    count: &TokenCounter,
    out: &mut Vec<String>,
) {
    let Some(&boundary) = LEVELS.get(level) else {
        split_characters(text, max_tokens, count, out);
        return;
    };
    for piece in split_after(text, boundary) {
        if count(piece) <= max_tokens {
            out.push(piece.to_string());
        } else {
            split_level(piece, level + 1, max_tokens, count, out);
        }
    }
}

/// Longest runs of characters that fit (for text with no usable boundary).
fn split_characters(text: &str, max_tokens: usize, count: &TokenCounter, out: &mut Vec<String>) {
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if current.chars().count() > 1 && count(&current) > max_tokens {
            current.pop();
            out.push(std::mem::take(&mut current));
            current.push(c);
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
}

/// Joins consecutive pieces (with a space) while the result still fits.
fn pack(pieces: Vec<String>, max_tokens: usize, count: &TokenCounter) -> Vec<String> {
    let mut chunks: Vec<String> = Vec::new();
    for piece in pieces {
        if let Some(last) = chunks.last_mut() {
            let joined = format!("{last} {piece}");
            if count(&joined) <= max_tokens {
                *last = joined;
                continue;
            }
        }
        chunks.push(piece);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token per whitespace-separated word, plus EOS.
    fn words(s: &str) -> usize {
        s.split_whitespace().count() + 1
    }

    /// One token per character, plus EOS.
    fn chars(s: &str) -> usize {
        s.chars().count() + 1
    }

    #[test]
    fn short_text_is_one_chunk_and_blank_text_none() {
        assert_eq!(
            split_for_translation("  Hello there.  ", 10, &words),
            vec!["Hello there."]
        );
        assert!(split_for_translation(" \n ", 10, &words).is_empty());
    }

    #[test]
    fn splits_at_sentence_ends_and_packs_sentences_that_fit() {
        let text = "One two three. Four five six! Seven eight nine? Ten eleven.";
        let chunks = split_for_translation(text, 8, &words);
        assert_eq!(
            chunks,
            vec![
                "One two three. Four five six!",
                "Seven eight nine? Ten eleven."
            ]
        );
        for c in &chunks {
            assert!(words(c) <= 8);
        }
    }

    #[test]
    fn arabic_punctuation_is_a_boundary() {
        let text = "هل أنت بخير؟ نعم أنا بخير، شكرا لك يا صديقي العزيز.";
        let chunks = split_for_translation(text, 5, &words);
        // The second sentence is too long: split at the Arabic comma, then at spaces, and
        // the words packed back while they fit.
        assert_eq!(
            chunks,
            vec!["هل أنت بخير؟", "نعم أنا بخير، شكرا", "لك يا صديقي العزيز."]
        );
    }

    #[test]
    fn decimal_points_are_not_sentence_ends() {
        let pieces = split_after("It costs 3.5 dollars. Really.", sentence_end);
        assert_eq!(pieces, vec!["It costs 3.5 dollars.", "Really."]);
    }

    #[test]
    fn falls_back_to_words_then_characters() {
        let text = "a bb ccccccccccc dd";
        let chunks = split_for_translation(text, 6, &chars);
        assert!(chunks.iter().all(|c| chars(c) <= 6), "{chunks:?}");
        assert_eq!(chunks.concat().replace(' ', ""), text.replace(' ', ""));
        assert_eq!(chunks[0], "a bb");
    }

    #[test]
    fn no_text_is_lost() {
        let text = "First sentence here. Second one, with a clause; and more words after it. \
                    Third!";
        for max in 2..12 {
            let chunks = split_for_translation(text, max, &words);
            let rejoined = chunks.join(" ");
            assert_eq!(
                rejoined.split_whitespace().collect::<Vec<_>>(),
                text.split_whitespace().collect::<Vec<_>>(),
                "max {max}"
            );
            assert!(
                chunks.iter().all(|c| words(c) <= max.max(2)),
                "max {max}: {chunks:?}"
            );
        }
    }
}
