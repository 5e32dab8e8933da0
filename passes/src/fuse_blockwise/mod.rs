//! `FuseBlockwise`: merges connected blockwise operations into `Fused` nodes carrying one
//! kernel each, so a chain of elementwise ops (and the per-block step of a reduction that
//! follows it) makes one pass over memory per block instead of one temporary per op.
//!
//! The pass has two steps: [`plan`] groups the nodes (who is computed inside which kernel,
//! through which axis map) and [`emit`] writes each group's kernel; this file decides which
//! groups are worth a kernel and rebuilds the expression around them.

mod emit;
mod plan;

use kiln_ir::{Expr, build};

use crate::pipeline::{ExprPass, PassOutcome};
use crate::{Error, PassOptions, Result};
use emit::Built;
use plan::{Plan, Role};

/// Groups maximal connected sets of blockwise nodes whose chunk grids line up into one
/// `Op::Fused` node each, run once per block of the group's iteration space.
///
/// What it fuses:
/// - `unary`, `binary`, `where` and `astype` become instructions; `transpose`, `insert_axis`
///   and `broadcast_to` only change the axis map through which their input is read.
/// - Cheap sources (`full`, `arange`, `linspace`, `random` with its view) become
///   instructions in every kernel that reads them: regenerating them is cheaper than
///   holding them (a source read outside any kernel also stays a node).
/// - A reduction whose input is a group read by nothing else becomes a map-reduce kernel:
///   one pass per block, no full-size temporary; the fused node has the reduction's
///   metadata and lowers like a reduction.
///
/// What it does not fuse (group boundaries, materialized once and read as kernel inputs):
/// `from_array`, `slice`, `rechunk`, reductions (their result, when read elementwise),
/// existing `fused` nodes, any node read by two groups, by something outside a group, by
/// the caller, or by one group through two different axis maps (`s + s.t()`), and an
/// elementwise node broadcast inside its consumer's group (it would be recomputed along the
/// broadcast axes; it gets its own kernel instead). A group is fused only when its kernel
/// has an elementwise instruction and either ends in a reduction or has something besides
/// one op over inputs, or when it reduces a generated source (`random(..).mean()` generates
/// the values inside the reduction): a lone op, lone layout ops and lone reductions of
/// materialized inputs are left alone. A group whose kernel `ir::build::fused` refuses (inputs that do not line up
/// with the iteration grid) is left alone too, never miscompiled; so is a weak scalar root
/// (a fused node would lose its weak promotion).
///
/// It costs O(expression): no step is per chunk, no traversal recurses, and the result is
/// deterministic (instructions in post-order from each group's output, operands and kernel
/// inputs in order of first use; one instruction per distinct node and axis map).
pub struct FuseBlockwise;

impl ExprPass for FuseBlockwise {
    fn name(&self) -> &'static str {
        "fuse_blockwise"
    }

    fn run(&self, roots: Vec<Expr>, _opts: &PassOptions) -> Result<PassOutcome<Vec<Expr>>> {
        let plan = plan::plan(&roots);
        let mut kernels: Vec<Option<Built>> = (0..plan.groups.len() as u32)
            .map(|g| {
                let built = emit::build(&plan, g);
                (built.is_worth_fusing() && fits(&plan, g, &built)).then_some(built)
            })
            .collect();
        let n_kernels = kernels.iter().flatten().count();
        if n_kernels == 0 {
            let summary = format!("{} nodes, no kernels", plan.order.len());
            return Ok(PassOutcome { result: roots, changed: false, summary, details: String::new() });
        }
        let fail = |message: String| Error::Verify { pass: "fuse_blockwise", message };
        // Rebuild inputs before users; members of fused groups vanish into their kernels.
        let mut new: Vec<Option<Expr>> = vec![None; plan.order.len()];
        for i in 0..plan.order.len() {
            let e = &plan.order[i];
            new[i] = match plan.roles[i] {
                Role::Member(g) if kernels[g as usize].is_some() => None,
                Role::Root(g) if kernels[g as usize].is_some() => {
                    let Built { kernel, inputs } = kernels[g as usize].take().expect("checked above");
                    let inputs = inputs.iter().map(|&j| rebuilt(&new, j)).collect::<Result<Vec<_>, _>>();
                    let grid = plan.groups[g as usize].grid.clone();
                    let fused = build::fused(kernel, inputs.map_err(fail)?, grid);
                    Some(fused.map_err(|err| fail(format!("group {g} no longer fits: {err}")))?)
                }
                _ => {
                    let inputs = e.inputs().iter().map(|x| rebuilt(&new, plan.position[&x.addr()]));
                    let inputs = inputs.collect::<Result<Vec<_>, _>>().map_err(fail)?;
                    let same = inputs.iter().zip(e.inputs()).all(|(a, b)| a.addr() == b.addr());
                    Some(if same { e.clone() } else { Expr::new(e.op().clone(), inputs, e.meta().clone()) })
                }
            };
        }
        let result = roots
            .iter()
            .map(|r| rebuilt(&new, plan.position[&r.addr()]))
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        let after = Expr::topo_order(&result).len();
        let plural = if n_kernels == 1 { "" } else { "s" };
        let summary = format!("{} → {after} nodes, {n_kernels} kernel{plural}", plan.order.len());
        Ok(PassOutcome { result, changed: true, summary, details: String::new() })
    }
}

/// The rebuilt node at topological position `i`, which an earlier step must have made.
fn rebuilt(new: &[Option<Expr>], i: usize) -> Result<Expr, String> {
    new[i].clone().ok_or_else(|| format!("node %{i} was fused away but is still read outside its kernel"))
}

/// Whether group `g`'s kernel makes a valid fused node with the root's metadata (checked on
/// the original inputs, whose metadata the rebuilt ones share).
fn fits(plan: &Plan, g: u32, built: &Built) -> bool {
    let group = &plan.groups[g as usize];
    let root = &plan.order[group.root];
    if root.meta().weak.is_some() {
        return false;
    }
    let inputs = built.inputs.iter().map(|&i| plan.order[i].clone()).collect();
    match build::fused(built.kernel.clone(), inputs, group.grid.clone()) {
        Ok(f) => f.dtype() == root.dtype() && f.chunks() == root.chunks(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests;
