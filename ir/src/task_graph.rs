//! `TaskGraph`: the lowered form of expressions. One task per output block (plus a tree of
//! combine tasks per reduction), each keyed by (expression node, kind, block index), with
//! its dependencies. Tasks are stored in topological order in flat arrays (dependencies in
//! one shared vector), so a task costs a few dozen bytes and no allocation of its own.
//!
//! **Architecture invariant:** a task's dependencies have smaller ids than the task, and
//! everything a task needs besides its inputs' values is derived from its node (the
//! expression node and its lowering side table) and its block index.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::slice::AxisPiece;
use crate::token::Token;

/// Index of a task in its graph.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub u32);

impl TaskId {
    /// As an index into per-task vectors.
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

/// Index of a lowered expression node in its graph.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// What a task computes, given its node and block index.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// One block of the node's output; `index` is the block's linear (C-order) position in
    /// the node's chunk grid. Dependencies by op: none for sources; one block per input
    /// (broadcast axes use block 0) for elementwise ops; the one input block it comes from
    /// for slice, transpose, insert_axis and broadcast_to; every overlapping input block,
    /// in C order, for rechunk.
    Block,
    /// A reduction's per-block step: the partial state of input block `index`.
    ReducePartial,
    /// The partial states of two blocks of a fused reduction's 2-d grid that read the same
    /// input blocks, each across the other's layout (grid blocks (i, j) and (j, i) of
    /// `(x + x.t()).sum()`), computed together so each shared block is read from memory
    /// once: grid block `index` (the one the lowering met first) and its
    /// [mirror](crate::ChunkGrid::mirror).
    /// Dependencies: the partial's of block `index`, then the mirror's. Its value is a
    /// pair of states that two `ReducePick` tasks take apart.
    ReducePair,
    /// A reduction's per-block step taken from a `ReducePair`: the partial state of grid
    /// block `index`, one of the pair's; its one dependency is the pair task.
    ReducePick,
    /// A reduction's combine step at tree `level` (1, 2, ...): merges a group of partial
    /// states; `index = out_block * groups_at_level + group`.
    ReduceCombine {
        /// Tree level, 1 for the first combine above the partials.
        level: u16,
    },
    /// A reduction's final step: merges the last group and produces output block `index`.
    ReduceFinal,
}

/// One task: its node, kind and block index; dependencies are looked up in the graph.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// The node it computes part of.
    pub node: NodeId,
    /// What it computes.
    pub kind: TaskKind,
    /// Which part (see [`TaskKind`]).
    pub index: u64,
    deps_start: u32,
    deps_len: u32,
}

/// Per-node facts computed while lowering that tasks need at run time.
#[derive(Clone, Debug, Default)]
pub enum NodeAux {
    /// Nothing beyond the expression.
    #[default]
    None,
    /// For a slice: per input axis that is sliced by a range or index, the input block and
    /// local range of each output block along that axis.
    Slice(Arc<[Vec<AxisPiece>]>),
    /// For a reduction: how the partial states are grouped.
    Reduce(ReduceLayout),
}

/// The shape of a reduction's combine tree.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ReduceLayout {
    /// Partial states per output block (the product of block counts along reduced axes).
    pub group: u64,
    /// Fan-in of each combine task.
    pub split_every: u32,
    /// Number of combine levels below the final task (0: the final task reads partials).
    pub levels: u16,
}

/// A lowered expression node.
#[derive(Clone, Debug)]
pub struct GraphNode {
    /// The expression node.
    pub expr: Expr,
    /// Facts for its tasks.
    pub aux: NodeAux,
}

/// A requested result: the tasks producing its blocks, in C order of its chunk grid.
#[derive(Clone, Debug)]
pub struct GraphOutput {
    /// The node whose value is requested.
    pub node: NodeId,
    /// One task per block of that node.
    pub tasks: Vec<TaskId>,
}

/// A deterministic, content-based task key: the same on every process that builds the same
/// expression.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct TaskKey {
    /// The node's token.
    pub token: Token,
    /// The task's kind.
    pub kind: TaskKind,
    /// The task's index.
    pub index: u64,
}

/// The lowered graph. Build it with [`TaskGraphBuilder`].
#[derive(Clone, Debug, Default)]
pub struct TaskGraph {
    nodes: Vec<GraphNode>,
    tasks: Vec<Task>,
    deps: Vec<TaskId>,
    outputs: Vec<GraphOutput>,
    /// Per task, whether it hands its value straight to its only dependent (see
    /// [`TaskGraph::hands_off`]); empty when no task does.
    hand_offs: Vec<bool>,
}

