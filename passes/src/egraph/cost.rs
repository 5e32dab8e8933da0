//! The cost model: estimated work of one node, from metadata only (O(ndim), never per
//! chunk), in byte-equivalents: bytes read plus bytes written, plus a per-element weight
//! for the arithmetic, plus a fixed overhead per task.
//!
//! The weights that decide the optimizer's choices:
//! - A task costs [`TASK_OVERHEAD`] (about 20 µs of scheduling and bookkeeping at ~10 GB/s).
//! - `slice`, `transpose` and `insert_axis` are zero-copy views, but a view pins its input's
//!   blocks in memory and forces the input to be materialized for it: it costs
//!   [`VIEW_FACTOR`] times the bytes it exposes. So a slice of a value that is computed
//!   anyway is cheap, while re-generating a `random` or `full` slice (which writes its bytes
//!   plus a few flops per element) is cheaper still: cheap sources are regenerated, costly
//!   intermediates are shared.
//! - `from_array` blocks are views of memory the user already holds: only their tasks count.
//! - A byte of a `.npy` file read or written costs [`DISK_FACTOR`] bytes of memory traffic,
//!   so a slice pushed into `from_npy` (reading only the selected bytes) always pays off.
//! - Transcendental functions weigh 20 per element, division 4, plain arithmetic 1.

use kiln_ir::{BinaryOp, Distribution, Expr, Meta, Op, ReduceOp, UnaryOp};

/// Overhead of one task, in byte-equivalents (20 µs at about 10 GB/s).
pub const TASK_OVERHEAD: f64 = 200_000.0;

/// What a view costs per byte it exposes (the pinned, materialized input it reads).
pub const VIEW_FACTOR: f64 = 2.0;

/// What a byte read from or written to a file costs, relative to a byte of memory.
pub const DISK_FACTOR: f64 = 4.0;

fn unary_flops(op: UnaryOp) -> f64 {
    use UnaryOp::*;
    match op {
        Neg | Abs | Floor | Ceil | Round | Not | IsNan => 1.0,
        Sqrt => 4.0,
        Exp | Ln | Log10 | Sin | Cos | Tan | Tanh => 20.0,
    }
}

fn binary_flops(op: BinaryOp) -> f64 {
    use BinaryOp::*;
    match op {
        Div => 4.0,
        Rem => 8.0,
        Pow => 20.0,
        _ => 1.0,
    }
}

fn reduce_flops(op: ReduceOp) -> f64 {
    match op {
        ReduceOp::Var { .. } | ReduceOp::Std { .. } => 3.0,
        _ => 1.0,
    }
}

/// The estimated cost of computing a node of `op` with result `meta` from inputs with
/// metadata `inputs`.
pub fn node_cost(op: &Op, meta: &Meta, inputs: &[&Meta]) -> f64 {
    let elems = meta.shape.size() as f64;
    let written = meta.nbytes() as f64;
    let blocks = meta.chunks.n_blocks() as f64;
    let read: f64 = inputs.iter().map(|m| m.nbytes() as f64).sum();
    let tasks = |n: f64| n * TASK_OVERHEAD;
    match op {
        Op::FromArray(_) => tasks(blocks),
        // Reading a file costs a system call per task and its bytes at disk speed.
        Op::FromNpy(_) => tasks(blocks) + DISK_FACTOR * written,
        // User code makes the blocks: priced like a file read, so plans never make it twice.
        Op::External(_) => tasks(blocks) + DISK_FACTOR * written,
        Op::StoreNpy(_) => {
            let in_blocks = inputs.first().map_or(1.0, |x| x.chunks.n_blocks() as f64);
            tasks(in_blocks * 1.125 + blocks) + DISK_FACTOR * read
        }
        Op::Full(_) => tasks(blocks) + written,
        Op::Arange { .. } | Op::Linspace { .. } => tasks(blocks) + written + elems,
        Op::Random { dist, .. } => {
            let flops = match dist {
                Distribution::Uniform { .. } => 2.0,
                Distribution::Normal { .. } => 4.0,
            };
            tasks(blocks) + written + elems * flops
        }
        Op::Unary(u) => tasks(blocks) + read + written + elems * unary_flops(*u),
        Op::Binary(b) => tasks(blocks) + read + written + elems * binary_flops(*b),
        Op::Where | Op::AsType => tasks(blocks) + read + written + elems,
        Op::Slice(_) | Op::Transpose(_) | Op::InsertAxis(_) => tasks(blocks) + VIEW_FACTOR * written,
        Op::BroadcastTo => tasks(blocks) + read + written,
        Op::Rechunk => tasks(blocks) + 2.0 * written,
        Op::Reduce { op, .. } => {
            let (in_blocks, in_elems) =
                inputs.first().map_or((1.0, 0.0), |x| (x.chunks.n_blocks() as f64, x.shape.size() as f64));
            // Partial states per input block, a combine tree of fan-in about 8, finals.
            tasks(in_blocks * 1.125 + blocks) + read + written + in_elems * reduce_flops(*op)
        }
        Op::Fused { kernel, grid } => {
            let space = grid.shape().size() as f64;
            tasks(grid.n_blocks() as f64) + read + written + space * kernel.body.len() as f64
        }
    }
}

/// The cost of an expression node from its own metadata and its inputs'.
pub fn expr_node_cost(e: &Expr) -> f64 {
    let inputs: Vec<&Meta> = e.inputs().iter().map(Expr::meta).collect();
    node_cost(e.op(), e.meta(), &inputs)
}

/// The cost of computing `roots`: every distinct node counted once.
pub fn exprs_cost(roots: &[Expr]) -> f64 {
    Expr::topo_order(roots).iter().map(expr_node_cost).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use ndarray::s;

    #[test]
    fn slices_of_cheap_sources_cost_less_regenerated_and_costly_values_less_shared() {
        let r = uniform(&[1000, 1000], &[100, 100], 1);
        let view = slice(&r, s![..10, ..].as_ref());
        let regenerated = kiln_ir::build::random_view(
            kiln_ir::Distribution::Uniform { low: kiln_ir::F64Bits(0.0), high: kiln_ir::F64Bits(1.0) },
            1,
            &[10, 1000],
            kiln_ir::op::SourceView { base: vec![1000, 1000], start: vec![0, 0], step: vec![1, 1] },
            &kiln_ir::Chunks::Grid(view.chunks().clone()),
        )
        .unwrap();
        assert!(expr_node_cost(&regenerated) < expr_node_cost(&view));
        // Recomputing sin on the slice costs more than slicing a sin computed anyway.
        let sin = kiln_ir::build::unary(UnaryOp::Sin, &regenerated).unwrap();
        assert!(expr_node_cost(&regenerated) + expr_node_cost(&sin) > expr_node_cost(&view));
        // Shared nodes count once.
        let x = exp(&r);
        assert_eq!(exprs_cost(&[add(&x, &x)]), exprs_cost(std::slice::from_ref(&x)) + expr_node_cost(&add(&x, &x)));
    }
}
