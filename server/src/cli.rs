//! Command-line arguments (clap), with environment fallbacks where a service needs them.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "stt",
    version,
    about = "Local speech-to-text with Whisper on candle"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Transcribe audio files (WAV, FLAC, MP3, M4A, OGG, Opus, WebM ...)
    Transcribe(TranscribeArgs),
    /// List, fetch and import models
    Models(ModelsArgs),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum OutputFormat {
    Text,
    Json,
    Srt,
    Vtt,
    /// Everything the engine knows: token ids, log-probabilities, language probability
    VerboseJson,
}

impl OutputFormat {
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Text => "txt",
            OutputFormat::Json => "json",
            OutputFormat::Srt => "srt",
            OutputFormat::Vtt => "vtt",
            OutputFormat::VerboseJson => "verbose.json",
        }
    }
}

#[derive(Args)]
pub struct TranscribeArgs {
    /// Audio files to transcribe
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Model name from `stt models list`, or a directory with a Hugging Face Whisper model
    #[arg(long, short, env = "STT_MODEL")]
    pub model: Option<String>,
    /// Spoken language: auto, an ISO code (en, ar, de) or a locale (en-US, ar-AE)
    #[arg(long, short, default_value = "auto")]
    pub language: String,
    /// transcribe (keep the spoken language) or translate (to English)
    #[arg(long, default_value = "transcribe")]
    pub task: String,
    #[arg(long, short, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Write here instead of stdout; a directory when several files are given
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// CPU threads for inference (default: the CPUs this process may use)
    #[arg(long, short = 't')]
    pub threads: Option<usize>,
    /// Text that primes the decoder (names, spelling, vocabulary)
    #[arg(long)]
    pub prompt: Option<String>,
}

#[derive(Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub action: ModelsAction,
}

#[derive(Subcommand)]
pub enum ModelsAction {
    /// Show known and installed models
    List,
    /// Download, verify and import models from the manifest (runs scripts/fetch-models.sh)
    Fetch {
        /// Model names (default: the default model)
        names: Vec<String>,
    },
    /// Convert a CTranslate2 Whisper directory (model.bin, config.json, tokenizer.json) into the store
    Import {
        /// Name to install it under (a manifest name such as tiny.en or base)
        name: String,
        /// Directory holding the CTranslate2 files
        dir: PathBuf,
    },
    /// Print the model store directory
    Dir,
}
