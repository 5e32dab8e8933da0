//! Synthetic task graphs — a chain, a wide fan-in, a random DAG, per-block chains under a
//! sum tree — and a runner that counts, for the runtime's tests, examples and benchmarks.
//! Every task belongs to one placeholder node (a `full` array with one block per task, so
//! keys are distinct; the outputs are declared on a second one). The runner ignores the
//! node and computes `1 + the sum of its inputs` as a `u64`, so these graphs do not depend
//! on the kernels.

use kiln_ir::{Chunks, Expr, NodeId, Scalar, TaskGraph, TaskGraphBuilder, TaskId, TaskKind, Value};

use crate::RunOutput;
use crate::loom::Arc;
use crate::runner::{BoxError, TaskRunner};

/// The placeholder expression for a graph of `n_tasks` tasks: one block per task.
pub fn placeholder_expr(n_tasks: usize) -> Expr {
    kiln_ir::build::full(Scalar::F64(1.0), &[n_tasks.max(1)], &Chunks::from([1]))
        .expect("a 1-d full array with unit chunks is always valid")
}

/// Adds tasks of the one placeholder node; the node itself is added at the end, once the
/// number of tasks is known.
struct Builder {
    builder: TaskGraphBuilder,
}

impl Builder {
    fn new() -> Builder {
        Builder { builder: TaskGraphBuilder::new() }
    }

    fn task(&mut self, deps: &[TaskId]) -> TaskId {
        let index = self.builder.n_tasks() as u64;
        self.builder.add_task(NodeId(0), TaskKind::Block, index, deps)
    }

    fn finish(mut self, outputs: Vec<TaskId>) -> TaskGraph {
        self.builder.add_node(placeholder_expr(self.builder.n_tasks()), Default::default());
        if !outputs.is_empty() {
            // The output is declared on a node with one block per output task, so that the
            // graph passes `TaskGraph::verify`.
            let output_node = self.builder.add_node(placeholder_expr(outputs.len()), Default::default());
            self.builder.add_output(output_node, outputs);
        }
        self.builder.finish()
    }
}

/// `n` tasks, each reading the one before; the last is the output.
pub fn chain(n: usize) -> TaskGraph {
    let mut b = Builder::new();
    let mut last = None;
    for _ in 0..n {
        let deps: Vec<TaskId> = last.into_iter().collect();
        last = Some(b.task(&deps));
    }
    b.finish(last.into_iter().collect())
}

/// `n_sources` independent tasks, summed in groups of `group` (each group numbered right
/// after its sources, depth first), the group sums summed by one sink, the output.
pub fn wide(n_sources: usize, group: usize) -> TaskGraph {
    let mut b = Builder::new();
    let mut sums = Vec::new();
    let mut sources = Vec::new();
    for start in (0..n_sources).step_by(group.max(1)) {
        sources.clear();
        for _ in start..(start + group.max(1)).min(n_sources) {
            sources.push(b.task(&[]));
        }
        sums.push(b.task(&sources));
    }
    let sink = b.task(&sums);
    b.finish(vec![sink])
}

/// `n` tasks, task `i` reading up to `max_deps` tasks (repeats possible) among the 1000
/// before it, chosen by a generator seeded with `seed`; the last task is the output.
pub fn random_dag(n: usize, max_deps: usize, seed: u64) -> TaskGraph {
    let mut rng = SplitMix64(seed);
    let mut b = Builder::new();
    let mut deps = Vec::new();
    for i in 0..n {
        deps.clear();
        if i > 0 {
            let n_deps = rng.below(max_deps as u64 + 1) as usize;
            let window = i.min(1000) as u64;
            for _ in 0..n_deps {
                deps.push(TaskId((i as u64 - 1 - rng.below(window)) as u32));
            }
        }
        b.task(&deps);
    }
    b.finish(n.checked_sub(1).map(|last| TaskId(last as u32)).into_iter().collect())
}

