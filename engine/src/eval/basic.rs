//! Language-independent normalisation ([`normalize_basic`]) and the character-level
//! helpers it shares with the English normaliser (bracket removal, combining marks,
//! full-width forms, whitespace).

/// Normalises a transcript in any language for error-rate scoring.
///
/// Lowercases, removes text between `[...]`, `<...>` and `(...)`, replaces every
/// punctuation mark and symbol with a space and collapses runs of whitespace into single
/// spaces (no leading or trailing space). Letters and digits of every script are kept,
/// and so are combining marks (Arabic harakat, Indic vowel signs and viramas, Hebrew
/// points, kana voicing marks), which unlike Whisper's basic normaliser are not turned
/// into spaces, so words in those scripts stay whole. Full-width ASCII forms
/// (`ＡＢＣ１２３`) are folded to ASCII. Diacritics are not removed.
///
/// ```
/// use stt_engine::eval::normalize_basic;
/// assert_eq!(normalize_basic("¡Hola, Señor! (risas)"), "hola señor");
/// assert_eq!(normalize_basic("大学生，利用漏洞。"), "大学生 利用漏洞");
/// assert_eq!(normalize_basic("مَرْحَبًا، بِكُمْ!"), "مَرْحَبًا بِكُمْ");
/// ```
pub fn normalize_basic(text: &str) -> String {
    let lower = text.to_lowercase();
    let stripped = remove_bracketed(&lower);
    let mut out = String::with_capacity(stripped.len());
    for c in stripped.chars() {
        let c = fold_fullwidth(c);
        if c.is_alphanumeric() || is_combining_mark(c) || is_joiner(c) {
            out.push(c);
        } else {
            // Whitespace, punctuation, symbols, controls, format characters.
            out.push(' ');
        }
    }
    collapse_whitespace(&out)
}

/// Removes `[...]` and `<...>` spans (an opener up to the first `]` or `>`), then
/// non-empty `(...)` spans (up to the first `)`), as Whisper's normalisers do. An opener
/// without a closer is left in place.
pub(crate) fn remove_bracketed(text: &str) -> String {
    let first = remove_spans(text, &['[', '<'], &[']', '>'], false);
    remove_spans(&first, &['('], &[')'], true)
}

