//! Lowering of sources and elementwise ops (`Unary`, `Binary`, `Where`, `AsType`): one task
//! per output block, reading the block at the same position of each input, with NumPy
//! broadcasting (inputs align right; an axis stretched from length 1 reads its one block).

use kiln_ir::{Expr, NodeAux, TaskGraphBuilder, TaskId};

use super::index::BlockMap;
use super::{Lowered, emit_mapped};

/// Lowers a source (no dependencies) or an elementwise node (one dependency per input, in
/// input order).
pub(crate) fn lower_blockwise(b: &mut TaskGraphBuilder, expr: &Expr, inputs: &[&[TaskId]]) -> Lowered {
    let maps: Vec<BlockMap> = expr.inputs().iter().map(|x| BlockMap::broadcast(x.chunks(), expr.chunks())).collect();
    emit_mapped(b, expr, NodeAux::None, &maps, inputs)
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
    fn sources_have_no_dependencies() {
        assert_lowered!([ones(&[4, 6], &[2, 3])], @"
        t0 = full-341f7c32(0, 0)
        t1 = full-341f7c32(0, 1)
        t2 = full-341f7c32(1, 0)
        t3 = full-341f7c32(1, 1)
        out0 = [t0, t1, t2, t3]
        ");
    }

    #[test]
    fn two_d_plus_one_d_broadcasts_the_row() {
        let x = ones(&[4, 6], &[2, 3]);
        let y = arange_f64(6, 3);
        assert_lowered!([add(&x, &y)], @"
        t0 = full-341f7c32(0, 0)
        t1 = full-341f7c32(0, 1)
        t2 = full-341f7c32(1, 0)
        t3 = full-341f7c32(1, 1)
        t4 = arange-eae7eb6c(0)
        t5 = arange-eae7eb6c(1)
        t6 = add-24a09b83(0, 0) <- t0, t4
        t7 = add-24a09b83(0, 1) <- t1, t5
        t8 = add-24a09b83(1, 0) <- t2, t4
        t9 = add-24a09b83(1, 1) <- t3, t5
        out0 = [t6, t7, t8, t9]
        ");
    }

    #[test]
    fn length_one_axes_read_block_zero() {
        let x = ones(&[4, 6], &[2, 3]);
        let col = uniform(&[4, 1], &[2, 1], 7);
        assert_lowered!([mul(&x, &col)], @"
        t0 = full-341f7c32(0, 0)
        t1 = full-341f7c32(0, 1)
        t2 = full-341f7c32(1, 0)
        t3 = full-341f7c32(1, 1)
        t4 = random.uniform-816168cf(0, 0)
        t5 = random.uniform-816168cf(1, 0)
        t6 = mul-d0b54dc6(0, 0) <- t0, t4
        t7 = mul-d0b54dc6(0, 1) <- t1, t4
        t8 = mul-d0b54dc6(1, 0) <- t2, t5
        t9 = mul-d0b54dc6(1, 1) <- t3, t5
        out0 = [t6, t7, t8, t9]
        ");
    }

    #[test]
    fn casts_read_the_same_block_and_scalars_their_only_block() {
        let x = full_i32(&[4], &[2], 3);
        assert_lowered!([add(&astype(&x, kiln_ir::DType::F64), &scalar(1.5))], @"
        t0 = full-1bda1316(0)
        t1 = full-1bda1316(1)
        t2 = astype-f7b3faa4(0) <- t0
        t3 = astype-f7b3faa4(1) <- t1
        t4 = full-4ec070fb()
        t5 = add-e9726ced(0) <- t2, t4
        t6 = add-e9726ced(1) <- t3, t4
        out0 = [t5, t6]
        ");
    }
}
