//! What the kernel timing examples share: a median timer and the A1 kernel.

use std::hint::black_box;
use std::time::Instant;

use kiln_ir::{
    BinaryOp, DType, Distribution, F64Bits, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, Scalar, UnaryOp, ValueId,
};

/// The uniform distribution on [0, 1).
pub const UNIFORM: Distribution = Distribution::Uniform { low: F64Bits(0.0), high: F64Bits(1.0) };

/// The median of `reps` timings of `f`, in seconds.
pub fn time_s<T>(reps: usize, mut f: impl FnMut() -> T) -> f64 {
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[reps / 2]
}

/// The A1 kernel `(sin(x)^2 + cos(y)^2) * x - y/2` over a block of an 8192×8192 space
/// (`x` input 0, `y` a random source), summed when `reduce`, a map otherwise.
pub fn a1(reduce: bool) -> Kernel {
    use BinaryOp::*;
    let v = ValueId;
    let body = vec![
        Inst::Load(0),
        Inst::Random {
            dist: UNIFORM,
            seed: 7,
            base: vec![8192, 8192],
            start: vec![0, 0],
            step: vec![1, 1],
            axes: vec![Some(0), Some(1)],
        },
        Inst::Unary(UnaryOp::Sin, v(0)),
        Inst::Const(Scalar::F64(2.0)),
        Inst::Binary(Pow, v(2), v(3)),
        Inst::Unary(UnaryOp::Cos, v(1)),
        Inst::Binary(Pow, v(5), v(3)),
        Inst::Binary(Add, v(4), v(6)),
        Inst::Binary(Mul, v(7), v(0)),
        Inst::Binary(Div, v(1), v(3)),
        Inst::Binary(Sub, v(8), v(9)),
    ];
    Kernel {
        ndim: 2,
        inputs: vec![KernelInput { dtype: DType::F64, axes: vec![0, 1] }],
        body,
        output: sum_or_map(reduce, 10),
    }
}

/// A sum over both axes of value `value` when `reduce`, else a map of it.
pub fn sum_or_map(reduce: bool, value: u32) -> KernelOutput {
    if reduce {
        KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![0, 1], keepdims: false, value: ValueId(value) }
    } else {
        KernelOutput::Map(ValueId(value))
    }
}
