//! Hand-tuned CPU kernels for the few operations where candle's generic CPU ops cost more
//! than the matrix products around them: attention (scores, softmax and weighted sum in
//! cache-sized blocks, no `[heads, t, t]` tensor) and the exact erf GELU.
//!
//! Each kernel is a candle custom op: on the CPU it runs the code here; on other devices
//! the callers use candle's own ops, so GPU builds keep working unchanged.

mod attention;
mod gelu;
mod linear;
mod mapped;
mod shared;
mod vector_math;

pub use attention::attention;
pub use gelu::gelu_erf;
pub use linear::{PackedLinear, PackedWeight};
pub use mapped::{HalfMatrix, WeightsFile};
