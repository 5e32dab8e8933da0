//! Lowering of `Fused` nodes. A `Map` kernel is one `Block` task per block of its grid; a
//! `Reduce` kernel is a reduction tree like `Reduce` (one `ReducePartial` per grid block,
//! the combine levels, one `ReduceFinal` per output block). Either way a grid block's
//! task reads, for each kernel input in order, the block whose position along input axis
//! `j` is the grid block's position along iteration axis `axes[j]`, or the block holding
//! element 0 where the input is broadcast (a length-1 axis with other chunks).
//!
//! A reduction over a 2-d grid, chunked alike along both axes, whose blocks (i, j) and
//! (j, i) read the same input blocks (`(x + x.t()).sum()`) computes the two partials in one
//! `ReducePair` task (at the block the tree visits first), which reads each shared block
//! once, and a `ReducePick` per block takes its state out of the pair; the trees above are
//! unchanged (along one axis the two blocks belong to different output blocks' trees).

use std::collections::HashMap;

use kiln_ir::{ChunkGrid, Expr, Kernel, KernelOutput, NodeAux, TaskGraphBuilder, TaskId, TaskKind};

use super::index::BlockMap;
use super::{Lowered, emit_mapped, reduce};

/// Per kernel input, the map from a grid block's position to the input block it reads.
fn input_maps(expr: &Expr, kernel: &Kernel, grid: &ChunkGrid) -> Vec<BlockMap> {
    kernel.inputs.iter().zip(expr.inputs()).map(|(spec, x)| BlockMap::along(x.chunks(), &spec.axes, grid)).collect()
}

/// Lowers a fused node running `kernel` over `grid`.
pub(crate) fn lower_fused(
    b: &mut TaskGraphBuilder,
    expr: &Expr,
    kernel: &Kernel,
    grid: &ChunkGrid,
    split_every: usize,
    inputs: &[&[TaskId]],
) -> Lowered {
    let maps = input_maps(expr, kernel, grid);
    match &kernel.output {
        // The node's chunks are the grid (`check_node` made sure).
        KernelOutput::Map(_) => emit_mapped(b, expr, NodeAux::None, &maps, inputs),
        KernelOutput::Reduce { axes, .. } => {
            let axes: Vec<usize> = axes.iter().map(|&a| a as usize).collect();
            // Appends the input blocks grid block `position` reads.
            let deps_at = |position: &[usize], deps: &mut Vec<TaskId>| {
                deps.extend(maps.iter().zip(inputs).map(|(m, input)| input[m.at(position) as usize]));
            };
            // Blocks visited so far (where blocks can pair at all), the pair task of each
            // block whose mirror came first, and buffers reused for every block: its
            // dependencies (then its mirror's), and both sorted.
            let mut visited = vec![false; if grid.mirror(0).is_some() { grid.n_blocks() as usize } else { 0 }];
            let mut pair_of: HashMap<u64, TaskId> = HashMap::new();
            let (mut deps, mut sorted) = (Vec::new(), (Vec::new(), Vec::new()));
            let lowered = reduce::lower_tree(b, expr, grid, &axes, split_every, |b, node, position, linear| {
                if let Some(pair) = pair_of.remove(&linear) {
                    return b.add_task(node, TaskKind::ReducePick, linear, &[pair]);
                }
                deps.clear();
                deps_at(position, &mut deps);
                let n = deps.len();
                let mirror = grid.mirror(linear).filter(|&m| m != linear && !visited[m as usize]);
                if let (Some(m), &[i, j]) = (mirror, position) {
                    visited[linear as usize] = true;
                    deps_at(&[j, i], &mut deps);
                    if same_blocks(deps.split_at(n), &mut sorted) {
                        let pair = b.add_task(node, TaskKind::ReducePair, linear, &deps);
                        pair_of.insert(m, pair);
                        return b.add_task(node, TaskKind::ReducePick, linear, &[pair]);
                    }
                }
                b.add_task(node, TaskKind::ReducePartial, linear, &deps[..n])
            });
            debug_assert!(pair_of.is_empty(), "every pair is picked twice");
            lowered
        }
    }
}

/// Whether two blocks' partials read the same input blocks in another order (as blocks
/// (i, j) and (j, i) of `x + x.t()` do; not blocks reading no input, or only blocks every
/// position reads): then one pass over those blocks can compute both
/// (`TaskKind::ReducePair`). `sorted` is scratch space.
fn same_blocks((a, b): (&[TaskId], &[TaskId]), sorted: &mut (Vec<TaskId>, Vec<TaskId>)) -> bool {
    if a == b {
        return false;
    }
    for (v, from) in [(&mut sorted.0, a), (&mut sorted.1, b)] {
        v.clear();
        v.extend_from_slice(from);
        v.sort_unstable();
    }
    sorted.0 == sorted.1
}

