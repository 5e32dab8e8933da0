//! `kiln::Error`: every failure a user can see, from building an expression to running it.

/// An error from kiln: an invalid expression (caught before any task runs), a failed task
/// (naming it), a cancelled computation, a bad configuration, a result accessed as the
/// wrong type, or a result too large to allocate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The expression is invalid: shapes, axes, dtypes or chunks do not fit. Reported by
    /// `check()`, `compute()` and `explain()` before any task runs.
    #[error("invalid expression: {0}")]
    Invalid(#[from] kiln_ir::Error),
    /// Optimizing or lowering failed.
    #[error(transparent)]
    Pass(#[from] kiln_passes::Error),
    /// A task failed or panicked while running.
    #[error(transparent)]
    Run(kiln_runtime::Error),
    /// The computation was stopped through its cancel token (`Config::with_cancel`).
    #[error("the computation was cancelled")]
    Cancelled,
    /// A configuration value (environment variable or setting) is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A file could not be read or written, or is not in the expected format (the message
    /// names the file and says what is wrong).
    #[error("{0}")]
    File(String),
    /// A result was accessed as a dtype or shape it does not have.
    #[error("{0}")]
    Type(String),
    /// The memory for a result could not be had (the message says how much, for what).
    #[error("{0}")]
    Memory(String),
}

impl From<kiln_runtime::Error> for Error {
    /// A runtime error; a cancelled run becomes [`Error::Cancelled`].
    fn from(e: kiln_runtime::Error) -> Error {
        match e {
            kiln_runtime::Error::Cancelled => Error::Cancelled,
            e => Error::Run(e),
        }
    }
}

/// kiln's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_run_is_its_own_error() {
        assert_eq!(Error::from(kiln_runtime::Error::Cancelled), Error::Cancelled);
        assert_eq!(Error::Cancelled.to_string(), "the computation was cancelled");
        let failed = kiln_runtime::Error::internal("oops");
        assert_eq!(Error::from(failed.clone()), Error::Run(failed));
    }
}