/// Builds a [`TaskGraph`] task by task, in topological order.
#[derive(Default)]
pub struct TaskGraphBuilder {
    graph: TaskGraph,
}

impl TaskGraphBuilder {
    /// An empty builder.
    pub fn new() -> TaskGraphBuilder {
        TaskGraphBuilder::default()
    }

    /// Adds a node.
    pub fn add_node(&mut self, expr: Expr, aux: NodeAux) -> NodeId {
        self.graph.nodes.push(GraphNode { expr, aux });
        NodeId((self.graph.nodes.len() - 1) as u32)
    }

    /// Adds a task whose dependencies were added before it.
    pub fn add_task(&mut self, node: NodeId, kind: TaskKind, index: u64, deps: &[TaskId]) -> TaskId {
        let g = &mut self.graph;
        let id = TaskId(g.tasks.len() as u32);
        debug_assert!(deps.iter().all(|d| d.0 < id.0), "dependencies must come first");
        g.tasks.push(Task { node, kind, index, deps_start: g.deps.len() as u32, deps_len: deps.len() as u32 });
        g.deps.extend_from_slice(deps);
        id
    }

    /// Number of tasks so far.
    pub fn n_tasks(&self) -> usize {
        self.graph.tasks.len()
    }

    /// Declares a requested result.
    pub fn add_output(&mut self, node: NodeId, tasks: Vec<TaskId>) {
        self.graph.outputs.push(GraphOutput { node, tasks });
    }

    /// The graph.
    pub fn finish(self) -> TaskGraph {
        self.graph
    }
}

impl TaskGraph {
    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether there are no tasks.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// All tasks, in topological order.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// One task.
    pub fn task(&self, id: TaskId) -> &Task {
        &self.tasks[id.idx()]
    }

    /// A task's dependencies, in the order its computation reads them.
    pub fn deps(&self, id: TaskId) -> &[TaskId] {
        let t = &self.tasks[id.idx()];
        &self.deps[t.deps_start as usize..(t.deps_start + t.deps_len) as usize]
    }

    /// All nodes.
    pub fn nodes(&self) -> &[GraphNode] {
        &self.nodes
    }

    /// One node.
    pub fn node(&self, id: NodeId) -> &GraphNode {
        &self.nodes[id.0 as usize]
    }

    /// The node a task belongs to.
    pub fn node_of(&self, id: TaskId) -> &GraphNode {
        self.node(self.task(id).node)
    }

    /// The requested results.
    pub fn outputs(&self) -> &[GraphOutput] {
        &self.outputs
    }

    /// The bytes the graph's tasks take on the heap: tasks, dependency lists, hand-off
    /// marks and output lists (nodes are per expression node, not per task, and left out).
    pub fn task_bytes(&self) -> usize {
        let outputs: usize = self.outputs.iter().map(|o| o.tasks.len()).sum();
        self.tasks.len() * std::mem::size_of::<Task>()
            + (self.deps.len() + outputs) * std::mem::size_of::<TaskId>()
            + self.hand_offs.len()
    }

    /// Per task, whether it is a link of a linear chain: it has exactly one reader, that
    /// reader reads nothing else, and it is not an output block.
    pub fn linear_links(&self) -> Vec<bool> {
        let n = self.tasks.len();
        let (offsets, targets) = self.dependents();
        let mut is_output = vec![false; n];
        for t in self.outputs.iter().flat_map(|o| &o.tasks) {
            is_output[t.idx()] = true;
        }
        (0..n)
            .map(|i| {
                let readers = &targets[offsets[i] as usize..offsets[i + 1] as usize];
                readers.len() == 1 && self.deps(readers[0]).len() == 1 && !is_output[i]
            })
            .collect()
    }

    /// Whether task `id` hands its value straight to its only dependent, which runs right
    /// after it on the same thread (a link of a linear chain, as `FuseLinear` marks them):
    /// the value is never stored, queued or counted as held between the two.
    pub fn hands_off(&self, id: TaskId) -> bool {
        self.hand_offs.get(id.idx()).copied().unwrap_or(false)
    }

    /// The graph with every chain link (see [`TaskGraph::linear_links`]) handing off its
    /// value. Passes that renumber or remove tasks drop the marks.
    pub fn with_linear_hand_offs(mut self) -> TaskGraph {
        let links = self.linear_links();
        self.hand_offs = if links.iter().any(|&m| m) { links } else { Vec::new() };
        self
    }