/// The reduced axes and the grid of a fused reduction, or `None` for a map kernel or
/// another op.
pub(crate) fn fused_reduction(expr: &Expr) -> Option<(Vec<usize>, &ChunkGrid)> {
    match expr.op() {
        kiln_ir::Op::Fused { kernel, grid } => match &kernel.output {
            KernelOutput::Reduce { axes, .. } => Some((axes.iter().map(|&a| a as usize).collect(), grid)),
            KernelOutput::Map(_) => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use kiln_ir::{BinaryOp, ReduceOp, UnaryOp, build};

    use crate::fuse_blockwise::FuseBlockwise;
    use crate::pipeline::ExprPass;
    use crate::testing::*;

    /// The lowered graph of `roots` after exactly the fusion pass.
    fn lowered_fused(roots: &[kiln_ir::Expr], split_every: usize) -> String {
        let fused = FuseBlockwise.run(roots.to_vec(), &opts(&[])).expect("fusion failed").result;
        assert!(fused.iter().any(|e| matches!(e.op(), kiln_ir::Op::Fused { .. })), "nothing fused");
        lowered_with(&fused, split_every)
    }

    macro_rules! assert_lowered {
        ($roots:expr, $split_every:expr, @$expected:literal) => {
            insta::assert_snapshot!(lowered_fused(&$roots, $split_every), @$expected)
        };
    }

    #[test]
    fn a_map_kernel_is_one_task_per_block_reading_broadcast_inputs() {
        let x = uniform(&[4, 6], &[2, 3], 1);
        let means = insert_axis(&reduce(ReduceOp::Mean, &x, Some(&[1])), 1);
        assert_lowered!([sub(&x, &means)], 8, @"
        t0 = fused-bdb428ef:partial(0, 0)
        t1 = fused-bdb428ef:partial(0, 1)
        t2 = fused-bdb428ef(0) <- t0, t1
        t3 = fused-bdb428ef:partial(1, 0)
        t4 = fused-bdb428ef:partial(1, 1)
        t5 = fused-bdb428ef(1) <- t3, t4
        t6 = fused-47a7df7e(0, 0) <- t2
        t7 = fused-47a7df7e(0, 1) <- t2
        t8 = fused-47a7df7e(1, 0) <- t5
        t9 = fused-47a7df7e(1, 1) <- t5
        out0 = [t6, t7, t8, t9]
        ");
    }

    #[test]
    fn a_reduce_kernel_is_a_tree_of_partials_over_its_grid() {
        let x = uniform(&[6, 6], &[2, 2], 1);
        let y = build::unary(UnaryOp::Sin, &x).unwrap();
        assert_lowered!([reduce(ReduceOp::Sum, &mul(&y, &y), None)], 4, @"
        t0 = fused-7f8f33b2:partial(0, 0)
        t1 = fused-7f8f33b2:partial(0, 1)
        t2 = fused-7f8f33b2:partial(0, 2)
        t3 = fused-7f8f33b2:partial(1, 0)
        t4 = fused-7f8f33b2:partial(1, 1)
        t5 = fused-7f8f33b2:partial(1, 2)
        t6 = fused-7f8f33b2:partial(2, 0)
        t7 = fused-7f8f33b2:partial(2, 1)
        t8 = fused-7f8f33b2:partial(2, 2)
        t9 = fused-7f8f33b2:combine1(0) <- t0, t1, t2, t3
        t10 = fused-7f8f33b2:combine1(1) <- t4, t5, t6, t7
        t11 = fused-7f8f33b2:combine1(2) <- t8
        t12 = fused-7f8f33b2() <- t9, t10, t11
        out0 = [t12]
        ");
    }

    #[test]
    fn a_reduce_kernel_along_one_axis_reads_its_inputs_per_block() {
        let x = uniform(&[4, 6], &[2, 3], 1);
        let row = exp(&uniform(&[6], &[3], 2));
        let t = build::binary(BinaryOp::Mul, &x, &row).unwrap();
        let r = build::reduce(ReduceOp::Max, &add(&t, &scalar(1.0)), Some(&[0]), true).unwrap();
        assert_lowered!([r], 8, @"
        t0 = fused-6423d8c0(0)
        t1 = fused-6423d8c0(1)
        t2 = fused-a346bacc:partial(0, 0) <- t0
        t3 = fused-a346bacc:partial(1, 0) <- t0
        t4 = fused-a346bacc(0, 0) <- t2, t3
        t5 = fused-a346bacc:partial(0, 1) <- t1
        t6 = fused-a346bacc:partial(1, 1) <- t1
        t7 = fused-a346bacc(0, 1) <- t5, t6
        out0 = [t4, t7]
        ");
    }

    #[test]
    fn transposed_inputs_read_the_mirrored_block() {
        let s = build::unary(UnaryOp::Sin, &uniform(&[4, 6], &[2, 3], 1)).unwrap();
        let st = transpose(&s, &[1, 0]);
        assert_lowered!([add(&st, &scalar(1.0)), s], 8, @"
        t0 = fused-300add45(0, 0)
        t1 = fused-300add45(0, 1)
        t2 = fused-300add45(1, 0)
        t3 = fused-300add45(1, 1)
        t4 = fused-2d5e27f7(0, 0) <- t0
        t5 = fused-2d5e27f7(0, 1) <- t2
        t6 = fused-2d5e27f7(1, 0) <- t1
        t7 = fused-2d5e27f7(1, 1) <- t3
        out0 = [t4, t5, t6, t7]
        out1 = [t0, t1, t2, t3]
        ");
    }

    #[test]
    fn mirrored_blocks_of_a_sum_share_one_pair_task() {
        // Blocks (i, j) and (j, i) of `s + s.t()` read the same two blocks of `s`: one pair
        // task each, picked apart for the tree, which is the tree of the partials.
        let s = build::unary(UnaryOp::Sin, &uniform(&[6, 6], &[2, 2], 1)).unwrap();
        let r = reduce(ReduceOp::Sum, &add(&s, &transpose(&s, &[1, 0])), None);
        assert_lowered!([r, s], 4, @"
        t0 = fused-f0bb20f4(0, 0)
        t1 = fused-f0bb20f4(0, 1)
        t2 = fused-f0bb20f4(0, 2)
        t3 = fused-f0bb20f4(1, 0)
        t4 = fused-f0bb20f4(1, 1)
        t5 = fused-f0bb20f4(1, 2)
        t6 = fused-f0bb20f4(2, 0)
        t7 = fused-f0bb20f4(2, 1)
        t8 = fused-f0bb20f4(2, 2)
        t9 = fused-0629ba5e:partial(0, 0) <- t0, t0
        t10 = fused-0629ba5e:pair(0, 1) <- t1, t3, t3, t1
        t11 = fused-0629ba5e:pick(0, 1) <- t10
        t12 = fused-0629ba5e:pair(0, 2) <- t2, t6, t6, t2
        t13 = fused-0629ba5e:pick(0, 2) <- t12
        t14 = fused-0629ba5e:pick(1, 0) <- t10
        t15 = fused-0629ba5e:partial(1, 1) <- t4, t4
        t16 = fused-0629ba5e:pair(1, 2) <- t5, t7, t7, t5
        t17 = fused-0629ba5e:pick(1, 2) <- t16
        t18 = fused-0629ba5e:pick(2, 0) <- t12
        t19 = fused-0629ba5e:pick(2, 1) <- t16
        t20 = fused-0629ba5e:partial(2, 2) <- t8, t8
        t21 = fused-0629ba5e:combine1(0) <- t9, t11, t13, t14
        t22 = fused-0629ba5e:combine1(1) <- t15, t17, t18, t19
        t23 = fused-0629ba5e:combine1(2) <- t20
        t24 = fused-0629ba5e() <- t21, t22, t23
        out0 = [t24]
        out1 = [t0, t1, t2, t3, t4, t5, t6, t7, t8]
        ");
    }

    #[test]
    fn sums_down_columns_pair_blocks_of_two_trees() {
        // Along axis 0 the trees are columns of blocks: (1, 0) comes before its mirror
        // (0, 1), so its pair does too.
        let s = build::unary(UnaryOp::Sin, &uniform(&[4, 4], &[2, 2], 1)).unwrap();
        let down = reduce(ReduceOp::Sum, &add(&s, &transpose(&s, &[1, 0])), Some(&[0]));
        assert_lowered!([down, s], 8, @"
        t0 = fused-5579db5b(0, 0)
        t1 = fused-5579db5b(0, 1)
        t2 = fused-5579db5b(1, 0)
        t3 = fused-5579db5b(1, 1)
        t4 = fused-fb19ecfd:partial(0, 0) <- t0, t0
        t5 = fused-fb19ecfd:pair(1, 0) <- t2, t1, t1, t2
        t6 = fused-fb19ecfd:pick(1, 0) <- t5
        t7 = fused-fb19ecfd(0) <- t4, t6
        t8 = fused-fb19ecfd:pick(0, 1) <- t5
        t9 = fused-fb19ecfd:partial(1, 1) <- t3, t3
        t10 = fused-fb19ecfd(1) <- t8, t9
        out0 = [t7, t10]
        out1 = [t0, t1, t2, t3]
        ");
    }

    #[test]
    fn unequal_chunks_are_not_paired() {
        let u = build::unary(UnaryOp::Sin, &uniform(&[4, 4], &[2, 1], 1)).unwrap();
        let r = rechunk(&transpose(&u, &[1, 0]), &[2, 1]);
        let graph = lowered_fused(&[reduce(ReduceOp::Sum, &add(&u, &r), None), u], 8);
        assert!(!graph.contains("pair"), "{graph}");
    }
}
