//! Lowering: turns expression roots into one task graph. Each expression node becomes one
//! graph node (a node shared by several consumers or roots is lowered once) with one task
//! per output block, or a tree of tasks for a reduction; each root becomes one graph output.
//! One file per op family holds its dependency rules, which are a contract with the kernel
//! interpreter (see `kiln_ir::TaskKind`).
//!
//! **Architecture invariant:** lowering is the only per-block work of the compiler. It walks
//! the expression iteratively, computes per-node facts once per node, and allocates nothing
//! per task (index buffers are reused; no map is keyed by task).

mod blockwise;
mod fused;
mod index;
mod layout;
mod rechunk;
mod reduce;
mod slice;

use std::collections::HashMap;

use kiln_ir::{Expr, NodeAux, NodeId, Op, TaskGraph, TaskGraphBuilder, TaskId, TaskKind};

use crate::pipeline::PassOutcome;
use crate::verify::check_node;
use crate::{Error, PassOptions, Result};
use index::{BlockMap, Odometer};
pub(crate) use reduce::combine_levels;

/// The lowering pass: expressions in, task graph out. It always runs (it cannot be
/// disabled); it does not remove unused tasks or choose an execution order (see `Cull` and
/// `Order`).
pub struct Lower;

impl Lower {
    /// The pass's name, as `explain` and `PassRecord` show it.
    pub const NAME: &'static str = "lower";

    /// The pass's name (`"lower"`).
    pub fn name(&self) -> &'static str {
        Self::NAME
    }

    /// Lowers `roots` into one graph with one output per root, in root order.
    pub fn run(&self, roots: &[Expr], opts: &PassOptions) -> Result<PassOutcome<TaskGraph>> {
        let graph = lower(roots, opts.split_every)?;
        let summary = format!("{} nodes → {} tasks", graph.nodes().len(), graph.len());
        Ok(PassOutcome { result: graph, changed: true, summary, details: String::new() })
    }
}

/// The largest number of tasks one graph can hold (task ids are `u32`).
pub const MAX_TASKS: u64 = u32::MAX as u64;

/// A lowered node: its graph node and the tasks producing its output blocks, in C order of
/// its chunk grid (a reduction's final tasks).
pub(crate) struct Lowered {
    node: NodeId,
    blocks: Vec<TaskId>,
}

/// Lowers `roots` with reduction fan-in `split_every`.
fn lower(roots: &[Expr], split_every: usize) -> Result<TaskGraph> {
    if split_every < 2 {
        return Err(kiln_ir::Error::invalid("split_every", format!("must be at least 2, not {split_every}")).into());
    }
    let order = Expr::topo_order(roots);
    let mut position: HashMap<usize, usize> = HashMap::with_capacity(order.len());
    for (i, e) in order.iter().enumerate() {
        position.insert(e.addr(), i);
    }
    // Check every node before emitting anything: lowering indexes input blocks by the
    // metadata, so inconsistent metadata must become an error here, not a panic below.
    let mut n_tasks = 0u64;
    let mut uses = vec![0u32; order.len()];
    for (i, e) in order.iter().enumerate() {
        check_node(e)
            .map_err(|msg| kiln_ir::Error::internal(format!("cannot lower node %{i} ({}): {msg}", e.op().name())))?;
        n_tasks = n_tasks.saturating_add(node_tasks(e, split_every as u64));
        for x in e.inputs() {
            uses[position[&x.addr()]] += 1;
        }
    }
    if n_tasks > MAX_TASKS {
        return Err(kiln_ir::Error::invalid(
            "lower",
            format!("the expression needs {n_tasks} tasks, more than the {MAX_TASKS} one task graph can hold; use larger chunks"),
        )
        .into());
    }
    let mut is_root = vec![false; order.len()];
    for r in roots {
        is_root[position[&r.addr()]] = true;
    }

    let mut b = TaskGraphBuilder::new();
    let mut nodes: Vec<NodeId> = Vec::with_capacity(order.len());
    let mut blocks: Vec<Vec<TaskId>> = Vec::with_capacity(order.len());
    let mut input_pos: Vec<usize> = Vec::new();
    for e in &order {
        input_pos.clear();
        input_pos.extend(e.inputs().iter().map(|x| position[&x.addr()]));
        let inputs: Vec<&[TaskId]> = input_pos.iter().map(|&j| blocks[j].as_slice()).collect();
        let lowered = match e.op() {
            op if op.is_source() || op.is_elementwise() => blockwise::lower_blockwise(&mut b, e, &inputs),
            Op::Reduce { axes, .. } => reduce::lower_reduce(&mut b, e, axes, split_every, &inputs),
            // A store is a reduction over every axis: one write task per input block.
            Op::StoreNpy(_) => {
                let all: Vec<usize> = (0..e.inputs()[0].ndim()).collect();
                reduce::lower_reduce(&mut b, e, &all, split_every, &inputs)
            }
            Op::Slice(spec) => slice::lower_slice(&mut b, e, spec, &inputs)?,
            Op::Transpose(_) | Op::InsertAxis(_) | Op::BroadcastTo => layout::lower_layout(&mut b, e, &inputs),
            Op::Rechunk => rechunk::lower_rechunk(&mut b, e, &inputs),
            Op::Fused { kernel, grid } => fused::lower_fused(&mut b, e, kernel, grid, split_every, &inputs),
            other => {
                return Err(Error::Verify { pass: "lower", message: format!("no lowering for op {}", other.name()) });
            }
        };
        nodes.push(lowered.node);
        blocks.push(lowered.blocks);
        // Free the block lists nobody will read again (only roots are read at the end).
        for &j in &input_pos {
            uses[j] -= 1;
            if uses[j] == 0 && !is_root[j] {
                blocks[j] = Vec::new();
            }
        }
    }
    for r in roots {
        let j = position[&r.addr()];
        b.add_output(nodes[j], blocks[j].clone());
    }
    Ok(b.finish())
}

