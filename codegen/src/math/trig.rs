//! Sine and cosine: fdlibm's medium-size reduction by `π/2` (first round only) and its
//! `__sin`/`__cos` kernels on the reduced head and tail, both evaluated, one picked by the
//! quadrant.

use crate::math::{libm, round_to_int};

/// `2/π`.
pub(crate) const INV_PIO2: f64 = std::f64::consts::FRAC_2_PI;
/// The first 33 bits of `π/2` (`n · PIO2_1` is exact for `|n| < 2^20`).
pub(crate) const PIO2_1: f64 = f64::from_bits(0x3ff9_21fb_5440_0000);
/// `π/2 - PIO2_1`, rounded.
pub(crate) const PIO2_1T: f64 = f64::from_bits(0x3dd0_b461_1a62_6331);
/// The fast path takes `|x| < TRIG_LIMIT`.
pub(crate) const TRIG_LIMIT: f64 = 1048576.0;
/// Below this magnitude `sin x` rounds to `x` (which keeps the sign of `-0.0`).
pub(crate) const SIN_TINY: f64 = 1.0 / 67108864.0;
/// The most bits reducing `x` may cancel (the exponent of `x` less that of the reduced head)
/// before the single-round reduction is not accurate enough.
pub(crate) const MAX_CANCELLED_BITS: i64 = 16;
/// fdlibm's `S1..S6`.
pub(crate) const SIN_COEFFS: [f64; 6] = [
    f64::from_bits(0xbfc5_5555_5555_5549),
    f64::from_bits(0x3f81_1111_1110_f8a6),
    f64::from_bits(0xbf2a_01a0_19c1_61d5),
    f64::from_bits(0x3ec7_1de3_57b1_fe7d),
    f64::from_bits(0xbe5a_e5e6_8a2b_9ceb),
    f64::from_bits(0x3de5_d93a_5acf_d57c),
];
/// fdlibm's `C1..C6`.
pub(crate) const COS_COEFFS: [f64; 6] = [
    f64::from_bits(0x3fa5_5555_5555_554c),
    f64::from_bits(0xbf56_c16c_16c1_5177),
    f64::from_bits(0x3efa_01a0_19cb_1590),
    f64::from_bits(0xbe92_7e4f_809c_52ad),
    f64::from_bits(0x3e21_ee9e_bdb4_b1c4),
    f64::from_bits(0xbda8_fae9_be88_38d4),
];

/// `sin(y + t)` for `|y| <= π/4`, `t` the tail of `y` (fdlibm's `__sin` with `iy = 1`).
#[inline(always)]
fn kernel_sin(y: f64, t: f64) -> f64 {
    let s = SIN_COEFFS;
    let z = y * y;
    let w = z * z;
    let r = s[1] + z * (s[2] + z * s[3]) + z * w * (s[4] + z * s[5]);
    let v = z * y;
    y - ((z * (0.5 * t - v * r) - t) - v * s[0])
}

/// `cos(y + t)` for `|y| <= π/4` (fdlibm's `__cos`).
#[inline(always)]
fn kernel_cos(y: f64, t: f64) -> f64 {
    let c = COS_COEFFS;
    let z = y * y;
    let w = z * z;
    let r = z * (c[0] + z * (c[1] + z * c[2])) + w * w * (c[3] + z * (c[4] + z * c[5]));
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    w + (((1.0 - w) - hz) + (z * r - y * t))
}

/// `x = n π/2 + (y0 + y1)`: the kernels' values at the reduced argument, the quadrant `n`,
/// and whether the reduction is accurate (`|x| < 2^20` and at most 16 bits cancelled).
#[inline(always)]
fn reduce(x: f64) -> (f64, f64, i64, bool) {
    let (fnv, n) = round_to_int(x * INV_PIO2);
    let r = x - fnv * PIO2_1;
    let w = fnv * PIO2_1T;
    let y0 = r - w;
    let y1 = (r - y0) - w;
    let ex = ((x.to_bits() >> 52) & 0x7ff) as i64;
    let ey = ((y0.to_bits() >> 52) & 0x7ff) as i64;
    let ok = (x.abs() < TRIG_LIMIT) & (ex - ey <= MAX_CANCELLED_BITS);
    (kernel_sin(y0, y1), kernel_cos(y0, y1), n, ok)
}

/// `v` with its sign flipped when bit 1 of `q` is set.
#[inline(always)]
fn flip(v: f64, q: i64) -> f64 {
    f64::from_bits(v.to_bits() ^ (((q & 2) as u64) << 62))
}

/// `sin x` by the polynomial, and whether that is `sin`'s result.
#[inline(always)]
pub(crate) fn sin_fast(x: f64) -> (f64, bool) {
    let (s, c, n, ok) = reduce(x);
    let v = if n & 1 == 0 { s } else { c };
    (if x.abs() < SIN_TINY { x } else { flip(v, n) }, ok)
}

/// `cos x` by the polynomial, and whether that is `cos`'s result.
#[inline(always)]
pub(crate) fn cos_fast(x: f64) -> (f64, bool) {
    let (s, c, n, ok) = reduce(x);
    let v = if n & 1 == 0 { c } else { s };
    (flip(v, n.wrapping_add(1)), ok)
}

/// `sin x`: the polynomial for `|x| < 2^20` (but see the module docs), libm elsewhere.
#[inline]
pub fn sin(x: f64) -> f64 {
    let (fast, ok) = sin_fast(x);
    if ok { fast } else { libm(x, f64::sin) }
}

/// `cos x`: the polynomial for `|x| < 2^20` (but see the module docs), libm elsewhere.
#[inline]
pub fn cos(x: f64) -> f64 {
    let (fast, ok) = cos_fast(x);
    if ok { fast } else { libm(x, f64::cos) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_fdlibms() {
        assert_eq!(INV_PIO2.to_bits(), 0x3fe4_5f30_6dc9_c883);
        assert_eq!(SIN_COEFFS[0], -1.666_666_666_666_663_2e-1);
        assert_eq!(COS_COEFFS[5], -1.135_964_755_778_819_5e-11);
        assert_eq!(PIO2_1 + PIO2_1T, std::f64::consts::FRAC_PI_2);
        assert_eq!(SIN_TINY, 2f64.powi(-26));
    }

    #[test]
    fn exact_points_and_special_values() {
        assert_eq!(sin(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(sin(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(cos(-0.0), 1.0);
        assert_eq!(sin(5e-324), 5e-324);
        assert_eq!(sin(-1e-300), -1e-300);
        assert!(sin(f64::NAN).is_nan() && cos(f64::INFINITY).is_nan() && sin(f64::NEG_INFINITY).is_nan());
        assert_eq!(sin(1e22), 1e22f64.sin(), "huge arguments are libm's");
        assert_eq!(cos(1e300), 1e300f64.cos());
    }
}
