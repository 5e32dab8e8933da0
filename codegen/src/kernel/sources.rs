//! Position-dependent values of a tile: constants, counter-based random numbers, `arange`
//! and `linspace`, each a function of the global iteration position, computed with the
//! reference sources' formulas (`reference::source`, which the tests compare against).

use kiln_ir::{Distribution, Scalar};

use crate::error::{Error, Result};
use crate::kernel::eval::out;
use crate::kernel::simd::wide;
use crate::kernel::tile::{Buf, Elem};
use crate::random::RandomStream;

/// A random source: the flat index in the generated array at a position is
/// `tracker + i * step` where `tracker` is the row's value (see `walk`) and `i` the global
/// position along the last iteration axis minus the block's start.
#[derive(Copy, Clone, Debug)]
pub(crate) struct RandomGen {
    /// The distribution.
    pub(crate) dist: Distribution,
    /// The seed's stream.
    pub(crate) stream: RandomStream,
    /// Flat-index step per step along the last iteration axis.
    pub(crate) step: i64,
}

impl RandomGen {
    /// Values at flat indices `g0 + i * step` (wrapping, as the reference's `as u64`) for
    /// `i < dst.len()`.
    pub(crate) fn fill(&self, g0: i64, dst: &mut [f64]) {
        let stream = self.stream;
        let step = self.step;
        match self.dist {
            Distribution::Uniform { low, high } => {
                let (low, width) = (low.0, high.0 - low.0);
                fill_affine(g0, step, dst, move |g| low + width * stream.uniform01(g));
            }
            Distribution::Normal { mean, std } => {
                let (mean, std) = (mean.0, std.0);
                fill_affine(g0, step, dst, move |g| mean + std * stream.standard_normal(g));
            }
        }
    }
}

#[inline(always)]
fn fill_affine(g0: i64, step: i64, dst: &mut [f64], f: impl Fn(u64) -> f64) {
    if step == 0 {
        dst.fill(f(g0 as u64));
        return;
    }
    wide(move || {
        for (i, d) in dst.iter_mut().enumerate() {
            *d = f(g0.wrapping_add((i as i64).wrapping_mul(step)) as u64);
        }
    })
}

/// `value` (of the buffer's dtype) into `dst[range]`.
pub(super) fn fill_const(value: Scalar, dst: &mut Buf, range: std::ops::Range<usize>) -> Result<()> {
    fn fill<T: Elem>(value: Scalar, dst: &mut Buf, range: std::ops::Range<usize>) -> Result<()> {
        out::<T>(dst, range)?.fill(T::from_scalar(value));
        Ok(())
    }
    match value {
        Scalar::Bool(_) => fill::<bool>(value, dst, range),
        Scalar::I32(_) => fill::<i32>(value, dst, range),
        Scalar::I64(_) => fill::<i64>(value, dst, range),
        Scalar::F32(_) => fill::<f32>(value, dst, range),
        Scalar::F64(_) => fill::<f64>(value, dst, range),
    }
}

/// NumPy's `arange` element at global position `i`: `start + i * step` in the dtype of
/// `start` and `step`, as `reference::source::arange` computes it (integers wrap, floats
/// compute `start + (i as float) * step`, `bool` computes in `i64` and tests for non-zero).
#[derive(Copy, Clone, Debug)]
pub(super) enum Arange {
    /// `bool` start and step.
    Bool(i64, i64),
    /// `i32` start and step.
    I32(i32, i32),
    /// `i64` start and step.
    I64(i64, i64),
    /// `f32` start and step.
    F32(f32, f32),
    /// `f64` start and step.
    F64(f64, f64),
}

impl Arange {
    /// The parameters, which must share a dtype.
    pub(super) fn new(start: Scalar, step: Scalar) -> Result<Arange> {
        Ok(match (start, step) {
            (Scalar::Bool(s), Scalar::Bool(d)) => Arange::Bool(i64::from(s), i64::from(d)),
            (Scalar::I32(s), Scalar::I32(d)) => Arange::I32(s, d),
            (Scalar::I64(s), Scalar::I64(d)) => Arange::I64(s, d),
            (Scalar::F32(s), Scalar::F32(d)) => Arange::F32(s, d),
            (Scalar::F64(s), Scalar::F64(d)) => Arange::F64(s, d),
            _ => return Err(Error::Internal(format!("kernel: arange start {start} and step {step} differ in dtype"))),
        })
    }

    /// The elements at global positions `first, first + 1, ...` (or `first` everywhere
    /// when `along` is false) into `dst[range]`.
    pub(super) fn fill(self, first: usize, along: bool, dst: &mut Buf, range: std::ops::Range<usize>) -> Result<()> {
        fn run<T: Elem>(
            first: usize,
            along: bool,
            dst: &mut Buf,
            range: std::ops::Range<usize>,
            f: impl Fn(usize) -> T,
        ) -> Result<()> {
            let o = out::<T>(dst, range)?;
            if along {
                o.iter_mut().enumerate().for_each(|(k, d)| *d = f(first + k));
            } else {
                o.fill(f(first));
            }
            Ok(())
        }
        match self {
            Arange::Bool(s, d) => run(first, along, dst, range, |i| s.wrapping_add((i as i64).wrapping_mul(d)) != 0),
            Arange::I32(s, d) => run(first, along, dst, range, |i| s.wrapping_add((i as i32).wrapping_mul(d))),
            Arange::I64(s, d) => run(first, along, dst, range, |i| s.wrapping_add((i as i64).wrapping_mul(d))),
            Arange::F32(s, d) => run(first, along, dst, range, |i| s + i as f32 * d),
            Arange::F64(s, d) => run(first, along, dst, range, |i| s + i as f64 * d),
        }
    }
}

