//! kiln: Dask rebuilt in Rust as a compiler. Build lazy chunked arrays with NumPy semantics
//! and ndarray names; `compute()` optimizes the expression, lowers it to a task graph and
//! runs it on all cores.
//!
//! ```
//! use kiln::prelude::*;
//! use kiln::array as ka;
//!
//! let x = ka::random::uniform([2_000, 2_000], [500, 500], 42);
//! let y = &x - &x.mean_axis(Axis(1)).insert_axis(Axis(1));
//! let z = y.slice(s![..10, ..]).sum();
//! assert!(z.explain().contains("task graph:"));
//! let v: f64 = z.compute()?.into_scalar::<f64>()?;
//! assert!(v.abs() < 1e-6);
//! # Ok::<(), kiln::Error>(())
//! ```

/// Task callbacks, `Profile` (Chrome trace and HTML task stream), the progress bar,
/// cancellation and GraphViz export.
pub use kiln_frontend::diagnostics;
/// Lazy calls (`Delayed<T>`, `delayed!`) and futures (`Client`, `Future<T>`) of Rust functions.
pub use kiln_frontend::{Client, Future, delayed, futures};
pub use kiln_frontend::{Error, Result, array, compute, compute_with, config, jit};

/// The intermediate representations (expressions, task graphs), for tools and tests.
pub use kiln_ir as ir;
/// The pass pipeline.
pub use kiln_passes as passes;
/// The runtime.
pub use kiln_runtime as runtime;

/// The names most programs need: `use kiln::prelude::*;`.
pub mod prelude {
    pub use kiln_frontend::array::{Array, Axis, ChunkAxis, Chunks, DynArray, maximum, minimum, s, where_};
    pub use kiln_frontend::delayed::Delayed;
    pub use kiln_frontend::{Config, Scheduler};
    pub use kiln_ir::DType;
}
