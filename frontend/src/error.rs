//! `kiln::Error`: every failure a user can see, from building an expression to running it.

/// An error from kiln: an invalid expression (caught before any task runs), a failed task
/// (naming it), a bad configuration, or a result accessed as the wrong type.
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
    Run(#[from] kiln_runtime::Error),
    /// A configuration value (environment variable or setting) is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A result was accessed as a dtype or shape it does not have.
    #[error("{0}")]
    Type(String),
}

/// kiln's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
