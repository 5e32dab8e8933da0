//! Constant folding: an op over `full` inputs is a `full` of the op's value, computed
//! exactly as the reference interpreter computes it (`codegen::reference::elementwise`;
//! passes cannot depend on codegen, so the few exact scalar functions are repeated here
//! and tested against known results). Transcendental functions and `pow` are not folded:
//! their results depend on the math library (and later on the JIT's polynomials), so
//! folding them could change a value.

use kiln_ir::{BinaryOp, Meta, Op, Scalar, UnaryOp};

use super::{Ctx, Term};
use crate::egraph::language::ENode;

/// `full(v)` with the folded node's metadata, when the builders can make that node again
/// (a weak scalar must be weak of its own kind).
fn full(meta: &Meta, v: Scalar) -> Vec<Term> {
    let rebuildable = v.dtype() == meta.dtype && meta.weak.is_none_or(|k| k == v.kind());
    if !rebuildable {
        return Vec::new();
    }
    vec![Term::Node { op: Op::Full(v), meta: meta.clone(), inputs: Vec::new() }]
}

/// `f(full(v)) → full(f(v))` for the exact functions.
pub(super) fn fold_unary(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    let Op::Unary(u) = ctx.op(node) else { return Vec::new() };
    match ctx.constant(node.children[0]).and_then(|v| eval_unary(*u, v)) {
        Some(r) => full(ctx.node_meta(node), r),
        None => Vec::new(),
    }
}

/// `astype(full(v), d) → full(cast(v, d))`.
pub(super) fn fold_astype(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    if !matches!(ctx.op(node), Op::AsType) {
        return Vec::new();
    }
    let meta = ctx.node_meta(node);
    match ctx.constant(node.children[0]) {
        Some(v) => full(meta, v.cast(meta.dtype)),
        None => Vec::new(),
    }
}

