//! GraphViz (DOT) export of task graphs ([`TaskGraph::to_dot`]) and expressions
//! ([`expr_to_dot`]), like Dask's `visualize`: keys as labels, a colour per op, a shape per
//! kind of task, one cluster per expression node. Graphs too large to draw task by task are
//! summarised with one box per expression node instead.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use crate::expr::Expr;
use crate::task_graph::{NodeId, TaskGraph, TaskId, TaskKind};

/// Graphs with more tasks than this are drawn one box per expression node
/// ([`TaskGraph::to_dot`]); GraphViz takes minutes on larger ones and the picture is unreadable.
pub const DOT_TASK_LIMIT: usize = 10_000;

/// Fill colours given to ops in order of first appearance (pastel, readable with black text).
const PALETTE: [&str; 12] = [
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd",
    "#ccebc5", "#ffed6f",
];

/// The fill colour of the `k`-th distinct op (cycling through a 12-colour palette).
pub fn palette_colour(k: usize) -> &'static str {
    PALETTE[k % PALETTE.len()]
}

impl TaskGraph {
    /// The graph in GraphViz DOT: one node per task labelled with its key, coloured by op,
    /// shaped by kind (sources as cylinders, reduction steps as ellipses, other blocks as
    /// boxes; outputs drawn with a double border), grouped in one cluster per expression
    /// node, with an edge from each dependency to its reader. Graphs of more than
    /// [`DOT_TASK_LIMIT`] tasks give the summary form instead (see [`TaskGraph::to_dot_limited`]).
    /// Render with `dot -Tsvg graph.dot -o graph.svg`.
    pub fn to_dot(&self) -> String {
        self.to_dot_limited(DOT_TASK_LIMIT)
    }

    /// [`TaskGraph::to_dot`] with another task limit: above `max_tasks` tasks the output has
    /// one box per expression node (its op, key prefix and task counts by kind) and one edge
    /// per pair of nodes with dependent tasks (labelled with how many task edges it stands
    /// for), and the graph's label says that it is a summary.
    pub fn to_dot_limited(&self, max_tasks: usize) -> String {
        if self.len() > max_tasks { self.summary_dot(max_tasks) } else { self.task_dot() }
    }

    fn task_dot(&self) -> String {
        let colours = op_colours(self.nodes().iter().map(|n| n.expr.op().name()));
        let mut is_output = vec![false; self.len()];
        for t in self.outputs().iter().flat_map(|o| &o.tasks) {
            is_output[t.idx()] = true;
        }
        let mut by_node: Vec<Vec<TaskId>> = vec![Vec::new(); self.nodes().len()];
        for i in 0..self.len() {
            let id = TaskId(i as u32);
            by_node[self.task(id).node.0 as usize].push(id);
        }
        let mut out = header(&format!("kiln task graph: {} tasks", self.len()));
        for (n, tasks) in by_node.iter().enumerate() {
            if tasks.is_empty() {
                continue;
            }
            let expr = &self.node(NodeId(n as u32)).expr;
            let _ = writeln!(out, "  subgraph cluster_n{n} {{");
            let _ =
                writeln!(out, "    label={}; style=dashed; color=gray60; fontcolor=gray30;", quote(&expr.key_name()));
            let colour = colours[expr.op().name()];
            for &id in tasks {
                let task = self.task(id);
                let shape = match task.kind {
                    TaskKind::Block if expr.op().is_source() => "cylinder",
                    TaskKind::Block => "box",
                    TaskKind::ReducePartial
                    | TaskKind::ReducePair
                    | TaskKind::ReducePick
                    | TaskKind::ReduceCombine { .. }
                    | TaskKind::ReduceFinal => "ellipse",
                };
                let border = if is_output[id.idx()] { ", peripheries=2" } else { "" };
                let _ = writeln!(
                    out,
                    "    t{} [label={}, shape={shape}, fillcolor=\"{colour}\"{border}];",
                    id.0,
                    quote(&self.key_string(id))
                );
            }
            out.push_str("  }\n");
        }
        for i in 0..self.len() {
            for d in self.deps(TaskId(i as u32)) {
                let _ = writeln!(out, "  t{} -> t{i};", d.0);
            }
        }
        out.push_str("}\n");
        out
    }

