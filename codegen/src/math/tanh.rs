//! The hyperbolic tangent of `a = |x|` (clamped to 20, where `tanh` rounds to 1), its sign
//! copied from `x`: `a + a³ g(a²)` below `ln(3)/2` (`g` a degree-10 Chebyshev fit of
//! `(tanh √z - √z) / z^(3/2)`, within 0.05 ulp of `tanh`), `1 - 2 / (e^(2a) + 1)` with
//! `exp`'s reduction and polynomial above. Both are evaluated, one picked: the quotient
//! `t / (t + 2)` of `t = e^(2a) - 1` everywhere would round its denominator once too many
//! for small `a` (3 ulp near `a = 0.06`).

use crate::math::exp::reduce;
use crate::math::libm;

/// `|x|` is clamped to this: `tanh` of anything larger rounds to 1.
pub(crate) const TANH_CLAMP: f64 = 20.0;
/// Below this `a` (about `ln(3)/2`), the odd polynomial; from it on, the exponential.
pub(crate) const TANH_SMALL: f64 = 0.5493;
/// `g(z)`'s coefficients from `z^10` down to `z^0` (fitted with mpmath's `chebyfit` on
/// `[0, 0.5493²]` at 60 digits, rounded to `f64`).
pub(crate) const TANH_COEFFS: [f64; 11] = [
    -2.0635184405443472e-05,
    8.515973036928387e-05,
    -0.0002346631274569021,
    0.000588945598897686,
    -0.0014556637641338977,
    0.0035921106202983504,
    -0.008863234416113615,
    0.02186948849445927,
    -0.05396825396745134,
    0.13333333333332728,
    -0.3333333333333333,
];

/// `tanh x` by the polynomials, and whether that is `tanh`'s result (`x` is not NaN).
#[inline(always)]
pub(crate) fn tanh_fast(x: f64) -> (f64, bool) {
    let ax = x.abs();
    let a = if ax > TANH_CLAMP { TANH_CLAMP } else { ax };
    let z = a * a;
    let mut g = TANH_COEFFS[0];
    for c in &TANH_COEFFS[1..] {
        g = g * z + *c;
    }
    let small = a + a * (z * g);
    let (p, scale) = reduce(a + a);
    let u = (1.0 + p) * scale;
    let large = 1.0 - 2.0 / (u + 1.0);
    let v = if a < TANH_SMALL { small } else { large };
    (f64::from_bits(v.to_bits() | (x.to_bits() & (1 << 63))), !x.is_nan())
}

/// `tanh x`: the polynomials for every non-NaN `x`, libm for NaN.
#[inline]
pub fn tanh(x: f64) -> f64 {
    let (fast, ok) = tanh_fast(x);
    if ok { fast } else { libm(x, f64::tanh) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_points_and_special_values() {
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(tanh(-5e-324), -5e-324);
        assert_eq!(tanh(1e-200), 1e-200);
        assert_eq!(tanh(f64::INFINITY), 1.0);
        assert_eq!(tanh(f64::NEG_INFINITY), -1.0);
        assert_eq!(tanh(-1e300), -1.0);
        assert_eq!(tanh(19.5), 1.0);
        assert!(tanh(f64::NAN).is_nan());
    }
}
