//! Evaluation of the elementwise instructions (`Unary`, `Binary`, `Where`, `Cast`) over one
//! tile: a dispatch on the op and dtype per instruction, then a loop over the tile.
//!
//! The semantics are the reference interpreter's: expensive functions (transcendentals,
//! `rem`, `pow`) are its function tables and helpers themselves, cheap arithmetic is written
//! here as closures the loops inline (an indirect call per element would cost more than the
//! operation); the tests check every op and dtype against the reference kernels bitwise.
//! (In this crate's tests only, `crate::math::with_polynomials_in_interpreter` swaps the
//! `exp`, `ln`, `sin`, `cos` and `tanh` of `f64` and `f32` for the JIT's polynomials, so
//! the JIT's differential tests can compare bit for bit.)

use std::ops::Range;

use kiln_ir::{BinaryOp, DType, Scalar, UnaryOp};

use crate::error::{Error, Result};
use crate::kernel::tile::{AnySrc, Buf, Elem, Src, map1, map1_call, map2, map2_call, map3};
use crate::reference::elementwise::binary::{float_rem, int_pow, int_rem};
use crate::reference::elementwise::unary::float_unary_fn;
use crate::reference::num::{CastFrom, Float, Int, Num, maximum, minimum, with_dtype};

/// The positions `range` of `dst` as `T`s: where an instruction writes its tile.
pub(super) fn out<T: Elem>(dst: &mut Buf, range: Range<usize>) -> Result<&mut [T]> {
    let (lo, hi) = (range.start, range.end);
    let v = dst.typed_mut::<T>()?;
    let len = v.len();
    v.get_mut(range).ok_or_else(|| Error::Internal(format!("kernel: tile {lo}..{hi} outside a buffer of {len}")))
}

fn rejects(op: &str, d: DType) -> Error {
    Error::Internal(format!("kernel: {op} does not take {d} operands (verify should have rejected it)"))
}

/// `op(a)` into `dst[range]`.
pub(super) fn unary(op: UnaryOp, a: AnySrc<'_>, dst: &mut Buf, range: Range<usize>) -> Result<()> {
    match a {
        // The JIT's polynomials, when this crate's tests ask for them (see `crate::math`).
        AnySrc::F64(a)
            if crate::math::in_interpreter()
                && let Some(f) = crate::math::function(op) =>
        {
            map1_call(a, out::<f64>(dst, range)?, f);
            Ok(())
        }
        AnySrc::F32(a)
            if crate::math::in_interpreter()
                && let Some(f) = crate::math::function_f32(op) =>
        {
            map1_call(a, out::<f32>(dst, range)?, f);
            Ok(())
        }
        AnySrc::F64(a) => float_unary(op, a, dst, range),
        AnySrc::F32(a) => float_unary(op, a, dst, range),
        AnySrc::I64(a) => int_unary(op, a, dst, range),
        AnySrc::I32(a) => int_unary(op, a, dst, range),
        AnySrc::Bool(a) => bool_unary(op, a, dst, range),
    }
}

fn float_unary<T: Elem + Float>(op: UnaryOp, a: Src<'_, T>, dst: &mut Buf, range: Range<usize>) -> Result<()> {
    use UnaryOp::*;
    if op == IsNan {
        map1(a, out::<bool>(dst, range)?, Num::is_nan);
        return Ok(());
    }
    let o = out::<T>(dst, range)?;
    match op {
        Neg => map1(a, o, |x| -x),
        Abs => map1(a, o, T::abs),
        Sqrt => map1(a, o, T::sqrt),
        Floor => map1(a, o, T::floor),
        Ceil => map1(a, o, T::ceil),
        Round => map1(a, o, T::round_ties_even),
        // The library functions, called directly rather than through the table's pointer.
        Exp => map1_call(a, o, T::exp),
        Ln => map1_call(a, o, T::ln),
        Log10 => map1_call(a, o, T::log10),
        Sin => map1_call(a, o, T::sin),
        Cos => map1_call(a, o, T::cos),
        Tan => map1_call(a, o, T::tan),
        Tanh => map1_call(a, o, T::tanh),
        _ => map1_call(a, o, float_unary_fn::<T>(op).ok_or_else(|| rejects(op.name(), T::DTYPE))?),
    }
    Ok(())
}

fn int_unary<T: Elem + Int>(op: UnaryOp, a: Src<'_, T>, dst: &mut Buf, range: Range<usize>) -> Result<()> {
    use UnaryOp::*;
    match op {
        IsNan => map1(a, out::<bool>(dst, range)?, |_| false),
        Neg => map1(a, out::<T>(dst, range)?, T::wrapping_neg),
        Abs => map1(a, out::<T>(dst, range)?, T::wrapping_abs),
        // Integers are already whole.
        Floor | Ceil | Round => map1(a, out::<T>(dst, range)?, |x| x),
        _ => return Err(rejects(op.name(), T::DTYPE)),
    }
    Ok(())
}

