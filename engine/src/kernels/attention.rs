//! Scaled dot-product attention computed in blocks of query rows per head: each block's
//! scores stay in a small per-thread buffer (cache-resident) instead of a
//! `[batch, heads, t, t]` tensor that would be allocated, written and read back.
//!
//! Inputs keep the projections' `[batch, t, d_model]` layout (heads are column ranges),
//! so no head split/merge copies are needed, and keys/values may be strided views such as
//! a pre-allocated KV cache.

use super::shared::{matmul, Operand, OutPtr};
use super::vector_math::{row_dots, softmax_prefix, weighted_rows};
use candle_core::{bail, CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;
use std::cell::RefCell;

/// Query rows per task: 128 rows of 1500 scores is 750 KB, inside L2.
const ROWS: usize = 128;

/// Up to this many query rows per task, scores and sums are plain dot products and
/// vector updates: the matrix kernel's packing costs more than it saves there.
const DIRECT_MAX_ROWS: usize = 4;

/// Below this many score entries the whole call runs on the calling thread.
const PARALLEL_MIN_SCORES: usize = 1 << 16;

struct Attention {
    n_head: usize,
    scale: f32,
    /// `Some(offset)`: query row `i` sees keys `0..=offset + i` only.
    causal_offset: Option<usize>,
}

/// A `[batch, t, d]` f32 view with a unit last stride.
struct View<'a> {
    data: &'a [f32],
    start: usize,
    batch_stride: usize,
    row_stride: usize,
    dims: (usize, usize, usize),
}

impl<'a> View<'a> {
    fn new(storage: &'a CpuStorage, layout: &Layout, what: &str) -> Result<Self> {
        let CpuStorage::F32(data) = storage else {
            bail!("attention: {what} must be f32")
        };
        let dims = layout.shape().dims3()?;
        let stride = layout.stride();
        if stride[2] != 1 {
            bail!("attention: {what} needs a contiguous last dimension")
        }
        Ok(Self {
            data,
            start: layout.start_offset(),
            batch_stride: stride[0],
            row_stride: stride[1],
            dims,
        })
    }

    fn ptr(&self, batch: usize, row: usize, col: usize) -> *const f32 {
        let index = self.start + batch * self.batch_stride + row * self.row_stride + col;
        debug_assert!(index < self.data.len());
        self.data[index..].as_ptr()
    }
}

thread_local! {
    static SCORES: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl CustomOp3 for Attention {
    fn name(&self) -> &'static str {
        "stt-attention"
    }

    fn cpu_fwd(
        &self,
        q_storage: &CpuStorage,
        q_layout: &Layout,
        k_storage: &CpuStorage,
        k_layout: &Layout,
        v_storage: &CpuStorage,
        v_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let q = View::new(q_storage, q_layout, "queries")?;
        let k = View::new(k_storage, k_layout, "keys")?;
        let v = View::new(v_storage, v_layout, "values")?;
        let (batch, tq, d) = q.dims;
        let (_, tk, _) = k.dims;
        if k.dims != (batch, tk, d) || v.dims != k.dims {
            bail!(
                "attention: shapes q {:?} k {:?} v {:?} disagree",
                q.dims,
                k.dims,
                v.dims
            )
        }
        if d % self.n_head != 0 || tk == 0 {
            bail!(
                "attention: {d} columns over {} heads, {tk} keys",
                self.n_head
            )
        }
        let mut out = vec![0f32; batch * tq * d];
        let out_ptr = OutPtr(out.as_mut_ptr());
        let blocks = tq.div_ceil(ROWS);
        let task = |index: usize| {
            let (bh, block) = (index / blocks, index % blocks);
            let (b, h) = (bh / self.n_head, bh % self.n_head);
            let r0 = block * ROWS;
            let rows = ROWS.min(tq - r0);
            SCORES.with_borrow_mut(|scores| {
                scores.resize(rows * tk, 0.0);
                if rows <= DIRECT_MAX_ROWS {
                    self.block_direct(&q, &k, &v, scores, out_ptr, (b, h, r0, rows));
                } else {
                    self.block_gemm(&q, &k, &v, scores, out_ptr, (b, h, r0, rows));
                }
            });
        };
        let tasks = batch * self.n_head * blocks;
        if batch * self.n_head * tq * tk >= PARALLEL_MIN_SCORES {
            (0..tasks).into_par_iter().for_each(task);
        } else {
            (0..tasks).for_each(task);
        }
        Ok((CpuStorage::F32(out), Shape::from((batch, tq, d))))
    }
}

