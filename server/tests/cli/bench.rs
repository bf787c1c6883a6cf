//! `stt bench`: real timings of a real transcription, and the worker protocol the
//! comparison script relies on.

use crate::support::*;
use serde_json::Value;
use std::io::Write;
use std::process::Stdio;
use stt_engine::eval::{normalize_english, word_errors};

#[test]
fn bench_reports_timing_memory_and_the_transcript() {
    ensure_model("tiny.en");
    let clip = eval_dir().join("jfk/jfk.wav");
    let out = stt()
        .args([
            "bench",
            "--model",
            "tiny.en",
            "--threads",
            "2",
            "--runs",
            "1",
            "--warmup",
            "0",
            "--json",
        ])
        .arg(&clip)
        .output()
        .expect("run stt bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let file = &report["files"][0];
    assert!((file["duration_s"].as_f64().unwrap() - 11.0).abs() < 0.1);
    assert!(file["median_s"].as_f64().unwrap() > 0.0);
    assert!(report["peak_rss_mib"].as_f64().unwrap() > 50.0);
    let reference = "And so my fellow Americans ask not what your country can do for you ask what you can do for your country";
    let errors = word_errors(
        &normalize_english(reference),
        &normalize_english(file["text"].as_str().unwrap()),
    );
    assert_eq!(errors.edits(), 0, "{}", file["text"]);
}

#[test]
fn bench_worker_answers_every_request_and_exits_at_eof() {
    ensure_model("tiny.en");
    let mut child = stt()
        .args(["bench", "--stdin", "--model", "tiny.en", "--threads", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start stt bench --stdin");
    let clip = eval_dir().join("jfk/jfk.wav");
    let requests = format!(
        "{}\n{{\"path\": \"/nonexistent.wav\"}}\nnot json\n{{\"reference\": \"a b c d\", \"hypothesis\": \"a x c\"}}\n",
        serde_json::json!({ "path": clip })
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(requests.as_bytes())
        .unwrap();
    let out = child
        .wait_with_output()
        .expect("stt bench --stdin exits at end of input");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 5, "hello + 4 replies: {lines:?}");
    assert_eq!(lines[0]["ready"], true);
    assert!(lines[1]["seconds"].as_f64().unwrap() > 0.0);
    assert!(lines[1]["text"].as_str().unwrap().contains("country"));
    assert!(lines[2]["error"].as_str().unwrap().contains("nonexistent"));
    assert!(lines[3]["error"]
        .as_str()
        .unwrap()
        .starts_with("bad request"));
    assert_eq!(
        (
            lines[4]["edits"].as_u64(),
            lines[4]["reference_words"].as_u64()
        ),
        (Some(2), Some(4))
    );
    assert!(out.status.success());
}
