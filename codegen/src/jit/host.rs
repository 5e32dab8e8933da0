//! Host functions that JIT code calls: the transcendental functions, float `rem` and
//! `pow`, integer `pow` and the position-dependent sources (random numbers, `linspace`).
//! Each is the very function (or formula) the interpreter uses, so JIT results agree with it
//! bit for bit, except `exp`, `ln`, `sin`, `cos`, `tanh` and float `pow`: in `f64` those are
//! `crate::math`'s polynomial functions, which the JIT inlines and calls only for lanes off
//! their fast path (where they return libm's result), and in `f32` the same on promoted
//! arguments. None can panic (a panic cannot unwind out of an `extern "C"` function: it
//! would abort).

use kiln_ir::{Distribution, UnaryOp};

use crate::random::RandomStream;
use crate::reference::elementwise::binary::{float_rem, int_pow};

/// The scalar type of a host function's parameters and result, as the JIT declares it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum HostTy {
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `i32`.
    I32,
    /// `i64` (also pointers, which are 64-bit on the targets kiln JITs for).
    I64,
}

/// A host function the JIT may call: its symbol, address and signature.
#[derive(Copy, Clone, Debug)]
pub(super) struct HostFn {
    /// The symbol JIT code imports it by.
    pub(super) name: &'static str,
    /// Its address.
    pub(super) addr: *const u8,
    /// Parameter types.
    pub(super) params: &'static [HostTy],
    /// Result type.
    pub(super) ret: HostTy,
}

macro_rules! unary_fns {
    ($($name:ident: $t:ty => $f:path;)*) => {$(
        extern "C" fn $name(x: $t) -> $t {
            $f(x)
        }
    )*};
}

unary_fns! {
    kiln_sin_f64: f64 => crate::math::sin;
    kiln_cos_f64: f64 => crate::math::cos;
    kiln_tan_f64: f64 => f64::tan;
    kiln_tanh_f64: f64 => crate::math::tanh;
    kiln_exp_f64: f64 => crate::math::exp;
    kiln_ln_f64: f64 => crate::math::ln;
    kiln_log10_f64: f64 => f64::log10;
    kiln_sin_f32: f32 => crate::math::sin_f32;
    kiln_cos_f32: f32 => crate::math::cos_f32;
    kiln_tan_f32: f32 => f32::tan;
    kiln_tanh_f32: f32 => crate::math::tanh_f32;
    kiln_exp_f32: f32 => crate::math::exp_f32;
    kiln_ln_f32: f32 => crate::math::ln_f32;
    kiln_log10_f32: f32 => f32::log10;
}

extern "C" fn kiln_pow_f64(x: f64, y: f64) -> f64 {
    crate::math::pow(x, y)
}

extern "C" fn kiln_pow_f32(x: f32, y: f32) -> f32 {
    crate::math::pow_f32(x, y)
}

extern "C" fn kiln_rem_f64(x: f64, y: f64) -> f64 {
    float_rem(x, y)
}

extern "C" fn kiln_rem_f32(x: f32, y: f32) -> f32 {
    float_rem(x, y)
}

/// Integer power by squaring, wrapping (the JIT checks for negative exponents itself and
/// never passes one; a negative one here would only loop over its bits, without panicking).
extern "C" fn kiln_pow_i64(x: i64, e: i64) -> i64 {
    int_pow(x, e)
}

extern "C" fn kiln_pow_i32(x: i32, e: i32) -> i32 {
    int_pow(x, e)
}

/// The parameters of one random source, owned by its compiled kernel (JIT code holds a
/// pointer to them).
#[derive(Copy, Clone, Debug)]
pub(crate) struct RandomParams {
    /// The seed's stream.
    pub(crate) stream: RandomStream,
    /// The distribution.
    pub(crate) dist: Distribution,
}

/// The value of a random source at flat index `g` (wrapping, as the interpreter's `as u64`).
///
/// # Safety
///
/// `p` points to live `RandomParams`.
unsafe extern "C" fn kiln_random(p: *const RandomParams, g: i64) -> f64 {
    // SAFETY: the caller passes the params its compiled kernel owns.
    let p = unsafe { &*p };
    match p.dist {
        Distribution::Uniform { low, high } => {
            let (low, width) = (low.0, high.0 - low.0);
            low + width * p.stream.uniform01(g as u64)
        }
        Distribution::Normal { mean, std } => mean.0 + std.0 * p.stream.standard_normal(g as u64),
    }
}

/// NumPy's `linspace` parameters, precomputed as the interpreter does (its own type).
pub(crate) use crate::kernel::Linspace as LinspaceParams;

/// The `linspace` element at global position `i`.
///
/// # Safety
///
/// `p` points to live `LinspaceParams`.
unsafe extern "C" fn kiln_linspace(p: *const LinspaceParams, i: i64) -> f64 {
    // SAFETY: the caller passes the params its compiled kernel owns.
    unsafe { &*p }.at(i as usize)
}

use HostTy::*;

