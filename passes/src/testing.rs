//! Test fixtures shared by the passes' unit tests: deterministic sources (never
//! `from_array`, whose token depends on an address), short builders that unwrap, and the
//! helpers that lower, run one pass or the whole pipeline and print the graph.

use kiln_ir::build;
use kiln_ir::{BinaryOp, Chunks, DType, Distribution, Expr, F64Bits, ReduceOp, Scalar, TaskGraph, UnaryOp};

use crate::pipeline::GraphPass;
use crate::{PassOptions, build_graph};

/// Options for tests: verify after every pass, fan-in 8.
pub(crate) fn opts(disabled: &[&str]) -> PassOptions {
    PassOptions { verify: true, disabled: disabled.iter().map(|s| s.to_string()).collect(), ..PassOptions::default() }
}

/// The lowered graph only (graph passes off), verified.
pub(crate) fn lower_graph(roots: &[Expr]) -> TaskGraph {
    build_graph(roots, &opts(&["cull", "order", "fuse_linear"])).expect("lowering failed").0
}

/// The text of the lowered graph only.
pub(crate) fn lowered(roots: &[Expr]) -> String {
    lower_graph(roots).to_string()
}

/// The text of the lowered graph with reduction fan-in `split_every`.
pub(crate) fn lowered_with(roots: &[Expr], split_every: usize) -> String {
    let opts = PassOptions { split_every, ..opts(&["cull", "order", "fuse_linear"]) };
    build_graph(roots, &opts).expect("lowering failed").0.to_string()
}

/// The text of the graph after the whole pipeline with `disabled` passes off.
pub(crate) fn built(roots: &[Expr], disabled: &[&str]) -> String {
    build_graph(roots, &opts(disabled)).expect("pipeline failed").0.to_string()
}

/// The text of the lowered graph after exactly `pass`, verified.
pub(crate) fn run_pass(roots: &[Expr], pass: &dyn GraphPass) -> String {
    let graph = lower_graph(roots);
    let graph = pass.run(graph, &opts(&[])).expect("pass failed").result;
    crate::verify::verify_graph(&graph).expect("invalid graph");
    graph.to_string()
}

/// Ones of `f64`.
pub(crate) fn ones(shape: &[usize], chunks: &[usize]) -> Expr {
    build::full(Scalar::F64(1.0), shape, &Chunks::from(chunks)).unwrap()
}

/// `value` everywhere, as `i32`.
pub(crate) fn full_i32(shape: &[usize], chunks: &[usize], value: i32) -> Expr {
    build::full(Scalar::I32(value), shape, &Chunks::from(chunks)).unwrap()
}

/// `0.0, 1.0, ..., n - 1` in blocks of `chunk`.
pub(crate) fn arange_f64(n: usize, chunk: usize) -> Expr {
    build::arange(Scalar::F64(0.0), Scalar::F64(n as f64), Scalar::F64(1.0), DType::F64, &Chunks::from([chunk]))
        .unwrap()
}

/// Uniform random numbers on `[0, 1)`.
pub(crate) fn uniform(shape: &[usize], chunks: &[usize], seed: u64) -> Expr {
    let dist = Distribution::Uniform { low: F64Bits(0.0), high: F64Bits(1.0) };
    build::random(dist, seed, shape, &Chunks::from(chunks)).unwrap()
}

/// A weak `f64` scalar.
pub(crate) fn scalar(v: f64) -> Expr {
    build::scalar(Scalar::F64(v))
}

/// `a + b`.
pub(crate) fn add(a: &Expr, b: &Expr) -> Expr {
    build::binary(BinaryOp::Add, a, b).unwrap()
}

/// `a - b`.
pub(crate) fn sub(a: &Expr, b: &Expr) -> Expr {
    build::binary(BinaryOp::Sub, a, b).unwrap()
}

/// `a * b`.
pub(crate) fn mul(a: &Expr, b: &Expr) -> Expr {
    build::binary(BinaryOp::Mul, a, b).unwrap()
}

/// `exp(x)`.
pub(crate) fn exp(x: &Expr) -> Expr {
    build::unary(UnaryOp::Exp, x).unwrap()
}

/// `x` cast to `dtype`.
pub(crate) fn astype(x: &Expr, dtype: DType) -> Expr {
    build::astype(x, dtype)
}

/// A reduction over `axes` (`None`: all), without keepdims.
pub(crate) fn reduce(op: ReduceOp, x: &Expr, axes: Option<&[usize]>) -> Expr {
    build::reduce(op, x, axes, false).unwrap()
}

/// `x.slice(info)`.
pub(crate) fn slice(x: &Expr, info: &[ndarray::SliceInfoElem]) -> Expr {
    build::slice(x, info).unwrap()
}

/// Axis permutation.
pub(crate) fn transpose(x: &Expr, perm: &[usize]) -> Expr {
    build::transpose(x, perm).unwrap()
}

/// A new length-1 axis.
pub(crate) fn insert_axis(x: &Expr, axis: usize) -> Expr {
    build::insert_axis(x, axis).unwrap()
}

/// NumPy's `broadcast_to`.
pub(crate) fn broadcast_to(x: &Expr, shape: &[usize]) -> Expr {
    build::broadcast_to(x, shape).unwrap()
}

/// Blocks of `chunks` elements.
pub(crate) fn rechunk(x: &Expr, chunks: &[usize]) -> Expr {
    build::rechunk(x, &Chunks::from(chunks)).unwrap()
}
