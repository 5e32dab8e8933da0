//! Inputs read across their layout (transposed blocks of wider arrays): the JIT stages
//! them a band of rows at a time and must run every such call (not decline it), bit for
//! bit as the interpreter, whatever the dtype, with bands that cross an outer axis, a
//! short last band, rows longer than a tile and blocks that start off a cache line.

use kiln_ir::{BinaryOp, Chunk, DType, F64Bits, Inst, Kernel, KernelOutput, ReduceOp, Scalar};
use ndarray::{Array3, Axis, s};

use super::bits;
use super::ops::{kernel, last, v};

/// A `2 × rows × cols` array of `dtype` with distinct values (floats with NaN, ±inf and
/// -0.0 among them), as a chunk.
fn values(dtype: DType, rows: usize, cols: usize, seed: u64) -> Chunk {
    let x = Array3::from_shape_fn((2, rows, cols), |(a, i, j)| {
        let k = ((a * rows + i) * cols + j) as u64;
        k.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(seed) >> 40
    });
    let special = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0];
    let float = |k: u64| if k.is_multiple_of(97) { special[(k / 97 % 4) as usize] } else { k as f64 / 4096.0 - 1000.0 };
    match dtype {
        DType::F64 => Chunk::new(x.mapv(float).into_dyn()),
        DType::F32 => Chunk::new(x.mapv(|k| float(k) as f32).into_dyn()),
        DType::I64 => Chunk::new(x.mapv(|k| (k as i64 - (1 << 23)) * 0x1_0000_0001).into_dyn()),
        DType::I32 => Chunk::new(x.mapv(|k| (k as i32) * 511).into_dyn()),
        DType::Bool => Chunk::new(x.mapv(|k| k % 3 == 0).into_dyn()),
    }
}

/// `c` with its last two axes swapped, less its first `skip_rows` rows and `skip_cols`
/// columns (a view: element strides stay those of `c`).
fn transposed(c: &Chunk, skip_rows: usize, skip_cols: usize) -> Chunk {
    kiln_ir::with_chunk!(c, a => {
        let mut view = a.clone();
        view.swap_axes(1, 2);
        Chunk::from(view.slice_move(s![.., skip_rows.., skip_cols..]).into_dyn())
    })
}

/// Runs `kernel` on the JIT, which must accept the call, and on the interpreter, and
/// asserts both agree bit for bit.
fn assert_staged_same(kernel: &Kernel, inputs: &[&Chunk], region: &[std::ops::Range<usize>], space: &[usize]) {
    let what = format!("{kernel}\nregion {region:?}");
    match kernel.output {
        KernelOutput::Map(_) => {
            let want = crate::kernel::run_map(kernel, inputs, region).expect("the interpreter runs it");
            let got = crate::jit::run_map(kernel, inputs, region).unwrap_or_else(|e| panic!("{what}\njit: {e}"));
            assert_eq!((got.dtype(), got.shape()), (want.dtype(), want.shape()), "{what}");
            assert_eq!(bits(&got), bits(&want), "{what}");
        }
        KernelOutput::Reduce { .. } => {
            let want = crate::kernel::run_partial(kernel, inputs, region, space).expect("the interpreter runs it");
            let got =
                crate::jit::run_partial(kernel, inputs, region, space).unwrap_or_else(|e| panic!("{what}\njit: {e}"));
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "{what}");
        }
    }
}

#[test]
fn transposed_inputs_of_every_dtype_are_staged() {
    // Rows of 1029 (a band is 31 rows), 2 × 67 rows: bands cross the outer axis and the
    // last one is short; the transposed view starts 3 rows and 1 column into its array.
    let (rows, cols) = (67, 1029);
    for dtype in [DType::F64, DType::F32, DType::I64, DType::I32, DType::Bool] {
        let x = values(dtype, rows, cols, 1);
        let wide = values(dtype, cols + 1, rows + 3, 2);
        let t = transposed(&wide, 3, 1);
        assert_eq!(t.shape(), x.shape());
        let region = [0..2, 0..rows, 0..cols];
        let body = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Maximum, v(0), v(1))];
        let k = kernel(3, &[(dtype, &[0, 1, 2]), (dtype, &[0, 1, 2])], body.clone(), last(&body));
        assert_staged_same(&k, &[&x, &t], &region, &[2, rows, cols]);
        // The transposed input alone, and twice (two staged inputs).
        let body = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Minimum, v(1), v(0))];
        let k = kernel(3, &[(dtype, &[0, 1, 2]), (dtype, &[0, 1, 2])], body.clone(), last(&body));
        assert_staged_same(&k, &[&t, &t], &region, &[2, rows, cols]);
    }
}

#[test]
fn reductions_over_staged_inputs() {
    let (rows, cols) = (40, 1030);
    for dtype in [DType::F64, DType::F32, DType::I64] {
        let x = values(dtype, rows, cols, 3);
        let t = transposed(&values(dtype, cols, rows, 4), 0, 0);
        let one = match dtype {
            DType::F64 => Scalar::F64(1.0),
            DType::F32 => Scalar::F32(1.0),
            _ => Scalar::I64(1),
        };
        let body = vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Const(one),
            Inst::Binary(BinaryOp::Mul, v(1), v(2)),
            Inst::Binary(BinaryOp::Add, v(0), v(3)),
        ];
        // Whole-space region inside a larger space along the first axis.
        let region = [1..3, 0..rows, 0..cols];
        for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::ArgMin, ReduceOp::Var { ddof: F64Bits(0.0) }] {
            for axes in [vec![0, 1, 2], vec![2], vec![1], vec![0]] {
                let output = KernelOutput::Reduce { op, axes, keepdims: false, value: v(4) };
                let k = kernel(3, &[(dtype, &[0, 1, 2]), (dtype, &[0, 1, 2])], body.clone(), output);
                assert_staged_same(&k, &[&x, &t], &region, &[4, rows, cols]);
            }
        }
    }
    // The A5 shape: a block plus the transpose of another block of the same wide array.
    let wide = values(DType::F64, 64, 1024, 6);
    let (a, b) = kiln_ir::with_chunk!(&wide, w => (
        Chunk::from(w.clone().index_axis_move(Axis(0), 0).slice_move(s![..32, ..32]).into_dyn()),
        Chunk::from(w.clone().index_axis_move(Axis(0), 1).slice_move(s![..32, 32..64]).reversed_axes().into_dyn()),
    ));
    let body = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Add, v(0), v(1))];
    let output = KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![0, 1], keepdims: false, value: v(2) };
    let k = kernel(2, &[(DType::F64, &[0, 1]), (DType::F64, &[0, 1])], body, output);
    assert_staged_same(&k, &[&a, &b], &[0..32, 0..32], &[32, 32]);
}
