//! Tests of the kernel interpreter: unit tests of tiling edges, broadcasting, 0-d kernels
//! and errors here; the differential property tests against the op-by-op reference in
//! `prop`; the per-op agreement of the tile loops with the reference kernels in `ops`; inputs
//! read across their layout (staged) in `staging`.

// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#![allow(clippy::single_range_in_vec_init)]

mod ops;
mod oracle;
pub(crate) mod prop;
mod staging;

use std::ops::Range;

use kiln_ir::{
    BinaryOp, Chunk, DType, Distribution, F64Bits, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, Scalar, UnaryOp,
    ValueId, with_chunk,
};
use ndarray::{Array, ArrayD, Dimension, IxDyn, s};

use super::{run_map, run_partial};
use crate::error::{Error, Result};
use crate::reference::reduce::PartialState;

const V: fn(u32) -> ValueId = ValueId;

fn kernel(ndim: u32, inputs: &[(DType, &[u32])], body: Vec<Inst>, output: KernelOutput) -> Kernel {
    let inputs = inputs.iter().map(|&(dtype, axes)| KernelInput { dtype, axes: axes.to_vec() }).collect();
    Kernel { ndim, inputs, body, output }
}

fn map_out(body: &[Inst]) -> KernelOutput {
    KernelOutput::Map(ValueId(body.len() as u32 - 1))
}

fn f64_block(shape: &[usize], seed: u64) -> Chunk {
    let s = crate::random::RandomStream::new(seed);
    Chunk::new(ArrayD::from_shape_fn(IxDyn(shape), |i| {
        let g = i.slice().iter().fold(0u64, |a, &x| a * 1000 + x as u64);
        s.uniform01(g) * 4.0 - 2.0
    }))
}

