//! Elementwise maths written so the compiler vectorises it (fixed-width lane arrays, no
//! branches), compiled once per instruction set and chosen at run time.
//!
//! `exp` is the Cephes single-precision polynomial (error about 1 ulp, like libm's
//! `expf`); `erf` is Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, under
//! f32 resolution of GELU's output).

use super::shared::{isa, Isa};

const LANES: usize = 16;

#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so n * ln2 is exact in the first part.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the low mantissa
    // bits, so 2^n is built with integer ops only (a float-to-int cast would not
    // vectorise: Rust's `as` saturates).
    const ROUND: f32 = 12_582_912.0;
    const ROUND_BITS: u32 = 0x4B40_0000;
    let x = x.clamp(-87.3, 88.3);
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    let exponent = shifted.to_bits().wrapping_sub(ROUND_BITS).wrapping_add(127);
    let scale = f32::from_bits(exponent << 23);
    e * scale
}

#[inline(always)]
fn erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_8,
        -1.453_152_1,
        1.061_405_4,
    ];
    let a = x.abs();
    let t = 1.0 / (1.0 + P * a);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let y = 1.0 - poly * exp(-a * a);
    y.copysign(x)
}

#[inline(always)]
fn gelu_erf_one(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

#[inline(always)]
fn gelu_erf_generic(src: &[f32], dst: &mut [f32]) {
    for (d, &x) in dst.iter_mut().zip(src) {
        *d = gelu_erf_one(x);
    }
}

#[inline(always)]
fn gelu_erf_in_place_generic(values: &mut [f32]) {
    for v in values {
        *v = gelu_erf_one(*v);
    }
}

#[inline(always)]
fn softmax_generic(row: &mut [f32], len: usize, scale: f32) {
    let (live, masked) = row.split_at_mut(len);
    masked.fill(0.0);
    let mut max = [f32::NEG_INFINITY; LANES];
    let mut chunks = live.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            max[i] = if c[i] > max[i] { c[i] } else { max[i] };
        }
    }
    let mut m = max.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for &v in chunks.remainder() {
        m = m.max(v);
    }
    let shift = m * scale;
    let mut sum = [0f32; LANES];
    let mut chunks = live.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            c[i] = exp(c[i] * scale - shift);
            sum[i] += c[i];
        }
    }
    let mut total = lane_sum(sum);
    for v in chunks.into_remainder() {
        *v = exp(*v * scale - shift);
        total += *v;
    }
    let inv = 1.0 / total;
    for v in live.iter_mut() {
        *v *= inv;
    }
}

/// Sum of the lanes as a tree (independent adds), not a sequential chain.
#[inline(always)]
fn lane_sum(mut acc: [f32; LANES]) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for i in 0..width {
            acc[i] += acc[i + width];
        }
        width /= 2;
    }
    acc[0]
}

