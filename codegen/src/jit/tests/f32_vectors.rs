//! The `F32X4` main loop against the interpreter: fixed `f32` kernels over every row length
//! around the vector width, the pairwise-leaf boundaries and a tile, with NaN, ±inf, -0.0,
//! subnormals, ties for `round` and broadcast inputs, mapped and reduced; the choice of the
//! lane type; and a property test of random `f32` kernels built only from ops with a 4-lane
//! form, so every case runs the vector loop (and, summed along rows, the promoted leaf).

// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#![allow(clippy::single_range_in_vec_init)]

use kiln_ir::{BinaryOp, Chunk, DType, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, Scalar, UnaryOp, ValueId};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

use super::{check_same, lanes_of};
use crate::jit::analysis::Stride;
use crate::jit::vector::LaneType;
use crate::random::RandomStream;

fn v(i: u32) -> ValueId {
    ValueId(i)
}

/// Values that exercise every lane-wise op's edge cases.
const SPECIAL: [f32; 14] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    -0.0,
    0.0,
    1e-40,
    -1e-45,
    f32::MIN_POSITIVE,
    f32::MAX,
    2.5,
    -1.5,
    0.5,
    3e38,
    -7.0,
];

/// An `f32` block of `shape` with values in [-4, 4), about one in five a special value.
fn block(shape: &[usize], seed: u64) -> Chunk {
    block_with(shape, seed, 5)
}

/// An `f32` block of `shape` with values in [-4, 4), about one in `every` a special value.
fn block_with(shape: &[usize], seed: u64, every: u64) -> Chunk {
    let s = RandomStream::new(seed);
    let vals: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|i| {
            let i = i as u64;
            if s.bits(i).is_multiple_of(every) {
                SPECIAL[(s.bits(i) >> 8) as usize % SPECIAL.len()]
            } else {
                (s.uniform01(i) * 8.0 - 4.0) as f32
            }
        })
        .collect();
    Chunk::new(ArrayD::from_shape_vec(IxDyn(shape), vals).expect("the shape fits"))
}

fn f32_kernel(inputs: &[&[u32]], body: Vec<Inst>, output: KernelOutput) -> Kernel {
    let inputs = inputs.iter().map(|axes| KernelInput { dtype: DType::F32, axes: axes.to_vec() }).collect();
    Kernel { ndim: 2, inputs, body, output }
}

/// The fixed bodies: `(x + 1) * 2`; `minimum(x, y)`; `maximum(x, y)`; `sqrt(x*x + y*y)`;
/// every cheap op (`minimum`/`maximum`
/// with NaN, the `pow` fast paths, rounding, negation, division by a broadcast column `m`);
/// and ops only the tests vectorize (lane-wise host calls: `sin`, `rem`, a general `pow`).
fn bodies() -> Vec<Vec<Inst>> {
    use BinaryOp::*;
    let c = |x: f32| Inst::Const(Scalar::F32(x));
    vec![
        vec![Inst::Load(0), c(1.0), Inst::Binary(Add, v(0), v(1)), c(2.0), Inst::Binary(Mul, v(2), v(3))],
        vec![Inst::Load(0), Inst::Load(1), Inst::Binary(Minimum, v(0), v(1))],
        vec![Inst::Load(0), Inst::Load(1), Inst::Binary(Maximum, v(0), v(1))],
        vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Binary(Mul, v(0), v(0)),
            Inst::Binary(Mul, v(1), v(1)),
            Inst::Binary(Add, v(2), v(3)),
            Inst::Unary(UnaryOp::Sqrt, v(4)),
        ],
        vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Load(2),
            Inst::Binary(Minimum, v(0), v(1)),
            Inst::Binary(Maximum, v(1), v(3)),
            c(2.0),
            Inst::Binary(Pow, v(4), v(5)),
            c(-1.0),
            Inst::Binary(Pow, v(0), v(7)),
            Inst::Binary(Sub, v(6), v(8)),
            Inst::Binary(Div, v(9), v(2)),
            Inst::Unary(UnaryOp::Round, v(10)),
            Inst::Unary(UnaryOp::Floor, v(0)),
            Inst::Unary(UnaryOp::Ceil, v(1)),
            Inst::Binary(Sub, v(12), v(13)),
            Inst::Unary(UnaryOp::Neg, v(14)),
            Inst::Unary(UnaryOp::Abs, v(15)),
            c(0.5),
            Inst::Binary(Pow, v(16), v(17)),
            Inst::Binary(Add, v(11), v(18)),
            c(0.0),
            Inst::Binary(Pow, v(1), v(20)),
            c(1.0),
            Inst::Binary(Pow, v(21), v(22)),
            Inst::Binary(Mul, v(19), v(23)),
        ],
        vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Unary(UnaryOp::Sin, v(0)),
            Inst::Binary(Rem, v(2), v(1)),
            Inst::Const(Scalar::F32(3.0)),
            Inst::Binary(Pow, v(3), v(4)),
        ],
    ]
}

