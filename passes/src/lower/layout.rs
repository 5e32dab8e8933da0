//! Lowering of layout ops that move whole blocks without looking inside them: `Transpose`
//! (output axis `k` is input axis `perm[k]`), `InsertAxis` (a new single-block axis) and
//! `BroadcastTo` (NumPy's right-aligned rule). Each output block reads exactly one input
//! block.

use kiln_ir::{Expr, NodeAux, Op, TaskGraphBuilder, TaskId};

use super::index::BlockMap;
use super::{Lowered, emit_mapped};

/// Lowers a `Transpose`, `InsertAxis` or `BroadcastTo` node.
pub(crate) fn lower_layout(b: &mut TaskGraphBuilder, expr: &Expr, inputs: &[&[TaskId]]) -> Lowered {
    let x = expr.inputs()[0].chunks();
    let map = match expr.op() {
        Op::Transpose(perm) => BlockMap::transpose(x, perm),
        Op::InsertAxis(axis) => BlockMap::insert_axis(x, *axis),
        _ => BlockMap::broadcast(x, expr.chunks()),
    };
    emit_mapped(b, expr, NodeAux::None, &[map], inputs)
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
    fn transpose_reads_the_mirrored_block() {
        let x = uniform(&[4, 6], &[2, 3], 1);
        assert_lowered!([transpose(&x, &[1, 0])], @"
        t0 = random.uniform-e0ef4f7d(0, 0)
        t1 = random.uniform-e0ef4f7d(0, 1)
        t2 = random.uniform-e0ef4f7d(1, 0)
        t3 = random.uniform-e0ef4f7d(1, 1)
        t4 = transpose-4097bc32(0, 0) <- t0
        t5 = transpose-4097bc32(0, 1) <- t2
        t6 = transpose-4097bc32(1, 0) <- t1
        t7 = transpose-4097bc32(1, 1) <- t3
        out0 = [t4, t5, t6, t7]
        ");
    }

    #[test]
    fn transpose_of_three_axes() {
        let x = uniform(&[2, 3, 4], &[1, 3, 2], 1);
        assert_lowered!([transpose(&x, &[2, 0, 1])], @"
        t0 = random.uniform-6a35fab6(0, 0, 0)
        t1 = random.uniform-6a35fab6(0, 0, 1)
        t2 = random.uniform-6a35fab6(1, 0, 0)
        t3 = random.uniform-6a35fab6(1, 0, 1)
        t4 = transpose-3503d06c(0, 0, 0) <- t0
        t5 = transpose-3503d06c(0, 1, 0) <- t2
        t6 = transpose-3503d06c(1, 0, 0) <- t1
        t7 = transpose-3503d06c(1, 1, 0) <- t3
        out0 = [t4, t5, t6, t7]
        ");
    }

    #[test]
    fn insert_axis_then_broadcast_binary() {
        // The mean of each row, subtracted from the row: the column of means broadcasts
        // along axis 1.
        let x = uniform(&[4, 6], &[2, 3], 1);
        let means = insert_axis(&reduce(kiln_ir::ReduceOp::Mean, &x, Some(&[1])), 1);
        assert_lowered!([sub(&x, &means)], @"
        t0 = random.uniform-e0ef4f7d(0, 0)
        t1 = random.uniform-e0ef4f7d(0, 1)
        t2 = random.uniform-e0ef4f7d(1, 0)
        t3 = random.uniform-e0ef4f7d(1, 1)
        t4 = mean-751fdf48:partial(0, 0) <- t0
        t5 = mean-751fdf48:partial(0, 1) <- t1
        t6 = mean-751fdf48(0) <- t4, t5
        t7 = mean-751fdf48:partial(1, 0) <- t2
        t8 = mean-751fdf48:partial(1, 1) <- t3
        t9 = mean-751fdf48(1) <- t7, t8
        t10 = insert_axis-9d8097d0(0, 0) <- t6
        t11 = insert_axis-9d8097d0(1, 0) <- t9
        t12 = sub-8bdc5b2b(0, 0) <- t0, t10
        t13 = sub-8bdc5b2b(0, 1) <- t1, t10
        t14 = sub-8bdc5b2b(1, 0) <- t2, t11
        t15 = sub-8bdc5b2b(1, 1) <- t3, t11
        out0 = [t12, t13, t14, t15]
        ");
    }

    #[test]
    fn broadcast_to_new_and_stretched_axes() {
        let x = uniform(&[1, 6], &[1, 3], 1);
        assert_lowered!([broadcast_to(&x, &[2, 4, 6])], @"
        t0 = random.uniform-fb4ef41a(0, 0)
        t1 = random.uniform-fb4ef41a(0, 1)
        t2 = broadcast_to-93d5d15b(0, 0, 0) <- t0
        t3 = broadcast_to-93d5d15b(0, 0, 1) <- t1
        out0 = [t2, t3]
        ");
    }
}
