//! `kiln::diagnostics`: seeing what a computation does. Task callbacks (before and after
//! each task, like Dask's `Callback`) that users plug in with `Config::with_callback`;
//! [`Profile`], which records every task and writes a Chrome trace or an HTML task stream;
//! the [`ProgressBar`] shown on long computes in a terminal; cancellation from another
//! thread with a [`CancelToken`]; and GraphViz exports of arrays (`Array::to_dot`).
//!
//! ```
//! use kiln_frontend::array as ka;
//! use kiln_frontend::diagnostics::Profile;
//! use kiln_frontend::Config;
//!
//! let prof = Profile::new();
//! let x = ka::random::uniform([400, 400], [100, 100], 7);
//! let total = (&x * 2.0).sum();
//! total.compute_with(&Config::default().with_callback(prof.clone()))?;
//! let tasks = prof.tasks();
//! assert!(!tasks.is_empty() && tasks.iter().all(|t| t.end >= t.start));
//! assert!(prof.to_html().contains("<canvas"));
//! assert!(total.to_dot()?.starts_with("digraph kiln {"));
//! # Ok::<(), kiln_frontend::Error>(())
//! ```

mod dot;
mod json;
mod profile;
mod profile_html;
pub mod progress;

pub use kiln_ir::dot::{DOT_TASK_LIMIT, expr_to_dot};
pub use kiln_runtime::{CancelToken, RunEvent, RunStats, TaskCallback, TaskEvent};
pub use profile::{Profile, RunRecord, TaskRecord};
pub use progress::ProgressBar;
