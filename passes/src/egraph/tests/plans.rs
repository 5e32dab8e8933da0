//! End-to-end plans with every rule: slices pushed into sources and through ops, removed
//! redundant work, the design example, and the sharing decisions of the extractor.

use kiln_ir::{Chunks, Expr, ReduceOp, UnaryOp, build};
use ndarray::s;

use super::plan;
use crate::testing::*;

#[test]
fn plans_push_slices_into_sources_and_through_ops() {
    let x = uniform(&[1000, 1000], &[100, 100], 1);
    let y = uniform(&[1000, 1000], &[100, 100], 2);
    insta::assert_snapshot!(plan(&[slice(&x, s![..10, ..].as_ref())]), @"
    2 → 1 nodes, 1 rule fired (saturated)
    %0 = random.uniform(seed=1, view=[0..;1, 0..;1] of (1000, 1000)) : f64(10, 1000) chunks=(10, 100×10)
    ");
    insta::assert_snapshot!(plan(&[slice(&add(&x, &y), s![..10, 5..].as_ref())]), @"
    4 → 3 nodes, 2 rules fired (saturated)
    %0 = random.uniform(seed=1, view=[0..;1, 5..;1] of (1000, 1000)) : f64(10, 995) chunks=(10, 95+100×9)
    %1 = random.uniform(seed=2, view=[0..;1, 5..;1] of (1000, 1000)) : f64(10, 995) chunks=(10, 95+100×9)
    %2 = add(%0, %1) : f64(10, 995) chunks=(10, 95+100×9)
    ");
    let row = uniform(&[1000], &[100], 3);
    insta::assert_snapshot!(plan(&[slice(&sub(&x, &row), s![..10, ..].as_ref())]), @"
    4 → 3 nodes, 2 rules fired (saturated)
    %0 = random.uniform(seed=1, view=[0..;1, 0..;1] of (1000, 1000)) : f64(10, 1000) chunks=(10, 100×10)
    %1 = random.uniform(seed=3) : f64(1000,) chunks=(100×10,)
    %2 = sub(%0, %1) : f64(10, 1000) chunks=(10, 100×10)
    ");
    let mean = build::reduce(ReduceOp::Mean, &x, Some(&[1]), false).unwrap();
    insta::assert_snapshot!(plan(&[slice(&mean, s![..10].as_ref())]), @"
    3 → 2 nodes, 2 rules fired (saturated)
    %0 = random.uniform(seed=1, view=[0..;1, 0..;1] of (1000, 1000)) : f64(10, 1000) chunks=(10, 100×10)
    %1 = mean(%0; axes=[1]) : f64(10,) chunks=(10,)
    ");
    let b = broadcast_to(&row, &[1000, 1000]);
    insta::assert_snapshot!(plan(&[slice(&b, s![..10, ..20].as_ref())]), @"
    3 → 2 nodes, 2 rules fired (saturated)
    %0 = random.uniform(seed=3, view=[0..;1] of (1000,)) : f64(20,) chunks=(20,)
    %1 = broadcast_to(%0) : f64(10, 20) chunks=(10, 20)
    ");
}

#[test]
fn plans_push_slices_through_rechunks_and_into_linspace() {
    let x = uniform(&[1000, 1000], &[100, 100], 1);
    // x.rechunk(..).slice(..) generates only the region, in the chunks the slice had.
    insta::assert_snapshot!(plan(&[exp(&slice(&rechunk(&x, &[250, 1000]), s![..10, 5..].as_ref()))]), @"
    4 → 2 nodes, 3 rules fired (saturated)
    %0 = random.uniform(seed=1, view=[0..;1, 5..;1] of (1000, 1000)) : f64(10, 995) chunks=(10, 995)
    %1 = exp(%0) : f64(10, 995) chunks=(10, 995)
    ");
    // Operands with other chunks: the aligning rechunks become sources in the common chunks.
    let y = uniform(&[1000, 1000], &[250, 250], 2);
    insta::assert_snapshot!(plan(&[add(&x, &y)]), @"
    5 → 3 nodes, 1 rule fired (saturated)
    %0 = random.uniform(seed=1) : f64(1000, 1000) chunks=([100, 100, 50, 50, 100, 100, …, 100] (12 blocks), [100, 100, 50, 50, 100, 100, …, 100] (12 blocks))
    %1 = random.uniform(seed=2) : f64(1000, 1000) chunks=([100, 100, 50, 50, 100, 100, …, 100] (12 blocks), [100, 100, 50, 50, 100, 100, …, 100] (12 blocks))
    %2 = add(%0, %1) : f64(1000, 1000) chunks=([100, 100, 50, 50, 100, 100, …, 100] (12 blocks), [100, 100, 50, 50, 100, 100, …, 100] (12 blocks))
    ");
    // Through a costly value: the slice moves below the rechunk and the sine.
    let sin = build::unary(UnaryOp::Sin, &rechunk(&x, &[500, 500])).unwrap();
    insta::assert_snapshot!(plan(&[slice(&sin, s![..10, ..10].as_ref())]), @"
    4 → 2 nodes, 4 rules fired (saturated)
    %0 = random.uniform(seed=1, view=[0..;1, 0..;1] of (1000, 1000)) : f64(10, 10) chunks=(10, 10)
    %1 = sin(%0) : f64(10, 10) chunks=(10, 10)
    ");
    let lin = build::linspace(0.0, 1.0, 1001, true, &Chunks::from([100])).unwrap();
    let roots = [mul(&slice(&lin, s![..500].as_ref()), &scalar(2.0)), slice(&lin, s![250].as_ref())];
    insta::assert_snapshot!(plan(&roots), @"
    5 → 4 nodes, 1 rule fired (saturated)
    %0 = linspace(start=0.0, stop=0.499) : f64(500,) chunks=(100×5,)
    %1 = scalar(2.0) : f64()
    %2 = mul(%0, %1) : f64(500,) chunks=(100×5,)  → out0
    %3 = full(0.25) : f64()  → out1
    ");
}

#[test]
fn plans_remove_redundant_work() {
    let x = uniform(&[1000, 1000], &[100, 100], 1);
    insta::assert_snapshot!(plan(&[transpose(&transpose(&x, &[1, 0]), &[1, 0])]), @"
    3 → 1 nodes, 1 rule fired (saturated)
    %0 = random.uniform(seed=1) : f64(1000, 1000) chunks=(100×10, 100×10)
    ");
    insta::assert_snapshot!(plan(&[mul(&x, &scalar(1.0))]), @"
    3 → 1 nodes, 1 rule fired (saturated)
    %0 = random.uniform(seed=1) : f64(1000, 1000) chunks=(100×10, 100×10)
    ");
    let neg = |e: &Expr| build::unary(UnaryOp::Neg, e).unwrap();
    insta::assert_snapshot!(plan(&[neg(&neg(&x))]), @"
    3 → 1 nodes, 1 rule fired (saturated)
    %0 = random.uniform(seed=1) : f64(1000, 1000) chunks=(100×10, 100×10)
    ");
    // No reassociation: (x * 2) * 3 stays as it is.
    insta::assert_snapshot!(plan(&[mul(&mul(&x, &scalar(2.0)), &scalar(3.0))]), @"
    5 → 5 nodes, 0 rules fired (saturated)
    %0 = random.uniform(seed=1) : f64(1000, 1000) chunks=(100×10, 100×10)
    %1 = scalar(2.0) : f64()
    %2 = mul(%0, %1) : f64(1000, 1000) chunks=(100×10, 100×10)
    %3 = scalar(3.0) : f64()
    %4 = mul(%2, %3) : f64(1000, 1000) chunks=(100×10, 100×10)
    ");
}

#[test]
fn plan_of_the_design_example() {
    // y = x - x.mean_axis(1).insert_axis(1); y.slice(s![..10, ..]).sum()
    let x = uniform(&[20_000, 20_000], &[2_000, 2_000], 42);
    let mean = build::reduce(ReduceOp::Mean, &x, Some(&[1]), false).unwrap();
    let y = sub(&x, &insert_axis(&mean, 1));
    let z = reduce(ReduceOp::Sum, &slice(&y, s![..10, ..].as_ref()), None);
    insta::assert_snapshot!(plan(&[z]), @"
    6 → 5 nodes, 4 rules fired (saturated)
    %0 = random.uniform(seed=42, view=[0..;1, 0..;1] of (20000, 20000)) : f64(10, 20000) chunks=(10, 2000×10)
    %1 = mean(%0; axes=[1]) : f64(10,) chunks=(10,)
    %2 = slice(%1; [0..10, NewAxis]) : f64(10, 1) chunks=(10, 1)
    %3 = sub(%0, %2) : f64(10, 20000) chunks=(10, 2000×10)
    %4 = sum(%3) : f64()
    ");
}

#[test]
fn sharing_keeps_costly_values_and_regenerates_cheap_sources() {
    // x = sin(random) is costly: x.slice(..).sum() + x.sum() slices the x it computes anyway.
    let r = uniform(&[1000, 1000], &[100, 100], 1);
    let x = build::unary(UnaryOp::Sin, &r).unwrap();
    let part = reduce(ReduceOp::Sum, &slice(&x, s![..10, ..].as_ref()), None);
    insta::assert_snapshot!(plan(&[add(&part, &reduce(ReduceOp::Sum, &x, None))]), @"
    6 → 6 nodes, 2 rules fired (saturated)
    %0 = random.uniform(seed=1) : f64(1000, 1000) chunks=(100×10, 100×10)
    %1 = sin(%0) : f64(1000, 1000) chunks=(100×10, 100×10)
    %2 = slice(%1; [0..10, 0..1000]) : f64(10, 1000) chunks=(10, 100×10)
    %3 = sum(%2) : f64()
    %4 = sum(%1) : f64()
    %5 = add(%3, %4) : f64()
    ");
    // Alone, the slice of x goes all the way into the source.
    insta::assert_snapshot!(plan(&[part]), @"
    4 → 3 nodes, 2 rules fired (saturated)
    %0 = random.uniform(seed=1, view=[0..;1, 0..;1] of (1000, 1000)) : f64(10, 1000) chunks=(10, 100×10)
    %1 = sin(%0) : f64(10, 1000) chunks=(10, 100×10)
    %2 = sum(%1) : f64()
    ");
    // A random source used elsewhere is still sliced at the source.
    let part = reduce(ReduceOp::Sum, &slice(&r, s![..10, ..].as_ref()), None);
    insta::assert_snapshot!(plan(&[add(&part, &reduce(ReduceOp::Sum, &r, None))]), @"
    5 → 5 nodes, 1 rule fired (saturated)
    %0 = random.uniform(seed=1, view=[0..;1, 0..;1] of (1000, 1000)) : f64(10, 1000) chunks=(10, 100×10)
    %1 = sum(%0) : f64()
    %2 = random.uniform(seed=1) : f64(1000, 1000) chunks=(100×10, 100×10)
    %3 = sum(%2) : f64()
    %4 = add(%1, %3) : f64()
    ");
}
