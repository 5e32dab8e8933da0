//! kiln's runtime: runs a task graph on one thread (`Scheduler::Sync`) or a pool of threads
//! (`Scheduler::Threads`), holding each task's value until its last consumer is done.

use std::sync::Arc;
use std::time::Duration;

use kiln_ir::{TaskGraph, TaskId, Value};

/// A task's own failure, as its runner reports it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Computes one task from its dependencies' values.
pub type TaskRunner = dyn Fn(&TaskGraph, TaskId, &[Value]) -> Result<Value, BoxError> + Send + Sync;

/// Errors of a run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A task returned an error.
    #[error("task {key} ({op}) failed: {message}")]
    TaskFailed {
        /// The task's key.
        key: String,
        /// The op it runs.
        op: String,
        /// The error.
        message: String,
    },
    /// A task panicked.
    #[error("task {key} ({op}) panicked: {message}")]
    TaskPanicked {
        /// The task's key.
        key: String,
        /// The op it runs.
        op: String,
        /// The panic message.
        message: String,
    },
}

/// The result type of runs.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where tasks run.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Scheduler {
    /// On the calling thread, in priority order: deterministic, for debugging.
    Sync,
    /// On this many threads (the calling thread included).
    Threads(usize),
}

/// Options of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOptions {
    /// Where tasks run.
    pub scheduler: Scheduler,
}

/// Figures of one run.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Tasks computed.
    pub tasks_run: usize,
    /// Most task values held at once.
    pub peak_values: usize,
    /// Most bytes of task values held at once.
    pub peak_bytes: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Threads that ran tasks.
    pub threads: usize,
}

/// What a run returns.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// For each of the graph's outputs, the values of its tasks, in order.
    pub outputs: Vec<Vec<Value>>,
    /// Figures of the run.
    pub stats: RunStats,
}

/// Runs `graph` with kiln's kernels.
pub fn execute(graph: Arc<TaskGraph>, opts: &RunOptions) -> Result<RunOutput> {
    execute_with(graph, opts, Arc::new(|g: &TaskGraph, id: TaskId, inputs: &[Value]| {
        kiln_codegen::run_task(g, id, inputs).map_err(|e| Box::new(e) as BoxError)
    }))
}

/// Runs `graph`, computing each task with `runner`.
pub fn execute_with(graph: Arc<TaskGraph>, opts: &RunOptions, runner: Arc<TaskRunner>) -> Result<RunOutput> {
    let _ = (graph, opts, runner);
    Err(Error::TaskFailed { key: String::new(), op: String::new(), message: "not yet written".into() })
}
