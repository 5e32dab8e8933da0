//! `kiln bench`: the benchmark workloads of `benches/arrays.rs`, the best of a few timed runs
//! each, for a quick look without criterion (and for `benches/compare.py`).

use std::time::Instant;

use kiln::array as ka;
use kiln::prelude::*;

use super::{CliResult, Options, parse_options};

/// Runs each workload `repeats` times after a warm-up and prints the best time.
pub fn run(args: &[String]) -> CliResult {
    let Options { size: n, chunk: c, repeats, only } =
        parse_options(args, Options { size: 8192, chunk: 1024, repeats: 3, only: None })?;
    let x = ka::random::uniform([n, n], [c, c], 42);
    let y = ka::random::uniform([n, n], [c, c], 7);
    // Materialize the inputs once so the workloads measure compute, not generation.
    let xv = ka::from_array(x.compute()?.into_f64()?, [c, c]);
    let yv = ka::from_array(y.compute()?.into_f64()?, [c, c]);
    let workloads: Vec<(&str, &str, Array)> = vec![
        (
            "A1",
            "((sin(x)^2 + cos(y)^2) * x - y/2).sum()",
            ((xv.sin().pow(2.0) + yv.cos().pow(2.0)) * &xv - &yv / 2.0).sum(),
        ),
        ("A2", "(x - x.mean_axis(1)).sum()", (&xv - &xv.mean_axis(Axis(1)).insert_axis(Axis(1))).sum()),
        ("A3 sum", "x.sum()", xv.sum()),
        ("A3 mean0", "x.mean_axis(0)", xv.mean_axis(Axis(0))),
        ("A3 std", "x.std()", xv.std(0.0)),
        ("A5", "(x + x.t()).sum()", (&xv + &xv.t()).sum()),
        ("A5 rows", "(x + x.t()).sum_axis(1)", (&xv + &xv.t()).sum_axis(Axis(1))),
        ("A6 pow", "(x ** y).sum()", xv.pow(&yv).sum()),
        ("M1 map", "x * 2 (the whole array)", &xv * 2.0),
        ("M2 transpose", "x + x.t() (the whole array)", &xv + &xv.t()),
    ];
    println!("{n} × {n} f64 in {c} × {c} chunks, {:?}", kiln::config::get()?.scheduler);
    for (key, what, a) in workloads {
        if only.as_deref().is_some_and(|o| !key.starts_with(o)) {
            continue;
        }
        a.compute()?;
        let mut best = f64::INFINITY;
        for _ in 0..repeats {
            let t = Instant::now();
            a.compute()?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{key:<12} {:>9.1} ms  {what}", best * 1e3);
    }
    Ok(())
}
