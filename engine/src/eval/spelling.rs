//! British → American spelling for the English normaliser: a short hand-written list of
//! common words and word families (`colour`, `centre`, `realise`, `travelled`, `grey`,
//! ...), applied word by word. Families are matched on an explicit list of stems, never
//! on a bare ending, so `rise`, `promise` or `hour` are left alone.

/// Words spelled differently that do not follow one of the families below.
const EXACT: &[(&str, &str)] = &[
    ("grey", "gray"),
    ("greys", "grays"),
    ("greyer", "grayer"),
    ("greyest", "grayest"),
    ("greyish", "grayish"),
    ("greying", "graying"),
    ("greyed", "grayed"),
    ("catalogue", "catalog"),
    ("catalogues", "catalogs"),
    ("catalogued", "cataloged"),
    ("dialogue", "dialog"),
    ("dialogues", "dialogs"),
    ("analogue", "analog"),
    ("programme", "program"),
    ("programmes", "programs"),
    ("cheque", "check"),
    ("cheques", "checks"),
    ("chequebook", "checkbook"),
    ("plough", "plow"),
    ("ploughs", "plows"),
    ("ploughed", "plowed"),
    ("ploughing", "plowing"),
    ("ploughman", "plowman"),
    ("sceptic", "skeptic"),
    ("sceptics", "skeptics"),
    ("sceptical", "skeptical"),
    ("scepticism", "skepticism"),
    ("moustache", "mustache"),
    ("moustaches", "mustaches"),
    ("tyre", "tire"),
    ("tyres", "tires"),
    ("pyjamas", "pajamas"),
    ("aluminium", "aluminum"),
    ("aeroplane", "airplane"),
    ("aeroplanes", "airplanes"),
    ("mould", "mold"),
    ("moulds", "molds"),
    ("moulded", "molded"),
    ("moulding", "molding"),
    ("mouldy", "moldy"),
    ("smoulder", "smolder"),
    ("smouldered", "smoldered"),
    ("smouldering", "smoldering"),
    ("storey", "story"),
    ("storeys", "stories"),
    ("defence", "defense"),
    ("defences", "defenses"),
    ("offence", "offense"),
    ("offences", "offenses"),
    ("licence", "license"),
    ("licences", "licenses"),
    ("pretence", "pretense"),
    ("enrol", "enroll"),
    ("enrolment", "enrollment"),
    ("fulfil", "fulfill"),
    ("fulfilment", "fulfillment"),
    ("instalment", "installment"),
    ("instalments", "installments"),
    ("distil", "distill"),
    ("instil", "instill"),
    ("skilful", "skillful"),
    ("skilfully", "skillfully"),
    ("wilful", "willful"),
    ("wilfully", "willfully"),
    ("ageing", "aging"),
    ("judgement", "judgment"),
    ("judgements", "judgments"),
    ("acknowledgement", "acknowledgment"),
    ("acknowledgements", "acknowledgments"),
    ("encyclopaedia", "encyclopedia"),
    ("paediatric", "pediatric"),
    ("anaemia", "anemia"),
    ("anaemic", "anemic"),
    ("anaesthetic", "anesthetic"),
    ("anaesthesia", "anesthesia"),
    ("haemorrhage", "hemorrhage"),
    ("oesophagus", "esophagus"),
    ("oestrogen", "estrogen"),
    ("foetus", "fetus"),
    ("foetal", "fetal"),
    ("mediaeval", "medieval"),
    ("manoeuvre", "maneuver"),
    ("manoeuvres", "maneuvers"),
    ("manoeuvred", "maneuvered"),
    ("manoeuvring", "maneuvering"),
    ("draught", "draft"),
    ("draughts", "drafts"),
    ("gaol", "jail"),
    ("gaoler", "jailer"),
    ("kerb", "curb"),
    ("practise", "practice"),
    ("practised", "practiced"),
    ("practises", "practices"),
    ("practising", "practicing"),
    ("jewellery", "jewelry"),
    ("woollen", "woolen"),
    ("centrepiece", "centerpiece"),
    ("cosy", "cozy"),
    ("sulphur", "sulfur"),
    ("artefact", "artifact"),
    ("artefacts", "artifacts"),
    ("speciality", "specialty"),
];