/// `a · b`.
#[inline(always)]
fn dot_generic(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

/// `scores[j] = q · rows[j * stride..][..q.len()]`.
#[inline(always)]
fn row_dots_generic(q: &[f32], rows: &[f32], stride: usize, scores: &mut [f32]) {
    for (j, s) in scores.iter_mut().enumerate() {
        *s = dot_generic(q, &rows[j * stride..j * stride + q.len()]);
    }
}

/// `out = Σ_j weights[j] · rows[j * stride..][..out.len()]`.
#[inline(always)]
fn weighted_rows_generic(weights: &[f32], rows: &[f32], stride: usize, out: &mut [f32]) {
    out.fill(0.0);
    let n = out.len();
    for (j, &w) in weights.iter().enumerate() {
        let row = &rows[j * stride..j * stride + n];
        for (d, &v) in out.iter_mut().zip(row) {
            *d += w * v;
        }
    }
}

/// Defines a safe public function that runs `$generic` compiled for the best instruction
/// set of this CPU.
macro_rules! dispatch {
    ($(#[$doc:meta])* $name:ident => $generic:ident ($($arg:ident: $ty:ty),*) $(-> $ret:ty)?) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            unsafe fn wide($($arg: $ty),*) $(-> $ret)? {
                $generic($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn narrow($($arg: $ty),*) $(-> $ret)? {
                $generic($($arg),*)
            }

            match isa() {
                // SAFETY: the CPU supports the instruction set (checked by `isa`).
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => unsafe { wide($($arg),*) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => unsafe { narrow($($arg),*) },
                _ => $generic($($arg),*),
            }
        }
    };
}

dispatch!(
    /// Softmax of `row[..len] * scale` in place; `row[len..]` (causally masked keys) is
    /// set to zero. `len` must be at least 1.
    softmax_prefix => softmax_generic(row: &mut [f32], len: usize, scale: f32)
);
dispatch!(
    /// `dst[i] = x * Φ(x)` with the exact (erf) normal CDF, as in Whisper.
    gelu_erf_slice => gelu_erf_generic(src: &[f32], dst: &mut [f32])
);
dispatch!(
    /// [`gelu_erf_slice`] over `values` in place.
    gelu_erf_in_place => gelu_erf_in_place_generic(values: &mut [f32])
);
dispatch!(
    /// `scores[j] = q · rows[j * stride..][..q.len()]` for every `j` of `scores`: one
    /// query against keys stored `stride` apart.
    row_dots => row_dots_generic(q: &[f32], rows: &[f32], stride: usize, scores: &mut [f32])
);
dispatch!(
    /// `out = Σ_j weights[j] · rows[j * stride..][..out.len()]`: attention weights
    /// applied to values stored `stride` apart.
    weighted_rows => weighted_rows_generic(weights: &[f32], rows: &[f32], stride: usize, out: &mut [f32])
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_libm_across_the_softmax_range() {
        let mut worst = 0f32;
        for i in 0..20_000 {
            let x = -87.0 + i as f32 * 0.0087;
            let rel = ((exp(x) - x.exp()) / x.exp()).abs();
            worst = worst.max(rel);
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
    }

    #[test]
    fn gelu_matches_the_erf_definition() {
        let src: Vec<f32> = (0..4001).map(|i| -10.0 + i as f32 * 0.005).collect();
        let mut dst = vec![0f32; src.len()];
        gelu_erf_slice(&src, &mut dst);
        for (&x, &y) in src.iter().zip(&dst) {
            let reference = 0.5 * x as f64 * (1.0 + libm_erf(x as f64 / std::f64::consts::SQRT_2));
            assert!(
                (y as f64 - reference).abs() < 1e-6 * (1.0 + x.abs() as f64),
                "x={x}: {y} vs {reference}"
            );
        }
    }

    /// erf in f64, independent of the code above: Taylor series below 3, the asymptotic
    /// erfc series above (both far more precise than f32 there).
    fn libm_erf(x: f64) -> f64 {
        let a = x.abs();
        if a >= 3.0 {
            let inv2 = 1.0 / (2.0 * a * a);
            let series =
                1.0 - inv2 + 3.0 * inv2.powi(2) - 15.0 * inv2.powi(3) + 105.0 * inv2.powi(4);
            let erfc = (-a * a).exp() / (a * std::f64::consts::PI.sqrt()) * series;
            return (1.0 - erfc).copysign(x);
        }
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn softmax_sums_to_one_and_masks_the_tail() {
        let mut row: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin() * 20.0).collect();
        let original = row.clone();
        softmax_prefix(&mut row, 30, 0.5);
        let sum: f32 = row[..30].iter().sum();
        assert!((sum - 1.0).abs() < 1e-5);
        assert!(row[30..].iter().all(|&v| v == 0.0));
        let m = original[..30].iter().copied().fold(f32::MIN, f32::max);
        let denom: f64 = original[..30]
            .iter()
            .map(|&v| ((v - m) as f64 * 0.5).exp())
            .sum();
        for i in 0..30 {
            let expected = ((original[i] - m) as f64 * 0.5).exp() / denom;
            assert!((row[i] as f64 - expected).abs() < 1e-6, "{i}");
        }
    }
}