/// Whether two floats are the same value (NaNs of any payload are the same).
fn same_bits(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Element values of a chunk as `f64` bit patterns' stand-ins (floats kept exactly).
fn values(c: &Chunk) -> Vec<f64> {
    match c {
        Chunk::F32(a) => a.iter().map(|&v| f64::from(v)).collect(),
        Chunk::F64(a) => a.iter().copied().collect(),
        Chunk::I64(a) => a.iter().map(|&v| v as f64).collect(),
        Chunk::I32(a) => a.iter().map(|&v| f64::from(v)).collect(),
        Chunk::Bool(a) => a.iter().map(|&v| f64::from(u8::from(v))).collect(),
    }
}

/// Asserts two blocks are equal bit for bit (NaN payloads aside).
fn assert_same(got: &Chunk, want: &Chunk, what: &str) {
    assert_eq!((got.dtype(), got.shape()), (want.dtype(), want.shape()), "{what}");
    if let (Chunk::I64(a), Chunk::I64(b)) = (got, want) {
        assert_eq!(a, b, "{what}");
        return;
    }
    for (k, (a, b)) in values(got).into_iter().zip(values(want)).enumerate() {
        assert!(same_bits(a, b), "{what}: element {k}: {a:?} != {b:?}");
    }
}

/// Runs a map kernel and the oracle; both must fail alike or give the same block.
fn check_map(k: &Kernel, inputs: &[&Chunk], region: &[Range<usize>]) -> Result<Chunk> {
    let got = run_map(k, inputs, region);
    let want = oracle::map(k, inputs, region);
    match (&got, &want) {
        (Ok(g), Ok(w)) => assert_same(g, w, &format!("{k}\nregion {region:?}")),
        (Err(g), Err(w)) => assert_eq!(g, w, "{k}"),
        _ => panic!("{k}\nregion {region:?}: kernel {got:?}, oracle {want:?}"),
    }
    got
}

/// Runs a reduce kernel and the oracle over one block; the states must have the same
/// shape and count and finish to the same result (see `prop::assert_close`).
fn check_reduce(k: &Kernel, inputs: &[&Chunk], region: &[Range<usize>], space: &[usize]) -> Result<Chunk> {
    let got = run_partial(k, inputs, region, space);
    let want = oracle::partial(k, inputs, region, space);
    let (got, want): (PartialState, PartialState) = match (got, want) {
        (Ok(g), Ok(w)) => (g, w),
        (Err(g), Err(w)) => {
            assert_eq!(g, w, "{k}");
            return Err(g);
        }
        (g, w) => panic!("{k}\nregion {region:?}: kernel {g:?}, oracle {w:?}"),
    };
    assert_eq!((got.shape(), got.count), (want.shape(), want.count), "{k}\nregion {region:?}");
    let (g, w) = (oracle::finish(k, &[&got]), oracle::finish(k, &[&want]));
    let op = oracle::reduce_op(k).expect("a reduction");
    let KernelOutput::Reduce { value, .. } = k.output else { unreachable!("a reduction") };
    let scale = prop::scale(op, &oracle::value(k, inputs, region, value).expect("the oracle ran"));
    match (&g, &w) {
        (Ok(g), Ok(w)) => prop::assert_close(op, g, w, scale, &format!("{k}\nregion {region:?}")),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("{k}: finished {g:?} vs {w:?}"),
    }
    g
}

/// `(sin(x)^2 + cos(y)^2) * x - y / 2` over `x` and a random `y`, reduced by `op`.
fn a1(op: ReduceOp, axes: Vec<u32>) -> Kernel {
    use BinaryOp::*;
    let uniform = Distribution::Uniform { low: F64Bits(0.0), high: F64Bits(1.0) };
    let body = vec![
        Inst::Load(0),
        Inst::Random {
            dist: uniform,
            seed: 7,
            base: vec![64, 4096],
            start: vec![0, 0],
            step: vec![1, 1],
            axes: vec![Some(0), Some(1)],
        },
        Inst::Unary(UnaryOp::Sin, V(0)),
        Inst::Const(Scalar::F64(2.0)),
        Inst::Binary(Pow, V(2), V(3)),
        Inst::Unary(UnaryOp::Cos, V(1)),
        Inst::Binary(Pow, V(5), V(3)),
        Inst::Binary(Add, V(4), V(6)),
        Inst::Binary(Mul, V(7), V(0)),
        Inst::Binary(Div, V(1), V(3)),
        Inst::Binary(Sub, V(8), V(9)),
    ];
    let output = KernelOutput::Reduce { op, axes, keepdims: false, value: V(10) };
    kernel(2, &[(DType::F64, &[0, 1])], body, output)
}

#[test]
fn a1_over_tiled_rows() {
    let region = [3..40, 1000..2100];
    let x = f64_block(&[37, 1100], 1);
    for (op, axes) in [
        (ReduceOp::Sum, vec![0, 1]),
        (ReduceOp::Mean, vec![1]),
        (ReduceOp::Max, vec![0]),
        (ReduceOp::ArgMin, vec![0, 1]),
        (ReduceOp::ArgMax, vec![1]),
        (ReduceOp::Var { ddof: F64Bits(1.0) }, vec![0]),
    ] {
        check_reduce(&a1(op, axes), &[&x], &region, &[64, 4096]).unwrap();
    }
    let mut map = a1(ReduceOp::Sum, vec![]);
    map.output = KernelOutput::Map(V(10));
    check_map(&map, &[&x], &region).unwrap();
}

/// `(x + 1) * 2` with `x` placed by `axes`.
fn plus_one_times_two(ndim: u32, axes: &[u32], dtype: DType) -> Kernel {
    let one = Scalar::F64(1.0).cast(dtype);
    let two = Scalar::F64(2.0).cast(dtype);
    let body = vec![
        Inst::Load(0),
        Inst::Const(one),
        Inst::Binary(BinaryOp::Add, V(0), V(1)),
        Inst::Const(two),
        Inst::Binary(BinaryOp::Mul, V(2), V(3)),
    ];
    let out = map_out(&body);
    kernel(ndim, &[(dtype, axes)], body, out)
}

#[test]
fn tiling_edges() {
    for len in [0usize, 1, 2, 511, 512, 513, 1023, 1024, 1025, 2049] {
        let x = f64_block(&[3, len], 2);
        let k = plus_one_times_two(2, &[0, 1], DType::F64);
        let out = check_map(&k, &[&x], &[0..3, 5..5 + len]).unwrap();
        assert_eq!(out.shape(), &[3, len]);
        // Transposed: the input's axis 0 runs along the row.
        let t = f64_block(&[len, 3], 3);
        check_map(&plus_one_times_two(2, &[1, 0], DType::F64), &[&t], &[0..3, 0..len]).unwrap();
        let sum = KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![1], keepdims: false, value: V(4) };
        let arg = KernelOutput::Reduce { op: ReduceOp::ArgMax, axes: vec![0, 1], keepdims: false, value: V(4) };
        for output in [sum, arg] {
            let k = Kernel { output, ..plus_one_times_two(2, &[0, 1], DType::F64) };
            let _ = check_reduce(&k, &[&x], &[0..3, 5..5 + len], &[4, 3000]);
        }
    }
}

