//! Elementwise functions of two same-dtype arguments with NumPy's semantics: integers wrap,
//! `rem` is floor modulo with the divisor's sign, integer `pow` rejects negative exponents,
//! `minimum`/`maximum` propagate NaN, comparisons follow IEEE (NaN compares false except
//! `ne`), and `bool` adds as `or` and multiplies as `and`.

use kiln_ir::{BinaryOp, Chunk, Element};
use ndarray::{ArcArray, IxDyn};

use crate::error::{Error, Result};
use crate::reference::elementwise::map2;
use crate::reference::num::{Float, Int, Num, maximum, minimum};

type Arr<T> = ArcArray<T, IxDyn>;

/// `op` of corresponding elements of `a` and `b` (same dtype), each broadcast to the
/// output block's `shape`.
pub fn binary(op: BinaryOp, a: &Chunk, b: &Chunk, shape: &[usize]) -> Result<Chunk> {
    match (a, b) {
        (Chunk::F64(x), Chunk::F64(y)) => float_binary(op, x, y, shape),
        (Chunk::F32(x), Chunk::F32(y)) => float_binary(op, x, y, shape),
        (Chunk::I64(x), Chunk::I64(y)) => int_binary(op, x, y, shape),
        (Chunk::I32(x), Chunk::I32(y)) => int_binary(op, x, y, shape),
        (Chunk::Bool(x), Chunk::Bool(y)) => bool_binary(op, x, y, shape),
        _ => Err(Error::Internal(format!(
            "{}: operands have different dtypes {} and {} (the builder casts them)",
            op.name(),
            a.dtype(),
            b.dtype()
        ))),
    }
}

fn rejects<T: Element>(op: BinaryOp) -> Error {
    Error::Internal(format!("{} does not take {} operands (the builder casts them)", op.name(), T::DTYPE))
}

/// Python's float `%` as NumPy computes it (`npy_divmod`): `r = fmod(a, b)`, moved into
/// the divisor's sign by adding `b`; a zero result takes the divisor's sign. So
/// `x % 0.0` is NaN, `inf % x` is NaN, `5 % inf == 5`, `-5 % inf == inf`, `6 % -3 == -0.0`.
pub(crate) fn float_rem<T: Float>(a: T, b: T) -> T {
    let r = a % b;
    if b == T::ZERO {
        return r;
    }
    if r != T::ZERO { if (b < T::ZERO) != (r < T::ZERO) { r + b } else { r } } else { T::ZERO.copysign(b) }
}

/// Floor modulo of integers with the divisor's sign; `x % 0 == 0` (as NumPy returns) and
/// `MIN % -1 == 0` (no trap).
pub(crate) fn int_rem<T: Int>(a: T, b: T) -> T {
    if b == T::ZERO {
        return T::ZERO;
    }
    let r = a.wrapping_rem(b);
    if r != T::ZERO && (r < T::ZERO) != (b < T::ZERO) { r.wrapping_add(b) } else { r }
}

/// `base^exp` for `exp >= 0` by squaring, wrapping on overflow (`0^0 == 1`).
pub(crate) fn int_pow<T: Int>(mut base: T, exp: T) -> T {
    let mut e = exp.to_u64();
    let mut acc = T::ONE;
    while e > 0 {
        if e & 1 == 1 {
            acc = acc.wrapping_mul(base);
        }
        e >>= 1;
        if e > 0 {
            base = base.wrapping_mul(base);
        }
    }
    acc
}

/// Comparisons, which every dtype shares (the result is `bool`); `None` for other ops.
fn compare<T: Num>(op: BinaryOp, a: &Arr<T>, b: &Arr<T>, shape: &[usize]) -> Result<Option<Chunk>> {
    use BinaryOp::*;
    let f: fn(T, T) -> bool = match op {
        Eq => |x, y| x == y,
        Ne => |x, y| x != y,
        Lt => |x, y| x < y,
        Le => |x, y| x <= y,
        Gt => |x, y| x > y,
        Ge => |x, y| x >= y,
        _ => return Ok(None),
    };
    Ok(Some(Chunk::new(map2(op.name(), a, b, shape, f)?)))
}

fn float_binary<T: Float>(op: BinaryOp, a: &Arr<T>, b: &Arr<T>, shape: &[usize]) -> Result<Chunk> {
    if let Some(c) = compare(op, a, b, shape)? {
        return Ok(c);
    }
    let f = float_binary_fn(op, b).ok_or_else(|| rejects::<T>(op))?;
    Ok(Chunk::new(map2(op.name(), a, b, shape, f)?))
}

