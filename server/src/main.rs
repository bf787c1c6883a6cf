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
