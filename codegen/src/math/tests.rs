//! Accuracy of the polynomial functions against the platform libm: millions of arguments
//! (random bit patterns over the whole `f64` range, log-uniform magnitudes, uniform draws
//! over each fast path's domain) and dense sweeps near the critical points (zero, multiples
//! of `π/2`, the fast-path bounds, `exp`'s overflow and underflow thresholds, `ln` near 1, at
//! powers of two and on subnormals, huge arguments, NaN, ±inf, ±0.0). Every result must be
//! within [`ULP_BOUND`] of libm's, NaN exactly where libm gives NaN.

use super::*;
use crate::random::RandomStream;

/// The distance in units in the last place between `a` and `b` (0 when both are NaN,
/// `u64::MAX` when only one is).
pub(crate) fn ulps(a: f64, b: f64) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() { 0 } else { u64::MAX };
    }
    let key = |v: f64| {
        let bits = v.to_bits() as i64;
        // Negative values count down from -1 (`-0.0`), so `-0.0` and `0.0` are 1 apart.
        if bits < 0 { i64::MIN - bits - 1 } else { bits }
    };
    key(a).abs_diff(key(b))
}

/// [`ulps`] between two `f32`s, in `f32` units.
fn ulps32(a: f32, b: f32) -> u64 {
    // Negative values count down from -1 (`-0.0`), as in `ulps`.
    let key = |v: f32| {
        let bits = v.to_bits() as i32;
        i64::from(if bits < 0 { i32::MIN - bits - 1 } else { bits })
    };
    match (a.is_nan(), b.is_nan()) {
        (false, false) => key(a).abs_diff(key(b)),
        (true, true) => 0,
        _ => u64::MAX,
    }
}

/// How many draws each random family takes (fewer in unoptimized builds, which are slow).
fn draws() -> u64 {
    if cfg!(debug_assertions) { 200_000 } else { 2_000_000 }
}

/// The largest error of `f` against `libm` over `xs`, and where it occurs.
fn worst(f: fn(f64) -> f64, libm: fn(f64) -> f64, xs: impl Iterator<Item = f64>) -> (u64, f64, usize) {
    let (mut max, mut at, mut n) = (0, 0.0, 0);
    for x in xs {
        let e = ulps(f(x), libm(x));
        if e > max {
            (max, at) = (e, x);
        }
        n += 1;
    }
    (max, at, n)
}

/// Random arguments: any bit pattern, `±2^e · u` for `e` uniform in `exps`, and uniform on
/// `[lo, hi)`.
fn random_args(seed: u64, exps: (i32, i32), lo: f64, hi: f64) -> impl Iterator<Item = f64> {
    let s = RandomStream::new(seed);
    let n = draws();
    let any_bits = (0..n).map(move |i| f64::from_bits(s.bits(i)));
    let log_uniform = (0..n).map(move |i| {
        let b = s.bits(n + i);
        let e = exps.0 + (b % (exps.1 - exps.0 + 1) as u64) as i32;
        let m = 1.0 + s.uniform01(2 * n + i);
        let v = m * 2f64.powi(e);
        if b >> 63 == 1 { -v } else { v }
    });
    let uniform = (0..n).map(move |i| lo + (hi - lo) * s.uniform01(3 * n + i));
    any_bits.chain(log_uniform).chain(uniform)
}

/// `width` consecutive doubles on each side of every point.
fn around(points: Vec<f64>, width: i64) -> impl Iterator<Item = f64> {
    points.into_iter().flat_map(move |p| {
        (-width..=width).map(move |d| {
            let bits = p.to_bits() as i64;
            f64::from_bits(bits.wrapping_add(d) as u64)
        })
    })
}

fn specials() -> Vec<f64> {
    let mut v = vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN, f64::MAX, f64::MIN];
    v.extend([f64::MIN_POSITIVE, 5e-324, 1e-310, 1e22, 1e300, -1e22, -1e300, 1.0, -1.0, 0.5, 2.0]);
    v
}

fn check(name: &str, f: fn(f64) -> f64, libm: fn(f64) -> f64, xs: impl Iterator<Item = f64>) {
    let (max, at, n) = worst(f, libm, xs.chain(specials()));
    eprintln!("{name}: max {max} ulp over {n} arguments (at {at:e})");
    assert!(max <= ULP_BOUND, "{name}({at:e}) = {:e}, libm {:e}: {max} ulp", f(at), libm(at));
}

#[test]
fn exp_is_within_the_bound() {
    let sweeps = around(vec![0.0, 709.0, 708.99, -708.0, -707.9, 709.78, -745.13, -745.2, 1.0, -1.0, 0.3465], 2000);
    let grid = (-800_000..800_000).map(|i| i as f64 * 9.1e-4);
    check("exp", exp, f64::exp, random_args(1, (-60, 10), -708.0, 709.0).chain(sweeps).chain(grid));
}

