//! The verifier: invariants of expressions (each node's metadata follows from its op and
//! its inputs' metadata) and of task graphs (dependencies come first, tasks fit their
//! node, outputs have one task per block), plus the output signature every graph pass must
//! keep. The pipeline runs it after every pass when `PassOptions::verify` is set, and names
//! the pass that broke an invariant.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use kiln_ir::{
    AxisChunks, ChunkGrid, DType, Expr, Kernel, KernelOutput, NodeAux, Op, Shape, SliceElem, TaskGraph, TaskId,
    TaskKind,
};

use crate::lower::combine_levels;

/// Checks every node reachable from `roots` with [`check_node`]; names the first bad one.
pub fn verify_exprs(roots: &[Expr]) -> Result<(), String> {
    for (i, e) in Expr::topo_order(roots).iter().enumerate() {
        check_node(e).map_err(|msg| format!("node %{i} ({}): {msg}", e.op().name()))?;
    }
    Ok(())
}

/// Checks that one node's metadata follows from its op and its inputs' metadata: arity,
/// dtype, shape, and the chunk alignment lowering relies on. Costs O(ndim + inputs), plus
/// one step per block along a strided slice's axes.
pub fn check_node(e: &Expr) -> Result<(), String> {
    let meta = e.meta();
    if meta.chunks.shape() != meta.shape {
        return Err(format!("chunks {} do not cover shape {}", meta.chunks, meta.shape));
    }
    let inputs = e.inputs();
    let arity = match e.op() {
        op if op.is_source() => 0,
        Op::Binary(_) => 2,
        Op::Where => 3,
        Op::Fused { kernel, .. } => kernel.inputs.len(),
        _ => 1,
    };
    if inputs.len() != arity {
        return Err(format!("has {} inputs, expected {arity}", inputs.len()));
    }
    let same_layout = |x: &Expr| -> Result<(), String> {
        if x.chunks() != e.chunks() {
            return Err(format!("chunks {} differ from the input's {}", e.chunks(), x.chunks()));
        }
        Ok(())
    };
    let expect_dtype = |want: DType| -> Result<(), String> {
        if e.dtype() != want {
            return Err(format!("dtype {} should be {want}", e.dtype()));
        }
        Ok(())
    };
    match e.op() {
        Op::FromNpy(src) => {
            if src.shape.as_slice() != &e.shape()[..] || !src.fits() {
                return Err(format!("reads view {src} of shape {:?} for a node of shape {}", src.shape, e.shape()));
            }
            expect_dtype(src.header.dtype)
        }
        op if op.is_source() => Ok(()),
        Op::Unary(u) => {
            same_layout(&inputs[0])?;
            let bool_out = matches!(u, kiln_ir::UnaryOp::Not | kiln_ir::UnaryOp::IsNan);
            expect_dtype(if bool_out { DType::Bool } else { inputs[0].dtype() })
        }
        Op::AsType | Op::Rechunk => {
            if inputs[0].shape() != e.shape() {
                return Err(format!("shape {} differs from the input's {}", e.shape(), inputs[0].shape()));
            }
            if matches!(e.op(), Op::AsType) { same_layout(&inputs[0]) } else { expect_dtype(inputs[0].dtype()) }
        }
        Op::Binary(b) => {
            check_broadcast(e, inputs)?;
            if inputs[0].dtype() != inputs[1].dtype() {
                return Err(format!("operands have dtypes {} and {}", inputs[0].dtype(), inputs[1].dtype()));
            }
            expect_dtype(if b.is_predicate() { DType::Bool } else { inputs[0].dtype() })
        }
        Op::Where => {
            check_broadcast(e, inputs)?;
            if inputs[0].dtype() != DType::Bool {
                return Err(format!("condition has dtype {}, expected bool", inputs[0].dtype()));
            }
            expect_dtype(inputs[1].dtype())?;
            expect_dtype(inputs[2].dtype())
        }
        Op::BroadcastTo => check_broadcast(e, inputs).and_then(|()| expect_dtype(inputs[0].dtype())),
        Op::Reduce { op, axes, keepdims } => {
            let x = &inputs[0];
            if axes.windows(2).any(|w| w[0] >= w[1]) || axes.iter().any(|&k| k >= x.ndim()) {
                return Err(format!("axes {axes:?} are not sorted distinct axes of shape {}", x.shape()));
            }
            let mut want = Vec::new();
            for k in 0..x.ndim() {
                if !axes.contains(&k) {
                    want.push(x.chunks().axis(k).clone());
                } else if *keepdims {
                    want.push(AxisChunks::single(1));
                }
            }
            expect_chunks(e, &ChunkGrid::new(want))?;
            expect_dtype(op.out_dtype(x.dtype()))
        }
        Op::Slice(spec) => {
            let x = &inputs[0];
            let mut k = 0;
            for elem in spec.elems() {
                let len = match elem {
                    SliceElem::NewAxis => continue,
                    _ if k >= x.ndim() => {
                        return Err(format!("slice {spec} has more entries than shape {}", x.shape()));
                    }
                    _ => x.shape()[k],
                };
                let ok = match *elem {
                    SliceElem::Range(r) => r.start <= r.end && r.end <= len && r.step != 0,
                    SliceElem::Index(i) => i < len,
                    SliceElem::NewAxis => true,
                };
                if !ok {
                    return Err(format!("slice {spec} is out of range on axis {k} of shape {}", x.shape()));
                }
                k += 1;
            }
            if k != x.ndim() {
                return Err(format!("slice {spec} covers {k} axes of shape {}", x.shape()));
            }
            expect_chunks(e, &spec.out_chunks(x.chunks()))?;
            expect_dtype(x.dtype())
        }
        Op::Transpose(perm) => {
            let x = &inputs[0];
            let mut seen = vec![false; x.ndim()];
            let valid =
                perm.len() == x.ndim() && perm.iter().all(|&k| k < x.ndim() && !std::mem::replace(&mut seen[k], true));
            if !valid {
                return Err(format!("axes {perm:?} are not a permutation of shape {}", x.shape()));
            }
            expect_chunks(e, &ChunkGrid::new(perm.iter().map(|&k| x.chunks().axis(k).clone()).collect::<Vec<_>>()))?;
            expect_dtype(x.dtype())
        }
        Op::InsertAxis(axis) => {
            let x = &inputs[0];
            if *axis > x.ndim() {
                return Err(format!("axis {axis} is out of range for shape {}", x.shape()));
            }
            let mut want = x.chunks().axes().to_vec();
            want.insert(*axis, AxisChunks::single(1));
            expect_chunks(e, &ChunkGrid::new(want))?;
            expect_dtype(x.dtype())
        }
        Op::Fused { kernel, grid } => check_fused(e, kernel, grid),
        Op::StoreNpy(target) => {
            let x = &inputs[0];
            let h = &target.header;
            if h.dtype != x.dtype() || h.shape.as_slice() != &x.shape()[..] {
                return Err(format!(
                    "stores a {} {} array into a {} {:?} file",
                    x.dtype(),
                    x.shape(),
                    h.dtype,
                    h.shape
                ));
            }
            expect_chunks(e, &ChunkGrid::single(&[]))?;
            expect_dtype(DType::I64)
        }
        _ => Err(format!("unknown op {}", e.op().name())),
    }
}

