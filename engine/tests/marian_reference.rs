//! The Marian backend against transformers, on the tiny model in `tests/data/marian_tiny`.
//!
//! `scripts/reference/make_marian_reference.py` built that model (opus-mt architecture,
//! tiny sizes, briefly trained from a random init) and recorded what transformers'
//! `MarianTokenizer` and `MarianMTModel.generate()` produce for a few inputs under greedy
//! and beam search with various options. candle must reproduce every id: the source ids
//! (SentencePiece pieces through vocab.json), the generated ids, the beam scores (to float
//! tolerance) and the decoded text.

use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use stt_engine::translate::{
    EarlyStopping, MarianOptions, MarianTranslator, PairSource, TranslationModelInfo,
};

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/marian_tiny")
}

fn load() -> MarianTranslator {
    MarianTranslator::load(&model_dir(), &candle_core::Device::Cpu).expect("load marian_tiny")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(model_dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

/// The options of a reference run, in stt's terms.
fn options(run: &Value) -> MarianOptions {
    MarianOptions {
        beam_size: run["num_beams"].as_u64().unwrap() as usize,
        max_length: Some(run["max_new_tokens"].as_u64().unwrap() as usize),
        length_penalty: run["length_penalty"].as_f64().unwrap() as f32,
        early_stopping: match &run["early_stopping"] {
            Value::Bool(true) => EarlyStopping::OnFullBeam,
            Value::String(s) if s == "never" => EarlyStopping::Never,
            _ => EarlyStopping::Heuristic,
        },
        renormalize_logits: run["renormalize_logits"].as_bool().unwrap(),
        ..MarianOptions::default()
    }
}

fn cases() -> Vec<Value> {
    expected()["cases"].as_array().unwrap().clone()
}

fn run<'a>(case: &'a Value, label: &str) -> &'a Value {
    case["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == label)
        .unwrap_or_else(|| panic!("no run {label}"))
}

#[test]
fn source_ids_match_transformers_tokenizer() {
    let translator = load();
    let unk = translator.tokenizer().unk_id();
    let mut saw_unk = false;
    for case in cases() {
        let text = case["text"].as_str().unwrap();
        let got = translator.tokenizer().encode(text).unwrap();
        assert_eq!(got, ids(&case["source_ids"]), "source ids of {text:?}");
        saw_unk |= got.contains(&unk);
    }
    assert!(saw_unk, "the reference should exercise <unk>");
}

#[test]
fn generated_ids_match_transformers_generate() {
    let translator = load();
    let mut checked = 0;
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let source = ids(&case["source_ids"]);
        for run in case["runs"].as_array().unwrap() {
            let label = run["label"].as_str().unwrap();
            let hypothesis = translator.generate(&source, &options(run)).unwrap();
            assert_eq!(hypothesis.tokens, ids(&run["ids"]), "{name} / {label}");
            assert_eq!(
                translator.translate_ids(&source, &options(run)).unwrap(),
                hypothesis.tokens
            );
            if let Some(score) = run.get("score").and_then(Value::as_f64) {
                let diff = (hypothesis.score as f64 - score).abs();
                assert!(
                    diff < 1e-3,
                    "{name} / {label}: score {} vs {score}",
                    hypothesis.score
                );
            }
            let text = translator.tokenizer().decode(&hypothesis.tokens).unwrap();
            assert_eq!(text, run["text"].as_str().unwrap(), "{name} / {label} text");
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} reference runs");
}

#[test]
fn translate_text_end_to_end() {
    let translator = load();
    for case in cases() {
        let text = case["text"].as_str().unwrap();
        for label in ["greedy", "beam4"] {
            let r = run(&case, label);
            let got = translator.translate(text, &options(r)).unwrap();
            assert_eq!(got, r["text"].as_str().unwrap(), "{text:?} / {label}");
        }
    }
    // A training sentence of the tiny model comes out as its English side.
    let got = translator
        .translate(
            "هل يمكنك أن تساعدني في حمل هذه الحقيبة؟",
            &MarianOptions::default(),
        )
        .unwrap();
    assert_eq!(got, "Can you help me carry this bag?");
}

#[test]
fn segments_keep_their_boundaries_and_long_text_is_split() {
    let translator = load();
    let cases = cases();
    let (a, b) = (&cases[0], &cases[1]);
    let text_a = a["text"].as_str().unwrap();
    let text_b = b["text"].as_str().unwrap();
    let opts = options(run(a, "greedy"));
    let want_a = run(a, "greedy")["text"].as_str().unwrap();
    let want_b = run(b, "greedy")["text"].as_str().unwrap();

    let out = translator
        .translate_segments(&[text_a, "  ", text_b], &opts)
        .unwrap();
    assert_eq!(
        out,
        vec![want_a.to_string(), String::new(), want_b.to_string()]
    );

    // Both sentences in one segment, with a limit that fits each but not both: split at
    // the sentence end, translated separately, joined.
    let both = format!("{text_a} {text_b}");
    let limit = a["source_ids"]
        .as_array()
        .unwrap()
        .len()
        .max(b["source_ids"].as_array().unwrap().len());
    let tokenizer = translator.tokenizer();
    assert!(tokenizer.count(&both).unwrap() > limit);
    let split = MarianOptions {
        max_source_tokens: limit,
        ..opts.clone()
    };
    assert_eq!(
        translator.translate(&both, &split).unwrap(),
        format!("{want_a} {want_b}")
    );
}

#[test]
fn translator_is_shared_by_threads() {
    let translator = Arc::new(load());
    let case = &cases()[1];
    let text = case["text"].as_str().unwrap().to_string();
    let r = run(case, "beam4");
    let opts = options(r);
    let want = r["text"].as_str().unwrap().to_string();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (translator, text, opts) = (translator.clone(), text.clone(), opts.clone());
            std::thread::spawn(move || translator.translate(&text, &opts).unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), want);
    }
}

#[test]
fn model_info_reports_the_language_pair() {
    let info = TranslationModelInfo::read(&model_dir()).unwrap();
    assert_eq!(info.model_type, "marian");
    assert_eq!(info.source_languages, vec!["ar"]);
    assert_eq!(info.target_languages, vec!["en"]);
    assert_eq!(info.pair_source, PairSource::InfoFile);
    assert!(info.is_loadable(), "missing {:?}", info.missing_files);
    assert!(info.covers("ar-AE", "en"));
    assert_eq!(
        (info.d_model, info.encoder_layers, info.decoder_layers),
        (32, 2, 2)
    );
    assert!(stt_engine::translate::is_translation_model(&model_dir()));
}

#[test]
fn defaults_come_from_generation_config() {
    let translator = load();
    let opts = translator.default_options();
    assert_eq!(opts.beam_size, 4);
    assert!(opts.renormalize_logits);
    assert_eq!(opts.early_stopping, EarlyStopping::Heuristic);
}

#[test]
fn bad_options_and_inputs_are_errors() {
    let translator = load();
    let source = translator.tokenizer().encode("Thank you").unwrap();
    let zero_beams = MarianOptions {
        beam_size: 0,
        ..MarianOptions::default()
    };
    assert!(translator.generate(&source, &zero_beams).is_err());
    let too_long = vec![5u32; 129];
    assert!(translator
        .generate(&too_long, &MarianOptions::default())
        .is_err());
    assert_eq!(
        translator
            .translate("   ", &MarianOptions::default())
            .unwrap(),
        ""
    );
}