#[test]
fn ln_is_within_the_bound() {
    let mut points: Vec<f64> = (-1074..1024).map(|e| 2f64.powi(e)).collect();
    points.extend([1.0, std::f64::consts::SQRT_2, std::f64::consts::FRAC_1_SQRT_2, f64::MAX, f64::MIN_POSITIVE]);
    let near_one = (-200_000..200_000).map(|i| 1.0 + i as f64 * 1e-9);
    let subnormals = (1..100_000u64).map(|i| f64::from_bits(i * 45_035_996_273));
    let xs = random_args(2, (-1074, 1023), 0.0, 10.0).chain(around(points, 300)).chain(near_one).chain(subnormals);
    check("ln", ln, f64::ln, xs);
}

/// Multiples of `π/2` (and their neighbours) up to past the fast path's bound.
fn pio2_multiples() -> Vec<f64> {
    let mut ks: Vec<f64> = (-2000..2000).map(f64::from).collect();
    ks.extend((0..4000).map(|i| 200.0 + (i as f64).powi(2) * 0.043).map(f64::round));
    ks.iter().map(|k| k * std::f64::consts::FRAC_PI_2).collect()
}

#[test]
fn sin_and_cos_are_within_the_bound() {
    for (name, f, libm) in [("sin", sin as fn(f64) -> f64, f64::sin as fn(f64) -> f64), ("cos", cos, f64::cos)] {
        let mut points = pio2_multiples();
        points.extend([TRIG_LIMIT, -TRIG_LIMIT, SIN_TINY, -SIN_TINY, std::f64::consts::FRAC_PI_4, 1e22, 1e300]);
        let grid = (-500_000..500_000).map(|i| i as f64 * 1.3e-3);
        let xs = random_args(3, (-40, 25), -1e4, 1e4).chain(around(points, 60)).chain(grid);
        check(name, f, libm, xs);
    }
}

#[test]
fn tanh_is_within_the_bound() {
    let points =
        vec![0.0, 3.7e-9, TANH_SMALL, 0.2554, 0.5493, 0.55, 1.0, 19.0, 20.0, 22.0, 0.3466, std::f64::consts::LN_2];
    let grid = (-500_000..500_000).map(|i| i as f64 * 5e-5);
    let xs = random_args(4, (-40, 8), -25.0, 25.0).chain(around(points.clone(), 3000)).chain(grid);
    let neg = around(points, 3000).map(|x| -x);
    check("tanh", tanh, f64::tanh, xs.chain(neg));
}

#[test]
fn nan_in_nan_out_and_libm_semantics_off_the_fast_path() {
    for op in [UnaryOp::Exp, UnaryOp::Ln, UnaryOp::Sin, UnaryOp::Cos, UnaryOp::Tanh] {
        let f = function(op).expect("covered");
        assert!(covers(op));
        for x in [f64::NAN, -f64::NAN, f64::from_bits(0x7ff0_0000_0000_0001)] {
            assert!(f(x).is_nan(), "{op:?}");
        }
    }
    assert!(!covers(UnaryOp::Tan) && function(UnaryOp::Sqrt).is_none());
    assert_eq!(ulps(1.0, 1.0 + f64::EPSILON), 1);
    assert_eq!(ulps(-0.0, 0.0), 1);
    assert_eq!(ulps(-5e-324, 5e-324), 3);
}

#[test]
fn round_to_int_rounds_ties_to_even() {
    assert_eq!(round_to_int(2.5), (2.0, 2));
    assert_eq!(round_to_int(-3.5), (-4.0, -4));
    assert_eq!(round_to_int(-0.2), (0.0, 0));
    assert_eq!(round_to_int(1e6 + 0.7), (1e6 + 1.0, 1_000_001));
}

