//! The functions of this module over whole buffers, for the JIT's host-filled values
//! (`crate::jit::fills`): the fast paths of a buffer run as one branch-free loop, which LLVM
//! vectorizes for the widest vectors the CPU has (AVX-512 or AVX2, picked at run time as
//! `kernel::simd` picks: 8 or 4 lanes, where Cranelift's code has 2), and only a buffer with
//! an argument outside a fast path's domain is computed again, element by element, by the
//! full functions. Every lane computes the scalar function's IEEE operations in the same
//! order (Rust forms no fused multiply-add), so the results are the scalar functions' bits.
//! `f32` buffers are computed the same way on promoted values, each result rounded to
//! `f32` ([`batch_f32`], `crate::math::function_f32`).

use kiln_ir::UnaryOp;

#[cfg(target_arch = "x86_64")]
use crate::kernel::simd::{has_avx512, has_wide_vectors};
use crate::math::{cos, exp, ln, pow, sin, tanh};

/// The fast paths, numbered for [`fast_loop`]'s const parameter.
const EXP: u8 = 0;
const LN: u8 = 1;
const SIN: u8 = 2;
const COS: u8 = 3;
const TANH: u8 = 4;

/// `op` (one [`crate::math::covers`]) of every element of `src` into `dst` (of the same
/// length), exactly as the scalar function computes it; `false` for another op (then
/// `dst` is untouched).
pub fn batch(op: UnaryOp, src: &[f64], dst: &mut [f64]) -> bool {
    batch_of(op, src, dst)
}

/// [`batch`] in `f32`: each element the `f64` function of the promoted argument, rounded
/// (exactly `crate::math::function_f32(op)`).
pub fn batch_f32(op: UnaryOp, src: &[f32], dst: &mut [f32]) -> bool {
    batch_of(op, src, dst)
}

/// `x^y` ([`crate::math::pow`]) of every pair of elements of `xs` and `ys` into `dst` (all
/// of one length), exactly as the scalar function computes it.
pub fn batch_pow(xs: &[f64], ys: &[f64], dst: &mut [f64]) {
    run_pow(xs, ys, dst)
}

/// [`batch_pow`] in `f32`: each element [`crate::math::pow_f32`].
pub fn batch_pow_f32(xs: &[f32], ys: &[f32], dst: &mut [f32]) {
    run_pow(xs, ys, dst)
}

/// A float type whose elements the functions take through `f64`.
trait Lane: Copy {
    fn widen(self) -> f64;
    fn narrow(v: f64) -> Self;
}

impl Lane for f64 {
    #[inline(always)]
    fn widen(self) -> f64 {
        self
    }
    #[inline(always)]
    fn narrow(v: f64) -> f64 {
        v
    }
}

