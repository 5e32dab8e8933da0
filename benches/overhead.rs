//! Criterion bench of the runtime's per-task scheduling overhead: 100,000 trivial tasks
//! (each computes 1 + the sum of its inputs) in three shapes — wide (sources summed in
//! groups of 100, then one sink), a chain, and a random DAG (up to 3 inputs among the 1,000
//! tasks before) — on `Threads(2)` and `Sync`. Goal: at most 2 µs per task.
//! `benches/compare_overhead.py` runs the same shapes in Dask's threaded scheduler; it calls
//! this binary with `--report`, which prints one timed figure per shape instead.
//! Set `KILN_BENCH_TASKS` to run fewer tasks.

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use kiln::ir::TaskGraph;
use kiln::runtime::{RunOptions, Scheduler, execute_with, synthetic};

fn n_tasks() -> usize {
    std::env::var("KILN_BENCH_TASKS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

/// The shapes, by name, as `benches/compare_overhead.py` names them.
fn shapes(n: usize) -> Vec<(&'static str, Arc<TaskGraph>)> {
    vec![
        ("wide", Arc::new(synthetic::wide(n, 100))),
        ("chain", Arc::new(synthetic::chain(n))),
        ("random_dag", Arc::new(synthetic::random_dag(n, 3, 42))),
    ]
}

fn run(graph: &Arc<TaskGraph>, scheduler: Scheduler) {
    let out = execute_with(graph.clone(), &RunOptions::new(scheduler), synthetic::count_runner()).expect("run");
    assert_eq!(out.stats.tasks_run, graph.len());
}

fn overhead(c: &mut Criterion) {
    let n = n_tasks();
    let mut group = c.benchmark_group(format!("task_overhead_{n}"));
    group.sample_size(10);
    for (name, graph) in shapes(n) {
        for scheduler in [Scheduler::Threads(2), Scheduler::Sync] {
            group.bench_function(format!("{name}/{scheduler:?}"), |b| b.iter(|| run(&graph, scheduler)));
        }
    }
    group.finish();
}

/// `--report`: one line per shape, `<shape> <seconds> s <µs per task> us/task`, the best of
/// 5 runs on `Threads(2)`.
fn report() {
    for (name, graph) in shapes(n_tasks()) {
        run(&graph, Scheduler::Threads(2));
        let best = (0..5)
            .map(|_| {
                let t = Instant::now();
                run(&graph, Scheduler::Threads(2));
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        println!("{name} {best:.4} s {:.3} us/task", best * 1e6 / graph.len() as f64);
    }
}

criterion_group!(benches, overhead);

fn main() {
    if std::env::args().any(|a| a == "--report") {
        report();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
