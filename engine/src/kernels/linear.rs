//! `x · Wᵀ + b` with compact weights and f32 arithmetic. Weights are either the
//! checkpoints' own float16 values, or int8 with one f32 scale per output row (symmetric,
//! per channel, made once at import time by `models::quantize`).
//!
//! Two regimes:
//! - few input rows (a decoder step: one token per stream): the product is bound by
//!   reading the weights, so compact weights are read once and widened in registers,
//!   every input row reusing each widened weight row;
//! - many input rows (encoder, prompt prefill): the product is bound by arithmetic, so
//!   the weights are widened to f32 once per call (a small cost next to the product) and
//!   handed to the f32 matrix kernel.

use super::mapped::HalfMatrix;
use super::shared::{isa, matmul, Isa, Operand, OutPtr};
use super::vector_math::gelu_erf_in_place;
use candle_core::{
    bail, CpuStorage, CustomOp1, CustomOp3, DType, Layout, Module, Result, Shape, Tensor,
};
use gemm::Parallelism;
use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;
use std::sync::Arc;

/// At most this many input rows take the weight-streaming path.
pub(super) const STREAMING_MAX_ROWS: usize = 8;
/// Input rows handled together per pass over a weight row.
const ROW_GROUP: usize = 4;
/// Output columns per parallel task on the streaming path.
const COLUMN_BLOCK: usize = 256;

/// A weight matrix `[out, in]` in a compact CPU format.
#[derive(Clone)]
pub enum PackedWeight {
    /// f16 values, memory-mapped from the weights file where possible.
    F16(HalfMatrix),
    /// int8 values (two's complement bytes in a u8 tensor, `[out, in]`) times a per-row
    /// f32 scale (`[out]`).
    Int8 { codes: Tensor, scales: Tensor },
}

impl PackedWeight {
    /// An owned copy of a 2-D tensor, stored as f16.
    pub fn f16(weight: Tensor) -> Result<Self> {
        let (rows, cols) = weight.dims2()?;
        let values = weight
            .to_dtype(DType::F16)?
            .flatten_all()?
            .to_vec1::<f16>()?;
        Ok(Self::F16(HalfMatrix::from_vec(values, rows, cols)?))
    }

    pub fn int8(codes: Tensor, scales: Tensor) -> Result<Self> {
        let (n, _) = codes.dims2()?;
        if codes.dtype() != DType::U8 || !codes.device().is_cpu() || scales.dims1()? != n {
            bail!("PackedWeight: int8 codes must be u8 [out, in] with f32 scales [out]")
        }
        Ok(Self::Int8 {
            codes: codes.contiguous()?,
            scales: scales.to_dtype(DType::F32)?.contiguous()?,
        })
    }

    /// `(out, in)`.
    pub fn dims(&self) -> Result<(usize, usize)> {
        match self {
            Self::F16(w) => Ok(w.dims()),
            Self::Int8 { codes, .. } => codes.dims2(),
        }
    }

    /// Rows `ids` of the matrix as f32 `[ids.len(), in]` (embedding lookup).
    pub fn rows(&self, ids: &Tensor) -> Result<Tensor> {
        match self {
            Self::F16(w) => {
                let (n, k) = w.dims();
                let values = w.as_slice();
                let ids = ids.to_vec1::<u32>()?;
                let mut out = Vec::with_capacity(ids.len() * k);
                for &id in &ids {
                    let id = id as usize;
                    if id >= n {
                        bail!("row {id} out of range ({n} rows)")
                    }
                    out.extend(values[id * k..(id + 1) * k].iter().map(|v| v.to_f32()));
                }
                Tensor::from_vec(out, (ids.len(), k), &candle_core::Device::Cpu)
            }
            Self::Int8 { codes, scales } => {
                let (n, k) = codes.dims2()?;
                let ids = ids.to_vec1::<u32>()?;
                let out = with_int8(codes, scales, |codes, s| {
                    let mut out = Vec::with_capacity(ids.len() * k);
                    for &id in &ids {
                        let id = id as usize;
                        if id >= n {
                            bail!("row {id} out of range ({n} rows)")
                        }
                        out.extend(
                            codes[id * k..(id + 1) * k]
                                .iter()
                                .map(|&q| q as f32 * s[id]),
                        );
                    }
                    Ok(out)
                })??;
                Tensor::from_vec(out, (ids.len(), k), codes.device())
            }
        }
    }