/// Which tile a task computes: batch item, head, first query row, query rows.
type Tile = (usize, usize, usize, usize);

impl Attention {
    fn visible_keys(&self, row: usize, tk: usize) -> usize {
        match self.causal_offset {
            Some(offset) => (offset + row + 1).min(tk),
            None => tk,
        }
    }

    /// A tile of a few query rows (decoder steps): dot products and weighted sums.
    fn block_direct(
        &self,
        q: &View,
        k: &View,
        v: &View,
        scores: &mut [f32],
        out: OutPtr,
        tile: Tile,
    ) {
        let (b, h, r0, rows) = tile;
        let (_, tq, d) = q.dims;
        let tk = k.dims.1;
        let dh = d / self.n_head;
        // Keys/values of this head: `tk` rows of `dh` values, `row_stride` apart.
        let head_rows = |view: &View<'_>| -> std::ops::Range<usize> {
            let start = view.start + b * view.batch_stride + h * dh;
            start..start + (tk - 1) * view.row_stride + dh
        };
        let keys = &k.data[head_rows(k)];
        let values = &v.data[head_rows(v)];
        let mut mixed = vec![0f32; dh];
        for (i, row) in scores.chunks_exact_mut(tk).take(rows).enumerate() {
            let start = q.start + b * q.batch_stride + (r0 + i) * q.row_stride + h * dh;
            let query = &q.data[start..start + dh];
            let visible = self.visible_keys(r0 + i, tk);
            row_dots(query, keys, k.row_stride, &mut row[..visible]);
            softmax_prefix(row, visible, self.scale);
            weighted_rows(&row[..visible], values, v.row_stride, &mut mixed);
            let dst = b * tq * d + (r0 + i) * d + h * dh;
            // SAFETY: the output is batch*tq*d long; this task alone owns this tile.
            unsafe { std::ptr::copy_nonoverlapping(mixed.as_ptr(), out.get().add(dst), dh) };
        }
    }

    /// A tile of many query rows (encoder, prefill): two matrix products around softmax.
    fn block_gemm(
        &self,
        q: &View,
        k: &View,
        v: &View,
        scores: &mut [f32],
        out: OutPtr,
        tile: Tile,
    ) {
        let (b, h, r0, rows) = tile;
        let (_, tq, d) = q.dims;
        let tk = k.dims.1;
        let dh = d / self.n_head;
        // SAFETY: pointers and strides describe in-bounds views checked above
        // (dims and strides come from candle layouts of these storages); the
        // output tile (rows r0.., columns h*dh..) belongs to this task alone.
        unsafe {
            // Scores: this head's queries times the transposed keys.
            matmul(
                (rows, tk, dh),
                scores.as_mut_ptr(),
                tk,
                Operand {
                    ptr: q.ptr(b, r0, h * dh),
                    row_stride: q.row_stride,
                    col_stride: 1,
                },
                Operand {
                    ptr: k.ptr(b, 0, h * dh),
                    row_stride: 1,
                    col_stride: k.row_stride,
                },
                Parallelism::None,
            );
        }
        for (i, row) in scores.chunks_exact_mut(tk).enumerate() {
            let visible = self.visible_keys(r0 + i, tk);
            softmax_prefix(row, visible, self.scale);
        }
        // SAFETY: as above; the output tile (rows r0.., columns h*dh..) is this task's.
        unsafe {
            matmul(
                (rows, dh, tk),
                out.get().add(b * tq * d + r0 * d + h * dh),
                d,
                Operand {
                    ptr: scores.as_ptr(),
                    row_stride: tk,
                    col_stride: 1,
                },
                Operand {
                    ptr: v.ptr(b, 0, h * dh),
                    row_stride: v.row_stride,
                    col_stride: 1,
                },
                Parallelism::None,
            );
        }
    }
}

