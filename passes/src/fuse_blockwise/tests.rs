//! Snapshot tests of `FuseBlockwise` alone: the expression before and after the pass, and the
//! text of every kernel it made (numbered like the node that carries it).

use std::fmt::Write;

use kiln_ir::build;
use kiln_ir::expr_text::listing;
use kiln_ir::op::SourceView;
use kiln_ir::{BinaryOp, ChunkGrid, Chunks, DType, Distribution, Expr, F64Bits, Meta, Op, ReduceOp, Scalar, UnaryOp};

use super::FuseBlockwise;
use crate::pipeline::ExprPass;
use crate::testing::*;
use crate::verify::{OutputSignature, verify_exprs};

/// Runs exactly the pass on `roots`, verifies the result, and prints before, after and the
/// kernels.
fn fused(roots: &[Expr]) -> String {
    let outcome = FuseBlockwise.run(roots.to_vec(), &opts(&[])).expect("the pass failed");
    verify_exprs(&outcome.result).expect("invalid result");
    OutputSignature::of_roots(roots).check_same(&OutputSignature::of_roots(&outcome.result)).expect("signature");
    let mut out = format!("before:\n{}after: ({})\n{}", listing(roots), outcome.summary, listing(&outcome.result));
    for (i, e) in Expr::topo_order(&outcome.result).iter().enumerate() {
        if let Op::Fused { kernel, grid } = e.op() {
            writeln!(out, "%{i} grid={grid}: {kernel}").unwrap();
        }
    }
    out
}

macro_rules! assert_fused {
    ($roots:expr, @$expected:literal) => {
        insta::assert_snapshot!(fused(&$roots), @$expected)
    };
}

fn unary(op: UnaryOp, x: &Expr) -> Expr {
    build::unary(op, x).unwrap()
}

fn binary(op: BinaryOp, a: &Expr, b: &Expr) -> Expr {
    build::binary(op, a, b).unwrap()
}

/// The user's data: a boundary (its token depends on an address, so tests print listings
/// only, never task keys).
fn data(shape: &[usize], chunks: &[usize]) -> Expr {
    let a = ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(shape));
    build::from_array(kiln_ir::Chunk::new(a), &kiln_ir::Chunks::from(chunks)).unwrap()
}

#[test]
fn a1_is_one_map_reduce_kernel() {
    let (x, y) = (uniform(&[64, 64], &[8, 8], 42), uniform(&[64, 64], &[8, 8], 7));
    let two = scalar(2.0);
    let sin2 = binary(BinaryOp::Pow, &unary(UnaryOp::Sin, &x), &two);
    let cos2 = binary(BinaryOp::Pow, &unary(UnaryOp::Cos, &y), &two);
    let a1 = sub(&mul(&add(&sin2, &cos2), &x), &binary(BinaryOp::Div, &y, &two));
    assert_fused!([reduce(ReduceOp::Sum, &a1, None)], @"
    before:
    %0 = random.uniform(seed=42) : f64(64, 64) chunks=(8×8, 8×8)
    %1 = sin(%0) : f64(64, 64) chunks=(8×8, 8×8)
    %2 = scalar(2.0) : f64()
    %3 = pow(%1, %2) : f64(64, 64) chunks=(8×8, 8×8)
    %4 = random.uniform(seed=7) : f64(64, 64) chunks=(8×8, 8×8)
    %5 = cos(%4) : f64(64, 64) chunks=(8×8, 8×8)
    %6 = pow(%5, %2) : f64(64, 64) chunks=(8×8, 8×8)
    %7 = add(%3, %6) : f64(64, 64) chunks=(8×8, 8×8)
    %8 = mul(%7, %0) : f64(64, 64) chunks=(8×8, 8×8)
    %9 = div(%4, %2) : f64(64, 64) chunks=(8×8, 8×8)
    %10 = sub(%8, %9) : f64(64, 64) chunks=(8×8, 8×8)
    %11 = sum(%10) : f64()
    after: (12 → 1 nodes, 1 kernel)
    %0 = fused(kernel=04a0afc2) : f64()
    %0 grid=(8×8, 8×8): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=42 base=[64, 64] start=[0, 0] step=[1, 1] axes=[0, 1]
      %1 = sin %0
      %2 = const 2.0: f64
      %3 = pow %1, %2
      %4 = random.uniform low=0.0 high=1.0 seed=7 base=[64, 64] start=[0, 0] step=[1, 1] axes=[0, 1]
      %5 = cos %4
      %6 = pow %5, %2
      %7 = add %3, %6
      %8 = mul %7, %0
      %9 = div %4, %2
      %10 = sub %8, %9
      reduce sum %10 axes=[0, 1]
    }
    ");
}

