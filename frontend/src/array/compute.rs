//! Running arrays: `optimize()`, `compute()` (one array), the joint run of several arrays in
//! one graph (shared work done once) behind `kiln::compute`, `task_graph()` and `explain()`.

use std::sync::Arc;

use kiln_ir::{Expr, TaskGraph, TaskId, Value};
use kiln_runtime::RunStats;

use super::placement::Placement;
use super::{Array, DynArray};
use crate::config::{self, Config};
use crate::error::Result;
use crate::explain;

impl Array {
    /// The same array with its expression optimized (the expression passes of the
    /// pipeline). An invalid array is returned unchanged.
    pub fn optimize(&self) -> Array {
        if self.error.is_some() {
            return self.clone();
        }
        let opts = config::get().unwrap_or_default().pass_options();
        match kiln_passes::optimize_exprs(std::slice::from_ref(&self.expr), &opts) {
            Ok((mut exprs, _)) => Array::from_expr(exprs.pop().expect("one root")),
            Err(_) => self.clone(),
        }
    }

    /// Computes the array with the global settings ([`config::get`]): optimizes (unless
    /// `KILN_OPTIMIZE=0`), lowers and runs it on all cores.
    pub fn compute(&self) -> Result<DynArray> {
        self.compute_with(&config::get()?)
    }

    /// Computes the array with the given settings.
    pub fn compute_with(&self, cfg: &Config) -> Result<DynArray> {
        Ok(self.compute_with_stats(cfg)?.0)
    }

    /// Computes the array and reports figures of the run (tasks, peak memory held).
    pub fn compute_with_stats(&self, cfg: &Config) -> Result<(DynArray, RunStats)> {
        let (mut out, stats) = run_arrays(&[self], cfg)?;
        Ok((out.pop().expect("one output"), stats))
    }

    /// The task graph computing this array with `cfg` would run (optimized unless
    /// `cfg.optimize` is off), without running it. See also `to_dot()`.
    pub fn task_graph(&self, cfg: &Config) -> Result<TaskGraph> {
        Ok(lower(&[self], cfg)?.1)
    }

    /// The plan, stage by stage: the expression, what each pass did, and the task graph's
    /// size (`task graph: <N> tasks, ...`). Errors in the expression are reported instead.
    pub fn explain(&self) -> String {
        explain::explain(&[self], &config::get().unwrap_or_default(), false)
    }

    /// [`Array::explain`] with pass timings, the expression after each pass that changed it,
    /// and the task list of small graphs.
    pub fn explain_verbose(&self) -> String {
        explain::explain(&[self], &config::get().unwrap_or_default(), true)
    }
}

/// Optimizes (as `cfg` says) and lowers several arrays into one task graph; gives the
/// optimized roots too.
pub(crate) fn lower(arrays: &[&Array], cfg: &Config) -> Result<(Vec<Expr>, TaskGraph)> {
    cfg.validate()?;
    for a in arrays {
        a.check()?;
    }
    let roots: Vec<Expr> = arrays.iter().map(|a| a.expr.clone()).collect();
    let opts = cfg.pass_options();
    let roots = if cfg.optimize { kiln_passes::optimize_exprs(&roots, &opts)?.0 } else { roots };
    let (graph, _) = kiln_passes::build_graph(&roots, &opts)?;
    Ok((roots, graph))
}

/// Runs several arrays as one graph.
pub(crate) fn run_arrays(arrays: &[&Array], cfg: &Config) -> Result<(Vec<DynArray>, RunStats)> {
    let (roots, graph) = lower(arrays, cfg)?;
    let placement = Arc::new(Placement::new(&roots, &graph)?);
    let place = placement.clone();
    let runner = move |g: &TaskGraph, id: TaskId, inputs: &mut Vec<Value>| place.run(g, id, inputs);
    let out = kiln_runtime::execute_owning(Arc::new(graph), &cfg.run_options(), Arc::new(runner))?;
    let mut results = Vec::with_capacity(roots.len());
    for (k, (root, blocks)) in roots.iter().zip(out.outputs).enumerate() {
        results.push(match placement.finish(k, &blocks)? {
            Some(array) => array,
            None => DynArray::assemble(root.chunks(), root.dtype(), blocks)?,
        });
    }
    Ok((results, out.stats))
}

/// Groups of arrays as one value: tuples of `&Array` (up to 4), slices and vectors.
/// ([`compute`](crate::compute) takes these and more, through [`Collections`](crate::collections::Collections).)
pub trait Computable {
    /// What computing gives back.
    type Output;
    /// The arrays to compute, in order.
    fn arrays(&self) -> Vec<&Array>;
    /// Packs the computed arrays (in the same order) into the output.
    fn pack(values: Vec<DynArray>) -> Self::Output;
}

macro_rules! tuple_computable {
    ($($name:ident: $ty:ty),+) => {
        impl<'a> Computable for ($($ty,)+) {
            type Output = ($(tuple_computable!(@out $name),)+);
            fn arrays(&self) -> Vec<&Array> {
                #[allow(non_snake_case)]
                let ($($name,)+) = *self;
                vec![$($name),+]
            }
            fn pack(values: Vec<DynArray>) -> Self::Output {
                let mut it = values.into_iter();
                ($(tuple_computable!(@next it $name),)+)
            }
        }
    };
    (@out $name:ident) => { DynArray };
    (@next $it:ident $name:ident) => { $it.next().expect("one value per array") };
}

tuple_computable!(A: &'a Array);
tuple_computable!(A: &'a Array, B: &'a Array);
tuple_computable!(A: &'a Array, B: &'a Array, C: &'a Array);
tuple_computable!(A: &'a Array, B: &'a Array, C: &'a Array, D: &'a Array);

impl Computable for &[Array] {
    type Output = Vec<DynArray>;
    fn arrays(&self) -> Vec<&Array> {
        self.iter().collect()
    }
    fn pack(values: Vec<DynArray>) -> Vec<DynArray> {
        values
    }
}

impl Computable for &Vec<Array> {
    type Output = Vec<DynArray>;
    fn arrays(&self) -> Vec<&Array> {
        self.iter().collect()
    }
    fn pack(values: Vec<DynArray>) -> Vec<DynArray> {
        values
    }
}