/// Every fixed kernel, mapped and reduced, at row lengths around 4, 8, 128 and 1024, with
/// the third input a broadcast column (stride 0 along rows) or a full block: the same bits
/// (maps) or partial state (reductions) as the interpreter, through the `F32X4` loop.
#[test]
fn f32_kernels_run_four_lanes_like_the_interpreter() {
    let lens = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 127, 128, 129, 1023, 1024, 1025];
    for (b, body) in bodies().into_iter().enumerate() {
        let value = v(body.len() as u32 - 1);
        for third in [&[0u32][..], &[0, 1]] {
            let axes: [&[u32]; 3] = [&[0, 1], &[0, 1], third];
            let map = f32_kernel(&axes, body.clone(), KernelOutput::Map(value));
            let strides = [Stride::One, Stride::One, if third.len() == 1 { Stride::Zero } else { Stride::One }];
            assert_eq!(lanes_of(&map, &strides), Some(LaneType::F32X4), "body {b}");
            for len in lens {
                let (x, y) = (block(&[3, len], 1), block(&[3, len], 2));
                let m = if third.len() == 1 { block(&[3], 3) } else { block(&[3, len], 3) };
                let inputs = [&x, &y, &m];
                let (region, space) = ([0..3, 0..len], [3, len]);
                check_same(&map, &inputs, &region, &space);
                for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Prod] {
                    for reduced in [vec![1], vec![0, 1], vec![0]] {
                        let output = KernelOutput::Reduce { op, axes: reduced, keepdims: false, value };
                        check_same(&f32_kernel(&axes, body.clone(), output), &inputs, &region, &space);
                    }
                }
            }
            // Every pair of special values, `x` against `y` (and `m`, shifted), in one row.
            let n = SPECIAL.len();
            let row = |f: &dyn Fn(usize) -> f32| {
                let vals: Vec<f32> = (0..n * n).map(f).collect();
                Chunk::new(ArrayD::from_shape_vec(IxDyn(&[1, n * n]), vals).expect("the shape fits"))
            };
            let (x, y) = (row(&|i| SPECIAL[i / n]), row(&|i| SPECIAL[i % n]));
            let m = if third.len() == 1 { block(&[1], 4) } else { row(&|i| SPECIAL[(i * 5 + 3) % n]) };
            check_same(&map, &[&x, &y, &m], &[0..1, 0..n * n], &[1, n * n]);
        }
    }
}

/// A broadcast row (stride 0 along rows, read as one element) mixed with full `f32` rows,
/// and a kernel whose every value is invariant: both agree with the interpreter.
#[test]
fn broadcast_and_invariant_f32_rows() {
    use BinaryOp::*;
    let body = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(Maximum, v(1), v(0)), Inst::Unary(UnaryOp::Sqrt, v(2))];
    for len in [1, 4, 5, 9, 1025] {
        let x = block(&[4, len], 7);
        let row = block(&[4, 1], 8);
        let map = f32_kernel(&[&[0, 1], &[0, 1]], body.clone(), KernelOutput::Map(v(3)));
        check_same(&map, &[&x, &row], &[0..4, 0..len], &[4, len]);
        let sum = KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![1], keepdims: false, value: v(3) };
        check_same(&f32_kernel(&[&[0, 1], &[0, 1]], body.clone(), sum), &[&x, &row], &[0..4, 0..len], &[4, len]);
        // Nothing varies along the rows: the result is splatted.
        let column = f32_kernel(&[&[0], &[0]], body.clone(), KernelOutput::Map(v(3)));
        assert_eq!(lanes_of(&column, &[Stride::Zero, Stride::Zero]), Some(LaneType::F32X4));
        let (c1, c2) = (block(&[4], 9), block(&[4], 10));
        check_same(&column, &[&c1, &c2], &[0..4, 0..len], &[4, len]);
        let mean = KernelOutput::Reduce { op: ReduceOp::Mean, axes: vec![1], keepdims: false, value: v(3) };
        check_same(&f32_kernel(&[&[0], &[0]], body.clone(), mean), &[&c1, &c2], &[0..4, 0..len], &[4, len]);
    }
}

