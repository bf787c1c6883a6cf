//! `stt models`: list the store and the manifest, fetch (via the project's fetch
//! script), import CTranslate2 weights; and model resolution for the other commands.

use crate::cli::{ModelsAction, ModelsArgs};
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use stt_engine::models::{self, Manifest, ModelStore};
use stt_engine::translate;
use stt_engine::WhisperModel;

/// The fetch script of the checkout this binary was built from (or `STT_FETCH_SCRIPT`).
fn fetch_script() -> Option<PathBuf> {
    std::env::var_os("STT_FETCH_SCRIPT")
        .map(PathBuf::from)
        .or_else(|| {
            Some(PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../scripts/fetch-models.sh"
            )))
        })
        .filter(|p| p.is_file())
}

fn fetch(store: &ModelStore, names: &[String]) -> Result<()> {
    let Some(script) = fetch_script() else {
        bail!(
            "the fetch script is not available next to this binary; run scripts/fetch-models.sh {} from an stt checkout, or set STT_FETCH_SCRIPT",
            names.join(" ")
        );
    };
    let exe = std::env::current_exe().context("cannot locate the stt binary")?;
    let status = Command::new("bash")
        .arg(&script)
        .args(names)
        .env("STT_BIN", exe)
        .env("STT_MODELS_DIR", store.root())
        // Keep stdout clean for transcripts: the script reports on stderr.
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", script.display()))?;
    if !status.success() {
        bail!(
            "fetching {} failed (see the messages above)",
            names.join(" ")
        );
    }
    Ok(())
}

/// Resolves a model name or directory; a known model that is not installed yet is fetched.
pub fn resolve_model_dir(name_or_path: Option<&str>) -> Result<PathBuf> {
    let store = ModelStore::from_env()?;
    let manifest = Manifest::embedded()?;
    let name = name_or_path.unwrap_or(&manifest.default_model().name);
    match store.resolve(name) {
        Ok(resolved) => Ok(resolved.dir),
        Err(models::ModelError::NotInstalled { .. }) => {
            eprintln!("model {name} is not installed yet: fetching it (once)");
            fetch(&store, &[name.to_string()])?;
            Ok(store.resolve(name)?.dir)
        }
        Err(e) => Err(e.into()),
    }
}

/// The voice activity detector that gates Whisper; fetched with the first model.
const VAD_MODEL: &str = "silero-vad";

pub fn load_model(name_or_path: Option<&str>) -> Result<WhisperModel> {
    load_model_with(name_or_path, true)
}

/// Loads a Whisper model, with the voice activity detector attached when `vad` is set.
pub fn load_model_with(name_or_path: Option<&str>, vad: bool) -> Result<WhisperModel> {
    let dir = resolve_model_dir(name_or_path)?;
    let model = WhisperModel::load(&dir, &stt_engine::default_device())?;
    if !vad {
        return Ok(model);
    }
    let vad_dir = resolve_model_dir(Some(VAD_MODEL))?;
    Ok(model.with_vad(&vad_dir.join("model.safetensors"))?)
}

pub fn run(args: ModelsArgs) -> Result<ExitCode> {
    let store = ModelStore::from_env()?;
    match args.action {
        ModelsAction::Dir => println!("{}", store.root().display()),
        ModelsAction::List => {
            let manifest = Manifest::embedded()?;
            let installed = store.installed()?;
            println!("model store: {}", store.root().display());
            for entry in manifest.entries() {
                let here = installed.iter().any(|m| m.name == entry.name);
                let mut status = if here { "installed" } else { "not installed" }.to_string();
                if entry.default {
                    status.push_str(", default");
                }
                println!(
                    "  {:<12} {:<8} {:<24} {}",
                    entry.name,
                    entry.kind.to_string(),
                    status,
                    entry.description
                );
            }
            // Marian (opus-mt) directories placed in the store translate text to English.
            let entries = std::fs::read_dir(store.root())
                .into_iter()
                .flatten()
                .flatten();
            for dir in entries
                .map(|e| e.path())
                .filter(|p| translate::is_translation_model(p))
            {
                let name = dir
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                match translate::TranslationModelInfo::read(&dir) {
                    Ok(info) => println!(
                        "  {:<12} {:<8} {:<24} {} -> {}",
                        name,
                        "marian",
                        "installed",
                        info.source_languages.join(","),
                        info.target_languages.join(",")
                    ),
                    Err(e) => println!("  {name:<12} marian   unusable: {e}"),
                }
            }
            for m in installed.iter().filter(|m| manifest.get(&m.name).is_none()) {
                println!(
                    "  {:<12} {:<8} installed (custom import)",
                    m.name,
                    m.kind.to_string()
                );
            }
        }
        ModelsAction::Fetch { names } => {
            let names = if names.is_empty() {
                vec![Manifest::embedded()?.default_model().name.clone()]
            } else {
                names
            };
            fetch(&store, &names)?;
        }
        ModelsAction::Import { name, dir, int8 } => {
            let installed = if int8 {
                models::import_quantized(&store, &name, &dir)?
            } else {
                models::import(&store, &name, &dir)?
            };
            println!("imported {name} into {}", installed.display());
        }
        ModelsAction::Quantize { name, to } => {
            let src = resolve_model_dir(Some(&name))?;
            let to = to.unwrap_or_else(|| format!("{name}-int8"));
            let (installed, summary) = models::quantize_installed(&store, &src, &to)?;
            println!(
                "quantized {name} to int8 as {to} in {}: {} weight matrices, {:.1} MB -> {:.1} MB",
                installed.display(),
                summary.quantized_tensors,
                summary.bytes_before as f64 / 1e6,
                summary.bytes_after as f64 / 1e6
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
