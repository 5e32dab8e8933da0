//! Branch-free polynomial implementations of `exp`, `ln`, `sin`, `cos`, `tanh` and `pow`
//! for `f64`: the scalar Rust reference of the code the JIT emits on two-lane vectors
//! (`crate::jit::math` emits exactly these IEEE operations in exactly this order, so JIT
//! results equal these functions bit for bit).
//!
//! Each function is written as a *fast path* (range reduction, a polynomial evaluated in a
//! fixed order, exponent reconstruction with integer bit operations; no fused multiply-add,
//! no table, no branch) plus a *domain test* (`exp_fast` etc. return both; [`batch`] runs
//! them over whole buffers on the CPU's widest vectors, [`batch_pow`] `pow`). Where the
//! test fails, the function returns the
//! platform libm's result instead (Rust's `f64::exp` etc.), so NaN, infinities, overflow,
//! underflow and huge arguments get libm's exact semantics and payloads:
//!
//! | function | fast path for | otherwise libm |
//! |---|---|---|
//! | [`exp`] | `-708 < x < 709` | NaN, ±inf, overflow and (gradual) underflow |
//! | [`ln`] | normal positive finite `x` | 0, negatives, subnormals, +inf, NaN |
//! | [`sin`], [`cos`] | `\|x\| < 2^20`, unless reducing `x` by `π/2` cancels more than 16 bits | NaN, ±inf, huge `x`, `x` very close to a multiple of `π/2` |
//! | [`tanh`] | every non-NaN `x` (`\|x\| > 20` gives `±1`) | NaN |
//! | [`pow`] | normal positive finite `x` with `-708 < y ln x < 709` | `x <= 0` (integer `y` included), subnormal, infinite or NaN `x` or `y`, overflow and underflow |
//!
//! The algorithms are fdlibm's (as in musl): `exp` reduces `x = k ln2 + r` with a two-part
//! Cody–Waite `ln2` and sums the degree-13 Taylor polynomial of `e^r - 1` by Horner's rule;
//! `ln` splits `x = 2^k m` with `m` in `[√½, √2)` and uses fdlibm's `log` kernel (an even
//! minimax polynomial in `s = (m-1)/(m+1)`); `sin`/`cos` reduce by `π/2` with a 33+53-bit
//! Cody–Waite split (fdlibm's `__rem_pio2` first round, good to about 85 bits) and run
//! fdlibm's `__sin`/`__cos` kernels on the head and tail, both kernels always, picking one
//! by the quadrant; `tanh` is `t / (t + 2)` with `t = e^(2|x|) - 1` from the `exp`
//! reduction, its sign copied from `x`; `pow` is `e^(y ln x)` with `ln x` and `y ln x` each
//! carried in two parts (fdlibm's `pow` scheme, see [`pow`](mod@pow)), then `exp`'s
//! reduction and polynomial.
//!
//! Accuracy, measured by this module's tests against the platform libm (glibc, itself
//! correctly rounded or within 1 ulp) on millions of arguments across the whole exponent
//! range and dense sweeps near the critical points: within [`ULP_BOUND`] ulp for every
//! function. The maxima found (about 7.5 million arguments each): `exp`, `ln`, `sin`, `cos`
//! 1 ulp; `tanh` 2 ulp (where glibc's own `tanh` is 1 ulp off the true value); `pow` 1 ulp
//! over 8.5 million pairs, most with `|y ln x|` up to 760. The JIT's
//! `f32` forms ([`function_f32`]) are these functions on promoted arguments, rounded: on 4
//! million arguments, equal to libm's `f64` functions rounded to `f32`, and within 1 ulp of
//! libm's `f32` functions (2 for `tanhf`, itself 2 ulp off; 1 for `powf`). `tan` and
//! `log10` keep calling libm.
//!
//! The kernel interpreter keeps libm (its results are the reference interpreter's bit for
//! bit, which its differential tests check), so JIT and interpreter agree within
//! [`ULP_BOUND`] on these functions. In this crate's tests the interpreter can be switched
//! to these functions per thread ([`with_polynomials_in_interpreter`]) so the JIT's
//! differential tests compare whole random kernels bit for bit.

mod batch;
mod exp;
mod ln;
mod pow;
mod tanh;
mod trig;

pub use batch::{batch, batch_f32, batch_pow, batch_pow_f32};
pub use exp::exp;
pub use ln::ln;
pub use pow::{pow, pow_f32};
pub use tanh::tanh;
pub use trig::{cos, sin};

