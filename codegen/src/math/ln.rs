//! The natural logarithm (fdlibm's `log` kernel: `x = 2^k m`, `m` in `[√½, √2)`, an even
//! minimax polynomial in `s = f / (2 + f)` with `f = m - 1`).

use crate::math::{LN2_HI, LN2_LO, TO_INT, libm};

/// fdlibm's `Lg1..Lg7`: `ln(1+f) = f - f²/2 + s (f²/2 + R(s²))` with
/// `R(z) = z (Lg1 + z (Lg3 + z (Lg5 + z Lg7))) + z² (Lg2 + z² (Lg4 + z² Lg6))`.
pub(crate) const LG: [f64; 7] = [
    f64::from_bits(0x3fe5_5555_5555_5593),
    f64::from_bits(0x3fd9_9999_9997_fa04),
    f64::from_bits(0x3fd2_4924_9422_9359),
    f64::from_bits(0x3fcc_71c5_1d8e_78af),
    f64::from_bits(0x3fc7_4664_96cb_03de),
    f64::from_bits(0x3fc3_9a09_d078_c69f),
    f64::from_bits(0x3fc2_f112_df3e_5244),
];
/// The top 32 bits of `√½` in place (the low word zero): mantissas at or above it get
/// exponent `-1`, the others exponent `0`.
pub(crate) const SQRT_HALF_HIGH: u64 = 0x3fe6_a09e_0000_0000;
/// Added to `x`'s bits so the exponent field becomes `k + 1023` with `m` in `[√½, √2)`.
pub(crate) const LN_OFFSET: u64 = 0x3ff0_0000_0000_0000 - SQRT_HALF_HIGH;
/// The mantissa field.
const MANTISSA: u64 = (1 << 52) - 1;

/// `x = 2^k m` with `m` in `[√½, √2)`, for normal positive finite `x`: `m`, and `k` as an
/// exact `f64`.
#[inline(always)]
pub(crate) fn split_mantissa(x: f64) -> (f64, f64) {
    let ix = x.to_bits().wrapping_add(LN_OFFSET);
    let m = f64::from_bits((ix & MANTISSA) + SQRT_HALF_HIGH);
    // `k` as an exact `f64`: `(TO_INT + e) - (TO_INT + 1023)`.
    let dk = f64::from_bits(TO_INT.to_bits().wrapping_add(ix >> 52)) - (TO_INT + 1023.0);
    (m, dk)
}

/// `ln x` by the polynomial, and whether that is `ln`'s result (normal positive finite `x`).
#[inline(always)]
pub(crate) fn ln_fast(x: f64) -> (f64, bool) {
    let (m, dk) = split_mantissa(x);
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG[1] + w * (LG[3] + w * LG[5]));
    let t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
    let r = t2 + t1;
    let fast = dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f);
    (fast, (f64::MIN_POSITIVE..=f64::MAX).contains(&x))
}

/// `ln x`: the polynomial for normal positive finite `x`, libm elsewhere (zero, negative,
/// subnormal, infinite and NaN `x`).
#[inline]
pub fn ln(x: f64) -> f64 {
    let (fast, ok) = ln_fast(x);
    if ok { fast } else { libm(x, f64::ln) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_fdlibms() {
        assert_eq!(LG[0], 0.666_666_666_666_673_5);
        assert_eq!(LG[6], 0.147_981_986_051_165_86);
        assert_eq!(TO_INT + 1023.0 - TO_INT, 1023.0);
    }

    #[test]
    fn exact_points_and_special_values() {
        assert_eq!(ln(1.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(-0.0), f64::NEG_INFINITY);
        assert!(ln(-1.0).is_nan());
        assert!(ln(f64::NAN).is_nan());
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert_eq!(ln(2.0), std::f64::consts::LN_2);
        assert_eq!(ln(5e-324), (5e-324f64).ln());
    }
}