/// The `f32` forms against libm's `f32` functions (within [`ULP_BOUND`]: glibc's `tanhf`
/// is itself up to 2 ulp off) and against libm's `f64` functions rounded to `f32` (within
/// 1 ulp): any bit pattern, uniform draws over the common ranges, every `f32` near the
/// bounds that matter, and the special values.
#[test]
fn f32_forms_are_within_the_bound_of_libm() {
    let s = RandomStream::new(11);
    let n = draws();
    let any_bits = (0..n).map(|i| f32::from_bits(s.bits(i) as u32));
    let uniform = (0..n).map(|i| (s.uniform01(n + i) as f32 - 0.5) * 200.0);
    let mut points: Vec<f32> = vec![0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, f32::MAX, 1e-45, 1.0];
    points.extend([88.72, -87.33, -103.97, 1e6, 1048576.0, 20.0, 0.5493, std::f32::consts::FRAC_PI_2]);
    let near: Vec<f32> = points
        .iter()
        .flat_map(|p| (-300..=300).map(move |d| f32::from_bits(p.to_bits().wrapping_add_signed(d))))
        .collect();
    let xs: Vec<f32> = any_bits.chain(uniform).chain(near).collect();
    for op in [UnaryOp::Exp, UnaryOp::Ln, UnaryOp::Sin, UnaryOp::Cos, UnaryOp::Tanh] {
        let f = function_f32(op).unwrap();
        let (libm32, libm64): (fn(f32) -> f32, fn(f64) -> f64) = match op {
            UnaryOp::Exp => (f32::exp, f64::exp),
            UnaryOp::Ln => (f32::ln, f64::ln),
            UnaryOp::Sin => (f32::sin, f64::sin),
            UnaryOp::Cos => (f32::cos, f64::cos),
            _ => (f32::tanh, f64::tanh),
        };
        let rounded = |x: f32| libm64(f64::from(x)) as f32;
        for (what, libm, bound) in [("f32 libm", &libm32 as &dyn Fn(f32) -> f32, ULP_BOUND), ("f64 libm", &rounded, 1)]
        {
            let (max, at) =
                xs.iter().map(|&x| (ulps32(f(x), libm(x)), x)).fold((0, 0.0), |m, e| if e.0 > m.0 { e } else { m });
            eprintln!("{op:?} in f32 against {what}: max {max} ulp over {} arguments (at {at:e})", xs.len());
            assert!(max <= bound, "{op:?}({at:e}) = {:e}, {what} {:e}: {max} ulp", f(at), libm(at));
        }
    }
}

/// `pow` against libm's on pairs: any bit patterns; `x` log-uniform over the whole range
/// with `y` chosen so `y ln x` is uniform over `exp`'s range and past it (the large `|y ln x|`
/// where a one-part logarithm would lose hundreds of ulp); `x` near 1 with huge `y`;
/// integer `y` (negative `x` included); and the special values crossed with each other.
#[test]
fn pow_is_within_the_bound() {
    let s = RandomStream::new(12);
    let n = draws();
    let mut pairs: Vec<(f64, f64)> =
        (0..n).map(|i| (f64::from_bits(s.bits(2 * i)), f64::from_bits(s.bits(2 * i + 1)))).collect();
    pairs.extend((0..2 * n).map(|i| {
        let e = (s.bits(2 * n + i) % 2046) as i32 - 1022;
        let x = (1.0 + s.uniform01(4 * n + i)) * 2f64.powi(e);
        let t = -760.0 + 1480.0 * s.uniform01(6 * n + i);
        (x, if x == 1.0 { t } else { t / x.ln() })
    }));
    pairs.extend((0..n).map(|i| {
        let x = 1.0 + (s.uniform01(8 * n + i) - 0.5) * 1e-6;
        (x, (s.uniform01(9 * n + i) - 0.5) * 1.4e9)
    }));
    pairs.extend((0..n / 4).map(|i| {
        let x = (s.uniform01(10 * n + i) - 0.5) * 40.0;
        (x, ((s.bits(11 * n + i) % 200) as f64) - 100.0)
    }));
    let mut specials = specials();
    specials.extend([0.5, 1.5, -0.5, 3.0, -3.0, 1e-3, 1e10, -1e10, 2f64.powi(60)]);
    pairs.extend(specials.iter().flat_map(|&x| specials.iter().map(move |&y| (x, y))));
    let (mut max, mut at) = (0, (0.0, 0.0));
    for &(x, y) in &pairs {
        let e = ulps(pow(x, y), x.powf(y));
        if e > max {
            (max, at) = (e, (x, y));
        }
    }
    let (x, y) = at;
    eprintln!("pow: max {max} ulp over {} pairs (at {x:e}, {y:e})", pairs.len());
    assert!(max <= ULP_BOUND, "pow({x:e}, {y:e}) = {:e}, libm {:e}: {max} ulp", pow(x, y), x.powf(y));
    // In `f32`: against libm's `f64` `pow` rounded (within 1 ulp, as the unary functions)
    // and against `powf` (within the bound).
    for (what, bound, libm) in [
        ("f64 libm", 1, (|x: f32, y: f32| f64::from(x).powf(f64::from(y)) as f32) as fn(f32, f32) -> f32),
        ("f32 libm", ULP_BOUND, f32::powf),
    ] {
        let (mut max32, mut at32) = (0, (0.0f32, 0.0f32));
        for &(x, y) in &pairs {
            let (x, y) = (x as f32, y as f32);
            let e = ulps32(pow_f32(x, y), libm(x, y));
            if e > max32 {
                (max32, at32) = (e, (x, y));
            }
        }
        eprintln!("pow in f32 against {what}: max {max32} ulp (at {:e}, {:e})", at32.0, at32.1);
        assert!(max32 <= bound, "pow_f32({:e}, {:e}) against {what}: {max32} ulp", at32.0, at32.1);
    }
}
