//! kiln's user-facing collections: chunked arrays now (`array`); dataframes, bags, delayed
//! calls and futures later. Each collection builds `kiln_ir` expressions and computes them
//! through the same passes and runtime.

pub mod array;
pub mod collections;
pub mod config;
pub mod delayed;
pub mod diagnostics;
pub mod error;
mod explain;
pub mod futures;

pub use array::{Array, DynArray};
pub use collections::{compute, compute_with};
pub use config::{Config, Scheduler};
pub use error::{Error, Result};
pub use futures::{Client, Future};