/// Multi-head attention of `q` (`[b, tq, d]`) over `k`, `v` (`[b, tk, d]`), heads being
/// consecutive column ranges; returns `[b, tq, d]`. Scores are scaled by `1/sqrt(d_head)`.
/// With `causal_offset`, query `i` attends to keys `0..=causal_offset + i` only.
///
/// CPU f32 inputs only; callers use candle ops on other devices.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    n_head: usize,
    causal_offset: Option<usize>,
) -> Result<Tensor> {
    if !q.device().is_cpu() || q.dtype() != DType::F32 {
        bail!("attention kernel: CPU f32 tensors only")
    }
    let d = q.dim(2)?;
    let op = Attention {
        n_head,
        scale: 1.0 / ((d / n_head) as f32).sqrt(),
        causal_offset,
    };
    q.apply_op3_no_bwd(k, v, &op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, D};

    /// The textbook formulation on candle ops, heads split explicitly.
    fn reference(
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        n_head: usize,
        causal: Option<usize>,
    ) -> Result<Tensor> {
        let split = |x: &Tensor| -> Result<Tensor> {
            let (b, t, d) = x.dims3()?;
            x.reshape((b, t, n_head, d / n_head))?
                .transpose(1, 2)?
                .contiguous()
        };
        let (b, tq, d) = q.dims3()?;
        let tk = k.dim(1)?;
        let (q, k, v) = (split(q)?, split(k)?, split(v)?);
        let mut scores = (q.matmul(&k.t()?)? / ((d / n_head) as f64).sqrt())?;
        if let Some(offset) = causal {
            let mask: Vec<f32> = (0..tq)
                .flat_map(|i| {
                    (0..tk).map(move |j| {
                        if j > offset + i {
                            f32::NEG_INFINITY
                        } else {
                            0.0
                        }
                    })
                })
                .collect();
            scores = scores.broadcast_add(&Tensor::from_vec(mask, (tq, tk), q.device())?)?;
        }
        let w = candle_nn::ops::softmax(&scores, D::Minus1)?;
        w.matmul(&v)?.transpose(1, 2)?.reshape((b, tq, d))
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
        (a - b)?.abs()?.max_all()?.to_scalar::<f32>()
    }

    #[test]
    fn matches_the_textbook_formula_on_encoder_shapes() -> Result<()> {
        let dev = Device::Cpu;
        let q = Tensor::randn(0f32, 1.0, (2, 75, 48), &dev)?;
        let k = Tensor::randn(0f32, 1.0, (2, 75, 48), &dev)?;
        let v = Tensor::randn(0f32, 1.0, (2, 75, 48), &dev)?;
        let diff = max_diff(
            &attention(&q, &k, &v, 6, None)?,
            &reference(&q, &k, &v, 6, None)?,
        )?;
        assert!(diff < 1e-5, "{diff}");
        Ok(())
    }

    #[test]
    fn causal_mask_with_offset_and_strided_cache_views() -> Result<()> {
        let dev = Device::Cpu;
        // Keys/values as a narrow view of a larger buffer, like a pre-allocated KV cache.
        let cache_k = Tensor::randn(0f32, 1.0, (3, 40, 32), &dev)?;
        let cache_v = Tensor::randn(0f32, 1.0, (3, 40, 32), &dev)?;
        let k = cache_k.narrow(1, 0, 13)?;
        let v = cache_v.narrow(1, 0, 13)?;
        let q = Tensor::randn(0f32, 1.0, (3, 4, 32), &dev)?;
        let ours = attention(&q, &k, &v, 4, Some(9))?;
        let theirs = reference(&q, &k.contiguous()?, &v.contiguous()?, 4, Some(9))?;
        assert!(max_diff(&ours, &theirs)? < 1e-5);
        Ok(())
    }
}
