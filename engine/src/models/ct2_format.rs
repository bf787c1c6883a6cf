//! Reader for CTranslate2 `model.bin` files (binary format version 6).
//!
//! Layout, all little-endian: `u32` version; spec name; `u32` spec revision; `u32`
//! variable count; per variable: name, `u8` rank, `u32` dims, `u8` dtype, `u32` byte
//! count, raw bytes; then `u32` alias count and (alias, target) name pairs. A name is a
//! `u16` length that counts a trailing NUL, followed by the bytes.
//!
//! The file is memory-mapped and only offsets are recorded, so a 145 MB model costs no
//! heap: callers borrow tensor bytes straight from the mapping. Every length read from
//! the file is bounds-checked, so a truncated or foreign file yields an error, not a panic.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::error::{ModelError, Result};

/// The only binary version this reader understands; the CTranslate2 4.x converters write it.
pub(crate) const SUPPORTED_BINARY_VERSION: u32 = 6;

/// A rank above this is certainly corruption; Whisper's largest rank is 3 (conv weights).
const MAX_RANK: usize = 8;

/// Element type of a CTranslate2 variable, with the numeric codes used on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ct2DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl Ct2DType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Ct2DType::F32,
            1 => Ct2DType::I8,
            2 => Ct2DType::I16,
            3 => Ct2DType::I32,
            4 => Ct2DType::F16,
            5 => Ct2DType::BF16,
            _ => return None,
        })
    }

    /// The on-disk code; only test fixtures write model files.
    #[cfg(test)]
    pub(crate) fn code(self) -> u8 {
        match self {
            Ct2DType::F32 => 0,
            Ct2DType::I8 => 1,
            Ct2DType::I16 => 2,
            Ct2DType::I32 => 3,
            Ct2DType::F16 => 4,
            Ct2DType::BF16 => 5,
        }
    }

    pub(crate) fn size(self) -> usize {
        match self {
            Ct2DType::I8 => 1,
            Ct2DType::I16 | Ct2DType::F16 | Ct2DType::BF16 => 2,
            Ct2DType::F32 | Ct2DType::I32 => 4,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Ct2DType::F32 => "float32",
            Ct2DType::I8 => "int8",
            Ct2DType::I16 => "int16",
            Ct2DType::I32 => "int32",
            Ct2DType::F16 => "float16",
            Ct2DType::BF16 => "bfloat16",
        }
    }
}

/// One variable of the model: where its bytes are, not the bytes themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ct2Variable {
    pub name: String,
    /// Empty for scalars (rank 0).
    pub shape: Vec<usize>,
    pub dtype: Ct2DType,
    /// Byte offset of the data within the file.
    pub offset: usize,
    /// Byte length of the data; always `product(shape) * dtype.size()`.
    pub len: usize,
}

/// Header fields and the variable table, as parsed from the raw bytes.
#[derive(Debug)]
struct Layout {
    spec: String,
    spec_revision: u32,
    variables: Vec<Ct2Variable>,
    /// alias name → target variable name (already checked to exist).
    aliases: BTreeMap<String, String>,
}

/// The bytes a model was parsed from: a file mapping, or a buffer in tests.
enum Backing {
    Mapped(Mmap),
    #[cfg(test)]
    Owned(Vec<u8>),
}

impl Backing {
    fn bytes(&self) -> &[u8] {
        match self {
            Backing::Mapped(map) => map,
            #[cfg(test)]
            Backing::Owned(bytes) => bytes,
        }
    }
}

/// A parsed CTranslate2 model whose tensor data stays in the (mapped) file.
pub(crate) struct Ct2Model {
    path: PathBuf,
    backing: Backing,
    layout: Layout,
    by_name: HashMap<String, usize>,
}

