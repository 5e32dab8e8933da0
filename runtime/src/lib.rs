//! kiln's runtime: runs a task graph on one thread (`Scheduler::Sync`) or a pool of threads
//! (`Scheduler::Threads`), holding each task's value until its last consumer is done.
//!
//! Task ids are priorities (the ordering pass numbers tasks depth first): among ready tasks
//! the smallest id runs first, which finishes what was started and keeps memory low. The
//! threaded scheduler's protocol is written down in `src/pool/README.md`.
//!
//! ```
//! use std::sync::Arc;
//! use kiln_runtime::{RunOptions, Scheduler, execute_with, synthetic};
//!
//! let graph = Arc::new(synthetic::wide(1000, 10));
//! let out = execute_with(graph, &RunOptions::new(Scheduler::Threads(2)), synthetic::count_runner()).unwrap();
//! assert_eq!(synthetic::output_u64(&out), vec![vec![1 + 100 + 1000]]);
//! assert_eq!(out.stats.tasks_run, 1101);
//! ```

mod callback;
mod cancel;
pub mod client;
mod error;
mod job;
mod loom;
mod memory;
mod options;
mod plan;
mod pool;
mod ready;
mod runner;
mod stats;
mod store;
mod sync;
pub mod synthetic;

use std::sync::Arc;
use std::time::Instant;

use kiln_ir::{TaskGraph, TaskId, Value};

pub use callback::{Callbacks, RunEvent, TaskCallback, TaskEvent};
pub use cancel::CancelToken;
pub use error::{Error, Result};
pub use memory::{MemoryBudget, parse_limit};
pub use options::{RunOptions, Scheduler};
pub use pool::MAX_POOL_THREADS;
pub use runner::{BoxError, OwningTaskRunner, TaskRunner};
pub use stats::RunStats;

use runner::Runner;

/// What a run returns.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// For each of the graph's outputs, the values of its tasks, in order.
    pub outputs: Vec<Vec<Value>>,
    /// Figures of the run.
    pub stats: RunStats,
}

/// The bytes a run of `graph` allocates for its bookkeeping (per-task slots, dependents,
/// dependency counters), besides the graph and the values themselves.
pub fn run_bookkeeping_bytes(graph: &TaskGraph) -> usize {
    store::Store::bytes_per_run(graph)
}

/// Runs `graph` with kiln's kernels.
pub fn execute(graph: Arc<TaskGraph>, opts: &RunOptions) -> Result<RunOutput> {
    execute_owning(
        graph,
        opts,
        Arc::new(|g: &TaskGraph, id: TaskId, inputs: &mut Vec<Value>| {
            kiln_codegen::run_task_owned(g, id, inputs).map_err(|e| Box::new(e) as BoxError)
        }),
    )
}

/// Runs `graph`, computing each task with `runner`.
pub fn execute_with(graph: Arc<TaskGraph>, opts: &RunOptions, runner: Arc<TaskRunner>) -> Result<RunOutput> {
    run(graph, opts, Runner::Borrowing(runner))
}

/// Runs `graph`, computing each task with `runner`, which may take its inputs out of the
/// vector it is given (the only reference, where the task is a value's last consumer).
pub fn execute_owning(graph: Arc<TaskGraph>, opts: &RunOptions, runner: Arc<OwningTaskRunner>) -> Result<RunOutput> {
    run(graph, opts, Runner::Owning(runner))
}

fn run(graph: Arc<TaskGraph>, opts: &RunOptions, runner: Runner) -> Result<RunOutput> {
    let started = Instant::now();
    plan::check_graph(&graph)?;
    if opts.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
        return Err(Error::Cancelled);
    }
    let threads = opts.scheduler.threads().min(MAX_POOL_THREADS + 1);
    let event = RunEvent { graph: &graph, threads, started };
    opts.callbacks.run_start(&event)?;
    let store = store::Store::new(&graph, opts.memory.as_ref())?;
    let res = match threads {
        1 => sync::run(&graph, &runner, opts, store, started),
        n => {
            let job = job::Job::new(graph.clone(), runner, n, started, opts.callbacks.clone(), store);
            pool::run(job, opts.cancel.as_ref())
        }
    };
    let ended = opts.callbacks.run_end(&event, res.as_ref().map(|out| &out.stats));
    let out = res?;
    ended.map(|()| out)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hooks;
#[cfg(test)]
mod tests_memory;
