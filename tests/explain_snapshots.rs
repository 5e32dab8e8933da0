//! Snapshot tests of `explain()` for representative expressions: the expression listing,
//! what each pass did and the task-graph summary are pinned, so any change to them is
//! reviewed. (Sources are deterministic: random, constants and ranges.)

use kiln::array as ka;
use kiln::prelude::*;

fn x() -> Array {
    ka::random::uniform([8192, 8192], [1024, 1024], 42)
}

fn y() -> Array {
    ka::random::uniform([8192, 8192], [1024, 1024], 7)
}

#[test]
fn dask_front_page() {
    let x = ka::random::uniform([20_000, 20_000], [2_000, 2_000], 42);
    let y = &x - &x.mean_axis(Axis(1)).insert_axis(Axis(1));
    insta::assert_snapshot!("dask_front_page", y.explain());
}

#[test]
fn elementwise_then_sum() {
    let (x, y) = (x(), y());
    let a1 = ((x.sin().pow(2.0) + y.cos().pow(2.0)) * &x - &y / 2.0).sum();
    insta::assert_snapshot!("elementwise_then_sum", a1.explain());
}

#[test]
fn row_centred_sum() {
    let x = x();
    insta::assert_snapshot!("row_centred_sum", (&x - &x.mean_axis(Axis(1)).insert_axis(Axis(1))).sum().explain());
}

#[test]
fn mean_along_axis_0() {
    insta::assert_snapshot!("mean_along_axis_0", x().mean_axis(Axis(0)).explain());
}

#[test]
fn standard_deviation() {
    insta::assert_snapshot!("standard_deviation", x().std(1.0).explain());
}

#[test]
fn plus_transpose_sum() {
    let x = x();
    insta::assert_snapshot!("plus_transpose_sum", (&x + &x.t()).sum().explain());
}

#[test]
fn slice_is_culled() {
    let x = ka::random::uniform([1000, 1000], [10, 10], 7);
    insta::assert_snapshot!("slice_is_culled", x.slice(s![..10, ..]).sum().explain());
}

#[test]
fn misaligned_chunks_are_rechunked() {
    // exp() keeps the operand from being a source, which the optimizer would simply
    // generate in the aligned chunks (the rechunk-source rule).
    let a = ka::random::uniform([100, 60], [30, 60], 1).exp();
    let b = ka::arange(0.0, 60.0, 1.0, [25]);
    insta::assert_snapshot!("misaligned_chunks_are_rechunked", (&a * &b).explain());
}

#[test]
fn promotion_inserts_casts() {
    let i = ka::arange(0i64, 12, 1, [5]).astype(DType::I32);
    let f = ka::full([12], 0.5f32, [4]);
    let w = where_(&i.gt(3i64), &(&i * &f), -1.0);
    insta::assert_snapshot!("promotion_inserts_casts", w.explain());
}

#[test]
fn argmax_along_axis() {
    insta::assert_snapshot!(
        "argmax_along_axis",
        ka::random::normal([300, 200], [100, 50], 3).argmax_axis(Axis(1)).explain()
    );
}

#[test]
fn rechunk_and_negative_step_slice() {
    let x = ka::linspace(0.0, 1.0, 100, [30]);
    insta::assert_snapshot!("rechunk_and_negative_step_slice", x.rechunk([40]).slice(s![5..90;-3]).explain());
}

#[test]
fn broadcast_to_and_insert_axis() {
    let v = ka::arange(0i64, 6, 1, [4]);
    let m = v.insert_axis(Axis(0)).broadcast_to([5, 6]) + v.insert_axis(Axis(1)).slice(s![..5, ..]);
    insta::assert_snapshot!("broadcast_to_and_insert_axis", m.explain());
}

#[test]
fn scalar_expression() {
    let z = ka::full([], 3.0, Chunks::auto()).sqrt() * 2.0;
    insta::assert_snapshot!("scalar_expression", z.explain());
}

#[test]
fn shared_subexpressions_appear_once() {
    let x = ka::random::uniform([64, 64], [16, 16], 5);
    let s = x.sin();
    insta::assert_snapshot!("shared_subexpressions_appear_once", (&s * &s + &s).max().explain());
}

#[test]
fn invalid_expression() {
    let bad = ka::ones([3, 4], [2, 2]).sum_axis(Axis(5)) + 1.0;
    insta::assert_snapshot!("invalid_expression", bad.explain());
}

#[test]
fn verbose_explain_reports_the_jit() {
    let data = ndarray::Array2::from_shape_fn((64, 64), |(i, j)| (i * 64 + j) as f64).into_dyn();
    let x = ka::from_array(data, [32, 32]);
    let y = ((&x * 2.0 + 1.0) * &x).sum();
    let before = kiln::jit::stats();
    let total = y.compute().unwrap().into_scalar::<f64>().unwrap();
    let n = 4096.0f64;
    // sum of 2 i^2 + i over i < n
    assert_eq!(total, 2.0 * (n - 1.0) * n * (2.0 * n - 1.0) / 6.0 + (n - 1.0) * n / 2.0);
    let text = y.explain_verbose();
    let line = text.lines().find(|l| l.starts_with("jit: ")).expect("a jit line");
    if kiln::jit::enabled() {
        assert!(line.starts_with("jit: on; this process so far: "), "{line}");
        assert!(kiln::jit::stats().runs >= before.runs + 4, "each of the 4 blocks ran on the JIT");
    } else {
        assert!(line.starts_with("jit: off"), "{line}");
    }
    assert!(!y.explain().contains("jit:"), "the default text has no run-dependent figures");
}