    /// The whole matrix as f32 `[out, in]`, for products with many input rows.
    pub(super) fn widened(&self) -> Result<Vec<f32>> {
        match self {
            Self::F16(w) => Ok(widen_f16(w.as_slice())),
            Self::Int8 { codes, scales } => {
                let (_, k) = codes.dims2()?;
                with_int8(codes, scales, |codes, s| widen_int8(codes, s, k))
            }
        }
    }

    /// Bytes the weights occupy.
    pub fn size_bytes(&self) -> usize {
        match self {
            Self::F16(w) => w.as_slice().len() * 2,
            Self::Int8 { codes, scales } => codes.elem_count() + scales.elem_count() * 4,
        }
    }
}

/// A linear layer over a [`PackedWeight`] on the CPU; bias f32 `[out]`, optionally
/// followed by GELU. Bias and activation are applied to the product's own buffer, so a
/// layer allocates its output once (an encoder MLP's is 9 MB per window).
#[derive(Clone)]
pub struct PackedLinear {
    weight: PackedWeight,
    bias: Option<Arc<[f32]>>,
    gelu: bool,
}

impl PackedLinear {
    pub fn new(weight: PackedWeight, bias: Option<Tensor>) -> Result<Self> {
        let (n, _) = weight.dims()?;
        let bias = match bias {
            Some(b) if b.dims1()? != n => bail!(
                "PackedLinear: bias has {} values, weight {n} rows",
                b.dims1()?
            ),
            Some(b) => Some(b.to_dtype(DType::F32)?.to_vec1::<f32>()?.into()),
            None => None,
        };
        Ok(Self {
            weight,
            bias,
            gelu: false,
        })
    }

    /// The same layer followed by the exact (erf) GELU.
    pub fn with_gelu(self) -> Self {
        Self { gelu: true, ..self }
    }

    pub(super) fn epilogue(&self) -> Epilogue<'_> {
        Epilogue {
            bias: self.bias.as_deref(),
            gelu: self.gelu,
        }
    }

    pub fn weight(&self) -> &PackedWeight {
        &self.weight
    }
}

impl Module for PackedLinear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let (n, k) = self.weight.dims()?;
        let Some((&last, lead)) = dims.split_last() else {
            bail!("PackedLinear: scalar input")
        };
        if last != k {
            bail!("PackedLinear: input has {last} features, weight expects {k}")
        }
        let rows: usize = lead.iter().product();
        let x2 = x.to_dtype(DType::F32)?.reshape((rows, k))?.contiguous()?;
        let epilogue = self.epilogue();
        let y = match &self.weight {
            PackedWeight::F16(w) => x2.apply_op1_no_bwd(&HalfMatmul {
                w: w.as_slice(),
                n,
                k,
                epilogue,
            })?,
            PackedWeight::Int8 { codes, scales } => {
                x2.apply_op3_no_bwd(codes, scales, &Int8Matmul { epilogue })?
            }
        };
        let mut out_dims = lead.to_vec();
        out_dims.push(n);
        y.reshape(out_dims)
    }
}

/// What follows the product, in place on its `[m, n]` output: `+ bias`, then GELU.
#[derive(Clone, Copy)]
pub(super) struct Epilogue<'a> {
    bias: Option<&'a [f32]>,
    gelu: bool,
}

impl Epilogue<'_> {
    pub(super) fn apply(self, y: &mut [f32], n: usize) {
        let finish = |rows: &mut [f32]| {
            if let Some(bias) = self.bias {
                for row in rows.chunks_exact_mut(n) {
                    for (v, b) in row.iter_mut().zip(bias) {
                        *v += b;
                    }
                }
            }
            if self.gelu {
                gelu_erf_in_place(rows);
            }
        };
        // Whole rows per task, about 64k values each.
        let rows_per_task = (1 << 16) / n.max(1) + 1;
        if y.len() > rows_per_task * n {
            y.par_chunks_mut(rows_per_task * n).for_each(finish);
        } else {
            finish(y);
        }
    }
}

