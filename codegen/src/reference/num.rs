//! Numeric traits the reference kernels are generic over (`Num` for every dtype, `Float`,
//! `Int`, NumPy's `astype` conversions in `CastFrom`) and macros that dispatch on dtypes.

use std::ops::{Add, Div, Mul, Neg, Rem, Sub};

use kiln_ir::Element;

/// What every kernel needs of an element type (`bool`, `i32`, `i64`, `f32`, `f64`).
pub(crate) trait Num: Element {
    /// The identity of `min`: the largest value (`+inf`, `MAX`, `true`).
    const MIN_IDENTITY: Self;
    /// The identity of `max`: the smallest value (`-inf`, `MIN`, `false`).
    const MAX_IDENTITY: Self;
    /// The value as `f64` (`true` is 1).
    fn to_f64(self) -> f64;
    /// The value as `i64` (`true` is 1; floats truncate, which no kernel relies on).
    fn to_i64(self) -> i64;
    /// Whether the value is NaN (never for integers and bools).
    fn is_nan(self) -> bool;
    /// Whether the value is non-zero (NaN counts as non-zero, as in NumPy).
    fn nonzero(self) -> bool;
}

/// `f32` and `f64`: IEEE arithmetic and the math functions, computed in the type itself.
pub(crate) trait Float:
    Num
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Rem<Output = Self>
    + Neg<Output = Self>
{
    /// Zero.
    const ZERO: Self;
    /// `self` to the power `e`.
    fn powf(self, e: Self) -> Self;
    /// `self` to the power `e` as the JIT computes it (`crate::math::pow`, in `f64`).
    fn pow_polynomial(self, e: Self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// `e^self`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Base-10 logarithm.
    fn log10(self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// Tangent.
    fn tan(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Largest integer not above.
    fn floor(self) -> Self;
    /// Smallest integer not below.
    fn ceil(self) -> Self;
    /// Nearest integer, ties to even.
    fn round_ties_even(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// The magnitude of `self` with the sign of `sign`.
    fn copysign(self, sign: Self) -> Self;
}

/// `i32` and `i64`: wrapping arithmetic, as NumPy's fixed-width integers.
pub(crate) trait Int: Num {
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Wrapping `+`.
    fn wrapping_add(self, o: Self) -> Self;
    /// Wrapping `-`.
    fn wrapping_sub(self, o: Self) -> Self;
    /// Wrapping `*`.
    fn wrapping_mul(self, o: Self) -> Self;
    /// Wrapping negation (`MIN` stays `MIN`).
    fn wrapping_neg(self) -> Self;
    /// Wrapping absolute value (`MIN` stays `MIN`).
    fn wrapping_abs(self) -> Self;
    /// Truncated remainder that never traps (`MIN % -1 == 0`); `o` must be non-zero.
    fn wrapping_rem(self, o: Self) -> Self;
    /// The value as `u64` bits (for exponents, which are non-negative when this is used).
    fn to_u64(self) -> u64;
}

macro_rules! float {
    ($t:ty) => {
        impl Num for $t {
            const MIN_IDENTITY: Self = <$t>::INFINITY;
            const MAX_IDENTITY: Self = <$t>::NEG_INFINITY;
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
            fn to_i64(self) -> i64 {
                self as i64
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn nonzero(self) -> bool {
                self != 0.0
            }
        }
        impl Float for $t {
            const ZERO: Self = 0.0;
            fn powf(self, e: Self) -> Self {
                <$t>::powf(self, e)
            }
            fn pow_polynomial(self, e: Self) -> Self {
                crate::math::pow(self as f64, e as f64) as $t
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn log10(self) -> Self {
                <$t>::log10(self)
            }
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            fn tan(self) -> Self {
                <$t>::tan(self)
            }
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            fn ceil(self) -> Self {
                <$t>::ceil(self)
            }
            fn round_ties_even(self) -> Self {
                <$t>::round_ties_even(self)
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn copysign(self, sign: Self) -> Self {
                <$t>::copysign(self, sign)
            }
        }
    };
}
float!(f32);
float!(f64);

macro_rules! int {
    ($t:ty) => {
        impl Num for $t {
            const MIN_IDENTITY: Self = <$t>::MAX;
            const MAX_IDENTITY: Self = <$t>::MIN;
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn to_i64(self) -> i64 {
                i64::from(self)
            }
            fn is_nan(self) -> bool {
                false
            }
            fn nonzero(self) -> bool {
                self != 0
            }
        }
        impl Int for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            fn wrapping_add(self, o: Self) -> Self {
                <$t>::wrapping_add(self, o)
            }
            fn wrapping_sub(self, o: Self) -> Self {
                <$t>::wrapping_sub(self, o)
            }
            fn wrapping_mul(self, o: Self) -> Self {
                <$t>::wrapping_mul(self, o)
            }
            fn wrapping_neg(self) -> Self {
                <$t>::wrapping_neg(self)
            }
            fn wrapping_abs(self) -> Self {
                <$t>::wrapping_abs(self)
            }
            fn wrapping_rem(self, o: Self) -> Self {
                <$t>::wrapping_rem(self, o)
            }
            fn to_u64(self) -> u64 {
                self as u64
            }
        }
    };
}
int!(i32);
int!(i64);

impl Num for bool {
    const MIN_IDENTITY: Self = true;
    const MAX_IDENTITY: Self = false;
    fn to_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
    fn is_nan(self) -> bool {
        false
    }
    fn nonzero(self) -> bool {
        self
    }
}

/// NaN-propagating maximum (NumPy's `maximum`: `a` when `a >= b` or `a` is NaN, else `b`).
pub(crate) fn maximum<T: Num>(a: T, b: T) -> T {
    if a >= b || a.is_nan() { a } else { b }
}

/// NaN-propagating minimum (NumPy's `minimum`).
pub(crate) fn minimum<T: Num>(a: T, b: T) -> T {
    if a <= b || a.is_nan() { a } else { b }
}

/// NumPy's `astype` with unsafe casting: integers wrap, floats truncate toward zero and
/// saturate (NaN becomes 0; NumPy leaves these cases undefined), anything to `bool` tests
/// for non-zero (NaN is `true`), `bool` becomes 0 or 1.
pub(crate) trait CastFrom<S>: Sized {
    /// Converts `s`.
    fn cast_from(s: S) -> Self;
}

macro_rules! cast_numbers {
    ($($from:ty),*) => {$(
        impl CastFrom<$from> for i32 {
            fn cast_from(s: $from) -> Self { s as i32 }
        }
        impl CastFrom<$from> for i64 {
            fn cast_from(s: $from) -> Self { s as i64 }
        }
        impl CastFrom<$from> for f32 {
            fn cast_from(s: $from) -> Self { s as f32 }
        }
        impl CastFrom<$from> for f64 {
            fn cast_from(s: $from) -> Self { s as f64 }
        }
        impl CastFrom<$from> for bool {
            fn cast_from(s: $from) -> Self { s.nonzero() }
        }
        impl CastFrom<bool> for $from {
            fn cast_from(s: bool) -> Self { u8::from(s) as $from }
        }
    )*};
}
cast_numbers!(i32, i64, f32, f64);

impl CastFrom<bool> for bool {
    fn cast_from(s: bool) -> Self {
        s
    }
}

/// Runs `$body` with the type alias `$t` naming the Rust element type of dtype `$d`.
macro_rules! with_dtype {
    ($d:expr, $t:ident => $body:expr) => {
        match $d {
            kiln_ir::DType::Bool => {
                type $t = bool;
                $body
            }
            kiln_ir::DType::I32 => {
                type $t = i32;
                $body
            }
            kiln_ir::DType::I64 => {
                type $t = i64;
                $body
            }
            kiln_ir::DType::F32 => {
                type $t = f32;
                $body
            }
            kiln_ir::DType::F64 => {
                type $t = f64;
                $body
            }
        }
    };
}
pub(crate) use with_dtype;

/// Runs `$body` with `$x` and `$y` bound to the typed arrays of two chunks of the same
/// dtype, or evaluates `$mismatch` when their dtypes differ.
macro_rules! with_chunk_pair {
    ($a:expr, $b:expr, ($x:ident, $y:ident) => $body:expr, else $mismatch:expr) => {
        match ($a, $b) {
            (kiln_ir::Chunk::Bool($x), kiln_ir::Chunk::Bool($y)) => $body,
            (kiln_ir::Chunk::I32($x), kiln_ir::Chunk::I32($y)) => $body,
            (kiln_ir::Chunk::I64($x), kiln_ir::Chunk::I64($y)) => $body,
            (kiln_ir::Chunk::F32($x), kiln_ir::Chunk::F32($y)) => $body,
            (kiln_ir::Chunk::F64($x), kiln_ir::Chunk::F64($y)) => $body,
            _ => $mismatch,
        }
    };
}
pub(crate) use with_chunk_pair;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_numpy_astype() {
        assert_eq!(i32::cast_from(-2.7f64), -2);
        assert_eq!(i32::cast_from(f64::NAN), 0);
        assert_eq!(i32::cast_from(1e20f64), i32::MAX);
        assert_eq!(i32::cast_from(1i64 << 33), 0);
        assert_eq!(i32::cast_from((1i64 << 31) + 5), i32::MIN + 5);
        assert!(bool::cast_from(f64::NAN));
        assert!(!bool::cast_from(-0.0f32));
        assert!(bool::cast_from(-3i32));
        assert_eq!(f64::cast_from(true), 1.0);
        assert_eq!(i64::cast_from(false), 0);
        assert_eq!(f32::cast_from(16_777_217i64), 16_777_216.0);
    }

    #[test]
    fn identities_are_the_extremes() {
        assert_eq!(<i32 as Num>::MIN_IDENTITY, i32::MAX);
        assert_eq!(<f64 as Num>::MAX_IDENTITY, f64::NEG_INFINITY);
        const { assert!(<bool as Num>::MIN_IDENTITY) };
        assert!(Num::is_nan(f32::NAN));
        assert!(!Num::is_nan(3i64));
        assert_eq!(Int::wrapping_rem(i64::MIN, -1), 0);
        assert_eq!(Int::wrapping_abs(i32::MIN), i32::MIN);
    }
}
