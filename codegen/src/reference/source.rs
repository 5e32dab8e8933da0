//! Kernels of source ops: blocks of the user's array (zero-copy views), constant blocks,
//! `arange`, `linspace` and counter-based random numbers. Each computes one block from its
//! region of the whole array, independently of any other block.

use std::ops::Range;

use kiln_ir::op::SourceView;
use kiln_ir::{Chunk, Distribution, Element, Scalar, with_chunk};
use ndarray::{Array1, ArrayD, IxDyn, SliceInfoElem};

use crate::error::{Error, Result};
use crate::random::RandomStream;
use crate::reference::num::with_dtype;

/// The shape of a region.
pub(crate) fn region_shape(region: &[Range<usize>]) -> Vec<usize> {
    region.iter().map(|r| r.len()).collect()
}

/// The block of `src` at `region`: a view sharing `src`'s buffer.
pub fn from_array(src: &Chunk, region: &[Range<usize>]) -> Result<Chunk> {
    let shape = src.shape();
    let fits = region.len() == shape.len() && region.iter().zip(shape).all(|(r, &d)| r.start <= r.end && r.end <= d);
    if !fits {
        return Err(Error::Internal(format!(
            "from_array: block region {region:?} is outside the source array of shape {shape:?}"
        )));
    }
    let info: Vec<SliceInfoElem> = region
        .iter()
        .map(|r| SliceInfoElem::Slice { start: r.start as isize, end: Some(r.end as isize), step: 1 })
        .collect();
    Ok(with_chunk!(src.clone(), a => Chunk::from(a.slice_move(info.as_slice()))))
}

/// A block of `shape` filled with `value` (in `value`'s dtype).
pub fn full(value: Scalar, shape: &[usize]) -> Chunk {
    with_dtype!(value.dtype(), T => Chunk::new(ArrayD::from_elem(IxDyn(shape), T::from_scalar(value))))
}

/// The elements at positions `region` of NumPy's `arange`: `start + i * step` computed in
/// the dtype of `start` and `step` (integers wrap, floats compute `start + (i as float) *
/// step`; `bool` computes in `i64` and tests for non-zero).
pub fn arange(start: Scalar, step: Scalar, region: Range<usize>) -> Result<Chunk> {
    let chunk = match (start, step) {
        (Scalar::I32(s), Scalar::I32(d)) => {
            Chunk::new(Array1::from_iter(region.map(|i| s.wrapping_add((i as i32).wrapping_mul(d)))).into_dyn())
        }
        (Scalar::I64(s), Scalar::I64(d)) => {
            Chunk::new(Array1::from_iter(region.map(|i| s.wrapping_add((i as i64).wrapping_mul(d)))).into_dyn())
        }
        (Scalar::F32(s), Scalar::F32(d)) => Chunk::new(Array1::from_iter(region.map(|i| s + i as f32 * d)).into_dyn()),
        (Scalar::F64(s), Scalar::F64(d)) => Chunk::new(Array1::from_iter(region.map(|i| s + i as f64 * d)).into_dyn()),
        (Scalar::Bool(s), Scalar::Bool(d)) => {
            let (s, d) = (i64::from(s), i64::from(d));
            Chunk::new(Array1::from_iter(region.map(|i| s.wrapping_add((i as i64).wrapping_mul(d)) != 0)).into_dyn())
        }
        _ => {
            return Err(Error::Internal(format!(
                "arange: start {start} and step {step} must have the same dtype (the node's)"
            )));
        }
    };
    Ok(chunk)
}

/// The elements at positions `region` of NumPy's `linspace(start, stop, n, endpoint)`:
/// `start + i * step` with `step = (stop - start) / div` (`div = n - 1` with the endpoint,
/// `n` without); when `step` is 0 NumPy computes `start + (i / div) * (stop - start)`; with
/// the endpoint and `n > 1` the last element is exactly `stop`.
pub fn linspace(start: f64, stop: f64, endpoint: bool, n: usize, region: Range<usize>) -> Chunk {
    let div = if endpoint { n.saturating_sub(1) } else { n };
    let delta = stop - start;
    let step = if div > 0 { delta / div as f64 } else { f64::NAN };
    let value = |i: usize| {
        if endpoint && n > 1 && i == n - 1 {
            stop
        } else if div == 0 {
            start
        } else if step == 0.0 {
            (i as f64 / div as f64) * delta + start
        } else {
            i as f64 * step + start
        }
    };
    Chunk::new(Array1::from_iter(region.map(value)).into_dyn())
}

