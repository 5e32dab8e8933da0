//! Lowering of `Reduce` (and of fused map-reduce kernels, which share the tree) into a tree
//! per output block: one `ReducePartial` task per input block, `ReduceCombine` levels
//! merging groups of `split_every` states, and one `ReduceFinal` task per output block.
//! Tasks of one output block are emitted together (partials, then combines level by level,
//! then the final task).

use kiln_ir::{ChunkGrid, Expr, NodeAux, NodeId, ReduceLayout, TaskGraphBuilder, TaskId, TaskKind};

use super::Lowered;
use super::index::{Odometer, block_strides};

/// Number of combine levels for `group` partial states and fan-in `split_every`: how many
/// times the count is divided (rounding up) while it exceeds `split_every`.
pub(crate) fn combine_levels(group: u64, split_every: u64) -> u16 {
    let (mut count, mut levels) = (group, 0u16);
    while count > split_every {
        count = count.div_ceil(split_every);
        levels += 1;
    }
    levels
}

/// Tasks a reduction of `group` partials per output block needs per output block, besides
/// its partials: the combines of every level plus the final task.
pub(crate) fn tree_tasks_per_output(group: u64, split_every: u64) -> u64 {
    let mut count = group;
    let mut tasks = 1;
    while count > split_every {
        count = count.div_ceil(split_every);
        tasks += count;
    }
    tasks
}

/// Lowers a reduction of `expr.inputs()[0]` over `axes`: each partial reads the input block
/// it reduces.
pub(crate) fn lower_reduce(
    b: &mut TaskGraphBuilder,
    expr: &Expr,
    axes: &[usize],
    split_every: usize,
    inputs: &[&[TaskId]],
) -> Lowered {
    let space = expr.inputs()[0].chunks().clone();
    lower_tree(b, expr, &space, axes, split_every, |b, node, _, linear| {
        b.add_task(node, TaskKind::ReducePartial, linear, &[inputs[0][linear as usize]])
    })
}

