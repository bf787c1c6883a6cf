//! Number normalisation for the English normaliser: spelled-out and written numbers
//! become one canonical digit form (`nineteen sixty three` → `1963`, `twenty first` →
//! `21st`, `five percent` → `5%`, `twenty dollars` → `$20`).
//!
//! Works on the word list produced by the earlier steps (lowercase, punctuation gone
//! except number signs, and [`BREAK`] tokens where sentence punctuation was). A number
//! being read is kept either as an integer (`total` of finished thousands groups plus the
//! current `group` below the next multiplier) or, once digits are concatenated rather
//! than added (`nineteen sixty` → `1960`, `one oh one` → `101`, decimals), as a digit
//! string.

/// Token standing for sentence punctuation (`,` `;` `:` `!` `?` `.` dashes): a number never
/// continues across it, and it is dropped from the output. A private-use character, so it
/// cannot come from the input (those are removed as symbols before).
pub(crate) const BREAK: &str = "\u{E000}";

/// What the previous word of the number being read was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Last {
    Ones,
    Teen,
    Tens,
    /// `zero`/`oh`, or a digit repeated by `double`/`triple`.
    Zero,
    Multiplier,
    /// `point`.
    Point,
    /// A number written with digits.
    Written,
}

#[derive(Debug)]
enum Value {
    Int { total: u128, group: u128 },
    Digits(String),
}

#[derive(Debug)]
struct Number {
    prefix: &'static str,
    value: Value,
    last: Last,
}

impl Number {
    fn new(prefix: &'static str, value: Value, last: Last) -> Self {
        Number {
            prefix,
            value,
            last,
        }
    }

    fn digits(&self) -> String {
        match &self.value {
            Value::Int { total, group } => (total + group).to_string(),
            Value::Digits(s) => s.clone(),
        }
    }

    fn render(&self) -> String {
        format!("{}{}", self.prefix, self.digits())
    }

    /// A lone spelled-out digit (`five`): another small number after it starts a new
    /// number (`five five` → `5 5`, like the written `5 5`).
    fn is_single_digit(&self) -> bool {
        self.last == Last::Ones
            && matches!(
                self.value,
                Value::Int {
                    total: 0,
                    group: 1..=9
                }
            )
    }

    /// Switches to digit-string mode and returns the string.
    fn digit_string(&mut self) -> &mut String {
        if let Value::Int { .. } = self.value {
            self.value = Value::Digits(self.digits());
        }
        match &mut self.value {
            Value::Digits(s) => s,
            Value::Int { .. } => unreachable!("converted above"),
        }
    }

    /// Adds a spelled-out number below 100: arithmetically when it fills an empty slot
    /// (`twenty` + `five`, `hundred` + `twelve`), otherwise by writing its digits after
    /// the current ones (`nineteen` + `sixty` → `1960`; then `three` replaces the final
    /// zero → `1963`).
    fn add_small(&mut self, value: u32, kind: Last) {
        let last = self.last;
        match &mut self.value {
            Value::Int { group, .. }
                if (kind == Last::Ones && *group % 10 == 0)
                    || (kind != Last::Ones && *group % 100 == 0) =>
            {
                *group += u128::from(value);
            }
            _ => {
                let s = self.digit_string();
                if kind == Last::Ones && last == Last::Tens && s.ends_with('0') {
                    s.pop();
                }
                s.push_str(&value.to_string());
            }
        }
        self.last = kind;
    }

    /// Applies `hundred`, `thousand`, ...; false (and unchanged) when the result would
    /// not be a whole number or would overflow.
    fn multiply(&mut self, multiplier: u128) -> bool {
        let result =
            match &self.value {
                Value::Int { total, group } if multiplier == 100 => {
                    let group = if *group == 0 {
                        Some(100)
                    } else {
                        group.checked_mul(100)
                    };
                    group.map(|g| (*total, g))
                }
                Value::Int { total, group } => {
                    let scaled = if *group == 0 {
                        (*total).max(1).checked_mul(multiplier)
                    } else {
                        group
                            .checked_mul(multiplier)
                            .and_then(|g| g.checked_add(*total))
                    };
                    scaled.map(|t| (t, 0))
                }
                Value::Digits(s) => scale_decimal(s, multiplier).map(|v| {
                    if multiplier == 100 {
                        (0, v)
                    } else {
                        (v, 0)
                    }
                }),
            };
        match result {
            Some((total, group)) => {
                self.value = Value::Int { total, group };
                self.last = Last::Multiplier;
                true
            }
            None => false,
        }
    }
}

