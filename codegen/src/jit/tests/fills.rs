//! Values filled by host code (`jit::fills`): which values a kernel fills and where each
//! argument comes from, and kernels with fills against the interpreter (through
//! `check_same`, which runs them with fills and inline): arguments that are inputs, earlier
//! fills or computed by prefix functions; strided, staged and broadcast arguments; random
//! sources of both distributions; rows shorter and longer than a window; every reduction;
//! 0-d kernels; a data error raised inside a prefix function; `linspace` along the row;
//! and which random-source kernels the dispatch gives the JIT.

// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#![allow(clippy::single_range_in_vec_init)]

use kiln_ir::{
    BinaryOp, Chunk, DType, Distribution, F64Bits, Inst, Kernel, KernelOutput, ReduceOp, Scalar, UnaryOp, ValueId,
};
use ndarray::{Array1, Array2, ArrayD, IxDyn};

use super::check_same;
use super::ops::{kernel, last, v};
use crate::jit::analysis::{Analysis, Stride};
use crate::jit::fills::{Arg, Fill, WINDOW, plan, with_batching};

/// The fills of `kernel` read along rows with `strides` (with fills on): their kinds, as
/// `("random", None)` or `(op, arg)`, and the prefix values.
fn planned(kernel: &Kernel, strides: &[Stride]) -> Option<(Vec<(String, Option<Arg>)>, Vec<ValueId>)> {
    let a = Analysis::new(kernel, kernel.dtypes().unwrap(), strides);
    let p = with_batching(true, || plan(kernel, &a, strides))?;
    let kinds = p
        .fills
        .iter()
        .map(|f| match f {
            Fill::Random { .. } => ("random".to_string(), None),
            Fill::Linspace { .. } => ("linspace".to_string(), None),
            Fill::Math { op, dtype, arg } => (format!("{op:?} {dtype}"), Some(*arg)),
            Fill::Pow { dtype, args: [x, y] } => (format!("Pow {dtype} of {y:?}"), Some(*x)),
        })
        .collect();
    Some((kinds, p.prefixes))
}

fn uniform() -> Inst {
    Inst::Random {
        dist: Distribution::Uniform { low: F64Bits(-2.0), high: F64Bits(3.0) },
        seed: 11,
        base: vec![50, 4000],
        start: vec![3, 7],
        step: vec![1, 1],
        axes: vec![Some(0), Some(1)],
    }
}

fn normal() -> Inst {
    Inst::Random {
        dist: Distribution::Normal { mean: F64Bits(1.0), std: F64Bits(0.5) },
        seed: 5,
        base: vec![4000, 50],
        start: vec![0, 0],
        step: vec![1, 1],
        axes: vec![Some(1), Some(0)],
    }
}

/// `sin(x * 2) + cos(exp(x)) * tanh(r) - ln(|u|)` over input `x` (axes `x_axes`), a
/// uniform source `r` and a normal source `u`: a prefix argument, a fill of a fill, inputs
/// and sources as arguments.
fn mixed(x_axes: &[u32], output: Option<(ReduceOp, Vec<u32>)>) -> Kernel {
    use BinaryOp::*;
    let body = vec![
        Inst::Load(0),
        Inst::Const(Scalar::F64(2.0)),
        Inst::Binary(Mul, v(0), v(1)),
        Inst::Unary(UnaryOp::Sin, v(2)),
        Inst::Unary(UnaryOp::Exp, v(0)),
        Inst::Unary(UnaryOp::Cos, v(4)),
        uniform(),
        Inst::Unary(UnaryOp::Tanh, v(6)),
        Inst::Binary(Mul, v(5), v(7)),
        Inst::Binary(Add, v(3), v(8)),
        normal(),
        Inst::Unary(UnaryOp::Abs, v(10)),
        Inst::Unary(UnaryOp::Ln, v(11)),
        Inst::Binary(Sub, v(9), v(12)),
    ];
    let output = match output {
        Some((op, axes)) => KernelOutput::Reduce { op, axes, keepdims: false, value: v(13) },
        None => last(&body),
    };
    kernel(2, &[(DType::F64, x_axes)], body, output)
}

fn grid(rows: usize, cols: usize, seed: u64) -> Chunk {
    let s = crate::random::RandomStream::new(seed);
    Chunk::new(Array2::from_shape_fn((rows, cols), |(i, j)| s.uniform01((i * cols + j) as u64) * 6.0 - 3.0).into_dyn())
}

