//! Lowering of `Slice`: each output block comes from exactly one input block. The node's
//! side table (`NodeAux::Slice`) lists, per input axis, the input block and local range of
//! each output block along that axis; it is computed once per node.

use std::sync::Arc;

use kiln_ir::slice::slice_axis_pieces;
use kiln_ir::{AxisPiece, AxisSlice, Expr, NodeAux, SliceElem, SliceSpec, TaskGraphBuilder, TaskId};

use super::index::{BlockMap, block_strides};
use super::{Lowered, emit_mapped};
use crate::{Error, Result};

/// Lowers a slice of `expr.inputs()[0]` by `spec`.
pub(crate) fn lower_slice(
    b: &mut TaskGraphBuilder,
    expr: &Expr,
    spec: &SliceSpec,
    inputs: &[&[TaskId]],
) -> Result<Lowered> {
    let x = expr.inputs()[0].chunks();
    let strides = block_strides(x);
    let out_grid = expr.chunks();
    let mut pieces: Vec<Vec<AxisPiece>> = Vec::with_capacity(x.ndim());
    let mut tables: Vec<Option<Vec<u64>>> = Vec::with_capacity(expr.ndim());
    let mut base = 0u64;
    for elem in spec.elems() {
        match *elem {
            SliceElem::Range(r) => {
                let k = pieces.len();
                let axis_pieces = slice_axis_pieces(x.axis(k), &r);
                let j = tables.len();
                if axis_pieces.len() != out_grid.axis(j).n_blocks() {
                    return Err(Error::Verify {
                        pass: "lower",
                        message: format!(
                            "slice {spec} gives {} pieces on input axis {k} but output axis {j} has {} blocks",
                            axis_pieces.len(),
                            out_grid.axis(j).n_blocks()
                        ),
                    });
                }
                tables.push(Some(axis_pieces.iter().map(|p| p.in_block as u64 * strides[k]).collect()));
                pieces.push(axis_pieces);
            }
            SliceElem::Index(i) => {
                let k = pieces.len();
                let axis = x.axis(k);
                let block = axis.block_of(i);
                let local =
                    AxisSlice { start: i - axis.block_start(block), end: i - axis.block_start(block) + 1, step: 1 };
                base += block as u64 * strides[k];
                pieces.push(vec![AxisPiece { in_block: block, local }]);
            }
            SliceElem::NewAxis => tables.push(None),
        }
    }
    let map = BlockMap::from_tables(base, tables);
    let aux = NodeAux::Slice(Arc::from(pieces));
    Ok(emit_mapped(b, expr, aux, &[map], inputs))
}

#[cfg(test)]
mod tests {
    use ndarray::{NewAxis, s};

    use crate::testing::*;

    macro_rules! assert_lowered {
        ($roots:expr, @$expected:literal) => {
            insta::assert_snapshot!(lowered(&$roots), @$expected)
        };
    }

    #[test]
    fn negative_step_reads_blocks_backwards() {
        let x = arange_f64(10, 4);
        assert_lowered!([slice(&x, s![1..9;-2].as_ref())], @"
        t0 = arange-43ea3842(0)
        t1 = arange-43ea3842(1)
        t2 = arange-43ea3842(2)
        t3 = slice-6f766b64(0) <- t2
        t4 = slice-6f766b64(1) <- t1
        t5 = slice-6f766b64(2) <- t0
        out0 = [t3, t4, t5]
        ");
    }

    #[test]
    fn index_and_new_axis() {
        let x = uniform(&[6, 4], &[2, 2], 3);
        assert_lowered!([slice(&x, s![NewAxis, 3, 1..].as_ref())], @"
        t0 = random.uniform-ffc22d8f(0, 0)
        t1 = random.uniform-ffc22d8f(0, 1)
        t2 = random.uniform-ffc22d8f(1, 0)
        t3 = random.uniform-ffc22d8f(1, 1)
        t4 = random.uniform-ffc22d8f(2, 0)
        t5 = random.uniform-ffc22d8f(2, 1)
        t6 = slice-d5b57132(0, 0) <- t2
        t7 = slice-d5b57132(0, 1) <- t3
        out0 = [t6, t7]
        ");
    }

    #[test]
    fn side_table_has_one_entry_per_input_axis() {
        let x = uniform(&[6, 4], &[2, 2], 3);
        let y = slice(&x, s![NewAxis, 3, 1..;2].as_ref());
        let graph = lower_graph(&[y]);
        let kiln_ir::NodeAux::Slice(pieces) = &graph.nodes()[1].aux else { panic!("no slice table") };
        let text: Vec<String> = pieces
            .iter()
            .map(|axis| {
                let p: Vec<String> = axis
                    .iter()
                    .map(|p| format!("b{}[{}..{};{}]", p.in_block, p.local.start, p.local.end, p.local.step))
                    .collect();
                p.join(" ")
            })
            .collect();
        insta::assert_snapshot!(text.join("\n"), @"
        b1[1..2;1]
        b0[1..2;2] b1[1..2;2]
        ");
    }
}
