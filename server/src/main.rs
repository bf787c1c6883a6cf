//! `stt`: the command line and HTTP entry point over `stt-engine`.
//!
//! This crate parses arguments, loads models, calls the engine and renders results;
//! it holds no signal processing or model maths.

mod cli;
mod commands;
mod cpu_quota;
mod http;
mod response;
mod scheduler;
mod subtitles;

use clap::Parser;
use std::process::ExitCode;

// Inference allocates and frees large activation buffers on every layer; glibc's malloc
// returns them to the kernel each time and pays page faults to get them back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` (index 15 in mimalloc v2 and v3; libmimalloc-sys names no
/// constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Returns freed pages to the kernel after 10 ms instead of mimalloc v3's 1 s: with two
/// busy workers the server's peak memory was 330-347 MB with 1 s and 262-267 MB with 10 ms,
/// at no measurable cost in speed (BENCHMARKS.md). `MIMALLOC_PURGE_DELAY` still wins.
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: a plain option setter of the linked allocator, called before any thread starts.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10) };
}

/// A server's panics are caught per request (the client gets an error); they go to the
/// log as one event in its format, with the request's id when a job panicked, instead
/// of raw text on stderr.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let backtrace = std::backtrace::Backtrace::capture();
        let thread = std::thread::current();
        let thread = thread.name().unwrap_or("unnamed");
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            tracing::error!(thread, %backtrace, "panic: {info}");
        } else {
            tracing::error!(thread, "panic: {info}");
        }
    }));
}

fn main() -> ExitCode {
    tune_allocator();
    let args = cli::Cli::parse();
    // A server logs its requests by default; the CLI stays quiet unless asked.
    let default_filter = match args.command {
        cli::Command::Serve(_) => "info,symphonia=error",
        // symphonia warns about atoms it skips in files that decode fine.
        _ => "warn,symphonia=error",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("STT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // STT_LOG_FORMAT=json: one JSON object per line, for log collectors.
    if std::env::var("STT_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().init();
    } else {
        logs.init();
    }
    if matches!(args.command, cli::Command::Serve(_)) {
        log_panics();
    }
    let result = match args.command {
        cli::Command::Transcribe(t) => commands::transcribe::run(t),
        cli::Command::Models(m) => commands::models::run(m),
        cli::Command::Serve(s) => commands::serve::run(s),
        cli::Command::Bench(b) => commands::bench::run(b),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