/// Lowers a reduction over `axes` of an iteration space chunked by `space`: the per-block
/// step of each block of `space` in C order (`partial(builder, node, position, linear)`
/// adds it and returns the task whose value is the block's partial state: a
/// `ReducePartial`, or a `ReducePick` of a `ReducePair`), then the combine tree of each
/// output block and its final task.
pub(crate) fn lower_tree(
    b: &mut TaskGraphBuilder,
    expr: &Expr,
    space: &ChunkGrid,
    axes: &[usize],
    split_every: usize,
    mut partial: impl FnMut(&mut TaskGraphBuilder, NodeId, &[usize], u64) -> TaskId,
) -> Lowered {
    let strides = block_strides(space);
    let (kept, reduced): (Vec<usize>, Vec<usize>) = (0..space.ndim()).partition(|k| !axes.contains(k));
    let group: u64 = reduced.iter().map(|&k| space.axis(k).n_blocks() as u64).product();
    let k = split_every as u64;
    let levels = combine_levels(group, k);
    let layout = ReduceLayout { group, split_every: split_every.min(u32::MAX as usize) as u32, levels };
    let node = b.add_node(expr.clone(), NodeAux::Reduce(layout));

    let n_out = expr.chunks().n_blocks();
    let mut finals = Vec::with_capacity(n_out as usize);
    let mut kept_pos = Odometer::new(kept.iter().map(|&k| space.axis(k).n_blocks()).collect());
    let mut reduced_pos = Odometer::new(reduced.iter().map(|&k| space.axis(k).n_blocks()).collect());
    // Reused for every task: the block position in `space`, and the states of the current
    // level and the next.
    let mut position = vec![0usize; space.ndim()];
    let mut states: Vec<TaskId> = Vec::with_capacity(group.min(1 << 20) as usize);
    let mut next: Vec<TaskId> = Vec::new();
    for o in 0..n_out {
        let base: u64 = kept.iter().zip(kept_pos.idx()).map(|(&k, &i)| i as u64 * strides[k]).sum();
        for (&k, &i) in kept.iter().zip(kept_pos.idx()) {
            position[k] = i;
        }
        states.clear();
        loop {
            let offset: u64 = reduced.iter().zip(reduced_pos.idx()).map(|(&k, &i)| i as u64 * strides[k]).sum();
            for (&k, &i) in reduced.iter().zip(reduced_pos.idx()) {
                position[k] = i;
            }
            let linear = base + offset;
            states.push(partial(b, node, &position, linear));
            if !reduced_pos.advance() {
                break;
            }
        }
        for level in 1..=levels {
            let groups = (states.len() as u64).div_ceil(k);
            next.clear();
            for (g, chunk) in states.chunks(split_every).enumerate() {
                let index = o * groups + g as u64;
                next.push(b.add_task(node, TaskKind::ReduceCombine { level }, index, chunk));
            }
            std::mem::swap(&mut states, &mut next);
        }
        finals.push(b.add_task(node, TaskKind::ReduceFinal, o, &states));
        kept_pos.advance();
    }
    Lowered { node, blocks: finals }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    macro_rules! assert_lowered {
        ($roots:expr, $split_every:expr, @$expected:literal) => {
            insta::assert_snapshot!(lowered_with(&$roots, $split_every), @$expected)
        };
    }

    #[test]
    fn levels_divide_while_above_the_fan_in() {
        assert_eq!(combine_levels(1, 2), 0);
        assert_eq!(combine_levels(2, 2), 0);
        assert_eq!(combine_levels(9, 2), 3); // 9 → 5 → 3 → 2
        assert_eq!(combine_levels(64, 8), 1);
        assert_eq!(combine_levels(65, 8), 2);
        assert_eq!(tree_tasks_per_output(9, 2), 1 + 5 + 3 + 2);
        assert_eq!(tree_tasks_per_output(8, 8), 1);
    }

    #[test]
    fn sum_of_nine_blocks_with_fan_in_two() {
        let x = uniform(&[6, 6], &[2, 2], 1);
        assert_lowered!([reduce(kiln_ir::ReduceOp::Sum, &x, None)], 2, @"
        t0 = random.uniform-09305ffc(0, 0)
        t1 = random.uniform-09305ffc(0, 1)
        t2 = random.uniform-09305ffc(0, 2)
        t3 = random.uniform-09305ffc(1, 0)
        t4 = random.uniform-09305ffc(1, 1)
        t5 = random.uniform-09305ffc(1, 2)
        t6 = random.uniform-09305ffc(2, 0)
        t7 = random.uniform-09305ffc(2, 1)
        t8 = random.uniform-09305ffc(2, 2)
        t9 = sum-53d74e85:partial(0, 0) <- t0
        t10 = sum-53d74e85:partial(0, 1) <- t1
        t11 = sum-53d74e85:partial(0, 2) <- t2
        t12 = sum-53d74e85:partial(1, 0) <- t3
        t13 = sum-53d74e85:partial(1, 1) <- t4
        t14 = sum-53d74e85:partial(1, 2) <- t5
        t15 = sum-53d74e85:partial(2, 0) <- t6
        t16 = sum-53d74e85:partial(2, 1) <- t7
        t17 = sum-53d74e85:partial(2, 2) <- t8
        t18 = sum-53d74e85:combine1(0) <- t9, t10
        t19 = sum-53d74e85:combine1(1) <- t11, t12
        t20 = sum-53d74e85:combine1(2) <- t13, t14
        t21 = sum-53d74e85:combine1(3) <- t15, t16
        t22 = sum-53d74e85:combine1(4) <- t17
        t23 = sum-53d74e85:combine2(0) <- t18, t19
        t24 = sum-53d74e85:combine2(1) <- t20, t21
        t25 = sum-53d74e85:combine2(2) <- t22
        t26 = sum-53d74e85:combine3(0) <- t23, t24
        t27 = sum-53d74e85:combine3(1) <- t25
        t28 = sum-53d74e85() <- t26, t27
        out0 = [t28]
        ");
    }

    #[test]
    fn mean_along_one_axis_has_a_tree_per_output_block() {
        let x = uniform(&[4, 6], &[2, 2], 1);
        assert_lowered!([reduce(kiln_ir::ReduceOp::Mean, &x, Some(&[1]))], 2, @"
        t0 = random.uniform-587fd901(0, 0)
        t1 = random.uniform-587fd901(0, 1)
        t2 = random.uniform-587fd901(0, 2)
        t3 = random.uniform-587fd901(1, 0)
        t4 = random.uniform-587fd901(1, 1)
        t5 = random.uniform-587fd901(1, 2)
        t6 = mean-a439600d:partial(0, 0) <- t0
        t7 = mean-a439600d:partial(0, 1) <- t1
        t8 = mean-a439600d:partial(0, 2) <- t2
        t9 = mean-a439600d:combine1(0) <- t6, t7
        t10 = mean-a439600d:combine1(1) <- t8
        t11 = mean-a439600d(0) <- t9, t10
        t12 = mean-a439600d:partial(1, 0) <- t3
        t13 = mean-a439600d:partial(1, 1) <- t4
        t14 = mean-a439600d:partial(1, 2) <- t5
        t15 = mean-a439600d:combine1(2) <- t12, t13
        t16 = mean-a439600d:combine1(3) <- t14
        t17 = mean-a439600d(1) <- t15, t16
        out0 = [t11, t17]
        ");
    }

    #[test]
    fn keepdims_and_leading_reduced_axis() {
        let x = uniform(&[4, 6], &[2, 3], 1);
        let m = kiln_ir::build::reduce(kiln_ir::ReduceOp::Max, &x, Some(&[0]), true).unwrap();
        assert_lowered!([m], 8, @"
        t0 = random.uniform-e0ef4f7d(0, 0)
        t1 = random.uniform-e0ef4f7d(0, 1)
        t2 = random.uniform-e0ef4f7d(1, 0)
        t3 = random.uniform-e0ef4f7d(1, 1)
        t4 = max-1b0e2ff8:partial(0, 0) <- t0
        t5 = max-1b0e2ff8:partial(1, 0) <- t2
        t6 = max-1b0e2ff8(0, 0) <- t4, t5
        t7 = max-1b0e2ff8:partial(0, 1) <- t1
        t8 = max-1b0e2ff8:partial(1, 1) <- t3
        t9 = max-1b0e2ff8(0, 1) <- t7, t8
        out0 = [t6, t9]
        ");
    }
}
