//! The model store: one directory per installed model under a root chosen by the
//! environment, and resolution of what the user typed (a name or a path) to a model.
//!
//! Entries whose names start with `.` are importer scratch space (see `import.rs`) and are
//! never reported as models, so a killed import cannot show up half-written.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::error::{ModelError, Result};
use super::hf_layout::{
    hf_whisper_files, HF_CONFIG, HF_GENERATION_CONFIG, HF_TOKENIZER, HF_WEIGHTS,
};
use super::import::{ImportInfo, IMPORT_RECORD};
use super::manifest::{check_model_name, Manifest, ModelKind};

/// Directory holding installed models, one subdirectory per model name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelStore {
    root: PathBuf,
}

/// A model found in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledModel {
    pub name: String,
    pub dir: PathBuf,
    pub kind: ModelKind,
    /// The import record; `None` for a Hugging Face directory copied in by hand.
    pub import: Option<ImportInfo>,
}

/// A model ready to load: the directory and what kind of model it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedModel {
    /// The store name, or the directory's own name for a model given by path.
    pub name: String,
    pub dir: PathBuf,
    pub kind: ModelKind,
    /// True when found in the store, false when given as a directory path.
    pub from_store: bool,
}

impl ResolvedModel {
    /// Hugging Face `config.json` (Whisper only).
    pub fn config_path(&self) -> PathBuf {
        self.dir.join(HF_CONFIG)
    }

    /// Hugging Face `generation_config.json` (Whisper imported by stt; optional otherwise).
    pub fn generation_config_path(&self) -> PathBuf {
        self.dir.join(HF_GENERATION_CONFIG)
    }

    /// The weights: `model.safetensors` for every kind.
    pub fn weights_path(&self) -> PathBuf {
        self.dir.join(HF_WEIGHTS)
    }

    /// `tokenizer.json` (Whisper only).
    pub fn tokenizer_path(&self) -> PathBuf {
        self.dir.join(HF_TOKENIZER)
    }
}

/// Whether `dir` holds a Hugging Face Whisper model (config, weights, tokenizer).
fn has_hf_whisper_layout(dir: &Path) -> bool {
    hf_whisper_files(dir).iter().all(|f| f.is_file())
}

/// What a store subdirectory holds, or `None` if it is not a complete model.
fn inspect(dir: &Path) -> Option<(ModelKind, Option<ImportInfo>)> {
    let record = dir.join(IMPORT_RECORD);
    let info = std::fs::read_to_string(&record)
        .ok()
        .and_then(|text| serde_json::from_str::<ImportInfo>(&text).ok());
    match info {
        Some(info) => {
            let complete = match info.kind {
                ModelKind::Whisper => has_hf_whisper_layout(dir),
                ModelKind::Vad => dir.join(HF_WEIGHTS).is_file(),
            };
            complete.then_some((info.kind, Some(info)))
        }
        None => has_hf_whisper_layout(dir).then_some((ModelKind::Whisper, None)),
    }
}

