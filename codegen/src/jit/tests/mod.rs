//! Tests of the JIT against the kernel interpreter: unit tests per feature (`ops`), the
//! `F32X4` loops on fixed and random `f32` kernels (`f32_vectors`), the integer lanes
//! (`int_vectors`), `where` over lane masks (`masks`), the
//! polynomial functions against the interpreter's libm and the Rust reference (`math`),
//! differential property tests over the interpreter's random kernels (`prop`), CLIF
//! snapshots of representative kernels (`snapshots`), inputs read across their layout,
//! which the JIT stages (`staging`), and values filled by host code (`fills`). The
//! differential checks run every kernel with fills and with everything inline.

mod extremes;
mod f32_vectors;
mod fills;
mod hints;
mod int_vectors;
mod masks;
mod math;
mod ops;
mod pair;
mod prop;
mod snapshots;
mod staging;

use std::ops::Range;

use kiln_ir::{Chunk, Kernel, KernelOutput, with_chunk};

use crate::error::Error;
use crate::jit::analysis::{Analysis, Stride};
use crate::jit::fills::with_batching;
use crate::jit::vector::{LaneType, lane_type};
use crate::math::with_polynomials_in_interpreter;

/// The bits of every element of a block, in logical C order (floats as their IEEE bits).
///
/// Every NaN counts as one value: which NaN an operation with two NaN operands returns (its
/// sign and payload) IEEE 754 leaves open, and on x86 it follows the operand order, which
/// compilers choose freely for commutative operations (`x * y` may be emitted as `y * x`).
/// Everything else, `-0.0` included, is compared bit for bit.
pub(super) fn bits(c: &Chunk) -> Vec<u64> {
    const NAN: u64 = u64::MAX;
    match c {
        Chunk::F64(a) => a.iter().map(|v| if v.is_nan() { NAN } else { v.to_bits() }).collect(),
        Chunk::F32(a) => a.iter().map(|v| if v.is_nan() { NAN } else { u64::from(v.to_bits()) }).collect(),
        other => with_chunk!(other, a => a.iter().map(|v| format!("{v:?}")).map(|s| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            s.hash(&mut h);
            h.finish()
        }).collect()),
    }
}

/// The lane type `kernel` compiles with when its inputs are read along rows with `strides`.
pub(super) fn lanes_of(kernel: &Kernel, strides: &[Stride]) -> Option<LaneType> {
    let a = Analysis::new(kernel, kernel.dtypes().expect("a well-typed kernel"), strides);
    lane_type(kernel, &a, strides)
}

/// Whether the JIT declined the call because an input is read across its layout with
/// nothing shared between rows (the interpreter runs it instead).
fn declined<T>(r: &crate::Result<T>) -> bool {
    matches!(r, Err(Error::Unsupported(m)) if m.contains("read across its layout"))
}

/// Runs `kernel` on the JIT, with fills (`jit::fills`) and with everything inline, and on
/// the interpreter (computing the `f64` functions `crate::math` covers with its
/// polynomials, as the JIT does) and asserts they agree: the same block bit for bit (maps)
/// or the same partial state (reductions), or the same data error; where the interpreter
/// rejects the call as invalid, the JIT must decline it too. A call reading an input
/// across its layout may be declined.
pub(super) fn check_same(kernel: &Kernel, inputs: &[&Chunk], region: &[Range<usize>], space: &[usize]) {
    for fills in [true, false] {
        with_batching(fills, || check_same_once(kernel, inputs, region, space));
    }
}

fn check_same_once(kernel: &Kernel, inputs: &[&Chunk], region: &[Range<usize>], space: &[usize]) {
    let what = || format!("{kernel}\nregion {region:?} space {space:?}");
    match kernel.output {
        KernelOutput::Map(_) => {
            let want = with_polynomials_in_interpreter(|| crate::kernel::run_map(kernel, inputs, region));
            let got = super::run_map(kernel, inputs, region);
            if declined(&got) {
                return;
            }
            match (got, want) {
                (Ok(g), Ok(w)) => {
                    assert_eq!((g.dtype(), g.shape()), (w.dtype(), w.shape()), "{}", what());
                    assert_eq!(bits(&g), bits(&w), "{}", what());
                }
                (Err(Error::Compute(g)), Err(Error::Compute(w))) => assert_eq!(g, w, "{}", what()),
                (Err(g), Err(Error::Internal(_))) => assert!(!matches!(g, Error::Compute(_)), "{}", what()),
                (g, w) => panic!("{}\njit {g:?}\ninterpreter {w:?}", what()),
            }
        }
        KernelOutput::Reduce { .. } => {
            let want = with_polynomials_in_interpreter(|| crate::kernel::run_partial(kernel, inputs, region, space));
            let got = super::run_partial(kernel, inputs, region, space);
            if declined(&got) {
                return;
            }
            match (got, want) {
                (Ok(g), Ok(w)) => assert_eq!(format!("{g:?}"), format!("{w:?}"), "{}", what()),
                (Err(Error::Compute(g)), Err(Error::Compute(w))) => assert_eq!(g, w, "{}", what()),
                (Err(g), Err(Error::Internal(_))) => assert!(!matches!(g, Error::Compute(_)), "{}", what()),
                (g, w) => panic!("{}\njit {g:?}\ninterpreter {w:?}", what()),
            }
        }
    }
}
