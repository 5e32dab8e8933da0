//! kiln's passes: expression-level optimizations (the e-graph optimizer, blockwise fusion),
//! the lowering of expressions into a task graph, and task-graph passes (cull, order, linear
//! fusion), run by one ordered pipeline that records what each pass did.
//!
//! The pipeline (see [`pipeline`]): [`egraph::Simplify`] → [`fuse_blockwise::FuseBlockwise`]
//! → [`lower::Lower`] → [`cull::Cull`] → [`order::Order`] → [`fuse_linear::FuseLinear`].
//! Every pass but lowering can be switched off by name
//! in [`PassOptions::disabled`]; with [`PassOptions::verify`] the [`verify`] module checks
//! the invariants after every pass and names the pass that broke one.

pub mod cull;
pub mod egraph;
pub mod fuse_blockwise;
pub mod fuse_linear;
pub mod lower;
pub mod order;
pub mod pipeline;
pub mod verify;

#[cfg(test)]
mod testing;

use std::time::Duration;

use kiln_ir::{Expr, TaskGraph};

pub use cull::Cull;
pub use fuse_linear::FuseLinear;
pub use lower::Lower;
pub use order::Order;
pub use pipeline::{ExprPass, GraphPass, PassOutcome, pass_names};

/// Errors of the pass pipeline.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The expression is invalid (shapes, axes, dtypes).
    #[error(transparent)]
    Invalid(#[from] kiln_ir::Error),
    /// A pass broke an invariant (a bug in kiln): names the pass.
    #[error("internal error: pass {pass} produced an invalid result: {message}")]
    Verify {
        /// The pass.
        pass: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The result type of passes.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Options of the pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct PassOptions {
    /// Run the expression optimizations (`KILN_OPTIMIZE=0` turns them off).
    pub optimize: bool,
    /// Fan-in of reduction trees.
    pub split_every: usize,
    /// Passes switched off by name.
    pub disabled: Vec<String>,
    /// Verify invariants after every pass (on in debug builds and tests).
    pub verify: bool,
}

impl Default for PassOptions {
    fn default() -> Self {
        PassOptions { optimize: true, split_every: 8, disabled: Vec::new(), verify: cfg!(debug_assertions) }
    }
}

/// Which representation a pass works on.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Rewrites expressions.
    Expr,
    /// Turns expressions into a task graph.
    Lower,
    /// Rewrites the task graph.
    Graph,
}

/// What one pass did, for `explain`.
#[derive(Clone, Debug)]
pub struct PassRecord {
    /// The pass's name (its file name).
    pub name: &'static str,
    /// What it works on.
    pub stage: Stage,
    /// Wall time it took.
    pub elapsed: Duration,
    /// Whether it changed anything.
    pub changed: bool,
    /// A one-line summary (`400 → 20 tasks`).
    pub summary: String,
    /// More about what it did, for verbose `explain` (empty when there is nothing more).
    pub details: String,
}

/// Runs the expression passes over `roots`.
pub fn optimize_exprs(roots: &[Expr], opts: &PassOptions) -> Result<(Vec<Expr>, Vec<PassRecord>)> {
    pipeline::run_expr_passes(roots, opts, &mut |_, _| {})
}

/// Lowers `roots` into one task graph (one output per root) and runs the graph passes.
pub fn build_graph(roots: &[Expr], opts: &PassOptions) -> Result<(TaskGraph, Vec<PassRecord>)> {
    pipeline::run_graph_passes(roots, opts, &mut |_, _| {})
}