#[test]
fn a_mean_is_a_boundary_read_as_a_broadcast_input() {
    let x = uniform(&[8, 6], &[4, 3], 1);
    let means = insert_axis(&reduce(ReduceOp::Mean, &x, Some(&[1])), 1);
    assert_fused!([sub(&x, &means)], @"
    before:
    %0 = random.uniform(seed=1) : f64(8, 6) chunks=(4×2, 3×2)
    %1 = mean(%0; axes=[1]) : f64(8,) chunks=(4×2,)
    %2 = insert_axis(%1; axis=1) : f64(8, 1) chunks=(4×2, 1)
    %3 = sub(%0, %2) : f64(8, 6) chunks=(4×2, 3×2)
    after: (4 → 2 nodes, 2 kernels)
    %0 = fused(kernel=3d554cf4) : f64(8,) chunks=(4×2,)
    %1 = fused(%0; kernel=ff140481) : f64(8, 6) chunks=(4×2, 3×2)
    %0 grid=(4×2, 3×2): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[8, 6] start=[0, 0] step=[1, 1] axes=[0, 1]
      reduce mean %0 axes=[1]
    }
    %1 grid=(4×2, 3×2): kernel(ndim=2; in0: f64 axes=[0]) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[8, 6] start=[0, 0] step=[1, 1] axes=[0, 1]
      %1 = load in0
      %2 = sub %0, %1
      return %2
    }
    ");
}

#[test]
fn a_centred_sum_fuses_the_outer_reduction_only() {
    let x = uniform(&[8, 6], &[4, 3], 1);
    let means = insert_axis(&reduce(ReduceOp::Mean, &x, Some(&[1])), 1);
    assert_fused!([reduce(ReduceOp::Sum, &sub(&x, &means), None)], @"
    before:
    %0 = random.uniform(seed=1) : f64(8, 6) chunks=(4×2, 3×2)
    %1 = mean(%0; axes=[1]) : f64(8,) chunks=(4×2,)
    %2 = insert_axis(%1; axis=1) : f64(8, 1) chunks=(4×2, 1)
    %3 = sub(%0, %2) : f64(8, 6) chunks=(4×2, 3×2)
    %4 = sum(%3) : f64()
    after: (5 → 2 nodes, 2 kernels)
    %0 = fused(kernel=3d554cf4) : f64(8,) chunks=(4×2,)
    %1 = fused(%0; kernel=80b60568) : f64()
    %0 grid=(4×2, 3×2): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[8, 6] start=[0, 0] step=[1, 1] axes=[0, 1]
      reduce mean %0 axes=[1]
    }
    %1 grid=(4×2, 3×2): kernel(ndim=2; in0: f64 axes=[0]) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[8, 6] start=[0, 0] step=[1, 1] axes=[0, 1]
      %1 = load in0
      %2 = sub %0, %1
      reduce sum %2 axes=[0, 1]
    }
    ");
}