fn bool_unary(op: UnaryOp, a: Src<'_, bool>, dst: &mut Buf, range: Range<usize>) -> Result<()> {
    use UnaryOp::*;
    let o = out::<bool>(dst, range)?;
    match op {
        Not => map1(a, o, |x| !x),
        Abs | Floor | Ceil | Round => map1(a, o, |x| x),
        IsNan => map1(a, o, |_| false),
        _ => return Err(rejects(op.name(), DType::Bool)),
    }
    Ok(())
}

/// `op(a, b)` into `dst[range]`; `b_const` is the right operand when it is a `Const` (a
/// scalar exponent picks NumPy's `pow` fast paths, as in the reference).
pub(super) fn binary(
    op: BinaryOp,
    a: AnySrc<'_>,
    b: AnySrc<'_>,
    b_const: Option<Scalar>,
    dst: &mut Buf,
    range: Range<usize>,
) -> Result<()> {
    match (a, b) {
        (AnySrc::F64(a), AnySrc::F64(b)) => float_binary(op, a, b, b_const, dst, range),
        (AnySrc::F32(a), AnySrc::F32(b)) => float_binary(op, a, b, b_const, dst, range),
        (AnySrc::I64(a), AnySrc::I64(b)) => int_binary(op, a, b, dst, range),
        (AnySrc::I32(a), AnySrc::I32(b)) => int_binary(op, a, b, dst, range),
        (AnySrc::Bool(a), AnySrc::Bool(b)) => bool_binary(op, a, b, dst, range),
        (a, b) => Err(Error::Internal(format!(
            "kernel: {} of {} and {} (operands must share a dtype)",
            op.name(),
            a.dtype(),
            b.dtype()
        ))),
    }
}

/// Comparisons, which every dtype shares; `false` when `op` is not one.
fn compare<T: Elem>(op: BinaryOp, a: Src<'_, T>, b: Src<'_, T>, dst: &mut Buf, range: Range<usize>) -> Result<bool> {
    use BinaryOp::*;
    if !matches!(op, Eq | Ne | Lt | Le | Gt | Ge) {
        return Ok(false);
    }
    let o = out::<bool>(dst, range)?;
    match op {
        Eq => map2(a, b, o, |x, y| x == y),
        Ne => map2(a, b, o, |x, y| x != y),
        Lt => map2(a, b, o, |x, y| x < y),
        Le => map2(a, b, o, |x, y| x <= y),
        Gt => map2(a, b, o, |x, y| x > y),
        _ => map2(a, b, o, |x, y| x >= y),
    }
    Ok(true)
}

fn float_binary<T: Elem + Float>(
    op: BinaryOp,
    a: Src<'_, T>,
    b: Src<'_, T>,
    b_const: Option<Scalar>,
    dst: &mut Buf,
    range: Range<usize>,
) -> Result<()> {
    use BinaryOp::*;
    if compare(op, a, b, dst, range.clone())? {
        return Ok(());
    }
    let o = out::<T>(dst, range)?;
    match op {
        Add => map2(a, b, o, |x, y| x + y),
        Sub => map2(a, b, o, |x, y| x - y),
        Mul => map2(a, b, o, |x, y| x * y),
        Div => match b {
            // Dividing by a power of two is multiplying by its exact reciprocal: both round
            // the same real number once, so the results are the same bits (and much faster).
            Src::Splat(y) if let Some(r) = exact_reciprocal(y) => map1(a, o, move |x| x * r),
            _ => map2(a, b, o, |x, y| x / y),
        },
        Rem => map2_call(a, b, o, float_rem),
        Minimum => map2(a, b, o, minimum),
        Maximum => map2(a, b, o, maximum),
        // NumPy's fast paths for a scalar exponent (`fast_scalar_power`), as the reference's
        // `scalar_exponent` picks them.
        Pow => match b_const.map(Scalar::as_f64) {
            Some(2.0) => map1(a, o, |x| x * x),
            Some(0.5) => map1(a, o, T::sqrt),
            Some(-1.0) => map1(a, o, |x| one::<T>() / x),
            Some(1.0) => map1(a, o, |x| x),
            Some(0.0) => o.fill(one::<T>()),
            // The JIT's polynomial, when this crate's tests ask for it (see `crate::math`).
            _ if crate::math::in_interpreter() => map2_call(a, b, o, T::pow_polynomial),
            _ => map2_call(a, b, o, T::powf),
        },
        _ => return Err(rejects(op.name(), T::DTYPE)),
    }
    Ok(())
}

/// `1 / y` when `y` is a power of two whose reciprocal `T` represents exactly.
fn exact_reciprocal<T: Float>(y: T) -> Option<T> {
    let bits = y.to_f64().abs().to_bits();
    let exponent = bits >> 52;
    let power_of_two = bits & ((1u64 << 52) - 1) == 0 && exponent != 0 && exponent != 0x7ff;
    let r = one::<T>() / y;
    (power_of_two && r.to_f64() * y.to_f64() == 1.0).then_some(r)
}

fn one<T: Float>() -> T {
    T::from_scalar(Scalar::F64(1.0))
}