/// `-our` words (`colour` → `color`), taking the endings in [`OUR_ENDINGS`].
const OUR_STEMS: &[&str] = &[
    "colour",
    "honour",
    "dishonour",
    "favour",
    "labour",
    "neighbour",
    "behaviour",
    "humour",
    "rumour",
    "flavour",
    "harbour",
    "vapour",
    "armour",
    "endeavour",
    "parlour",
    "savour",
    "splendour",
    "vigour",
    "valour",
    "rigour",
    "clamour",
    "odour",
    "saviour",
    "ardour",
    "candour",
    "fervour",
    "tumour",
    "demeanour",
];

const OUR_ENDINGS: &[&str] = &[
    "", "s", "ed", "ing", "ful", "fully", "less", "ite", "ites", "able", "ably", "er", "ers",
    "hood", "hoods", "ly", "al", "ally", "ist", "ists", "y",
];

/// `-ise` verbs (`realise` → `realize`): stems before `ise`.
const ISE_STEMS: &[&str] = &[
    "real",
    "organ",
    "recogn",
    "apolog",
    "critic",
    "emphas",
    "memor",
    "civil",
    "character",
    "symbol",
    "sympath",
    "util",
    "special",
    "final",
    "minim",
    "maxim",
    "author",
    "legal",
    "normal",
    "summar",
    "familiar",
    "visual",
    "capital",
    "central",
    "fertil",
    "stabil",
    "standard",
    "subsid",
    "modern",
    "popular",
    "priorit",
    "categor",
    "patron",
    "public",
    "agon",
    "econom",
    "harmon",
    "ideal",
    "industrial",
    "jeopard",
    "legitim",
    "liberal",
    "material",
    "mobil",
    "monopol",
    "national",
    "natural",
    "neutral",
    "optim",
    "polar",
    "personal",
    "revolution",
    "rational",
    "scandal",
    "social",
    "steril",
    "tantal",
    "terror",
    "theor",
    "trivial",
    "vandal",
    "vocal",
    "western",
    "hospital",
    "colon",
    "custom",
    "dramat",
    "energ",
    "fantas",
    "hypnot",
    "local",
    "magnet",
    "mechan",
    "mesmer",
    "miniatur",
    "moral",
    "oxid",
    "pasteur",
    "pressur",
    "random",
    "scrutin",
    "synchron",
    "synthes",
    "urban",
    "victim",
];

/// Prefixes allowed before an `-ise` stem (`reorganise`, `unrecognised`).
const ISE_PREFIXES: &[&str] = &["", "re", "un", "de", "dis"];

const ISE_ENDINGS: &[(&str, &str)] = &[
    ("ise", "ize"),
    ("ised", "ized"),
    ("ises", "izes"),
    ("ising", "izing"),
    ("isation", "ization"),
    ("isations", "izations"),
    ("iser", "izer"),
    ("isers", "izers"),
];

/// `-yse` verbs (`analyse` → `analyze`); `analyses` stays, it is also the plural noun.
const YSE_STEMS: &[&str] = &["anal", "paral", "catal", "breathal", "dial", "electrol"];
const YSE_ENDINGS: &[(&str, &str)] = &[
    ("yse", "yze"),
    ("ysed", "yzed"),
    ("ysing", "yzing"),
    ("yser", "yzer"),
];

/// `-re` nouns (`centre` → `center`): stems before `re`.
const RE_STEMS: &[&str] = &[
    "cent", "theat", "met", "lit", "fib", "calib", "somb", "spect", "meag", "lust", "sab",
    "sepulch", "kilomet", "centimet", "millimet", "mit", "och",
];
const RE_ENDINGS: &[(&str, &str)] = &[("re", "er"), ("res", "ers"), ("red", "ered")];

/// Verbs that double their final `l` in British spelling (`travelled` → `traveled`).
const DOUBLE_L_STEMS: &[&str] = &[
    "travel", "cancel", "counsel", "label", "model", "quarrel", "level", "marvel", "signal",
    "fuel", "refuel", "dial", "total", "channel", "tunnel", "rival", "equal", "grovel", "shovel",
    "revel", "duel", "jewel", "enamel", "pummel", "swivel", "yodel", "bevel", "chisel", "libel",
    "pencil", "stencil", "shrivel", "unravel", "ravel", "snivel", "initial", "spiral", "gambol",
    "kennel", "panel", "parcel", "pedal", "marshal", "medal", "snorkel", "towel", "funnel",
    "cudgel", "dishevel",
];
/// Endings after the doubled `l` (the British word is stem + `l` + ending).
const DOUBLE_L_ENDINGS: &[&str] = &["ed", "ing", "er", "ers", "or", "ors", "ous", "ist", "ists"];

