//! Snapshots of the CLIF text of representative kernels (before Cranelift optimizes it):
//! the A1 map, a broadcast integer kernel with floor modulo, a sum of a strided input with
//! casts, a random source with a `where`, the vectorized polynomial `sin` (its fast
//! path, its fallback mask and the cold per-lane call) and `pow` in a map, and an `f32` kernel in its
//! `F32X4` loop, as a map and as the pairwise leaf (each vector promoted to two `F64X2`),
//! and the leaf of a costly body, emitted once with rotating accumulators; and A1's leaf as
//! planned with fills (`jit::fills`).

use kiln_ir::{
    BinaryOp, DType, Distribution, F64Bits, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, Scalar, ValueId,
};

use super::ops::a1;
use crate::jit::{Stride, clif_text};

fn snapshot(name: &str, kernel: &Kernel, strides: &[Stride], leaf: bool) {
    let text = clif_text(kernel, strides, leaf).expect("the kernel compiles");
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, format!("{kernel}\n\n{text}"));
    });
}

#[test]
fn a1_map() {
    snapshot("a1_map", &a1(None), &[Stride::One, Stride::One], false);
}

/// A1 summed with `y` a random source, as planned with fills: `sin`, the random numbers and
/// `cos` of them become loads of extra inputs 1 to 3, and the leaf is plain arithmetic.
#[test]
fn a1_with_fills_sum_leaf() {
    let mut k = a1(Some((ReduceOp::Sum, vec![0, 1])));
    k.inputs.truncate(1);
    k.body[1] = Inst::Random {
        dist: Distribution::Uniform { low: F64Bits(0.0), high: F64Bits(1.0) },
        seed: 7,
        base: vec![64, 64],
        start: vec![0, 0],
        step: vec![1, 1],
        axes: vec![Some(0), Some(1)],
    };
    let text = crate::jit::compile::fills_text(&k, &[Stride::One], true).expect("the kernel compiles");
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("a1_with_fills_sum_leaf", format!("{k}\n\n{text}"));
    });
}

#[test]
fn vectorized_sin() {
    let k = Kernel {
        ndim: 1,
        inputs: vec![KernelInput { dtype: DType::F64, axes: vec![0] }],
        body: vec![Inst::Load(0), Inst::Unary(kiln_ir::UnaryOp::Sin, ValueId(0))],
        output: KernelOutput::Map(ValueId(1)),
    };
    snapshot("vectorized_sin", &k, &[Stride::One], false);
}

/// `x ** y`: the two-part logarithm, the product's head and tail, `exp`'s reduction with
/// the tail added, the fallback mask and the cold per-lane call of `kiln_pow_f64`.
#[test]
fn vectorized_pow() {
    let k = Kernel {
        ndim: 1,
        inputs: vec![
            KernelInput { dtype: DType::F64, axes: vec![0] },
            KernelInput { dtype: DType::F64, axes: vec![0] },
        ],
        body: vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Pow, ValueId(0), ValueId(1))],
        output: KernelOutput::Map(ValueId(2)),
    };
    snapshot("vectorized_pow", &k, &[Stride::One, Stride::One], false);
}

#[test]
fn broadcast_integer_rem() {
    let v = ValueId;
    let k = Kernel {
        ndim: 2,
        inputs: vec![
            KernelInput { dtype: DType::I32, axes: vec![0, 1] },
            KernelInput { dtype: DType::I32, axes: vec![0] },
        ],
        body: vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Binary(BinaryOp::Rem, v(0), v(1)),
            Inst::Const(Scalar::I32(3)),
            Inst::Binary(BinaryOp::Mul, v(2), v(3)),
        ],
        output: KernelOutput::Map(v(4)),
    };
    snapshot("broadcast_integer_rem", &k, &[Stride::One, Stride::Zero], false);
}

#[test]
fn strided_cast_sum() {
    let v = ValueId;
    let k = Kernel {
        ndim: 1,
        inputs: vec![KernelInput { dtype: DType::F32, axes: vec![0] }],
        body: vec![Inst::Load(0), Inst::Cast(DType::I64, v(0)), Inst::Cast(DType::F64, v(1))],
        output: KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![0], keepdims: false, value: v(2) },
    };
    snapshot("strided_cast_sum", &k, &[Stride::Other], true);
}

#[test]
fn random_where() {
    let v = ValueId;
    let k = Kernel {
        ndim: 1,
        inputs: vec![],
        body: vec![
            Inst::Random {
                dist: Distribution::Uniform { low: F64Bits(0.0), high: F64Bits(1.0) },
                seed: 1,
                base: vec![100],
                start: vec![0],
                step: vec![1],
                axes: vec![Some(0)],
            },
            Inst::Const(Scalar::F64(0.5)),
            Inst::Binary(BinaryOp::Lt, v(0), v(1)),
            Inst::Where(v(2), v(0), v(1)),
        ],
        output: KernelOutput::Map(v(3)),
    };
    snapshot("random_where", &k, &[], false);
}

/// `sqrt(x*x + y*y)` over `f32` rows.
fn f32_hypot() -> Kernel {
    let v = ValueId;
    Kernel {
        ndim: 1,
        inputs: vec![
            KernelInput { dtype: DType::F32, axes: vec![0] },
            KernelInput { dtype: DType::F32, axes: vec![0] },
        ],
        body: vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Binary(BinaryOp::Mul, v(0), v(0)),
            Inst::Binary(BinaryOp::Mul, v(1), v(1)),
            Inst::Binary(BinaryOp::Add, v(2), v(3)),
            Inst::Unary(kiln_ir::UnaryOp::Sqrt, v(4)),
        ],
        output: KernelOutput::Map(v(5)),
    }
}

#[test]
fn f32_vector_map() {
    snapshot("f32_vector_map", &f32_hypot(), &[Stride::One, Stride::One], false);
}

#[test]
fn f32_vector_sum_leaf() {
    let mut k = f32_hypot();
    k.output = KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![0], keepdims: false, value: ValueId(5) };
    snapshot("f32_vector_sum_leaf", &k, &[Stride::One, Stride::One], true);
}

#[test]
fn rotating_exp_sum_leaf() {
    // A costly body (the polynomial `exp`) is emitted once in the leaf: one vector per
    // iteration into the first accumulator, the four accumulators rotating.
    let v = ValueId;
    let k = Kernel {
        ndim: 1,
        inputs: vec![KernelInput { dtype: DType::F64, axes: vec![0] }],
        body: vec![Inst::Load(0), Inst::Unary(kiln_ir::UnaryOp::Exp, v(0))],
        output: KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![0], keepdims: false, value: v(1) },
    };
    snapshot("rotating_exp_sum_leaf", &k, &[Stride::One], true);
}
