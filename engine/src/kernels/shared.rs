//! What the kernels share: the instruction set chosen at run time, and a raw output
//! pointer for tasks that write disjoint parts of one buffer.

/// Vector instruction set of this CPU, checked once.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Isa {
    Avx512,
    /// AVX2 with FMA and F16C.
    Avx2,
    Baseline,
}

pub(crate) fn isa() -> Isa {
    static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
    *ISA.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
                && std::arch::is_x86_feature_detected!("f16c")
            {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    })
}

/// Output pointer shared by tasks that each write their own disjoint elements.
#[derive(Clone, Copy)]
pub(crate) struct OutPtr(pub *mut f32);

// SAFETY: users guarantee that concurrent tasks never write the same element and that
// the buffer outlives them (they run inside a scoped rayon call).
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// Method access so closures capture the whole (Send) wrapper, not the raw field.
    pub(crate) fn get(self) -> *mut f32 {
        self.0
    }
}

/// A matrix operand for [`matmul`]: first element, then the strides (in elements) between
/// rows and between columns.
#[derive(Clone, Copy)]
pub(crate) struct Operand {
    pub ptr: *const f32,
    pub row_stride: usize,
    pub col_stride: usize,
}

/// `dst = lhs · rhs` with f32 `lhs` (m×k) and `rhs` (k×n); `dst` is m×n with unit column
/// stride and `dst_row_stride` between rows (so it can be a tile of a wider matrix).
///
/// # Safety
/// Every element the shapes and strides address must be inside live allocations, and no
/// other thread may write the `dst` tile meanwhile.
pub(crate) unsafe fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: *mut f32,
    dst_row_stride: usize,
    lhs: Operand,
    rhs: Operand,
    parallelism: gemm::Parallelism,
) {
    gemm::gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_row_stride as isize,
        false,
        lhs.ptr,
        lhs.col_stride as isize,
        lhs.row_stride as isize,
        rhs.ptr,
        rhs.col_stride as isize,
        rhs.row_stride as isize,
        0.0,
        1.0,
        false,
        false,
        false,
        parallelism,
    );
}