/// `"1.5"` × 1000 → 1500; `None` unless the product is a whole number that fits.
fn scale_decimal(s: &str, multiplier: u128) -> Option<u128> {
    let (int_part, frac_part) = s.split_once('.').unwrap_or((s, ""));
    if frac_part.contains('.') || frac_part.len() > 30 {
        return None;
    }
    let parse = |p: &str| -> Option<u128> {
        if p.is_empty() {
            Some(0)
        } else {
            p.parse().ok()
        }
    };
    let int = parse(int_part)?;
    let frac = parse(frac_part)?;
    let scale = 10u128.checked_pow(frac_part.len() as u32)?;
    let frac_scaled = frac.checked_mul(multiplier)?;
    if frac_scaled % scale != 0 {
        return None;
    }
    int.checked_mul(multiplier)?
        .checked_add(frac_scaled / scale)
}

fn ones(word: &str) -> Option<u32> {
    Some(match word {
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        _ => return None,
    })
}

fn teen(word: &str) -> Option<u32> {
    Some(match word {
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    })
}

fn tens(word: &str) -> Option<u32> {
    Some(match word {
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    })
}

/// A spelled-out number below 100 and its kind.
fn small(word: &str) -> Option<(u32, Last)> {
    ones(word)
        .map(|v| (v, Last::Ones))
        .or_else(|| teen(word).map(|v| (v, Last::Teen)))
        .or_else(|| tens(word).map(|v| (v, Last::Tens)))
}

fn multiplier(word: &str) -> Option<u128> {
    Some(match word {
        "hundred" => 100,
        "thousand" => 1_000,
        "million" => 1_000_000,
        "billion" => 1_000_000_000,
        "trillion" => 1_000_000_000_000,
        _ => return None,
    })
}

enum Suffixed {
    Small(u32, Last),
    Multiplier(u128),
}

/// Ordinals and plurals: `first` → (1, "st"), `sixties` → (60, "s"), `hundredth` →
/// (100, "th"). `ones` is left alone (`the little ones`).
fn suffixed(word: &str) -> Option<(Suffixed, &'static str)> {
    match word {
        "first" => return Some((Suffixed::Small(1, Last::Ones), "st")),
        "second" => return Some((Suffixed::Small(2, Last::Ones), "nd")),
        "third" => return Some((Suffixed::Small(3, Last::Ones), "rd")),
        "fifth" => return Some((Suffixed::Small(5, Last::Ones), "th")),
        "eighth" => return Some((Suffixed::Small(8, Last::Ones), "th")),
        "ninth" => return Some((Suffixed::Small(9, Last::Ones), "th")),
        "twelfth" => return Some((Suffixed::Small(12, Last::Teen), "th")),
        "sixes" => return Some((Suffixed::Small(6, Last::Ones), "s")),
        "ones" => return None,
        _ => {}
    }
    let as_base = |base: &str, suffix: &'static str| {
        small(base)
            .map(|(v, k)| (Suffixed::Small(v, k), suffix))
            .or_else(|| multiplier(base).map(|m| (Suffixed::Multiplier(m), suffix)))
    };
    if let Some(stem) = word.strip_suffix("ieth") {
        return tens(&format!("{stem}y")).map(|v| (Suffixed::Small(v, Last::Tens), "th"));
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return tens(&format!("{stem}y")).map(|v| (Suffixed::Small(v, Last::Tens), "s"));
    }
    if let Some(base) = word.strip_suffix("th") {
        return as_base(base, "th");
    }
    if let Some(base) = word.strip_suffix('s') {
        return as_base(base, "s");
    }
    None
}

fn is_zero_word(word: &str) -> bool {
    matches!(word, "zero" | "oh" | "o")
}

