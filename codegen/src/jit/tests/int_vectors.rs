//! The integer vector loops (`I64X2`, `I32X4`) against the interpreter: wrapping `+ - *`,
//! negation, `minimum`, `maximum`, the wrapping `abs` and the rounding ops, over row
//! lengths around the vector width with the integer extremes, mapped and reduced; and the
//! ops that keep an integer kernel scalar.

// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#![allow(clippy::single_range_in_vec_init)]

use kiln_ir::{BinaryOp, Chunk, DType, F64Bits, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, Scalar, UnaryOp};
use ndarray::{ArrayD, IxDyn};

use super::ops::v;
use super::{check_same, lanes_of};
use crate::jit::analysis::Stride;
use crate::jit::vector::LaneType;
use crate::random::RandomStream;

/// A kernel over two full blocks of dtype `d`.
pub(super) fn kernel(d: DType, body: Vec<Inst>, output: KernelOutput) -> Kernel {
    let inputs = (0..2).map(|_| KernelInput { dtype: d, axes: vec![0, 1] }).collect();
    Kernel { ndim: 2, inputs, body, output }
}

/// The lane type of `kernel` with both inputs read along rows.
pub(super) fn contiguous(kernel: &Kernel) -> Option<LaneType> {
    lanes_of(kernel, &[Stride::One; 2])
}

/// A block of `shape` of dtype `d`: small values, with the extremes, -1 and 0 among them.
fn block(d: DType, shape: &[usize], seed: u64) -> Chunk {
    let s = RandomStream::new(seed);
    let n: usize = shape.iter().product();
    let pick = |i: usize, extremes: [i64; 5]| {
        let b = s.bits(i as u64);
        if b.is_multiple_of(4) { extremes[(b >> 8) as usize % 5] } else { (b >> 20) as i64 % 2001 - 1000 }
    };
    match d {
        DType::I64 => {
            let e = [i64::MIN, i64::MAX, -1, 0, 1 << 40];
            Chunk::new(ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(|i| pick(i, e)).collect()).unwrap())
        }
        _ => {
            let e = [i64::from(i32::MIN), i64::from(i32::MAX), -1, 0, 1 << 20];
            let vals = (0..n).map(|i| pick(i, e) as i32).collect();
            Chunk::new(ArrayD::from_shape_vec(IxDyn(shape), vals).unwrap())
        }
    }
}

/// `(x * y + x) - (-y)` with a constant, and `abs(minimum(x, y)) + maximum(x, c)` (rounding
/// ops in between).
fn bodies(d: DType) -> Vec<Vec<Inst>> {
    use BinaryOp::*;
    let c = Inst::Const(if d == DType::I64 { Scalar::I64(-7) } else { Scalar::I32(-7) });
    vec![
        vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Binary(Mul, v(0), v(1)),
            Inst::Binary(Add, v(2), v(0)),
            Inst::Unary(UnaryOp::Neg, v(1)),
            Inst::Binary(Sub, v(3), v(4)),
            c.clone(),
            Inst::Binary(Mul, v(5), v(6)),
            Inst::Unary(UnaryOp::Floor, v(7)),
        ],
        vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Binary(Minimum, v(0), v(1)),
            Inst::Unary(UnaryOp::Abs, v(2)),
            c,
            Inst::Binary(Maximum, v(0), v(4)),
            Inst::Unary(UnaryOp::Round, v(5)),
            Inst::Binary(Add, v(3), v(6)),
        ],
    ]
}

#[test]
fn integer_kernels_run_in_vector_lanes_like_the_interpreter() {
    let lens = [0, 1, 2, 3, 4, 5, 7, 8, 9, 127, 128, 129, 1025];
    for (d, lane) in [(DType::I64, LaneType::I64X2), (DType::I32, LaneType::I32X4)] {
        for body in bodies(d) {
            let value = v(body.len() as u32 - 1);
            let map = kernel(d, body.clone(), KernelOutput::Map(value));
            assert_eq!(contiguous(&map), Some(lane), "{map}");
            for len in lens {
                let (x, y) = (block(d, &[3, len], 1), block(d, &[3, len], 2));
                let (region, space) = ([0..3, 0..len], [3, len]);
                check_same(&map, &[&x, &y], &region, &space);
                let ops = [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::ArgMin, ReduceOp::Mean];
                for op in ops.into_iter().chain([ReduceOp::Var { ddof: F64Bits(0.0) }]) {
                    for axes in [vec![1], vec![0, 1]] {
                        let output = KernelOutput::Reduce { op, axes, keepdims: false, value };
                        check_same(&kernel(d, body.clone(), output), &[&x, &y], &region, &space);
                    }
                }
            }
        }
    }
}

