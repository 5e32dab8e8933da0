//! What computes a task: the runner types a caller passes in, and `compute`, which calls one
//! and turns its error or panic into the run's [`Error`].

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use kiln_ir::{TaskGraph, TaskId, Value};

use crate::error::{Error, Result};
use crate::loom::Arc;

/// A task's own failure, as its runner reports it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Computes one task from its dependencies' values.
pub type TaskRunner = dyn Fn(&TaskGraph, TaskId, &[Value]) -> Result<Value, BoxError> + Send + Sync;

/// Computes one task from its dependencies' values, which it may take out of the vector:
/// where the task is the last consumer of a value, the vector holds the only reference, so
/// [`Value::try_unwrap`] succeeds and the runner can reuse the buffer in place.
pub type OwningTaskRunner = dyn Fn(&TaskGraph, TaskId, &mut Vec<Value>) -> Result<Value, BoxError> + Send + Sync;

/// Either kind of runner, as the schedulers hold it.
#[derive(Clone)]
pub(crate) enum Runner {
    /// Reads its inputs.
    Borrowing(Arc<TaskRunner>),
    /// May take its inputs.
    Owning(Arc<OwningTaskRunner>),
}

impl Runner {
    /// Computes task `id` of `graph` from `inputs` (its dependencies' values, in order) and
    /// empties `inputs`, releasing this thread's references to them. A runner's error
    /// becomes [`Error::TaskFailed`] and its panic [`Error::TaskPanicked`].
    pub(crate) fn compute(&self, graph: &TaskGraph, id: TaskId, inputs: &mut Vec<Value>) -> Result<Value> {
        let res = catch_unwind(AssertUnwindSafe(|| {
            let res = match self {
                Runner::Borrowing(f) => f(graph, id, inputs),
                Runner::Owning(f) => f(graph, id, inputs),
            };
            inputs.clear();
            res
        }));
        match res {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                Err(Error::TaskFailed { key: graph.key_string(id), op: op_name(graph, id), message: e.to_string() })
            }
            Err(payload) => {
                // The panic may have happened before the runner's own clean-up; the inputs
                // are released here either way. Dropping them cannot unwind again unless a
                // value's `Drop` panics, which is caught the same way.
                let _ = catch_unwind(AssertUnwindSafe(|| inputs.clear()));
                Err(Error::TaskPanicked {
                    key: graph.key_string(id),
                    op: op_name(graph, id),
                    message: panic_message(&*payload),
                })
            }
        }
    }
}

/// The op a task runs, for error messages.
fn op_name(graph: &TaskGraph, id: TaskId) -> String {
    graph.node_of(id).expr.op().name().to_string()
}

/// The text of a panic payload: the `&str` or `String` that `panic!` was given.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a payload that is not text".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    #[test]
    fn errors_and_panics_become_task_errors() {
        let graph = synthetic::chain(2);
        let failing = Runner::Borrowing(Arc::new(|_: &TaskGraph, _: TaskId, _: &[Value]| Err("no disk".into())));
        let mut inputs = vec![Value::new(1u64, 8)];
        let err = failing.compute(&graph, TaskId(1), &mut inputs).unwrap_err();
        assert!(inputs.is_empty());
        assert_eq!(
            err,
            Error::TaskFailed { key: graph.key_string(TaskId(1)), op: "full".into(), message: "no disk".into() }
        );
        let panicking =
            Runner::Owning(Arc::new(|_: &TaskGraph, id: TaskId, _: &mut Vec<Value>| panic!("task {}", id.0)));
        let mut inputs = vec![Value::new(1u64, 8)];
        let err = panicking.compute(&graph, TaskId(1), &mut inputs).unwrap_err();
        assert!(inputs.is_empty());
        assert!(matches!(err, Error::TaskPanicked { message, .. } if message == "task 1"));
    }

    #[test]
    fn panic_payloads_become_text() {
        assert_eq!(panic_message(&"plain"), "plain");
        assert_eq!(panic_message(&String::from("formatted 3")), "formatted 3");
        assert_eq!(panic_message(&3u8), "a panic with a payload that is not text");
    }
}