/// Runs `f` on the int8 codes and per-row scales of an int8 weight, borrowed from their
/// CPU storage.
fn with_int8<R>(codes: &Tensor, scales: &Tensor, f: impl FnOnce(&[i8], &[f32]) -> R) -> Result<R> {
    let (codes_storage, codes_layout) = codes.storage_and_layout();
    let (scales_storage, scales_layout) = scales.storage_and_layout();
    let (
        candle_core::Storage::Cpu(CpuStorage::U8(bytes)),
        candle_core::Storage::Cpu(CpuStorage::F32(s)),
    ) = (&*codes_storage, &*scales_storage)
    else {
        bail!("int8 weight: unexpected storage")
    };
    let bytes = contiguous(bytes, codes_layout, "codes")?;
    let s = contiguous(s, scales_layout, "scales")?;
    // SAFETY: u8 and i8 have the same size and alignment; the bytes are two's complement
    // int8 codes by construction (`models::quantize`).
    let codes: &[i8] = unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast(), bytes.len()) };
    Ok(f(codes, s))
}

pub(super) fn contiguous<'a, T>(data: &'a [T], layout: &Layout, what: &str) -> Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => bail!("packed matmul: {what} must be contiguous"),
    }
}

/// `[m, k]` f32 × `[n, k]` f16 → `[m, n]` f32.
struct HalfMatmul<'a> {
    w: &'a [f16],
    n: usize,
    k: usize,
    epilogue: Epilogue<'a>,
}

impl CustomOp1 for HalfMatmul<'_> {
    fn name(&self) -> &'static str {
        "stt-half-matmul"
    }

    fn cpu_fwd(&self, x_storage: &CpuStorage, x_layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(x) = x_storage else {
            bail!("stt-half-matmul: expects f32 input")
        };
        let (m, k) = x_layout.shape().dims2()?;
        let (n, w) = (self.n, self.w);
        if k != self.k || w.len() != n * k {
            bail!(
                "stt-half-matmul: input has {k} columns, weight is {n}x{}",
                self.k
            )
        }
        let x = contiguous(x, x_layout, "input")?;
        let mut y = vec![0f32; m * n];
        if m <= STREAMING_MAX_ROWS {
            streaming_matmul(x, w, None, &mut y, m, n, k);
        } else {
            widened_matmul(x, &widen_f16(w), &mut y, m, n, k);
        }
        self.epilogue.apply(&mut y, n);
        Ok((CpuStorage::F32(y), Shape::from((m, n))))
    }
}

/// `[m, k]` f32 × (`[n, k]` int8 codes × `[n]` scales) → `[m, n]` f32.
struct Int8Matmul<'a> {
    epilogue: Epilogue<'a>,
}

impl CustomOp3 for Int8Matmul<'_> {
    fn name(&self) -> &'static str {
        "stt-int8-matmul"
    }

    fn cpu_fwd(
        &self,
        x_storage: &CpuStorage,
        x_layout: &Layout,
        c_storage: &CpuStorage,
        c_layout: &Layout,
        s_storage: &CpuStorage,
        s_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(x), CpuStorage::U8(codes), CpuStorage::F32(scales)) =
            (x_storage, c_storage, s_storage)
        else {
            bail!("stt-int8-matmul: expects f32 input, u8 codes and f32 scales")
        };
        let (m, k) = x_layout.shape().dims2()?;
        let (n, k2) = c_layout.shape().dims2()?;
        if k != k2 || s_layout.shape().dims1()? != n {
            bail!("stt-int8-matmul: shapes disagree")
        }
        let x = contiguous(x, x_layout, "input")?;
        let codes = contiguous(codes, c_layout, "codes")?;
        let scales = contiguous(scales, s_layout, "scales")?;
        // SAFETY: u8 and i8 have the same size and alignment; the bytes are two's
        // complement int8 codes by construction (`models::quantize`).
        let codes: &[i8] =
            unsafe { std::slice::from_raw_parts(codes.as_ptr().cast(), codes.len()) };
        let mut y = vec![0f32; m * n];
        if m <= STREAMING_MAX_ROWS {
            streaming_matmul(x, codes, Some(scales), &mut y, m, n, k);
        } else {
            widened_matmul(x, &widen_int8(codes, scales, k), &mut y, m, n, k);
        }
        self.epilogue.apply(&mut y, n);
        Ok((CpuStorage::F32(y), Shape::from((m, n))))
    }
}