/// The American spelling of `word` (lowercase), or `None` if it has no British form in
/// the list.
pub(crate) fn americanize(word: &str) -> Option<String> {
    if word.len() < 4 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    if let Some(&(_, american)) = EXACT.iter().find(|(british, _)| *british == word) {
        return Some(american.to_string());
    }
    for stem in OUR_STEMS {
        if let Some(ending) = word.strip_prefix(stem) {
            if OUR_ENDINGS.contains(&ending) {
                return Some(format!("{}or{ending}", &stem[..stem.len() - 3]));
            }
        }
    }
    for (british, american) in ISE_ENDINGS {
        if let Some(head) = word.strip_suffix(british) {
            let known = ISE_PREFIXES.iter().any(|prefix| {
                head.strip_prefix(prefix)
                    .is_some_and(|stem| ISE_STEMS.contains(&stem))
            });
            if known {
                return Some(format!("{head}{american}"));
            }
        }
    }
    for (british, american) in YSE_ENDINGS {
        if let Some(stem) = word.strip_suffix(british) {
            if YSE_STEMS.contains(&stem) {
                return Some(format!("{stem}{american}"));
            }
        }
    }
    for (british, american) in RE_ENDINGS {
        if let Some(stem) = word.strip_suffix(british) {
            if RE_STEMS.contains(&stem) {
                return Some(format!("{stem}{american}"));
            }
        }
    }
    for stem in DOUBLE_L_STEMS {
        if let Some(ending) = word
            .strip_prefix(stem)
            .and_then(|rest| rest.strip_prefix('l'))
        {
            if DOUBLE_L_ENDINGS.contains(&ending) {
                return Some(format!("{stem}{ending}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::americanize;

    fn us(word: &str) -> String {
        americanize(word).unwrap_or_else(|| word.to_string())
    }

    #[test]
    fn our_family() {
        for (gb, us_form) in [
            ("colour", "color"),
            ("colours", "colors"),
            ("coloured", "colored"),
            ("colourful", "colorful"),
            ("honourable", "honorable"),
            ("dishonour", "dishonor"),
            ("favourite", "favorite"),
            ("labourer", "laborer"),
            ("neighbourhood", "neighborhood"),
            ("behaviour", "behavior"),
            ("behavioural", "behavioral"),
            ("harbours", "harbors"),
            ("savoury", "savory"),
        ] {
            assert_eq!(us(gb), us_form, "{gb}");
        }
    }

    #[test]
    fn ise_yse_re_and_double_l() {
        for (gb, us_form) in [
            ("realise", "realize"),
            ("realisation", "realization"),
            ("organisers", "organizers"),
            ("reorganised", "reorganized"),
            ("unrecognised", "unrecognized"),
            ("apologising", "apologizing"),
            ("criticises", "criticizes"),
            ("analyse", "analyze"),
            ("paralysed", "paralyzed"),
            ("centre", "center"),
            ("centres", "centers"),
            ("centred", "centered"),
            ("theatre", "theater"),
            ("kilometres", "kilometers"),
            ("litre", "liter"),
            ("travelled", "traveled"),
            ("travellers", "travelers"),
            ("counsellor", "counselor"),
            ("marvellous", "marvelous"),
            ("cancelling", "canceling"),
            ("modelled", "modeled"),
        ] {
            assert_eq!(us(gb), us_form, "{gb}");
        }
    }

    #[test]
    fn exact_list() {
        assert_eq!(us("grey"), "gray");
        assert_eq!(us("programme"), "program");
        assert_eq!(us("defence"), "defense");
        assert_eq!(us("storeys"), "stories");
        assert_eq!(us("jewellery"), "jewelry");
    }

    #[test]
    fn leaves_other_words_alone() {
        for word in [
            "rise",
            "wise",
            "promise",
            "exercise",
            "surprise",
            "advertise",
            "hour",
            "your",
            "four",
            "pour",
            "tour",
            "journey",
            "analyses",
            "acre",
            "genre",
            "massacre",
            "mediocre",
            "cancellation",
            "controlled",
            "metal",
            "metallic",
            "greyhound",
            "color",
            "center",
            "traveled",
            "rigorous",
            "humorous",
            "vigorous",
            "odd",
            "a",
        ] {
            assert_eq!(americanize(word), None, "{word}");
        }
    }
}
