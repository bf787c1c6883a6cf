//! Languages Whisper knows, by ISO 639-1 code (as its tokens spell them), with
//! English names for display.

#[rustfmt::skip]
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "english"), ("zh", "chinese"), ("de", "german"), ("es", "spanish"),
    ("ru", "russian"), ("ko", "korean"), ("fr", "french"), ("ja", "japanese"),
    ("pt", "portuguese"), ("tr", "turkish"), ("pl", "polish"), ("ca", "catalan"),
    ("nl", "dutch"), ("ar", "arabic"), ("sv", "swedish"), ("it", "italian"),
    ("id", "indonesian"), ("hi", "hindi"), ("fi", "finnish"), ("vi", "vietnamese"),
    ("he", "hebrew"), ("uk", "ukrainian"), ("el", "greek"), ("ms", "malay"),
    ("cs", "czech"), ("ro", "romanian"), ("da", "danish"), ("hu", "hungarian"),
    ("ta", "tamil"), ("no", "norwegian"), ("th", "thai"), ("ur", "urdu"),
    ("hr", "croatian"), ("bg", "bulgarian"), ("lt", "lithuanian"), ("la", "latin"),
    ("mi", "maori"), ("ml", "malayalam"), ("cy", "welsh"), ("sk", "slovak"),
    ("te", "telugu"), ("fa", "persian"), ("lv", "latvian"), ("bn", "bengali"),
    ("sr", "serbian"), ("az", "azerbaijani"), ("sl", "slovenian"), ("kn", "kannada"),
    ("et", "estonian"), ("mk", "macedonian"), ("br", "breton"), ("eu", "basque"),
    ("is", "icelandic"), ("hy", "armenian"), ("ne", "nepali"), ("mn", "mongolian"),
    ("bs", "bosnian"), ("kk", "kazakh"), ("sq", "albanian"), ("sw", "swahili"),
    ("gl", "galician"), ("mr", "marathi"), ("pa", "punjabi"), ("si", "sinhala"),
    ("km", "khmer"), ("sn", "shona"), ("yo", "yoruba"), ("so", "somali"),
    ("af", "afrikaans"), ("oc", "occitan"), ("ka", "georgian"), ("be", "belarusian"),
    ("tg", "tajik"), ("sd", "sindhi"), ("gu", "gujarati"), ("am", "amharic"),
    ("yi", "yiddish"), ("lo", "lao"), ("uz", "uzbek"), ("fo", "faroese"),
    ("ht", "haitian creole"), ("ps", "pashto"), ("tk", "turkmen"), ("nn", "nynorsk"),
    ("mt", "maltese"), ("sa", "sanskrit"), ("lb", "luxembourgish"), ("my", "myanmar"),
    ("bo", "tibetan"), ("tl", "tagalog"), ("mg", "malagasy"), ("as", "assamese"),
    ("tt", "tatar"), ("haw", "hawaiian"), ("ln", "lingala"), ("ha", "hausa"),
    ("ba", "bashkir"), ("jw", "javanese"), ("su", "sundanese"), ("yue", "cantonese"),
];

/// Resolves what a client sends (`en`, `en-US`, `ar_AE`, `Arabic`) to a Whisper code;
/// `None` for `auto`/empty (detect), `Err` for something Whisper does not know.
pub fn parse_language(input: &str) -> Result<Option<&'static str>, String> {
    let s = input.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    let base = s.split(['-', '_']).next().unwrap_or(s).to_ascii_lowercase();
    // Whisper's tokens use the retired codes for these two.
    let base = match base.as_str() {
        "jv" => "jw".to_string(),
        "iw" => "he".to_string(),
        "nb" => "no".to_string(),
        _ => base,
    };
    LANGUAGES
        .iter()
        .find(|(code, name)| *code == base || name.eq_ignore_ascii_case(s))
        .map(|(code, _)| Some(*code))
        .ok_or_else(|| format!("unknown language '{input}': use auto, an ISO code such as en or ar, or a locale such as en-US"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_and_codes_resolve() {
        assert_eq!(parse_language("auto").unwrap(), None);
        assert_eq!(parse_language("").unwrap(), None);
        assert_eq!(parse_language("en-US").unwrap(), Some("en"));
        assert_eq!(parse_language("ar-AE").unwrap(), Some("ar"));
        assert_eq!(parse_language("ar_SA").unwrap(), Some("ar"));
        assert_eq!(parse_language("German").unwrap(), Some("de"));
        assert_eq!(parse_language("yue").unwrap(), Some("yue"));
        assert!(parse_language("xx-YY").is_err());
    }
}