fn currency_symbol(word: &str) -> Option<&'static str> {
    Some(match word {
        "dollar" | "dollars" => "$",
        "pound" | "pounds" => "£",
        "euro" | "euros" => "€",
        "cent" | "cents" => "¢",
        _ => return None,
    })
}

/// A number written with digits: optional sign or currency prefix, digits with at most
/// one decimal point, optional `%` or ordinal/plural suffix.
struct Written {
    prefix: &'static str,
    digits: String,
    suffix: &'static str,
    int: Option<u128>,
}

fn parse_written(word: &str) -> Option<Written> {
    let (prefix, rest): (&'static str, &str) = match word.chars().next()? {
        '$' => ("$", &word[1..]),
        '£' => ("£", &word['£'.len_utf8()..]),
        '€' => ("€", &word['€'.len_utf8()..]),
        '¢' => ("¢", &word['¢'.len_utf8()..]),
        '-' => ("-", &word[1..]),
        _ => ("", word),
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(end);
    let suffix: &'static str = match suffix {
        "" => "",
        "%" => "%",
        "st" => "st",
        "nd" => "nd",
        "rd" => "rd",
        "th" => "th",
        "s" => "s",
        _ => return None,
    };
    if !number.chars().any(|c| c.is_ascii_digit())
        || number.matches('.').count() > 1
        || number.ends_with('.')
    {
        return None;
    }
    let digits = if number.starts_with('.') {
        format!("0{number}")
    } else {
        number.to_string()
    };
    let int = if digits.contains('.') || (digits.starts_with('0') && digits != "0") {
        None
    } else {
        digits.parse().ok()
    };
    Some(Written {
        prefix,
        digits,
        suffix,
        int,
    })
}

/// Whether `word` can follow `and` inside a number (`one hundred and five`).
fn continues_number(word: Option<&str>) -> bool {
    word.is_some_and(|w| {
        small(w).is_some()
            || w == "zero"
            || matches!(suffixed(w), Some((Suffixed::Small(..), _)))
            || parse_written(w).is_some_and(|n| n.prefix.is_empty())
    })
}

/// Whether `word` can start a number (after `minus`).
fn starts_number(word: Option<&str>) -> bool {
    word.is_some_and(|w| {
        small(w).is_some()
            || w == "zero"
            || multiplier(w).is_some()
            || parse_written(w).is_some_and(|n| n.prefix.is_empty())
    })
}

fn flush(current: &mut Option<Number>, out: &mut Vec<String>) {
    if let Some(number) = current.take() {
        out.push(number.render());
    }
}

