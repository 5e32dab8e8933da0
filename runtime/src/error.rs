//! The runtime's error enum: a task's failure or panic, a bad option, or a broken invariant.

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
    /// The run was cancelled through its [`CancelToken`](crate::CancelToken).
    #[error("the computation was cancelled")]
    Cancelled,
    /// A task callback panicked (the run stops as if a task had failed).
    #[error("a task callback panicked in {hook}: {message}")]
    CallbackPanicked {
        /// The hook: `run_start`, `task_start`, `task_finish` or `run_end`.
        hook: String,
        /// The panic message.
        message: String,
    },
    /// Spilling a value to disk, or reading it back, failed.
    #[error("spill: {0}")]
    Spill(String),
    /// The run's results alone need more memory than its budget allows.
    #[error(
        "the results need {} but the memory budget is {}: compute a part at a time, store the result \
         with to_npy, or raise the limit (KILN_MEMORY_LIMIT)",
        kiln_ir::task_graph::fmt_bytes(*needed), kiln_ir::task_graph::fmt_bytes(*limit)
    )]
    MemoryLimit {
        /// Bytes of the results.
        needed: usize,
        /// The budget's limit.
        limit: usize,
    },
    /// A run option (for example an environment variable) has a value the runtime cannot use.
    #[error("invalid {name}={value:?}: expected {expected}")]
    InvalidOption {
        /// The option's name, e.g. `KILN_THREADS`.
        name: String,
        /// The value given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// A bug: the graph or the runtime broke an invariant (never the user's input).
    #[error("internal error: {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// An [`Error::Internal`] with `message`.
    pub fn internal(message: impl Into<String>) -> Error {
        Error::Internal { message: message.into() }
    }
}

/// The result type of runs.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_task_and_have_no_trailing_period() {
        let e = Error::TaskFailed { key: "add-1(0)".into(), op: "add".into(), message: "bad input".into() };
        assert_eq!(e.to_string(), "task add-1(0) (add) failed: bad input");
        let e = Error::InvalidOption { name: "KILN_THREADS".into(), value: "x".into(), expected: "a number".into() };
        assert_eq!(e.to_string(), "invalid KILN_THREADS=\"x\": expected a number");
        assert_eq!(Error::internal("oops").to_string(), "internal error: oops");
        assert_eq!(Error::Cancelled.to_string(), "the computation was cancelled");
    }
}
