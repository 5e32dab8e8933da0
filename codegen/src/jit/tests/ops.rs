//! Unit tests of the JIT, one feature at a time, each against the interpreter.

// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#![allow(clippy::single_range_in_vec_init)]

use kiln_ir::{
    BinaryOp, Chunk, DType, Distribution, F64Bits, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, Scalar, UnaryOp,
    ValueId,
};
use ndarray::{Array1, Array2, ArrayD, IxDyn};

use super::check_same;

pub(super) fn v(i: u32) -> ValueId {
    ValueId(i)
}

pub(super) fn kernel(ndim: u32, inputs: &[(DType, &[u32])], body: Vec<Inst>, output: KernelOutput) -> Kernel {
    let inputs = inputs.iter().map(|&(dtype, axes)| KernelInput { dtype, axes: axes.to_vec() }).collect();
    Kernel { ndim, inputs, body, output }
}

pub(super) fn last(body: &[Inst]) -> KernelOutput {
    KernelOutput::Map(v(body.len() as u32 - 1))
}

fn col<T: kiln_ir::Element>(xs: Vec<T>) -> Chunk {
    Chunk::new(Array1::from(xs).into_dyn())
}

/// `(sin(x)^2 + cos(y)^2) * x - y / 2`, reduced with `op` over `axes` (or mapped).
pub(super) fn a1(output: Option<(ReduceOp, Vec<u32>)>) -> Kernel {
    use BinaryOp::*;
    let body = vec![
        Inst::Load(0),
        Inst::Load(1),
        Inst::Unary(UnaryOp::Sin, v(0)),
        Inst::Const(Scalar::F64(2.0)),
        Inst::Binary(Pow, v(2), v(3)),
        Inst::Unary(UnaryOp::Cos, v(1)),
        Inst::Binary(Pow, v(5), v(3)),
        Inst::Binary(Add, v(4), v(6)),
        Inst::Binary(Mul, v(7), v(0)),
        Inst::Binary(Div, v(1), v(3)),
        Inst::Binary(Sub, v(8), v(9)),
    ];
    let output = match output {
        Some((op, axes)) => KernelOutput::Reduce { op, axes, keepdims: false, value: v(10) },
        None => last(&body),
    };
    kernel(2, &[(DType::F64, &[0, 1]), (DType::F64, &[0, 1])], body, output)
}

fn grid(rows: usize, cols: usize, seed: u64) -> Chunk {
    let s = crate::random::RandomStream::new(seed);
    Chunk::new(Array2::from_shape_fn((rows, cols), |(i, j)| s.uniform01((i * cols + j) as u64) * 4.0 - 2.0).into_dyn())
}

#[test]
fn a1_maps_and_reduces_like_the_interpreter() {
    for (rows, cols) in [(3, 5), (4, 1024), (2, 1500), (1, 1), (0, 4)] {
        let (x, y) = (grid(rows, cols, 1), grid(rows, cols, 2));
        let region = [2..2 + rows, 0..cols];
        let space = [rows + 3, cols];
        check_same(&a1(None), &[&x, &y], &region, &space);
        for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::ArgMin, ReduceOp::Var { ddof: F64Bits(1.0) }] {
            for axes in [vec![0, 1], vec![0], vec![1]] {
                check_same(&a1(Some((op, axes))), &[&x, &y], &region, &space);
            }
        }
    }
}

#[test]
fn transposed_and_broadcast_inputs() {
    let x = grid(6, 9, 3);
    let t = Chunk::new(grid(9, 6, 4).typed::<f64>().unwrap().clone().reversed_axes().into_owned().into_dyn());
    let t_view = {
        let a = grid(9, 6, 4).typed::<f64>().unwrap().clone();
        Chunk::from(a.reversed_axes())
    };
    let row = col((0..9).map(|i| i as f64 - 4.0).collect());
    let body = vec![
        Inst::Load(0),
        Inst::Load(1),
        Inst::Load(2),
        Inst::Binary(BinaryOp::Mul, v(0), v(1)),
        Inst::Binary(BinaryOp::Sub, v(3), v(2)),
    ];
    let k = kernel(2, &[(DType::F64, &[0, 1]), (DType::F64, &[0, 1]), (DType::F64, &[1])], body.clone(), last(&body));
    for second in [&t, &t_view] {
        check_same(&k, &[&x, second, &row], &[0..6, 0..9], &[6, 9]);
    }
    // The broadcast row along axis 0 instead (a column of the block).
    let k = kernel(2, &[(DType::F64, &[0, 1]), (DType::F64, &[1, 0]), (DType::F64, &[0])], body.clone(), last(&body));
    let colv = col((0..6).map(|i| i as f64).collect());
    check_same(&k, &[&x, &grid(9, 6, 5), &colv], &[0..6, 0..9], &[6, 9]);
}

