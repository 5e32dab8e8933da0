//! Task callbacks, like Dask's `Callback`: hooks called when a run starts and ends and before
//! and after each task, on the thread that runs the task. `Profile` and the progress bar in
//! the frontend are built on them; users plug in their own through `RunOptions::callbacks`.
//!
//! A run with no callback registered pays nothing for them: the schedulers check once per
//! task whether the list is empty and only then read the clock.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use kiln_ir::{TaskGraph, TaskId, Value};

use crate::error::{Error, Result};
use crate::loom::Arc;
use crate::runner::panic_message;
use crate::stats::RunStats;

/// Hooks called by the runtime around runs and tasks. Every method has an empty default, so
/// an implementation overrides only what it needs.
///
/// `task_start` and `task_finish` are called on the thread that runs the task, so they must
/// be cheap (a lock and a push, an atomic increment): they sit on the path of every task. A
/// panic in a hook fails the run with [`Error::CallbackPanicked`]. When a run fails or is
/// cancelled, tasks that were running on other threads finish in the background, and their
/// `task_finish` may come after `run_end`.
pub trait TaskCallback: Send + Sync {
    /// A run begins (before any task starts).
    fn run_start(&self, run: &RunEvent<'_>) {
        let _ = run;
    }

    /// Task `task.id` is about to run (`task.end` is `None`).
    fn task_start(&self, task: &TaskEvent<'_>) {
        let _ = task;
    }

    /// Task `task.id` has run (`task.end` is set; `task.bytes` is its result's size, 0 when
    /// it failed).
    fn task_finish(&self, task: &TaskEvent<'_>) {
        let _ = task;
    }

    /// A run has ended, with its figures or its error.
    fn run_end(&self, run: &RunEvent<'_>, outcome: std::result::Result<&RunStats, &Error>) {
        let _ = (run, outcome);
    }
}

impl<T: TaskCallback + ?Sized> TaskCallback for Arc<T> {
    fn run_start(&self, run: &RunEvent<'_>) {
        (**self).run_start(run)
    }

    fn task_start(&self, task: &TaskEvent<'_>) {
        (**self).task_start(task)
    }

    fn task_finish(&self, task: &TaskEvent<'_>) {
        (**self).task_finish(task)
    }

    fn run_end(&self, run: &RunEvent<'_>, outcome: std::result::Result<&RunStats, &Error>) {
        (**self).run_end(run, outcome)
    }
}

/// What a callback learns about a run.
#[derive(Copy, Clone, Debug)]
pub struct RunEvent<'a> {
    /// The graph being run.
    pub graph: &'a TaskGraph,
    /// The most threads the run may use (the calling thread included).
    pub threads: usize,
    /// When the run began.
    pub started: Instant,
}

/// What a callback learns about a task. The key is not computed unless asked for
/// ([`TaskEvent::key`] formats it from the graph).
#[derive(Copy, Clone, Debug)]
pub struct TaskEvent<'a> {
    /// The graph the task belongs to.
    pub graph: &'a TaskGraph,
    /// The task.
    pub id: TaskId,
    /// The thread running it: 0 is the thread that called `execute`, `k` ≥ 1 is pool worker
    /// `k - 1`.
    pub thread: usize,
    /// When the task started (before it read its inputs).
    pub start: Instant,
    /// When it finished; `None` in `task_start`.
    pub end: Option<Instant>,
    /// Bytes of the value it produced (0 in `task_start` and when it failed).
    pub bytes: usize,
    /// Whether it failed (only ever true in `task_finish`).
    pub failed: bool,
}

impl TaskEvent<'_> {
    /// The task's key, Dask style (`add-1a2b3c4d(0, 1)`); formatted on each call.
    pub fn key(&self) -> String {
        self.graph.key_string(self.id)
    }

    /// The name of the op the task runs (`add`, `sum`, `fused`, ...).
    pub fn op(&self) -> &'static str {
        self.graph.node_of(self.id).expr.op().name()
    }

    /// How long the task ran, once it has finished.
    pub fn duration(&self) -> Option<Duration> {
        self.end.map(|end| end.saturating_duration_since(self.start))
    }
}

/// The callbacks of a run, in the order they are called. Cloning shares them.
#[derive(Clone, Default)]
pub struct Callbacks(Vec<Arc<dyn TaskCallback>>);

impl Callbacks {
    /// No callbacks.
    pub fn new() -> Callbacks {
        Callbacks::default()
    }

    /// Adds `callback` after those already registered.
    pub fn push(&mut self, callback: Arc<dyn TaskCallback>) {
        self.0.push(callback);
    }

