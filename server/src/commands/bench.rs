//! `stt bench`: times whole-file transcription with the model loaded once, the way a
//! server runs it; reports per-file medians, real-time factor, model load time and peak
//! memory. `--stdin` turns it into a worker for comparison scripts (one JSON request per
//! line in, one JSON reply per line out), so another engine can be timed alternately in
//! the same run.

use crate::cli::BenchArgs;
use crate::commands::models::load_model_with;
use crate::commands::transcribe::configure_threads;
use anyhow::Result;
use serde::Deserialize;
use serde_json::json;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use stt_engine::eval::{normalize_english, word_errors};
use stt_engine::{audio, transcribe_pcm, Hooks, TranscribeOptions, WhisperModel};

/// One timed transcription: audio decoding included, as a client would experience it.
struct Run {
    seconds: f64,
    duration_s: f64,
    text: String,
}

fn transcribe_once(model: &WhisperModel, options: &TranscribeOptions, path: &Path) -> Result<Run> {
    let t0 = Instant::now();
    // Engine errors already carry their cause in the message: no context chain on top.
    let audio = audio::decode_file(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let transcript = transcribe_pcm(
        model,
        &audio.pcm_16k,
        audio.duration_s,
        options,
        Hooks::default(),
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Run {
        seconds: t0.elapsed().as_secs_f64(),
        duration_s: audio.duration_s,
        text: transcript.text.trim().to_string(),
    })
}

/// Peak resident memory of this process so far, in MiB (Linux), from `VmHWM`.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn options(args: &BenchArgs) -> TranscribeOptions {
    TranscribeOptions {
        language: Some(args.language.clone()).filter(|l| !l.eq_ignore_ascii_case("auto")),
        vad_filter: !args.no_vad,
        translate_to_english: false,
        ..Default::default()
    }
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    let threads = configure_threads(args.threads);
    stt_engine::whisper::languages::parse_language(&args.language).map_err(anyhow::Error::msg)?;
    let t0 = Instant::now();
    let model = load_model_with(args.model.as_deref(), !args.no_vad)?;
    let load_s = t0.elapsed().as_secs_f64();
    let options = options(&args);
    if args.stdin {
        return serve_stdin(&model, &options, threads, load_s);
    }
    let files = if args.files.is_empty() {
        vec![PathBuf::from("samples/jfk.flac")]
    } else {
        args.files.clone()
    };
    let mut rows = Vec::new();
    for file in &files {
        for _ in 0..args.warmup {
            transcribe_once(&model, &options, file)?;
        }
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..args.runs.max(1) {
            let run = transcribe_once(&model, &options, file)?;
            times.push(run.seconds);
            last = Some(run);
        }
        let run = last.expect("at least one run");
        let med = median(&mut times);
        rows.push(json!({
            "file": file.display().to_string(),
            "duration_s": run.duration_s,
            "median_s": med,
            "min_s": times[0],
            "max_s": times[times.len() - 1],
            "rtf": med / run.duration_s,
            "text": run.text,
        }));
    }
    let summary = json!({
        "model": model.dir.display().to_string(),
        "threads": threads,
        "runs": args.runs.max(1),
        "warmup": args.warmup,
        "vad": !args.no_vad,
        "model_load_s": load_s,
        "peak_rss_mib": peak_rss_mib(),
        "files": rows,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "model {} · {threads} thread(s) · load {load_s:.2} s · {} run(s) after {} warm-up",
        model.dir.display(),
        args.runs.max(1),
        args.warmup
    );
    println!("{:>9} {:>9} {:>7}  file", "audio s", "median s", "RTF");
    for row in &rows {
        println!(
            "{:>9.2} {:>9.3} {:>7.3}  {}",
            row["duration_s"].as_f64().unwrap_or(0.0),
            row["median_s"].as_f64().unwrap_or(0.0),
            row["rtf"].as_f64().unwrap_or(0.0),
            row["file"].as_str().unwrap_or("")
        );
    }
    if let Some(rss) = peak_rss_mib() {
        println!("peak RSS {rss:.0} MiB");
    }
    Ok(ExitCode::SUCCESS)
}

/// Worker-mode requests: transcribe a file, or score a hypothesis against a reference
/// with the engine's English normaliser (so both engines' WER use one normaliser).
#[derive(Deserialize)]
#[serde(untagged)]
enum Request {
    Transcribe {
        path: PathBuf,
    },
    Score {
        reference: String,
        hypothesis: String,
    },
}

fn serve_stdin(
    model: &WhisperModel,
    options: &TranscribeOptions,
    threads: usize,
    load_s: f64,
) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let hello = json!({
        "ready": true,
        "version": env!("CARGO_PKG_VERSION"),
        "threads": threads,
        "model_load_s": load_s,
    });
    writeln!(out, "{hello}")?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Request>(&line) {
            Err(e) => json!({ "error": format!("bad request: {e}") }),
            Ok(Request::Transcribe { path }) => match transcribe_once(model, options, &path) {
                Ok(run) => json!({
                    "seconds": run.seconds,
                    "duration": run.duration_s,
                    "text": run.text,
                    "peak_rss_mib": peak_rss_mib(),
                }),
                Err(e) => json!({ "error": format!("{e:#}") }),
            },
            Ok(Request::Score {
                reference,
                hypothesis,
            }) => {
                let counts = word_errors(
                    &normalize_english(&reference),
                    &normalize_english(&hypothesis),
                );
                json!({ "edits": counts.edits(), "reference_words": counts.reference_len })
            }
        };
        writeln!(out, "{reply}")?;
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}