#[test]
fn a_subexpression_shared_by_two_groups_is_materialized_once() {
    let s = exp(&uniform(&[4, 4], &[2, 2], 1));
    assert_fused!([add(&s, &scalar(1.0)), mul(&s, &scalar(2.0))], @"
    before:
    %0 = random.uniform(seed=1) : f64(4, 4) chunks=(2×2, 2×2)
    %1 = exp(%0) : f64(4, 4) chunks=(2×2, 2×2)
    %2 = scalar(1.0) : f64()
    %3 = add(%1, %2) : f64(4, 4) chunks=(2×2, 2×2)  → out0
    %4 = scalar(2.0) : f64()
    %5 = mul(%1, %4) : f64(4, 4) chunks=(2×2, 2×2)  → out1
    after: (6 → 3 nodes, 3 kernels)
    %0 = fused(kernel=c2f8d21c) : f64(4, 4) chunks=(2×2, 2×2)
    %1 = fused(%0; kernel=1267fe2c) : f64(4, 4) chunks=(2×2, 2×2)  → out0
    %2 = fused(%0; kernel=7878b037) : f64(4, 4) chunks=(2×2, 2×2)  → out1
    %0 grid=(2×2, 2×2): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[4, 4] start=[0, 0] step=[1, 1] axes=[0, 1]
      %1 = exp %0
      return %1
    }
    %1 grid=(2×2, 2×2): kernel(ndim=2; in0: f64 axes=[0, 1]) {
      %0 = load in0
      %1 = const 1.0: f64
      %2 = add %0, %1
      return %2
    }
    %2 grid=(2×2, 2×2): kernel(ndim=2; in0: f64 axes=[0, 1]) {
      %0 = load in0
      %1 = const 2.0: f64
      %2 = mul %0, %1
      return %2
    }
    ");
}

#[test]
fn a_subexpression_used_twice_in_one_group_is_one_instruction() {
    let s = exp(&uniform(&[4], &[2], 1));
    assert_fused!([add(&mul(&s, &s), &s)], @"
    before:
    %0 = random.uniform(seed=1) : f64(4,) chunks=(2×2,)
    %1 = exp(%0) : f64(4,) chunks=(2×2,)
    %2 = mul(%1, %1) : f64(4,) chunks=(2×2,)
    %3 = add(%2, %1) : f64(4,) chunks=(2×2,)
    after: (4 → 1 nodes, 1 kernel)
    %0 = fused(kernel=c083849d) : f64(4,) chunks=(2×2,)
    %0 grid=(2×2,): kernel(ndim=1) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[4] start=[0] step=[1] axes=[0]
      %1 = exp %0
      %2 = mul %1, %1
      %3 = add %2, %1
      return %3
    }
    ");
}

#[test]
fn transposes_of_sources_and_members_fuse() {
    let x = uniform(&[4, 4], &[2, 2], 1);
    let y = uniform(&[4, 6], &[2, 3], 2);
    assert_fused!([reduce(ReduceOp::Sum, &add(&x, &transpose(&x, &[1, 0])), None), transpose(&exp(&y), &[1, 0])], @"
    before:
    %0 = random.uniform(seed=1) : f64(4, 4) chunks=(2×2, 2×2)
    %1 = transpose(%0; axes=[1, 0]) : f64(4, 4) chunks=(2×2, 2×2)
    %2 = add(%0, %1) : f64(4, 4) chunks=(2×2, 2×2)
    %3 = sum(%2) : f64()  → out0
    %4 = random.uniform(seed=2) : f64(4, 6) chunks=(2×2, 3×2)
    %5 = exp(%4) : f64(4, 6) chunks=(2×2, 3×2)
    %6 = transpose(%5; axes=[1, 0]) : f64(6, 4) chunks=(3×2, 2×2)  → out1
    after: (7 → 2 nodes, 2 kernels)
    %0 = fused(kernel=6a5e0903) : f64()  → out0
    %1 = fused(kernel=917bed04) : f64(6, 4) chunks=(3×2, 2×2)  → out1
    %0 grid=(2×2, 2×2): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[4, 4] start=[0, 0] step=[1, 1] axes=[0, 1]
      %1 = random.uniform low=0.0 high=1.0 seed=1 base=[4, 4] start=[0, 0] step=[1, 1] axes=[1, 0]
      %2 = add %0, %1
      reduce sum %2 axes=[0, 1]
    }
    %1 grid=(3×2, 2×2): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=2 base=[4, 6] start=[0, 0] step=[1, 1] axes=[1, 0]
      %1 = exp %0
      return %1
    }
    ");
}

