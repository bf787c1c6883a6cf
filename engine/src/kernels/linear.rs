//! `x · Wᵀ + b` with half-precision weights (the checkpoints' own float16 values) and f32
//! arithmetic.
//!
//! Two regimes:
//! - few input rows (a decoder step: one token per stream): the product is bound by
//!   reading the weights, so half-size weights are read once and converted in registers,
//!   every input row reusing each converted weight row;
//! - many input rows (encoder, prompt prefill): the product is bound by arithmetic, so
//!   the weights are widened to f32 once per call (a small cost next to the product) and
//!   handed to the f32 matrix kernel.

use super::shared::{isa, Isa, OutPtr};
use candle_core::{bail, CpuStorage, CustomOp2, DType, Layout, Module, Result, Shape, Tensor};
use gemm::Parallelism;
use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

/// At most this many input rows take the weight-streaming path.
const STREAMING_MAX_ROWS: usize = 8;
/// Input rows handled together per pass over a weight row.
const ROW_GROUP: usize = 4;
/// Output columns per parallel task on the streaming path.
const COLUMN_BLOCK: usize = 256;

/// A linear layer whose weight is f16 `[out, in]` on the CPU; bias f32 `[out]`.
#[derive(Clone)]
pub struct HalfLinear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl HalfLinear {
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        if weight.dtype() != DType::F16 || !weight.device().is_cpu() || weight.rank() != 2 {
            bail!("HalfLinear: weight must be a 2-D f16 CPU tensor")
        }
        let bias = bias.map(|b| b.to_dtype(DType::F32)).transpose()?;
        Ok(Self {
            weight: weight.contiguous()?,
            bias,
        })
    }

    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

impl Module for HalfLinear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let (n, k) = self.weight.dims2()?;
        let Some((&last, lead)) = dims.split_last() else {
            bail!("HalfLinear: scalar input")
        };
        if last != k {
            bail!("HalfLinear: input has {last} features, weight expects {k}")
        }
        let rows: usize = lead.iter().product();
        let x2 = x.to_dtype(DType::F32)?.reshape((rows, k))?.contiguous()?;
        let mut y = x2.apply_op2_no_bwd(&self.weight, &HalfMatmul)?;
        if let Some(b) = &self.bias {
            y = y.broadcast_add(b)?;
        }
        let mut out_dims = lead.to_vec();
        out_dims.push(n);
        y.reshape(out_dims)
    }
}

/// `[m, k]` f32 × `[n, k]` f16 → `[m, n]` f32.
struct HalfMatmul;

impl CustomOp2 for HalfMatmul {
    fn name(&self) -> &'static str {
        "stt-half-matmul"
    }

    fn cpu_fwd(
        &self,
        x_storage: &CpuStorage,
        x_layout: &Layout,
        w_storage: &CpuStorage,
        w_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(x), CpuStorage::F16(w)) = (x_storage, w_storage) else {
            bail!("stt-half-matmul: expects f32 input and f16 weight")
        };
        let (Some((x0, x1)), Some((w0, w1))) =
            (x_layout.contiguous_offsets(), w_layout.contiguous_offsets())
        else {
            bail!("stt-half-matmul: contiguous operands only")
        };
        let (m, k) = x_layout.shape().dims2()?;
        let (n, k2) = w_layout.shape().dims2()?;
        if k != k2 {
            bail!("stt-half-matmul: inner dimensions {k} and {k2} differ")
        }
        let (x, w) = (&x[x0..x1], &w[w0..w1]);
        let mut y = vec![0f32; m * n];
        if m <= STREAMING_MAX_ROWS {
            streaming_matmul(x, w, &mut y, m, n, k);
        } else {
            widened_matmul(x, w, &mut y, m, n, k);
        }
        Ok((CpuStorage::F32(y), Shape::from((m, n))))
    }
}

