//! Hand-tuned CPU kernels for the few operations where candle's generic CPU ops cost more
//! than the matrix products around them: attention (scores, softmax and weighted sum in
//! cache-sized blocks, no `[heads, t, t]` tensor), the exact erf GELU, products with
//! compact weights, and the MLP in row blocks.
//!
//! Each kernel is a candle custom op: on the CPU it runs the code here; on other devices
//! the callers use candle's own ops, so GPU builds keep working unchanged.

mod attention;
mod gelu;
mod linear;
mod mapped;
mod mlp;
mod shared;
mod vector_math;

pub use attention::attention;
pub use gelu::{gelu_erf, gelu_erf_in_place};
pub use linear::{PackedLinear, PackedWeight};
pub use mapped::{HalfMatrix, WeightsFile};
pub use mlp::mlp_with_residual;