    fn summary_dot(&self, max_tasks: usize) -> String {
        let colours = op_colours(self.nodes().iter().map(|n| n.expr.op().name()));
        let n_nodes = self.nodes().len();
        let mut counts: Vec<BTreeMap<&'static str, usize>> = vec![BTreeMap::new(); n_nodes];
        let mut edges: BTreeMap<(u32, u32), usize> = BTreeMap::new();
        for i in 0..self.len() {
            let id = TaskId(i as u32);
            let task = self.task(id);
            let kind = match task.kind {
                TaskKind::Block => "block",
                TaskKind::ReducePartial => "partial",
                TaskKind::ReducePair => "pair",
                TaskKind::ReducePick => "pick",
                TaskKind::ReduceCombine { .. } => "combine",
                TaskKind::ReduceFinal => "final",
            };
            *counts[task.node.0 as usize].entry(kind).or_default() += 1;
            for d in self.deps(id) {
                let from = self.task(*d).node.0;
                if from != task.node.0 {
                    *edges.entry((from, task.node.0)).or_default() += 1;
                }
            }
        }
        let mut is_output = vec![false; n_nodes];
        for o in self.outputs() {
            is_output[o.node.0 as usize] = true;
        }
        let note = format!(
            "kiln task graph summary: {} tasks exceed the {max_tasks}-task limit of to_dot; one box per expression node",
            self.len()
        );
        let mut out = header(&note);
        let _ = writeln!(out, "  label={}; labelloc=t;", quote(&note));
        for (n, count) in counts.iter().enumerate() {
            let total: usize = count.values().sum();
            if total == 0 {
                continue;
            }
            let expr = &self.node(NodeId(n as u32)).expr;
            let by_kind: Vec<String> = count.iter().map(|(k, c)| format!("{k} {c}")).collect();
            let label = format!(
                "{}\n{} tasks ({})\n{}{}",
                expr.key_name(),
                total,
                by_kind.join(", "),
                expr.dtype(),
                expr.shape()
            );
            let border = if is_output[n] { ", peripheries=2" } else { "" };
            let _ = writeln!(
                out,
                "  n{n} [label={}, shape=box, fillcolor=\"{}\"{border}];",
                quote(&label),
                colours[expr.op().name()]
            );
        }
        for ((from, to), count) in &edges {
            let _ = writeln!(out, "  n{from} -> n{to} [label=\"{count}\"];");
        }
        out.push_str("}\n");
        out
    }
}

/// The expression DAG reachable from `roots` in GraphViz DOT: one node per expression node
/// (its op and parameters, dtype, shape and chunks), coloured by op, with an edge from each
/// input to its user; roots are drawn with a double border.
pub fn expr_to_dot(roots: &[Expr]) -> String {
    let order = Expr::topo_order(roots);
    let colours = op_colours(order.iter().map(|e| e.op().name()));
    let ids: HashMap<usize, usize> = order.iter().enumerate().map(|(i, e)| (e.addr(), i)).collect();
    let mut out = header(&format!("kiln expression: {} nodes", order.len()));
    for (i, e) in order.iter().enumerate() {
        let mut params = Vec::new();
        e.op().write_params(&mut params, e.inputs().first().map_or(0, Expr::ndim));
        let mut label = e.op().name().to_string();
        if !params.is_empty() {
            let _ = write!(label, "({})", params.join(", "));
        }
        let _ = write!(label, "\n{}{}", e.dtype(), e.shape());
        if e.ndim() > 0 {
            let _ = write!(label, "\nchunks={}", e.chunks());
        }
        let border = if roots.iter().any(|r| r.addr() == e.addr()) { ", peripheries=2" } else { "" };
        let shape = if e.op().is_source() { "cylinder" } else { "box" };
        let _ = writeln!(
            out,
            "  e{i} [label={}, shape={shape}, fillcolor=\"{}\"{border}];",
            quote(&label),
            colours[e.op().name()]
        );
    }
    for (i, e) in order.iter().enumerate() {
        for input in e.inputs() {
            let _ = writeln!(out, "  e{} -> e{i};", ids[&input.addr()]);
        }
    }
    out.push_str("}\n");
    out
}