/// The f16 matrix as f32 values, for the matrix kernel.
fn widen_f16(w: &[f16]) -> Vec<f32> {
    let mut wide = vec![0f32; w.len()];
    wide.par_chunks_mut(1 << 16)
        .zip(w.par_chunks(1 << 16))
        .for_each(|(dst, src)| src.convert_to_f32_slice(dst));
    wide
}

/// The int8 matrix (rows of `k` codes, one scale per row) as f32 values.
fn widen_int8(codes: &[i8], scales: &[f32], k: usize) -> Vec<f32> {
    let mut wide = vec![0f32; codes.len()];
    wide.par_chunks_mut(k)
        .zip(codes.par_chunks(k))
        .zip(scales.par_iter())
        .for_each(|((dst, src), &s)| {
            for (d, &q) in dst.iter_mut().zip(src) {
                *d = q as f32 * s;
            }
        });
    wide
}

/// `y = x · wideᵀ` with the f32 matrix kernel.
pub(super) fn widened_matmul(x: &[f32], wide: &[f32], y: &mut [f32], m: usize, n: usize, k: usize) {
    let threads = rayon::current_num_threads();
    let parallelism = if threads > 1 && m * n * k >= 1 << 20 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: x is m×k, wide is n×k (read as its k×n transpose), y is m×n; all
    // row-major and exactly that long.
    unsafe {
        matmul(
            (m, n, k),
            y.as_mut_ptr(),
            n,
            Operand {
                ptr: x.as_ptr(),
                row_stride: k,
                col_stride: 1,
            },
            Operand {
                ptr: wide.as_ptr(),
                row_stride: 1,
                col_stride: k,
            },
            parallelism,
        );
    }
}

/// Weight element types the streaming kernel reads.
pub(crate) trait Packed: Copy + Send + Sync {
    fn widen(self) -> f32;
    /// `sums[r] = Σ_i w[i] · xs[r*k + i]` for the `sums.len()` (≤ 4) rows of `xs`.
    fn dot_rows(w: &[Self], xs: &[f32], k: usize, sums: &mut [f32]);
}

impl Packed for f16 {
    fn widen(self) -> f32 {
        self.to_f32()
    }

    fn dot_rows(w: &[Self], xs: &[f32], k: usize, sums: &mut [f32]) {
        match isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU has AVX-512F (checked by `isa`); slices are k long per row.
            Isa::Avx512 => unsafe { x86::dot_f16_avx512(w, xs, k, sums) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU has AVX2, FMA and F16C (checked by `isa`).
            Isa::Avx2 => unsafe { x86::dot_f16_avx2(w, xs, k, sums) },
            _ => dot_rows_scalar(w, xs, k, sums),
        }
    }
}

impl Packed for i8 {
    fn widen(self) -> f32 {
        self as f32
    }

    fn dot_rows(w: &[Self], xs: &[f32], k: usize, sums: &mut [f32]) {
        match isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx512 => unsafe { x86::dot_i8_avx512(w, xs, k, sums) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx2 => unsafe { x86::dot_i8_avx2(w, xs, k, sums) },
            _ => dot_rows_scalar(w, xs, k, sums),
        }
    }
}

fn dot_rows_scalar<W: Packed>(w: &[W], xs: &[f32], k: usize, sums: &mut [f32]) {
    for (r, s) in sums.iter_mut().enumerate() {
        let x = &xs[r * k..(r + 1) * k];
        *s = w.iter().zip(x).map(|(a, b)| a.widen() * b).sum();
    }
}

