//! The compiled `min`/`max` fold (`loops::extreme`) against the interpreter's
//! `MinMax::fold_slice`, bit for bit: rows whose `min` or `max` is a signed zero, and rows
//! with NaNs of distinct payloads, where which of equal or unordered values is kept depends
//! on the exact order of the 16 chains, their combination and the tail, in `f64` (eight
//! vectors of two lanes) and `f32` (four of four), over rows shorter than a run of 16,
//! between and cut into pieces.

// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#![allow(clippy::single_range_in_vec_init)]

use kiln_ir::{BinaryOp, Chunk, DType, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, Scalar};
use ndarray::{ArrayD, IxDyn};

use super::check_same;
use super::ops::v;
use crate::jit::analysis::Stride;
use crate::random::RandomStream;

/// `op` over `axes` of `x * 1` (a plain load, when `plain`), `x` of dtype `d`.
fn kernel(d: DType, op: ReduceOp, axes: Vec<u32>, plain: bool) -> Kernel {
    let one = Inst::Const(if d == DType::F32 { Scalar::F32(1.0) } else { Scalar::F64(1.0) });
    let body =
        if plain { vec![Inst::Load(0)] } else { vec![Inst::Load(0), one, Inst::Binary(BinaryOp::Mul, v(0), v(1))] };
    let value = v(body.len() as u32 - 1);
    Kernel {
        ndim: 2,
        inputs: vec![KernelInput { dtype: d, axes: vec![0, 1] }],
        body,
        output: KernelOutput::Reduce { op, axes, keepdims: false, value },
    }
}

/// A block of `f64` bit patterns of one `kind`: signed zeros among negative values (whose
/// `max` is a zero), among positive values (whose `min` is), or ordinary values with one
/// NaN in about twenty, of either sign and each with its own payload.
fn block(rows: usize, len: usize, seed: u64, kind: usize) -> ArrayD<u64> {
    let s = RandomStream::new(seed);
    ArrayD::from_shape_fn(IxDyn(&[rows, len]), |i| {
        let b = s.bits((i[0] * len + i[1]) as u64);
        let sign = (b & 1) << 63;
        let value = ((b >> 8) % 100) as f64 + 1.0;
        match (kind, (b >> 1) % 20) {
            (0, 0..=4) => (-value).to_bits(),
            (1, 0..=4) => value.to_bits(),
            (0 | 1, _) => sign,
            (_, 0) => 0x7ff8_0000_0000_0000 | sign | ((b >> 12) & 0xffff),
            _ => (value - 50.0).to_bits(),
        }
    })
}

#[test]
fn extremes_keep_the_interpreters_zeros_and_nans() {
    for len in [1, 2, 3, 4, 5, 7, 8, 9, 13, 130, 1100] {
        for kind in 0..3 {
            let bits = block(3, len, kind as u64 * 7919 + len as u64, kind);
            let x64 = Chunk::new(bits.mapv(f64::from_bits));
            // `f32`: the same signs and (shortened) payloads.
            let x32 = Chunk::new(bits.mapv(|b| {
                let x = f64::from_bits(b);
                if x.is_nan() {
                    f32::from_bits(0x7fc0_0000 | ((b >> 63) as u32) << 31 | (b & 0xffff) as u32)
                } else {
                    x as f32
                }
            }));
            for (d, x) in [(DType::F64, &x64), (DType::F32, &x32)] {
                for op in [ReduceOp::Max, ReduceOp::Min] {
                    for axes in [vec![1], vec![0, 1]] {
                        for plain in [true, false] {
                            let k = kernel(d, op, axes.clone(), plain);
                            let compiled = crate::jit::cache::get(&k, &[Stride::One]).expect("the kernel compiles");
                            assert!(compiled.extreme.is_some(), "{k}");
                            check_same(&k, &[x], &[0..3, 0..len], &[3, len]);
                        }
                    }
                }
            }
        }
    }
}