/// The function of a float op whose result has the operands' dtype; `b` is the right
/// operand (a scalar exponent picks NumPy's `pow` fast paths). Shared by the allocating
/// and in-place paths.
pub(crate) fn float_binary_fn<T: Float>(op: BinaryOp, b: &Arr<T>) -> Option<fn(T, T) -> T> {
    use BinaryOp::*;
    Some(match op {
        Add => |x, y| x + y,
        Sub => |x, y| x - y,
        Mul => |x, y| x * y,
        Div => |x, y| x / y,
        Rem => float_rem,
        Pow => scalar_exponent(b).unwrap_or(T::powf),
        Minimum => minimum,
        Maximum => maximum,
        _ => return None,
    })
}

/// NumPy's fast paths for a scalar float exponent (`fast_scalar_power`): `x**2` is
/// `square`, `x**0.5` is `sqrt`, `x**-1` is `reciprocal`, `x**1` a copy and `x**0` ones, so
/// kiln gives NumPy's results (and speed) for them.
fn scalar_exponent<T: Float>(b: &Arr<T>) -> Option<fn(T, T) -> T> {
    if b.len() != 1 {
        return None;
    }
    match b.iter().next()?.to_f64() {
        2.0 => Some(|x, _| x * x),
        0.5 => Some(|x, _| x.sqrt()),
        -1.0 => Some(|x, _| one::<T>() / x),
        1.0 => Some(|x, _| x),
        0.0 => Some(|_, _| one::<T>()),
        _ => None,
    }
}

fn one<T: Float>() -> T {
    T::from_scalar(kiln_ir::Scalar::F64(1.0))
}

fn int_binary<T: Int>(op: BinaryOp, a: &Arr<T>, b: &Arr<T>, shape: &[usize]) -> Result<Chunk> {
    if let Some(c) = compare(op, a, b, shape)? {
        return Ok(c);
    }
    if op == BinaryOp::Pow {
        // NumPy raises for any negative exponent it computes with.
        let computed = shape.iter().product::<usize>() > 0;
        if computed && b.iter().any(|&e| e < T::ZERO) {
            return Err(Error::Compute("pow: integers to negative integer powers are not allowed".into()));
        }
        return Ok(Chunk::new(map2(op.name(), a, b, shape, int_pow)?));
    }
    let f = int_binary_fn(op).ok_or_else(|| rejects::<T>(op))?;
    Ok(Chunk::new(map2(op.name(), a, b, shape, f)?))
}

/// The integer ops that cannot fail (wrapping arithmetic, floor modulo, min/max); `pow`,
/// which checks its exponents first, is not among them.
pub(crate) fn int_binary_fn<T: Int>(op: BinaryOp) -> Option<fn(T, T) -> T> {
    use BinaryOp::*;
    Some(match op {
        Add => T::wrapping_add,
        Sub => T::wrapping_sub,
        Mul => T::wrapping_mul,
        Rem => int_rem,
        Minimum => minimum,
        Maximum => maximum,
        _ => return None,
    })
}

fn bool_binary(op: BinaryOp, a: &Arr<bool>, b: &Arr<bool>, shape: &[usize]) -> Result<Chunk> {
    if let Some(c) = compare(op, a, b, shape)? {
        return Ok(c);
    }
    let f = bool_binary_fn(op).ok_or_else(|| rejects::<bool>(op))?;
    Ok(Chunk::new(map2(op.name(), a, b, shape, f)?))
}

