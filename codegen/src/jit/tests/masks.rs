//! `where` over comparisons in vector lanes: a comparison used only as a `where` condition
//! becomes a lane mask and the `where` a bit select, in every lane type, bit for bit as the
//! interpreter (NaN compares false except under `!=`); a comparison that is the result is
//! a mask narrowed to `bool` bytes, 16 positions at a time; `and`, `or`, `not` of masks,
//! `isnan` and `bool` inputs are masks too; a comparison kept as another value keeps the
//! kernel scalar.

// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#![allow(clippy::single_range_in_vec_init)]

use kiln_ir::{BinaryOp, Chunk, DType, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, Scalar, UnaryOp};
use ndarray::{ArrayD, IxDyn};

use super::int_vectors::{contiguous, kernel};
use super::ops::v;
use super::{check_same, lanes_of};
use crate::jit::analysis::Stride;
use crate::jit::vector::LaneType;
use crate::random::RandomStream;

fn scalar(d: DType, x: f64) -> Inst {
    Inst::Const(match d {
        DType::F64 => Scalar::F64(x),
        DType::F32 => Scalar::F32(x as f32),
        DType::I64 => Scalar::I64(x as i64),
        _ => Scalar::I32(x as i32),
    })
}

/// A block of dtype `d`: values in [-3, 3), a few NaN, ±inf and -0.0 for floats.
fn block(d: DType, shape: &[usize], seed: u64) -> Chunk {
    let s = RandomStream::new(seed);
    let n: usize = shape.iter().product();
    let special = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1.0];
    let vals: Vec<f64> = (0..n as u64)
        .map(|i| {
            if s.bits(i).is_multiple_of(6) {
                special[(s.bits(i) >> 8) as usize % 6]
            } else {
                s.uniform01(i) * 6.0 - 3.0
            }
        })
        .collect();
    let shape = IxDyn(shape);
    match d {
        DType::F64 => Chunk::new(ArrayD::from_shape_vec(shape, vals).unwrap()),
        DType::F32 => Chunk::new(ArrayD::from_shape_vec(shape, vals.iter().map(|&x| x as f32).collect()).unwrap()),
        DType::I64 => {
            Chunk::new(ArrayD::from_shape_vec(shape, vals.iter().map(|&x| (x * 3.0) as i64).collect()).unwrap())
        }
        _ => Chunk::new(ArrayD::from_shape_vec(shape, vals.iter().map(|&x| (x * 3.0) as i32).collect()).unwrap()),
    }
}

/// `where(x > y, x, 2y)`; ReLU `where(x > 0, x, 0)`; clamping by two nested `where`s against
/// constants; `where(x != x, 1, x)` (NaN to 1 in floats).
fn bodies(d: DType) -> Vec<Vec<Inst>> {
    use BinaryOp::*;
    vec![
        vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Binary(Gt, v(0), v(1)),
            Inst::Binary(Add, v(1), v(1)),
            Inst::Where(v(2), v(0), v(3)),
        ],
        vec![Inst::Load(0), scalar(d, 0.0), Inst::Binary(Gt, v(0), v(1)), Inst::Where(v(2), v(0), v(1))],
        vec![
            Inst::Load(0),
            scalar(d, -1.0),
            scalar(d, 1.0),
            Inst::Binary(Lt, v(0), v(1)),
            Inst::Binary(Ge, v(0), v(2)),
            Inst::Where(v(4), v(2), v(0)),
            Inst::Where(v(3), v(1), v(5)),
        ],
        vec![Inst::Load(0), scalar(d, 1.0), Inst::Binary(Ne, v(0), v(0)), Inst::Where(v(2), v(1), v(0))],
        vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Binary(Le, v(0), v(1)),
            Inst::Binary(Eq, v(0), v(1)),
            Inst::Where(v(3), v(1), v(0)),
            Inst::Where(v(2), v(4), v(1)),
        ],
    ]
}

#[test]
fn where_over_comparisons_runs_in_vector_lanes() {
    let lanes = [
        (DType::F64, LaneType::F64X2),
        (DType::F32, LaneType::F32X4),
        (DType::I64, LaneType::I64X2),
        (DType::I32, LaneType::I32X4),
    ];
    for (d, lane) in lanes {
        for body in bodies(d) {
            let value = v(body.len() as u32 - 1);
            let map = kernel(d, body.clone(), KernelOutput::Map(value));
            assert_eq!(contiguous(&map), Some(lane), "{map}");
            for len in [0, 1, 3, 4, 5, 8, 9, 130, 1025] {
                let (x, y) = (block(d, &[2, len], 1), block(d, &[2, len], 2));
                let (region, space) = ([0..2, 0..len], [2, len]);
                check_same(&map, &[&x, &y], &region, &space);
                for op in [ReduceOp::Sum, ReduceOp::Max] {
                    let output = KernelOutput::Reduce { op, axes: vec![1], keepdims: false, value };
                    check_same(&kernel(d, body.clone(), output), &[&x, &y], &region, &space);
                }
            }
        }
    }
}