/// `full(a) op full(b) → full(a op b)` for the exact operations.
pub(super) fn fold_binary(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    let Op::Binary(op) = ctx.op(node) else { return Vec::new() };
    let (a, b) = (ctx.constant(node.children[0]), ctx.constant(node.children[1]));
    match (a, b) {
        (Some(a), Some(b)) => match eval_binary(*op, a, b) {
            Some(r) => full(ctx.node_meta(node), r),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The interpreter's value of `op(v)`, for the functions IEEE-754 defines exactly.
pub(crate) fn eval_unary(op: UnaryOp, v: Scalar) -> Option<Scalar> {
    use UnaryOp::*;
    macro_rules! float {
        ($x:expr, $wrap:path) => {
            match op {
                Neg => $wrap(-$x),
                Abs => $wrap($x.abs()),
                Sqrt => $wrap($x.sqrt()),
                Floor => $wrap($x.floor()),
                Ceil => $wrap($x.ceil()),
                Round => $wrap($x.round_ties_even()),
                IsNan => Scalar::Bool($x.is_nan()),
                _ => return None,
            }
        };
    }
    macro_rules! int {
        ($x:expr, $wrap:path) => {
            match op {
                Neg => $wrap($x.wrapping_neg()),
                Abs => $wrap($x.wrapping_abs()),
                Floor | Ceil | Round => $wrap($x),
                IsNan => Scalar::Bool(false),
                _ => return None,
            }
        };
    }
    Some(match v {
        Scalar::F64(x) => float!(x, Scalar::F64),
        Scalar::F32(x) => float!(x, Scalar::F32),
        Scalar::I64(x) => int!(x, Scalar::I64),
        Scalar::I32(x) => int!(x, Scalar::I32),
        Scalar::Bool(x) => match op {
            Not => Scalar::Bool(!x),
            Abs | Floor | Ceil | Round => Scalar::Bool(x),
            IsNan => Scalar::Bool(false),
            _ => return None,
        },
    })
}

/// The interpreter's value of `op(a, b)` for same-dtype operands, for the exact operations.
pub(crate) fn eval_binary(op: BinaryOp, a: Scalar, b: Scalar) -> Option<Scalar> {
    use BinaryOp::*;
    macro_rules! compare {
        ($x:expr, $y:expr) => {
            match op {
                Eq => return Some(Scalar::Bool($x == $y)),
                Ne => return Some(Scalar::Bool($x != $y)),
                Lt => return Some(Scalar::Bool($x < $y)),
                Le => return Some(Scalar::Bool($x <= $y)),
                Gt => return Some(Scalar::Bool($x > $y)),
                Ge => return Some(Scalar::Bool($x >= $y)),
                _ => {}
            }
        };
    }
    macro_rules! float {
        ($x:expr, $y:expr, $wrap:path, $zero:expr) => {{
            compare!($x, $y);
            let (x, y) = ($x, $y);
            $wrap(match op {
                Add => x + y,
                Sub => x - y,
                Mul => x * y,
                Div => x / y,
                // NumPy's floor modulo (`npy_divmod`), as `float_rem` in the interpreter.
                Rem => {
                    let r = x % y;
                    if y == $zero {
                        r
                    } else if r != $zero {
                        if (y < $zero) != (r < $zero) { r + y } else { r }
                    } else {
                        $zero.copysign(y)
                    }
                }
                Minimum => {
                    if x <= y || x.is_nan() {
                        x
                    } else {
                        y
                    }
                }
                Maximum => {
                    if x >= y || x.is_nan() {
                        x
                    } else {
                        y
                    }
                }
                _ => return None,
            })
        }};
    }
    macro_rules! int {
        ($x:expr, $y:expr, $wrap:path) => {{
            compare!($x, $y);
            let (x, y) = ($x, $y);
            $wrap(match op {
                Add => x.wrapping_add(y),
                Sub => x.wrapping_sub(y),
                Mul => x.wrapping_mul(y),
                // Floor modulo with the divisor's sign; `x % 0 == 0`, as `int_rem`.
                Rem => {
                    if y == 0 {
                        0
                    } else {
                        let r = x.wrapping_rem(y);
                        if r != 0 && (r < 0) != (y < 0) { r.wrapping_add(y) } else { r }
                    }
                }
                Minimum => x.min(y),
                Maximum => x.max(y),
                _ => return None,
            })
        }};
    }
    Some(match (a, b) {
        (Scalar::F64(x), Scalar::F64(y)) => float!(x, y, Scalar::F64, 0.0f64),
        (Scalar::F32(x), Scalar::F32(y)) => float!(x, y, Scalar::F32, 0.0f32),
        (Scalar::I64(x), Scalar::I64(y)) => int!(x, y, Scalar::I64),
        (Scalar::I32(x), Scalar::I32(y)) => int!(x, y, Scalar::I32),
        (Scalar::Bool(x), Scalar::Bool(y)) => {
            compare!(x, y);
            Scalar::Bool(match op {
                Add | Or | Maximum => x | y,
                Mul | And | Minimum => x & y,
                _ => return None,
            })
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin(op: BinaryOp, a: impl Into<Scalar>, b: impl Into<Scalar>) -> Option<Scalar> {
        eval_binary(op, a.into(), b.into())
    }

    #[test]
    fn float_folding_is_ieee_and_numpy_exact() {
        use BinaryOp::*;
        assert_eq!(bin(Add, 0.1, 0.2), Some(Scalar::F64(0.1 + 0.2)));
        assert_eq!(bin(Add, -0.0, 0.0), Some(Scalar::F64(0.0)));
        assert_eq!(bin(Mul, -0.0, 1.0), Some(Scalar::F64(-0.0)));
        assert_eq!(bin(Div, 1.0, 0.0), Some(Scalar::F64(f64::INFINITY)));
        assert_eq!(bin(Add, 0.1f32, 0.2f32), Some(Scalar::F32(0.1f32 + 0.2f32)));
        // Python: -5 % 3 == 1, 5 % -3 == -1, 6 % -3 == -0.0, x % 0.0 is NaN, -5 % inf == inf.
        assert_eq!(bin(Rem, -5.0, 3.0), Some(Scalar::F64(1.0)));
        assert_eq!(bin(Rem, 5.0, -3.0), Some(Scalar::F64(-1.0)));
        assert_eq!(bin(Rem, 6.0, -3.0), Some(Scalar::F64(-0.0)));
        assert!(matches!(bin(Rem, 5.0, 0.0), Some(Scalar::F64(r)) if r.is_nan()));
        assert_eq!(bin(Rem, -5.0, f64::INFINITY), Some(Scalar::F64(f64::INFINITY)));
        assert_eq!(bin(Minimum, f64::NAN, 1.0), Some(Scalar::F64(f64::NAN)));
        assert_eq!(bin(Maximum, 1.0, f64::NAN), Some(Scalar::F64(f64::NAN)));
        assert_eq!(bin(Minimum, -0.0, 0.0), Some(Scalar::F64(-0.0)));
        assert_eq!(bin(Lt, f64::NAN, 1.0), Some(Scalar::Bool(false)));
        assert_eq!(bin(Ne, f64::NAN, f64::NAN), Some(Scalar::Bool(true)));
        assert_eq!(bin(Pow, 2.0, 3.0), None, "pow is not folded");
    }

    #[test]
    fn integer_and_bool_folding_wraps_like_numpy() {
        use BinaryOp::*;
        assert_eq!(bin(Add, i32::MAX, 1), Some(Scalar::I32(i32::MIN)));
        assert_eq!(bin(Mul, i64::MAX, 2i64), Some(Scalar::I64(-2)));
        assert_eq!(bin(Rem, -7, 3), Some(Scalar::I32(2)));
        assert_eq!(bin(Rem, 7, -3), Some(Scalar::I32(-2)));
        assert_eq!(bin(Rem, 7, 0), Some(Scalar::I32(0)));
        assert_eq!(bin(Rem, i32::MIN, -1), Some(Scalar::I32(0)));
        assert_eq!(bin(Add, true, true), Some(Scalar::Bool(true)));
        assert_eq!(bin(Mul, true, false), Some(Scalar::Bool(false)));
        assert_eq!(bin(Lt, false, true), Some(Scalar::Bool(true)));
        assert_eq!(bin(Add, 1i32, 1i64), None, "mixed dtypes are cast first");
    }

    #[test]
    fn unary_folding() {
        use UnaryOp::*;
        assert_eq!(eval_unary(Neg, Scalar::I32(i32::MIN)), Some(Scalar::I32(i32::MIN)));
        assert_eq!(eval_unary(Abs, Scalar::I64(i64::MIN)), Some(Scalar::I64(i64::MIN)));
        assert_eq!(eval_unary(Neg, Scalar::F64(0.0)), Some(Scalar::F64(-0.0)));
        assert_eq!(eval_unary(Round, Scalar::F64(2.5)), Some(Scalar::F64(2.0)));
        assert_eq!(eval_unary(Round, Scalar::F32(-0.5)), Some(Scalar::F32(-0.0)));
        assert_eq!(eval_unary(Sqrt, Scalar::F64(2.0)), Some(Scalar::F64(2f64.sqrt())));
        assert_eq!(eval_unary(IsNan, Scalar::F32(f32::NAN)), Some(Scalar::Bool(true)));
        assert_eq!(eval_unary(Not, Scalar::Bool(true)), Some(Scalar::Bool(false)));
        assert_eq!(eval_unary(Sin, Scalar::F64(1.0)), None, "transcendentals are not folded");
    }
}
