//! Installing a fetched model into the store, atomically.
//!
//! Everything is written into a hidden staging directory inside the store root (same
//! filesystem, so the final `rename` is atomic), flushed to disk, then renamed to
//! `<store>/<name>`. A failed import removes its staging directory; a killed one leaves
//! it behind, hidden from [`ModelStore::installed`], and the next import deletes it once
//! the process that created it is gone.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::ct2_import::convert_whisper;
use super::error::{ModelError, Result};
use super::files::{copy_synced, sha256_file, sync_dir, write_synced};
use super::hf_layout::{hf_whisper_files, HF_WEIGHTS};
use super::manifest::{check_model_name, Manifest, ManifestEntry, ModelKind, SourceFormat};
use super::quantize::{quantize_safetensors, QuantizeSummary};
use super::store::ModelStore;

/// Name of the import record written into every imported model directory.
pub(crate) const IMPORT_RECORD: &str = "stt-import.json";

/// Prefixes of the importer's hidden directories in the store root.
const STAGING_PREFIX: &str = ".import-";
const REPLACED_PREFIX: &str = ".replaced-";

/// Where no `/proc` tells whether a staging directory's creator still runs, it is
/// considered abandoned after this long.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The record of how a model got into the store (`stt-import.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportInfo {
    pub name: String,
    pub kind: ModelKind,
    pub source_format: SourceFormat,
    /// The weights file that was imported (`model.bin`, or the safetensors file name).
    pub source_file: String,
    pub source_sha256: String,
    /// UTC, RFC 3339, second precision.
    pub imported_at: String,
    /// Whether `name` is a manifest model (whose checksum was then enforced).
    pub from_manifest: bool,
    /// Version of the engine that did the import.
    pub engine_version: String,
    /// `int8` when the linear weights were quantized (see [`super::quantize`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
}

#[cfg(test)]
impl ImportInfo {
    pub(crate) fn for_test(name: &str, kind: ModelKind) -> Self {
        ImportInfo {
            name: name.to_owned(),
            kind,
            source_format: SourceFormat::Safetensors,
            source_file: "x.safetensors".to_owned(),
            source_sha256: "0".repeat(64),
            imported_at: "2026-01-01T00:00:00Z".to_owned(),
            from_manifest: true,
            engine_version: "0.0.0".to_owned(),
            quantization: None,
        }
    }
}

/// Imports the model `name` from the fetched files in `src_dir` into `store`, replacing
/// an installed copy, and returns the installed directory.
///
/// For a Whisper model `src_dir` holds the CTranslate2 `model.bin`, `config.json` and
/// `tokenizer.json`; they are converted to the Hugging Face layout. For a VAD model it
/// holds the safetensors file the manifest names, which is copied. A manifest model's
/// weights must match the manifest checksum. A name not in the manifest is imported as
/// a custom CTranslate2 Whisper model, without checksum.
pub fn import(store: &ModelStore, name: &str, src_dir: &Path) -> Result<PathBuf> {
    import_with(store, Manifest::embedded()?, name, src_dir, false)
}

/// [`import`] of a Whisper model with its linear weights quantized to int8 (see
/// [`super::quantize`]); returns the installed directory.
pub fn import_quantized(store: &ModelStore, name: &str, src_dir: &Path) -> Result<PathBuf> {
    import_with(store, Manifest::embedded()?, name, src_dir, true)
}