#[test]
fn broadcast_patterns_and_layouts() {
    let body = vec![
        Inst::Load(0),
        Inst::Load(1),
        Inst::Binary(BinaryOp::Sub, V(0), V(1)),
        Inst::Load(2),
        Inst::Binary(BinaryOp::Mul, V(2), V(3)),
    ];
    let out = map_out(&body);
    let region = [2..7, 0..4, 1..1200];
    let big = f64_block(&[12, 10, 2400], 4);
    // A strided, reversed view for the full input, then a row, a column and a scalar.
    let full = with_chunk!(&big, a => Chunk::from(a.clone().slice_move(s![..;-2, 3..7, ..;2]).into_dyn()));
    assert_eq!(full.shape(), &[6, 4, 1200]);
    let full = with_chunk!(&full, a => Chunk::from(a.clone().slice_move(s![1.., .., 1..]).into_dyn()));
    let row = f64_block(&[1199], 5);
    let col = f64_block(&[5, 1], 6);
    let scalar = f64_block(&[], 7);
    let cases: Vec<(&[u32], &Chunk, &[u32], &Chunk)> = vec![
        (&[0, 1, 2], &full, &[2], &row),
        (&[0, 1, 2], &full, &[0, 1], &col),
        (&[2], &row, &[0, 2], &col),
        (&[0, 1, 2], &full, &[], &scalar),
    ];
    for (axes_a, a, axes_b, b) in cases {
        let k =
            kernel(3, &[(DType::F64, axes_a), (DType::F64, axes_b), (DType::F64, &[1, 0])], body.clone(), out.clone());
        // The third input lies transposed: its axis 0 is iteration axis 1.
        let third = f64_block(&[4, 5], 8);
        check_map(&k, &[a, b, &third], &region).unwrap();
        for axes in [vec![0], vec![1], vec![2], vec![0, 2], vec![0, 1, 2], vec![]] {
            for op in [ReduceOp::Sum, ReduceOp::Min, ReduceOp::ArgMin, ReduceOp::Var { ddof: F64Bits(0.0) }] {
                let output = KernelOutput::Reduce { op, axes: axes.clone(), keepdims: true, value: V(4) };
                let k = Kernel { output, ..k.clone() };
                check_reduce(&k, &[a, b, &third], &region, &[9, 4, 1300]).unwrap();
            }
        }
    }
}

#[test]
fn short_rows_are_packed() {
    // Rows of 3: several per tile; a column input varies per row, and an arange along the
    // rows and a random source along the columns are hoisted per row only when unpacked.
    let body = vec![
        Inst::Load(0),
        Inst::Arange { start: Scalar::I64(10), step: Scalar::I64(-3), axis: 0 },
        Inst::Cast(DType::F64, V(1)),
        Inst::Binary(BinaryOp::Add, V(0), V(2)),
        Inst::Random {
            dist: Distribution::Normal { mean: F64Bits(0.0), std: F64Bits(1.0) },
            seed: 3,
            base: vec![5000, 9],
            start: vec![4000, 8],
            step: vec![-1, -2],
            axes: vec![Some(0), Some(1)],
        },
        Inst::Binary(BinaryOp::Mul, V(3), V(4)),
    ];
    let out = map_out(&body);
    let k = kernel(2, &[(DType::F64, &[0])], body, out);
    let col = f64_block(&[3000], 9);
    check_map(&k, &[&col], &[100..3100, 0..3]).unwrap();
    check_map(&k, &[&col], &[100..3100, 2..3]).unwrap();
    for op in [ReduceOp::Sum, ReduceOp::ArgMax, ReduceOp::Max] {
        for axes in [vec![0], vec![1], vec![0, 1]] {
            let output = KernelOutput::Reduce { op, axes, keepdims: false, value: V(5) };
            check_reduce(&Kernel { output, ..k.clone() }, &[&col], &[100..3100, 0..3], &[3100, 3]).unwrap();
        }
    }
}

