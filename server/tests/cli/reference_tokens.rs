//! The converted CTranslate2 weights reproduce faster-whisper's greedy tokens exactly.
//! Expected ids: `engine/tests/data/reference_tokens.json`, made by
//! `scripts/reference/make_reference_tokens.py` (the command is recorded in the file).

use crate::support::*;
use serde_json::Value;
use std::path::Path;

fn reference() -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/data/reference_tokens.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn check_model(model: &str) {
    let reference = reference();
    let results: Vec<&Value> = reference["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["model"] == model)
        .collect();
    assert!(results.len() >= 2, "at least two clips for {model}");
    for r in results {
        let clip = eval_dir().join(r["clip"].as_str().unwrap());
        let language = r["language"].as_str().unwrap();
        let out = run_transcribe(
            model,
            &clip,
            &["--format", "verbose-json", "--language", language],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
        let tokens = |segments: &Value| -> Vec<u64> {
            segments
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| {
                    s["tokens"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| t.as_u64().unwrap())
                })
                .collect()
        };
        assert_eq!(
            tokens(&ours["segments"]),
            tokens(&r["segments"]),
            "{model} on {}: token ids differ from faster-whisper's",
            r["clip"]
        );
    }
}

#[test]
fn tiny_en_tokens_equal_faster_whispers() {
    check_model("tiny.en");
}

#[test]
fn base_tokens_equal_faster_whispers() {
    check_model("base");
}
