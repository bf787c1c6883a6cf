//! Weight matrices read in place from a memory-mapped safetensors file.
//!
//! The float16 weights are used exactly as stored: no copy into process memory, one copy
//! in the page cache shared by every worker (and by every process serving the same model
//! file). Files in other float types, or with unaligned data, are converted once into an
//! owned f16 copy instead.

use candle_core::{bail, Result};
use half::{bf16, f16};
use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors};
use std::path::Path;
use std::sync::Arc;

/// An open, memory-mapped safetensors file.
pub struct WeightsFile {
    map: Arc<Mmap>,
    /// name → (dtype, shape, byte range in the map)
    tensors: std::collections::HashMap<String, (Dtype, Vec<usize>, std::ops::Range<usize>)>,
}

impl WeightsFile {
    pub fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path)?;
        // SAFETY: the model store never rewrites a weights file in place (imports write a
        // new directory and rename it), so the mapping stays valid and unchanged.
        let map = unsafe { Mmap::map(&file)? };
        let parsed = SafeTensors::deserialize(&map)
            .map_err(|e| candle_core::Error::Msg(format!("{}: {e}", path.display())))?;
        let base = map.as_ptr() as usize;
        let tensors = parsed
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                let start = view.data().as_ptr() as usize - base;
                let range = start..start + view.data().len();
                (name, (view.dtype(), view.shape().to_vec(), range))
            })
            .collect();
        Ok(Self {
            map: Arc::new(map),
            tensors,
        })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The f16 matrix `name` of shape `(rows, cols)`, in place when the file stores it as
    /// aligned f16.
    pub fn half_matrix(&self, name: &str, shape: (usize, usize)) -> Result<HalfMatrix> {
        let Some((dtype, dims, range)) = self.tensors.get(name) else {
            bail!("weights file has no tensor {name}")
        };
        if dims[..] != [shape.0, shape.1] {
            bail!("{name}: shape {dims:?}, expected {shape:?}")
        }
        let bytes = &self.map[range.clone()];
        if *dtype == Dtype::F16 && bytes.as_ptr().align_offset(std::mem::align_of::<f16>()) == 0 {
            return Ok(HalfMatrix {
                source: HalfSource::Mapped(Arc::clone(&self.map), range.start),
                rows: shape.0,
                cols: shape.1,
            });
        }
        let values: Vec<f16> = match dtype {
            Dtype::F16 => bytes
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]))
                .collect(),
            Dtype::BF16 => bytes
                .chunks_exact(2)
                .map(|b| f16::from_f32(bf16::from_le_bytes([b[0], b[1]]).to_f32()))
                .collect(),
            Dtype::F32 => bytes
                .chunks_exact(4)
                .map(|b| f16::from_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect(),
            other => bail!("{name}: {other:?} weights are not supported"),
        };
        Ok(HalfMatrix {
            source: HalfSource::Owned(Arc::new(values)),
            rows: shape.0,
            cols: shape.1,
        })
    }
}

#[derive(Clone)]
enum HalfSource {
    /// The map and the byte offset of the first value.
    Mapped(Arc<Mmap>, usize),
    Owned(Arc<Vec<f16>>),
}

/// A row-major f16 matrix `[rows, cols]`, mapped or owned; cheap to clone.
#[derive(Clone)]
pub struct HalfMatrix {
    source: HalfSource,
    rows: usize,
    cols: usize,
}

impl HalfMatrix {
    pub fn from_vec(values: Vec<f16>, rows: usize, cols: usize) -> Result<Self> {
        if values.len() != rows * cols {
            bail!("{} values for a {rows}x{cols} matrix", values.len())
        }
        Ok(Self {
            source: HalfSource::Owned(Arc::new(values)),
            rows,
            cols,
        })
    }

    pub fn dims(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    pub fn is_mapped(&self) -> bool {
        matches!(self.source, HalfSource::Mapped(..))
    }

    pub fn as_slice(&self) -> &[f16] {
        match &self.source {
            HalfSource::Mapped(map, offset) => {
                let bytes = &map[*offset..*offset + self.rows * self.cols * 2];
                // SAFETY: alignment was checked when the matrix was made; f16 has no
                // invalid bit patterns; the map lives as long as `self`.
                unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast(), self.rows * self.cols) }
            }
            HalfSource::Owned(values) => values,
        }
    }
}
