//! Tests of inputs read across their layout (staged a band at a time): the edges of tiles,
//! bands, groups and squares, every dtype, views, reversed and strided layouts, and the
//! same bits as the same values laid out along the row (which are not staged).

use std::ops::Range;

use kiln_ir::{BinaryOp, Chunk, DType, F64Bits, Inst, Kernel, KernelOutput, ReduceOp, ValueId, with_chunk};
use ndarray::{ArrayD, Dimension, IxDyn, ShapeBuilder, s};

use super::{V, assert_same, check_map, check_reduce, kernel, map_out};
use crate::kernel::exec::Ctx;
use crate::kernel::{run_map, run_partial};
use crate::reference::reduce::PartialState;

/// A block of `shape` (C order) with distinct values of `dtype`.
fn block(dtype: DType, shape: &[usize], seed: u64) -> Chunk {
    let s = crate::random::RandomStream::new(seed);
    let f = ArrayD::from_shape_fn(IxDyn(shape), |i| {
        let g = i.slice().iter().fold(0u64, |a, &x| a * 4099 + x as u64);
        (s.uniform01(g) * 200.0 - 100.0).round() / 4.0
    });
    let c = Chunk::new(f);
    crate::reference::elementwise::astype(&c, dtype).expect("cast")
}

/// The same values as `c` laid out in Fortran order.
fn fortran(c: &Chunk) -> Chunk {
    with_chunk!(c, a => {
        let v: Vec<_> = a.t().iter().copied().collect();
        Chunk::from(ArrayD::from_shape_vec(IxDyn(a.shape()).f(), v).expect("shape").into_shared())
    })
}

/// Whether the call stages input `k`.
fn staged(k: &Kernel, inputs: &[&Chunk], region: &[Range<usize>], input: usize) -> bool {
    let value = match k.output {
        KernelOutput::Map(v) | KernelOutput::Reduce { value: v, .. } => v,
    };
    let ctx = Ctx::new(k, inputs, region, value, matches!(k.output, KernelOutput::Map(_))).expect("a valid call");
    ctx.plan.staged_inputs.contains(&input)
}

/// `x op y.t()`, `y` read transposed, as a map or reduced.
fn plus_transposed(dtype: DType, op: BinaryOp, output: Option<(ReduceOp, Vec<u32>)>) -> Kernel {
    let body = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(op, V(0), V(1))];
    let output = match output {
        None => map_out(&body),
        Some((op, axes)) => KernelOutput::Reduce { op, axes, keepdims: false, value: V(2) },
    };
    kernel(2, &[(dtype, &[0, 1]), (dtype, &[1, 0])], body, output)
}

fn reductions() -> Vec<(ReduceOp, Vec<u32>)> {
    use ReduceOp::*;
    vec![
        (Sum, vec![0, 1]),
        (Sum, vec![0]),
        (Mean, vec![1]),
        (Max, vec![0, 1]),
        (ArgMax, vec![0, 1]),
        (ArgMin, vec![1]),
        (ArgMin, vec![0]),
        (Var { ddof: F64Bits(0.0) }, vec![0, 1]),
        (Prod, vec![1]),
    ]
}

/// The finished states of a reduction are the same bits.
fn same_states(a: &PartialState, b: &PartialState, what: &str) {
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "{what}");
}

#[test]
fn transposed_blocks_of_every_shape() {
    // Rows around the square (8) and group (32) sizes, row lengths packed, around a tile and
    // over it; block regions off the origin.
    for rows in [1usize, 2, 7, 8, 9, 31, 32, 33, 65] {
        for row_len in [1usize, 3, 9, 100, 513, 1024, 1025, 2100] {
            let region = [5..5 + rows, 3..3 + row_len];
            let n = rows * row_len;
            for dtype in [DType::F64, DType::I32] {
                if n > if dtype == DType::I32 { 20_000 } else { 70_000 } {
                    continue;
                }
                let x = block(dtype, &[rows, row_len], 1);
                let y = block(dtype, &[row_len, rows], 2);
                let map = plus_transposed(dtype, BinaryOp::Sub, None);
                let out = check_map(&map, &[&x, &y], &region).unwrap();
                // The same values along the row: not staged, the same bits.
                let yf = fortran(&y);
                assert_same(&run_map(&map, &[&x, &yf], &region).unwrap(), &out, &format!("{rows}x{row_len}"));
                let across = rows * dtype.size() >= 64 && row_len > 1;
                assert_eq!(staged(&map, &[&x, &y], &region, 1), across, "{rows}x{row_len} {dtype}");
                assert!(!staged(&map, &[&x, &yf], &region, 1));
                if n > 10_000 {
                    continue;
                }
                for (op, axes) in reductions() {
                    let k = plus_transposed(dtype, BinaryOp::Add, Some((op, axes)));
                    let _ = check_reduce(&k, &[&x, &y], &region, &[80, 2200]);
                    let a = run_partial(&k, &[&x, &y], &region, &[80, 2200]).unwrap();
                    let b = run_partial(&k, &[&x, &yf], &region, &[80, 2200]).unwrap();
                    same_states(&a, &b, &format!("{k}\n{rows}x{row_len}"));
                }
            }
        }
    }
}