/// The opening of every DOT output: a comment, bottom-to-top layout (inputs at the bottom,
/// as Dask draws them) and filled nodes.
fn header(comment: &str) -> String {
    let mut out = String::from("digraph kiln {\n");
    let _ = writeln!(out, "  // {}", comment.replace('\n', " "));
    out.push_str("  rankdir=BT;\n");
    out.push_str("  node [style=filled, fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  edge [color=gray40, arrowsize=0.6];\n");
    out
}

/// A colour per op name, in order of first appearance.
fn op_colours<'a>(names: impl Iterator<Item = &'a str>) -> HashMap<&'a str, &'static str> {
    let mut colours = HashMap::new();
    for name in names {
        let k = colours.len();
        colours.entry(name).or_insert_with(|| palette_colour(k));
    }
    colours
}

/// `s` as a DOT quoted string: backslashes and quotes escaped, newlines as `\n` (centred
/// lines).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build;
    use crate::chunks::{ChunkAxis, Chunks};
    use crate::scalar::Scalar;
    use crate::task_graph::{NodeAux, TaskGraphBuilder};

    /// Two source blocks, an elementwise block each and one final task reading both.
    fn small_graph() -> TaskGraph {
        let src = build::full(Scalar::F64(1.0), &[4], &Chunks::All(ChunkAxis::Size(2))).unwrap();
        let neg = build::unary(crate::op::UnaryOp::Neg, &src).unwrap();
        let mut b = TaskGraphBuilder::new();
        let n_src = b.add_node(src, NodeAux::None);
        let n_neg = b.add_node(neg, NodeAux::None);
        let s0 = b.add_task(n_src, TaskKind::Block, 0, &[]);
        let s1 = b.add_task(n_src, TaskKind::Block, 1, &[]);
        let m0 = b.add_task(n_neg, TaskKind::Block, 0, &[s0]);
        let m1 = b.add_task(n_neg, TaskKind::Block, 1, &[s1]);
        b.add_output(n_neg, vec![m0, m1]);
        b.finish()
    }

    #[test]
    fn quoting_escapes_quotes_backslashes_and_newlines() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }

    #[test]
    fn task_dot_has_a_node_per_task_and_an_edge_per_dependency() {
        let g = small_graph();
        let dot = g.to_dot();
        assert!(dot.starts_with("digraph kiln {\n") && dot.ends_with("}\n"));
        for i in 0..4 {
            assert!(dot.contains(&format!("  t{i} [label=")), "{dot}");
        }
        assert!(dot.contains("t0 -> t2;") && dot.contains("t1 -> t3;"));
        assert_eq!(dot.matches("cluster_n").count(), 2);
        assert_eq!(dot.matches("shape=cylinder").count(), 2);
        assert_eq!(dot.matches("peripheries=2").count(), 2);
    }

    #[test]
    fn large_graphs_are_summarised_by_node() {
        let g = small_graph();
        let dot = g.to_dot_limited(3);
        assert!(dot.contains("4 tasks exceed the 3-task limit"), "{dot}");
        assert!(dot.contains("n0 -> n1 [label=\"2\"];"), "{dot}");
        assert!(dot.contains("2 tasks (block 2)"), "{dot}");
        assert!(!dot.contains("t0"));
    }

    #[test]
    fn expression_dot_draws_each_node_once() {
        let g = small_graph();
        let root = g.node(NodeId(1)).expr.clone();
        let dot = expr_to_dot(&[root.clone(), root]);
        assert_eq!(dot.matches("[label=").count(), 2, "{dot}");
        assert!(dot.contains("e0 -> e1;"));
        assert!(dot.contains("chunks=(2×2,)"), "{dot}");
    }
}
