//! `e^x` (fdlibm's Cody–Waite reduction by `ln 2`, a Taylor polynomial of `e^r - 1`), and
//! the reduction and polynomial `tanh` shares.

use crate::math::{libm, round_to_int};

/// `1 / ln 2`.
pub(crate) const INV_LN2: f64 = std::f64::consts::LOG2_E;
/// The high part of `ln 2` (fdlibm's `ln2HI`, 32 significant bits: `k · LN2_HI` is exact).
pub(crate) const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
/// `ln 2 - LN2_HI` (fdlibm's `ln2LO`).
pub(crate) const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// The fast path takes `x < EXP_HI` (so `2^k` with `k = round(x / ln 2) <= 1023` is finite).
pub(crate) const EXP_HI: f64 = 709.0;
/// The fast path takes `x > EXP_LO` (so `2^k` with `k >= -1021` and the result are normal).
pub(crate) const EXP_LO: f64 = -708.0;
/// `1/n!` for `n = 2..=13`: `e^r - 1 = r + r² (c2 + r (c3 + ... + r c13))` for
/// `|r| <= ln 2 / 2` (the first omitted term is below 2^-56 relative to the sum).
pub(crate) const EXPM1_COEFFS: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362880.0,
    1.0 / 3628800.0,
    1.0 / 39916800.0,
    1.0 / 479001600.0,
    1.0 / 6227020800.0,
];

/// `k = round(x / ln 2)` as an `f64` and as an integer (`|x| < 2^50`).
#[inline(always)]
pub(crate) fn reduce_by_ln2(x: f64) -> (f64, i64) {
    round_to_int(x * INV_LN2)
}

/// `e^r - 1` by the Taylor polynomial, for `|r| <= ln 2 / 2` (about).
#[inline(always)]
pub(crate) fn expm1_reduced(r: f64) -> f64 {
    let mut q = EXPM1_COEFFS[11];
    for c in EXPM1_COEFFS[..11].iter().rev() {
        q = *c + r * q;
    }
    r + (r * r) * q
}

/// `2^k` for `-1022 <= k <= 1023`.
#[inline(always)]
pub(crate) fn scale(k: i64) -> f64 {
    f64::from_bits((k.wrapping_add(1023) as u64) << 52)
}

/// `x = k ln 2 + r` with `|r| <= ln 2 / 2` (about; `|x| < 2^50`): `e^r - 1` as the
/// polynomial and `2^k` (valid for `-1022 <= k <= 1023`).
#[inline(always)]
pub(crate) fn reduce(x: f64) -> (f64, f64) {
    let (kf, k) = reduce_by_ln2(x);
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    (expm1_reduced(hi - lo), scale(k))
}

/// `e^x` by the polynomial, and whether that is `exp`'s result (`-708 < x < 709`).
#[inline(always)]
pub(crate) fn exp_fast(x: f64) -> (f64, bool) {
    let (p, scale) = reduce(x);
    ((1.0 + p) * scale, x < EXP_HI && x > EXP_LO)
}

/// `e^x`: the polynomial for `-708 < x < 709`, libm elsewhere (NaN, infinities, overflow,
/// subnormal and zero results).
#[inline]
pub fn exp(x: f64) -> f64 {
    let (fast, ok) = exp_fast(x);
    if ok { fast } else { libm(x, f64::exp) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_fdlibms() {
        assert_eq!(LN2_HI, 0.693_147_180_369_123_8);
        assert_eq!(LN2_LO, 1.908_214_929_270_587_7e-10);
        assert_eq!(LN2_HI.to_bits() & 0x1f_ffff, 0, "k * LN2_HI must be exact");
    }

    #[test]
    fn exact_points_and_special_values() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert_eq!(exp(1e-300), 1.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(-746.0), 0.0);
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(-740.0), (-740.0f64).exp(), "subnormal results are libm's");
    }
}