#[test]
fn every_dtype_and_layout() {
    let (rows, row_len) = (70, 37);
    let region = [0..rows, 0..row_len];
    for dtype in DType::ALL {
        let x = block(dtype, &[rows, row_len], 3);
        // A wider block, so views can step over parts of it.
        let wide = block(dtype, &[2 * row_len + 1, 2 * rows + 1], 4);
        let views: Vec<(&str, Chunk)> = vec![
            ("C order", with_chunk!(&wide, a => Chunk::from(a.clone().slice_move(s![..row_len, ..rows]).into_dyn()))),
            (
                "offset",
                with_chunk!(&wide, a => Chunk::from(a.clone().slice_move(s![3..3 + row_len, 5..5 + rows]).into_dyn())),
            ),
            (
                "every other",
                with_chunk!(&wide, a => Chunk::from(a.clone().slice_move(s![..;2, ..;2]).slice_move(s![..row_len, ..rows]).into_dyn())),
            ),
            (
                "reversed rows",
                with_chunk!(&wide, a => Chunk::from(a.clone().slice_move(s![..row_len, ..rows;-1]).into_dyn())),
            ),
            (
                "reversed along",
                with_chunk!(&wide, a => Chunk::from(a.clone().slice_move(s![..row_len;-1, ..rows]).into_dyn())),
            ),
            (
                "both reversed",
                with_chunk!(&wide, a => Chunk::from(a.clone().slice_move(s![..row_len;-1, ..rows;-1]).into_dyn())),
            ),
        ];
        for (name, y) in views {
            assert_eq!(y.shape(), &[row_len, rows], "{name}");
            let ops: &[BinaryOp] =
                if dtype == DType::Bool { &[BinaryOp::Or] } else { &[BinaryOp::Sub, BinaryOp::Maximum] };
            for &op in ops {
                let map = plus_transposed(dtype, op, None);
                let out = check_map(&map, &[&x, &y], &region).unwrap();
                assert_same(&run_map(&map, &[&x, &fortran(&y)], &region).unwrap(), &out, name);
                // Every view steps at least 141 elements along the row, 1 or 2 between rows.
                assert!(staged(&map, &[&x, &y], &region, 1), "{name} {dtype}");
            }
            for (op, axes) in reductions() {
                let k = plus_transposed(
                    dtype,
                    if dtype == DType::Bool { BinaryOp::Or } else { BinaryOp::Add },
                    Some((op, axes)),
                );
                let _ = check_reduce(&k, &[&x, &y], &region, &[rows, row_len]);
            }
        }
    }
}

#[test]
fn loads_of_one_staged_input_share_its_band() {
    // `y.t() * y.t() - x`, `y` loaded twice; and `y.t()` alone as the output.
    let body = vec![
        Inst::Load(1),
        Inst::Load(0),
        Inst::Load(1),
        Inst::Binary(BinaryOp::Mul, V(0), V(2)),
        Inst::Binary(BinaryOp::Sub, V(3), V(1)),
    ];
    let k = kernel(2, &[(DType::F64, &[0, 1]), (DType::F64, &[1, 0])], body.clone(), map_out(&body));
    let (x, y) = (block(DType::F64, &[40, 300], 5), block(DType::F64, &[300, 40], 6));
    let region = [0..40, 0..300];
    check_map(&k, &[&x, &y], &region).unwrap();
    let inputs = [&x, &y];
    let ctx = Ctx::new(&k, &inputs, &region, ValueId(4), true).unwrap();
    assert_eq!(ctx.plan.staged_inputs, vec![1]);
    let k = Kernel { output: KernelOutput::Map(V(0)), ..k };
    let out = check_map(&k, &[&x, &y], &region).unwrap();
    assert_eq!(out, with_chunk!(&y, a => Chunk::from(a.t().to_owned().into_dyn())));
}

#[test]
fn rows_crossing_an_outer_axis() {
    // A 3-d block whose bands wrap from one position of axis 0 to the next: the rows of a
    // band are consecutive in the input only within each position of axis 0.
    for (outer, rows, row_len) in [(3, 9, 100), (2, 33, 40), (5, 8, 1025), (4, 1, 64), (3, 12, 3)] {
        let region = [1..1 + outer, 0..rows, 2..2 + row_len];
        let body = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Mul, V(0), V(1))];
        // `y` has axes (row, outer, middle) in memory order: rows one element apart.
        let k = kernel(3, &[(DType::F64, &[0, 1, 2]), (DType::F64, &[2, 0, 1])], body.clone(), map_out(&body));
        let x = block(DType::F64, &[outer, rows, row_len], 7);
        let y = block(DType::F64, &[row_len, outer, rows], 8);
        let out = check_map(&k, &[&x, &y], &region).unwrap();
        let yf = fortran(&y);
        assert_same(&run_map(&k, &[&x, &yf], &region).unwrap(), &out, "3-d");
        // `y` steps `outer * rows` elements along the row.
        assert_eq!(staged(&k, &[&x, &y], &region, 1), outer * rows >= 8 && row_len > 1, "{outer}x{rows}x{row_len}");
        assert!(!staged(&k, &[&x, &yf], &region, 1));
        for axes in [vec![0, 1, 2], vec![1], vec![2], vec![0, 2]] {
            let output = KernelOutput::Reduce { op: ReduceOp::Sum, axes, keepdims: true, value: V(2) };
            let k = Kernel { output, ..k.clone() };
            check_reduce(&k, &[&x, &y], &region, &[8, 40, 1100]).unwrap();
            let a = run_partial(&k, &[&x, &y], &region, &[8, 40, 1100]).unwrap();
            let b = run_partial(&k, &[&x, &yf], &region, &[8, 40, 1100]).unwrap();
            same_states(&a, &b, &format!("{k}"));
        }
    }
    // A length-1 row axis: nothing to share between rows, nothing staged.
    let y = block(DType::F64, &[64, 1, 1], 9);
    let body = vec![Inst::Load(0), Inst::Unary(kiln_ir::UnaryOp::Neg, V(0))];
    let k = kernel(3, &[(DType::F64, &[2, 0, 1])], body.clone(), map_out(&body));
    assert!(!staged(&k, &[&y], &[0..1, 0..1, 0..64], 0));
    check_map(&k, &[&y], &[0..1, 0..1, 0..64]).unwrap();
}
