//! What a translation model directory is, without loading its weights.
//!
//! `stt models` lists translation models with their language pairs, and the pipeline
//! picks the model that covers (spoken language → English). The pair comes from, in
//! order of trust:
//! 1. `stt-translation.json`, written by stt (or by hand) next to the model:
//!    `{"model_type": "marian", "source_languages": ["ar"], "target_languages": ["en"]}`;
//! 2. `tokenizer_config.json`'s `source_lang` / `target_lang` (set by many opus-mt
//!    conversions);
//! 3. the opus-mt name, from config.json's `_name_or_path` or the directory name:
//!    `opus-mt-SRC-TGT`, optionally `Helsinki-NLP/`-prefixed and with a `tc-big-` /
//!    `tc-base-` size tag (`opus-mt-ar-en`, `opus-mt-tc-big-ar-en`).
//!
//! Group codes (`mul`, `ROMANCE`, `sem`, ...) are reported as they are, lower-cased; they
//! do not claim to cover a particular language, so such a model needs an explicit
//! `stt-translation.json` listing its languages to be picked automatically.

use super::config::ModelConfig;
use super::error::{Result, TranslateError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file stt reads (and writes) to state a translation model's languages.
pub const INFO_FILE: &str = "stt-translation.json";

/// Where the language pair of a model was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PairSource {
    /// `stt-translation.json`.
    InfoFile,
    /// `tokenizer_config.json` (`source_lang`, `target_lang`).
    TokenizerConfig,
    /// The opus-mt naming convention (config.json `_name_or_path` or directory name).
    OpusMtName,
}

/// A translation model directory as `stt models` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranslationModelInfo {
    pub dir: PathBuf,
    /// `"marian"`: the only architecture supported so far.
    pub model_type: String,
    /// Lower-case language (or group) codes.
    pub source_languages: Vec<String>,
    pub target_languages: Vec<String>,
    pub pair_source: PairSource,
    pub description: Option<String>,
    pub vocab_size: usize,
    pub d_model: usize,
    pub encoder_layers: usize,
    pub decoder_layers: usize,
    /// Files `MarianTranslator::load` needs that are absent (empty: loadable). Typically
    /// the two `*.tokenizer.json` of an opus-mt download not converted yet.
    pub missing_files: Vec<String>,
}

/// `stt-translation.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TranslationInfoFile {
    #[serde(default = "marian")]
    pub model_type: String,
    pub source_languages: Vec<String>,
    pub target_languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn marian() -> String {
    "marian".into()
}

/// Files a loadable Marian directory has.
pub const REQUIRED_FILES: [&str; 5] = [
    "config.json",
    "model.safetensors",
    "vocab.json",
    "source.tokenizer.json",
    "target.tokenizer.json",
];

/// Whether `dir` holds a Marian translation model (by its `config.json`).
pub fn is_translation_model(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v.get("model_type").and_then(|m| m.as_str()) == Some("marian"))
}