/// A fused node: a valid kernel over the grid's axes, inputs that line up with the iteration
/// axes they are read along (same chunks, or length 1), and the metadata of the kernel's
/// result (the grid for a map, the grid less the reduced axes for a reduction).
fn check_fused(e: &Expr, kernel: &Kernel, grid: &ChunkGrid) -> Result<(), String> {
    kernel.verify().map_err(|err| err.to_string())?;
    if kernel.ndim as usize != grid.ndim() {
        return Err(format!("a {}-d kernel over the {}-d grid {grid}", kernel.ndim, grid.ndim()));
    }
    for (n, (spec, x)) in kernel.inputs.iter().zip(e.inputs()).enumerate() {
        if spec.dtype != x.dtype() || spec.axes.len() != x.ndim() {
            return Err(format!(
                "input {n} is {} {} but the kernel reads {} axes {:?}",
                x.dtype(),
                x.shape(),
                spec.dtype,
                spec.axes
            ));
        }
        for (j, &a) in spec.axes.iter().enumerate() {
            let axis = grid.axis(a as usize);
            if x.shape()[j] != 1 && x.chunks().axis(j) != axis {
                return Err(format!(
                    "input {n} axis {j} has chunks {} but iteration axis {a} has {axis}",
                    x.chunks().axis(j)
                ));
            }
        }
    }
    let want = match &kernel.output {
        KernelOutput::Map(_) => grid.clone(),
        KernelOutput::Reduce { axes, keepdims, .. } => ChunkGrid::new(
            (0..grid.ndim())
                .filter_map(|k| match axes.contains(&(k as u32)) {
                    false => Some(grid.axis(k).clone()),
                    true => keepdims.then(|| AxisChunks::single(1)),
                })
                .collect::<Vec<_>>(),
        ),
    };
    expect_chunks(e, &want)?;
    let dtype = kernel.out_dtype().map_err(|err| err.to_string())?;
    if e.dtype() != dtype {
        return Err(format!("dtype {} should be {dtype}", e.dtype()));
    }
    Ok(())
}

