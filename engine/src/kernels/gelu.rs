//! Exact (erf) GELU as a candle op with a vectorised CPU kernel.

use super::vector_math::{gelu_erf_in_place as gelu_values_in_place, gelu_erf_slice};
use candle_core::{bail, CpuStorage, CustomOp1, DType, InplaceOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Elements per parallel task: big enough that scheduling is noise.
const CHUNK: usize = 1 << 15;

struct GeluErf;

impl CustomOp1 for GeluErf {
    fn name(&self) -> &'static str {
        "stt-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(data) = storage else {
            bail!("stt-gelu-erf: f32 only")
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("stt-gelu-erf: contiguous input only")
        };
        let src = &data[start..end];
        let mut out = vec![0f32; src.len()];
        if src.len() > CHUNK {
            out.par_chunks_mut(CHUNK)
                .zip(src.par_chunks(CHUNK))
                .for_each(|(d, s)| gelu_erf_slice(s, d));
        } else {
            gelu_erf_slice(src, &mut out);
        }
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

impl InplaceOp1 for GeluErf {
    fn name(&self) -> &'static str {
        "stt-gelu-erf-in-place"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let CpuStorage::F32(data) = storage else {
            bail!("stt-gelu-erf: f32 only")
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("stt-gelu-erf: contiguous input only")
        };
        data[start..end]
            .par_chunks_mut(CHUNK)
            .for_each(gelu_values_in_place);
        Ok(())
    }
}

/// [`gelu_erf`] reusing `x`'s buffer on the CPU (no second activation-sized
/// allocation). `x` must not share its storage with a tensor still in use: pass the
/// fresh output of an op.
pub fn gelu_erf_in_place(x: Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 && x.is_contiguous() {
        x.inplace_op1(&GeluErf)?;
        Ok(x)
    } else {
        x.gelu_erf()
    }
}

/// `x * Φ(x)`; the CPU kernel for contiguous f32, candle's op otherwise.
pub fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 && x.is_contiguous() {
        x.apply_op1_no_bwd(&GeluErf)
    } else {
        x.gelu_erf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_candles_gelu_erf() -> Result<()> {
        let x = Tensor::randn(0f32, 3.0, (3, 50_000), &Device::Cpu)?;
        let ours = gelu_erf(&x)?;
        let theirs = x.gelu_erf()?;
        let in_place = gelu_erf_in_place(x.copy()?)?;
        assert_eq!(
            in_place.flatten_all()?.to_vec1::<f32>()?,
            ours.flatten_all()?.to_vec1::<f32>()?
        );
        let diff = (ours - theirs)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 2e-6, "max difference {diff}");
        Ok(())
    }
}