#[test]
fn what_keeps_integer_kernels_scalar() {
    use BinaryOp::*;
    let of = |d: DType, body: Vec<Inst>| kernel(d, body.clone(), KernelOutput::Map(v(body.len() as u32 - 1)));
    for d in [DType::I64, DType::I32] {
        // Remainder and integer powers (zero and sign guards), and comparisons kept as values
        // other than the result (one that is the result is a lane mask: see `masks`).
        for op in [Rem, Pow] {
            assert_eq!(contiguous(&of(d, vec![Inst::Load(0), Inst::Load(1), Inst::Binary(op, v(0), v(1))])), None);
        }
        let cmp = of(d, vec![Inst::Load(0), Inst::Load(1), Inst::Binary(Lt, v(0), v(1)), Inst::Cast(d, v(2))]);
        assert_eq!(contiguous(&cmp), None);
    }
    // `i32` minimum is one instruction; `i64` a compare and a select.
    let text = crate::jit::clif_text(&of(DType::I32, bodies(DType::I32)[1].clone()), &[Stride::One; 2], false)
        .expect("the kernel compiles");
    assert!(text.contains("i32x4") && text.contains("smin"), "{text}");
    let text = crate::jit::clif_text(&of(DType::I64, bodies(DType::I64)[1].clone()), &[Stride::One; 2], false)
        .expect("the kernel compiles");
    assert!(text.contains("i64x2") && text.contains("bitselect"), "{text}");
}

/// Sums of integers and `bool`s along rows run in the compiled integer sum: `i32` lanes
/// widened to `i64` (rows of `i32::MAX` sum far past `i32`), `i64` sums wrapping, and counts
/// of comparisons of `f64` (two-lane masks) and `f32` (four-lane masks), over rows shorter
/// than a vector, between runs of 128 and cut into pieces.
#[test]
fn integer_sums_along_rows_are_compiled() {
    use BinaryOp::Gt;
    let sum = |d: DType, body: Vec<Inst>, axes: Vec<u32>| {
        let value = v(body.len() as u32 - 1);
        Kernel {
            ndim: 2,
            inputs: vec![KernelInput { dtype: d, axes: vec![0, 1] }],
            body,
            output: KernelOutput::Reduce { op: ReduceOp::Sum, axes, keepdims: false, value },
        }
    };
    let s = RandomStream::new(9);
    for len in [1, 3, 7, 9, 130, 1100] {
        let (region, space) = ([0..3, 0..len], [3, len]);
        let ints = Chunk::new(ArrayD::from_elem(IxDyn(&[3, len]), i32::MAX));
        let longs = Chunk::new(ArrayD::from_elem(IxDyn(&[3, len]), i64::MAX - 1));
        let floats = Chunk::new(ArrayD::from_shape_fn(IxDyn(&[3, len]), |i| s.uniform01((i[0] * len + i[1]) as u64)));
        let singles = Chunk::new(floats.typed::<f64>().unwrap().mapv(|x| x as f32));
        let half = |d: DType| Inst::Const(if d == DType::F32 { Scalar::F32(0.5) } else { Scalar::F64(0.5) });
        for axes in [vec![1], vec![0, 1]] {
            let cases = [
                (sum(DType::I32, vec![Inst::Load(0)], axes.clone()), &ints),
                (sum(DType::I64, vec![Inst::Load(0)], axes.clone()), &longs),
                (
                    sum(DType::F64, vec![Inst::Load(0), half(DType::F64), Inst::Binary(Gt, v(0), v(1))], axes.clone()),
                    &floats,
                ),
                (
                    sum(DType::F32, vec![Inst::Load(0), half(DType::F32), Inst::Binary(Gt, v(0), v(1))], axes.clone()),
                    &singles,
                ),
            ];
            for (k, x) in cases {
                let compiled = crate::jit::cache::get(&k, &[Stride::One]).expect("the kernel compiles");
                assert!(compiled.int_sum.is_some() && compiled.leaf.is_none(), "{k}");
                check_same(&k, &[x], &region, &space);
            }
        }
    }
    // Along columns the map function computes the values, which are folded as before.
    let down = sum(DType::I32, vec![Inst::Load(0)], vec![0]);
    let x = block(DType::I32, &[5, 9], 3);
    check_same(&down, &[&x], &[0..5, 0..9], &[5, 9]);
}
