//! `FuseLinear`: task-level fusion of linear chains, as Dask's `fuse_linear`. A task whose
//! value has exactly one reader, which reads nothing else, is linked to that reader: the
//! runtime runs the reader right after it on the same thread and hands the value over
//! directly, so a chain costs one trip through the scheduler (one queue operation, one
//! stored value) instead of one per task, and its intermediate values are never held.
//!
//! The chain's tasks keep their identity (keys, callbacks, errors name the task that
//! failed); only the marks of [`TaskGraph::hands_off`] change. Outputs are never linked:
//! their values must be stored. Chains come from ops that read one block of one input
//! (slices, transposes, one-to-one rechunks, a reduction's final step over a single partial,
//! elementwise ops over one fused producer) and from delayed graphs (`process(load(f))`).
//! It runs last: passes that renumber or remove tasks drop the marks.

use kiln_ir::{TaskGraph, TaskId};

use crate::pipeline::{GraphPass, PassOutcome};
use crate::{PassOptions, Result};

/// Links each task to its only reader when it is that reader's only input.
pub struct FuseLinear;

impl GraphPass for FuseLinear {
    fn name(&self) -> &'static str {
        "fuse_linear"
    }

    fn run(&self, graph: TaskGraph, _opts: &PassOptions) -> Result<PassOutcome<TaskGraph>> {
        let graph = graph.with_linear_hand_offs();
        let n = graph.len();
        let links = (0..n).filter(|&i| graph.hands_off(TaskId(i as u32))).count();
        if links == 0 {
            let summary = format!("{n} tasks, no linear chains");
            return Ok(PassOutcome { result: graph, changed: false, summary, details: String::new() });
        }
        // A chain starts at a link that its (only) input does not link to.
        let linked_to = |i: usize| graph.deps(TaskId(i as u32)).first().is_some_and(|&d| graph.hands_off(d));
        let chains = (0..n).filter(|&i| graph.hands_off(TaskId(i as u32)) && !linked_to(i)).count();
        let summary = format!("{n} tasks, {} in {chains} linear chains", links + chains);
        Ok(PassOutcome { result: graph, changed: true, summary, details: String::new() })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::s;

    use super::*;
    use crate::testing::*;

    /// Lowers `roots` and runs exactly `FuseLinear`.
    macro_rules! assert_linked {
        ($roots:expr, @$expected:literal) => {
            insta::assert_snapshot!(run_pass(&$roots, &FuseLinear), @$expected)
        };
    }

    #[test]
    fn a_slice_of_an_elementwise_result_is_one_chain_per_block() {
        let x = arange_f64(8, 2);
        // Before: each exp block is read by exactly one slice block.
        insta::assert_snapshot!(lowered(&[slice(&exp(&x), s![2..6].as_ref())]), @"
        t0 = arange-f2ad1471(0)
        t1 = arange-f2ad1471(1)
        t2 = arange-f2ad1471(2)
        t3 = arange-f2ad1471(3)
        t4 = exp-58440163(0) <- t0
        t5 = exp-58440163(1) <- t1
        t6 = exp-58440163(2) <- t2
        t7 = exp-58440163(3) <- t3
        t8 = slice-f75b4157(0) <- t5
        t9 = slice-f75b4157(1) <- t6
        out0 = [t8, t9]
        ");
        assert_linked!([slice(&exp(&x), s![2..6].as_ref())], @"
        t0 = arange-f2ad1471(0) =>
        t1 = arange-f2ad1471(1) =>
        t2 = arange-f2ad1471(2) =>
        t3 = arange-f2ad1471(3) =>
        t4 = exp-58440163(0) <- t0
        t5 = exp-58440163(1) <- t1 =>
        t6 = exp-58440163(2) <- t2 =>
        t7 = exp-58440163(3) <- t3
        t8 = slice-f75b4157(0) <- t5
        t9 = slice-f75b4157(1) <- t6
        out0 = [t8, t9]
        ");
    }

    #[test]
    fn shared_values_and_outputs_are_not_linked() {
        let x = arange_f64(4, 2);
        let e = exp(&x);
        // `e` is read by two tasks per block, and is an output itself.
        assert_linked!([add(&e, &e), e.clone()], @"
        t0 = arange-de7e1a99(0) =>
        t1 = arange-de7e1a99(1) =>
        t2 = exp-f8a12c10(0) <- t0
        t3 = exp-f8a12c10(1) <- t1
        t4 = add-42873989(0) <- t2, t2
        t5 = add-42873989(1) <- t3, t3
        out0 = [t4, t5]
        out1 = [t2, t3]
        ");
        let outcome = FuseLinear.run(lower_graph(&[add(&x, &x)]), &crate::PassOptions::default()).unwrap();
        assert!(!outcome.changed);
        assert_eq!(outcome.summary, "4 tasks, no linear chains");
    }

    #[test]
    fn a_reduction_over_one_block_links_its_partial_to_its_final_step() {
        let x = ones(&[4, 6], &[2, 6]);
        assert_linked!([reduce(kiln_ir::ReduceOp::Sum, &x, Some(&[1]))], @"
        t0 = full-a33f965d(0, 0) =>
        t1 = full-a33f965d(1, 0) =>
        t2 = sum-a1bf3016:partial(0, 0) <- t0 =>
        t3 = sum-a1bf3016(0) <- t2
        t4 = sum-a1bf3016:partial(1, 0) <- t1 =>
        t5 = sum-a1bf3016(1) <- t4
        out0 = [t3, t5]
        ");
    }
}