/// The store root from environment lookups (split out so tests need not touch the real
/// environment, which is process-global).
fn root_from(lookup: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf> {
    // Per the XDG base directory spec, empty or relative values are to be ignored.
    let absolute = |key: &str| lookup(key).map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(dir) = lookup("STT_MODELS_DIR").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(data) = absolute("XDG_DATA_HOME") {
        return Ok(data.join("stt").join("models"));
    }
    if let Some(home) = absolute("HOME") {
        return Ok(home.join(".local").join("share").join("stt").join("models"));
    }
    Err(ModelError::NoStoreLocation)
}

impl ModelStore {
    /// A store rooted at `root` (created on the first import).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ModelStore { root: root.into() }
    }

    /// The store named by `STT_MODELS_DIR`, else `$XDG_DATA_HOME/stt/models`, else
    /// `$HOME/.local/share/stt/models`. `scripts/fetch-models.sh` applies the same rule.
    pub fn from_env() -> Result<Self> {
        root_from(|key| std::env::var_os(key)).map(ModelStore::new)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the model called `name` lives (whether or not it is installed).
    pub fn model_dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Complete models in the store, sorted by name. A missing root means none.
    pub fn installed(&self) -> Result<Vec<InstalledModel>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ModelError::io("cannot list", &self.root, e)),
        };
        let mut models = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| ModelError::io("cannot list", &self.root, e))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            // Also skips the importer's hidden staging directories.
            if check_model_name(&name).is_err() {
                continue;
            }
            let dir = entry.path();
            if !dir.is_dir() {
                continue;
            }
            if let Some((kind, import)) = inspect(&dir) {
                models.push(InstalledModel {
                    name,
                    dir,
                    kind,
                    import,
                });
            }
        }
        models.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(models)
    }

    /// Resolves what a user typed: a directory holding a Hugging Face Whisper model is
    /// used as is; otherwise the name is looked up in the store. A manifest model that is
    /// not installed, and an unknown name, give errors saying what to do.
    pub fn resolve(&self, name_or_path: &str) -> Result<ResolvedModel> {
        let path = Path::new(name_or_path);
        if path.is_dir() && has_hf_whisper_layout(path) {
            let name = path
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| name_or_path.to_owned());
            return Ok(ResolvedModel {
                name,
                dir: path.to_path_buf(),
                kind: ModelKind::Whisper,
                from_store: false,
            });
        }

        let manifest = Manifest::embedded()?;
        if check_model_name(name_or_path).is_ok() {
            let dir = self.model_dir(name_or_path);
            if let Some((kind, _)) = inspect(&dir) {
                return Ok(ResolvedModel {
                    name: name_or_path.to_owned(),
                    dir,
                    kind,
                    from_store: true,
                });
            }
            if manifest.get(name_or_path).is_some() {
                return Err(ModelError::NotInstalled {
                    name: name_or_path.to_owned(),
                    store: self.root.clone(),
                });
            }
        }

        if path.is_dir() {
            let missing: Vec<String> = hf_whisper_files(path)
                .iter()
                .filter(|f| !f.is_file())
                .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            return Err(ModelError::NotAModelDir {
                path: path.to_path_buf(),
                missing: missing.join(", "),
            });
        }
        if name_or_path.contains(std::path::MAIN_SEPARATOR) || name_or_path.contains('/') {
            return Err(ModelError::io(
                "no model directory at",
                path,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        }
        let mut known: Vec<String> = manifest.names().into_iter().map(str::to_owned).collect();
        for model in self.installed().unwrap_or_default() {
            if !known.contains(&model.name) {
                known.push(model.name);
            }
        }
        Err(ModelError::UnknownModel {
            name: name_or_path.to_owned(),
            known: known.join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| {
            vars.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn store_location_follows_the_environment() {
        let all = [
            ("STT_MODELS_DIR", "/m"),
            ("XDG_DATA_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(root_from(env(&all)).unwrap(), PathBuf::from("/m"));
        assert_eq!(
            root_from(env(&all[1..])).unwrap(),
            PathBuf::from("/x/stt/models")
        );
        assert_eq!(
            root_from(env(&all[2..])).unwrap(),
            PathBuf::from("/h/.local/share/stt/models")
        );
        let ignored = [
            ("STT_MODELS_DIR", ""),
            ("XDG_DATA_HOME", "rel"),
            ("HOME", "/h"),
        ];
        assert_eq!(
            root_from(env(&ignored)).unwrap(),
            PathBuf::from("/h/.local/share/stt/models")
        );
        assert!(matches!(
            root_from(env(&[])),
            Err(ModelError::NoStoreLocation)
        ));
    }

    /// A Hugging Face Whisper directory with placeholder files.
    fn fake_hf_model(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        for f in ["config.json", "model.safetensors", "tokenizer.json"] {
            std::fs::write(dir.join(f), "x").unwrap();
        }
    }

    #[test]
    fn installed_lists_complete_models_only() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ModelStore::new(tmp.path().join("store"));
        assert_eq!(store.installed().unwrap(), vec![]);

        fake_hf_model(&store.model_dir("tiny.en"));
        fake_hf_model(&store.model_dir(".import-1234-tiny.en-abc")); // killed import
        std::fs::create_dir_all(store.model_dir("empty")).unwrap();
        std::fs::write(store.root().join("stray-file"), "x").unwrap();
        let incomplete = store.model_dir("base");
        fake_hf_model(&incomplete);
        std::fs::remove_file(incomplete.join("tokenizer.json")).unwrap();

        let installed = store.installed().unwrap();
        let names: Vec<&str> = installed.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, vec!["tiny.en"]);
        assert_eq!(installed[0].kind, ModelKind::Whisper);
        assert_eq!(installed[0].import, None);
    }

    #[test]
    fn resolves_paths_and_names() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ModelStore::new(tmp.path().join("store"));

        // A Hugging Face directory given by path is used as is.
        let outside = tmp.path().join("my-whisper");
        fake_hf_model(&outside);
        let r = store.resolve(outside.to_str().unwrap()).unwrap();
        assert_eq!(r.dir, outside);
        assert_eq!(r.name, "my-whisper");
        assert!(!r.from_store);
        assert_eq!(r.weights_path(), outside.join("model.safetensors"));

        // An installed manifest model.
        fake_hf_model(&store.model_dir("tiny.en"));
        let r = store.resolve("tiny.en").unwrap();
        assert_eq!(r.dir, store.model_dir("tiny.en"));
        assert!(r.from_store);
        assert_eq!(
            r.tokenizer_path(),
            store.model_dir("tiny.en").join("tokenizer.json")
        );
        assert_eq!(
            r.config_path(),
            store.model_dir("tiny.en").join("config.json")
        );

        // A custom model imported under its own name.
        fake_hf_model(&store.model_dir("my-finetune"));
        assert_eq!(store.resolve("my-finetune").unwrap().name, "my-finetune");

        // Known but not installed.
        let err = store.resolve("base").unwrap_err().to_string();
        assert!(err.contains("'base' is not installed"), "{err}");
        assert!(err.contains("scripts/fetch-models.sh base"), "{err}");

        // Unknown names list the manifest and installed models.
        let err = store.resolve("large-v9").unwrap_err().to_string();
        assert!(
            err.contains(
                "unknown model 'large-v9' (known models: tiny.en, base, silero-vad, my-finetune)"
            ),
            "{err}"
        );

        // A directory that is not a Hugging Face model says what is missing.
        let ct2 = tmp.path().join("ct2");
        std::fs::create_dir_all(&ct2).unwrap();
        std::fs::write(ct2.join("config.json"), "{}").unwrap();
        let err = store
            .resolve(ct2.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing model.safetensors, tokenizer.json"),
            "{err}"
        );

        let err = store
            .resolve(tmp.path().join("nope").to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("no model directory at"), "{err}");
    }

    #[test]
    fn import_record_decides_the_kind() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ModelStore::new(tmp.path());
        let dir = store.model_dir("silero-vad");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("model.safetensors"), "x").unwrap();
        // Without a record a lone safetensors file is not recognised.
        assert!(store.resolve("silero-vad").is_err());
        let info = ImportInfo::for_test("silero-vad", ModelKind::Vad);
        std::fs::write(
            dir.join(IMPORT_RECORD),
            serde_json::to_string(&info).unwrap(),
        )
        .unwrap();
        let r = store.resolve("silero-vad").unwrap();
        assert_eq!(r.kind, ModelKind::Vad);
        let installed = store.installed().unwrap();
        assert_eq!(installed[0].import.as_ref(), Some(&info));
    }
}
