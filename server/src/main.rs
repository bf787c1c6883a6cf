//! `stt`: the command line and (later) HTTP entry point over `stt-engine`.
//!
//! This crate parses arguments, loads models, calls the engine and renders results;
//! it holds no signal processing or model maths.

mod cli;
mod commands;
mod response;
mod subtitles;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match args.command {
        cli::Command::Transcribe(t) => commands::transcribe::run(t),
        cli::Command::Models(m) => commands::models::run(m),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