#[test]
fn plans_fill_varying_transcendentals_and_random_sources() {
    let k = mixed(&[0, 1], None);
    let (fills, prefixes) = planned(&k, &[Stride::One]).expect("the kernel has fills");
    let want: Vec<(String, Option<Arg>)> = vec![
        ("Sin f64".into(), Some(Arg::Prefix(0))),
        ("Exp f64".into(), Some(Arg::Input(0))),
        ("Cos f64".into(), Some(Arg::Fill(1))),
        ("random".into(), None),
        ("Tanh f64".into(), Some(Arg::Fill(3))),
        ("random".into(), None),
        ("Ln f64".into(), Some(Arg::Prefix(1))),
    ];
    assert_eq!(fills, want);
    assert_eq!(prefixes, vec![v(2), v(11)]);
    // A strided input is read by a prefix; a broadcast one is computed once per row.
    let (strided, _) = planned(&k, &[Stride::Other]).unwrap();
    assert_eq!(strided[1], ("Exp f64".into(), Some(Arg::Prefix(1))));
    let (broadcast, _) = planned(&k, &[Stride::Zero]).unwrap();
    assert_eq!(broadcast.iter().filter(|(kind, _)| kind == "random").count(), 2);
    assert_eq!(broadcast.len(), 4, "x's functions are not filled: {broadcast:?}");
    // `f32` functions and the `f64` ones libm computes are filled too; other ops are not.
    let of = |d: DType, op: UnaryOp| {
        kernel(1, &[(d, &[0])], vec![Inst::Load(0), Inst::Unary(op, v(0))], KernelOutput::Map(v(1)))
    };
    let fills_of = |k: &Kernel| planned(k, &[Stride::One]).map(|(f, _)| f);
    assert_eq!(fills_of(&of(DType::F32, UnaryOp::Sin)), Some(vec![("Sin f32".into(), Some(Arg::Input(0)))]));
    assert_eq!(fills_of(&of(DType::F64, UnaryOp::Tan)), Some(vec![("Tan f64".into(), Some(Arg::Input(0)))]));
    assert_eq!(fills_of(&of(DType::F32, UnaryOp::Log10)), Some(vec![("Log10 f32".into(), Some(Arg::Input(0)))]));
    assert_eq!(fills_of(&of(DType::F64, UnaryOp::Sqrt)), None);
    // Off, nothing is filled.
    let a = Analysis::new(&k, k.dtypes().unwrap(), &[Stride::One]);
    assert!(with_batching(false, || plan(&k, &a, &[Stride::One])).is_none());
}

#[test]
fn kernels_with_fills_match_the_interpreter() {
    for (rows, cols) in [(3, 5), (2, WINDOW), (2, WINDOW + 1), (3, 1100), (1, 1), (0, 4)] {
        let x = grid(rows, cols, 1);
        let region = [2..2 + rows, 0..cols];
        let space = [rows + 3, cols];
        check_same(&mixed(&[0, 1], None), &[&x], &region, &space);
        for op in [
            ReduceOp::Sum,
            ReduceOp::Mean,
            ReduceOp::Prod,
            ReduceOp::Min,
            ReduceOp::Max,
            ReduceOp::ArgMin,
            ReduceOp::ArgMax,
            ReduceOp::Any,
            ReduceOp::Var { ddof: F64Bits(0.0) },
        ] {
            for axes in [vec![0, 1], vec![0], vec![1]] {
                check_same(&mixed(&[0, 1], Some((op, axes))), &[&x], &region, &space);
            }
        }
    }
}

/// `x ** (x * 0.5) + exp(x) ** x + x ** 3 + x ** 2` over input `x` of dtype `d`: the
/// exponent from a prefix, a base that is a fill, a constant exponent (a prefix too) and
/// NumPy's fast square, which is not filled.
fn powers(d: DType) -> Kernel {
    use BinaryOp::*;
    let c = |v: f64| Inst::Const(if d == DType::F32 { Scalar::F32(v as f32) } else { Scalar::F64(v) });
    let body = vec![
        Inst::Load(0),
        c(0.5),
        Inst::Binary(Mul, v(0), v(1)),
        Inst::Binary(Pow, v(0), v(2)),
        Inst::Unary(UnaryOp::Exp, v(0)),
        Inst::Binary(Pow, v(4), v(0)),
        c(3.0),
        Inst::Binary(Pow, v(0), v(6)),
        c(2.0),
        Inst::Binary(Pow, v(0), v(8)),
        Inst::Binary(Add, v(3), v(5)),
        Inst::Binary(Add, v(10), v(7)),
        Inst::Binary(Add, v(11), v(9)),
    ];
    kernel(2, &[(d, &[0, 1])], body, KernelOutput::Map(v(12)))
}