/// Installs `dst_name`: a copy of the installed Whisper model (or Hugging Face directory)
/// `src_dir` with its linear weights quantized to int8.
pub fn quantize_installed(
    store: &ModelStore,
    src_dir: &Path,
    dst_name: &str,
) -> Result<(PathBuf, QuantizeSummary)> {
    check_model_name(dst_name).map_err(|reason| ModelError::InvalidName {
        name: dst_name.to_owned(),
        reason,
    })?;
    // Only Whisper checkpoints: a VAD or translation model has no linear layers to pack.
    if let Some(missing) = hf_whisper_files(src_dir).into_iter().find(|f| !f.is_file()) {
        return Err(ModelError::Unsupported {
            path: src_dir.to_path_buf(),
            message: format!(
                "only Whisper models can be quantized (no {})",
                missing.file_name().unwrap_or_default().to_string_lossy()
            ),
        });
    }
    // The float model must survive: never quantize over a manifest model or the source.
    let final_dir = store.model_dir(dst_name);
    let same_dir =
        final_dir.exists() && final_dir.canonicalize().ok() == src_dir.canonicalize().ok();
    if Manifest::embedded()?.get(dst_name).is_some() || same_dir {
        return Err(ModelError::InvalidName {
            name: dst_name.to_owned(),
            reason:
                "the quantized copy needs a name of its own (not the source or a manifest model)",
        });
    }
    let root = store.root();
    std::fs::create_dir_all(root).map_err(|e| ModelError::io("cannot create", root, e))?;
    remove_abandoned(root);
    let staging = tempfile::Builder::new()
        .prefix(&format!(
            "{STAGING_PREFIX}{}-{dst_name}-",
            std::process::id()
        ))
        .tempdir_in(root)
        .map_err(|e| ModelError::io("cannot create a staging directory in", root, e))?;
    for file in ["config.json", "generation_config.json", "tokenizer.json"] {
        let src = src_dir.join(file);
        if src.is_file() {
            copy_synced(&src, &staging.path().join(file))?;
        }
    }
    let weights = src_dir.join(HF_WEIGHTS);
    let summary = quantize_safetensors(&weights, &staging.path().join(HF_WEIGHTS))?;
    let previous: Option<ImportInfo> = std::fs::read(src_dir.join(IMPORT_RECORD))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let info = ImportInfo {
        name: dst_name.to_owned(),
        kind: ModelKind::Whisper,
        source_format: previous
            .as_ref()
            .map_or(SourceFormat::Safetensors, |p| p.source_format),
        source_file: previous
            .as_ref()
            .map_or_else(|| HF_WEIGHTS.to_owned(), |p| p.source_file.clone()),
        source_sha256: match &previous {
            Some(p) => p.source_sha256.clone(),
            None => sha256_file(&weights)?,
        },
        imported_at: rfc3339_utc(SystemTime::now()),
        from_manifest: false,
        engine_version: env!("CARGO_PKG_VERSION").to_owned(),
        quantization: Some("int8".to_owned()),
    };
    write_record(staging.path(), &info)?;
    install(root, staging, &final_dir, dst_name)?;
    Ok((final_dir, summary))
}

fn write_record(dir: &Path, info: &ImportInfo) -> Result<()> {
    let mut record = serde_json::to_vec_pretty(info).map_err(|e| ModelError::Json {
        path: dir.join(IMPORT_RECORD),
        message: e.to_string(),
    })?;
    record.push(b'\n');
    write_synced(&dir.join(IMPORT_RECORD), &record)?;
    sync_dir(dir);
    Ok(())
}