#[test]
fn zero_d_kernels() {
    let body = vec![Inst::Load(0), Inst::Unary(UnaryOp::Exp, V(0)), Inst::Cast(DType::I32, V(1))];
    let k = kernel(0, &[(DType::F64, &[])], body.clone(), map_out(&body));
    let x = Chunk::new(ndarray::arr0(2.5).into_dyn());
    let out = check_map(&k, &[&x], &[]).unwrap();
    assert_eq!(out, Chunk::new(ndarray::arr0(12i32).into_dyn()));
    for op in [ReduceOp::Sum, ReduceOp::ArgMin, ReduceOp::Var { ddof: F64Bits(0.0) }, ReduceOp::All] {
        let output = KernelOutput::Reduce { op, axes: vec![], keepdims: false, value: V(2) };
        let state = run_partial(&Kernel { output: output.clone(), ..k.clone() }, &[&x], &[], &[]).unwrap();
        assert_eq!((state.shape(), state.count), (&[][..], 1));
        check_reduce(&Kernel { output, ..k.clone() }, &[&x], &[], &[]).unwrap();
    }
    // A constant-only kernel still fills its block.
    let body = vec![Inst::Const(Scalar::I64(4)), Inst::Unary(UnaryOp::Neg, V(0))];
    let k = kernel(2, &[], body.clone(), map_out(&body));
    let out = check_map(&k, &[], &[0..2, 0..3]).unwrap();
    assert_eq!(out, Chunk::new(Array::from_elem((2, 3), -4i64).into_dyn()));
}

#[test]
fn errors() {
    let k = plus_one_times_two(2, &[0, 1], DType::F64);
    let x = f64_block(&[2, 3], 1);
    let internal = |r: Result<Chunk>| match r {
        Err(Error::Internal(m)) => m,
        other => panic!("expected an internal error, got {other:?}"),
    };
    assert!(internal(run_map(&k, &[], &[0..2, 0..3])).contains("0 input blocks for 1 inputs"));
    let ints = Chunk::new(Array::from_elem((2, 3), 1i32).into_dyn());
    assert!(internal(run_map(&k, &[&ints], &[0..2, 0..3])).contains("i32 block"));
    assert!(internal(run_map(&k, &[&x], &[0..2, 0..4])).contains("does not fit axes [0, 1]"));
    assert!(internal(run_map(&k, &[&x], &[0..2])).contains("for a 2-d kernel"));
    #[allow(clippy::reversed_empty_ranges)]
    let backwards = [0..2, 3..1];
    assert!(internal(run_map(&k, &[&x], &backwards)).contains("for a 2-d kernel"));
    let mut bad = k.clone();
    bad.body[2] = Inst::Binary(BinaryOp::Add, V(0), V(7));
    let msg = internal(run_map(&bad, &[&x], &[0..2, 0..3]));
    assert_eq!(msg, "kernel: invalid kernel: %2 uses %7 which is not defined before it");
    let reduce = KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![0], keepdims: false, value: V(4) };
    let rk = Kernel { output: reduce, ..k.clone() };
    assert!(internal(run_map(&rk, &[&x], &[0..2, 0..3])).contains("run_partial"));
    assert!(matches!(run_partial(&k, &[&x], &[0..2, 0..3], &[2, 3]), Err(Error::Internal(m)) if m.contains("run_map")));
    assert!(
        matches!(run_partial(&rk, &[&x], &[0..2, 1..4], &[2, 3]), Err(Error::Internal(m)) if m.contains("not inside"))
    );

    // Integer pow with a negative exponent fails where it is computed, as in the reference.
    let body = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Pow, V(0), V(1))];
    let k = kernel(1, &[(DType::I32, &[0]), (DType::I32, &[0])], body.clone(), map_out(&body));
    let base = Chunk::new(ndarray::arr1(&[2i32, 3, 4]).into_dyn());
    let exp = Chunk::new(ndarray::arr1(&[1i32, -1, 2]).into_dyn());
    let err = check_map(&k, &[&base, &exp], &[0..3]).unwrap_err();
    assert_eq!(err, Error::Compute("pow: integers to negative integer powers are not allowed".into()));
    let empty = Chunk::new(ndarray::Array1::<i32>::zeros(0).into_dyn());
    assert_eq!(run_map(&k, &[&empty, &empty], &[0..0]).unwrap().len(), 0);
    // Dead instructions do not run.
    let mut dead = k.clone();
    dead.output = KernelOutput::Map(V(0));
    assert_eq!(run_map(&dead, &[&base, &exp], &[0..3]).unwrap(), base);
}
