//! Elementwise functions of one argument with NumPy's semantics: integer `neg` and `abs`
//! wrap (`MIN` stays `MIN`), float functions compute in the input's own width, `round` is
//! half-to-even, `is_nan` is false for integers and bools.

use kiln_ir::{Chunk, UnaryOp};
use ndarray::{ArcArray, IxDyn};

use crate::error::{Error, Result};
use crate::reference::elementwise::map1;
use crate::reference::num::{Float, Int};

/// `op` applied to every element of `x`.
pub fn unary(op: UnaryOp, x: &Chunk) -> Result<Chunk> {
    match x {
        Chunk::F64(a) => float_unary(op, a),
        Chunk::F32(a) => float_unary(op, a),
        Chunk::I64(a) => int_unary(op, x, a),
        Chunk::I32(a) => int_unary(op, x, a),
        Chunk::Bool(a) => bool_unary(op, x, a),
    }
}

fn rejects(op: UnaryOp, x: &Chunk) -> Error {
    Error::Internal(format!("{} does not take {} input (the builder casts it)", op.name(), x.dtype()))
}

fn float_unary<T: Float>(op: UnaryOp, a: &ArcArray<T, IxDyn>) -> Result<Chunk> {
    match (op, float_unary_fn::<T>(op)) {
        (UnaryOp::IsNan, _) => Ok(Chunk::new(map1(a, T::is_nan))),
        (_, Some(f)) => Ok(Chunk::new(map1(a, f))),
        (_, None) => {
            Err(Error::Internal(format!("{} does not take {} input (the builder casts it)", op.name(), T::DTYPE)))
        }
    }
}

/// The function of a float op whose result has the input's dtype (`None` for `is_nan` and
/// `not`), shared by the allocating and the in-place paths.
pub(crate) fn float_unary_fn<T: Float>(op: UnaryOp) -> Option<fn(T) -> T> {
    use UnaryOp::*;
    Some(match op {
        IsNan | Not => return None,
        Neg => |x: T| -x,
        Abs => T::abs,
        Sqrt => T::sqrt,
        Exp => T::exp,
        Ln => T::ln,
        Log10 => T::log10,
        Sin => T::sin,
        Cos => T::cos,
        Tan => T::tan,
        Tanh => T::tanh,
        Floor => T::floor,
        Ceil => T::ceil,
        Round => T::round_ties_even,
    })
}

fn int_unary<T: Int>(op: UnaryOp, x: &Chunk, a: &ArcArray<T, IxDyn>) -> Result<Chunk> {
    use UnaryOp::*;
    match op {
        // Integers are already whole: the block is its own result (shared, not copied).
        Floor | Ceil | Round => Ok(x.clone()),
        IsNan => Ok(Chunk::new(map1(a, |_| false))),
        _ => int_unary_fn::<T>(op).map(|f| Chunk::new(map1(a, f))).ok_or_else(|| rejects(op, x)),
    }
}

/// The integer ops that compute something (`neg` and `abs`, wrapping).
pub(crate) fn int_unary_fn<T: Int>(op: UnaryOp) -> Option<fn(T) -> T> {
    match op {
        UnaryOp::Neg => Some(T::wrapping_neg),
        UnaryOp::Abs => Some(T::wrapping_abs),
        _ => None,
    }
}

/// The bool op that computes something (`not`).
pub(crate) fn bool_unary_fn(op: UnaryOp) -> Option<fn(bool) -> bool> {
    match op {
        UnaryOp::Not => Some(|v: bool| !v),
        _ => None,
    }
}