fn expect_chunks(e: &Expr, want: &ChunkGrid) -> Result<(), String> {
    if e.chunks() != want {
        return Err(format!("chunks {} should be {want}", e.chunks()));
    }
    Ok(())
}

/// NumPy broadcasting as lowering reads it: every input aligns with the node's last axes,
/// and each input axis has the node's length and chunks, or is stretched from length 1.
fn check_broadcast(e: &Expr, inputs: &[Expr]) -> Result<(), String> {
    let mut shape = Shape::scalar();
    for x in inputs {
        shape = Shape::broadcast(e.op().name(), &shape, x.shape()).map_err(|err| err.to_string())?;
    }
    if !matches!(e.op(), Op::BroadcastTo) && shape != *e.shape() {
        return Err(format!("shape {} is not the broadcast shape {shape} of its inputs", e.shape()));
    }
    for (i, x) in inputs.iter().enumerate() {
        let Some(offset) = e.ndim().checked_sub(x.ndim()) else {
            return Err(format!("input {i} has more axes than shape {}", e.shape()));
        };
        for k in 0..x.ndim() {
            let (axis, out) = (x.chunks().axis(k), e.chunks().axis(k + offset));
            // A stretched axis has length 1; any other axis has the node's chunks.
            let aligned = if axis.len() == out.len() { axis == out } else { axis.len() == 1 };
            if !aligned {
                return Err(format!("input {i} axis {k} has chunks {axis} but the node's axis has {out}"));
            }
        }
    }
    Ok(())
}

/// Checks a task graph: `TaskGraph::verify` (dependencies come first, outputs have one task
/// per block), plus every task's kind, index and dependencies fit its node (a reduction's
/// tasks form its tree, a block reads blocks of the node's inputs), and every output task
/// produces a block of the output's node.
pub fn verify_graph(graph: &TaskGraph) -> Result<(), String> {
    graph.verify().map_err(|e| match e {
        kiln_ir::Error::Internal(msg) => msg,
        other => other.to_string(),
    })?;
    // Per node: the combine groups per output block at each tree level.
    let trees: Vec<Vec<u64>> = graph
        .nodes()
        .iter()
        .map(|n| match n.aux {
            NodeAux::Reduce(layout) if layout.split_every >= 2 => {
                let mut groups = vec![layout.group];
                let mut count = layout.group;
                while count > layout.split_every as u64 {
                    count = count.div_ceil(layout.split_every as u64);
                    groups.push(count);
                }
                groups
            }
            _ => Vec::new(),
        })
        .collect();
    for (n, node) in graph.nodes().iter().enumerate() {
        if let (Op::Slice(_), NodeAux::Slice(pieces)) = (node.expr.op(), &node.aux)
            && pieces.len() != node.expr.inputs()[0].ndim()
        {
            return Err(format!("slice node {n} has a side table for {} axes", pieces.len()));
        }
        if matches!(node.expr.op(), Op::Slice(_)) != matches!(node.aux, NodeAux::Slice(_)) {
            return Err(format!("node {n} ({}) has the wrong kind of side table", node.expr.op().name()));
        }
    }
    for (i, task) in graph.tasks().iter().enumerate() {
        let id = TaskId(i as u32);
        check_task(graph, id, &trees[task.node.0 as usize])
            .map_err(|msg| format!("task t{i} ({}): {msg}", graph.key_string(id)))?;
    }
    for (k, out) in graph.outputs().iter().enumerate() {
        for (b, &t) in out.tasks.iter().enumerate() {
            let task = graph.task(t);
            let produces = task.node == out.node
                && task.index == b as u64
                && matches!(task.kind, TaskKind::Block | TaskKind::ReduceFinal);
            if !produces {
                return Err(format!("output {k} block {b} is task t{} ({})", t.0, graph.key_string(t)));
            }
        }
    }
    Ok(())
}