#[test]
fn integer_division_by_zero_and_overflow_do_not_trap() {
    for d in [DType::I32, DType::I64] {
        let (a, b): (Chunk, Chunk) = if d == DType::I32 {
            (col(vec![7, -7, 7, -7, i32::MIN, i32::MIN, 5, i32::MAX]), col(vec![3, 3, -3, -3, -1, 0, 0, -1]))
        } else {
            (col(vec![7i64, -7, 7, -7, i64::MIN, i64::MIN, 5, i64::MAX]), col(vec![3i64, 3, -3, -3, -1, 0, 0, -1]))
        };
        for op in [BinaryOp::Rem, BinaryOp::Add, BinaryOp::Mul, BinaryOp::Sub, BinaryOp::Minimum, BinaryOp::Maximum] {
            let body = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(op, v(0), v(1))];
            let k = kernel(1, &[(d, &[0]), (d, &[0])], body.clone(), last(&body));
            check_same(&k, &[&a, &b], &[0..8], &[8]);
        }
        for op in [UnaryOp::Neg, UnaryOp::Abs, UnaryOp::IsNan] {
            let body = vec![Inst::Load(0), Inst::Unary(op, v(0))];
            check_same(&kernel(1, &[(d, &[0])], body.clone(), last(&body)), &[&a], &[0..8], &[8]);
        }
    }
}

#[test]
fn casts_saturate_and_floats_keep_their_bits() {
    let xs = col(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 3e10, -3e10, 2.5, -2.5, 1e300]);
    for to in DType::ALL {
        let body = vec![Inst::Load(0), Inst::Cast(to, v(0))];
        check_same(&kernel(1, &[(DType::F64, &[0])], body.clone(), last(&body)), &[&xs], &[0..10], &[10]);
        let body = vec![Inst::Load(0), Inst::Cast(DType::F32, v(0)), Inst::Cast(to, v(1))];
        check_same(&kernel(1, &[(DType::F64, &[0])], body.clone(), last(&body)), &[&xs], &[0..10], &[10]);
    }
    let ints = col(vec![i64::MIN, -1, 0, 1, 1 << 40, i64::MAX, 16_777_217, (1 << 31) + 5, 3, 4]);
    for to in DType::ALL {
        let body = vec![Inst::Load(0), Inst::Cast(to, v(0))];
        check_same(&kernel(1, &[(DType::I64, &[0])], body.clone(), last(&body)), &[&ints], &[0..10], &[10]);
    }
    for op in [UnaryOp::Round, UnaryOp::Floor, UnaryOp::Ceil, UnaryOp::Sqrt, UnaryOp::Tanh, UnaryOp::Log10] {
        let body = vec![Inst::Load(0), Inst::Unary(op, v(0))];
        check_same(&kernel(1, &[(DType::F64, &[0])], body.clone(), last(&body)), &[&xs], &[0..10], &[10]);
    }
    for op in [BinaryOp::Minimum, BinaryOp::Maximum, BinaryOp::Rem, BinaryOp::Pow, BinaryOp::Ne, BinaryOp::Lt] {
        let body = vec![Inst::Load(0), Inst::Const(Scalar::F64(-0.0)), Inst::Binary(op, v(0), v(1))];
        check_same(&kernel(1, &[(DType::F64, &[0])], body.clone(), last(&body)), &[&xs], &[0..10], &[10]);
    }
}

#[test]
fn negative_integer_powers_raise_like_the_interpreter() {
    let xs = col(vec![2i64, 3, 4]);
    let es = col(vec![1i64, -1, 2]);
    let body = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Pow, v(0), v(1))];
    let k = kernel(1, &[(DType::I64, &[0]), (DType::I64, &[0])], body.clone(), last(&body));
    check_same(&k, &[&xs, &es], &[0..3], &[3]);
    let err = super::super::run_map(&k, &[&xs, &es], &[0..3]).unwrap_err();
    assert!(matches!(err, crate::Error::Compute(_)), "{err:?}");
    check_same(&k, &[&xs, &col(vec![0i64, 5, 63])], &[0..3], &[3]);
}

#[test]
fn sources_match_the_interpreter() {
    let body = vec![
        Inst::Random {
            dist: Distribution::Normal { mean: F64Bits(1.0), std: F64Bits(2.0) },
            seed: 5,
            base: vec![10, 20],
            start: vec![1, 2],
            step: vec![1, 2],
            axes: vec![Some(0), Some(1)],
        },
        Inst::Arange { start: Scalar::I32(i32::MAX - 3), step: Scalar::I32(2), axis: 1 },
        Inst::Cast(DType::F64, v(1)),
        Inst::Linspace { start: F64Bits(0.0), stop: F64Bits(1.0), num: 7, endpoint: true, axis: 0 },
        Inst::Arange { start: Scalar::F32(0.25), step: Scalar::F32(0.1), axis: 0 },
        Inst::Cast(DType::F64, v(4)),
        Inst::Binary(BinaryOp::Add, v(0), v(2)),
        Inst::Binary(BinaryOp::Mul, v(6), v(3)),
        Inst::Binary(BinaryOp::Sub, v(7), v(5)),
    ];
    let k = kernel(2, &[], body.clone(), last(&body));
    check_same(&k, &[], &[2..7, 1..9], &[7, 9]);
    let sum =
        Kernel { output: KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![1], keepdims: true, value: v(8) }, ..k };
    check_same(&sum, &[], &[2..7, 1..9], &[7, 9]);
}

