//! `x^y` as `e^(y ln x)`, with `ln x` and the product `y ln x` carried in two parts (a
//! head of 21 significant bits and a tail), so the product's error stays near 2^-66 of
//! its value: a plain `exp(y * ln(x))` loses up to `|y ln x|` ulp (hundreds near overflow).
//!
//! The steps (the scheme of fdlibm's `pow`, written here in natural logarithms, with
//! Taylor coefficients for the tail of the series):
//!
//! - `x = 2^k m` with `m` in `[√½, √2)` (`ln`'s split), `f = m - 1` (exact) and
//!   `s = f / (m + 1)` as `s_h + s_l`: `s_h` is `s` cut to 21 bits, and
//!   `s_l = (f - s_h (m + 1)) / (m + 1)`, whose numerator is computed without rounding
//!   but for a term 2^-20 of it (`m + 1` is split into a 21-bit head and an exact tail).
//! - `ln m = 2 atanh s = (2/3) s t` with `t = 3 + s² + s⁴ L(s²)`, `L(w) = Σ 3 w^j / (2j + 5)`
//!   (eleven terms: the rest is below 2^-70 of `t` for `|s| < 0.172`). `t` is split into a
//!   21-bit head and a tail (`s_h²` is exact), and `s t = s_h t_h + (s_l t_h + s t_l)`, the
//!   first product exact.
//! - `ln x = k ln 2 + (2/3)(s t)`, each product of heads exact, the sums' rounding errors
//!   kept in the tail, the head cut to 21 bits again; `y ln x = y_h L_h + (y_t L_h + y L_l)`
//!   with `y_h` the 21-bit head of `y`.
//! - `e^(P_h + P_l)`: `exp`'s reduction of `P_h` with `P_l` added to the reduced argument,
//!   and `exp`'s polynomial.
//!
//! The fast path is taken for normal positive finite `x` when `y ln x` lies in `exp`'s fast
//! range (`-708 < y ln x < 709`, so NaN and infinite `y` fall out); everything else (zero,
//! negative, subnormal, infinite or NaN `x`, overflow and underflow) is libm's `pow`, which
//! has C's semantics (`pow(1, NaN) = 1`, `pow(-8, 3) = -512`, ...), as NumPy's `power`.

use crate::math::exp::{EXP_HI, EXP_LO, expm1_reduced, reduce_by_ln2, scale};
use crate::math::ln::split_mantissa;
use crate::math::{LN2_HI, LN2_LO};

/// Keeps the high 32 bits of an `f64`: its sign, exponent and first 20 stored mantissa bits
/// (21 significant bits), so the product of two such heads is exact.
pub(crate) const HEAD: u64 = 0xffff_ffff_0000_0000;

/// `x` cut to its 21-bit head (toward zero).
#[inline(always)]
pub(crate) fn head(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & HEAD)
}

/// `3 / (2j + 5)` for `j = 0..=10`: `t = 3 + s² + s⁴ (c0 + s² (c1 + ...))`.
pub(crate) const ATANH_COEFFS: [f64; 11] = [
    3.0 / 5.0,
    3.0 / 7.0,
    3.0 / 9.0,
    3.0 / 11.0,
    3.0 / 13.0,
    3.0 / 15.0,
    3.0 / 17.0,
    3.0 / 19.0,
    3.0 / 21.0,
    3.0 / 23.0,
    3.0 / 25.0,
];

/// The 21-bit head of `2/3`.
pub(crate) const TWO_THIRDS_HI: f64 = f64::from_bits((2.0f64 / 3.0).to_bits() & HEAD);
/// `2/3 - TWO_THIRDS_HI`, to about 2^-75 (`3 · TWO_THIRDS_HI` and `2 - 3 · TWO_THIRDS_HI`
/// are exact, only the division rounds).
pub(crate) const TWO_THIRDS_LO: f64 = (2.0 - 3.0 * TWO_THIRDS_HI) / 3.0;
/// `2/3` rounded, for the small tail terms.
pub(crate) const TWO_THIRDS: f64 = 2.0 / 3.0;

