//! A transformer MLP with its residual, `x + fc2(fc1(h))`, computed in blocks of rows:
//! the hidden activation (four times the model width) exists for one block at a time
//! instead of for the whole window. For an encoder window of tiny.en that is 1.5 MB
//! instead of 9 MB per worker, which is most of what a worker allocates at its peak.
//!
//! Each output element comes out bit-identical to the unblocked layers: the matrix
//! kernel's accumulation order depends on the inner dimension only, never on how many
//! rows a call has (the test below checks this).

use super::linear::{contiguous, widened_matmul, PackedLinear, STREAMING_MAX_ROWS};
use candle_core::{bail, CpuStorage, CustomOp2, DType, Layout, Module, Result, Shape, Tensor};

/// Rows per block: a 256 × 1536 f32 hidden block is 1.5 MB, and 256 rows keep the matrix
/// kernel as efficient as the whole window (measured, BENCHMARKS.md).
const BLOCK_ROWS: usize = 256;

struct BlockedMlp<'a> {
    fc1: &'a PackedLinear,
    fc2: &'a PackedLinear,
}

fn contiguous_f32<'a>(storage: &'a CpuStorage, layout: &Layout, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        bail!("mlp: {what} must be f32")
    };
    contiguous(data, layout, what)
}

impl CustomOp2 for BlockedMlp<'_> {
    fn name(&self) -> &'static str {
        "stt-blocked-mlp"
    }

    fn cpu_fwd(
        &self,
        h_storage: &CpuStorage,
        h_layout: &Layout,
        r_storage: &CpuStorage,
        r_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (m, d) = h_layout.shape().dims2()?;
        let (hidden_n, d1) = self.fc1.weight().dims()?;
        let (out_n, hidden_k) = self.fc2.weight().dims()?;
        if d1 != d || hidden_k != hidden_n || r_layout.shape().dims2()? != (m, out_n) {
            bail!(
                "mlp: input {m}x{d}, residual {:?}, fc1 {hidden_n}x{d1}, fc2 {out_n}x{hidden_k}",
                r_layout.shape()
            )
        }
        let h = contiguous_f32(h_storage, h_layout, "input")?;
        let residual = contiguous_f32(r_storage, r_layout, "residual")?;
        let w1 = self.fc1.weight().widened()?;
        let w2 = self.fc2.weight().widened()?;
        let mut hidden = vec![0f32; BLOCK_ROWS.min(m) * hidden_n];
        let mut out = vec![0f32; m * out_n];
        for (block, y) in out.chunks_mut(BLOCK_ROWS * out_n).enumerate() {
            let (r0, rows) = (block * BLOCK_ROWS, y.len() / out_n);
            let hidden = &mut hidden[..rows * hidden_n];
            widened_matmul(&h[r0 * d..(r0 + rows) * d], &w1, hidden, rows, hidden_n, d);
            self.fc1.epilogue().apply(hidden, hidden_n);
            widened_matmul(hidden, &w2, y, rows, out_n, hidden_n);
            self.fc2.epilogue().apply(y, out_n);
            for (v, r) in y.iter_mut().zip(&residual[r0 * out_n..]) {
                *v += r;
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((m, out_n))))
    }
}

/// `residual + fc2(fc1(h))` for `h` `[.., d]` and `residual` `[.., out]` (fc1 carries its
/// activation). Few rows (decoder steps) take the layers' own weight-streaming path.
pub fn mlp_with_residual(
    fc1: &PackedLinear,
    fc2: &PackedLinear,
    h: &Tensor,
    residual: &Tensor,
) -> Result<Tensor> {
    let dims = residual.dims().to_vec();
    let rows = h.elem_count() / h.dim(candle_core::D::Minus1)?;
    if rows <= STREAMING_MAX_ROWS {
        return residual + fc2.forward(&fc1.forward(h)?)?;
    }
    let flat = |t: &Tensor| -> Result<Tensor> {
        let last = t.dim(candle_core::D::Minus1)?;
        t.to_dtype(DType::F32)?.reshape((rows, last))?.contiguous()
    };
    flat(h)?
        .apply_op2_no_bwd(&flat(residual)?, &BlockedMlp { fc1, fc2 })?
        .reshape(dims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::PackedWeight;
    use candle_core::Device;

    fn layer(n: usize, k: usize, gelu: bool) -> Result<PackedLinear> {
        let dev = Device::Cpu;
        let w = Tensor::randn(0f32, 0.1, (n, k), &dev)?.to_dtype(DType::F16)?;
        let b = Tensor::randn(0f32, 0.5, n, &dev)?;
        let l = PackedLinear::new(PackedWeight::f16(w)?, Some(b))?;
        Ok(if gelu { l.with_gelu() } else { l })
    }

    #[test]
    fn blocks_give_the_unblocked_layers_bit_for_bit() -> Result<()> {
        let dev = Device::Cpu;
        // tiny.en's widths: fc2's inner dimension (1536) spans several of the kernel's k-blocks.
        let (d, hidden) = (384, 1536);
        let (fc1, fc2) = (layer(hidden, d, true)?, layer(d, hidden, false)?);
        // Rows that leave a partial last block, and a count on the streaming path.
        for rows in [2 * BLOCK_ROWS + 37, 5] {
            let h = Tensor::randn(0f32, 1.0, (1, rows, d), &dev)?;
            let x = Tensor::randn(0f32, 1.0, (1, rows, d), &dev)?;
            let ours = mlp_with_residual(&fc1, &fc2, &h, &x)?;
            let theirs = (&x + fc2.forward(&fc1.forward(&h)?)?)?;
            assert_eq!(ours.dims(), theirs.dims());
            assert_eq!(
                ours.flatten_all()?.to_vec1::<f32>()?,
                theirs.flatten_all()?.to_vec1::<f32>()?,
                "rows={rows}"
            );
        }
        Ok(())
    }
}
