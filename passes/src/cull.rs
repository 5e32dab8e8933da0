//! `Cull`: removes the tasks no output needs. A task is kept when an output task reaches it
//! through dependencies; everything else is dropped and the rest renumbered in the same
//! relative order. It does not reorder tasks (see `Order`) or merge them.

use kiln_ir::{TaskGraph, TaskId};

use crate::pipeline::{GraphPass, PassOutcome};
use crate::{PassOptions, Result};

/// Keeps only the tasks reachable from the outputs; never reorders or merges tasks.
pub struct Cull;

impl GraphPass for Cull {
    fn name(&self) -> &'static str {
        "cull"
    }

    fn run(&self, graph: TaskGraph, _opts: &PassOptions) -> Result<PassOutcome<TaskGraph>> {
        let keep = reachable(&graph);
        let before = graph.len();
        let after = keep.iter().filter(|&&k| k).count();
        let summary = format!("{before} → {after} tasks");
        if after == before {
            return Ok(PassOutcome { result: graph, changed: false, summary, details: String::new() });
        }
        Ok(PassOutcome { result: graph.retain(&keep), changed: true, summary, details: String::new() })
    }
}

/// Marks the tasks reachable from the outputs. One sweep from the last task to the first
/// suffices, since dependencies have smaller ids than their users.
pub fn reachable(graph: &TaskGraph) -> Vec<bool> {
    let mut keep = vec![false; graph.len()];
    for out in graph.outputs() {
        for t in &out.tasks {
            keep[t.idx()] = true;
        }
    }
    for i in (0..graph.len()).rev() {
        if keep[i] {
            for d in graph.deps(TaskId(i as u32)) {
                keep[d.idx()] = true;
            }
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use ndarray::s;

    use super::*;
    use crate::testing::*;

    /// Lowers `roots` and runs exactly `Cull`.
    macro_rules! assert_culled {
        ($roots:expr, @$expected:literal) => {
            insta::assert_snapshot!(run_pass(&$roots, &Cull), @$expected)
        };
    }

    #[test]
    fn slice_of_a_sum_keeps_one_block_row() {
        let x = uniform(&[1000, 1000], &[10, 10], 1);
        let y = reduce(kiln_ir::ReduceOp::Sum, &slice(&x, s![..10, ..].as_ref()), None);
        let graph = lower_graph(&[y]);
        let culled = Cull.run(graph, &crate::PassOptions::default()).unwrap().result;
        let sources = culled.tasks().iter().filter(|t| t.node == kiln_ir::NodeId(0)).collect::<Vec<_>>();
        assert_eq!(sources.len(), 100);
        assert!(sources.iter().all(|t| t.index < 100), "only the first block row of x survives");
        assert_eq!(crate::verify::verify_graph(&culled), Ok(()));
    }

    #[test]
    fn unused_blocks_of_a_slice_go() {
        let x = arange_f64(8, 2);
        assert_culled!([slice(&x, s![2..5].as_ref())], @"
        t0 = arange-f2ad1471(1)
        t1 = arange-f2ad1471(2)
        t2 = slice-c162849c(0) <- t0
        t3 = slice-c162849c(1) <- t1
        out0 = [t2, t3]
        ");
    }

    #[test]
    fn without_cull_every_block_stays() {
        let x = arange_f64(8, 2);
        insta::assert_snapshot!(lowered(&[slice(&x, s![2..5].as_ref())]), @"
        t0 = arange-f2ad1471(0)
        t1 = arange-f2ad1471(1)
        t2 = arange-f2ad1471(2)
        t3 = arange-f2ad1471(3)
        t4 = slice-c162849c(0) <- t1
        t5 = slice-c162849c(1) <- t2
        out0 = [t4, t5]
        ");
    }

    #[test]
    fn nothing_to_cull_returns_the_graph_unchanged() {
        let x = arange_f64(8, 2);
        let outcome = Cull.run(lower_graph(&[exp(&x)]), &crate::PassOptions::default()).unwrap();
        assert!(!outcome.changed);
        assert_eq!(outcome.summary, "8 → 8 tasks");
    }
}