fn remove_spans(text: &str, open: &[char], close: &[char], non_empty: bool) -> String {
    let chars: Vec<char> = text.chars().collect();
    // next_close[i]: index of the first closer at or after i.
    let mut next_close = vec![usize::MAX; chars.len() + 1];
    for i in (0..chars.len()).rev() {
        next_close[i] = if close.contains(&chars[i]) {
            i
        } else {
            next_close[i + 1]
        };
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if open.contains(&chars[i]) {
            let end = next_close[i + 1];
            if end != usize::MAX && !(non_empty && end == i + 1) {
                i = end + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Joins the whitespace-separated words of `text` with single spaces.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Maps full-width ASCII variants (U+FF01..U+FF5E) to ASCII, like NFKC does.
pub(crate) fn fold_fullwidth(c: char) -> char {
    match c as u32 {
        cp @ 0xFF01..=0xFF5E => char::from_u32(cp - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Zero-width joiner and non-joiner: part of the spelling of Persian, Indic and emoji
/// sequences, so kept inside words.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// Generic combining diacritical marks (the ones NFKD splits off Latin, Greek and
/// Cyrillic letters).
pub(crate) fn is_generic_combining_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Combining marks that are not alphanumeric by Rust's definition but belong to words:
/// an explicit list of ranges for the scripts that use them. Punctuation that lives in
/// the same blocks (Hebrew maqaf and sof pasuq, Devanagari danda, Thai and Myanmar signs)
/// is left out so it still separates words.
fn is_combining_mark(c: char) -> bool {
    let cp = c as u32;
    if is_generic_combining_mark(c) {
        return true;
    }
    match cp {
        // Cyrillic, Hebrew points, Arabic harakat and Quranic marks, Syriac, Thaana, NKo.
        0x0483..=0x0489
        | 0x0591..=0x05BD
        | 0x05BF
        | 0x05C1..=0x05C2
        | 0x05C4..=0x05C5
        | 0x05C7
        | 0x0610..=0x061A
        | 0x064B..=0x065F
        | 0x0670
        | 0x06D6..=0x06DC
        | 0x06DF..=0x06E4
        | 0x06E7..=0x06E8
        | 0x06EA..=0x06ED
        | 0x0711
        | 0x0730..=0x074A
        | 0x07A6..=0x07B0
        | 0x07EB..=0x07F3
        | 0x08D3..=0x08FF
        // Kana voicing marks, CJK tone marks.
        | 0x302A..=0x302F
        | 0x3099..=0x309A => true,
        // Indic scripts through Sinhala, Thai, Lao, Myanmar: vowel signs, viramas, nukta
        // and the like; anything non-alphanumeric there except the punctuation below.
        0x0900..=0x0DFF | 0x0E00..=0x0EFF | 0x1000..=0x109F => !matches!(
            cp,
            0x0964 | 0x0965 | 0x0970 | 0x0DF4 | 0x0E3F | 0x0E4F | 0x0E5A | 0x0E5B | 0x104A
                | 0x104B
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_and_strips_punctuation() {
        assert_eq!(normalize_basic("Hello, World!"), "hello world");
        assert_eq!(normalize_basic("  a\t\tb \n c  "), "a b c");
        assert_eq!(normalize_basic("snake_case & co."), "snake case co");
        assert_eq!(normalize_basic("50% — $20 + 3€"), "50 20 3");
        assert_eq!(
            normalize_basic("«Bonjour» ¿qué? 'quoted'"),
            "bonjour qué quoted"
        );
        assert_eq!(normalize_basic("emoji 🙂 here"), "emoji here");
        assert_eq!(normalize_basic(""), "");
        assert_eq!(normalize_basic("?!..."), "");
    }

    #[test]
    fn removes_bracketed_text() {
        assert_eq!(normalize_basic("a [music] b <unk> c (laughs) d"), "a b c d");
        assert_eq!(normalize_basic("a [b> c"), "a c");
        assert_eq!(normalize_basic("a () b"), "a b");
        assert_eq!(normalize_basic("open ( never closed"), "open never closed");
        assert_eq!(normalize_basic("x [y"), "x y");
        assert_eq!(remove_bracketed("one(two)three"), "onethree");
    }

    #[test]
    fn keeps_scripts_and_marks() {
        assert_eq!(normalize_basic("Ça VA très Bien"), "ça va très bien");
        assert_eq!(normalize_basic("Привет, МИР!"), "привет мир");
        assert_eq!(
            normalize_basic("广州市房地产中介协会分析。"),
            "广州市房地产中介协会分析"
        );
        assert_eq!(
            normalize_basic("客観的実在の判断的知識が成立するのである。"),
            "客観的実在の判断的知識が成立するのである"
        );
        assert_eq!(
            normalize_basic("그는 이리저리 피하면서."),
            "그는 이리저리 피하면서"
        );
        // Arabic with harakat and the Arabic comma/question mark.
        assert_eq!(
            normalize_basic("كَيْفَ حَالُكَ؟ بِخَيْرٍ، شُكْرًا"),
            "كَيْفَ حَالُكَ بِخَيْرٍ شُكْرًا"
        );
        // Devanagari: virama and vowel signs kept, danda separates.
        assert_eq!(normalize_basic("नमस्ते दुनिया। ठीक"), "नमस्ते दुनिया ठीक");
        // Persian zero-width non-joiner stays inside the word.
        assert_eq!(normalize_basic("می\u{200C}خواهم."), "می\u{200C}خواهم");
        // Decomposed accents stay attached.
        assert_eq!(normalize_basic("cafe\u{301}!"), "cafe\u{301}");
    }

    #[test]
    fn folds_fullwidth_forms() {
        assert_eq!(normalize_basic("ＡＢＣ１２３，ｄｅｆ"), "abc123 def");
        assert_eq!(normalize_basic("中文\u{3000}空格"), "中文 空格");
    }
}