/// `ln x` as a 21-bit head and a tail, for normal positive finite `x` (anything for others).
#[inline(always)]
pub(crate) fn ln_parts(x: f64) -> (f64, f64) {
    let (m, dk) = split_mantissa(x);
    let f = m - 1.0;
    let d = m + 1.0;
    // One division: `s_h` may be any approximation of `s`, `s_l` only needs ~50 bits.
    let inv = 1.0 / d;
    let ss = f * inv;
    let s_h = head(ss);
    // `m + 1 = d_h + d_l` exactly.
    let d_h = head(d);
    let d_l = m - (d_h - 1.0);
    let s_l = ((f - s_h * d_h) - s_h * d_l) * inv;
    // `t = 3 + s² + s⁴ L(s²)` as `t_h + t_l`, with `s² = s_h² + s_l (s_h + s)`.
    let w = ss * ss;
    let mut q = ATANH_COEFFS[10];
    for c in ATANH_COEFFS[..10].iter().rev() {
        q = *c + w * q;
    }
    let r = (w * w) * q + s_l * (s_h + ss);
    let s2 = s_h * s_h;
    let t_h = head((3.0 + s2) + r);
    let t_l = r - ((t_h - 3.0) - s2);
    // `(3/2) ln m = s t = u + v`, then cut into `p_h + p_l`.
    let u = s_h * t_h;
    let v = s_l * t_h + t_l * ss;
    let p_h = head(u + v);
    let p_l = v - (p_h - u);
    // `ln m = (2/3)(p_h + p_l) = z_h + z_l`.
    let z_h = TWO_THIRDS_HI * p_h;
    let z_l = TWO_THIRDS_LO * p_h + TWO_THIRDS * p_l;
    // `ln x = k ln 2 + ln m`: the head sum's rounding error (two-sum) joins the tail.
    let a = dk * LN2_HI;
    let sum = a + z_h;
    let back = sum - a;
    let err = (a - (sum - back)) + (z_h - back);
    let lo = err + (z_l + dk * LN2_LO);
    let l_h = head(sum + lo);
    (l_h, lo - (l_h - sum))
}

/// `x^y` by the two-part logarithm, and whether that is `pow`'s result (normal positive
/// finite `x` and `-708 < y ln x < 709`).
#[inline(always)]
pub(crate) fn pow_fast(x: f64, y: f64) -> (f64, bool) {
    let (l_h, l_l) = ln_parts(x);
    let y_h = head(y);
    let y_t = y - y_h;
    let p_h = y_h * l_h;
    let p_l = y_t * l_h + y * l_l;
    let z = p_h + p_l;
    let (kf, k) = reduce_by_ln2(z);
    // `r = p_h - k ln 2 + p_l`: the first difference is exact.
    let hi = p_h - kf * LN2_HI;
    let lo = kf * LN2_LO - p_l;
    let p = expm1_reduced(hi - lo);
    let ok = (f64::MIN_POSITIVE..=f64::MAX).contains(&x) && z < EXP_HI && z > EXP_LO;
    ((1.0 + p) * scale(k), ok)
}

/// `x^y`: the two-part logarithm and `exp`'s polynomial where [`pow_fast`] applies, libm's
/// `pow` elsewhere.
#[inline]
pub fn pow(x: f64, y: f64) -> f64 {
    let (fast, ok) = pow_fast(x, y);
    if ok { fast } else { libm_pow(x, y) }
}

/// libm's `pow`, out of line (see `math::libm`).
#[cold]
#[inline(never)]
fn libm_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

/// [`pow`] in `f32`: on the promoted arguments, rounded.
#[inline]
pub fn pow_f32(x: f32, y: f32) -> f32 {
    pow(f64::from(x), f64::from(y)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_multiply_exactly_and_the_constants_are_split_right() {
        assert_eq!(head(1.0 + f64::EPSILON), 1.0);
        assert_eq!(head(-3.75), -3.75);
        assert_eq!(TWO_THIRDS_HI.to_bits() & !HEAD, 0);
        assert!((TWO_THIRDS_HI + TWO_THIRDS_LO - TWO_THIRDS).abs() <= f64::EPSILON);
        assert!(TWO_THIRDS_LO.abs() < 1e-6);
    }

    #[test]
    fn the_two_part_logarithm_is_ln() {
        for x in [0.75, 1.0, 1.0 + 1e-12, 2.0, 3.0, 10.0, 1e-300, 1e300, f64::MIN_POSITIVE, f64::MAX] {
            let (h, l) = ln_parts(x);
            assert_eq!(h.to_bits() & !HEAD, 0, "{x}");
            assert!(((h + l) - x.ln()).abs() <= x.ln().abs() * f64::EPSILON, "{x}: {h} + {l}");
        }
        assert_eq!(ln_parts(1.0), (0.0, 0.0));
    }

    #[test]
    fn exact_points_and_special_values() {
        assert_eq!(pow(2.0, 10.0), 1024.0);
        assert_eq!(pow(10.0, -2.0), 0.01);
        assert_eq!(pow(1.0, 1e300), 1.0);
        assert_eq!(pow(1.0, f64::NAN), 1.0);
        assert_eq!(pow(f64::NAN, 0.0), 1.0);
        assert_eq!(pow(7.5, 0.0), 1.0);
        assert_eq!(pow(-8.0, 3.0), -512.0);
        assert!(pow(-8.0, 1.0 / 3.0).is_nan());
        assert_eq!(pow(0.0, -1.0), f64::INFINITY);
        assert_eq!(pow(-0.0, -3.0), f64::NEG_INFINITY);
        assert_eq!(pow(10.0, 400.0), f64::INFINITY);
        assert_eq!(pow(10.0, -400.0), 0.0);
        assert_eq!(pow(f64::INFINITY, -2.0), 0.0);
        assert_eq!(pow(0.5, f64::INFINITY), 0.0);
        assert_eq!(pow(4.0, 0.5), 2.0);
        assert_eq!(pow_f32(3.0, 4.0), 81.0);
        assert_eq!(pow(2.0, -1074.0), 5e-324, "subnormal results are libm's");
    }
}
