//! Criterion benches of kiln's per-task overhead for futures and delayed calls: 100,000
//! `submit` + `gather` of a trivial function on a `Client`, and a 100,000-call delayed graph
//! (100,000 `inc` calls under a tree of sums). Goal: at most 5 µs per future.
//! `benches/compare_futures.py` runs the same in `dask.distributed` and `dask.delayed`; it
//! calls this binary with `--report`, which prints one timed figure per workload instead.
//! Set `KILN_BENCH_TASKS` to run fewer tasks.

use std::time::Instant;

use criterion::{Criterion, criterion_group};
use kiln::Client;
use kiln::delayed::Delayed;
use kiln::prelude::{Config, Scheduler};

fn n_tasks() -> usize {
    std::env::var("KILN_BENCH_TASKS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

fn inc(x: u64) -> u64 {
    x + 1
}

fn add_all(parts: Vec<u64>) -> u64 {
    parts.iter().sum()
}

/// `n` futures of `inc`, submitted then gathered.
fn submit_gather(client: &Client, n: usize) -> u64 {
    let futures: Vec<_> = (0..n as u64).map(|i| client.submit(inc, i)).collect();
    client.gather(futures).expect("gather").into_iter().sum()
}

/// `n` delayed `inc` calls summed in groups of 100, then summed: `n + n / 100 + 1` calls.
fn delayed_graph(n: usize) -> Delayed<u64> {
    let incs: Vec<Delayed<u64>> = (0..n as u64).map(|i| kiln::delayed!(inc(i))).collect();
    let sums: Vec<Delayed<u64>> = incs.chunks(100).map(|c| kiln::delayed!(add_all(c))).collect();
    kiln::delayed!(add_all(sums))
}

fn threads() -> Config {
    Config::default().with_scheduler(Scheduler::default())
}

fn futures(c: &mut Criterion) {
    let n = n_tasks();
    let client = Client::local().expect("client");
    let mut group = c.benchmark_group(format!("futures_{n}"));
    group.sample_size(10);
    group.bench_function("submit_gather", |b| b.iter(|| submit_gather(&client, n)));
    group.bench_function("delayed_build_and_compute", |b| {
        b.iter(|| delayed_graph(n).compute_with(&threads()).expect("compute"))
    });
    let graph = delayed_graph(n);
    group.bench_function("delayed_compute_only", |b| b.iter(|| graph.compute_with(&threads()).expect("compute")));
    group.finish();
}

/// The best of `repeats` timed runs of `f`, in seconds.
fn best_of(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..repeats)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// `--report`: one line per workload, `<name> <seconds> s <µs per task> us/task`.
fn report() {
    let n = n_tasks();
    let client = Client::local().expect("client");
    let expected: u64 = (1..=n as u64).sum();
    let t = best_of(3, || assert_eq!(submit_gather(&client, n), expected));
    println!("futures_submit_gather {t:.4} s {:.3} us/task", t * 1e6 / n as f64);
    let calls = n + n.div_ceil(100) + 1;
    let t = best_of(3, || assert_eq!(delayed_graph(n).compute_with(&threads()).unwrap(), expected));
    println!("delayed_build_and_compute {t:.4} s {:.3} us/task", t * 1e6 / calls as f64);
    let graph = delayed_graph(n);
    let t = best_of(3, || assert_eq!(graph.compute_with(&threads()).unwrap(), expected));
    println!("delayed_compute_only {t:.4} s {:.3} us/task", t * 1e6 / calls as f64);
}

criterion_group!(benches, futures);

fn main() {
    if std::env::args().any(|a| a == "--report") {
        report();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
