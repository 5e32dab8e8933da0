//! A 1,000,000-chunk array end to end: `((x + 1) * 2).sum()` over `ones([1_000_000, 10])` in
//! `[1, 10]` chunks (and `--rows`/`--cols` to change it). Prints the time to build, optimize
//! and lower the plan, the task graph's and the run's bookkeeping bytes per task, and the compute time on `Sync` and
//! `Threads(2)` (best of `--repeats`).
//!
//! `cargo run --release --example million_chunks -- [--rows 1000000] [--cols 10] [--repeats 3]`

use std::time::Instant;

use kiln::array as ka;
use kiln::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut rows, mut cols, mut repeats) = (1_000_000usize, 10usize, 3usize);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--rows" => rows = value()?.parse()?,
            "--cols" => cols = value()?.parse()?,
            "--repeats" => repeats = value()?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let started = Instant::now();
    let x = ka::ones([rows, cols], [1, cols]);
    let y = ((&x + 1.0) * 2.0).sum();
    let built = started.elapsed();
    let cfg = Config::default().with_progress(false);
    let started = Instant::now();
    let graph = y.task_graph(&cfg)?;
    let planned = started.elapsed();
    println!(
        "{} blocks: build {:.1} ms, optimize + lower {:.1} ms; {} tasks, per task {:.1} bytes in the graph and {:.1} bytes of run bookkeeping",
        x.n_blocks(),
        built.as_secs_f64() * 1e3,
        planned.as_secs_f64() * 1e3,
        graph.len(),
        graph.task_bytes() as f64 / graph.len() as f64,
        kiln::runtime::run_bookkeeping_bytes(&graph) as f64 / graph.len() as f64
    );
    drop(graph);
    let expected = 2.0 * 2.0 * (rows * cols) as f64;
    for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
        let cfg = cfg.clone().with_scheduler(scheduler);
        let mut best = f64::INFINITY;
        for _ in 0..repeats {
            let started = Instant::now();
            let (v, stats) = y.compute_with_stats(&cfg)?;
            best = best.min(started.elapsed().as_secs_f64());
            assert_eq!(v.into_scalar::<f64>()?, expected);
            assert_eq!(stats.tasks_run as u64, y.task_graph(&cfg)?.len() as u64);
        }
        println!("{scheduler:?}: compute {:.3} s end to end (best of {repeats})", best);
    }
    Ok(())
}
