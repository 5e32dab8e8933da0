//! Criterion benches of kiln's array workloads on 8192 × 8192 `f64` in 1024 × 1024 chunks
//! (the A1, A2, A3 and A5, A6 `(x ** y).sum()`, and results returned whole: M1 `x * 2`,
//! M2 `x + x.t()`; `benches/compare.py` runs the same in NumPy and Dask),
//! and the fused ones again with the JIT off (`kiln::jit::set_enabled(false)`), side by
//! side. Set `KILN_BENCH_SIZE` (and `KILN_BENCH_CHUNK`) to run smaller.

use criterion::{Criterion, criterion_group, criterion_main};
use kiln::array as ka;
use kiln::prelude::*;

fn size(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn arrays(c: &mut Criterion) {
    let (n, ch) = (size("KILN_BENCH_SIZE", 8192), size("KILN_BENCH_CHUNK", 1024));
    // In-memory inputs, as the NumPy/Dask baselines use (`da.from_array(x, chunks=...)`).
    let materialize = |seed| {
        let a = ka::random::uniform([n, n], [ch, ch], seed).compute().expect("generate input");
        ka::from_array(a.into_f64().expect("f64"), [ch, ch])
    };
    let (x, y) = (materialize(42), materialize(7));
    let workloads: Vec<(&str, Array)> = vec![
        ("A1_sin2_cos2_sum", ((x.sin().pow(2.0) + y.cos().pow(2.0)) * &x - &y / 2.0).sum()),
        ("A2_row_centred_sum", (&x - &x.mean_axis(Axis(1)).insert_axis(Axis(1))).sum()),
        ("A3_sum", x.sum()),
        ("A3_mean_axis0", x.mean_axis(Axis(0))),
        ("A3_std", x.std(0.0)),
        ("A5_plus_transpose_sum", (&x + &x.t()).sum()),
        ("A5_plus_transpose_row_sums", (&x + &x.t()).sum_axis(Axis(1))),
        ("A6_pow_sum", x.pow(&y).sum()),
        ("M1_map_whole_array", &x * 2.0),
        ("M2_plus_transpose_whole_array", &x + &x.t()),
    ];
    let mut group = c.benchmark_group(format!("arrays_{n}x{n}_chunks_{ch}"));
    group.sample_size(10);
    for (name, a) in &workloads {
        group.bench_function(*name, |b| b.iter(|| a.compute().expect("compute")));
    }
    group.finish();
    // The fused kernels on the JIT and on the interpreter (the process-wide switch).
    let mut group = c.benchmark_group(format!("jit_vs_interpreter_{n}x{n}_chunks_{ch}"));
    group.sample_size(10);
    for (name, a) in &workloads[..2] {
        for jit in [true, false] {
            kiln::jit::set_enabled(jit);
            let engine = if jit { "jit" } else { "interpreter" };
            group.bench_function(format!("{name}/{engine}"), |b| b.iter(|| a.compute().expect("compute")));
        }
    }
    kiln::jit::set_enabled(true);
    group.finish();
}

criterion_group!(benches, arrays);
criterion_main!(benches);