fn check_task(graph: &TaskGraph, id: TaskId, tree: &[u64]) -> Result<(), String> {
    let task = graph.task(id);
    let node = graph.node(task.node);
    let expr = &node.expr;
    let deps = graph.deps(id);
    let n_blocks = expr.chunks().n_blocks();
    let is_reduce = match expr.op() {
        Op::Reduce { .. } | Op::StoreNpy(_) => true,
        Op::Fused { kernel, .. } => matches!(kernel.output, KernelOutput::Reduce { .. }),
        _ => false,
    };
    let reads = |dep: TaskId, input: &Expr, kinds: &[TaskKind]| -> Result<(), String> {
        let d = graph.task(dep);
        if graph.node(d.node).expr != *input || !kinds.contains(&d.kind) {
            return Err(format!("depends on t{} ({}), not on its input", dep.0, graph.key_string(dep)));
        }
        Ok(())
    };
    let block_of = [TaskKind::Block, TaskKind::ReduceFinal];
    match task.kind {
        TaskKind::Block => {
            if is_reduce || task.index >= n_blocks {
                return Err(format!("is not a block of a {} node with {n_blocks} blocks", expr.op().name()));
            }
            let inputs = expr.inputs();
            match expr.op() {
                Op::Fused { kernel, grid } => check_fused_deps(graph, deps, expr, kernel, grid, task.index),
                Op::Rechunk => {
                    if deps.is_empty() {
                        return Err("reads no input block".into());
                    }
                    deps.iter().try_for_each(|&d| reads(d, &inputs[0], &block_of))
                }
                _ => {
                    if deps.len() != inputs.len() {
                        return Err(format!("has {} dependencies for {} inputs", deps.len(), inputs.len()));
                    }
                    deps.iter().zip(inputs).try_for_each(|(&d, x)| reads(d, x, &block_of))
                }
            }
        }
        TaskKind::ReducePartial
        | TaskKind::ReducePair
        | TaskKind::ReducePick
        | TaskKind::ReduceCombine { .. }
        | TaskKind::ReduceFinal => {
            let NodeAux::Reduce(layout) = node.aux else {
                return Err(format!("is a reduction task of a {} node without a reduction layout", expr.op().name()));
            };
            if !is_reduce
                || layout.split_every < 2
                || combine_levels(layout.group, layout.split_every as u64) != layout.levels
            {
                return Err(format!("has an inconsistent reduction layout {layout:?}"));
            }
            let fan_in = layout.split_every as usize;
            let same_node = |d: &TaskId| graph.task(*d).node == task.node;
            match task.kind {
                TaskKind::ReducePartial if let Op::Fused { kernel, grid } = expr.op() => {
                    if task.index >= grid.n_blocks() {
                        return Err(format!("is not the partial of one of the {} grid blocks", grid.n_blocks()));
                    }
                    check_fused_deps(graph, deps, expr, kernel, grid, task.index)
                }
                TaskKind::ReducePair => {
                    let Op::Fused { kernel, grid } = expr.op() else {
                        return Err("pairs the partials of a node that is not fused".into());
                    };
                    let mirror = grid.mirror(task.index).filter(|&m| m != task.index);
                    let Some(mirror) = mirror.filter(|_| deps.len() == 2 * expr.inputs().len()) else {
                        return Err("is not a pair of mirrored grid blocks' partials".into());
                    };
                    let (first, second) = deps.split_at(deps.len() / 2);
                    check_fused_deps(graph, first, expr, kernel, grid, task.index)?;
                    check_fused_deps(graph, second, expr, kernel, grid, mirror)
                }
                TaskKind::ReducePick => {
                    let pair = deps.first().map(|&d| graph.task(d)).filter(|_| deps.len() == 1);
                    let Some(pair) = pair.filter(|p| p.kind == TaskKind::ReducePair && p.node == task.node) else {
                        return Err("does not read one pair of its node".into());
                    };
                    let Op::Fused { grid, .. } = expr.op() else {
                        return Err("picks from a node that is not fused".into());
                    };
                    if pair.index != task.index && grid.mirror(pair.index) != Some(task.index) {
                        return Err("picks a block its pair does not hold".into());
                    }
                    Ok(())
                }
                TaskKind::ReducePartial => {
                    let x = &expr.inputs()[0];
                    if task.index >= x.chunks().n_blocks() || deps.len() != 1 {
                        return Err("is not one block's partial".into());
                    }
                    reads(deps[0], x, &block_of)
                }
                TaskKind::ReduceCombine { level } => {
                    let groups = tree.get(level as usize).copied().filter(|_| level >= 1);
                    let Some(groups) = groups else { return Err(format!("level {level} is not in the tree")) };
                    if task.index >= n_blocks * groups || deps.is_empty() || deps.len() > fan_in {
                        return Err(format!("does not combine 1..={fan_in} states of a tree level"));
                    }
                    deps.iter().all(same_node).then_some(()).ok_or_else(|| "combines another node's states".into())
                }
                _ => {
                    if task.index >= n_blocks || deps.is_empty() || deps.len() > fan_in {
                        return Err(format!("does not finish 1..={fan_in} states of an output block"));
                    }
                    deps.iter().all(same_node).then_some(()).ok_or_else(|| "finishes another node's states".into())
                }
            }
        }
    }
}