impl Ct2Model {
    /// Memory-maps and parses `path`.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| ModelError::io("cannot open", path, e))?;
        // SAFETY: the mapping is read-only and private to this process. Another process
        // truncating the file underneath would be a bug in the caller's workflow (imports
        // read from a staging directory nobody else writes to).
        let map = unsafe { Mmap::map(&file) }.map_err(|e| ModelError::io("cannot map", path, e))?;
        Self::from_backing(path.to_path_buf(), Backing::Mapped(map))
    }

    /// Parses an in-memory model file (tests build models this way).
    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        Self::from_backing(PathBuf::from("<memory>"), Backing::Owned(bytes))
    }

    fn from_backing(path: PathBuf, backing: Backing) -> Result<Self> {
        let layout = parse_layout(backing.bytes()).map_err(|message| ModelError::Ct2Format {
            path: path.clone(),
            message,
        })?;
        let by_name = layout
            .variables
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.clone(), i))
            .collect();
        Ok(Ct2Model {
            path,
            backing,
            layout,
            by_name,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The whole file, e.g. for checksumming without reading it a second time.
    pub(crate) fn file_bytes(&self) -> &[u8] {
        self.backing.bytes()
    }

    /// The model specification name, e.g. `WhisperSpec`.
    pub(crate) fn spec(&self) -> &str {
        &self.layout.spec
    }

    pub(crate) fn spec_revision(&self) -> u32 {
        self.layout.spec_revision
    }

    /// Variables in file order (aliases excluded).
    pub(crate) fn variables(&self) -> &[Ct2Variable] {
        &self.layout.variables
    }

    /// alias name → target variable name.
    pub(crate) fn aliases(&self) -> &BTreeMap<String, String> {
        &self.layout.aliases
    }

    /// Looks a variable up by name, following an alias if `name` is one.
    pub(crate) fn variable(&self, name: &str) -> Option<&Ct2Variable> {
        let target = self.layout.aliases.get(name).map_or(name, String::as_str);
        self.by_name.get(target).map(|&i| &self.layout.variables[i])
    }

    /// The raw little-endian bytes of a variable.
    pub(crate) fn data(&self, var: &Ct2Variable) -> &[u8] {
        // In bounds: parse_layout checked offset + len against the same bytes.
        &self.backing.bytes()[var.offset..var.offset + var.len]
    }

    /// Reads a one-element integer (or boolean) variable such as `encoder/num_heads`.
    /// `Ok(None)` when the variable does not exist.
    pub(crate) fn scalar_int(&self, name: &str) -> Result<Option<i64>> {
        let Some(var) = self.variable(name) else {
            return Ok(None);
        };
        let bytes = self.data(var);
        let value = match (var.dtype, bytes.len()) {
            (Ct2DType::I8, 1) => i64::from(bytes[0] as i8),
            (Ct2DType::I16, 2) => i64::from(i16::from_le_bytes([bytes[0], bytes[1]])),
            (Ct2DType::I32, 4) => {
                i64::from(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            }
            _ => {
                return Err(ModelError::Ct2Format {
                    path: self.path.clone(),
                    message: format!(
                        "variable {name} should be one integer, found {} with shape {:?}",
                        var.dtype.name(),
                        var.shape
                    ),
                })
            }
        };
        Ok(Some(value))
    }
}

/// Sequential, bounds-checked reader over the file bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> std::result::Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| {
                format!(
                    "file is truncated: {what} needs {n} bytes at offset {} but the file has {} bytes",
                    self.pos,
                    self.bytes.len()
                )
            })?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn u8(&mut self, what: &str) -> std::result::Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> std::result::Result<u16, String> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> std::result::Result<u32, String> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A length-prefixed, NUL-terminated UTF-8 name.
    fn name(&mut self, what: &str) -> std::result::Result<String, String> {
        let len = usize::from(self.u16(what)?);
        let at = self.pos;
        let raw = self.take(len, what)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        if raw.is_empty() {
            return Err(format!("empty {what} at offset {at}"));
        }
        let name = std::str::from_utf8(raw)
            .map_err(|_| format!("{what} at offset {at} is not valid UTF-8"))?;
        if name.contains('\0') {
            return Err(format!("{what} at offset {at} contains a NUL byte"));
        }
        Ok(name.to_owned())
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

fn parse_layout(bytes: &[u8]) -> std::result::Result<Layout, String> {
    let mut cur = Cursor { bytes, pos: 0 };
    let binary_version = cur.u32("the binary version")?;
    if binary_version != SUPPORTED_BINARY_VERSION {
        // Small numbers are older/newer CTranslate2 releases; anything else is another format.
        return Err(if binary_version < 100 {
            format!(
                "binary version {binary_version} is not supported (only version {SUPPORTED_BINARY_VERSION}; re-convert with CTranslate2 4.x)"
            )
        } else {
            format!("not a CTranslate2 model.bin (header reads version {binary_version})")
        });
    }
    let spec = cur.name("spec name")?;
    let spec_revision = cur.u32("spec revision")?;
    let count = cur.u32("variable count")? as usize;
    // A variable takes at least 10 bytes (name length + 1 name byte, rank, dtype, byte
    // count, 1 data byte); a larger count means corruption, and checking it first keeps a
    // bogus count from driving a huge allocation.
    if count > cur.remaining() / 10 {
        return Err(format!(
            "variable count {count} is impossible for the {} bytes that follow",
            cur.remaining()
        ));
    }

    let mut variables = Vec::with_capacity(count);
    let mut seen = HashMap::with_capacity(count);
    for index in 0..count {
        let name = cur.name("variable name")?;
        let rank = usize::from(cur.u8("variable rank")?);
        if rank > MAX_RANK {
            return Err(format!(
                "variable {name} has rank {rank} (at most {MAX_RANK} expected)"
            ));
        }
        let mut shape = Vec::with_capacity(rank);
        for _ in 0..rank {
            shape.push(cur.u32("dimension")? as usize);
        }
        let code = cur.u8("dtype")?;
        let dtype = Ct2DType::from_code(code)
            .ok_or_else(|| format!("variable {name} has unknown dtype code {code}"))?;
        let declared = cur.u32("byte count")? as usize;
        let expected = shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| format!("variable {name} has an overflowing shape {shape:?}"))?;
        if declared != expected {
            return Err(format!(
                "variable {name}: {declared} bytes stored but shape {shape:?} of {} needs {expected}",
                dtype.name()
            ));
        }
        let offset = cur.pos;
        cur.take(declared, &format!("data of {name}"))?;
        if seen.insert(name.clone(), index).is_some() {
            return Err(format!("variable {name} appears twice"));
        }
        variables.push(Ct2Variable {
            name,
            shape,
            dtype,
            offset,
            len: declared,
        });
    }

    let alias_count = cur.u32("alias count")? as usize;
    if alias_count > cur.remaining() / 4 {
        return Err(format!(
            "alias count {alias_count} is impossible for the {} bytes that follow",
            cur.remaining()
        ));
    }
    let mut aliases = BTreeMap::new();
    for _ in 0..alias_count {
        let alias = cur.name("alias name")?;
        let target = cur.name("alias target")?;
        // CTranslate2 only aliases real variables; a dangling or chained alias means a
        // corrupt file, and refusing it keeps lookups to a single, cycle-free hop.
        if !seen.contains_key(&target) {
            return Err(format!("alias {alias} points to missing variable {target}"));
        }
        if seen.contains_key(&alias) {
            return Err(format!("alias {alias} shadows a variable of the same name"));
        }
        if aliases.insert(alias.clone(), target).is_some() {
            return Err(format!("alias {alias} appears twice"));
        }
    }
    if cur.remaining() != 0 {
        return Err(format!(
            "{} unexpected bytes after the alias table (file corrupt or not version {SUPPORTED_BINARY_VERSION})",
            cur.remaining()
        ));
    }
    Ok(Layout {
        spec,
        spec_revision,
        variables,
        aliases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::test_support::Ct2Writer;

    fn sample() -> Vec<u8> {
        let mut w = Ct2Writer::new("WhisperSpec", 3);
        w.f16(
            "encoder/conv1/weight",
            &[2, 3],
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        );
        w.scalar_i16("encoder/num_heads", 6);
        w.scalar_i8("decoder/activation", 3);
        w.f16(
            "decoder/embeddings/weight",
            &[2, 2],
            &[0.5, -0.5, 1.5, -1.5],
        );
        w.alias("decoder/projection/weight", "decoder/embeddings/weight");
        w.finish()
    }

    #[test]
    fn parses_header_variables_and_aliases() {
        let model = Ct2Model::from_bytes(sample()).unwrap();
        assert_eq!(model.spec(), "WhisperSpec");
        assert_eq!(model.spec_revision(), 3);
        assert_eq!(model.variables().len(), 4);
        let conv = model.variable("encoder/conv1/weight").unwrap();
        assert_eq!(conv.shape, vec![2, 3]);
        assert_eq!(conv.dtype, Ct2DType::F16);
        let values: Vec<f32> = model
            .data(conv)
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect();
        assert_eq!(values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(model.scalar_int("encoder/num_heads").unwrap(), Some(6));
        assert_eq!(model.scalar_int("decoder/activation").unwrap(), Some(3));
        assert_eq!(model.scalar_int("decoder/missing").unwrap(), None);
        // The alias resolves to the very same bytes.
        let projection = model.variable("decoder/projection/weight").unwrap();
        assert_eq!(projection.name, "decoder/embeddings/weight");
        assert_eq!(
            model
                .aliases()
                .get("decoder/projection/weight")
                .map(String::as_str),
            Some("decoder/embeddings/weight")
        );
    }

    #[test]
    fn scalar_int_rejects_tensors() {
        let model = Ct2Model::from_bytes(sample()).unwrap();
        let err = model.scalar_int("encoder/conv1/weight").unwrap_err();
        assert!(err.to_string().contains("should be one integer"), "{err}");
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample();
        for len in 0..bytes.len() {
            let err = match Ct2Model::from_bytes(bytes[..len].to_vec()) {
                Ok(_) => panic!("a file cut at {len} of {} bytes parsed", bytes.len()),
                Err(err) => err,
            };
            assert!(
                matches!(err, ModelError::Ct2Format { .. }),
                "cut at {len}: {err}"
            );
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = sample();
        bytes.push(0);
        let err = Ct2Model::from_bytes(bytes).err().unwrap();
        assert!(err.to_string().contains("unexpected bytes"), "{err}");
    }

    #[test]
    fn wrong_format_and_version_are_named() {
        let err = Ct2Model::from_bytes(b"PK\x03\x04 this is a zip".to_vec())
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("not a CTranslate2 model.bin"),
            "{err}"
        );
        let mut bytes = sample();
        bytes[0] = 5;
        let err = Ct2Model::from_bytes(bytes).err().unwrap();
        assert!(err.to_string().contains("binary version 5"), "{err}");
    }

    #[test]
    fn corrupt_lengths_are_rejected() {
        // Byte count disagreeing with the shape.
        let mut w = Ct2Writer::new("WhisperSpec", 3);
        w.raw_variable("x", &[4], Ct2DType::F16.code(), &[0u8; 6]);
        let err = Ct2Model::from_bytes(w.finish()).err().unwrap();
        assert!(err.to_string().contains("needs 8"), "{err}");

        // An enormous variable count.
        let mut bytes = Ct2Writer::new("WhisperSpec", 3).finish();
        let count_at = 4 + 2 + "WhisperSpec\0".len() + 4;
        bytes[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = Ct2Model::from_bytes(bytes).err().unwrap();
        assert!(err.to_string().contains("impossible"), "{err}");

        // Unknown dtype.
        let mut w = Ct2Writer::new("WhisperSpec", 3);
        w.raw_variable("x", &[1], 9, &[0u8; 1]);
        let err = Ct2Model::from_bytes(w.finish()).err().unwrap();
        assert!(err.to_string().contains("unknown dtype code 9"), "{err}");

        // Shape whose byte size overflows usize.
        let mut w = Ct2Writer::new("WhisperSpec", 3);
        w.raw_variable("x", &[u32::MAX, u32::MAX, u32::MAX], 0, &[]);
        let err = Ct2Model::from_bytes(w.finish()).err().unwrap();
        assert!(err.to_string().contains("variable x"), "{err}");
    }

    #[test]
    fn dangling_and_duplicate_names_are_rejected() {
        let mut w = Ct2Writer::new("WhisperSpec", 3);
        w.f16("a", &[1], &[1.0]);
        w.alias("b", "missing");
        let err = Ct2Model::from_bytes(w.finish()).err().unwrap();
        assert!(
            err.to_string().contains("missing variable missing"),
            "{err}"
        );

        let mut w = Ct2Writer::new("WhisperSpec", 3);
        w.f16("a", &[1], &[1.0]);
        w.f16("a", &[1], &[2.0]);
        let err = Ct2Model::from_bytes(w.finish()).err().unwrap();
        assert!(err.to_string().contains("appears twice"), "{err}");
    }

    #[test]
    fn open_reports_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = Ct2Model::open(&dir.path().join("model.bin")).err().unwrap();
        assert!(err.to_string().starts_with("cannot open"), "{err}");
    }
}
