//! Lowering of `Fused` nodes. A `Map` kernel is one `Block` task per block of its grid; a
//! `Reduce` kernel is a reduction tree like `Reduce` (one `ReducePartial` per grid block,
//! the combine levels, one `ReduceFinal` per output block). Either way a grid block's
//! task reads, for each kernel input in order, the block whose position along input axis
//! `j` is the grid block's position along iteration axis `axes[j]`, or the block holding
//! element 0 where the input is broadcast (a length-1 axis with other chunks).

use kiln_ir::{ChunkGrid, Expr, Kernel, KernelOutput, NodeAux, TaskGraphBuilder, TaskId};

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
            reduce::lower_tree(b, expr, grid, &axes, split_every, |position, _, deps| {
                deps.extend(maps.iter().zip(inputs).map(|(m, input)| input[m.at(position) as usize]));
            })
        }
    }
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
}