/// What `(source + 1).sum()` lowers to over `n_blocks` blocks: per block a source, an
/// add-one and a partial sum, under a tree of combines with fan-in `split_every`, numbered
/// depth first as the ordering pass numbers them. The root is the output.
pub fn block_sums(n_blocks: usize, split_every: usize) -> TaskGraph {
    fn subtree(b: &mut Builder, lo: usize, hi: usize, span: usize, split: usize) -> TaskId {
        if hi - lo == 1 {
            let source = b.task(&[]);
            let plus_one = b.task(&[source]);
            return b.task(&[plus_one]);
        }
        let child_span = span / split;
        let children: Vec<TaskId> =
            (lo..hi).step_by(child_span).map(|c| subtree(b, c, (c + child_span).min(hi), child_span, split)).collect();
        b.task(&children)
    }
    let split = split_every.max(2);
    let mut b = Builder::new();
    if n_blocks == 0 {
        return b.finish(Vec::new());
    }
    let mut span = 1;
    while span < n_blocks {
        span *= split;
    }
    let root = subtree(&mut b, 0, n_blocks, span, split);
    b.finish(vec![root])
}

/// A runner computing `1 + the sum of its inputs` (wrapping) as a `u64` of 8 bytes.
pub fn count_runner() -> Arc<TaskRunner> {
    Arc::new(|_: &TaskGraph, id: TaskId, inputs: &[Value]| {
        let mut sum = 1u64;
        for v in inputs {
            let x = v.downcast_ref::<u64>().ok_or_else(|| format!("t{} read a {}", id.0, v.type_name()))?;
            sum = sum.wrapping_add(*x);
        }
        Ok::<Value, BoxError>(Value::new(sum, 8))
    })
}

/// The outputs [`count_runner`] gives for `graph`, computed directly.
pub fn expected_outputs(graph: &TaskGraph) -> Vec<Vec<u64>> {
    let mut values = vec![0u64; graph.len()];
    for i in 0..graph.len() {
        let deps = graph.deps(TaskId(i as u32));
        values[i] = deps.iter().fold(1u64, |acc, d| acc.wrapping_add(values[d.idx()]));
    }
    graph.outputs().iter().map(|o| o.tasks.iter().map(|t| values[t.idx()]).collect()).collect()
}

/// The `u64` outputs of a run (0 where a value is not a `u64`).
pub fn output_u64(out: &RunOutput) -> Vec<Vec<u64>> {
    out.outputs.iter().map(|o| o.iter().map(|v| v.downcast_ref::<u64>().copied().unwrap_or(0)).collect()).collect()
}

/// A small, fast, seedable generator (SplitMix64), enough for test graphs.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_have_the_expected_sizes_and_values() {
        let chain = chain(5);
        assert_eq!(chain.len(), 5);
        assert_eq!(expected_outputs(&chain), vec![vec![5]]);
        let wide = wide(10, 4);
        assert_eq!(wide.len(), 10 + 3 + 1);
        // The sink adds 1 to three group sums, each 1 plus its sources.
        assert_eq!(expected_outputs(&wide), vec![vec![1 + 3 + 10]]);
        let sums = block_sums(10, 4);
        // 30 block tasks, combines over 4, 4 and 2 blocks, and a root over the 3 combines.
        assert_eq!(sums.len(), 30 + 3 + 1);
        assert_eq!(expected_outputs(&sums), vec![vec![10 * 3 + 3 + 1]]);
        let dag = random_dag(100, 3, 1);
        assert_eq!(dag.len(), 100);
        assert!(dag.verify().is_ok() && chain.verify().is_ok());
        assert_eq!(chain.key_string(TaskId(3)), format!("{}(3)", chain.nodes()[0].expr.key_name()));
    }

    #[test]
    fn block_sums_are_numbered_depth_first() {
        let g = block_sums(4, 2);
        // Two blocks (3 tasks each), their combine, two more blocks, their combine, root.
        let deps: Vec<Vec<u32>> =
            (0..g.len()).map(|i| g.deps(TaskId(i as u32)).iter().map(|d| d.0).collect()).collect();
        let expected: Vec<Vec<u32>> = vec![
            vec![],
            vec![0],
            vec![1],
            vec![],
            vec![3],
            vec![4],
            vec![2, 5],
            vec![],
            vec![7],
            vec![8],
            vec![],
            vec![10],
            vec![11],
            vec![9, 12],
            vec![6, 13],
        ];
        assert_eq!(deps, expected);
    }
}