#[test]
fn a_node_read_through_two_axis_maps_is_materialized() {
    let s = unary(UnaryOp::Sin, &uniform(&[4, 4], &[2, 2], 1));
    assert_fused!([mul(&add(&s, &transpose(&s, &[1, 0])), &scalar(0.5))], @"
    before:
    %0 = random.uniform(seed=1) : f64(4, 4) chunks=(2×2, 2×2)
    %1 = sin(%0) : f64(4, 4) chunks=(2×2, 2×2)
    %2 = transpose(%1; axes=[1, 0]) : f64(4, 4) chunks=(2×2, 2×2)
    %3 = add(%1, %2) : f64(4, 4) chunks=(2×2, 2×2)
    %4 = scalar(0.5) : f64()
    %5 = mul(%3, %4) : f64(4, 4) chunks=(2×2, 2×2)
    after: (6 → 2 nodes, 2 kernels)
    %0 = fused(kernel=6b9e3ad6) : f64(4, 4) chunks=(2×2, 2×2)
    %1 = fused(%0, %0; kernel=2078ee79) : f64(4, 4) chunks=(2×2, 2×2)
    %0 grid=(2×2, 2×2): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[4, 4] start=[0, 0] step=[1, 1] axes=[0, 1]
      %1 = sin %0
      return %1
    }
    %1 grid=(2×2, 2×2): kernel(ndim=2; in0: f64 axes=[0, 1], in1: f64 axes=[1, 0]) {
      %0 = load in0
      %1 = load in1
      %2 = add %0, %1
      %3 = const 0.5: f64
      %4 = mul %2, %3
      return %4
    }
    ");
}

#[test]
fn a_misaligned_transpose_is_rechunked_and_the_rechunk_is_a_boundary() {
    let s = unary(UnaryOp::Sin, &uniform(&[4, 4], &[2, 4], 1));
    assert_fused!([mul(&add(&s, &transpose(&s, &[1, 0])), &scalar(0.5))], @"
    before:
    %0 = random.uniform(seed=1) : f64(4, 4) chunks=(2×2, 4)
    %1 = sin(%0) : f64(4, 4) chunks=(2×2, 4)
    %2 = rechunk(%1) : f64(4, 4) chunks=(2×2, 2×2)
    %3 = transpose(%1; axes=[1, 0]) : f64(4, 4) chunks=(4, 2×2)
    %4 = rechunk(%3) : f64(4, 4) chunks=(2×2, 2×2)
    %5 = add(%2, %4) : f64(4, 4) chunks=(2×2, 2×2)
    %6 = scalar(0.5) : f64()
    %7 = mul(%5, %6) : f64(4, 4) chunks=(2×2, 2×2)
    after: (8 → 5 nodes, 2 kernels)
    %0 = fused(kernel=6b9e3ad6) : f64(4, 4) chunks=(2×2, 4)
    %1 = rechunk(%0) : f64(4, 4) chunks=(2×2, 2×2)
    %2 = transpose(%0; axes=[1, 0]) : f64(4, 4) chunks=(4, 2×2)
    %3 = rechunk(%2) : f64(4, 4) chunks=(2×2, 2×2)
    %4 = fused(%1, %3; kernel=052dc20c) : f64(4, 4) chunks=(2×2, 2×2)
    %0 grid=(2×2, 4): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[4, 4] start=[0, 0] step=[1, 1] axes=[0, 1]
      %1 = sin %0
      return %1
    }
    %4 grid=(2×2, 2×2): kernel(ndim=2; in0: f64 axes=[0, 1], in1: f64 axes=[0, 1]) {
      %0 = load in0
      %1 = load in1
      %2 = add %0, %1
      %3 = const 0.5: f64
      %4 = mul %2, %3
      return %4
    }
    ");
}

