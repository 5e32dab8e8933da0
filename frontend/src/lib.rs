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

/// The JIT compiler of fused kernels, process-wide: `set_enabled(false)` runs every kernel
/// on the interpreter (as `KILN_JIT=0` does); `stats()` counts compiles, cache hits, runs and
/// fallbacks since the process started (verbose `explain()` prints them).
pub mod jit {
    pub use kiln_codegen::jit::{JitStats, enabled, set_enabled, stats};
}

pub use array::{Array, DynArray};
pub use collections::{compute, compute_with};
pub use config::{Config, Scheduler};
pub use error::{Error, Result};
pub use futures::{Client, Future};