/// Language codes of an opus-mt model name: `(sources, targets)`.
///
/// `Helsinki-NLP/opus-mt-ar-en` → `(["ar"], ["en"])`; `opus-mt-tc-big-en-ROMANCE` →
/// `(["en"], ["romance"])`; a source written `de+fr` (rare) gives both. Anything that is
/// not `opus-mt-` followed by exactly two `-`-separated codes is not recognised.
pub fn parse_opus_mt_name(name: &str) -> Option<(Vec<String>, Vec<String>)> {
    let base = name.trim_end_matches('/').rsplit('/').next()?;
    let rest = base.strip_prefix("opus-mt-")?;
    let rest = ["tc-big-", "tc-base-", "tc-"]
        .iter()
        .find_map(|tag| rest.strip_prefix(tag))
        .unwrap_or(rest);
    let mut parts = rest.split('-');
    let (src, tgt) = (parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let codes = |s: &str| -> Option<Vec<String>> {
        let v: Vec<String> = s
            .split('+')
            .map(|c| c.to_ascii_lowercase())
            .filter(|c| !c.is_empty())
            .collect();
        let valid = !v.is_empty()
            && v.iter()
                .all(|c| c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'));
        valid.then_some(v)
    };
    Some((codes(src)?, codes(tgt)?))
}

fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn lower(v: Vec<String>) -> Vec<String> {
    v.into_iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .collect()
}

impl TranslationModelInfo {
    /// Reads `dir`'s configuration and works out its language pair.
    pub fn read(dir: &Path) -> Result<Self> {
        let config = ModelConfig::read(dir)?;
        let mut description = None;
        let info_path = dir.join(INFO_FILE);
        let from_info = if info_path.is_file() {
            let text = std::fs::read_to_string(&info_path)
                .map_err(|e| TranslateError::load(&info_path, e))?;
            let file: TranslationInfoFile =
                serde_json::from_str(&text).map_err(|e| TranslateError::load(&info_path, e))?;
            if file.model_type != "marian" {
                return Err(TranslateError::load(
                    &info_path,
                    format!("model_type '{}' is not supported", file.model_type),
                ));
            }
            description = file.description;
            Some((
                file.source_languages,
                file.target_languages,
                PairSource::InfoFile,
            ))
        } else {
            None
        };
        let from_tokenizer = || {
            let v = read_json(&dir.join("tokenizer_config.json"))?;
            let src = v.get("source_lang")?.as_str()?.to_string();
            let tgt = v.get("target_lang")?.as_str()?.to_string();
            Some((vec![src], vec![tgt], PairSource::TokenizerConfig))
        };
        let from_name = || {
            let config_name = read_json(&dir.join("config.json"))
                .and_then(|v| v.get("_name_or_path")?.as_str().map(str::to_string));
            let dir_name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
            [config_name, dir_name]
                .into_iter()
                .flatten()
                .find_map(|name| parse_opus_mt_name(&name))
                .map(|(s, t)| (s, t, PairSource::OpusMtName))
        };
        let (source, target, pair_source) = from_info
            .or_else(from_tokenizer)
            .or_else(from_name)
            .ok_or_else(|| {
                TranslateError::load(
                    dir,
                    format!(
                        "unknown language pair: add {INFO_FILE} with source_languages and \
                         target_languages"
                    ),
                )
            })?;
        let missing_files = REQUIRED_FILES
            .iter()
            .filter(|f| !dir.join(f).is_file())
            .map(|f| f.to_string())
            .collect();
        Ok(Self {
            dir: dir.to_path_buf(),
            model_type: config.model_type.unwrap_or_else(marian),
            source_languages: lower(source),
            target_languages: lower(target),
            pair_source,
            description,
            vocab_size: config.marian.vocab_size,
            d_model: config.marian.d_model,
            encoder_layers: config.marian.encoder_layers,
            decoder_layers: config.marian.decoder_layers,
            missing_files,
        })
    }

    /// Whether the model translates `source` into `target` (ISO codes, any case; a locale
    /// such as `ar-AE` counts as its language).
    pub fn covers(&self, source: &str, target: &str) -> bool {
        let language = |code: &str| {
            code.split(['-', '_'])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        };
        let (source, target) = (language(source), language(target));
        self.source_languages.contains(&source) && self.target_languages.contains(&target)
    }

    /// Whether `MarianTranslator::load` has every file it needs.
    pub fn is_loadable(&self) -> bool {
        self.missing_files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(s: &[&str], t: &[&str]) -> Option<(Vec<String>, Vec<String>)> {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        Some((v(s), v(t)))
    }

    #[test]
    fn opus_mt_names() {
        assert_eq!(parse_opus_mt_name("opus-mt-ar-en"), pair(&["ar"], &["en"]));
        assert_eq!(
            parse_opus_mt_name("Helsinki-NLP/opus-mt-ar-en"),
            pair(&["ar"], &["en"])
        );
        assert_eq!(
            parse_opus_mt_name("opus-mt-tc-big-ar-en"),
            pair(&["ar"], &["en"])
        );
        assert_eq!(
            parse_opus_mt_name("opus-mt-en-ROMANCE"),
            pair(&["en"], &["romance"])
        );
        assert_eq!(
            parse_opus_mt_name("opus-mt-de+fr-en"),
            pair(&["de", "fr"], &["en"])
        );
        assert_eq!(
            parse_opus_mt_name("/models/opus-mt-mul-en/"),
            pair(&["mul"], &["en"])
        );
        assert_eq!(parse_opus_mt_name("opus-mt-ar"), None);
        assert_eq!(parse_opus_mt_name("marian-ar-en"), None);
        assert_eq!(parse_opus_mt_name("opus-mt-a-b-c"), None);
    }

    #[test]
    fn covers_matches_languages_and_locales() {
        let info = TranslationModelInfo {
            dir: PathBuf::from("x"),
            model_type: "marian".into(),
            source_languages: vec!["ar".into()],
            target_languages: vec!["en".into()],
            pair_source: PairSource::OpusMtName,
            description: None,
            vocab_size: 1,
            d_model: 1,
            encoder_layers: 1,
            decoder_layers: 1,
            missing_files: vec![],
        };
        assert!(info.covers("ar", "en"));
        assert!(info.covers("ar-AE", "en-US"));
        assert!(info.covers("AR_sa", "EN"));
        assert!(!info.covers("fr", "en"));
        assert!(!info.covers("en", "ar"));
    }
}