#[test]
fn where_and_astype_chains_fuse() {
    let i = astype(
        &build::arange(Scalar::I64(0), Scalar::I64(12), Scalar::I64(1), DType::I64, &Chunks::from([4])).unwrap(),
        DType::I32,
    );
    let f = build::full(Scalar::F32(0.5), &[12], &Chunks::from([4])).unwrap();
    let cond = binary(BinaryOp::Gt, &i, &build::scalar(Scalar::I64(3)));
    let w = build::where_(&cond, &mul(&i, &f), &scalar(-1.0)).unwrap();
    assert_fused!([astype(&w, DType::I64)], @"
    before:
    %0 = arange(start=0, step=1) : i64(12,) chunks=(4×3,)
    %1 = astype(%0; i32) : i32(12,) chunks=(4×3,)
    %2 = scalar(3) : i32()
    %3 = gt(%1, %2) : bool(12,) chunks=(4×3,)
    %4 = astype(%1; f64) : f64(12,) chunks=(4×3,)
    %5 = full(0.5) : f32(12,) chunks=(4×3,)
    %6 = astype(%5; f64) : f64(12,) chunks=(4×3,)
    %7 = mul(%4, %6) : f64(12,) chunks=(4×3,)
    %8 = scalar(-1.0) : f64()
    %9 = where(%3, %7, %8) : f64(12,) chunks=(4×3,)
    %10 = astype(%9; i64) : i64(12,) chunks=(4×3,)
    after: (11 → 1 nodes, 1 kernel)
    %0 = fused(kernel=01877298) : i64(12,) chunks=(4×3,)
    %0 grid=(4×3,): kernel(ndim=1) {
      %0 = arange start=0 step=1 axis=0
      %1 = cast %0 to i32
      %2 = const 3: i32
      %3 = gt %1, %2
      %4 = cast %1 to f64
      %5 = const 0.5: f32
      %6 = cast %5 to f64
      %7 = mul %4, %6
      %8 = const -1.0: f64
      %9 = where %3, %7, %8
      %10 = cast %9 to i64
      return %10
    }
    ");
}

#[test]
fn a_slice_is_a_boundary() {
    let x = exp(&uniform(&[8, 8], &[4, 4], 1));
    assert_fused!([add(&slice(&x, ndarray::s![..4, 1..].as_ref()), &scalar(1.0))], @"
    before:
    %0 = random.uniform(seed=1) : f64(8, 8) chunks=(4×2, 4×2)
    %1 = exp(%0) : f64(8, 8) chunks=(4×2, 4×2)
    %2 = slice(%1; [0..4, 1..8]) : f64(4, 7) chunks=(4, 3+4)
    %3 = scalar(1.0) : f64()
    %4 = add(%2, %3) : f64(4, 7) chunks=(4, 3+4)
    after: (5 → 3 nodes, 2 kernels)
    %0 = fused(kernel=8c5be384) : f64(8, 8) chunks=(4×2, 4×2)
    %1 = slice(%0; [0..4, 1..8]) : f64(4, 7) chunks=(4, 3+4)
    %2 = fused(%1; kernel=1267fe2c) : f64(4, 7) chunks=(4, 3+4)
    %0 grid=(4×2, 4×2): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[8, 8] start=[0, 0] step=[1, 1] axes=[0, 1]
      %1 = exp %0
      return %1
    }
    %2 grid=(4, 3+4): kernel(ndim=2; in0: f64 axes=[0, 1]) {
      %0 = load in0
      %1 = const 1.0: f64
      %2 = add %0, %1
      return %2
    }
    ");
}

#[test]
fn lone_ops_and_layout_are_left_alone_but_reductions_of_sources_fuse() {
    let d = data(&[4, 4], &[2, 2]);
    let x = uniform(&[4, 4], &[2, 2], 1);
    assert_fused!([exp(&d), transpose(&d, &[1, 0]), reduce(ReduceOp::Sum, &x, None), reduce(ReduceOp::Max, &transpose(&x, &[1, 0]), None)], @"
    before:
    %0 = from_array() : f64(4, 4) chunks=(2×2, 2×2)
    %1 = exp(%0) : f64(4, 4) chunks=(2×2, 2×2)  → out0
    %2 = transpose(%0; axes=[1, 0]) : f64(4, 4) chunks=(2×2, 2×2)  → out1
    %3 = random.uniform(seed=1) : f64(4, 4) chunks=(2×2, 2×2)
    %4 = sum(%3) : f64()  → out2
    %5 = transpose(%3; axes=[1, 0]) : f64(4, 4) chunks=(2×2, 2×2)
    %6 = max(%5) : f64()  → out3
    after: (7 → 5 nodes, 2 kernels)
    %0 = from_array() : f64(4, 4) chunks=(2×2, 2×2)
    %1 = exp(%0) : f64(4, 4) chunks=(2×2, 2×2)  → out0
    %2 = transpose(%0; axes=[1, 0]) : f64(4, 4) chunks=(2×2, 2×2)  → out1
    %3 = fused(kernel=906328cd) : f64()  → out2
    %4 = fused(kernel=5e432b6f) : f64()  → out3
    %3 grid=(2×2, 2×2): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[4, 4] start=[0, 0] step=[1, 1] axes=[0, 1]
      reduce sum %0 axes=[0, 1]
    }
    %4 grid=(2×2, 2×2): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[4, 4] start=[0, 0] step=[1, 1] axes=[1, 0]
      reduce max %0 axes=[0, 1]
    }
    ");
}