/// The block at `region` of random numbers of an array of `shape`: element at global flat
/// index `g` is `low + (high - low) * u(seed, g)` or `mean + std * z(seed, g)`. With a
/// `view` the node is part of a larger generated array and `g` is the flat index there.
pub fn random(
    dist: Distribution,
    seed: u64,
    shape: &[usize],
    view: Option<&SourceView>,
    region: &[Range<usize>],
) -> Result<Chunk> {
    if region.len() != shape.len() || region.iter().zip(shape).any(|(r, &d)| r.start > r.end || r.end > d) {
        return Err(Error::Internal(format!("random: block region {region:?} is outside the array shape {shape:?}")));
    }
    let whole;
    let view = match view {
        Some(v) if v.base.len() == shape.len() => v,
        Some(v) => {
            return Err(Error::Internal(format!(
                "random: a view of {} axes on a {}-d node",
                v.base.len(),
                shape.len()
            )));
        }
        None => {
            whole = SourceView::whole(shape);
            &whole
        }
    };
    let (offset, strides) = view.affine();
    let stream = RandomStream::new(seed);
    let values = match dist {
        Distribution::Uniform { low, high } => {
            let (low, width) = (low.0, high.0 - low.0);
            fill_affine(region, offset, &strides, |g| low + width * stream.uniform01(g))
        }
        Distribution::Normal { mean, std } => {
            let (mean, std) = (mean.0, std.0);
            fill_affine(region, offset, &strides, |g| mean + std * stream.standard_normal(g))
        }
    };
    ArrayD::from_shape_vec(IxDyn(&region_shape(region)), values)
        .map(Chunk::new)
        .map_err(|e| Error::Internal(format!("random: {e}")))
}

/// The values `f(g)` for every position `p` of `region` in C order, where
/// `g = offset + Σ p[k] * strides[k]` (a flat index of the generated array).
fn fill_affine(region: &[Range<usize>], offset: i64, strides: &[i64], f: impl Fn(u64) -> f64) -> Vec<f64> {
    let n: usize = region.iter().map(|r| r.len()).product();
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let nd = region.len();
    let (row_len, inner) = match nd {
        0 => (1, 0),
        _ => (region[nd - 1].len(), strides[nd - 1]),
    };
    let mut pos: Vec<usize> = region.iter().map(|r| r.start).collect();
    loop {
        let g0 = offset + pos.iter().zip(strides).map(|(&p, &s)| p as i64 * s).sum::<i64>();
        out.extend((0..row_len as i64).map(|i| f((g0 + i * inner) as u64)));
        // Next row: advance the outer axes like an odometer.
        let mut k = nd.saturating_sub(1);
        loop {
            if k == 0 {
                return out;
            }
            k -= 1;
            pos[k] += 1;
            if pos[k] < region[k].end {
                break;
            }
            pos[k] = region[k].start;
        }
    }
}