fn int_binary<T: Elem + Int>(
    op: BinaryOp,
    a: Src<'_, T>,
    b: Src<'_, T>,
    dst: &mut Buf,
    range: Range<usize>,
) -> Result<()> {
    use BinaryOp::*;
    if compare(op, a, b, dst, range.clone())? {
        return Ok(());
    }
    let o = out::<T>(dst, range)?;
    match op {
        Add => map2(a, b, o, T::wrapping_add),
        Sub => map2(a, b, o, T::wrapping_sub),
        Mul => map2(a, b, o, T::wrapping_mul),
        Rem => map2_call(a, b, o, int_rem),
        Minimum => map2(a, b, o, minimum),
        Maximum => map2(a, b, o, maximum),
        Pow => {
            // NumPy raises for any negative exponent it computes with.
            let negative = match b {
                Src::Splat(e) => e < T::ZERO,
                Src::Slice(es) => es.iter().any(|&e| e < T::ZERO),
            };
            if negative {
                return Err(Error::Compute("pow: integers to negative integer powers are not allowed".into()));
            }
            map2_call(a, b, o, int_pow)
        }
        _ => return Err(rejects(op.name(), T::DTYPE)),
    }
    Ok(())
}

fn bool_binary(op: BinaryOp, a: Src<'_, bool>, b: Src<'_, bool>, dst: &mut Buf, range: Range<usize>) -> Result<()> {
    use BinaryOp::*;
    if compare(op, a, b, dst, range.clone())? {
        return Ok(());
    }
    let o = out::<bool>(dst, range)?;
    match op {
        Add | Or | Maximum => map2(a, b, o, |x, y| x | y),
        Mul | And | Minimum => map2(a, b, o, |x, y| x & y),
        _ => return Err(rejects(op.name(), DType::Bool)),
    }
    Ok(())
}

/// `cond ? a : b` into `dst[range]`.
pub(super) fn where_(cond: AnySrc<'_>, a: AnySrc<'_>, b: AnySrc<'_>, dst: &mut Buf, range: Range<usize>) -> Result<()> {
    fn select<T: Elem>(c: Src<'_, bool>, a: Src<'_, T>, b: Src<'_, T>, dst: &mut Buf, r: Range<usize>) -> Result<()> {
        map3(c, a, b, out::<T>(dst, r)?, |c, x, y| if c { x } else { y });
        Ok(())
    }
    let AnySrc::Bool(c) = cond else {
        return Err(Error::Internal(format!("kernel: where with a {} condition", cond.dtype())));
    };
    match (a, b) {
        (AnySrc::Bool(a), AnySrc::Bool(b)) => select(c, a, b, dst, range),
        (AnySrc::I32(a), AnySrc::I32(b)) => select(c, a, b, dst, range),
        (AnySrc::I64(a), AnySrc::I64(b)) => select(c, a, b, dst, range),
        (AnySrc::F32(a), AnySrc::F32(b)) => select(c, a, b, dst, range),
        (AnySrc::F64(a), AnySrc::F64(b)) => select(c, a, b, dst, range),
        (a, b) => Err(Error::Internal(format!("kernel: where of {} and {}", a.dtype(), b.dtype()))),
    }
}

/// `a` converted to `to` (NumPy `astype`, the reference's `CastFrom`) into `dst[range]`.
pub(super) fn cast(to: DType, a: AnySrc<'_>, dst: &mut Buf, range: Range<usize>) -> Result<()> {
    macro_rules! cast_from {
        ($a:expr) => {
            with_dtype!(to, O => map1($a, out::<O>(dst, range)?, O::cast_from))
        };
    }
    match a {
        AnySrc::Bool(a) => cast_from!(a),
        AnySrc::I32(a) => cast_from!(a),
        AnySrc::I64(a) => cast_from!(a),
        AnySrc::F32(a) => cast_from!(a),
        AnySrc::F64(a) => cast_from!(a),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reciprocals_only_of_exact_powers_of_two() {
        assert_eq!(exact_reciprocal(2.0f64), Some(0.5));
        assert_eq!(exact_reciprocal(-0.25f64), Some(-4.0));
        assert_eq!(exact_reciprocal(2f64.powi(1023)), Some(2f64.powi(-1023)));
        assert_eq!(exact_reciprocal(2f32.powi(-126)), Some(2f32.powi(126)));
        for y in [3.0, 0.0, -0.0, f64::INFINITY, f64::NAN, f64::MIN_POSITIVE / 4.0, 1.5] {
            assert_eq!(exact_reciprocal(y), None, "{y}");
        }
        // A subnormal f32 power of two has no finite f32 reciprocal.
        assert_eq!(exact_reciprocal(2f32.powi(-140)), None);
        // Division and multiplication by the reciprocal agree on awkward values.
        let xs = [1.0, 3.0, -0.0, 5e-324, f64::MAX, -7.3e-310, f64::INFINITY, 1.0 / 3.0];
        for y in [2.0, 0.5, 2f64.powi(-1000), 2f64.powi(1000)] {
            let r = exact_reciprocal(y).unwrap();
            for x in xs {
                assert_eq!((x / y).to_bits(), (x * r).to_bits(), "{x} / {y}");
            }
        }
    }
}