/// The dependencies of a fused node's task for grid block `index`: for each kernel input in
/// order, the input block whose position along input axis `j` is the grid block's position
/// along iteration axis `axes[j]`, or the block holding element 0 where the input axis has
/// other chunks than the iteration axis (a broadcast length-1 axis).
fn check_fused_deps(
    graph: &TaskGraph,
    deps: &[TaskId],
    expr: &Expr,
    kernel: &Kernel,
    grid: &ChunkGrid,
    index: u64,
) -> Result<(), String> {
    let inputs = expr.inputs();
    if deps.len() != inputs.len() {
        return Err(format!("has {} dependencies for {} inputs", deps.len(), inputs.len()));
    }
    let pos = grid.unravel(index);
    for (n, ((&dep, x), spec)) in deps.iter().zip(inputs).zip(&kernel.inputs).enumerate() {
        let want: Vec<usize> = (spec.axes.iter().enumerate())
            .map(|(j, &a)| {
                let axis = x.chunks().axis(j);
                if axis == grid.axis(a as usize) { pos[a as usize] } else { axis.block_of(0) }
            })
            .collect();
        let want = x.chunks().ravel(&want);
        let d = graph.task(dep);
        let block = matches!(d.kind, TaskKind::Block | TaskKind::ReduceFinal);
        if graph.node(d.node).expr != *x || !block || d.index != want {
            return Err(format!(
                "input {n}: depends on t{} ({}), not on block {want} of its input",
                dep.0,
                graph.key_string(dep)
            ));
        }
    }
    Ok(())
}

/// What a graph pass must not change: per output, its dtype, shape, chunks and a
/// fingerprint of its tasks' keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputSignature {
    outputs: Vec<(DType, Shape, ChunkGrid, Option<u64>)>,
}

impl OutputSignature {
    /// The signature the lowering of `roots` must produce (keys are not known yet).
    pub fn of_roots(roots: &[Expr]) -> OutputSignature {
        let outputs = roots.iter().map(|r| (r.dtype(), r.shape().clone(), r.chunks().clone(), None)).collect();
        OutputSignature { outputs }
    }