/// Every host function, by symbol.
pub(super) fn all() -> Vec<HostFn> {
    let f = |name, addr: *const u8, params, ret| HostFn { name, addr, params, ret };
    vec![
        f("kiln_sin_f64", kiln_sin_f64 as *const u8, &[F64], F64),
        f("kiln_cos_f64", kiln_cos_f64 as *const u8, &[F64], F64),
        f("kiln_tan_f64", kiln_tan_f64 as *const u8, &[F64], F64),
        f("kiln_tanh_f64", kiln_tanh_f64 as *const u8, &[F64], F64),
        f("kiln_exp_f64", kiln_exp_f64 as *const u8, &[F64], F64),
        f("kiln_ln_f64", kiln_ln_f64 as *const u8, &[F64], F64),
        f("kiln_log10_f64", kiln_log10_f64 as *const u8, &[F64], F64),
        f("kiln_sin_f32", kiln_sin_f32 as *const u8, &[F32], F32),
        f("kiln_cos_f32", kiln_cos_f32 as *const u8, &[F32], F32),
        f("kiln_tan_f32", kiln_tan_f32 as *const u8, &[F32], F32),
        f("kiln_tanh_f32", kiln_tanh_f32 as *const u8, &[F32], F32),
        f("kiln_exp_f32", kiln_exp_f32 as *const u8, &[F32], F32),
        f("kiln_ln_f32", kiln_ln_f32 as *const u8, &[F32], F32),
        f("kiln_log10_f32", kiln_log10_f32 as *const u8, &[F32], F32),
        f("kiln_pow_f64", kiln_pow_f64 as *const u8, &[F64, F64], F64),
        f("kiln_pow_f32", kiln_pow_f32 as *const u8, &[F32, F32], F32),
        f("kiln_rem_f64", kiln_rem_f64 as *const u8, &[F64, F64], F64),
        f("kiln_rem_f32", kiln_rem_f32 as *const u8, &[F32, F32], F32),
        f("kiln_pow_i64", kiln_pow_i64 as *const u8, &[I64, I64], I64),
        f("kiln_pow_i32", kiln_pow_i32 as *const u8, &[I32, I32], I32),
        f("kiln_random", kiln_random as *const u8, &[I64, I64], F64),
        f("kiln_linspace", kiln_linspace as *const u8, &[I64, I64], F64),
    ]
}

/// The function computing float unary `op` in `f32`, if `op` needs a host function:
/// `crate::math`'s `f32` forms for the ops it covers, libm's for the rest (a loop of it
/// fills `f32` values, `jit::fills`; the symbols of [`unary_symbol`] call the same
/// functions).
pub(super) fn unary_f32(op: UnaryOp) -> Option<fn(f32) -> f32> {
    use UnaryOp::*;
    match op {
        Tan => Some(f32::tan),
        Log10 => Some(f32::log10),
        op => crate::math::function_f32(op),
    }
}

/// Likewise in `f64`: `crate::math`'s functions for the ops it covers, libm's for the rest.
pub(super) fn unary_f64(op: UnaryOp) -> Option<fn(f64) -> f64> {
    use UnaryOp::*;
    match op {
        Tan => Some(f64::tan),
        Log10 => Some(f64::log10),
        op => crate::math::function(op),
    }
}

/// The symbol of the host function computing float unary `op` in `f32` (`wide == false`)
/// or `f64`, if `op` needs one.
pub(super) fn unary_symbol(op: UnaryOp, wide: bool) -> Option<&'static str> {
    use UnaryOp::*;
    Some(match (op, wide) {
        (Sin, true) => "kiln_sin_f64",
        (Cos, true) => "kiln_cos_f64",
        (Tan, true) => "kiln_tan_f64",
        (Tanh, true) => "kiln_tanh_f64",
        (Exp, true) => "kiln_exp_f64",
        (Ln, true) => "kiln_ln_f64",
        (Log10, true) => "kiln_log10_f64",
        (Sin, false) => "kiln_sin_f32",
        (Cos, false) => "kiln_cos_f32",
        (Tan, false) => "kiln_tan_f32",
        (Tanh, false) => "kiln_tanh_f32",
        (Exp, false) => "kiln_exp_f32",
        (Ln, false) => "kiln_ln_f32",
        (Log10, false) => "kiln_log10_f32",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_compute_the_interpreters_functions() {
        assert_eq!(kiln_sin_f64(1.5).to_bits(), crate::math::sin(1.5).to_bits());
        for op in [UnaryOp::Sin, UnaryOp::Cos, UnaryOp::Tan, UnaryOp::Tanh, UnaryOp::Exp, UnaryOp::Ln, UnaryOp::Log10] {
            assert!(unary_symbol(op, false).is_some() && unary_f32(op).is_some(), "{op:?}");
            assert!(unary_symbol(op, true).is_some() && unary_f64(op).is_some(), "{op:?}");
        }
        assert_eq!(unary_f32(UnaryOp::Tanh).unwrap()(0.7).to_bits(), kiln_tanh_f32(0.7).to_bits());
        assert_eq!(unary_f64(UnaryOp::Log10).unwrap()(7.0).to_bits(), kiln_log10_f64(7.0).to_bits());
        assert!(unary_f32(UnaryOp::Sqrt).is_none() && unary_f64(UnaryOp::Abs).is_none());
        assert_eq!(kiln_tan_f64(1.5).to_bits(), 1.5f64.tan().to_bits());
        assert_eq!(kiln_rem_f64(-5.5, 2.0), 0.5);
        assert_eq!(kiln_pow_i32(3, 4), 81);
        assert_eq!(kiln_pow_i64(2, -1), int_pow(2, -1), "a negative exponent must not panic");
        let l = LinspaceParams::new(0.0, 1.0, 5, true);
        // SAFETY: `l` is live.
        assert_eq!(unsafe { kiln_linspace(&l, 4) }, 1.0);
        let r = RandomParams {
            stream: RandomStream::new(3),
            dist: Distribution::Uniform { low: kiln_ir::F64Bits(0.0), high: kiln_ir::F64Bits(1.0) },
        };
        // SAFETY: `r` is live.
        assert_eq!(unsafe { kiln_random(&r, 9) }, RandomStream::new(3).uniform01(9));
        assert!(all().iter().all(|h| !h.addr.is_null()));
        assert_eq!(unary_symbol(UnaryOp::Sqrt, true), None);
    }
}