#[test]
fn zero_d_and_empty_blocks() {
    let x = Chunk::new(ArrayD::from_elem(IxDyn(&[]), 2.5f64));
    let body = vec![Inst::Load(0), Inst::Unary(UnaryOp::Exp, v(0))];
    let k = kernel(0, &[(DType::F64, &[])], body.clone(), last(&body));
    check_same(&k, &[&x], &[], &[]);
    let r = Kernel {
        output: KernelOutput::Reduce { op: ReduceOp::ArgMax, axes: vec![], keepdims: false, value: v(1) },
        ..k
    };
    check_same(&r, &[&x], &[], &[]);
    let e = Chunk::new(ArrayD::<f64>::zeros(IxDyn(&[0, 3])));
    let body = vec![Inst::Load(0), Inst::Unary(UnaryOp::Sin, v(0))];
    for op in [ReduceOp::Min, ReduceOp::Sum, ReduceOp::ArgMin, ReduceOp::All, ReduceOp::Var { ddof: F64Bits(0.0) }] {
        let k = kernel(
            2,
            &[(DType::F64, &[0, 1])],
            body.clone(),
            KernelOutput::Reduce { op, axes: vec![0], keepdims: false, value: v(1) },
        );
        check_same(&k, &[&e], &[0..0, 0..3], &[0, 3]);
    }
}

#[test]
fn dispatch_switch_and_stats() {
    let x = grid(4, 33, 9);
    let y = grid(4, 33, 10);
    let k = a1(Some((ReduceOp::Sum, vec![0, 1])));
    let before = super::super::stats();
    let state = super::super::try_run_partial(&k, &[&x, &y], &[0..4, 0..33], &[4, 33]);
    if super::super::enabled() {
        assert!(state.is_some_and(|s| s.is_ok()));
        let after = super::super::stats();
        assert!(after.runs > before.runs);
        assert!(after.compiled + after.hits > before.compiled + before.hits);
    }
    // A kernel that does not fit its inputs is declined (the interpreter reports it).
    let bad = super::super::try_run_map(&a1(None), &[&x], &[0..4, 0..33]);
    assert!(bad.is_none());
}

/// Kernels whose varying values are all `f64` run in the 2-lane loops (and, summed along
/// rows, in the pairwise leaf): every row length around the vector width, the unroll and
/// the 8/128-element pairwise boundaries, with NaN, ±inf and -0.0 in the data.
#[test]
fn vectorized_loops_and_the_pairwise_leaf() {
    use BinaryOp::*;
    let special = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1e300, -2.5, 0.75];
    let uniform = Distribution::Uniform { low: F64Bits(-1.0), high: F64Bits(3.0) };
    let bodies: Vec<Vec<Inst>> = vec![
        vec![Inst::Load(0)],
        vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Binary(Minimum, v(0), v(1)),
            Inst::Binary(Maximum, v(2), v(1)),
            Inst::Const(Scalar::F64(2.0)),
            Inst::Binary(Pow, v(3), v(4)),
            Inst::Unary(UnaryOp::Sqrt, v(5)),
            Inst::Binary(Sub, v(6), v(0)),
        ],
        vec![
            Inst::Load(0),
            Inst::Random {
                dist: uniform,
                seed: 3,
                base: vec![4096],
                start: vec![5],
                step: vec![1],
                axes: vec![Some(1)],
            },
            Inst::Binary(Mul, v(0), v(1)),
            Inst::Unary(UnaryOp::Sin, v(2)),
            Inst::Load(1),
            Inst::Binary(Rem, v(3), v(4)),
            Inst::Const(Scalar::F64(-1.0)),
            Inst::Binary(Pow, v(5), v(6)),
            Inst::Unary(UnaryOp::Round, v(7)),
            Inst::Binary(Add, v(8), v(1)),
        ],
    ];
    for len in [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 127, 128, 129, 300, 1025] {
        let make = |seed: u64| {
            let s = crate::random::RandomStream::new(seed);
            let vals: Vec<f64> = (0..3 * len)
                .map(|i| {
                    if s.bits(i as u64).is_multiple_of(7) {
                        special[i % special.len()]
                    } else {
                        s.uniform01(i as u64) * 8.0 - 4.0
                    }
                })
                .collect();
            Chunk::new(ArrayD::from_shape_vec(IxDyn(&[3, len]), vals).unwrap())
        };
        let (x, y) = (make(1), make(2));
        for body in &bodies {
            let inputs: &[(DType, &[u32])] = &[(DType::F64, &[0, 1]), (DType::F64, &[0, 1])];
            let value = v(body.len() as u32 - 1);
            let map = kernel(2, inputs, body.clone(), KernelOutput::Map(value));
            check_same(&map, &[&x, &y], &[0..3, 0..len], &[3, len]);
            for op in [ReduceOp::Sum, ReduceOp::Mean] {
                for axes in [vec![1], vec![0, 1], vec![0]] {
                    let k = kernel(2, inputs, body.clone(), KernelOutput::Reduce { op, axes, keepdims: false, value });
                    check_same(&k, &[&x, &y], &[0..3, 0..len], &[3, len]);
                }
            }
        }
    }
}
