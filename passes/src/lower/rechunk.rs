//! Lowering of `Rechunk`: each output block reads every input block overlapping its
//! element region, in C order of the input grid. The overlaps are computed once per axis
//! (they depend only on that axis's two chunkings), so a task costs one walk over its box
//! of input blocks.

use kiln_ir::{AxisChunks, Expr, NodeAux, TaskGraphBuilder, TaskId, TaskKind};

use super::Lowered;
use super::index::{Odometer, block_strides};

/// Per output block along one axis, the input blocks it overlaps, as CSR arrays.
struct AxisOverlaps {
    offsets: Vec<usize>,
    blocks: Vec<usize>,
}

impl AxisOverlaps {
    /// The input blocks whose range intersects each output block's range. Zero-length input
    /// blocks never intersect; an empty output block reads the one input block holding its
    /// start (block 0 on an empty axis), so every task has at least one dependency.
    fn new(input: &AxisChunks, output: &AxisChunks) -> AxisOverlaps {
        let n_out = output.n_blocks();
        let mut offsets = Vec::with_capacity(n_out + 1);
        let mut blocks = Vec::with_capacity(n_out.max(input.n_blocks()) + n_out);
        offsets.push(0);
        for o in 0..n_out {
            let r = output.block_range(o);
            if r.is_empty() {
                blocks.push(if input.is_empty() { 0 } else { input.block_of(r.start.min(input.len() - 1)) });
            } else {
                for i in input.block_of(r.start)..=input.block_of(r.end - 1) {
                    let ir = input.block_range(i);
                    if ir.start.max(r.start) < ir.end.min(r.end) {
                        blocks.push(i);
                    }
                }
            }
            offsets.push(blocks.len());
        }
        AxisOverlaps { offsets, blocks }
    }

    fn of(&self, out_block: usize) -> &[usize] {
        &self.blocks[self.offsets[out_block]..self.offsets[out_block + 1]]
    }
}

/// Lowers a rechunk of `expr.inputs()[0]` into `expr.chunks()`.
pub(crate) fn lower_rechunk(b: &mut TaskGraphBuilder, expr: &Expr, inputs: &[&[TaskId]]) -> Lowered {
    let x = expr.inputs()[0].chunks();
    let out = expr.chunks();
    let strides = block_strides(x);
    let overlaps: Vec<AxisOverlaps> = (0..out.ndim()).map(|k| AxisOverlaps::new(x.axis(k), out.axis(k))).collect();
    let node = b.add_node(expr.clone(), NodeAux::None);
    let n = out.n_blocks();
    let mut blocks = Vec::with_capacity(n as usize);
    let mut out_pos = Odometer::new(out.grid());
    // Reused for every task: the box of overlapping input blocks and the position in it.
    let mut box_pos = Odometer::new(vec![0; out.ndim()]);
    let mut deps = Vec::new();
    for linear in 0..n {
        deps.clear();
        box_pos.reset(overlaps.iter().zip(out_pos.idx()).map(|(o, &i)| o.of(i).len()));
        loop {
            let mut idx = 0u64;
            for (((o, &i), &j), &s) in overlaps.iter().zip(out_pos.idx()).zip(box_pos.idx()).zip(&strides) {
                idx += o.of(i)[j] as u64 * s;
            }
            deps.push(inputs[0][idx as usize]);
            if !box_pos.advance() {
                break;
            }
        }
        blocks.push(b.add_task(node, TaskKind::Block, linear, &deps));
        out_pos.advance();
    }
    Lowered { node, blocks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    macro_rules! assert_lowered {
        ($roots:expr, @$expected:literal) => {
            insta::assert_snapshot!(lowered(&$roots), @$expected)
        };
    }

    #[test]
    fn four_to_three_reads_overlapping_blocks() {
        let x = arange_f64(10, 4);
        assert_lowered!([rechunk(&x, &[3])], @"
        t0 = arange-43ea3842(0)
        t1 = arange-43ea3842(1)
        t2 = arange-43ea3842(2)
        t3 = rechunk-7b743c38(0) <- t0
        t4 = rechunk-7b743c38(1) <- t0, t1
        t5 = rechunk-7b743c38(2) <- t1, t2
        t6 = rechunk-7b743c38(3) <- t2
        out0 = [t3, t4, t5, t6]
        ");
    }

    #[test]
    fn two_d_rechunk_reads_a_box_in_c_order() {
        let x = uniform(&[4, 4], &[2, 2], 5);
        assert_lowered!([rechunk(&x, &[3, 3])], @"
        t0 = random.uniform-291f54ac(0, 0)
        t1 = random.uniform-291f54ac(0, 1)
        t2 = random.uniform-291f54ac(1, 0)
        t3 = random.uniform-291f54ac(1, 1)
        t4 = rechunk-357f8df3(0, 0) <- t0, t1, t2, t3
        t5 = rechunk-357f8df3(0, 1) <- t1, t3
        t6 = rechunk-357f8df3(1, 0) <- t2, t3
        t7 = rechunk-357f8df3(1, 1) <- t3
        out0 = [t4, t5, t6, t7]
        ");
    }

    #[test]
    fn overlaps_skip_empty_input_blocks_and_cover_empty_outputs() {
        let input = AxisChunks::from_lengths(&[2, 0, 3]);
        let output = AxisChunks::from_lengths(&[1, 0, 4]);
        let o = AxisOverlaps::new(&input, &output);
        assert_eq!((o.of(0), o.of(1), o.of(2)), (&[0][..], &[0][..], &[0, 2][..]));
        let empty = AxisOverlaps::new(&AxisChunks::single(0), &AxisChunks::single(0));
        assert_eq!(empty.of(0), &[0]);
    }
}