#[test]
fn powers_are_filled_and_match_the_interpreter() {
    let (fills, prefixes) = planned(&powers(DType::F64), &[Stride::One]).expect("pow is filled");
    let want: Vec<(String, Option<Arg>)> = vec![
        ("Pow f64 of Prefix(0)".into(), Some(Arg::Input(0))),
        ("Exp f64".into(), Some(Arg::Input(0))),
        ("Pow f64 of Input(0)".into(), Some(Arg::Fill(1))),
        ("Pow f64 of Prefix(1)".into(), Some(Arg::Input(0))),
    ];
    assert_eq!((fills, prefixes), (want, vec![v(2), v(6)]));
    // Negative, zero and huge bases and exponents take libm's path in some lanes.
    let s = crate::random::RandomStream::new(8);
    let x = Chunk::new(
        Array2::from_shape_fn((5, 1100), |(i, j)| match (i * 1100 + j) % 37 {
            0 => 0.0,
            5 => 300.0 * s.uniform01((i * 1100 + j) as u64),
            _ => s.uniform01((i * 1100 + j) as u64) * 6.0 - 3.0,
        })
        .into_dyn(),
    );
    check_same(&powers(DType::F64), &[&x], &[0..5, 0..1100], &[5, 1100]);
    let sum = |k: Kernel| Kernel {
        output: KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![0, 1], keepdims: false, value: v(12) },
        ..k
    };
    check_same(&sum(powers(DType::F64)), &[&x], &[0..5, 0..1100], &[5, 1100]);
    let x32 = Chunk::new(x.typed::<f64>().unwrap().mapv(|v| v as f32));
    check_same(&powers(DType::F32), &[&x32], &[0..5, 0..1100], &[5, 1100]);
}

#[test]
fn long_rows_are_filled_a_window_at_a_time() {
    // A 1-d map of many windows, and a map whose rows merge into one long row.
    let n = 5 * WINDOW + 3;
    let xs = Chunk::new(Array1::from_shape_fn(n, |i| i as f64 * 0.01 - 7.0).into_dyn());
    let sin_exp = kernel(
        1,
        &[(DType::F64, &[0])],
        vec![Inst::Load(0), Inst::Unary(UnaryOp::Exp, v(0)), Inst::Unary(UnaryOp::Sin, v(1))],
        KernelOutput::Map(v(2)),
    );
    check_same(&sin_exp, &[&xs], &[0..n], &[n]);
    let x = grid(40, 70, 3);
    let two_d = kernel(
        2,
        &[(DType::F64, &[0, 1])],
        vec![Inst::Load(0), Inst::Unary(UnaryOp::Cos, v(0))],
        KernelOutput::Map(v(1)),
    );
    check_same(&two_d, &[&x], &[0..40, 0..70], &[40, 70]);
}

#[test]
fn arguments_read_across_their_layout_or_broadcast() {
    // Transposed: a small block reads with a stride, a large one is staged.
    for n in [6, 300] {
        let x = grid(n, n, 4);
        check_same(&mixed(&[1, 0], None), &[&x], &[0..n, 0..n], &[n, n]);
        let sum = Some((ReduceOp::Sum, vec![1]));
        check_same(&mixed(&[1, 0], sum), &[&x], &[0..n, 0..n], &[n, n]);
    }
    // A column broadcast along the rows.
    let column = Chunk::new(Array1::from_shape_fn(9, |i| i as f64 - 4.0).into_dyn());
    check_same(&mixed(&[0], None), &[&column], &[0..9, 0..300], &[9, 300]);
}

