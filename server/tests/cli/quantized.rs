//! int8 weights: `stt models quantize` makes a smaller copy of tiny.en whose corpus WER
//! stays within the same bar as the float16 model's.

use crate::support::*;
use stt_engine::eval::{normalize_english, word_errors, ErrorCounts};

/// Same bar as float16 tiny.en (faster-whisper int8 on these weights: 0.0697).
const MAX_CORPUS_WER: f64 = 0.080;

fn model_dir(name: &str) -> std::path::PathBuf {
    let out = stt()
        .args(["models", "dir"])
        .output()
        .expect("run stt models dir");
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join(name)
}

#[test]
fn int8_tiny_en_is_half_the_size_and_as_accurate() {
    ensure_model("tiny.en");
    let out = stt()
        .args(["models", "quantize", "tiny.en", "--as", "tiny.en-int8-test"])
        .output()
        .expect("run stt models quantize");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let float = std::fs::metadata(model_dir("tiny.en").join("model.safetensors")).unwrap();
    let int8_dir = model_dir("tiny.en-int8-test");
    let int8 = std::fs::metadata(int8_dir.join("model.safetensors")).unwrap();
    assert!(
        (int8.len() as f64) < 0.6 * float.len() as f64,
        "int8 {} bytes vs float16 {}",
        int8.len(),
        float.len()
    );
    let record = std::fs::read_to_string(int8_dir.join("stt-import.json")).unwrap();
    assert!(record.contains("\"quantization\": \"int8\""), "{record}");

    let clips = clips_where(|c| {
        c["reference_quality"] == "exact"
            && matches!(c["set"].as_str(), Some("librispeech" | "jfk" | "en_other"))
    });
    assert!(clips.len() >= 39, "found {} clips", clips.len());
    // One process for all clips: the text format prints "path: transcript" per file.
    let out = stt()
        .args([
            "transcribe",
            "--model",
            "tiny.en-int8-test",
            "--threads",
            "2",
        ])
        .args(clips.iter().map(|c| clip_path(c)))
        .output()
        .expect("run stt transcribe");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut total = ErrorCounts::default();
    for clip in &clips {
        let path = clip_path(clip).display().to_string();
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{path}: ")))
            .unwrap_or_else(|| panic!("no transcript for {path} in:\n{stdout}"));
        total += word_errors(
            &normalize_english(clip["reference"].as_str().unwrap()),
            &normalize_english(line),
        );
    }
    let wer = total.rate();
    eprintln!(
        "int8 tiny.en corpus WER {wer:.4} over {} clips",
        clips.len()
    );
    // Leave the user's model store as it was.
    let _ = std::fs::remove_dir_all(&int8_dir);
    assert!(
        wer <= MAX_CORPUS_WER,
        "corpus WER {wer:.4} > {MAX_CORPUS_WER}"
    );
}