/// NumPy's `linspace(start, stop, n, endpoint)` element at global position `i`, as
/// `reference::source::linspace` computes it.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Linspace {
    start: f64,
    stop: f64,
    n: usize,
    endpoint: bool,
    div: usize,
    delta: f64,
    step: f64,
}

impl Linspace {
    /// The parameters.
    pub(crate) fn new(start: f64, stop: f64, num: u64, endpoint: bool) -> Linspace {
        let n = usize::try_from(num).unwrap_or(usize::MAX);
        let div = if endpoint { n.saturating_sub(1) } else { n };
        let delta = stop - start;
        let step = if div > 0 { delta / div as f64 } else { f64::NAN };
        Linspace { start, stop, n, endpoint, div, delta, step }
    }

    /// The element at global position `i`.
    #[inline]
    pub(crate) fn at(&self, i: usize) -> f64 {
        if self.endpoint && self.n > 1 && i == self.n - 1 {
            self.stop
        } else if self.div == 0 {
            self.start
        } else if self.step == 0.0 {
            (i as f64 / self.div as f64) * self.delta + self.start
        } else {
            i as f64 * self.step + self.start
        }
    }

    /// The elements at global positions `first, first + 1, ...` (or `first` everywhere
    /// when `along` is false) into `dst`.
    pub(crate) fn fill(&self, first: usize, along: bool, dst: &mut [f64]) {
        if along {
            dst.iter_mut().enumerate().for_each(|(k, d)| *d = self.at(first + k));
        } else {
            dst.fill(self.at(first));
        }
    }
}

#[cfg(test)]
// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use crate::reference::source;
    use kiln_ir::{Chunk, F64Bits};

    fn bits(c: &Chunk) -> Vec<u64> {
        c.typed::<f64>().unwrap().iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn arange_matches_the_reference() {
        let cases = [
            (Scalar::I32(i32::MAX - 3), Scalar::I32(2)),
            (Scalar::I64(-5), Scalar::I64(i64::MAX / 3)),
            (Scalar::F32(0.25), Scalar::F32(0.1)),
            (Scalar::F64(-1.5), Scalar::F64(0.3)),
            (Scalar::Bool(true), Scalar::Bool(true)),
            (Scalar::Bool(false), Scalar::Bool(true)),
        ];
        for (start, step) in cases {
            let want = source::arange(start, step, 7..20).unwrap();
            let mut got = Buf::zeros(start.dtype(), 13);
            Arange::new(start, step).unwrap().fill(7, true, &mut got, 0..13).unwrap();
            assert_eq!(got.clone().into_chunk(&[13]).unwrap(), want, "{start} {step}");
            Arange::new(start, step).unwrap().fill(9, false, &mut got, 0..13).unwrap();
            let one = source::arange(start, step, 9..10).unwrap();
            assert_eq!(
                got.into_chunk(&[13]).unwrap().typed::<f64>().map(|a| a[[0]]),
                one.typed::<f64>().map(|a| a[[0]])
            );
        }
        assert!(Arange::new(Scalar::I32(0), Scalar::I64(1)).is_err());
    }

    #[test]
    fn linspace_matches_the_reference() {
        for (start, stop, n, endpoint) in
            [(0.0, 1.0, 5, true), (0.1, 0.7, 7, true), (3.0, 9.0, 1, true), (3.0, 9.0, 1, false), (2.0, 2.0, 4, true)]
        {
            let want = source::linspace(start, stop, endpoint, n, 0..n);
            let mut got = vec![0.0; n];
            Linspace::new(start, stop, n as u64, endpoint).fill(0, true, &mut got);
            assert_eq!(bits(&Chunk::new(ndarray::arr1(&got).into_dyn())), bits(&want));
        }
    }

    #[test]
    fn random_matches_the_reference() {
        for dist in [
            Distribution::Uniform { low: F64Bits(-1.0), high: F64Bits(3.0) },
            Distribution::Normal { mean: F64Bits(2.0), std: F64Bits(0.5) },
        ] {
            let want = source::random(dist, 9, &[40], None, &[5..40]).unwrap();
            let random = RandomGen { dist, stream: RandomStream::new(9), step: 1 };
            let mut got = vec![0.0; 35];
            random.fill(5, &mut got);
            assert_eq!(bits(&Chunk::new(ndarray::arr1(&got).into_dyn())), bits(&want));
            let flat = RandomGen { step: 0, ..random };
            flat.fill(7, &mut got[..3]);
            assert_eq!(got[..3].iter().map(|v| v.to_bits()).collect::<Vec<_>>(), vec![bits(&want)[2]; 3]);
        }
    }
}
