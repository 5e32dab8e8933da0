//! Errors of chunk kernels: data-dependent failures (integer to a negative power) and
//! inputs a kernel does not accept.

/// A kernel's failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A value the operation cannot compute (message names the op and the value).
    #[error("{0}")]
    Compute(String),
    /// The kernel was handed inputs it does not accept (a bug in lowering).
    #[error("internal error: {0}")]
    Internal(String),
    /// An op or dtype combination that has no kernel.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

/// The result type of kernels.
pub type Result<T, E = Error> = std::result::Result<T, E>;