impl Lane for f32 {
    #[inline(always)]
    fn widen(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn narrow(v: f64) -> f32 {
        v as f32
    }
}

fn batch_of<T: Lane>(op: UnaryOp, src: &[T], dst: &mut [T]) -> bool {
    match op {
        UnaryOp::Exp => run::<EXP, T>(exp, src, dst),
        UnaryOp::Ln => run::<LN, T>(ln, src, dst),
        UnaryOp::Sin => run::<SIN, T>(sin, src, dst),
        UnaryOp::Cos => run::<COS, T>(cos, src, dst),
        UnaryOp::Tanh => run::<TANH, T>(tanh, src, dst),
        _ => return false,
    }
    true
}

/// Fast path `F` of `x`: the value, and whether it is the full function's.
#[inline(always)]
fn fast<const F: u8>(x: f64) -> (f64, bool) {
    match F {
        EXP => super::exp::exp_fast(x),
        LN => super::ln::ln_fast(x),
        SIN => super::trig::sin_fast(x),
        COS => super::trig::cos_fast(x),
        _ => super::tanh::tanh_fast(x),
    }
}

/// `full` of every element of `src` into `dst`: fast path `F`'s value where it says it is
/// `full`'s, for the whole buffer at once, and if any element is outside that domain,
/// `full` of every element, one at a time.
fn run<const F: u8, T: Lane>(full: fn(f64) -> f64, src: &[T], dst: &mut [T]) {
    let n = src.len().min(dst.len());
    let (src, dst) = (&src[..n], &mut dst[..n]);
    #[cfg(target_arch = "x86_64")]
    let outside = if has_avx512() {
        // SAFETY: the CPU has the features `fast_avx512` enables.
        unsafe { fast_avx512::<F, T>(src, dst) }
    } else if has_wide_vectors() {
        // SAFETY: the CPU has AVX2 (and FMA, which Rust code never forms by itself).
        unsafe { fast_avx2::<F, T>(src, dst) }
    } else {
        fast_loop::<F, T>(src, dst)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let outside = fast_loop::<F, T>(src, dst);
    if outside {
        for (d, &x) in dst.iter_mut().zip(src) {
            *d = T::narrow(full(x.widen()));
        }
    }
}

/// Fast path `F` of every element of `src` into `dst`; whether any element is outside its
/// domain. (Every call here is inlined, so each CPU level's copy below vectorizes the whole
/// polynomial: passed as a closure, as `kernel::simd::wide` takes its loops, the longer
/// polynomials stay out of line, at 2 lanes.)
#[inline(always)]
fn fast_loop<const F: u8, T: Lane>(src: &[T], dst: &mut [T]) -> bool {
    let mut outside = 0u64;
    for (d, &x) in dst.iter_mut().zip(src) {
        let (v, ok) = fast::<F>(x.widen());
        *d = T::narrow(v);
        outside |= u64::from(!ok);
    }
    outside != 0
}

/// [`fast_loop`] compiled for AVX-512 (F, DQ, VL, BW).
///
/// # Safety
///
/// The CPU must have those features.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
unsafe fn fast_avx512<const F: u8, T: Lane>(src: &[T], dst: &mut [T]) -> bool {
    fast_loop::<F, T>(src, dst)
}

/// [`fast_loop`] compiled for AVX2.
///
/// # Safety
///
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fast_avx2<const F: u8, T: Lane>(src: &[T], dst: &mut [T]) -> bool {
    fast_loop::<F, T>(src, dst)
}

/// `pow` of every pair: the fast path for the whole buffer, and if any pair is outside its
/// domain, the full function of every pair, one at a time (as [`run`]).
fn run_pow<T: Lane>(xs: &[T], ys: &[T], dst: &mut [T]) {
    let n = xs.len().min(ys.len()).min(dst.len());
    let (xs, ys, dst) = (&xs[..n], &ys[..n], &mut dst[..n]);
    #[cfg(target_arch = "x86_64")]
    let outside = if has_avx512() {
        // SAFETY: the CPU has the features `pow_avx512` enables.
        unsafe { pow_avx512(xs, ys, dst) }
    } else if has_wide_vectors() {
        // SAFETY: the CPU has AVX2 and FMA.
        unsafe { pow_avx2(xs, ys, dst) }
    } else {
        pow_loop(xs, ys, dst)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let outside = pow_loop(xs, ys, dst);
    if outside {
        for ((d, &x), &y) in dst.iter_mut().zip(xs).zip(ys) {
            *d = T::narrow(pow(x.widen(), y.widen()));
        }
    }
}

/// `pow`'s fast path of every pair into `dst`; whether any pair is outside its domain.
#[inline(always)]
fn pow_loop<T: Lane>(xs: &[T], ys: &[T], dst: &mut [T]) -> bool {
    let mut outside = 0u64;
    for ((d, &x), &y) in dst.iter_mut().zip(xs).zip(ys) {
        let (v, ok) = super::pow::pow_fast(x.widen(), y.widen());
        *d = T::narrow(v);
        outside |= u64::from(!ok);
    }
    outside != 0
}

/// [`pow_loop`] compiled for AVX-512 (F, DQ, VL, BW).
///
/// # Safety
///
/// The CPU must have those features.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
unsafe fn pow_avx512<T: Lane>(xs: &[T], ys: &[T], dst: &mut [T]) -> bool {
    pow_loop(xs, ys, dst)
}

/// [`pow_loop`] compiled for AVX2.
///
/// # Safety
///
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn pow_avx2<T: Lane>(xs: &[T], ys: &[T], dst: &mut [T]) -> bool {
    pow_loop(xs, ys, dst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::RandomStream;

    /// Arguments of every kind: any bits, moderate values, and the special ones.
    fn arguments(n: usize, seed: u64) -> Vec<f64> {
        let s = RandomStream::new(seed);
        let mut xs: Vec<f64> = (0..n as u64)
            .map(|g| match g % 3 {
                0 => f64::from_bits(s.bits(g)),
                1 => (s.uniform01(g) - 0.5) * 60.0,
                _ => (s.uniform01(g) - 0.5) * 4.0,
            })
            .collect();
        xs.extend([0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 5e-324, 1e300, -745.5, 709.5]);
        xs
    }

    #[test]
    fn buffers_equal_the_scalar_functions_bit_for_bit() {
        for op in [UnaryOp::Exp, UnaryOp::Ln, UnaryOp::Sin, UnaryOp::Cos, UnaryOp::Tanh] {
            let f = crate::math::function(op).unwrap();
            // Buffers entirely inside the fast domain, and mixed ones.
            let tame: Vec<f64> = (0..1000).map(|i| 0.01 + i as f64 * 0.003).collect();
            for xs in [tame, arguments(20_000, 3)] {
                for len in [0, 1, 7, 8, 9, 255, 256, xs.len()] {
                    let src = &xs[..len.min(xs.len())];
                    let mut dst = vec![0.5; src.len()];
                    assert!(batch(op, src, &mut dst));
                    for (&x, &d) in src.iter().zip(&dst) {
                        assert_eq!(d.to_bits(), f(x).to_bits(), "{op:?}({x:e})");
                    }
                }
            }
        }
        assert!(!batch(UnaryOp::Tan, &[1.0], &mut [0.0]));
    }

    #[test]
    fn f32_buffers_equal_the_scalar_f32_functions_bit_for_bit() {
        for op in [UnaryOp::Exp, UnaryOp::Ln, UnaryOp::Sin, UnaryOp::Cos, UnaryOp::Tanh] {
            let f = crate::math::function_f32(op).unwrap();
            let s = RandomStream::new(5);
            let mut xs: Vec<f32> =
                (0..30_000u64)
                    .map(|g| {
                        if g % 2 == 0 { f32::from_bits(s.bits(g) as u32) } else { (s.uniform01(g) as f32 - 0.5) * 40.0 }
                    })
                    .collect();
            xs.extend([0.0, -0.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e-45, 3e38, -104.0, 89.0]);
            let tame: Vec<f32> = (0..1000).map(|i| 0.01 + i as f32 * 0.003).collect();
            for xs in [tame, xs] {
                let mut dst = vec![0.5; xs.len()];
                assert!(batch_f32(op, &xs, &mut dst));
                for (&x, &d) in xs.iter().zip(&dst) {
                    assert_eq!(d.to_bits(), f(x).to_bits(), "{op:?}({x:e})");
                }
            }
        }
        assert!(!batch_f32(UnaryOp::Log10, &[1.0], &mut [0.0]));
    }

    #[test]
    fn pow_buffers_equal_the_scalar_pow_bit_for_bit() {
        let tame: Vec<f64> = (0..1000).map(|i| 0.01 + i as f64 * 0.003).collect();
        let (xs, ys) = (arguments(20_000, 6), arguments(20_000, 7));
        for (xs, ys) in [(&tame, &tame.iter().map(|v| v * 3.0 - 1.5).collect()), (&xs, &ys)] {
            for len in [0, 1, 7, 8, 9, 255, xs.len()] {
                let (x, y) = (&xs[..len.min(xs.len())], &ys[..len.min(xs.len())]);
                let mut dst = vec![0.5; x.len()];
                batch_pow(x, y, &mut dst);
                for ((&a, &b), &d) in x.iter().zip(y).zip(&dst) {
                    assert_eq!(d.to_bits(), pow(a, b).to_bits(), "pow({a:e}, {b:e})");
                }
                let (x32, y32): (Vec<f32>, Vec<f32>) = x.iter().zip(y).map(|(&a, &b)| (a as f32, b as f32)).unzip();
                let mut dst32 = vec![0.5f32; x.len()];
                batch_pow_f32(&x32, &y32, &mut dst32);
                for ((&a, &b), &d) in x32.iter().zip(&y32).zip(&dst32) {
                    assert_eq!(d.to_bits(), crate::math::pow_f32(a, b).to_bits(), "pow_f32({a:e}, {b:e})");
                }
            }
        }
    }
}
