//! `stt transcribe`: decode each file, run Whisper, render text/JSON/SRT/VTT.

use crate::cli::{OutputFormat, TranscribeArgs};
use crate::commands::models::load_model_with;
use crate::response::TranscriptionResponse;
use crate::subtitles;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use stt_engine::translate::{translate_transcript, MarianTranslator, TranslationModelInfo};
use stt_engine::{audio, transcribe_pcm, Hooks, Task, TranscribeOptions, Transcript};

/// Audio longer than this gets a progress bar (on a terminal).
const PROGRESS_MIN_DURATION_S: f64 = 60.0;

/// Sizes the inference thread pool; candle's CPU kernels read `RAYON_NUM_THREADS`.
pub fn configure_threads(requested: Option<usize>) -> usize {
    let n = requested
        .or_else(|| std::env::var("RAYON_NUM_THREADS").ok()?.parse().ok())
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
        .max(1);
    std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    // Fails only if the pool already exists, which then has the size we set above.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
    n
}

fn render(
    format: OutputFormat,
    transcript: &Transcript,
    language: &str,
    transcription_s: f64,
    processing_s: f64,
) -> Result<String> {
    Ok(match format {
        OutputFormat::Text => subtitles::to_text(transcript),
        OutputFormat::Srt => subtitles::to_srt(transcript),
        OutputFormat::Vtt => subtitles::to_vtt(transcript),
        OutputFormat::VerboseJson => format!("{}\n", serde_json::to_string(transcript)?),
        OutputFormat::Json => {
            let body = TranscriptionResponse::from_transcript(
                transcript,
                language,
                transcription_s,
                processing_s,
            );
            format!("{}\n", serde_json::to_string(&body)?)
        }
    })
}

fn output_path(args: &TranscribeArgs, input: &Path) -> Option<PathBuf> {
    let out = args.output.as_ref()?;
    if args.files.len() == 1 && !out.is_dir() {
        return Some(out.clone());
    }
    let stem = input.file_stem().unwrap_or_default().to_string_lossy();
    Some(out.join(format!("{stem}.{}", args.format.extension())))
}

/// Writes to stdout; a closed pipe (`| head`) ends the program quietly.
fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}

/// A Marian model with the language pairs it covers.
pub struct Translator {
    pub model: MarianTranslator,
    pub info: TranslationModelInfo,
}

pub fn load_translator(dir: &Path) -> Result<Translator> {
    let info = TranslationModelInfo::read(dir)
        .with_context(|| format!("{} is not a usable translation model", dir.display()))?;
    let model = MarianTranslator::load(dir, &stt_engine::default_device())
        .with_context(|| format!("cannot load translation model {}", dir.display()))?;
    Ok(Translator { model, info })
}

/// Replaces Whisper's translation with Marian's when the model covers the spoken language.
fn translate_with_marian(
    mut transcript: Transcript,
    marian: Option<&Translator>,
    wanted: bool,
) -> Result<Transcript, stt_engine::EngineError> {
    let Some(m) = marian else {
        return Ok(transcript);
    };
    if !wanted || transcript.language == "en" || !m.info.covers(&transcript.language, "en") {
        return Ok(transcript);
    }
    let translation = translate_transcript(&transcript, &m.model, &m.model.default_options())
        .map_err(|e| stt_engine::EngineError::InvalidOptions(format!("translation failed: {e}")))?;
    transcript.translation = Some(translation);
    Ok(transcript)
}

pub fn run(args: TranscribeArgs) -> Result<ExitCode> {
    configure_threads(args.threads);
    let task: Task = args.task.parse().map_err(anyhow::Error::msg)?;
    stt_engine::whisper::languages::parse_language(&args.language).map_err(anyhow::Error::msg)?;
    if let Some(out) = &args.output {
        if args.files.len() > 1 {
            std::fs::create_dir_all(out)
                .with_context(|| format!("cannot create output directory {}", out.display()))?;
        }
    }
    let model = load_model_with(args.model.as_deref(), !args.no_vad)?;
    let mut options = TranscribeOptions {
        language: Some(args.language.clone()).filter(|l| !l.eq_ignore_ascii_case("auto")),
        task,
        initial_prompt: args.prompt.clone(),
        vad_filter: !args.no_vad,
        translate_to_english: !args.no_translate
            && (args.translate
                || matches!(args.format, OutputFormat::Json | OutputFormat::VerboseJson)),
        ..Default::default()
    };
    let marian = match &args.translation_model {
        Some(dir) => Some(load_translator(dir)?),
        None => None,
    };
    let want_translation = options.translate_to_english;
    // A Marian model that covers the language the client named replaces Whisper's pass.
    if let (Some(m), Some(lang)) = (&marian, &options.language) {
        let code = stt_engine::whisper::languages::parse_language(lang)
            .ok()
            .flatten();
        if code.is_some_and(|c| m.info.covers(c, "en")) {
            options.translate_to_english = false;
        }
    }
    let show_progress = std::io::stderr().is_terminal();
    let mut failures = 0;
    for file in &args.files {
        let started = Instant::now();
        let audio = match audio::decode_file(file) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                failures += 1;
                continue;
            }
        };
        let bar = (show_progress && audio.duration_s > PROGRESS_MIN_DURATION_S).then(|| {
            let bar = ProgressBar::new((audio.duration_s * 10.0) as u64);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {percent}% ({eta} left)")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(file.display().to_string());
            bar
        });
        let progress = |done_s: f64, _total_s: f64| {
            if let Some(bar) = &bar {
                bar.set_position((done_s * 10.0) as u64);
            }
        };
        let hooks = Hooks {
            progress: Some(&progress),
            cancel: None,
        };
        let t0 = Instant::now();
        let result = transcribe_pcm(&model, &audio.pcm_16k, audio.duration_s, &options, hooks);
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        let transcript = match result
            .and_then(|t| translate_with_marian(t, marian.as_ref(), want_translation))
        {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                failures += 1;
                continue;
            }
        };
        let transcription_s = t0.elapsed().as_secs_f64();
        let mut rendered = render(
            args.format,
            &transcript,
            &args.language,
            transcription_s,
            started.elapsed().as_secs_f64(),
        )?;
        match output_path(&args, file) {
            Some(path) => std::fs::write(&path, rendered)
                .with_context(|| format!("cannot write {}", path.display()))?,
            None => {
                if args.files.len() > 1 && args.format == OutputFormat::Text {
                    rendered = format!("{}: {}\n", file.display(), rendered.trim_end());
                }
                print_stdout(&rendered)?
            }
        }
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