/// Tasks one node lowers to.
fn node_tasks(e: &Expr, split_every: u64) -> u64 {
    let (axes, space) = match (e.op(), fused::fused_reduction(e)) {
        (Op::Reduce { axes, .. }, _) => (axes.to_vec(), e.inputs()[0].chunks()),
        (Op::StoreNpy(_), _) => ((0..e.inputs()[0].ndim()).collect(), e.inputs()[0].chunks()),
        (_, Some((axes, grid))) => (axes, grid),
        _ => return e.chunks().n_blocks(),
    };
    let group: u64 = axes.iter().map(|&k| space.axis(k).n_blocks() as u64).product();
    let per_output = reduce::tree_tasks_per_output(group, split_every);
    space.n_blocks().saturating_add(e.chunks().n_blocks().saturating_mul(per_output))
}

/// Adds `expr` as a node with side table `aux`, and one `Block` task per output block that
/// reads, from each input `i`, the block `maps[i]` maps it to.
pub(crate) fn emit_mapped(
    b: &mut TaskGraphBuilder,
    expr: &Expr,
    aux: NodeAux,
    maps: &[BlockMap],
    inputs: &[&[TaskId]],
) -> Lowered {
    let node = b.add_node(expr.clone(), aux);
    let grid = expr.chunks();
    let n = grid.n_blocks();
    let mut blocks = Vec::with_capacity(n as usize);
    let mut pos = Odometer::new(grid.grid());
    let mut deps = Vec::with_capacity(maps.len());
    for linear in 0..n {
        deps.clear();
        deps.extend(maps.iter().zip(inputs).map(|(m, input)| input[m.at(pos.idx()) as usize]));
        blocks.push(b.add_task(node, TaskKind::Block, linear, &deps));
        pos.advance();
    }
    Lowered { node, blocks }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;

    macro_rules! assert_lowered {
        ($roots:expr, @$expected:literal) => {
            insta::assert_snapshot!(lowered(&$roots), @$expected)
        };
    }

    #[test]
    fn shared_subexpression_is_lowered_once() {
        let x = uniform(&[4], &[2], 1);
        let y = exp(&x);
        assert_lowered!([add(&y, &y)], @"
        t0 = random.uniform-81b158fa(0)
        t1 = random.uniform-81b158fa(1)
        t2 = exp-2cd420e9(0) <- t0
        t3 = exp-2cd420e9(1) <- t1
        t4 = add-ae8174e5(0) <- t2, t2
        t5 = add-ae8174e5(1) <- t3, t3
        out0 = [t4, t5]
        ");
    }

    #[test]
    fn two_roots_share_work() {
        let x = uniform(&[4], &[2], 1);
        let y = exp(&x);
        assert_lowered!([reduce(kiln_ir::ReduceOp::Sum, &y, None), mul(&y, &scalar(2.0))], @"
        t0 = random.uniform-81b158fa(0)
        t1 = random.uniform-81b158fa(1)
        t2 = exp-2cd420e9(0) <- t0
        t3 = exp-2cd420e9(1) <- t1
        t4 = sum-82f803a8:partial(0) <- t2
        t5 = sum-82f803a8:partial(1) <- t3
        t6 = sum-82f803a8() <- t4, t5
        t7 = full-f6284adc()
        t8 = mul-1f5a449a(0) <- t2, t7
        t9 = mul-1f5a449a(1) <- t3, t7
        out0 = [t6]
        out1 = [t8, t9]
        ");
    }

    #[test]
    fn the_same_root_twice_gets_two_outputs() {
        let x = uniform(&[4], &[2], 1);
        assert_lowered!([x.clone(), x], @"
        t0 = random.uniform-81b158fa(0)
        t1 = random.uniform-81b158fa(1)
        out0 = [t0, t1]
        out1 = [t0, t1]
        ");
    }

    #[test]
    fn bad_split_every_is_an_error() {
        let x = uniform(&[4], &[2], 1);
        let opts = crate::PassOptions { split_every: 1, ..Default::default() };
        let err = crate::build_graph(&[x], &opts).unwrap_err();
        assert_eq!(err.to_string(), "split_every: must be at least 2, not 1");
    }

    #[test]
    fn too_many_tasks_is_an_error() {
        let x = uniform(&[1 << 20, 1 << 20], &[1, 1], 1);
        let err = crate::build_graph(&[x], &crate::PassOptions::default()).unwrap_err();
        insta::assert_snapshot!(err.to_string(), @"lower: the expression needs 1099511627776 tasks, more than the 4294967295 one task graph can hold; use larger chunks");
    }

    #[test]
    fn inconsistent_metadata_is_an_error_not_a_panic() {
        let x = uniform(&[4], &[2], 1);
        let wrong = kiln_ir::Meta::new(kiln_ir::DType::F64, kiln_ir::ChunkGrid::uniform(&[4], &[1]));
        let y = kiln_ir::Expr::new(kiln_ir::Op::Unary(kiln_ir::UnaryOp::Neg), vec![x], wrong);
        let err = crate::build_graph(&[y], &crate::PassOptions::default()).unwrap_err();
        insta::assert_snapshot!(err.to_string(), @"internal error: cannot lower node %1 (neg): chunks (1×4,) differ from the input's (2×2,)");
    }
}
