//! The JIT's polynomial `exp`, `ln`, `sin`, `cos` and `tanh`: bit for bit the Rust
//! reference (`crate::math`) and within `crate::math::ULP_BOUND` of the interpreter's libm,
//! in the vector body and the scalar tail (with lanes off the fast path paired with lanes on
//! it), on strided rows (scalar code), on row-invariant values and in pairwise-sum leaves.

// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#![allow(clippy::single_range_in_vec_init)]

use kiln_ir::{Chunk, DType, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, UnaryOp, ValueId};
use ndarray::{Array1, Array2};

use super::check_same;
use crate::math::{ULP_BOUND, function, tests::ulps};
use crate::random::RandomStream;

const OPS: [UnaryOp; 5] = [UnaryOp::Exp, UnaryOp::Ln, UnaryOp::Sin, UnaryOp::Cos, UnaryOp::Tanh];

fn libm(op: UnaryOp) -> fn(f64) -> f64 {
    match op {
        UnaryOp::Exp => f64::exp,
        UnaryOp::Ln => f64::ln,
        UnaryOp::Sin => f64::sin,
        UnaryOp::Cos => f64::cos,
        _ => f64::tanh,
    }
}

/// Arguments on and off every fast path: special values, huge and subnormal magnitudes,
/// the fast paths' bounds, and random values of every scale, shuffled so that both lanes
/// of a vector meet both kinds.
fn args(n: usize, seed: u64) -> Vec<f64> {
    let specials = [
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        5e-324,
        -1e-310,
        1e22,
        -1e300,
        709.5,
        -745.0,
        -708.5,
        1048576.0,
        -1048575.5,
        f64::MAX,
        f64::MIN_POSITIVE,
        12867.963509103793, // 8192 π/2, rounded: cancels many bits on reduction.
    ];
    let s = RandomStream::new(seed);
    (0..n)
        .map(|i| {
            let b = s.bits(i as u64);
            if b.is_multiple_of(7) {
                return specials[(b >> 8) as usize % specials.len()];
            }
            let scale = 2f64.powi((b >> 16) as i32 % 24 - 12);
            (s.uniform01(i as u64 + n as u64) * 2.0 - 1.0) * scale * 8.0
        })
        .collect()
}

fn unary_kernel(op: UnaryOp, output: KernelOutput, input_axes: &[u32], ndim: u32) -> Kernel {
    Kernel {
        ndim,
        inputs: vec![KernelInput { dtype: DType::F64, axes: input_axes.to_vec() }],
        body: vec![Inst::Load(0), Inst::Unary(op, ValueId(0))],
        output,
    }
}

#[test]
fn maps_are_the_reference_bitwise_and_within_the_bound_of_libm() {
    let xs = args(4099, 1);
    for op in OPS {
        let k = unary_kernel(op, KernelOutput::Map(ValueId(1)), &[0], 1);
        let (reference, libm) = (function(op).expect("covered"), libm(op));
        // Offsets shift which arguments share a vector; lengths leave 0 to 3 for the tail.
        let cases = [(0, 4099), (1, 4099), (3, 4098), (5, 6), (2, 9)];
        for ((lo, hi), fills) in cases.into_iter().flat_map(|c| [(c, true), (c, false)]) {
            let input = Chunk::new(Array1::from(xs[lo..hi].to_vec()).into_dyn());
            let got = crate::jit::fills::with_batching(fills, || crate::jit::run_map(&k, &[&input], &[0..hi - lo]))
                .expect("the JIT runs it");
            let interp = crate::kernel::run_map(&k, &[&input], &[0..hi - lo]).expect("the interpreter runs it");
            let (got, interp) = (got.typed::<f64>().unwrap().clone(), interp.typed::<f64>().unwrap().clone());
            for ((&x, &g), &w) in xs[lo..hi].iter().zip(&got).zip(&interp) {
                assert_eq!(g.to_bits(), reference(x).to_bits(), "{op:?}({x:e}) with fills {fills}: jit {g:e}");
                assert_eq!(w.to_bits(), libm(x).to_bits(), "the interpreter keeps libm");
                assert!(ulps(g, w) <= ULP_BOUND, "{op:?}({x:e}): jit {g:e}, interpreter {w:e}");
            }
        }
    }
}

#[test]
fn strided_broadcast_and_summed_inputs_match_the_interpreter() {
    let n = 37;
    let xs = args(n * n, 2);
    let grid = Chunk::new(Array2::from_shape_vec((n, n), xs).unwrap().into_dyn());
    let column = Chunk::new(Array1::from(args(n, 3)).into_dyn());
    for op in OPS {
        // Transposed: the row reads with a stride, in scalar code.
        check_same(&unary_kernel(op, KernelOutput::Map(ValueId(1)), &[1, 0], 2), &[&grid], &[0..n, 0..n], &[n, n]);
        // A column broadcast along the row: computed once per row, before the loop.
        check_same(&unary_kernel(op, KernelOutput::Map(ValueId(1)), &[0], 2), &[&column], &[0..n, 0..n], &[n, n]);
        for axes in [vec![0, 1], vec![1]] {
            let sum = KernelOutput::Reduce { op: ReduceOp::Sum, axes, keepdims: false, value: ValueId(1) };
            check_same(&unary_kernel(op, sum, &[0, 1], 2), &[&grid], &[0..n, 0..n], &[n, n]);
        }
    }
}

#[test]
fn a1_stays_close_to_the_libm_interpreter() {
    let n = 64;
    let s = RandomStream::new(9);
    let grid = |seed: u64| {
        Chunk::new(
            Array2::from_shape_fn((n, n), |(i, j)| s.uniform01(seed * 100_000 + (i * n + j) as u64) * 8.0).into_dyn(),
        )
    };
    let (x, y) = (grid(1), grid(2));
    let k = super::ops::a1(None);
    let got = crate::jit::run_map(&k, &[&x, &y], &[0..n, 0..n]).unwrap();
    let want = crate::kernel::run_map(&k, &[&x, &y], &[0..n, 0..n]).unwrap();
    let (xv, yv) = (x.typed::<f64>().unwrap(), y.typed::<f64>().unwrap());
    let (g, w) = (got.typed::<f64>().unwrap(), want.typed::<f64>().unwrap());
    let mut differ = 0;
    for (((g, w), x), y) in g.iter().zip(w).zip(xv).zip(yv) {
        // A few ulp of sin² + cos² (at most 2) times x, then less y/2.
        assert!((g - w).abs() <= 8.0 * f64::EPSILON * (x.abs() + y.abs()), "{g} vs {w}");
        differ += usize::from(g != w);
    }
    // The check can fail: the JIT does not run libm here.
    assert!(differ > 0, "no element differs from libm's: is the JIT calling libm?");
}