#[test]
fn a_lone_op_reading_a_transposed_input_fuses() {
    // `x + x.t()` over data: one op, but the kernel stages the transposed blocks, where the
    // op on a transposed view would step across cache lines. A lone op on data read in its
    // own layout (`x + y`) stays as it is.
    let (x, y) = (data(&[4, 4], &[2, 2]), data(&[4, 4], &[2, 2]));
    assert_fused!([add(&x, &transpose(&x, &[1, 0])), add(&x, &y)], @"
    before:
    %0 = from_array() : f64(4, 4) chunks=(2×2, 2×2)
    %1 = transpose(%0; axes=[1, 0]) : f64(4, 4) chunks=(2×2, 2×2)
    %2 = add(%0, %1) : f64(4, 4) chunks=(2×2, 2×2)  → out0
    %3 = from_array() : f64(4, 4) chunks=(2×2, 2×2)
    %4 = add(%0, %3) : f64(4, 4) chunks=(2×2, 2×2)  → out1
    after: (5 → 4 nodes, 1 kernel)
    %0 = from_array() : f64(4, 4) chunks=(2×2, 2×2)
    %1 = fused(%0, %0; kernel=0e839436) : f64(4, 4) chunks=(2×2, 2×2)  → out0
    %2 = from_array() : f64(4, 4) chunks=(2×2, 2×2)
    %3 = add(%0, %2) : f64(4, 4) chunks=(2×2, 2×2)  → out1
    %1 grid=(2×2, 2×2): kernel(ndim=2; in0: f64 axes=[0, 1], in1: f64 axes=[1, 0]) {
      %0 = load in0
      %1 = load in1
      %2 = add %0, %1
      return %2
    }
    ");
}

#[test]
fn a_lone_op_feeding_a_reduction_fuses_with_it() {
    let (a, b) = (data(&[4, 4], &[2, 2]), data(&[4, 4], &[2, 2]));
    assert_fused!([build::reduce(ReduceOp::Mean, &mul(&a, &b), Some(&[0]), true).unwrap()], @"
    before:
    %0 = from_array() : f64(4, 4) chunks=(2×2, 2×2)
    %1 = from_array() : f64(4, 4) chunks=(2×2, 2×2)
    %2 = mul(%0, %1) : f64(4, 4) chunks=(2×2, 2×2)
    %3 = mean(%2; axes=[0], keepdims) : f64(1, 4) chunks=(1, 2×2)
    after: (4 → 3 nodes, 1 kernel)
    %0 = from_array() : f64(4, 4) chunks=(2×2, 2×2)
    %1 = from_array() : f64(4, 4) chunks=(2×2, 2×2)
    %2 = fused(%0, %1; kernel=a392ca5e) : f64(1, 4) chunks=(1, 2×2)
    %2 grid=(2×2, 2×2): kernel(ndim=2; in0: f64 axes=[0, 1], in1: f64 axes=[0, 1]) {
      %0 = load in0
      %1 = load in1
      %2 = mul %0, %1
      reduce mean %2 axes=[0] keepdims
    }
    ");
}

#[test]
fn a_broadcast_elementwise_operand_gets_its_own_kernel() {
    let x = uniform(&[4, 6], &[2, 3], 1);
    let row = unary(UnaryOp::Sin, &uniform(&[6], &[3], 2));
    assert_fused!([add(&x, &row)], @"
    before:
    %0 = random.uniform(seed=1) : f64(4, 6) chunks=(2×2, 3×2)
    %1 = random.uniform(seed=2) : f64(6,) chunks=(3×2,)
    %2 = sin(%1) : f64(6,) chunks=(3×2,)
    %3 = add(%0, %2) : f64(4, 6) chunks=(2×2, 3×2)
    after: (4 → 2 nodes, 2 kernels)
    %0 = fused(kernel=169be1f5) : f64(6,) chunks=(3×2,)
    %1 = fused(%0; kernel=ec74f168) : f64(4, 6) chunks=(2×2, 3×2)
    %0 grid=(3×2,): kernel(ndim=1) {
      %0 = random.uniform low=0.0 high=1.0 seed=2 base=[6] start=[0] step=[1] axes=[0]
      %1 = sin %0
      return %1
    }
    %1 grid=(2×2, 3×2): kernel(ndim=2; in0: f64 axes=[1]) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[4, 6] start=[0, 0] step=[1, 1] axes=[0, 1]
      %1 = load in0
      %2 = add %0, %1
      return %2
    }
    ");
}

#[test]
fn broadcast_sources_stand_still_or_are_read() {
    let x = uniform(&[4, 6], &[2, 3], 1);
    let col = uniform(&[4, 1], &[2, 1], 2);
    let one =
        build::arange(Scalar::F64(5.0), Scalar::F64(6.0), Scalar::F64(1.0), DType::F64, &Chunks::from([1])).unwrap();
    let row = build::linspace(0.0, 1.0, 6, true, &Chunks::from([3])).unwrap();
    assert_fused!([add(&mul(&x, &col), &add(&one, &row))], @"
    before:
    %0 = random.uniform(seed=1) : f64(4, 6) chunks=(2×2, 3×2)
    %1 = random.uniform(seed=2) : f64(4, 1) chunks=(2×2, 1)
    %2 = mul(%0, %1) : f64(4, 6) chunks=(2×2, 3×2)
    %3 = arange(start=5.0, step=1.0) : f64(1,) chunks=(1,)
    %4 = linspace(start=0.0, stop=1.0) : f64(6,) chunks=(3×2,)
    %5 = add(%3, %4) : f64(6,) chunks=(3×2,)
    %6 = add(%2, %5) : f64(4, 6) chunks=(2×2, 3×2)
    after: (7 → 3 nodes, 2 kernels)
    %0 = arange(start=5.0, step=1.0) : f64(1,) chunks=(1,)
    %1 = fused(%0; kernel=a537ef83) : f64(6,) chunks=(3×2,)
    %2 = fused(%1; kernel=88426ea3) : f64(4, 6) chunks=(2×2, 3×2)
    %1 grid=(3×2,): kernel(ndim=1; in0: f64 axes=[0]) {
      %0 = load in0
      %1 = linspace start=0.0 stop=1.0 num=6 endpoint=true axis=0
      %2 = add %0, %1
      return %2
    }
    %2 grid=(2×2, 3×2): kernel(ndim=2; in0: f64 axes=[1]) {
      %0 = random.uniform low=0.0 high=1.0 seed=1 base=[4, 6] start=[0, 0] step=[1, 1] axes=[0, 1]
      %1 = random.uniform low=0.0 high=1.0 seed=2 base=[4, 1] start=[0, 0] step=[1, 1] axes=[0, -]
      %2 = mul %0, %1
      %3 = load in0
      %4 = add %2, %3
      return %4
    }
    ");
}

#[test]
fn random_views_keep_their_start_and_step() {
    let dist = Distribution::Uniform { low: F64Bits(0.0), high: F64Bits(1.0) };
    let view = SourceView { base: vec![10, 10], start: vec![2, 9], step: vec![1, -2] };
    let op = Op::Random { dist, seed: 3, view: Some(std::sync::Arc::new(view)) };
    let r = Expr::new(op, vec![], Meta::new(DType::F64, ChunkGrid::uniform(&[4, 5], &[2, 5])));
    assert_fused!([exp(&r)], @"
    before:
    %0 = random.uniform(seed=3, view=[2..;1, 9..;-2] of (10, 10)) : f64(4, 5) chunks=(2×2, 5)
    %1 = exp(%0) : f64(4, 5) chunks=(2×2, 5)
    after: (2 → 1 nodes, 1 kernel)
    %0 = fused(kernel=1095ccd7) : f64(4, 5) chunks=(2×2, 5)
    %0 grid=(2×2, 5): kernel(ndim=2) {
      %0 = random.uniform low=0.0 high=1.0 seed=3 base=[10, 10] start=[2, 9] step=[1, -2] axes=[0, 1]
      %1 = exp %0
      return %1
    }
    ");
}

#[test]
fn broadcast_to_and_insert_axis_are_axis_maps() {
    let x = uniform(&[6], &[3], 1);
    let y = exp(&uniform(&[4, 6], &[4, 3], 2));
    let b = broadcast_to(&x, &[4, 6]);
    assert_fused!([reduce(ReduceOp::Sum, &add(&insert_axis(&y, 0), &insert_axis(&b, 0)), Some(&[2]))], @"
    before:
    %0 = random.uniform(seed=2) : f64(4, 6) chunks=(4, 3×2)
    %1 = exp(%0) : f64(4, 6) chunks=(4, 3×2)
    %2 = insert_axis(%1; axis=0) : f64(1, 4, 6) chunks=(1, 4, 3×2)
    %3 = random.uniform(seed=1) : f64(6,) chunks=(3×2,)
    %4 = broadcast_to(%3) : f64(4, 6) chunks=(4, 3×2)
    %5 = insert_axis(%4; axis=0) : f64(1, 4, 6) chunks=(1, 4, 3×2)
    %6 = add(%2, %5) : f64(1, 4, 6) chunks=(1, 4, 3×2)
    %7 = sum(%6; axes=[2]) : f64(1, 4) chunks=(1, 4)
    after: (8 → 1 nodes, 1 kernel)
    %0 = fused(kernel=f20636f3) : f64(1, 4) chunks=(1, 4)
    %0 grid=(1, 4, 3×2): kernel(ndim=3) {
      %0 = random.uniform low=0.0 high=1.0 seed=2 base=[4, 6] start=[0, 0] step=[1, 1] axes=[1, 2]
      %1 = exp %0
      %2 = random.uniform low=0.0 high=1.0 seed=1 base=[6] start=[0] step=[1] axes=[2]
      %3 = add %1, %2
      reduce sum %3 axes=[2]
    }
    ");
}

#[test]
fn the_pass_is_idempotent_and_deterministic() {
    let x = uniform(&[8, 6], &[4, 3], 1);
    let s = exp(&x);
    let roots = vec![
        reduce(ReduceOp::Sum, &sub(&s, &insert_axis(&reduce(ReduceOp::Mean, &s, Some(&[1])), 1)), None),
        add(&s, &scalar(1.0)),
    ];
    let once = FuseBlockwise.run(roots.clone(), &opts(&[])).unwrap();
    let again = FuseBlockwise.run(roots, &opts(&[])).unwrap();
    assert_eq!(once.result, again.result);
    let twice = FuseBlockwise.run(once.result.clone(), &opts(&[])).unwrap();
    assert!(!twice.changed, "{}", twice.summary);
    assert_eq!(twice.result, once.result);
}

#[test]
fn long_chains_do_not_recurse() {
    let mut e = uniform(&[4], &[2], 1);
    for _ in 0..20_000 {
        e = unary(UnaryOp::Neg, &e);
    }
    let out = FuseBlockwise.run(vec![e], &opts(&[])).unwrap();
    let Op::Fused { kernel, .. } = out.result[0].op() else { panic!("not fused: {}", out.summary) };
    assert_eq!(kernel.body.len(), 20_001);
}

#[test]
fn weak_scalar_expressions_are_left_alone() {
    let s = add(&scalar(1.0), &unary(UnaryOp::Sqrt, &scalar(2.0)));
    assert_fused!([s], @"
    before:
    %0 = scalar(1.0) : f64()
    %1 = scalar(2.0) : f64()
    %2 = sqrt(%1) : f64()
    %3 = add(%0, %2) : f64()
    after: (4 nodes, no kernels)
    %0 = scalar(1.0) : f64()
    %1 = scalar(2.0) : f64()
    %2 = sqrt(%1) : f64()
    %3 = add(%0, %2) : f64()
    ");
}
