//! The IR's error type: invalid user input (caught while an expression is built) kept apart
//! from internal invariant violations (bugs, caught by verifiers).

/// Errors raised while building or checking expressions and task graphs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The user asked for something invalid: mismatched shapes, an axis out of range, a dtype
    /// an op does not accept. `op` names the operation, `msg` the offending shapes/axes.
    #[error("{op}: {msg}")]
    Invalid {
        /// The operation being built, as it appears in the text form (`add`, `slice`, ...).
        op: String,
        /// What is wrong, with the shapes, axes or dtypes involved.
        msg: String,
    },
    /// An internal invariant does not hold (a bug in kiln, not in user code).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// An [`Error::Invalid`] for operation `op`.
    pub fn invalid(op: impl Into<String>, msg: impl Into<String>) -> Error {
        Error::Invalid { op: op.into(), msg: msg.into() }
    }

    /// An [`Error::Internal`].
    pub fn internal(msg: impl Into<String>) -> Error {
        Error::Internal(msg.into())
    }
}

/// The IR's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Returns early with an [`Error::Invalid`] for `op`, formatting the message.
#[macro_export]
macro_rules! bail_invalid {
    ($op:expr, $($fmt:tt)+) => {
        return Err($crate::Error::invalid($op, format!($($fmt)+)))
    };
}