pub(crate) use exp::{EXP_HI, EXP_LO, EXPM1_COEFFS, INV_LN2, LN2_HI, LN2_LO};
pub(crate) use ln::{LG, LN_OFFSET, SQRT_HALF_HIGH};
pub(crate) use pow::{ATANH_COEFFS, HEAD, TWO_THIRDS, TWO_THIRDS_HI, TWO_THIRDS_LO};
pub(crate) use tanh::{TANH_CLAMP, TANH_COEFFS, TANH_SMALL};
pub(crate) use trig::{COS_COEFFS, INV_PIO2, MAX_CANCELLED_BITS, PIO2_1, PIO2_1T, SIN_COEFFS, SIN_TINY, TRIG_LIMIT};

use kiln_ir::UnaryOp;

/// The largest error, in units in the last place of the libm result, of any function here
/// ([`pow`] included).
pub const ULP_BOUND: u64 = 2;

/// `1.5 · 2^52`: adding it to a value of magnitude below `2^51` rounds the value to an
/// integer (ties to even) held in the low bits of the sum's representation.
pub(crate) const TO_INT: f64 = 6755399441055744.0;

/// The `f64` unary ops this module implements.
pub fn covers(op: UnaryOp) -> bool {
    matches!(op, UnaryOp::Exp | UnaryOp::Ln | UnaryOp::Sin | UnaryOp::Cos | UnaryOp::Tanh)
}

/// The function computing `op` (one [`covers`]).
pub fn function(op: UnaryOp) -> Option<fn(f64) -> f64> {
    Some(match op {
        UnaryOp::Exp => exp,
        UnaryOp::Ln => ln,
        UnaryOp::Sin => sin,
        UnaryOp::Cos => cos,
        UnaryOp::Tanh => tanh,
        _ => return None,
    })
}

/// The `f32` form of an op [`covers`], as the JIT computes it: the `f64` function of the
/// promoted argument, rounded to `f32`. The `f64` result is within 1 ulp of `f64`, so the
/// rounded one is the correctly rounded `f32` value, or 1 ulp from it where the exact value
/// lies within an `f64` ulp of a rounding boundary between two `f32`s; libm's `f32`
/// functions (the interpreter's) are within 1 ulp too, and the two differ by at most 1 ulp,
/// 2 for `tanh`, where glibc's `tanhf` is itself 2 ulp off (this module's tests). `math::batch_f32` computes it on whole buffers.
pub fn function_f32(op: UnaryOp) -> Option<fn(f32) -> f32> {
    Some(match op {
        UnaryOp::Exp => exp_f32,
        UnaryOp::Ln => ln_f32,
        UnaryOp::Sin => sin_f32,
        UnaryOp::Cos => cos_f32,
        UnaryOp::Tanh => tanh_f32,
        _ => return None,
    })
}

macro_rules! f32_forms {
    ($($name:ident => $f:ident;)*) => {$(
        #[doc = concat!("`", stringify!($f), "` in `f32` (see [`function_f32`]).")]
        #[inline]
        pub fn $name(x: f32) -> f32 {
            $f(f64::from(x)) as f32
        }
    )*};
}

f32_forms! {
    exp_f32 => exp;
    ln_f32 => ln;
    sin_f32 => sin;
    cos_f32 => cos;
    tanh_f32 => tanh;
}

/// `f(x)` for the libm function `f`, out of line: a plain `if ok { fast } else { x.sin() }`
/// lets LLVM, which knows libm's functions have no side effects, call libm for every
/// argument and select afterwards.
#[cold]
#[inline(never)]
pub(crate) fn libm(x: f64, f: fn(f64) -> f64) -> f64 {
    f(x)
}

/// `x` rounded to the nearest integer (ties to even) as `TO_INT + k`: the rounded value as
/// an `f64` and the integer `k` read from the sum's bits (`|x| < 2^51`).
#[inline(always)]
pub(crate) fn round_to_int(x: f64) -> (f64, i64) {
    let t = x + TO_INT;
    (t - TO_INT, (t.to_bits() as i64).wrapping_sub(TO_INT.to_bits() as i64))
}

#[cfg(test)]
thread_local! {
    static IN_INTERPRETER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the kernel interpreter computes the ops [`covers`] with these functions on this
/// thread (never outside this crate's tests).
#[inline]
pub(crate) fn in_interpreter() -> bool {
    #[cfg(test)]
    {
        IN_INTERPRETER.with(|c| c.get())
    }
    #[cfg(not(test))]
    {
        false
    }
}

/// Runs `f` with the kernel interpreter computing the ops [`covers`] with these functions
/// on this thread, as the JIT does (tests only).
#[cfg(test)]
pub(crate) fn with_polynomials_in_interpreter<R>(f: impl FnOnce() -> R) -> R {
    let before = IN_INTERPRETER.with(|c| c.replace(true));
    let r = f();
    IN_INTERPRETER.with(|c| c.set(before));
    r
}

#[cfg(test)]
pub(crate) mod tests;
