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
    /// Serve the HTTP API (the replaced service's contract and OpenAI's audio API)
    Serve(ServeArgs),
    /// Time transcription with the model loaded once (per-file medians, RTF, peak memory)
    Bench(BenchArgs),
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
    /// Decode every window, even those where voice activity detection hears no speech
    #[arg(long)]
    pub no_vad: bool,
    /// Also translate non-English speech to English (on by default with --format json)
    #[arg(long, conflicts_with = "no_translate")]
    pub translate: bool,
    /// Skip the English translation pass (translated_text then repeats the transcript)
    #[arg(long)]
    pub no_translate: bool,
    /// Marian (opus-mt) directory for text translation to English; used when it covers
    /// the spoken language, else Whisper's translate task is used
    #[arg(long, env = "STT_TRANSLATION_MODEL")]
    pub translation_model: Option<std::path::PathBuf>,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Audio files to time (default: samples/jfk.flac)
    pub files: Vec<PathBuf>,
    /// Model name from `stt models list`, or a directory with a Hugging Face Whisper model
    #[arg(long, short, env = "STT_MODEL")]
    pub model: Option<String>,
    /// CPU threads for inference (default: the CPUs this process may use)
    #[arg(long, short = 't')]
    pub threads: Option<usize>,
    /// Timed runs per file; the median is reported
    #[arg(long, default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub runs: usize,
    /// Untimed runs per file before timing
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Spoken language: auto or an ISO code
    #[arg(long, short, default_value = "auto")]
    pub language: String,
    /// Decode every window, even those without detected speech
    #[arg(long)]
    pub no_vad: bool,
    /// Print the results as one JSON document
    #[arg(long)]
    pub json: bool,
    /// Worker mode for comparison scripts: read JSON requests ({"path": ...}) from stdin,
    /// answer one JSON line each
    #[arg(long)]
    pub stdin: bool,
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
        /// Store the linear weights as int8 with per-row scales (smaller, faster decoding
        /// on CPUs; see BENCHMARKS.md for the accuracy cost)
        #[arg(long)]
        int8: bool,
    },
    /// Make an int8 copy of an installed Whisper model (default name: NAME-int8)
    Quantize {
        /// Installed model name, or a Hugging Face Whisper directory
        name: String,
        /// Name for the quantized copy
        #[arg(long = "as")]
        to: Option<String>,
    },
    /// Print the model store directory
    Dir,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, env = "STT_HOST", default_value = "0.0.0.0")]
    pub host: String,
    #[arg(long, env = "STT_PORT", default_value_t = 8000)]
    pub port: u16,
    /// Model name from `stt models list`, or a directory with a Hugging Face Whisper model
    #[arg(long, short, env = "STT_MODEL")]
    pub model: Option<String>,
    /// Transcriptions run at the same time (default: the CPUs this process may use,
    /// cgroup CPU limit included)
    #[arg(long, env = "STT_WORKERS", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub workers: Option<usize>,
    /// CPU threads each transcription uses (default: CPUs / workers)
    #[arg(long, env = "STT_THREADS_PER_JOB", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub threads_per_job: Option<usize>,
    /// Requests one worker decodes together when a backlog builds up (1: one at a time)
    #[arg(long, env = "STT_STREAMS_PER_WORKER", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub streams_per_worker: u16,
    /// Requests that may wait for a worker; beyond that the answer is 503 + Retry-After
    #[arg(long, env = "STT_QUEUE_SIZE", default_value_t = 128)]
    pub queue_size: usize,
    /// Per-request time limit in seconds, queueing included (504 when it runs out)
    #[arg(long, env = "STT_REQUEST_TIMEOUT_S", default_value_t = 600)]
    pub request_timeout_s: u64,
    /// Seconds an upload may send nothing before it is refused (408): a stalled client
    /// must not hold a place that admitted requests need
    #[arg(long, env = "STT_UPLOAD_IDLE_TIMEOUT_S", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub upload_idle_timeout_s: u64,
    /// Largest upload accepted, in MiB (413 beyond, cut off while streaming)
    #[arg(long, env = "STT_MAX_FILE_SIZE_MB", default_value_t = 100)]
    pub max_file_size_mb: u64,
    /// Longest audio accepted, in minutes (413 beyond)
    #[arg(long, env = "STT_MAX_DURATION_MINUTES", default_value_t = 120.0)]
    pub max_duration_minutes: f64,
    /// Seconds to let in-flight requests finish after SIGTERM
    #[arg(long, env = "STT_SHUTDOWN_GRACE_S", default_value_t = 30)]
    pub shutdown_grace_s: u64,
    /// Reported by `GET /`
    #[arg(long, env = "STT_ENVIRONMENT", default_value = "production")]
    pub environment: String,
}
