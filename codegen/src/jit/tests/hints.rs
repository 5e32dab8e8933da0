//! The compiled folds that ask for the next row themselves (`compile::hints_next_row`):
//! which kernels do, and that sums and `max` of blocks of a larger array (rows far apart),
//! of contiguous blocks and of 1-d blocks equal the interpreter's bit for bit with the
//! hints in the loop.

use kiln_ir::{BinaryOp, Chunk, DType, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, Scalar, UnaryOp};
use ndarray::{ArrayD, IxDyn, s};

use super::check_same;
use super::ops::v;
use crate::jit::analysis::Stride;
use crate::random::RandomStream;

/// The last value of `body` summed over `axes` of a 2-d space whose one input has dtype `d`.
fn sum(d: DType, body: Vec<Inst>, axes: Vec<u32>) -> Kernel {
    fold(ReduceOp::Sum, d, body, axes)
}

/// The last value of `body` folded with `op` over `axes` of a 2-d space whose one input
/// has dtype `d`.
fn fold(op: ReduceOp, d: DType, body: Vec<Inst>, axes: Vec<u32>) -> Kernel {
    let value = v(body.len() as u32 - 1);
    let output = KernelOutput::Reduce { op, axes, keepdims: false, value };
    Kernel { ndim: 2, inputs: vec![KernelInput { dtype: d, axes: vec![0, 1] }], body, output }
}

fn twice(d: DType) -> Vec<Inst> {
    let two = if d == DType::F32 { Scalar::F32(2.0) } else { Scalar::F64(2.0) };
    vec![Inst::Load(0), Inst::Const(two), Inst::Binary(BinaryOp::Mul, v(0), v(1))]
}

#[test]
fn memory_bound_folds_ask_for_the_next_row_and_costly_ones_do_not() {
    let above = vec![Inst::Load(0), Inst::Const(Scalar::F64(0.5)), Inst::Binary(BinaryOp::Gt, v(0), v(1))];
    let exp = vec![Inst::Load(0), Inst::Unary(UnaryOp::Exp, v(0))];
    for (k, hints) in [
        (sum(DType::F64, twice(DType::F64), vec![0, 1]), true),
        (sum(DType::F32, twice(DType::F32), vec![1]), true),
        (sum(DType::F64, above, vec![0, 1]), true),
        (fold(ReduceOp::Max, DType::F64, twice(DType::F64), vec![0, 1]), true),
        (fold(ReduceOp::Min, DType::F32, twice(DType::F32), vec![1]), true),
        (sum(DType::F64, exp, vec![0, 1]), false),
    ] {
        let c = crate::jit::cache::get(&k, &[Stride::One]).expect("the kernel compiles");
        assert_eq!(c.hints_next_row, hints && cfg!(target_arch = "x86_64"), "{k}");
    }
}

#[test]
fn hinted_folds_of_strided_contiguous_and_1d_blocks_match_the_interpreter() {
    let s = RandomStream::new(5);
    for len in [1usize, 7, 8, 9, 16, 33, 128, 300] {
        let rows = 5;
        // The block is the first `len` columns of an array 3 times as wide: its rows are
        // far apart, so the sums ask for each next row; a whole array is contiguous.
        let wide = ArrayD::from_shape_fn(IxDyn(&[rows, 3 * len]), |i| s.uniform01((i[0] * 3 * len + i[1]) as u64));
        let strided = wide.to_shared().slice_move(s![.., ..len]).into_dyn();
        let whole = wide.slice(s![.., ..len]).to_owned().into_shared().into_dyn();
        for x in [strided, whole] {
            let (f64s, f32s) = (Chunk::from(x.clone()), Chunk::from(x.mapv(|e| e as f32).into_shared()));
            let region = [0..rows, 0..len];
            for axes in [vec![1], vec![0, 1]] {
                check_same(&sum(DType::F64, twice(DType::F64), axes.clone()), &[&f64s], &region, &[rows, len]);
                check_same(&sum(DType::F32, twice(DType::F32), axes.clone()), &[&f32s], &region, &[rows, len]);
                let max = fold(ReduceOp::Max, DType::F64, twice(DType::F64), axes.clone());
                check_same(&max, &[&f64s], &region, &[rows, len]);
                let min = fold(ReduceOp::Min, DType::F32, twice(DType::F32), axes.clone());
                check_same(&min, &[&f32s], &region, &[rows, len]);
                let above = vec![Inst::Load(0), Inst::Const(Scalar::F64(0.5)), Inst::Binary(BinaryOp::Gt, v(0), v(1))];
                check_same(&sum(DType::F64, above, axes), &[&f64s], &region, &[rows, len]);
            }
        }
        // One row of a 1-d space: nothing to ask for ahead.
        let line = Chunk::from(ArrayD::from_shape_fn(IxDyn(&[len]), |i| s.uniform01(i[0] as u64)).into_shared());
        let mut k = sum(DType::F64, twice(DType::F64), vec![0]);
        (k.ndim, k.inputs[0].axes) = (1, vec![0]);
        let region = std::iter::once(0..len).collect::<Vec<_>>();
        check_same(&k, &[&line], &region, &[len]);
    }
}