#[cfg(test)]
// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use kiln_ir::F64Bits;
    use ndarray::{Array2, s};

    fn f64s(c: &Chunk) -> Vec<f64> {
        c.typed::<f64>().unwrap().iter().copied().collect()
    }

    #[test]
    fn from_array_blocks_are_views() {
        let src = Chunk::new(Array2::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as i32).into_dyn());
        let block = from_array(&src, &[1..3, 2..6]).unwrap();
        let (a, b) = (src.typed::<i32>().unwrap(), block.typed::<i32>().unwrap());
        assert_eq!(b.as_ptr() as usize, a.as_ptr() as usize + 8 * 4);
        assert_eq!(b.shape(), &[2, 4]);
        assert_eq!(b[[1, 0]], 14);
        assert!(from_array(&src, &[0..5, 0..6]).is_err());
    }

    #[test]
    fn full_blocks_including_0d() {
        let c = full(Scalar::I64(-3), &[2, 3]);
        assert_eq!(c.typed::<i64>().unwrap().iter().copied().collect::<Vec<_>>(), vec![-3; 6]);
        let z = full(Scalar::F32(1.5), &[]);
        assert_eq!(z.shape(), &[] as &[usize]);
        assert_eq!(z.typed::<f32>().unwrap().first(), Some(&1.5));
        assert_eq!(full(Scalar::Bool(true), &[0, 4]).len(), 0);
    }

    #[test]
    fn arange_wraps_integers_and_scales_floats() {
        let c = arange(Scalar::I32(i32::MAX - 1), Scalar::I32(1), 0..3).unwrap();
        assert_eq!(
            c.typed::<i32>().unwrap().iter().copied().collect::<Vec<_>>(),
            vec![i32::MAX - 1, i32::MAX, i32::MIN]
        );
        let f = arange(Scalar::F64(0.5), Scalar::F64(0.1), 10..13).unwrap();
        assert_eq!(f64s(&f), vec![0.5 + 10.0 * 0.1, 0.5 + 11.0 * 0.1, 0.5 + 12.0 * 0.1]);
        let f = arange(Scalar::F32(1.0), Scalar::F32(-0.5), 0..3).unwrap();
        assert_eq!(f.typed::<f32>().unwrap().iter().copied().collect::<Vec<_>>(), vec![1.0, 0.5, 0.0]);
        let b = arange(Scalar::Bool(false), Scalar::Bool(true), 0..2).unwrap();
        assert_eq!(b.typed::<bool>().unwrap().iter().copied().collect::<Vec<_>>(), vec![false, true]);
        assert!(arange(Scalar::I32(0), Scalar::I64(1), 0..2).is_err());
    }

    #[test]
    fn linspace_matches_numpy() {
        // np.linspace(0, 1, 5)
        assert_eq!(f64s(&linspace(0.0, 1.0, true, 5, 0..5)), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        // np.linspace(0, 1, 4, endpoint=False)
        assert_eq!(f64s(&linspace(0.0, 1.0, false, 4, 0..4)), vec![0.0, 0.25, 0.5, 0.75]);
        // The last element is exactly stop even when i * step rounds differently.
        let v = f64s(&linspace(0.1, 0.7, true, 7, 4..7));
        assert_eq!(v[2], 0.7);
        assert_eq!(v[0], 4.0 * ((0.7 - 0.1) / 6.0) + 0.1);
        assert_eq!(f64s(&linspace(3.0, 9.0, true, 1, 0..1)), vec![3.0]);
        assert_eq!(f64s(&linspace(3.0, 9.0, false, 1, 0..1)), vec![3.0]);
        assert_eq!(f64s(&linspace(2.0, 2.0, true, 3, 0..3)), vec![2.0, 2.0, 2.0]);
        assert!(linspace(0.0, 1.0, true, 0, 0..0).is_empty());
    }

    #[test]
    fn random_blocks_do_not_depend_on_chunking() {
        let dist = Distribution::Normal { mean: F64Bits(1.0), std: F64Bits(2.0) };
        let shape = [7, 9, 5];
        let whole = random(dist, 11, &shape, None, &[0..7, 0..9, 0..5]).unwrap();
        let whole = whole.typed::<f64>().unwrap();
        let mut assembled = ArrayD::<f64>::zeros(IxDyn(&shape));
        for (r0, r1, r2) in [(0..3, 0..4, 0..5), (3..7, 0..4, 0..5), (0..7, 4..9, 0..2), (0..7, 4..9, 2..5)] {
            let region = [r0.clone(), r1.clone(), r2.clone()];
            let block = random(dist, 11, &shape, None, &region).unwrap();
            assembled.slice_mut(s![r0, r1, r2]).assign(block.typed::<f64>().unwrap());
        }
        assert_eq!(&assembled, &whole.to_owned());
        let g = 3 * 45 + 2 * 5 + 4;
        assert_eq!(whole[[3, 2, 4]], 1.0 + 2.0 * crate::random::standard_normal(11, g));
        let uni = Distribution::Uniform { low: F64Bits(-2.0), high: F64Bits(2.0) };
        let u = random(uni, 5, &[1000], None, &[0..1000]).unwrap();
        assert!(f64s(&u).iter().all(|x| (-2.0..2.0).contains(x)));
        assert_eq!(random(uni, 5, &[], None, &[]).unwrap().len(), 1);
        assert!(random(uni, 5, &[3], None, &[0..4]).is_err());
    }

    #[test]
    fn views_read_the_same_numbers_as_the_whole_array() {
        let dist = Distribution::Uniform { low: F64Bits(0.0), high: F64Bits(1.0) };
        let whole = random(dist, 5, &[6, 8], None, &[0..6, 0..8]).unwrap();
        let whole = whole.typed::<f64>().unwrap().clone();
        // Node = whole[5..0;-2 (rows 5, 3, 1), 1..8;3 (cols 1, 4, 7)].
        let view = SourceView { base: vec![6, 8], start: vec![5, 1], step: vec![-2, 3] };
        let got = random(dist, 5, &[3, 3], Some(&view), &[1..3, 0..2]).unwrap();
        let want: Vec<f64> = [(3, 1), (3, 4), (1, 1), (1, 4)].iter().map(|&(i, j)| whole[[i, j]]).collect();
        assert_eq!(f64s(&got), want);
    }
}