#[test]
fn comparisons_kept_as_values_stay_scalar() {
    use BinaryOp::*;
    let d = DType::F64;
    let of = |body: Vec<Inst>| kernel(d, body.clone(), KernelOutput::Map(v(body.len() as u32 - 1)));
    // The mask is cast, or is both a condition and a value (as the result, it is stored as
    // bytes: `comparison_results_are_stored_as_bytes`).
    let cast = of(vec![Inst::Load(0), Inst::Load(1), Inst::Binary(Lt, v(0), v(1)), Inst::Cast(DType::F64, v(2))]);
    assert_eq!(contiguous(&cast), None);
    let both = of(vec![Inst::Load(0), Inst::Load(1), Inst::Binary(Lt, v(0), v(1)), Inst::Where(v(2), v(2), v(2))]);
    assert_eq!(contiguous(&both), None);
    // A condition that does not vary along the row.
    let column = Kernel {
        ndim: 2,
        inputs: vec![KernelInput { dtype: d, axes: vec![0, 1] }, KernelInput { dtype: d, axes: vec![0] }],
        body: vec![
            Inst::Load(0),
            Inst::Load(1),
            scalar(d, 0.0),
            Inst::Binary(Gt, v(1), v(2)),
            Inst::Unary(UnaryOp::Neg, v(0)),
            Inst::Where(v(3), v(0), v(4)),
        ],
        output: KernelOutput::Map(v(5)),
    };
    assert_eq!(lanes_of(&column, &[Stride::One, Stride::Zero]), None);
    let (x, c) = (block(d, &[3, 9], 3), block(d, &[3], 4));
    check_same(&column, &[&x, &c], &[0..3, 0..9], &[3, 9]);
}

#[test]
fn comparison_results_are_stored_as_bytes() {
    use BinaryOp::*;
    let lanes = [(DType::F64, LaneType::F64X2), (DType::F32, LaneType::F32X4)];
    let lanes = lanes.into_iter().chain([(DType::I64, LaneType::I64X2), (DType::I32, LaneType::I32X4)]);
    for (d, lane) in lanes {
        for op in [Lt, Ge, Eq, Ne] {
            // `x op y`, and `2x op y`: the mask of a computed value.
            let bodies = [
                vec![Inst::Load(0), Inst::Load(1), Inst::Binary(op, v(0), v(1))],
                vec![
                    Inst::Load(0),
                    Inst::Load(1),
                    scalar(d, 2.0),
                    Inst::Binary(Mul, v(0), v(2)),
                    Inst::Binary(op, v(3), v(1)),
                ],
            ];
            for body in bodies {
                let value = v(body.len() as u32 - 1);
                let map = kernel(d, body.clone(), KernelOutput::Map(value));
                assert_eq!(contiguous(&map), Some(lane), "{map}");
                for len in [0, 1, 15, 16, 17, 33, 130, 1025] {
                    let (x, y) = (block(d, &[2, len], 5), block(d, &[2, len], 6));
                    let (region, space) = ([0..2, 0..len], [2, len]);
                    check_same(&map, &[&x, &y], &region, &space);
                    for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Any, ReduceOp::All, ReduceOp::ArgMax] {
                        let output = KernelOutput::Reduce { op, axes: vec![1], keepdims: false, value };
                        check_same(&kernel(d, body.clone(), output), &[&x, &y], &region, &space);
                    }
                }
            }
        }
    }
    let map =
        kernel(DType::F64, vec![Inst::Load(0), Inst::Load(1), Inst::Binary(Gt, v(0), v(1))], KernelOutput::Map(v(2)));
    let text = crate::jit::clif_text(&map, &[Stride::One; 2], false).expect("the kernel compiles");
    assert!(text.contains("snarrow") && text.contains("shuffle"), "{text}");
}

