//! Criterion bench of planning cost: building, optimizing (simplify + fusion) and lowering
//! (lower + cull + order) a 20-op expression over 1,000,000 chunks. Planning must scale
//! with the expression until lowering, which is the only per-chunk step (goal: < 1 s).

use criterion::{Criterion, criterion_group, criterion_main};
use kiln::array as ka;
use kiln::prelude::*;

/// `((((x + 1) * 2 - 3) / 4) ...)` with 20 elementwise ops, then a sum, over (1e6, 1000)
/// f64 in (1, 1000) chunks: one million blocks.
fn expression() -> Array {
    let x = ka::random::uniform([1_000_000, 1000], [1, 1000], 42);
    let mut y = x.clone();
    for i in 0..5 {
        let c = i as f64 + 1.0;
        y = ((&y + c) * 2.0 - &x) / 4.0;
    }
    y.sum()
}

fn plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan_20_ops_1M_chunks");
    group.sample_size(10);
    group.bench_function("build", |b| b.iter(expression));
    let roots = [expression().expr().clone()];
    let opts = kiln::passes::PassOptions { verify: false, ..Default::default() };
    group.bench_function("optimize", |b| b.iter(|| kiln::passes::optimize_exprs(&roots, &opts).expect("optimize")));
    let optimized = kiln::passes::optimize_exprs(&roots, &opts).expect("optimize").0;
    group.bench_function("lower_cull_order", |b| {
        b.iter(|| kiln::passes::build_graph(&optimized, &opts).expect("lower"))
    });
    group.bench_function("optimize_and_lower", |b| {
        b.iter(|| {
            let (exprs, _) = kiln::passes::optimize_exprs(&roots, &opts).expect("optimize");
            kiln::passes::build_graph(&exprs, &opts).expect("lower")
        })
    });
    group.finish();
}

criterion_group!(benches, plan);
criterion_main!(benches);
