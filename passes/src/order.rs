//! `Order`: renumbers tasks in depth-first post-order from the outputs (for each output,
//! for each of its tasks in order, every dependency in the order the task reads them, then
//! the task). The runtime runs the smallest ready id first, so this finishes one branch
//! (one reduction group, one output block) before it starts the next and keeps few results
//! alive at once, as `dask.order` does. Tasks no output reaches (when `Cull` is off) come
//! last. It removes nothing and keeps every task's dependencies and their order.

use kiln_ir::{TaskGraph, TaskGraphBuilder, TaskId};

use crate::pipeline::{GraphPass, PassOutcome};
use crate::{PassOptions, Result};

/// Renumbers tasks depth-first from the outputs; never removes or merges tasks.
pub struct Order;

impl GraphPass for Order {
    fn name(&self) -> &'static str {
        "order"
    }

    fn run(&self, graph: TaskGraph, _opts: &PassOptions) -> Result<PassOutcome<TaskGraph>> {
        let order = depth_first_order(&graph);
        let moved = order.iter().enumerate().filter(|&(i, t)| t.idx() != i).count();
        let summary = format!("{} tasks, {moved} moved", graph.len());
        if moved == 0 {
            return Ok(PassOutcome { result: graph, changed: false, summary, details: String::new() });
        }
        Ok(PassOutcome { result: renumber(&graph, &order), changed: true, summary, details: String::new() })
    }
}

/// The tasks in depth-first post-order from the outputs, then the unreached tasks in the
/// same manner. Iterative: graphs have millions of tasks and long chains.
pub fn depth_first_order(graph: &TaskGraph) -> Vec<TaskId> {
    let n = graph.len();
    let mut visited = vec![false; n];
    let mut order = Vec::with_capacity(n);
    // (task, how many of its dependencies were visited)
    let mut stack: Vec<(TaskId, usize)> = Vec::new();
    let output_tasks = graph.outputs().iter().flat_map(|o| o.tasks.iter().copied());
    for start in output_tasks.chain((0..n).map(|i| TaskId(i as u32))) {
        if visited[start.idx()] {
            continue;
        }
        visited[start.idx()] = true;
        stack.push((start, 0));
        while let Some(top) = stack.last_mut() {
            let (task, next) = *top;
            match graph.deps(task).get(next) {
                Some(&dep) => {
                    top.1 += 1;
                    if !visited[dep.idx()] {
                        visited[dep.idx()] = true;
                        stack.push((dep, 0));
                    }
                }
                None => {
                    order.push(task);
                    stack.pop();
                }
            }
        }
    }
    order
}

/// The graph with task `order[i]` renumbered to `i` (a topological order); nodes unchanged.
pub fn renumber(graph: &TaskGraph, order: &[TaskId]) -> TaskGraph {
    let mut new_id = vec![TaskId(u32::MAX); graph.len()];
    let mut b = TaskGraphBuilder::new();
    for n in graph.nodes() {
        b.add_node(n.expr.clone(), n.aux.clone());
    }
    let mut deps = Vec::new();
    for &old in order {
        let t = graph.task(old);
        deps.clear();
        deps.extend(graph.deps(old).iter().map(|d| new_id[d.idx()]));
        new_id[old.idx()] = b.add_task(t.node, t.kind, t.index, &deps);
    }
    for o in graph.outputs() {
        b.add_output(o.node, o.tasks.iter().map(|t| new_id[t.idx()]).collect());
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    /// Lowers `roots` and runs exactly `Order`.
    macro_rules! assert_ordered {
        ($roots:expr, @$expected:literal) => {
            insta::assert_snapshot!(run_pass(&$roots, &Order), @$expected)
        };
    }

    #[test]
    fn reduction_groups_finish_before_the_next_starts() {
        let x = uniform(&[8], &[2], 1);
        assert_ordered!([reduce(kiln_ir::ReduceOp::Sum, &exp(&x), None)], @"
        t0 = random.uniform-64823e97(0)
        t1 = exp-0cdae37e(0) <- t0
        t2 = sum-28ec52dd:partial(0) <- t1
        t3 = random.uniform-64823e97(1)
        t4 = exp-0cdae37e(1) <- t3
        t5 = sum-28ec52dd:partial(1) <- t4
        t6 = random.uniform-64823e97(2)
        t7 = exp-0cdae37e(2) <- t6
        t8 = sum-28ec52dd:partial(2) <- t7
        t9 = random.uniform-64823e97(3)
        t10 = exp-0cdae37e(3) <- t9
        t11 = sum-28ec52dd:partial(3) <- t10
        t12 = sum-28ec52dd() <- t2, t5, t8, t11
        out0 = [t12]
        ");
    }

    #[test]
    fn order_off_keeps_the_lowering_order() {
        let x = uniform(&[8], &[2], 1);
        let y = reduce(kiln_ir::ReduceOp::Sum, &exp(&x), None);
        insta::assert_snapshot!(built(&[y], &["order"]), @"
        t0 = random.uniform-64823e97(0) =>
        t1 = random.uniform-64823e97(1) =>
        t2 = random.uniform-64823e97(2) =>
        t3 = random.uniform-64823e97(3) =>
        t4 = exp-0cdae37e(0) <- t0 =>
        t5 = exp-0cdae37e(1) <- t1 =>
        t6 = exp-0cdae37e(2) <- t2 =>
        t7 = exp-0cdae37e(3) <- t3 =>
        t8 = sum-28ec52dd:partial(0) <- t4
        t9 = sum-28ec52dd:partial(1) <- t5
        t10 = sum-28ec52dd:partial(2) <- t6
        t11 = sum-28ec52dd:partial(3) <- t7
        t12 = sum-28ec52dd() <- t8, t9, t10, t11
        out0 = [t12]
        ");
    }

    #[test]
    fn unreached_tasks_come_last() {
        let x = arange_f64(8, 2);
        let y = slice(&x, ndarray::s![2..5].as_ref());
        insta::assert_snapshot!(built(&[y], &["cull"]), @"
        t0 = arange-f2ad1471(1) =>
        t1 = slice-c162849c(0) <- t0
        t2 = arange-f2ad1471(2) =>
        t3 = slice-c162849c(1) <- t2
        t4 = arange-f2ad1471(0)
        t5 = arange-f2ad1471(3)
        out0 = [t1, t3]
        ");
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let mut e = uniform(&[2], &[1], 1);
        for _ in 0..100_000 {
            e = exp(&e);
        }
        let graph = lower_graph(&[e]);
        let order = depth_first_order(&graph);
        assert_eq!(order.len(), 200_002);
        assert_eq!(&order[..3], &[TaskId(0), TaskId(2), TaskId(4)]);
    }
}
