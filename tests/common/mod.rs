//! Helpers shared by the integration tests: deterministic test data, the settings every
//! result is computed under (which must all agree), and NaN-aware comparisons.

#![allow(dead_code)]

use kiln::prelude::*;
use ndarray::{ArrayD, IxDyn};

/// Deterministic values in [-4, 4) on a 1/8 grid (so halves and exact ties occur), from a
/// small LCG: an independent reference, not kiln's generator.
pub fn data(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 33) % 64) as f64 / 8.0 - 4.0
    })
}

/// Integer test data in [-50, 50).
pub fn int_data(shape: &[usize], seed: u64) -> ArrayD<i64> {
    data(shape, seed).mapv(|v| (v * 12.5) as i64)
}

/// The settings every result is computed under: optimized and not, one thread and several,
/// with the verifier on after every pass (release test builds leave it off by default).
pub fn configs() -> Vec<Config> {
    let base = Config { verify: true, ..Config::default() };
    vec![
        base.clone().with_scheduler(Scheduler::Sync),
        base.clone().with_scheduler(Scheduler::Threads(3)),
        base.with_scheduler(Scheduler::Threads(2)).with_optimize(false).with_split_every(2),
    ]
}

/// Computes `a` under every setting of [`configs`]. Results must not depend on threads or
/// scheduling at all (bitwise equal, NaNs included); a different reduction fan-in combines
/// float partial results in another order, so that one is compared closely instead.
pub fn eval(a: &Array) -> DynArray {
    let cfgs = configs();
    let run = |c: &Config| a.compute_with(c).unwrap_or_else(|e| panic!("{e}\n{}", a.explain()));
    let first = run(&cfgs[0]);
    let bits = |d: &DynArray| -> Vec<u64> {
        d.cast(DType::F64).into_f64().expect("f64").iter().map(|v| v.to_bits()).collect()
    };
    let threaded = run(&cfgs[1]);
    assert_eq!((threaded.dtype(), threaded.shape()), (first.dtype(), first.shape()));
    assert_eq!(bits(&threaded), bits(&first), "threads changed the result");
    let other = run(&cfgs[2]);
    assert_eq!((other.dtype(), other.shape()), (first.dtype(), first.shape()));
    let as_f64 = |d: &DynArray| d.cast(DType::F64).into_f64().expect("f64");
    assert_close(&as_f64(&other), &as_f64(&first), 1e-8);
    first
}

/// Computes `a` and returns it as `f64` (casting other dtypes).
pub fn eval_f64(a: &Array) -> ArrayD<f64> {
    eval(a).cast(DType::F64).into_f64().expect("cast to f64")
}

/// Asserts `got` ≈ `want` elementwise (relative tolerance `rtol`, absolute 1e-12); NaNs
/// must match NaNs.
pub fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>, rtol: f64) {
    assert_eq!(got.shape(), want.shape(), "shapes differ");
    for ((i, g), w) in got.indexed_iter().zip(want.iter()) {
        let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= 1e-12 + rtol * w.abs();
        assert!(ok, "at {i:?}: got {g}, want {w}");
    }
}

/// Chunkings to try for an array of `shape`: one block, uneven blocks, blocks of one.
pub fn chunkings(shape: &[usize]) -> Vec<Vec<usize>> {
    vec![
        shape.iter().map(|&d| d.max(1)).collect(),
        shape.iter().map(|&d| (d / 2 + 1).max(1)).collect(),
        shape.iter().map(|&d| (d / 3).max(1)).collect(),
        vec![1; shape.len()],
    ]
}