/// Rewrites the numbers in `words` into canonical form; other words pass through.
/// [`BREAK`] tokens end numbers and are kept (the caller drops them).
pub(crate) fn normalize_numbers(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut current: Option<Number> = None;
    // Set by "minus"/"negative" right before a number.
    let mut sign: &'static str = "";
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        let next2 = words.get(i + 2).map(String::as_str);
        let mut consumed = 1;

        if let Some(written) = parse_written(word) {
            match current.as_mut() {
                // "three point 5"
                Some(n) if n.last == Last::Point && written.prefix.is_empty() => {
                    n.digit_string().push_str(&written.digits);
                    n.last = Last::Written;
                    if !written.suffix.is_empty() {
                        out.push(format!("{}{}", n.render(), written.suffix));
                        current = None;
                    }
                }
                _ => {
                    flush(&mut current, &mut out);
                    let prefix = if written.prefix.is_empty() {
                        std::mem::take(&mut sign)
                    } else {
                        written.prefix
                    };
                    sign = "";
                    if written.suffix.is_empty() {
                        let value = match written.int {
                            Some(v) => Value::Int { total: 0, group: v },
                            None => Value::Digits(written.digits),
                        };
                        current = Some(Number::new(prefix, value, Last::Written));
                    } else {
                        out.push(format!("{prefix}{}{}", written.digits, written.suffix));
                    }
                }
            }
        } else if let Some((value, kind)) = small(word) {
            if current
                .as_ref()
                .is_some_and(|n| n.last == Last::Written || n.is_single_digit())
            {
                flush(&mut current, &mut out);
            }
            match current.as_mut() {
                Some(n) => n.add_small(value, kind),
                None => {
                    let group = u128::from(value);
                    let value = Value::Int { total: 0, group };
                    current = Some(Number::new(std::mem::take(&mut sign), value, kind));
                }
            }
        } else if word == "zero"
            || (is_zero_word(word)
                && (current.as_ref().is_some_and(|n| n.last != Last::Written)
                    || next.is_some_and(|w| ones(w).is_some() || is_zero_word(w))))
        {
            if current.as_ref().is_some_and(|n| n.last == Last::Written) {
                flush(&mut current, &mut out);
            }
            match current.as_mut() {
                Some(n) => {
                    n.digit_string().push('0');
                    n.last = Last::Zero;
                }
                None => {
                    let value = Value::Digits("0".to_string());
                    current = Some(Number::new(std::mem::take(&mut sign), value, Last::Zero));
                }
            }
        } else if let Some(m) = multiplier(word) {
            let applied = current.as_mut().is_some_and(|n| n.multiply(m));
            if !applied {
                flush(&mut current, &mut out);
                let value = if m == 100 {
                    Value::Int { total: 0, group: m }
                } else {
                    Value::Int { total: m, group: 0 }
                };
                current = Some(Number::new(
                    std::mem::take(&mut sign),
                    value,
                    Last::Multiplier,
                ));
            }
        } else if let Some((kind, suffix)) = suffixed(word) {
            match kind {
                Suffixed::Small(value, small_kind) => {
                    if current
                        .as_ref()
                        .is_some_and(|n| n.last == Last::Written || n.is_single_digit())
                    {
                        flush(&mut current, &mut out);
                    }
                    match current.take() {
                        Some(mut n) => {
                            n.add_small(value, small_kind);
                            out.push(format!("{}{suffix}", n.render()));
                        }
                        None => out.push(format!("{value}{suffix}")),
                    }
                }
                Suffixed::Multiplier(m) => {
                    if current.as_mut().is_some_and(|n| n.multiply(m)) {
                        if let Some(n) = current.take() {
                            out.push(format!("{}{suffix}", n.render()));
                        }
                    } else {
                        flush(&mut current, &mut out);
                        out.push(format!("{m}{suffix}"));
                    }
                }
            }
            sign = "";
        } else if word == "and" && current.is_some() && next == Some("a") && next2 == Some("half") {
            if let Some(n) = current.as_mut() {
                n.digit_string().push_str(".5");
                // Like a written decimal: only a multiplier may continue it ("two and a
                // half million").
                n.last = Last::Written;
            }
            consumed = 3;
        } else if word == "and"
            && current.as_ref().is_some_and(|n| n.last == Last::Multiplier)
            && continues_number(next)
        {
            // "one hundred and five": the "and" belongs to the number.
        } else if word == "point"
            && next.is_some_and(|w| {
                ones(w).is_some()
                    || is_zero_word(w)
                    || parse_written(w).is_some_and(|n| {
                        n.prefix.is_empty() && n.int.is_some() && n.suffix.is_empty()
                    })
            })
        {
            match current.as_mut() {
                Some(n) => n.digit_string().push('.'),
                None => {
                    let value = Value::Digits("0.".to_string());
                    current = Some(Number::new(std::mem::take(&mut sign), value, Last::Point));
                }
            }
            if let Some(n) = current.as_mut() {
                n.last = Last::Point;
            }
        } else if matches!(word, "double" | "triple")
            && next.is_some_and(|w| ones(w).is_some() || is_zero_word(w))
        {
            let digit = next.and_then(ones).unwrap_or(0);
            let repeated = digit
                .to_string()
                .repeat(if word == "double" { 2 } else { 3 });
            if current.as_ref().is_some_and(|n| n.last == Last::Written) {
                flush(&mut current, &mut out);
            }
            match current.as_mut() {
                Some(n) => n.digit_string().push_str(&repeated),
                None => {
                    let value = Value::Digits(repeated);
                    current = Some(Number::new(std::mem::take(&mut sign), value, Last::Zero));
                }
            }
            if let Some(n) = current.as_mut() {
                n.last = Last::Zero;
            }
            consumed = 2;
        } else if currency_symbol(word).is_some() && current.is_some() {
            // "twenty dollars" -> "$20"
            if let (Some(symbol), Some(mut n)) = (currency_symbol(word), current.take()) {
                n.prefix = symbol;
                out.push(n.render());
            }
        } else if word == "percent" && current.is_some() {
            if let Some(n) = current.take() {
                out.push(format!("{}%", n.render()));
            }
        } else if word == "per" && next == Some("cent") && current.is_some() {
            if let Some(n) = current.take() {
                out.push(format!("{}%", n.render()));
            }
            consumed = 2;
        } else if matches!(word, "minus" | "negative") && current.is_none() && starts_number(next) {
            sign = "-";
        } else {
            flush(&mut current, &mut out);
            sign = "";
            out.push(word.to_string());
        }
        i += consumed;
    }
    flush(&mut current, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> String {
        let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        normalize_numbers(&words).join(" ")
    }

    #[test]
    fn scales_decimals_exactly() {
        assert_eq!(scale_decimal("1.5", 1_000_000), Some(1_500_000));
        assert_eq!(scale_decimal("0.25", 100), Some(25));
        assert_eq!(scale_decimal("1.2345", 1000), None);
        assert_eq!(scale_decimal("007", 1000), Some(7000));
        assert_eq!(scale_decimal("1.2.3", 1000), None);
    }

    #[test]
    fn parses_written_numbers() {
        let w = parse_written("$20").expect("number");
        assert_eq!(
            (w.prefix, w.digits.as_str(), w.suffix, w.int),
            ("$", "20", "", Some(20))
        );
        let w = parse_written("21st").expect("number");
        assert_eq!((w.digits.as_str(), w.suffix), ("21", "st"));
        assert_eq!(parse_written(".5").expect("number").digits, "0.5");
        assert_eq!(parse_written("007").expect("number").int, None);
        assert!(parse_written("1.2.3").is_none());
        assert!(parse_written("abc").is_none());
        assert!(parse_written("5x").is_none());
        assert!(parse_written("$").is_none());
    }

    #[test]
    fn classifies_suffixed_words() {
        for (word, value, suffix) in [
            ("fourth", 4, "th"),
            ("ninth", 9, "th"),
            ("eleventh", 11, "th"),
            ("nineteenth", 19, "th"),
            ("thirtieth", 30, "th"),
            ("nineties", 90, "s"),
            ("sevens", 7, "s"),
            ("tens", 10, "s"),
        ] {
            match suffixed(word) {
                Some((Suffixed::Small(v, _), s)) => assert_eq!((v, s), (value, suffix), "{word}"),
                _ => panic!("{word} not recognised"),
            }
        }
        assert!(matches!(
            suffixed("millions"),
            Some((Suffixed::Multiplier(1_000_000), "s"))
        ));
        assert!(matches!(
            suffixed("thousandth"),
            Some((Suffixed::Multiplier(1000), "th"))
        ));
        for word in ["ones", "month", "tooth", "this", "bath", "seventy"] {
            assert!(suffixed(word).is_none(), "{word}");
        }
    }

    #[test]
    fn breaks_end_numbers() {
        assert_eq!(run("nineteen sixty three \u{E000} five"), "1963 \u{E000} 5");
        assert_eq!(run("nineteen sixty three five"), "19635");
    }

    #[test]
    fn large_and_overflowing_numbers() {
        assert_eq!(run("three trillion"), "3000000000000");
        assert_eq!(run("one thousand million"), "1000000000");
        let big = "9".repeat(40);
        assert_eq!(run(&big), big);
        assert_eq!(
            run(&format!("{big} trillion")),
            format!("{big} 1000000000000")
        );
    }

    #[test]
    fn words_that_are_not_numbers_pass_through() {
        assert_eq!(run("the quick brown fox"), "the quick brown fox");
        assert_eq!(run("and point double per"), "and point double per");
        assert_eq!(run("a dollar"), "a dollar");
    }
}