#[test]
fn logic_of_masks_runs_in_vector_lanes() {
    use BinaryOp::*;
    let lanes = [(DType::F64, LaneType::F64X2), (DType::F32, LaneType::F32X4)];
    let lanes = lanes.into_iter().chain([(DType::I64, LaneType::I64X2), (DType::I32, LaneType::I32X4)]);
    for (d, lane) in lanes {
        let float = d == DType::F64 || d == DType::F32;
        // `(x < y) & !(x == 2)`, `(x < y) | (y >= 2)` as results; `where((x > y) | isnan(x),
        // y, x)` (floats) or `where(!(x > y), y, x)`.
        let mut bodies = vec![
            vec![
                Inst::Load(0),
                Inst::Load(1),
                Inst::Binary(Lt, v(0), v(1)),
                scalar(d, 2.0),
                Inst::Binary(Eq, v(0), v(3)),
                Inst::Unary(UnaryOp::Not, v(4)),
                Inst::Binary(And, v(2), v(5)),
            ],
            vec![
                Inst::Load(0),
                Inst::Load(1),
                Inst::Binary(Lt, v(0), v(1)),
                scalar(d, 2.0),
                Inst::Binary(Ge, v(1), v(3)),
                Inst::Binary(Or, v(2), v(4)),
            ],
        ];
        let condition = if float {
            vec![Inst::Binary(Gt, v(0), v(1)), Inst::Unary(UnaryOp::IsNan, v(0)), Inst::Binary(Or, v(2), v(3))]
        } else {
            vec![Inst::Binary(Gt, v(0), v(1)), Inst::Unary(UnaryOp::Not, v(2))]
        };
        let mut select = vec![Inst::Load(0), Inst::Load(1)];
        select.extend(condition);
        select.push(Inst::Where(v(select.len() as u32 - 1), v(1), v(0)));
        bodies.push(select);
        for body in bodies {
            let value = v(body.len() as u32 - 1);
            let map = kernel(d, body.clone(), KernelOutput::Map(value));
            assert_eq!(contiguous(&map), Some(lane), "{map}");
            for len in [0, 1, 15, 16, 17, 130] {
                let (x, y) = (block(d, &[2, len], 7), block(d, &[2, len], 8));
                let (region, space) = ([0..2, 0..len], [2, len]);
                check_same(&map, &[&x, &y], &region, &space);
                let output = KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![1], keepdims: false, value };
                check_same(&kernel(d, body.clone(), output), &[&x, &y], &region, &space);
            }
        }
    }
    // A logic op kept as a value (cast) keeps the kernel scalar.
    let cast = vec![
        Inst::Load(0),
        Inst::Load(1),
        Inst::Binary(Lt, v(0), v(1)),
        Inst::Unary(UnaryOp::Not, v(2)),
        Inst::Cast(DType::F64, v(3)),
    ];
    assert_eq!(contiguous(&kernel(DType::F64, cast, KernelOutput::Map(v(4)))), None);
}

/// A `2 × len` `bool` block (about a third true).
fn bools(len: usize, seed: u64) -> Chunk {
    let s = RandomStream::new(seed);
    let n = 2 * len;
    Chunk::new(
        ArrayD::from_shape_vec(IxDyn(&[2, len]), (0..n as u64).map(|i| s.bits(i).is_multiple_of(3)).collect()).unwrap(),
    )
}

#[test]
fn bool_inputs_are_lane_masks() {
    use BinaryOp::*;
    let lanes = [(DType::F64, LaneType::F64X2), (DType::F32, LaneType::F32X4)];
    let lanes = lanes.into_iter().chain([(DType::I64, LaneType::I64X2), (DType::I32, LaneType::I32X4)]);
    for (d, lane) in lanes {
        // Input 0 of dtype `d`, input 1 a `bool` mask: `where(m, x, -x)`, `m & (x > 0)`.
        let with_mask = |body: Vec<Inst>| Kernel {
            ndim: 2,
            inputs: vec![
                KernelInput { dtype: d, axes: vec![0, 1] },
                KernelInput { dtype: DType::Bool, axes: vec![0, 1] },
            ],
            output: KernelOutput::Map(v(body.len() as u32 - 1)),
            body,
        };
        let select = with_mask(vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Unary(UnaryOp::Neg, v(0)),
            Inst::Where(v(1), v(0), v(2)),
        ]);
        let both = with_mask(vec![
            Inst::Load(0),
            Inst::Load(1),
            scalar(d, 0.0),
            Inst::Binary(Gt, v(0), v(2)),
            Inst::Binary(And, v(1), v(3)),
        ]);
        for k in [select, both] {
            // Two-lane kernels keep a `bool` input scalar (see `masks`).
            let want = Some(lane).filter(|l| l.lanes() == 4);
            assert_eq!(lanes_of(&k, &[Stride::One; 2]), want, "{k}");
            for len in [0, 1, 3, 15, 16, 17, 130] {
                let (x, m) = (block(d, &[2, len], 9), bools(len, 10));
                let (region, space) = ([0..2, 0..len], [2, len]);
                check_same(&k, &[&x, &m], &region, &space);
                let value = match k.output {
                    KernelOutput::Map(v) => v,
                    KernelOutput::Reduce { value, .. } => value,
                };
                let sum = KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![1], keepdims: false, value };
                check_same(&Kernel { output: sum, ..k.clone() }, &[&x, &m], &region, &space);
            }
        }
    }
    // Masks alone: `m & !n`, in four lanes.
    let only = Kernel {
        ndim: 2,
        inputs: vec![KernelInput { dtype: DType::Bool, axes: vec![0, 1] }; 2],
        body: vec![Inst::Load(0), Inst::Load(1), Inst::Unary(UnaryOp::Not, v(1)), Inst::Binary(And, v(0), v(2))],
        output: KernelOutput::Map(v(3)),
    };
    assert_eq!(lanes_of(&only, &[Stride::One; 2]), Some(LaneType::I32X4));
    for len in [0, 5, 16, 33, 1025] {
        let (m, n) = (bools(len, 11), bools(len, 12));
        check_same(&only, &[&m, &n], &[0..2, 0..len], &[2, len]);
    }
}