    /// For each task, the tasks that read it, as CSR arrays: the dependents of task `i` are
    /// `targets[offsets[i]..offsets[i + 1]]`.
    pub fn dependents(&self) -> (Vec<u32>, Vec<TaskId>) {
        let n = self.tasks.len();
        let mut offsets = vec![0u32; n + 1];
        for d in &self.deps {
            offsets[d.idx() + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut targets = vec![TaskId(0); self.deps.len()];
        for (i, t) in self.tasks.iter().enumerate() {
            for d in &self.deps[t.deps_start as usize..(t.deps_start + t.deps_len) as usize] {
                targets[fill[d.idx()] as usize] = TaskId(i as u32);
                fill[d.idx()] += 1;
            }
        }
        (offsets, targets)
    }

    /// The task's deterministic key.
    pub fn key(&self, id: TaskId) -> TaskKey {
        let t = self.task(id);
        TaskKey { token: self.node(t.node).expr.token(), kind: t.kind, index: t.index }
    }

    /// The task's key as text, Dask style: `add-1a2b3c4d(0, 1)`, `sum-…:partial(3, 0)`,
    /// `sum-…:combine1(2)`.
    pub fn key_string(&self, id: TaskId) -> String {
        let t = self.task(id);
        let expr = &self.node(t.node).expr;
        let name = expr.key_name();
        let tuple = |idx: Vec<usize>| {
            let parts: Vec<String> = idx.iter().map(usize::to_string).collect();
            format!("({})", parts.join(", "))
        };
        match t.kind {
            TaskKind::Block | TaskKind::ReduceFinal => format!("{name}{}", tuple(expr.chunks().unravel(t.index))),
            TaskKind::ReducePartial | TaskKind::ReducePair | TaskKind::ReducePick => {
                // A partial reduces one block of the input, or of a fused kernel's grid.
                let space = match expr.op() {
                    crate::op::Op::Fused { grid, .. } => grid,
                    _ => expr.inputs()[0].chunks(),
                };
                let what = match t.kind {
                    TaskKind::ReducePair => "pair",
                    TaskKind::ReducePick => "pick",
                    _ => "partial",
                };
                format!("{name}:{what}{}", tuple(space.unravel(t.index)))
            }
            TaskKind::ReduceCombine { level } => format!("{name}:combine{level}({})", t.index),
        }
    }

    /// Estimated bytes of the value a task produces (the block it computes; a partial
    /// state counts as its block of accumulators).
    pub fn task_nbytes(&self, id: TaskId) -> usize {
        let t = self.task(id);
        let expr = &self.node(t.node).expr;
        let block_bytes = |grid: &crate::chunks::ChunkGrid, dtype: crate::dtype::DType, idx: u64| {
            grid.block_shape(&grid.unravel(idx)).iter().product::<usize>() * dtype.size()
        };
        let state_bytes = || expr.chunks().max_block_shape().iter().product::<usize>() * expr.dtype().size();
        match t.kind {
            TaskKind::Block | TaskKind::ReduceFinal => block_bytes(expr.chunks(), expr.dtype(), t.index),
            TaskKind::ReducePartial | TaskKind::ReducePick | TaskKind::ReduceCombine { .. } => state_bytes(),
            TaskKind::ReducePair => 2 * state_bytes(),
        }
    }

    /// Keeps the tasks marked in `keep` (which must include the dependencies of every kept
    /// task and every output task), renumbering them in the same order.
    pub fn retain(&self, keep: &[bool]) -> TaskGraph {
        let mut remap = vec![u32::MAX; self.tasks.len()];
        let mut out = TaskGraphBuilder::new();
        out.graph.nodes = self.nodes.clone();
        let mut deps = Vec::new();
        for (i, t) in self.tasks.iter().enumerate() {
            if !keep[i] {
                continue;
            }
            deps.clear();
            deps.extend(self.deps(TaskId(i as u32)).iter().map(|d| TaskId(remap[d.idx()])));
            remap[i] = out.add_task(t.node, t.kind, t.index, &deps).0;
        }
        for o in &self.outputs {
            out.add_output(o.node, o.tasks.iter().map(|t| TaskId(remap[t.idx()])).collect());
        }
        out.finish()
    }

    /// Checks the graph's invariants: dependencies come first and exist, outputs exist and
    /// have one task per block. Names the first violation.
    pub fn verify(&self) -> Result<()> {
        for (i, t) in self.tasks.iter().enumerate() {
            if t.node.0 as usize >= self.nodes.len() {
                return Err(Error::internal(format!("task t{i} refers to missing node {}", t.node.0)));
            }
            for d in self.deps(TaskId(i as u32)) {
                if d.idx() >= i {
                    return Err(Error::internal(format!(
                        "task t{i} ({}) depends on t{} which does not come before it",
                        self.key_string(TaskId(i as u32)),
                        d.0
                    )));
                }
            }
        }
        for (k, o) in self.outputs.iter().enumerate() {
            let n_blocks = self.node(o.node).expr.chunks().n_blocks();
            if o.tasks.len() as u64 != n_blocks {
                return Err(Error::internal(format!("output {k} has {} tasks for {n_blocks} blocks", o.tasks.len())));
            }
            if let Some(bad) = o.tasks.iter().find(|t| t.idx() >= self.tasks.len()) {
                return Err(Error::internal(format!("output {k} refers to missing task t{}", bad.0)));
            }
        }
        Ok(())
    }

    /// Summary figures: tasks, depth (longest dependency chain), estimated bytes, and the
    /// estimated peak of bytes held when tasks run one at a time in id (priority) order,
    /// each value freed after its last reader (outputs are held to the end).
    pub fn stats(&self) -> GraphStats {
        let n = self.tasks.len();
        let mut depth = vec![0u32; n];
        let mut max_depth = 0;
        let (mut total, mut largest) = (0usize, 0usize);
        let mut readers = vec![0u32; n];
        for d in &self.deps {
            readers[d.idx()] += 1;
        }
        let mut is_output = vec![false; n];
        for t in self.outputs.iter().flat_map(|o| &o.tasks) {
            is_output[t.idx()] = true;
        }
        let nbytes: Vec<usize> = (0..n).map(|i| self.task_nbytes(TaskId(i as u32))).collect();
        let (mut held, mut peak) = (0usize, 0usize);
        for i in 0..n {
            let id = TaskId(i as u32);
            let d = 1 + self.deps(id).iter().map(|d| depth[d.idx()]).max().unwrap_or(0);
            depth[i] = d;
            max_depth = max_depth.max(d);
            total = total.saturating_add(nbytes[i]);
            largest = largest.max(nbytes[i]);
            held = held.saturating_add(nbytes[i]);
            peak = peak.max(held);
            for dep in self.deps(id) {
                let j = dep.idx();
                readers[j] -= 1;
                if readers[j] == 0 && !is_output[j] {
                    held -= nbytes[j];
                }
            }
            if readers[i] == 0 && !is_output[i] {
                held -= nbytes[i];
            }
        }
        GraphStats { tasks: n, depth: max_depth as usize, bytes: total, largest_chunk: largest, peak_bytes: peak }
    }
}

/// Summary figures of a [`TaskGraph`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct GraphStats {
    /// Number of tasks.
    pub tasks: usize,
    /// Longest chain of dependent tasks.
    pub depth: usize,
    /// Estimated bytes all tasks produce together.
    pub bytes: usize,
    /// Estimated bytes of the largest task result.
    pub largest_chunk: usize,
    /// Estimated most bytes held at once when tasks run one at a time in priority order.
    pub peak_bytes: usize,
}

impl fmt::Display for GraphStats {
    /// `400 tasks, depth 5, 3.2 GB produced, peak 320.0 MB held, largest chunk 32.0 MB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tasks, depth {}, {} produced, peak {} held, largest chunk {}",
            self.tasks,
            self.depth,
            fmt_bytes(self.bytes),
            fmt_bytes(self.peak_bytes),
            fmt_bytes(self.largest_chunk)
        )
    }
}