#[test]
fn zero_d_kernels_and_errors_in_prefix_functions() {
    let scalar = Chunk::new(ArrayD::from_elem(IxDyn(&[]), 0.75));
    let tanh = vec![Inst::Load(0), Inst::Unary(UnaryOp::Tanh, v(0))];
    let k = kernel(0, &[(DType::F64, &[])], tanh, KernelOutput::Map(v(1)));
    check_same(&k, &[&scalar], &[], &[]);
    // `sin(i ** -1)`: the prefix function computing the argument meets a negative integer
    // power, which is the same data error as the interpreter's.
    let ints = Chunk::new(Array1::from_shape_fn(600, |i| i as i64 - 3).into_dyn());
    let body = vec![
        Inst::Load(0),
        Inst::Const(Scalar::I64(-1)),
        Inst::Binary(BinaryOp::Pow, v(0), v(1)),
        Inst::Cast(DType::F64, v(2)),
        Inst::Unary(UnaryOp::Sin, v(3)),
    ];
    let k = kernel(1, &[(DType::I64, &[0])], body, KernelOutput::Map(v(4)));
    assert!(planned(&k, &[Stride::One]).is_some_and(|(f, _)| f == vec![("Sin f64".into(), Some(Arg::Prefix(0)))]));
    check_same(&k, &[&ints], &[0..600], &[600]);
    let err = with_batching(true, || crate::jit::run_map(&k, &[&ints], &[0..600]));
    assert!(matches!(err, Err(crate::Error::Compute(_))), "{err:?}");
}

#[test]
fn random_kernels_run_on_the_jit_only_with_f64_transcendentals() {
    let worth = |k: &Kernel, fills: bool| with_batching(fills, || crate::jit::worth_compiling(k));
    let random = kernel(2, &[], vec![uniform()], KernelOutput::Map(v(0)));
    let with_tanh = kernel(2, &[], vec![uniform(), Inst::Unary(UnaryOp::Tanh, v(0))], KernelOutput::Map(v(1)));
    let plain = mixed(&[0, 1], None);
    assert!(!worth(&random, true) && !worth(&random, false));
    assert!(worth(&with_tanh, true) && !worth(&with_tanh, false));
    let x_only = kernel(1, &[(DType::F64, &[0])], vec![Inst::Load(0)], KernelOutput::Map(v(0)));
    assert!(worth(&x_only, true) && worth(&x_only, false));
    assert!(worth(&plain, true));
}

#[test]
fn stats_count_kernels_compiled_with_fills() {
    // A kernel no other test compiles (its constant), so this call compiles it.
    let body = vec![
        Inst::Load(0),
        Inst::Const(Scalar::F64(0.123_456)),
        Inst::Binary(BinaryOp::Mul, v(0), v(1)),
        Inst::Unary(UnaryOp::Exp, v(2)),
    ];
    let k = kernel(1, &[(DType::F64, &[0])], body, KernelOutput::Map(v(3)));
    let x = Chunk::new(Array1::from_shape_fn(40, |i| i as f64).into_dyn());
    let before = crate::jit::stats().filled;
    with_batching(true, || crate::jit::run_map(&k, &[&x], &[0..40])).unwrap();
    assert!(crate::jit::stats().filled > before);
}

#[test]
fn linspace_along_the_row_is_filled() {
    use BinaryOp::*;
    // `x * linspace(-1, 2, 9000)` along the row, and one along the other axis (computed
    // once per row).
    let along = |axis: u32| {
        let body = vec![
            Inst::Load(0),
            Inst::Linspace { start: F64Bits(-1.0), stop: F64Bits(2.0), num: 9000, endpoint: axis == 1, axis },
            Inst::Binary(Mul, v(0), v(1)),
        ];
        kernel(2, &[(DType::F64, &[0, 1])], body, KernelOutput::Map(v(2)))
    };
    let fills_of = |k: &Kernel| planned(k, &[Stride::One]).map(|(f, _)| f);
    assert_eq!(fills_of(&along(1)), Some(vec![("linspace".into(), None)]));
    assert_eq!(fills_of(&along(0)), None);
    for (rows, cols) in [(3, 5), (2, WINDOW + 7), (0, 4)] {
        let x = grid(rows, cols, 5);
        let (region, space) = ([4..4 + rows, 3..3 + cols], [rows + 9, cols + 9]);
        for axis in [0, 1] {
            check_same(&along(axis), &[&x], &region, &space);
            let sum = KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![0, 1], keepdims: false, value: v(2) };
            check_same(&Kernel { output: sum, ..along(axis) }, &[&x], &region, &space);
        }
    }
}