/// Few input rows: stream each weight row once, widening in registers; `scales`
/// multiplies output column `j` (int8 weights).
fn streaming_matmul<W: Packed>(
    x: &[f32],
    w: &[W],
    scales: Option<&[f32]>,
    y: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
) {
    let out = OutPtr(y.as_mut_ptr());
    let blocks = n.div_ceil(COLUMN_BLOCK);
    let task = |block: usize| {
        let j0 = block * COLUMN_BLOCK;
        let j1 = (j0 + COLUMN_BLOCK).min(n);
        for r0 in (0..m).step_by(ROW_GROUP) {
            let rows = ROW_GROUP.min(m - r0);
            for j in j0..j1 {
                let mut sums = [0f32; ROW_GROUP];
                W::dot_rows(
                    &w[j * k..(j + 1) * k],
                    &x[r0 * k..(r0 + rows) * k],
                    k,
                    &mut sums[..rows],
                );
                let scale = scales.map_or(1.0, |s| s[j]);
                for (r, s) in sums[..rows].iter().enumerate() {
                    // SAFETY: (r0 + r, j) is inside y (m×n); each task owns columns j0..j1.
                    unsafe { *out.get().add((r0 + r) * n + j) = s * scale };
                }
            }
        }
    };
    if n * k >= 1 << 18 && rayon::current_num_threads() > 1 {
        (0..blocks).into_par_iter().for_each(task);
    } else {
        (0..blocks).for_each(task);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Packed;
    use half::f16;
    use std::arch::x86_64::*;

    macro_rules! dot_kernel {
        ($name:ident, $wty:ty, $features:literal, $lanes:literal, $vec:ty, $zero:ident, $load_w:expr,
         $loadx:ident, $fma:ident, $add:ident, $reduce:expr) => {
            #[target_feature(enable = $features)]
            pub unsafe fn $name(w: &[$wty], xs: &[f32], k: usize, sums: &mut [f32]) {
                match sums.len() {
                    1 => run::<1>(w, xs, k, sums),
                    2 => run::<2>(w, xs, k, sums),
                    3 => run::<3>(w, xs, k, sums),
                    _ => run::<4>(w, xs, k, sums),
                }

                #[inline(always)]
                unsafe fn run<const R: usize>(w: &[$wty], xs: &[f32], k: usize, sums: &mut [f32]) {
                    const L: usize = $lanes;
                    let wp = w.as_ptr();
                    let xp = xs.as_ptr();
                    let mut a0: [$vec; R] = [$zero(); R];
                    let mut a1: [$vec; R] = [$zero(); R];
                    let mut i = 0;
                    while i + 2 * L <= k {
                        let w0 = $load_w(wp.add(i));
                        let w1 = $load_w(wp.add(i + L));
                        for r in 0..R {
                            a0[r] = $fma(w0, $loadx(xp.add(r * k + i)), a0[r]);
                            a1[r] = $fma(w1, $loadx(xp.add(r * k + i + L)), a1[r]);
                        }
                        i += 2 * L;
                    }
                    for r in 0..R {
                        let mut s = $reduce($add(a0[r], a1[r]));
                        for t in i..k {
                            s += w[t].widen() * xs[r * k + t];
                        }
                        sums[r] = s;
                    }
                }
            }
        };
    }

    #[inline(always)]
    unsafe fn load_f16_512(p: *const f16) -> __m512 {
        _mm512_cvtph_ps(_mm256_loadu_si256(p as *const __m256i))
    }

    #[inline(always)]
    unsafe fn load_f16_256(p: *const f16) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i))
    }

    #[inline(always)]
    unsafe fn load_i8_512(p: *const i8) -> __m512 {
        _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(p as *const __m128i)))
    }

    #[inline(always)]
    unsafe fn load_i8_256(p: *const i8) -> __m256 {
        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(p as *const __m128i)))
    }

    #[inline(always)]
    unsafe fn reduce_256(v: __m256) -> f32 {
        let lo = _mm256_castps256_ps128(v);
        let hi = _mm256_extractf128_ps(v, 1);
        let s = _mm_add_ps(lo, hi);
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        _mm_cvtss_f32(s)
    }

    dot_kernel!(
        dot_f16_avx512,
        f16,
        "avx512f",
        16,
        __m512,
        _mm512_setzero_ps,
        load_f16_512,
        _mm512_loadu_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        _mm512_reduce_add_ps
    );
    dot_kernel!(
        dot_f16_avx2,
        f16,
        "avx2,fma,f16c",
        8,
        __m256,
        _mm256_setzero_ps,
        load_f16_256,
        _mm256_loadu_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps,
        reduce_256
    );
    dot_kernel!(
        dot_i8_avx512,
        i8,
        "avx512f",
        16,
        __m512,
        _mm512_setzero_ps,
        load_i8_512,
        _mm512_loadu_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        _mm512_reduce_add_ps
    );
    dot_kernel!(
        dot_i8_avx2,
        i8,
        "avx2,fma",
        8,
        __m256,
        _mm256_setzero_ps,
        load_i8_256,
        _mm256_loadu_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps,
        reduce_256
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn check(m: usize, n: usize, k: usize) -> Result<()> {
        let dev = Device::Cpu;
        let w = Tensor::randn(0f32, 0.2, (n, k), &dev)?.to_dtype(DType::F16)?;
        let b = Tensor::randn(0f32, 1.0, n, &dev)?;
        let x = Tensor::randn(0f32, 1.0, (2, m, k), &dev)?;
        let ours =
            PackedLinear::new(PackedWeight::f16(w.clone())?, Some(b.clone()))?.forward(&x)?;
        let theirs =
            candle_nn::Linear::new(w.to_dtype(DType::F32)?, Some(b.clone())).forward(&x)?;
        let diff = (ours - &theirs)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-4, "f16 m={m} n={n} k={k}: {diff}");
        let ours = PackedLinear::new(PackedWeight::f16(w.clone())?, Some(b.clone()))?
            .with_gelu()
            .forward(&x)?;
        let diff = (ours - theirs.gelu_erf()?)?
            .abs()?
            .max_all()?
            .to_scalar::<f32>()?;
        assert!(diff < 1e-4, "f16 + GELU m={m} n={n} k={k}: {diff}");

        // int8: the reference is the f32 layer over the dequantised weights.
        let wf = w.to_dtype(DType::F32)?.to_vec2::<f32>()?;
        let mut codes = Vec::new();
        let mut scales = Vec::new();
        let mut dequant = Vec::new();
        for row in &wf {
            let amax = row.iter().fold(0f32, |a, v| a.max(v.abs()));
            let s = if amax > 0.0 { amax / 127.0 } else { 1.0 };
            scales.push(s);
            for v in row {
                let q = (v / s).round().clamp(-127.0, 127.0) as i8;
                codes.push(q as u8);
                dequant.push(q as f32 * s);
            }
        }
        let packed = PackedWeight::int8(
            Tensor::from_vec(codes, (n, k), &dev)?,
            Tensor::from_vec(scales, n, &dev)?,
        )?;
        let ours = PackedLinear::new(packed.clone(), Some(b.clone()))?.forward(&x)?;
        let dq = Tensor::from_vec(dequant, (n, k), &dev)?;
        let theirs = candle_nn::Linear::new(dq.clone(), Some(b)).forward(&x)?;
        let diff = (ours - theirs)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-4, "int8 m={m} n={n} k={k}: {diff}");
        let ids = Tensor::new(&[0u32, (n - 1) as u32], &dev)?;
        let rows = packed.rows(&ids)?;
        let expected = dq.index_select(&ids, 0)?;
        assert!((rows - expected)?.abs()?.max_all()?.to_scalar::<f32>()? < 1e-7);
        Ok(())
    }

    #[test]
    fn streaming_path_matches_f32_linear_for_every_row_count() -> Result<()> {
        for m in 1..=4 {
            check(m, 1000, 384)?;
        }
        // k not a multiple of the vector width exercises the scalar tail.
        check(3, 70, 37)
    }

    #[test]
    fn widened_path_matches_f32_linear() -> Result<()> {
        check(20, 300, 128)?;
        // Enough rows that bias and GELU run as parallel tasks.
        check(300, 300, 64)
    }
}
