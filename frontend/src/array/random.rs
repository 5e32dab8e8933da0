//! `kiln::array::random`: counter-based random arrays. The value at each position depends
//! only on the seed and the element's flat index, never on the chunking, so rechunking or
//! slicing never changes the numbers (a promise Dask does not make).

use kiln_ir::{Chunks, Distribution, F64Bits, Shape, build};

use super::Array;
use super::create::source;

/// Uniform `f64` values in `[0, 1)`.
pub fn uniform(shape: impl Into<Shape>, chunks: impl Into<Chunks>, seed: u64) -> Array {
    uniform_range(0.0, 1.0, shape, chunks, seed)
}

/// Uniform `f64` values in `[low, high)`.
pub fn uniform_range(low: f64, high: f64, shape: impl Into<Shape>, chunks: impl Into<Chunks>, seed: u64) -> Array {
    let dist = Distribution::Uniform { low: F64Bits(low), high: F64Bits(high) };
    random(dist, shape.into(), chunks.into(), seed)
}

/// Standard normal `f64` values.
pub fn normal(shape: impl Into<Shape>, chunks: impl Into<Chunks>, seed: u64) -> Array {
    normal_with(0.0, 1.0, shape, chunks, seed)
}

/// Normal `f64` values with the given mean and standard deviation.
pub fn normal_with(mean: f64, std: f64, shape: impl Into<Shape>, chunks: impl Into<Chunks>, seed: u64) -> Array {
    let dist = Distribution::Normal { mean: F64Bits(mean), std: F64Bits(std) };
    random(dist, shape.into(), chunks.into(), seed)
}

fn random(dist: Distribution, shape: Shape, chunks: Chunks, seed: u64) -> Array {
    source(build::random(dist, seed, &shape, &chunks), || build::random(dist, seed, &shape, &Chunks::full()))
}