    /// The signature of a graph's outputs.
    pub fn of_graph(graph: &TaskGraph) -> OutputSignature {
        let outputs = graph
            .outputs()
            .iter()
            .map(|o| {
                let e = &graph.node(o.node).expr;
                let mut h = DefaultHasher::new();
                for &t in &o.tasks {
                    graph.key(t).hash(&mut h);
                }
                (e.dtype(), e.shape().clone(), e.chunks().clone(), Some(h.finish()))
            })
            .collect();
        OutputSignature { outputs }
    }

    /// Checks that `graph` has this signature (keys compared where both sides know them).
    pub fn check(&self, graph: &TaskGraph) -> Result<(), String> {
        self.check_same(&OutputSignature::of_graph(graph))
    }

    /// Checks that `now` matches this signature (keys compared where both sides know them).
    pub fn check_same(&self, now: &OutputSignature) -> Result<(), String> {
        if now.outputs.len() != self.outputs.len() {
            return Err(format!("the graph has {} outputs, expected {}", now.outputs.len(), self.outputs.len()));
        }
        for (k, (was, is)) in self.outputs.iter().zip(&now.outputs).enumerate() {
            if (&was.0, &was.1, &was.2) != (&is.0, &is.1, &is.2) {
                return Err(format!(
                    "output {k} changed from {}{} chunks={} to {}{} chunks={}",
                    was.0, was.1, was.2, is.0, is.1, is.2
                ));
            }
            if let (Some(a), Some(b)) = (was.3, is.3)
                && a != b
            {
                return Err(format!("output {k} is now produced by tasks with other keys"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use kiln_ir::{Meta, TaskGraphBuilder, UnaryOp};

    #[test]
    fn built_expressions_verify() {
        let x = uniform(&[4, 6], &[2, 3], 1);
        let y = sub(&x, &insert_axis(&reduce(kiln_ir::ReduceOp::Mean, &x, Some(&[1])), 1));
        let z = transpose(&rechunk(&y, &[3, 2]), &[1, 0]);
        assert_eq!(verify_exprs(&[z, broadcast_to(&arange_f64(6, 3), &[2, 6])]), Ok(()));
    }

    #[test]
    fn elementwise_metadata_must_follow_the_inputs() {
        let x = uniform(&[4], &[2], 1);
        let bad_chunks = Meta::new(DType::F64, ChunkGrid::uniform(&[4], &[1]));
        let y = Expr::new(Op::Unary(UnaryOp::Neg), vec![x.clone()], bad_chunks);
        assert_eq!(verify_exprs(&[y]), Err("node %1 (neg): chunks (1×4,) differ from the input's (2×2,)".into()));
        let bad_dtype = Meta::new(DType::I32, x.chunks().clone());
        let y = Expr::new(Op::Unary(UnaryOp::Neg), vec![x.clone()], bad_dtype);
        assert_eq!(check_node(&y), Err("dtype i32 should be f64".into()));
        let bad_shape = Meta::new(DType::F64, ChunkGrid::uniform(&[5], &[2]));
        let y = Expr::new(Op::Binary(kiln_ir::BinaryOp::Add), vec![x.clone(), x], bad_shape);
        assert_eq!(check_node(&y), Err("shape (5,) is not the broadcast shape (4,) of its inputs".into()));
    }

    #[test]
    fn lowered_graphs_verify_and_keep_their_signature() {
        let x = uniform(&[6, 6], &[2, 2], 1);
        let roots = [reduce(kiln_ir::ReduceOp::Sum, &x, Some(&[0])), transpose(&x, &[1, 0])];
        let graph = lower_graph(&roots);
        assert_eq!(verify_graph(&graph), Ok(()));
        assert_eq!(OutputSignature::of_roots(&roots).check(&graph), Ok(()));
        assert_eq!(OutputSignature::of_graph(&graph).check(&graph), Ok(()));
        let other = lower_graph(&[roots[1].clone(), roots[0].clone()]);
        assert!(OutputSignature::of_graph(&graph).check(&other).is_err());
    }

    /// `roots` after exactly the fusion pass.
    fn fused(roots: Vec<Expr>) -> Vec<Expr> {
        use crate::pipeline::ExprPass;
        crate::fuse_blockwise::FuseBlockwise.run(roots, &opts(&[])).unwrap().result
    }

    #[test]
    fn fused_metadata_must_follow_the_kernel() {
        let x = uniform(&[4, 6], &[2, 3], 1);
        let means = insert_axis(&reduce(kiln_ir::ReduceOp::Mean, &x, Some(&[1])), 1);
        let roots = fused(vec![sub(&x, &means), reduce(kiln_ir::ReduceOp::Sum, &exp(&x), Some(&[0]))]);
        assert_eq!(verify_exprs(&roots), Ok(()));
        let (map, red) = (&roots[0], &roots[1]);
        let with_meta = |e: &Expr, meta: Meta| Expr::new(e.op().clone(), e.inputs().to_vec(), meta);
        let bad_chunks = Meta::new(DType::F64, ChunkGrid::uniform(&[4, 6], &[4, 3]));
        assert_eq!(check_node(&with_meta(map, bad_chunks)), Err("chunks (4, 3×2) should be (2×2, 3×2)".into()));
        let bad_dtype = Meta::new(DType::F32, red.chunks().clone());
        assert_eq!(check_node(&with_meta(red, bad_dtype)), Err("dtype f32 should be f64".into()));
        let misaligned = rechunk(&map.inputs()[0], &[1]);
        let y = Expr::new(map.op().clone(), vec![misaligned], map.meta().clone());
        assert_eq!(check_node(&y), Err("input 0 axis 0 has chunks 1×4 but iteration axis 0 has 2×2".into()));
        let none = Expr::new(map.op().clone(), vec![], map.meta().clone());
        assert_eq!(check_node(&none), Err("has 0 inputs, expected 1".into()));
    }

    #[test]
    fn fused_tasks_must_read_the_blocks_their_axes_map_to() {
        let x = uniform(&[4, 6], &[2, 3], 1);
        let means = insert_axis(&reduce(kiln_ir::ReduceOp::Mean, &x, Some(&[1])), 1);
        let roots = fused(vec![sub(&x, &means), reduce(kiln_ir::ReduceOp::Max, &mul(&x, &means), Some(&[1]))]);
        let graph = lower_graph(&roots);
        assert_eq!(verify_graph(&graph), Ok(()));
        // The last task of the subtraction kernel now reads the first row's means instead of
        // its own row's (the column of means, which both kernels read, is materialized).
        let last = graph.tasks().iter().rposition(|t| graph.node(t.node).expr == roots[0]).expect("a fused task");
        let mean_tasks: Vec<TaskId> =
            (0..graph.len() as u32).map(TaskId).filter(|&t| graph.node_of(t).expr == roots[0].inputs()[0]).collect();
        let mut b = TaskGraphBuilder::new();
        for n in graph.nodes() {
            b.add_node(n.expr.clone(), n.aux.clone());
        }
        for (i, t) in graph.tasks().iter().enumerate() {
            let mut deps = graph.deps(TaskId(i as u32)).to_vec();
            if i == last {
                deps = vec![mean_tasks[0]];
            }
            b.add_task(t.node, t.kind, t.index, &deps);
        }
        for o in graph.outputs() {
            b.add_output(o.node, o.tasks.clone());
        }
        let err = verify_graph(&b.finish()).unwrap_err();
        assert!(err.contains("input 0: depends on t") && err.ends_with("not on block 1 of its input"), "{err}");
    }

    #[test]
    fn tasks_must_fit_their_node() {
        let x = uniform(&[4], &[2], 1);
        let y = exp(&x);
        let mut b = TaskGraphBuilder::new();
        let nx = b.add_node(x, NodeAux::None);
        let ny = b.add_node(y, NodeAux::None);
        let t0 = b.add_task(nx, TaskKind::Block, 0, &[]);
        let t1 = b.add_task(nx, TaskKind::Block, 1, &[]);
        let e0 = b.add_task(ny, TaskKind::Block, 0, &[t0]);
        let e1 = b.add_task(ny, TaskKind::Block, 1, &[e0]);
        b.add_output(ny, vec![e0, e1]);
        let _ = t1;
        let err = verify_graph(&b.finish()).unwrap_err();
        assert!(err.starts_with("task t3 (exp-"), "{err}");
        assert!(err.ends_with("not on its input"), "{err}");
    }
}
