//! Every op on every dtype it takes, over special values (signed zeros, infinities, NaN,
//! integer extremes), through the kernel interpreter and through the reference kernels:
//! the tile loops write some ops as inline closures, and these must agree bit for bit.

use kiln_ir::{BinaryOp, Chunk, DType, Inst, Scalar, UnaryOp, with_chunk};
use ndarray::Array1;

use super::{V, check_map, kernel, map_out};
use crate::reference::source;

const UNARY: [UnaryOp; 15] = [
    UnaryOp::Neg,
    UnaryOp::Abs,
    UnaryOp::Sqrt,
    UnaryOp::Exp,
    UnaryOp::Ln,
    UnaryOp::Log10,
    UnaryOp::Sin,
    UnaryOp::Cos,
    UnaryOp::Tan,
    UnaryOp::Tanh,
    UnaryOp::Floor,
    UnaryOp::Ceil,
    UnaryOp::Round,
    UnaryOp::Not,
    UnaryOp::IsNan,
];

const BINARY: [BinaryOp; 16] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Rem,
    BinaryOp::Pow,
    BinaryOp::Minimum,
    BinaryOp::Maximum,
    BinaryOp::Eq,
    BinaryOp::Ne,
    BinaryOp::Lt,
    BinaryOp::Le,
    BinaryOp::Gt,
    BinaryOp::Ge,
    BinaryOp::And,
    BinaryOp::Or,
];

/// Special values of `dtype`.
pub(super) fn specials(dtype: DType) -> Vec<Scalar> {
    let floats = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        2.0,
        -2.5,
        3.0,
        7.25,
        -100.0,
        1e300,
        -1e-300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    match dtype {
        DType::Bool => vec![Scalar::Bool(false), Scalar::Bool(true)],
        DType::I32 => [0, 1, -1, 2, -7, 7, 3, 31, i32::MIN, i32::MAX].map(Scalar::I32).to_vec(),
        DType::I64 => [0, 1, -1, 2, -7, 7, 3, 63, i64::MIN, i64::MAX].map(Scalar::I64).to_vec(),
        DType::F32 => floats.map(|v| Scalar::F32(v as f32)).to_vec(),
        DType::F64 => floats.map(Scalar::F64).to_vec(),
    }
}

/// A 1-d block of `values` (one dtype).
fn block(values: &[Scalar]) -> Chunk {
    block_of(values.first().map_or(DType::F64, |s| s.dtype()), values)
}

/// A 1-d block of `dtype` holding `values` (cast to it).
pub(super) fn block_of(dtype: DType, values: &[Scalar]) -> Chunk {
    let mut out = source::full(Scalar::Bool(false).cast(dtype), &[values.len()]);
    with_chunk!(&mut out, a => {
        for (slot, v) in a.iter_mut().zip(values) {
            *slot = kiln_ir::Element::from_scalar(*v);
        }
    });
    out
}

#[test]
fn unary_ops_agree() {
    for dtype in DType::ALL {
        let x = block(&specials(dtype));
        for op in UNARY {
            if kiln_ir::kernel::unary_dtype(op, dtype).is_none() {
                continue;
            }
            let body = vec![Inst::Load(0), Inst::Unary(op, V(0))];
            let k = kernel(1, &[(dtype, &[0])], body.clone(), map_out(&body));
            check_map(&k, &[&x], &[0..x.len()]).unwrap();
            // The same op on a hoisted value (one per row of a 2-d block).
            let k = kernel(2, &[(dtype, &[0])], body.clone(), map_out(&body));
            check_map(&k, &[&x], &[0..x.len(), 0..3]).unwrap();
        }
    }
}

#[test]
fn binary_ops_agree() {
    for dtype in DType::ALL {
        let vals = specials(dtype);
        let n = vals.len();
        // Every pair: the left operand repeats each value, the right one cycles.
        let left: Vec<Scalar> = vals.iter().flat_map(|&v| std::iter::repeat_n(v, n)).collect();
        let right: Vec<Scalar> = (0..n * n).map(|i| vals[i % n]).collect();
        let (a, b) = (block(&left), block(&right));
        let exps: Vec<Scalar> = vals.iter().copied().filter(|s| s.as_f64() >= 0.0).collect();
        let (pa, pb) = (
            block(&left[..n * exps.len()]),
            block(&(0..n * exps.len()).map(|i| exps[i % exps.len()]).collect::<Vec<_>>()),
        );
        for op in BINARY {
            if kiln_ir::kernel::binary_dtype(op, dtype).is_none() {
                continue;
            }
            let body = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(op, V(0), V(1))];
            let k = kernel(1, &[(dtype, &[0]), (dtype, &[0])], body.clone(), map_out(&body));
            let res = check_map(&k, &[&a, &b], &[0..n * n]);
            if op == BinaryOp::Pow && dtype.is_int() {
                assert!(res.is_err(), "negative exponents are rejected");
                check_map(&k, &[&pa, &pb], &[0..pa.len()]).unwrap();
            }
            // Constant right and left operands (the splat loops, and pow's fast paths).
            for &c in &vals {
                let body = vec![Inst::Load(0), Inst::Const(c), Inst::Binary(op, V(0), V(1))];
                let k = kernel(1, &[(dtype, &[0])], body.clone(), map_out(&body));
                let _ = check_map(&k, &[&block(&vals)], &[0..n]);
                let body = vec![Inst::Const(c), Inst::Load(0), Inst::Binary(op, V(0), V(1))];
                let k = kernel(1, &[(dtype, &[0])], body.clone(), map_out(&body));
                let _ = check_map(&k, &[&block(&vals)], &[0..n]);
            }
        }
    }
}

#[test]
fn where_and_casts_agree() {
    for from in DType::ALL {
        let vals = specials(from);
        let x = block(&vals);
        for to in DType::ALL {
            let body = vec![Inst::Load(0), Inst::Cast(to, V(0))];
            let k = kernel(1, &[(from, &[0])], body.clone(), map_out(&body));
            check_map(&k, &[&x], &[0..x.len()]).unwrap();
        }
        let cond = Chunk::new(Array1::from_shape_fn(vals.len(), |i| i % 3 == 1).into_dyn());
        let body = vec![Inst::Load(0), Inst::Load(1), Inst::Const(vals[0]), Inst::Where(V(0), V(1), V(2))];
        let k = kernel(2, &[(DType::Bool, &[1]), (from, &[1])], body.clone(), map_out(&body));
        check_map(&k, &[&cond, &x], &[0..2, 0..x.len()]).unwrap();
        let body = vec![Inst::Load(0), Inst::Const(vals[1]), Inst::Load(1), Inst::Where(V(0), V(1), V(2))];
        let k = kernel(1, &[(DType::Bool, &[0]), (from, &[0])], body.clone(), map_out(&body));
        check_map(&k, &[&cond, &x], &[0..x.len()]).unwrap();
    }
}