fn bool_unary(op: UnaryOp, x: &Chunk, a: &ArcArray<bool, IxDyn>) -> Result<Chunk> {
    use UnaryOp::*;
    match op {
        Abs | Floor | Ceil | Round => Ok(x.clone()),
        IsNan => Ok(Chunk::new(map1(a, |_| false))),
        _ => bool_unary_fn(op).map(|f| Chunk::new(map1(a, f))).ok_or_else(|| rejects(op, x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, arr1};

    fn chunk<T: kiln_ir::Element>(v: &[T]) -> Chunk {
        Chunk::new(arr1(v).into_dyn())
    }

    fn vals<T: kiln_ir::Element>(c: &Chunk) -> Vec<T> {
        c.typed::<T>().expect("dtype").iter().copied().collect()
    }

    #[test]
    fn integer_neg_and_abs_wrap() {
        let x = chunk(&[i32::MIN, -5, 0, i32::MAX]);
        assert_eq!(vals::<i32>(&unary(UnaryOp::Neg, &x).unwrap()), vec![i32::MIN, 5, 0, -i32::MAX]);
        assert_eq!(vals::<i32>(&unary(UnaryOp::Abs, &x).unwrap()), vec![i32::MIN, 5, 0, i32::MAX]);
        let y = chunk(&[i64::MIN, -1]);
        assert_eq!(vals::<i64>(&unary(UnaryOp::Abs, &y).unwrap()), vec![i64::MIN, 1]);
        assert_eq!(unary(UnaryOp::Floor, &x).unwrap(), x);
        assert_eq!(vals::<bool>(&unary(UnaryOp::IsNan, &x).unwrap()), vec![false; 4]);
        assert!(unary(UnaryOp::Sqrt, &x).is_err());
        assert!(unary(UnaryOp::Not, &y).is_err());
    }

    #[test]
    fn round_is_half_to_even() {
        let x = chunk(&[-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.6, -0.4]);
        let r = vals::<f64>(&unary(UnaryOp::Round, &x).unwrap());
        assert_eq!(r, vec![-2.0, -2.0, -0.0, 0.0, 2.0, 2.0, 3.0, -0.0]);
        assert!(r[2].is_sign_negative());
        let f = chunk(&[2.5f32, 3.5]);
        assert_eq!(vals::<f32>(&unary(UnaryOp::Round, &f).unwrap()), vec![2.0, 4.0]);
        assert_eq!(vals::<f64>(&unary(UnaryOp::Floor, &chunk(&[-1.5, 1.5])).unwrap()), vec![-2.0, 1.0]);
        assert_eq!(vals::<f64>(&unary(UnaryOp::Ceil, &chunk(&[-1.5, 1.5])).unwrap()), vec![-1.0, 2.0]);
    }

    #[test]
    fn float_functions_keep_f32() {
        let x = chunk(&[0.1f32, 2.0, 9.0]);
        for op in [UnaryOp::Sqrt, UnaryOp::Exp, UnaryOp::Ln, UnaryOp::Log10, UnaryOp::Sin, UnaryOp::Tanh] {
            assert_eq!(unary(op, &x).unwrap().dtype(), kiln_ir::DType::F32, "{}", op.name());
        }
        let s = vals::<f32>(&unary(UnaryOp::Sqrt, &x).unwrap());
        assert_eq!(s, vec![0.1f32.sqrt(), 2.0f32.sqrt(), 3.0]);
        let e = vals::<f32>(&unary(UnaryOp::Exp, &x).unwrap());
        assert_eq!(e[0], 0.1f32.exp());
        let d = chunk(&[100.0, -1.0, 0.0]);
        let l = vals::<f64>(&unary(UnaryOp::Log10, &d).unwrap());
        assert_eq!(l[0], 2.0);
        assert!(l[1].is_nan());
        assert_eq!(l[2], f64::NEG_INFINITY);
        assert_eq!(vals::<f64>(&unary(UnaryOp::Cos, &chunk(&[0.0])).unwrap()), vec![1.0]);
        assert_eq!(vals::<f64>(&unary(UnaryOp::Tan, &chunk(&[0.0])).unwrap()), vec![0.0]);
    }

    #[test]
    fn nan_tests_and_negation() {
        let x = chunk(&[f64::NAN, 1.0, f64::INFINITY, -0.0]);
        assert_eq!(vals::<bool>(&unary(UnaryOp::IsNan, &x).unwrap()), vec![true, false, false, false]);
        let n = vals::<f64>(&unary(UnaryOp::Neg, &x).unwrap());
        assert!(n[0].is_nan() && n[1] == -1.0 && n[2] == f64::NEG_INFINITY && n[3].is_sign_positive());
        let a = vals::<f64>(&unary(UnaryOp::Abs, &x).unwrap());
        assert!(a[3].is_sign_positive());
        assert!(unary(UnaryOp::Not, &x).is_err());
    }

    #[test]
    fn bools() {
        let b = chunk(&[true, false]);
        assert_eq!(vals::<bool>(&unary(UnaryOp::Not, &b).unwrap()), vec![false, true]);
        assert_eq!(unary(UnaryOp::Abs, &b).unwrap(), b);
        assert_eq!(vals::<bool>(&unary(UnaryOp::IsNan, &b).unwrap()), vec![false, false]);
        assert!(unary(UnaryOp::Neg, &b).is_err());
        // A 2-d, transposed block keeps its values at their positions.
        let m = Chunk::new(Array1::from_iter(0..6).into_shape_with_order((2, 3)).unwrap().reversed_axes().into_dyn());
        let n = unary(UnaryOp::Neg, &m).unwrap();
        assert_eq!(n.typed::<i32>().unwrap()[[2, 1]], -5);
    }
}
