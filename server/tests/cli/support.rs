//! Shared fixtures: the eval manifest, model provisioning, and running `stt`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

pub fn eval_dir() -> PathBuf {
    std::env::var_os("STT_EVAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval"))
}

/// One manifest entry per clip.
pub fn manifest() -> &'static Vec<Value> {
    static MANIFEST: OnceLock<Vec<Value>> = OnceLock::new();
    MANIFEST.get_or_init(|| {
        let path = eval_dir().join("manifest.jsonl");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("manifest line is JSON"))
            .collect()
    })
}

pub fn clips_where(pred: impl Fn(&Value) -> bool) -> Vec<&'static Value> {
    manifest().iter().filter(|c| pred(c)).collect()
}

pub fn clip_path(clip: &Value) -> PathBuf {
    eval_dir().join(clip["path"].as_str().expect("clip has a path"))
}

pub fn stt() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stt"))
}

/// Makes sure `name` is installed, fetching it like a user would (once per test run).
pub fn ensure_model(name: &str) {
    static FETCHED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut fetched = FETCHED.lock().unwrap_or_else(|p| p.into_inner());
    if fetched.iter().any(|n| n == name) {
        return;
    }
    let out = stt()
        .args(["models", "fetch", name])
        .output()
        .expect("run stt models fetch");
    assert!(
        out.status.success(),
        "fetching {name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fetched.push(name.to_string());
}

pub fn run_transcribe(model: &str, file: &Path, extra: &[&str]) -> Output {
    ensure_model(model);
    stt()
        .args(["transcribe", "--model", model, "--threads", "2"])
        .args(extra)
        .arg(file)
        .output()
        .expect("run stt transcribe")
}

/// Transcribes one file to the contract's JSON object, or the error line stt printed.
pub fn transcribe_json(model: &str, file: &Path, extra: &[&str]) -> Result<Value, String> {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let out = run_transcribe(model, file, &args);
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout of {} is not JSON ({e}): {}",
                file.display(),
                String::from_utf8_lossy(&out.stdout)
            )
        }))
    } else {
        assert!(
            out.status.code().is_some(),
            "stt was killed by a signal on {} (a crash)",
            file.display()
        );
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Runs `cmd`, killing it if it outlives `limit` (a hang is a test failure, not a stuck CI).
pub fn output_within(mut cmd: Command, limit: std::time::Duration) -> Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stt");
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().expect("poll child").is_some() {
            return child.wait_with_output().expect("collect output");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("stt did not finish within {limit:?}: {cmd:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
