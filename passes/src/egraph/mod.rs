//! The e-graph optimizer (egg): rewrites expressions with a named table of exact rules and
//! extracts the cheapest equivalent plan. [`Simplify`] is the expression pass.
//!
//! How it works: the roots' nodes go into an e-graph ([`language`]), one e-class per
//! distinct node; the rules ([`rules::RULES`]) add equivalent forms in bounded saturation
//! ([`runner`]); a cost model ([`cost`]) and a sharing-aware extractor ([`extract`]) pick
//! the cheapest plan; [`rebuild`] turns it back into `Expr`s through the checked
//! `ir::build` constructors. The pass costs O(expression): nothing here looks at chunks
//! one by one (regular chunk grids are a few words whatever the number of blocks).
//!
//! Decisions:
//! - **Chunking is part of an e-class's meaning.** kiln's `Meta` (dtype, shape, chunks,
//!   weak scalar kind) is part of every e-node's key and every class's data, and the
//!   analysis refuses to merge classes whose metadata differs. A rewrite that would change
//!   the chunks of a value does not apply; one that wants other chunks must say so with an
//!   explicit `rechunk` node (a slice moved below a rechunk keeps its own chunks with a
//!   rechunk of the smaller slice; a rechunked source is the source made in the new chunks,
//!   since a source's values depend only on their global positions). This keeps the pass's
//!   output signature (dtype, shape, chunks of each root) unchanged by construction, and
//!   lowering never has to re-derive chunks.
//! - **Rules are exact under IEEE-754**, directional, and never blanket commutativity or
//!   associativity. Constant folding evaluates only operations whose result is exactly
//!   defined (IEEE arithmetic, comparisons, casts, `sqrt`, rounding), the way the
//!   interpreter computes them.
//! - **Rules do not judge profit; extraction does.** Both forms stay in the e-graph and
//!   the DAG-aware extractor decides, so a slice is pushed into a shared expensive value
//!   only when recomputing the sliced part is cheaper than sharing the value, and into a
//!   shared cheap source (random, `full`, `arange`, `linspace`, `from_array`) because
//!   regenerating or re-viewing it is cheaper than pinning its blocks.
//! - **Never worse, never wrong:** the result is returned only if its estimated cost is
//!   lower than the input's; if rebuilding any node fails (a bug in a rule), the input is
//!   returned unchanged and the report says why.
//! - **Reductions are exact only up to summation order.** Slicing the kept axes of a
//!   reduction, or pushing a slice into a source, gives the same elements to reduce in the
//!   same blocks, but a block's memory layout can change (a fresh contiguous block instead
//!   of a strided view), and the interpreter sums contiguous lanes pairwise and strided
//!   lanes sequentially. Float sums and means may then differ in the last bits; every
//!   other result is bitwise equal.

pub mod cost;
pub mod extract;
pub mod language;
pub mod meta;
pub mod rebuild;
pub mod report;
pub mod rules;
pub mod runner;
pub mod slices;

#[cfg(test)]
mod tests;

use std::time::Instant;

use kiln_ir::Expr;

pub use report::SimplifyReport;
pub use rules::{RULES, Rule, rule};
pub use runner::{Limits, StopReason};

use crate::pipeline::{ExprPass, PassOutcome};
use crate::{PassOptions, Result};

/// The e-graph optimizer as an expression pass: saturates with every rule of
/// [`rules::RULES`] within the default [`Limits`] and keeps the cheapest plan. It does not
/// fuse (that is `fuse_blockwise`, which runs after it) and does not look at chunks one by
/// one.
pub struct Simplify;

impl Simplify {
    /// The pass's name.
    pub const NAME: &'static str = "simplify";
}

impl ExprPass for Simplify {
    fn name(&self) -> &'static str {
        Simplify::NAME
    }

    fn run(&self, roots: Vec<Expr>, _opts: &PassOptions) -> Result<PassOutcome<Vec<Expr>>> {
        let out = simplify(&roots, &Limits::default());
        Ok(PassOutcome {
            changed: out.report.changed,
            summary: out.report.summary(),
            details: out.report.to_string(),
            result: out.exprs,
        })
    }
}

/// The optimized expressions and the report of the run.
#[derive(Clone, Debug)]
pub struct Simplified {
    /// One expression per root, with the same dtype, shape and chunks.
    pub exprs: Vec<Expr>,
    /// What the optimizer did.
    pub report: SimplifyReport,
}

/// Optimizes `roots` with every rule within `limits`.
pub fn simplify(roots: &[Expr], limits: &Limits) -> Simplified {
    let rules: Vec<&Rule> = RULES.iter().collect();
    simplify_with(roots, &rules, limits)
}

/// The full report of optimizing `roots` with the default limits (for verbose `explain`).
pub fn simplify_report(roots: &[Expr]) -> SimplifyReport {
    simplify(roots, &Limits::default()).report
}

/// Optimizes `roots` with the given rules only (tests run one rule at a time).
pub fn simplify_with(roots: &[Expr], rules: &[&Rule], limits: &Limits) -> Simplified {
    let start = Instant::now();
    let nodes_before = Expr::topo_order(roots).len();
    let cost_before = cost::exprs_cost(roots);
    let language::Ingested { mut egraph, roots: ids, originals } = language::ingest(roots);
    let run = runner::saturate(&mut egraph, rules, limits);
    let saturate_time = start.elapsed();
    let ids: Vec<egg::Id> = ids.iter().map(|&id| egraph.find(id)).collect();
    let mut fallback = None;
    let mut extract_improvements = 0;
    let mut exprs = roots.to_vec();
    if let Some(sel) = extract::extract(&egraph, &ids) {
        extract_improvements = sel.improvements;
        if sel.cost < cost_before * (1.0 - 1e-9) {
            match rebuild::rebuild(&egraph, &sel, &ids, &originals) {
                Ok(rebuilt) => exprs = rebuilt,
                Err(why) => fallback = Some(why),
            }
        }
    }
    let changed = exprs.iter().zip(roots).any(|(a, b)| a != b);
    let rules_fired = rules.iter().zip(&run.fired).filter(|(_, n)| **n > 0).map(|(r, n)| (r.name, *n)).collect();
    let report = SimplifyReport {
        stop_reason: run.stop_reason,
        iterations: run.iterations,
        egraph_nodes: egraph.total_size(),
        egraph_classes: egraph.number_of_classes(),
        rules_fired,
        rejected: run.rejected,
        nodes_before,
        nodes_after: if changed { Expr::topo_order(&exprs).len() } else { nodes_before },
        cost_before,
        cost_after: if changed { cost::exprs_cost(&exprs) } else { cost_before },
        extract_improvements,
        changed,
        fallback,
        saturate_time,
        extract_time: start.elapsed() - saturate_time,
        total_time: start.elapsed(),
    };
    Simplified { exprs, report }
}