    /// Whether none is registered.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many are registered.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Calls every `run_start`; a panic becomes [`Error::CallbackPanicked`].
    pub(crate) fn run_start(&self, run: &RunEvent<'_>) -> Result<()> {
        self.each("run_start", |cb| cb.run_start(run))
    }

    /// Calls every `run_end`; a panic becomes [`Error::CallbackPanicked`].
    pub(crate) fn run_end(&self, run: &RunEvent<'_>, outcome: std::result::Result<&RunStats, &Error>) -> Result<()> {
        self.each("run_end", |cb| cb.run_end(run, outcome))
    }

    /// Runs task `id` through `compute`, calling `task_start` before and `task_finish` after
    /// it on this thread. Only called when callbacks are registered.
    pub(crate) fn observe(
        &self,
        graph: &TaskGraph,
        id: TaskId,
        thread: usize,
        compute: impl FnOnce() -> Result<Value>,
    ) -> Result<Value> {
        let start = Instant::now();
        let mut event = TaskEvent { graph, id, thread, start, end: None, bytes: 0, failed: false };
        self.each("task_start", |cb| cb.task_start(&event))?;
        let res = compute();
        event.end = Some(Instant::now());
        match &res {
            Ok(value) => event.bytes = value.nbytes(),
            Err(_) => event.failed = true,
        }
        self.each("task_finish", |cb| cb.task_finish(&event))?;
        res
    }

    /// Calls `f` on each callback; stops at the first panic, which becomes the error.
    fn each(&self, hook: &'static str, f: impl Fn(&dyn TaskCallback)) -> Result<()> {
        for cb in &self.0 {
            catch_unwind(AssertUnwindSafe(|| f(&**cb))).map_err(|payload| Error::CallbackPanicked {
                hook: hook.to_string(),
                message: panic_message(&*payload),
            })?;
        }
        Ok(())
    }
}

impl fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Callbacks({})", self.0.len())
    }
}

impl PartialEq for Callbacks {
    /// The same callbacks (the same objects), in the same order.
    fn eq(&self, other: &Callbacks) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| Arc::ptr_eq(a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loom::Mutex;
    use crate::synthetic;

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl TaskCallback for Log {
        fn task_start(&self, task: &TaskEvent<'_>) {
            assert!(task.end.is_none() && task.duration().is_none());
            self.0.lock().unwrap().push(format!("start t{} {}", task.id.0, task.op()));
        }
        fn task_finish(&self, task: &TaskEvent<'_>) {
            assert!(task.duration().is_some());
            self.0.lock().unwrap().push(format!("finish t{} {} {} {}", task.id.0, task.bytes, task.failed, task.key()));
        }
    }

    #[test]
    fn observe_reports_start_and_finish_around_the_task() {
        let graph = synthetic::chain(2);
        let log = Arc::new(Log::default());
        let mut cbs = Callbacks::new();
        cbs.push(log.clone());
        let value = cbs.observe(&graph, TaskId(1), 3, || Ok(Value::new(7u64, 8))).unwrap();
        assert_eq!(*value.downcast_ref::<u64>().unwrap(), 7);
        let err = cbs.observe(&graph, TaskId(0), 0, || Err(Error::internal("no"))).unwrap_err();
        assert_eq!(err, Error::internal("no"));
        let key = |i| graph.key_string(TaskId(i));
        assert_eq!(
            *log.0.lock().unwrap(),
            vec![
                "start t1 full".to_string(),
                format!("finish t1 8 false {}", key(1)),
                "start t0 full".to_string(),
                format!("finish t0 0 true {}", key(0)),
            ]
        );
    }

    #[test]
    fn a_panicking_hook_becomes_an_error_and_equality_is_identity() {
        struct Bad;
        impl TaskCallback for Bad {
            fn task_finish(&self, _: &TaskEvent<'_>) {
                panic!("bad hook");
            }
        }
        let graph = synthetic::chain(1);
        let mut cbs = Callbacks::new();
        cbs.push(Arc::new(Bad));
        let err = cbs.observe(&graph, TaskId(0), 0, || Ok(Value::new(1u64, 8))).unwrap_err();
        assert_eq!(err, Error::CallbackPanicked { hook: "task_finish".into(), message: "bad hook".into() });
        assert_eq!(cbs, cbs.clone());
        let mut other = Callbacks::new();
        other.push(Arc::new(Bad));
        assert_ne!(cbs, other);
        assert_eq!(format!("{other:?}"), "Callbacks(1)");
        assert!(Callbacks::new().is_empty() && other.len() == 1);
    }
}