/// Bytes for people: `512 B`, `8.0 kB`, `3.2 GB` (powers of 1000, as Dask prints them).
pub fn fmt_bytes(b: usize) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 { format!("{b} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

impl fmt::Display for TaskGraph {
    /// One line per task: `t3 = add-1a2b3c4d(0, 1) <- t0, t2`, ending in ` =>` when it hands
    /// its value off to its dependent; outputs listed at the end.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in 0..self.tasks.len() {
            let id = TaskId(i as u32);
            write!(f, "t{i} = {}", self.key_string(id))?;
            let deps = self.deps(id);
            if !deps.is_empty() {
                let d: Vec<String> = deps.iter().map(|d| format!("t{}", d.0)).collect();
                write!(f, " <- {}", d.join(", "))?;
            }
            if self.hands_off(id) {
                f.write_str(" =>")?;
            }
            writeln!(f)?;
        }
        for (k, o) in self.outputs.iter().enumerate() {
            let t: Vec<String> = o.tasks.iter().map(|t| format!("t{}", t.0)).collect();
            writeln!(f, "out{k} = [{}]", t.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_for_people() {
        assert_eq!(fmt_bytes(512), "512 B");
        assert_eq!(fmt_bytes(8_000), "8.0 kB");
        assert_eq!(fmt_bytes(3_200_000_000), "3.2 GB");
    }
}
