//! Measures the runtime's overhead per task: 100,000 trivial tasks in several shapes (wide,
//! a chain, a random DAG, block sums; chains also with linear hand-offs) on `Sync` and `Threads(n)`. Run in release:
//! `cargo run -p kiln-runtime --release --example overhead [threads...] [--callback]`;
//! `--callback` registers a task callback that does nothing, to measure what calling one
//! costs (without it no callback is registered).

use std::sync::Arc;
use std::time::Duration;

use kiln_ir::{TaskGraph, TaskId, Value};
use kiln_runtime::{RunOptions, Scheduler, TaskCallback, TaskEvent, TaskRunner, execute_with, synthetic};

const N: usize = 100_000;
const REPEATS: usize = 7;

/// A callback that does nothing but be called.
struct NoOp;

impl TaskCallback for NoOp {
    fn task_start(&self, task: &TaskEvent<'_>) {
        std::hint::black_box(task.id);
    }

    fn task_finish(&self, task: &TaskEvent<'_>) {
        std::hint::black_box(task.bytes);
    }
}

fn main() {
    let with_callback = std::env::args().any(|a| a == "--callback");
    let threads: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let threads = if threads.is_empty() { vec![2] } else { threads };
    let mut schedulers = vec![Scheduler::Sync];
    schedulers.extend(threads.iter().map(|&n| Scheduler::Threads(n)));

    // 100,000 sources summed in groups of 100, then one sink: 101,001 tasks.
    // "linked": with the hand-offs of linear chains that the `fuse_linear` pass marks.
    let shapes = [
        ("wide", synthetic::wide(N, 100)),
        ("chain", synthetic::chain(N)),
        ("chain, linked", synthetic::chain(N).with_linear_hand_offs()),
        ("random DAG", synthetic::random_dag(N, 3, 42)),
        ("block sums", synthetic::block_sums(N / 3, 8)),
        ("block sums, linked", synthetic::block_sums(N / 3, 8).with_linear_hand_offs()),
    ];
    // A runner that does nothing (hands back one shared value) and one that reads its inputs
    // and allocates its result.
    let shared = Value::new(0u64, 8);
    let noop: Arc<TaskRunner> = Arc::new(move |_: &TaskGraph, _: TaskId, _: &[Value]| Ok(shared.clone()));
    let runners = [("no-op", noop), ("count", synthetic::count_runner())];

    println!("{:<18} {:<6} {:<12} {:>9} {:>9} {:>6}", "shape", "runner", "scheduler", "µs/task", "best", "peak");
    for (shape, graph) in shapes {
        let graph = Arc::new(graph);
        for (runner_name, runner) in &runners {
            for &scheduler in &schedulers {
                let mut times: Vec<Duration> = Vec::new();
                let mut peak = 0;
                for _ in 0..REPEATS {
                    let mut opts = RunOptions::new(scheduler);
                    if with_callback {
                        opts = opts.with_callback(NoOp);
                    }
                    let out = execute_with(graph.clone(), &opts, runner.clone()).expect("synthetic graphs run");
                    times.push(out.stats.elapsed);
                    peak = out.stats.peak_values;
                }
                times.sort();
                let per_task = |d: Duration| d.as_secs_f64() * 1e6 / graph.len() as f64;
                println!(
                    "{:<18} {:<6} {:<12} {:>9.3} {:>9.3} {:>6}",
                    shape,
                    runner_name,
                    format!("{scheduler:?}"),
                    per_task(times[REPEATS / 2]),
                    per_task(times[0]),
                    peak
                );
            }
        }
    }
}