/// The bool ops: `add`/`or` and `maximum` are or, `mul`/`and` and `minimum` are and.
pub(crate) fn bool_binary_fn(op: BinaryOp) -> Option<fn(bool, bool) -> bool> {
    use BinaryOp::*;
    match op {
        Add | Or | Maximum => Some(|x, y| x | y),
        Mul | And | Minimum => Some(|x, y| x & y),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::DType;
    use ndarray::{Array2, arr0, arr1, arr2};

    fn chunk<T: Element>(v: &[T]) -> Chunk {
        Chunk::new(arr1(v).into_dyn())
    }

    fn vals<T: Element>(c: &Chunk) -> Vec<T> {
        c.typed::<T>().expect("dtype").iter().copied().collect()
    }

    fn bin<T: Element>(op: BinaryOp, a: &[T], b: &[T]) -> Chunk {
        binary(op, &chunk(a), &chunk(b), &[a.len()]).unwrap()
    }

    #[test]
    fn integer_floor_modulo() {
        let r = bin(BinaryOp::Rem, &[7i64, -7, 7, -7, 6, 5, i64::MIN, i64::MIN], &[3, 3, -3, -3, -3, 0, -1, 3]);
        // Python: 7%3=1, -7%3=2, 7%-3=-2, -7%-3=-1, 6%-3=0; NumPy: 5%0=0; MIN%-1=0.
        assert_eq!(vals::<i64>(&r), vec![1, 2, -2, -1, 0, 0, 0, 1]);
        let r = bin(BinaryOp::Rem, &[i32::MIN, -1, i32::MAX], &[-1, i32::MIN, i32::MIN]);
        assert_eq!(vals::<i32>(&r), vec![0, -1, -1]);
    }

    #[test]
    fn float_floor_modulo() {
        let inf = f64::INFINITY;
        let a = [5.5, -5.5, 5.5, -5.5, 6.0, 6.0, 5.0, -5.0, 5.0, inf, 1.0, f64::NAN];
        let b = [2.0, 2.0, -2.0, -2.0, -3.0, 3.0, inf, inf, -inf, 2.0, 0.0, 1.0];
        let r = vals::<f64>(&bin(BinaryOp::Rem, &a, &b));
        assert_eq!(&r[..9], &[1.5, 0.5, -0.5, -1.5, -0.0, 0.0, 5.0, inf, -inf]);
        assert!(r[4].is_sign_negative() && r[5].is_sign_positive());
        assert!(r[9].is_nan() && r[10].is_nan() && r[11].is_nan());
        let f = vals::<f32>(&bin(BinaryOp::Rem, &[-1.0f32], &[0.75]));
        assert_eq!(f, vec![0.5]);
    }

    #[test]
    fn integer_pow() {
        let r = bin(BinaryOp::Pow, &[2i64, -3, 0, 7, 2, -1], &[10, 3, 0, 1, 64, 63]);
        assert_eq!(vals::<i64>(&r), vec![1024, -27, 1, 7, 0, -1]);
        let r = bin(BinaryOp::Pow, &[3i32], &[21]);
        assert_eq!(vals::<i32>(&r), vec![3i32.wrapping_pow(21)]);
        let err = binary(BinaryOp::Pow, &chunk(&[2i32, 2]), &chunk(&[1, -1]), &[2]).unwrap_err();
        assert_eq!(err, Error::Compute("pow: integers to negative integer powers are not allowed".into()));
        // Nothing is computed for an empty block, so nothing is raised.
        let empty = Chunk::new(ndarray::ArrayD::<i32>::zeros(ndarray::IxDyn(&[0])));
        assert!(binary(BinaryOp::Pow, &empty, &chunk(&[-1i32]), &[0]).is_ok());
        let sq = binary(BinaryOp::Pow, &chunk(&[3.0f64, -0.5, f64::NAN]), &chunk(&[2.0]), &[3]).unwrap();
        let sq = vals::<f64>(&sq);
        assert_eq!((sq[0], sq[1]), (9.0, 0.25));
        assert!(sq[2].is_nan());
        let f = vals::<f64>(&bin(BinaryOp::Pow, &[2.0, 4.0, -8.0], &[-1.0, 0.5, 1.0 / 3.0]));
        assert_eq!(&f[..2], &[0.5, 2.0]);
        assert!(f[2].is_nan());
    }

    #[test]
    fn integer_arithmetic_wraps() {
        assert_eq!(vals::<i32>(&bin(BinaryOp::Add, &[i32::MAX], &[1])), vec![i32::MIN]);
        assert_eq!(vals::<i32>(&bin(BinaryOp::Sub, &[i32::MIN], &[1])), vec![i32::MAX]);
        assert_eq!(vals::<i64>(&bin(BinaryOp::Mul, &[i64::MAX], &[2])), vec![-2]);
        assert!(binary(BinaryOp::Div, &chunk(&[1i64]), &chunk(&[1i64]), &[1]).is_err());
    }

    #[test]
    fn nan_propagating_minimum_and_maximum() {
        let nan = f64::NAN;
        let mx = vals::<f64>(&bin(BinaryOp::Maximum, &[nan, 1.0, 2.0, -0.0], &[1.0, nan, 1.0, 0.0]));
        assert!(mx[0].is_nan() && mx[1].is_nan());
        assert_eq!(mx[2], 2.0);
        let mn = vals::<f64>(&bin(BinaryOp::Minimum, &[nan, 1.0, 2.0], &[1.0, nan, 1.0]));
        assert!(mn[0].is_nan() && mn[1].is_nan());
        assert_eq!(mn[2], 1.0);
        assert_eq!(vals::<i32>(&bin(BinaryOp::Minimum, &[3, -4], &[-2, 5])), vec![-2, -4]);
        assert_eq!(vals::<bool>(&bin(BinaryOp::Maximum, &[true, false], &[false, false])), vec![true, false]);
    }

    #[test]
    fn comparisons_follow_ieee() {
        let nan = f64::NAN;
        let a = [nan, 1.0, 1.0, 2.0];
        let b = [nan, nan, 1.0, 1.0];
        let cases = [
            (BinaryOp::Eq, [false, false, true, false]),
            (BinaryOp::Ne, [true, true, false, true]),
            (BinaryOp::Lt, [false, false, false, false]),
            (BinaryOp::Le, [false, false, true, false]),
            (BinaryOp::Gt, [false, false, false, true]),
            (BinaryOp::Ge, [false, false, true, true]),
        ];
        for (op, want) in cases {
            let out = bin(op, &a, &b);
            assert_eq!(out.dtype(), DType::Bool);
            assert_eq!(vals::<bool>(&out), want.to_vec(), "{}", op.name());
        }
        assert_eq!(vals::<bool>(&bin(BinaryOp::Lt, &[false, true], &[true, true])), vec![true, false]);
    }

    #[test]
    fn bool_logic() {
        let (a, b) = ([true, true, false, false], [true, false, true, false]);
        assert_eq!(vals::<bool>(&bin(BinaryOp::Add, &a, &b)), vec![true, true, true, false]);
        assert_eq!(vals::<bool>(&bin(BinaryOp::Mul, &a, &b)), vec![true, false, false, false]);
        assert_eq!(vals::<bool>(&bin(BinaryOp::And, &a, &b)), vec![true, false, false, false]);
        assert_eq!(vals::<bool>(&bin(BinaryOp::Or, &a, &b)), vec![true, true, true, false]);
        assert!(binary(BinaryOp::Sub, &chunk(&a), &chunk(&b), &[4]).is_err());
        assert!(binary(BinaryOp::And, &chunk(&[1.0]), &chunk(&[1.0]), &[1]).is_err());
    }

    #[test]
    fn broadcasting_with_fewer_dims_and_length_one_axes() {
        let a = Chunk::new(Array2::from_shape_fn((2, 3), |(i, j)| (10 * i + j) as f32).into_dyn());
        let row = chunk(&[100.0f32, 200.0, 300.0]);
        let out = binary(BinaryOp::Add, &a, &row, &[2, 3]).unwrap();
        assert_eq!(out, Chunk::new(arr2(&[[100.0f32, 201.0, 302.0], [110.0, 211.0, 312.0]]).into_dyn()));
        let col = Chunk::new(arr2(&[[1.0f32], [2.0]]).into_dyn());
        let out = binary(BinaryOp::Mul, &col, &row, &[2, 3]).unwrap();
        assert_eq!(out, Chunk::new(arr2(&[[100.0f32, 200.0, 300.0], [200.0, 400.0, 600.0]]).into_dyn()));
        let scalar = Chunk::new(arr0(2.0f32).into_dyn());
        let out = binary(BinaryOp::Sub, &scalar, &a, &[2, 3]).unwrap();
        assert_eq!(vals::<f32>(&out), vec![2.0, 1.0, 0.0, -8.0, -9.0, -10.0]);
        // 3-d output from a 1-d and a 2-d operand.
        let out = binary(BinaryOp::Add, &row, &col, &[4, 2, 3]).unwrap();
        assert_eq!(out.shape(), &[4, 2, 3]);
        assert_eq!(out.typed::<f32>().unwrap()[[3, 1, 2]], 302.0);
        assert!(binary(BinaryOp::Add, &a, &row, &[3, 3]).is_err());
        assert!(binary(BinaryOp::Add, &a, &chunk(&[1.0f64]), &[2, 3]).is_err());
    }

    #[test]
    fn float_arithmetic_stays_f32() {
        let out = bin(BinaryOp::Div, &[1.0f32], &[3.0]);
        assert_eq!(vals::<f32>(&out), vec![1.0f32 / 3.0]);
        let out = bin(BinaryOp::Div, &[1.0, -1.0, 0.0], &[0.0, 0.0, 0.0]);
        let v = vals::<f64>(&out);
        assert_eq!(&v[..2], &[f64::INFINITY, f64::NEG_INFINITY]);
        assert!(v[2].is_nan());
    }
}
