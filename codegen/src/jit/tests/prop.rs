//! Differential property tests: the interpreter's random well-typed kernels (every op over
//! bool, i32, i64, f32 and f64 with casts, random/arange/linspace sources, broadcast,
//! strided, reversed, transposed and Fortran-order inputs, empty, length-1, odd and
//! longer-than-a-tile rows, NaN, ±inf, -0.0, integer extremes, division by zero) run on the
//! JIT and on the interpreter must agree bit for bit, for maps and for every reduction's
//! partial state.

use kiln_ir::Chunk;
use proptest::prelude::*;

use super::check_same;
use crate::kernel::tests::prop::case_of;

fn run(seed: u64, ndim: u32, n_ops: usize, reduce: bool, across: bool) {
    let c = case_of(seed, ndim, n_ops, reduce, across);
    let refs: Vec<&Chunk> = c.inputs.iter().collect();
    check_same(&c.kernel, &refs, &c.region, &c.space);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn jit_maps_match_the_interpreter(seed in any::<u64>(), ndim in 0u32..4, n_ops in 0usize..14) {
        run(seed, ndim, n_ops, false, false);
    }

    #[test]
    fn jit_reductions_match_the_interpreter(seed in any::<u64>(), ndim in 0u32..4, n_ops in 0usize..10) {
        run(seed, ndim, n_ops, true, false);
    }

    #[test]
    fn jit_kernels_reading_across_layouts_match_the_interpreter(
        seed in any::<u64>(),
        ndim in 2u32..4,
        n_ops in 0usize..10,
        reduce in any::<bool>(),
    ) {
        run(seed, ndim, n_ops, reduce, true);
    }
}