/// What keeps an `f32` kernel scalar: casts, comparisons kept as values other than the
/// result (a `where` over one, or one that is the result, is a lane mask: see `masks`), a mix of `f32` and `f64` values, strided loads, and
/// (outside tests) host calls.
#[test]
fn what_keeps_f32_kernels_scalar() {
    use BinaryOp::*;
    let one = [Stride::One];
    let f32_of = |body: Vec<Inst>| f32_kernel(&[&[0, 1]], body.clone(), KernelOutput::Map(v(body.len() as u32 - 1)));
    let cast = f32_of(vec![Inst::Load(0), Inst::Cast(DType::F64, v(0)), Inst::Cast(DType::F32, v(1))]);
    let compare = f32_of(vec![Inst::Load(0), Inst::Binary(Lt, v(0), v(0))]);
    let select = f32_of(vec![Inst::Load(0), Inst::Binary(Lt, v(0), v(0)), Inst::Where(v(1), v(0), v(0))]);
    let plain = f32_of(vec![Inst::Load(0), Inst::Unary(UnaryOp::Abs, v(0))]);
    assert_eq!(lanes_of(&cast, &one), None);
    assert_eq!(lanes_of(&compare, &one), Some(LaneType::F32X4));
    assert_eq!(lanes_of(&select, &one), Some(LaneType::F32X4));
    assert_eq!(lanes_of(&plain, &one), Some(LaneType::F32X4));
    assert_eq!(lanes_of(&plain, &[Stride::Other]), None);
    let text = crate::jit::clif_text(&plain, &one, false).expect("the kernel compiles");
    assert!(text.contains("f32x4"), "{text}");
    let text = crate::jit::clif_text(&cast, &one, false).expect("the kernel compiles");
    assert!(!text.contains("f32x4"), "{text}");
}

/// A random `f32` kernel with a 4-lane form: 1-3 inputs (full blocks, or broadcast along
/// rows), constants (special values included), and `n_ops` ops from the vectorized set,
/// mapped or reduced; with its inputs and region.
fn random_case(seed: u64, n_ops: usize, len: usize, reduce: bool) -> (Kernel, Vec<Chunk>, usize) {
    use BinaryOp::*;
    let s = RandomStream::new(seed);
    let mut counter = 0u64;
    let mut below = |n: usize| {
        counter += 1;
        (s.bits(counter) % n as u64) as usize
    };
    let rows = 1 + below(3);
    let n_inputs = 1 + below(3);
    let mut axes: Vec<&[u32]> = vec![&[0, 1]];
    let every = [2, 5, 50][below(3)] as u64;
    let block = |shape: &[usize], seed: u64| block_with(shape, seed, every);
    let mut inputs = vec![block(&[rows, len], seed ^ 1)];
    for k in 1..n_inputs {
        let seed = seed ^ (k as u64 + 1);
        if below(4) == 0 {
            axes.push(&[0]);
            inputs.push(block(&[rows], seed));
        } else {
            axes.push(&[0, 1]);
            inputs.push(block(&[rows, len], seed));
        }
    }
    let mut body: Vec<Inst> = (0..n_inputs as u32).map(Inst::Load).collect();
    let unary = [UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Sqrt, UnaryOp::Floor, UnaryOp::Ceil, UnaryOp::Round];
    let binary = [Add, Sub, Mul, Div, Minimum, Maximum];
    for _ in 0..n_ops {
        let n = body.len();
        // Prefer recent values, so chains grow deep.
        let x = v(if below(2) == 0 { n - 1 } else { below(n) } as u32);
        match below(10) {
            0..=2 => body.push(Inst::Unary(unary[below(unary.len())], x)),
            3 => {
                body.push(Inst::Const(Scalar::F32([2.0, 0.5, -1.0, 1.0, 0.0][below(5)])));
                body.push(Inst::Binary(Pow, x, v(n as u32)));
            }
            4 => {
                body.push(Inst::Const(Scalar::F32(SPECIAL[below(SPECIAL.len())])));
                body.push(Inst::Binary(binary[below(binary.len())], v(n as u32), x));
            }
            _ => {
                let y = v(below(n) as u32);
                body.push(Inst::Binary(binary[below(binary.len())], x, y));
            }
        }
    }
    let value = v(body.len() as u32 - 1);
    let output = if reduce {
        let op = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Min, ReduceOp::Prod][below(4)];
        KernelOutput::Reduce { op, axes: [vec![1], vec![0, 1], vec![0]][below(3)].clone(), keepdims: false, value }
    } else {
        KernelOutput::Map(value)
    };
    (f32_kernel(&axes, body, output), inputs, rows)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_f32_vector_kernels_match_the_interpreter(
        seed in any::<u64>(),
        n_ops in 0usize..12,
        len in prop::sample::select(vec![0usize, 1, 3, 4, 5, 7, 8, 9, 17, 128, 129, 1023, 1024, 1025]),
        reduce in any::<bool>(),
    ) {
        let (kernel, inputs, rows) = random_case(seed, n_ops, len, reduce);
        let strides: Vec<Stride> =
            kernel.inputs.iter().map(|i| if i.axes.len() == 2 { Stride::One } else { Stride::Zero }).collect();
        prop_assert_eq!(lanes_of(&kernel, &strides), Some(LaneType::F32X4), "{}", kernel);
        let refs: Vec<&Chunk> = inputs.iter().collect();
        check_same(&kernel, &refs, &[0..rows, 0..len], &[rows, len]);
    }
}