fn import_with(
    store: &ModelStore,
    manifest: &Manifest,
    name: &str,
    src_dir: &Path,
    int8: bool,
) -> Result<PathBuf> {
    check_model_name(name).map_err(|reason| ModelError::InvalidName {
        name: name.to_owned(),
        reason,
    })?;
    if !src_dir.is_dir() {
        return Err(ModelError::io(
            "cannot import from",
            src_dir,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    let entry = manifest.get(name);
    let root = store.root();
    std::fs::create_dir_all(root).map_err(|e| ModelError::io("cannot create", root, e))?;
    remove_abandoned(root);

    let staging = tempfile::Builder::new()
        .prefix(&format!("{STAGING_PREFIX}{}-{name}-", std::process::id()))
        .tempdir_in(root)
        .map_err(|e| ModelError::io("cannot create a staging directory in", root, e))?;
    let mut info = match entry {
        Some(vad) if vad.kind == ModelKind::Vad => stage_vad(vad, src_dir, staging.path())?,
        _ => stage_whisper(entry, name, src_dir, staging.path())?,
    };
    if int8 {
        if info.kind != ModelKind::Whisper {
            return Err(ModelError::Unsupported {
                path: src_dir.to_path_buf(),
                message: format!("{name}: only Whisper models can be quantized"),
            });
        }
        let weights = staging.path().join(HF_WEIGHTS);
        let float = staging.path().join("float.safetensors");
        std::fs::rename(&weights, &float)
            .map_err(|e| ModelError::io("cannot rename", &weights, e))?;
        let summary = quantize_safetensors(&float, &weights)?;
        std::fs::remove_file(&float).map_err(|e| ModelError::io("cannot remove", &float, e))?;
        tracing::info!(model = name, ?summary, "quantized to int8");
        info.quantization = Some("int8".to_owned());
    }
    write_record(staging.path(), &info)?;

    let final_dir = store.model_dir(name);
    install(root, staging, &final_dir, name)?;
    tracing::info!(model = name, dir = %final_dir.display(), "model imported");
    Ok(final_dir)
}

fn stage_whisper(
    entry: Option<&ManifestEntry>,
    name: &str,
    src_dir: &Path,
    staging: &Path,
) -> Result<ImportInfo> {
    let expected = entry.and_then(|e| e.weights_file()).map(|(_, sha)| sha);
    let converted = convert_whisper(src_dir, staging, expected)?;
    tracing::debug!(model = name, dims = ?converted.dims, tensors = converted.tensors, "converted");
    Ok(ImportInfo {
        name: name.to_owned(),
        kind: ModelKind::Whisper,
        source_format: SourceFormat::Ctranslate2,
        source_file: "model.bin".to_owned(),
        source_sha256: converted.source_sha256,
        imported_at: rfc3339_utc(SystemTime::now()),
        from_manifest: entry.is_some(),
        engine_version: env!("CARGO_PKG_VERSION").to_owned(),
        quantization: None,
    })
}

fn stage_vad(entry: &ManifestEntry, src_dir: &Path, staging: &Path) -> Result<ImportInfo> {
    // Manifest validation guarantees a VAD entry names exactly one safetensors file.
    let Some((file, expected)) = entry.weights_file() else {
        return Err(ModelError::Manifest(format!(
            "model '{}' names no weights file",
            entry.name
        )));
    };
    let src = src_dir.join(file);
    if !src.is_file() {
        return Err(ModelError::NotAModelDir {
            path: src_dir.to_path_buf(),
            missing: file.to_owned(),
        });
    }
    let actual = sha256_file(&src)?;
    if actual != expected {
        return Err(ModelError::Checksum {
            path: src,
            expected: expected.to_owned(),
            actual,
        });
    }
    let dst = staging.join(HF_WEIGHTS);
    copy_synced(&src, &dst)?;
    check_safetensors(&dst)?;
    Ok(ImportInfo {
        name: entry.name.clone(),
        kind: ModelKind::Vad,
        source_format: SourceFormat::Safetensors,
        source_file: file.to_owned(),
        source_sha256: actual,
        imported_at: rfc3339_utc(SystemTime::now()),
        from_manifest: true,
        engine_version: env!("CARGO_PKG_VERSION").to_owned(),
        quantization: None,
    })
}

/// Parses the safetensors header so a damaged file is refused at import, not at load.
fn check_safetensors(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io("cannot read", path, e))?;
    safetensors::SafeTensors::deserialize(&bytes)
        .map(|_| ())
        .map_err(|e| ModelError::Safetensors {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Moves the staged directory to `final_dir`, replacing any installed copy.
fn install(root: &Path, staging: tempfile::TempDir, final_dir: &Path, name: &str) -> Result<()> {
    let staged = staging.path().to_path_buf();
    if std::fs::symlink_metadata(final_dir).is_ok() {
        // rename() cannot replace a non-empty directory, so move the old copy aside
        // first; if the second rename fails the old copy is put back.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let aside = root.join(format!(
            "{REPLACED_PREFIX}{}-{name}-{nanos}",
            std::process::id()
        ));
        std::fs::rename(final_dir, &aside)
            .map_err(|e| ModelError::io("cannot move aside", final_dir, e))?;
        if let Err(e) = std::fs::rename(&staged, final_dir) {
            let _ = std::fs::rename(&aside, final_dir);
            return Err(ModelError::io("cannot install", final_dir, e));
        }
        // The staging path no longer exists; keep() just stops TempDir from looking.
        let _ = staging.keep();
        if let Err(e) = std::fs::remove_dir_all(&aside) {
            tracing::warn!(dir = %aside.display(), error = %e, "cannot remove the replaced model");
        }
    } else {
        std::fs::rename(&staged, final_dir)
            .map_err(|e| ModelError::io("cannot install", final_dir, e))?;
        let _ = staging.keep();
    }
    sync_dir(root);
    Ok(())
}

/// The pid encoded in a staging or replaced directory name.
fn owner_pid(dir_name: &str) -> Option<u32> {
    let rest = dir_name
        .strip_prefix(STAGING_PREFIX)
        .or_else(|| dir_name.strip_prefix(REPLACED_PREFIX))?;
    rest.split('-').next()?.parse().ok()
}

/// `Some(alive)` where the OS can tell (Linux `/proc`), `None` elsewhere.
fn process_alive(pid: u32) -> Option<bool> {
    Path::new("/proc/self")
        .exists()
        .then(|| Path::new("/proc").join(pid.to_string()).exists())
}

/// Deletes staging directories left by killed imports. Best effort: a failure here must
/// not stop the import that is starting.
fn remove_abandoned(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        // Another thread of this process may be importing right now.
        if pid == own {
            continue;
        }
        let abandoned = match process_alive(pid) {
            Some(alive) => !alive,
            None => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_AFTER),
        };
        if abandoned {
            let path = entry.path();
            match std::fs::remove_dir_all(&path) {
                Ok(()) => tracing::info!(dir = %path.display(), "removed an abandoned import"),
                Err(e) => {
                    tracing::warn!(dir = %path.display(), error = %e, "cannot remove an abandoned import")
                }
            }
        }
    }
}

/// Formats a time as `YYYY-MM-DDTHH:MM:SSZ` (UTC) without a date library.
fn rfc3339_utc(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01, computed through 400-year
/// eras that start on March 1st so the leap day falls at the end of the year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::test_support::TinyWhisper;

    fn hidden_entries(root: &Path) -> Vec<String> {
        std::fs::read_dir(root)
            .unwrap()
            .filter_map(|e| e.unwrap().file_name().into_string().ok())
            .filter(|n| n.starts_with('.'))
            .collect()
    }

    #[test]
    fn imports_a_custom_whisper_model() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        let fixture = TinyWhisper::english();
        fixture.write_source_dir(&src);
        let store = ModelStore::new(tmp.path().join("store"));

        let dir = import(&store, "my-model", &src).unwrap();
        assert_eq!(dir, store.model_dir("my-model"));
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                "config.json",
                "generation_config.json",
                "model.safetensors",
                "stt-import.json",
                "tokenizer.json"
            ]
        );
        assert!(hidden_entries(store.root()).is_empty());

        let installed = store.installed().unwrap();
        assert_eq!(installed.len(), 1);
        let info = installed[0].import.clone().unwrap();
        assert_eq!(info.name, "my-model");
        assert_eq!(info.kind, ModelKind::Whisper);
        assert_eq!(info.source_format, SourceFormat::Ctranslate2);
        assert_eq!(
            info.source_sha256,
            crate::models::files::sha256_hex(&fixture.model_bin())
        );
        assert!(!info.from_manifest);
        assert_eq!(info.imported_at.len(), "2026-01-01T00:00:00Z".len());
        let resolved = store.resolve("my-model").unwrap();
        assert_eq!(resolved.kind, ModelKind::Whisper);
    }

    #[test]
    fn failed_import_leaves_nothing_and_keeps_the_old_model() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        TinyWhisper::english().write_source_dir(&src);
        let store = ModelStore::new(tmp.path().join("store"));

        // First import into an empty store fails: no model dir, no staging left.
        let bin = std::fs::read(src.join("model.bin")).unwrap();
        std::fs::write(src.join("model.bin"), &bin[..bin.len() / 2]).unwrap();
        let err = import(&store, "m", &src).unwrap_err();
        assert!(matches!(err, ModelError::Ct2Format { .. }), "{err}");
        assert!(!store.model_dir("m").exists());
        assert!(hidden_entries(store.root()).is_empty());

        // A good import, then a failing re-import: the good one survives untouched.
        std::fs::write(src.join("model.bin"), &bin).unwrap();
        import(&store, "m", &src).unwrap();
        let before = std::fs::read(store.model_dir("m").join("model.safetensors")).unwrap();
        std::fs::write(src.join("tokenizer.json"), "{broken").unwrap();
        assert!(import(&store, "m", &src).is_err());
        let after = std::fs::read(store.model_dir("m").join("model.safetensors")).unwrap();
        assert_eq!(before, after);
        assert!(hidden_entries(store.root()).is_empty());
        assert_eq!(store.installed().unwrap().len(), 1);
    }

    #[test]
    fn reimport_replaces_the_installed_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ModelStore::new(tmp.path().join("store"));
        let en = tmp.path().join("en");
        TinyWhisper::english().write_source_dir(&en);
        let multi = tmp.path().join("multi");
        TinyWhisper::multilingual().write_source_dir(&multi);

        import(&store, "m", &en).unwrap();
        std::fs::write(store.model_dir("m").join("leftover"), "x").unwrap();
        import(&store, "m", &multi).unwrap();
        let config = std::fs::read_to_string(store.model_dir("m").join("config.json")).unwrap();
        assert!(config.contains("51865"));
        assert!(!store.model_dir("m").join("leftover").exists());
        assert!(hidden_entries(store.root()).is_empty());
    }

    #[test]
    fn abandoned_staging_is_ignored_then_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ModelStore::new(tmp.path().join("store"));
        // pid_max on Linux is at most 2^22, so this creator is certainly gone.
        let dead = store.root().join(".import-999999999-m-abc");
        let dead_aside = store.root().join(".replaced-999999999-m-1");
        let ours = store
            .root()
            .join(format!(".import-{}-m-live", std::process::id()));
        for dir in [&dead, &dead_aside, &ours] {
            std::fs::create_dir_all(dir).unwrap();
            for f in ["config.json", "model.safetensors", "tokenizer.json"] {
                std::fs::write(dir.join(f), "half").unwrap();
            }
        }
        assert!(store.installed().unwrap().is_empty());
        assert!(store.resolve("m").is_err());

        let src = tmp.path().join("src");
        TinyWhisper::english().write_source_dir(&src);
        import(&store, "m", &src).unwrap();
        assert!(!dead.exists());
        assert!(!dead_aside.exists());
        assert!(
            ours.exists(),
            "a live importer's staging must be left alone"
        );
    }

    #[test]
    fn manifest_checksums_are_enforced() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        TinyWhisper::english().write_source_dir(&src);
        let store = ModelStore::new(tmp.path().join("store"));
        let err = import(&store, "tiny.en", &src).unwrap_err();
        assert!(matches!(err, ModelError::Checksum { .. }), "{err}");
        assert!(
            err.to_string().contains("expected sha256 1a5afae0"),
            "{err}"
        );
        assert!(!store.model_dir("tiny.en").exists());
    }

    fn vad_manifest(sha: &str) -> Manifest {
        let text = format!(
            r#"
            schema = 1
            [[model]]
            name = "w"
            kind = "whisper"
            default = true
            format = "ctranslate2"
            languages = ["en"]
            description = "d"
            [[model.package]]
            name = "w"
            version = "1"
            wheel = "w-1-py3-none-any.whl"
            sha256 = "{zero}"
            [[model.package.file]]
            path = "w/model.bin"
            sha256 = "{zero}"
            as = "model.bin"
            [[model.package.file]]
            path = "w/config.json"
            sha256 = "{zero}"
            as = "config.json"
            [[model.package.file]]
            path = "w/tokenizer.json"
            sha256 = "{zero}"
            as = "tokenizer.json"
            [[model]]
            name = "vad"
            kind = "vad"
            format = "safetensors"
            description = "d"
            [[model.package]]
            name = "v"
            version = "1"
            wheel = "v-1-py3-none-any.whl"
            sha256 = "{zero}"
            [[model.package.file]]
            path = "v/data/v16k.safetensors"
            sha256 = "{sha}"
            as = "v16k.safetensors"
            "#,
            zero = "0".repeat(64),
        );
        Manifest::parse(&text).unwrap()
    }

    #[test]
    fn imports_a_vad_model() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        let weights: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &weights)
            .unwrap();
        let bytes = safetensors::serialize([("w", view)], None).unwrap();
        std::fs::write(src.join("v16k.safetensors"), &bytes).unwrap();
        let store = ModelStore::new(tmp.path().join("store"));

        let sha = crate::models::files::sha256_hex(&bytes);
        let dir = import_with(&store, &vad_manifest(&sha), "vad", &src, false).unwrap();
        assert_eq!(std::fs::read(dir.join("model.safetensors")).unwrap(), bytes);
        let info: ImportInfo =
            serde_json::from_str(&std::fs::read_to_string(dir.join(IMPORT_RECORD)).unwrap())
                .unwrap();
        assert_eq!(info.kind, ModelKind::Vad);
        assert_eq!(info.source_file, "v16k.safetensors");

        // A wrong checksum, and a file that is not safetensors, are both refused.
        let err =
            import_with(&store, &vad_manifest(&"1".repeat(64)), "vad", &src, false).unwrap_err();
        assert!(matches!(err, ModelError::Checksum { .. }), "{err}");
        std::fs::write(src.join("v16k.safetensors"), b"garbage").unwrap();
        let garbage_sha = crate::models::files::sha256_hex(b"garbage");
        let err = import_with(&store, &vad_manifest(&garbage_sha), "vad", &src, false).unwrap_err();
        assert!(matches!(err, ModelError::Safetensors { .. }), "{err}");
        assert!(hidden_entries(store.root()).is_empty());
    }

    #[test]
    fn bad_names_and_sources_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ModelStore::new(tmp.path().join("store"));
        for bad in ["../x", ".hidden", "a/b", ""] {
            let err = import(&store, bad, tmp.path()).unwrap_err();
            assert!(
                matches!(err, ModelError::InvalidName { .. }),
                "{bad}: {err}"
            );
        }
        let err = import(&store, "m", &tmp.path().join("missing")).unwrap_err();
        assert!(err.to_string().starts_with("cannot import from"), "{err}");
        let empty = tmp.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let err = import(&store, "m", &empty).unwrap_err();
        assert!(
            err.to_string()
                .contains("missing model.bin, config.json, tokenizer.json"),
            "{err}"
        );
    }

    #[test]
    fn dates_are_formatted_in_utc() {
        let at = |secs: u64| rfc3339_utc(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(4_102_444_800), "2100-01-01T00:00:00Z");
    }

    #[test]
    fn owner_pids_are_parsed() {
        assert_eq!(owner_pid(".import-123-tiny.en-XYZ"), Some(123));
        assert_eq!(owner_pid(".replaced-9-base-5"), Some(9));
        assert_eq!(owner_pid(".import-x-m"), None);
        assert_eq!(owner_pid("tiny.en"), None);
    }

    #[test]
    fn quantizing_refuses_non_whisper_models_and_names_that_would_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path().join("store"));
        let vad = dir.path().join("vad");
        std::fs::create_dir_all(&vad).unwrap();
        std::fs::write(vad.join(HF_WEIGHTS), b"not used").unwrap();
        let err = quantize_installed(&store, &vad, "vad-int8").unwrap_err();
        assert!(matches!(err, ModelError::Unsupported { .. }), "{err}");
        let whisper = dir.path().join("whisper");
        std::fs::create_dir_all(&whisper).unwrap();
        for f in hf_whisper_files(&whisper) {
            std::fs::write(f, b"{}").unwrap();
        }
        let err = quantize_installed(&store, &whisper, "tiny.en").unwrap_err();
        assert!(matches!(err, ModelError::InvalidName { .. }), "{err}");
        assert!(!store.model_dir("tiny.en").exists());
    }
}