fn widened_matmul(x: &[f32], w: &[f16], y: &mut [f32], m: usize, n: usize, k: usize) {
    let mut wide = vec![0f32; w.len()];
    wide.par_chunks_mut(1 << 16)
        .zip(w.par_chunks(1 << 16))
        .for_each(|(dst, src)| src.convert_to_f32_slice(dst));
    let threads = rayon::current_num_threads();
    let parallelism = if threads > 1 && m * n * k >= 1 << 20 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: x is m×k, wide is n×k (read as its k×n transpose), y is m×n; all
    // row-major and exactly that long.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            y.as_mut_ptr(),
            1,
            n as isize,
            false,
            x.as_ptr(),
            1,
            k as isize,
            wide.as_ptr(),
            k as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

fn streaming_matmul(x: &[f32], w: &[f16], y: &mut [f32], m: usize, n: usize, k: usize) {
    let out = OutPtr(y.as_mut_ptr());
    let blocks = n.div_ceil(COLUMN_BLOCK);
    let task = |block: usize| {
        let j0 = block * COLUMN_BLOCK;
        let j1 = (j0 + COLUMN_BLOCK).min(n);
        for r0 in (0..m).step_by(ROW_GROUP) {
            let rows = ROW_GROUP.min(m - r0);
            for j in j0..j1 {
                let w_row = &w[j * k..(j + 1) * k];
                let mut sums = [0f32; ROW_GROUP];
                dot_rows(w_row, &x[r0 * k..(r0 + rows) * k], k, &mut sums[..rows]);
                for (r, s) in sums[..rows].iter().enumerate() {
                    // SAFETY: (r0 + r, j) is inside y (m×n); each task owns columns j0..j1.
                    unsafe { *out.get().add((r0 + r) * n + j) = *s };
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

/// `sums[r] = Σ_i w[i] · xs[r*k + i]` for each of the `sums.len()` (≤ 4) rows of `xs`.
fn dot_rows(w: &[f16], xs: &[f32], k: usize, sums: &mut [f32]) {
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX-512F (checked by `isa`); slices are k long per row.
        Isa::Avx512 => unsafe { x86::dot_rows_avx512(w, xs, k, sums) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX2, FMA and F16C (checked by `isa`).
        Isa::Avx2 => unsafe { x86::dot_rows_avx2(w, xs, k, sums) },
        _ => dot_rows_scalar(w, xs, k, sums),
    }
}

fn dot_rows_scalar(w: &[f16], xs: &[f32], k: usize, sums: &mut [f32]) {
    for (r, s) in sums.iter_mut().enumerate() {
        let x = &xs[r * k..(r + 1) * k];
        *s = w.iter().zip(x).map(|(a, b)| a.to_f32() * b).sum();
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use half::f16;
    use std::arch::x86_64::*;

    macro_rules! dot_kernel {
        ($name:ident, $features:literal, $lanes:literal, $vec:ty, $zero:ident, $load_w:expr,
         $loadx:ident, $fma:ident, $add:ident, $reduce:expr) => {
            #[target_feature(enable = $features)]
            pub unsafe fn $name(w: &[f16], xs: &[f32], k: usize, sums: &mut [f32]) {
                match sums.len() {
                    1 => run::<1>(w, xs, k, sums),
                    2 => run::<2>(w, xs, k, sums),
                    3 => run::<3>(w, xs, k, sums),
                    _ => run::<4>(w, xs, k, sums),
                }

                #[inline(always)]
                unsafe fn run<const R: usize>(w: &[f16], xs: &[f32], k: usize, sums: &mut [f32]) {
                    const L: usize = $lanes;
                    let wp = w.as_ptr() as *const u16;
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
                            s += w[t].to_f32() * xs[r * k + t];
                        }
                        sums[r] = s;
                    }
                }
            }
        };
    }

    #[inline(always)]
    unsafe fn load_w_512(p: *const u16) -> __m512 {
        _mm512_cvtph_ps(_mm256_loadu_si256(p as *const __m256i))
    }

    #[inline(always)]
    unsafe fn load_w_256(p: *const u16) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i))
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
        dot_rows_avx512,
        "avx512f",
        16,
        __m512,
        _mm512_setzero_ps,
        load_w_512,
        _mm512_loadu_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        _mm512_reduce_add_ps
    );
    dot_kernel!(
        dot_rows_avx2,
        "avx2,fma,f16c",
        8,
        __m256,
        _mm256_setzero_ps,
        load_w_256,
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
        let ours = HalfLinear::new(w.clone(), Some(b.clone()))?.forward(&x)?;
        let theirs = candle_nn::Linear::new(w.to_dtype(DType::F32)?, Some(b)).forward(&x)?;
        let diff = (ours - theirs)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-4, "m={m} n={n} k={k}: {diff}");
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
        check(20, 300, 128)
    }
}
