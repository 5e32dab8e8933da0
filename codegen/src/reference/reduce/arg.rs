//! `argmin`/`argmax` partial states: per output position, the best value seen so far and
//! its global index (along the one reduced axis, or the flat C-order index over the whole
//! input when every axis is reduced). Ties keep the smallest index; NaN counts as the
//! extreme, so the first NaN wins, as in NumPy.

use std::ops::Range;

use ndarray::{ArcArray, ArrayD, ArrayViewD, Axis, IxDyn, Zip};

use crate::reference::num::Num;
use crate::reference::reduce::fold::walk_lanes;
use crate::reference::rows::RowStarts;

/// Whether `x` beats the current `best` (strictly: ties keep the earlier index).
pub(crate) fn better<T: Num, const MAX: bool>(x: T, best: T) -> bool {
    let strictly = if MAX { x > best } else { x < best };
    strictly || (x.is_nan() && !best.is_nan())
}

/// The first best value of `xs` and its position, scanning in order.
pub(crate) fn scan<T: Num, const MAX: bool>(mut xs: impl Iterator<Item = T>) -> Option<(T, usize)> {
    let mut best = (xs.next()?, 0);
    for (i, x) in xs.enumerate() {
        if best.0.is_nan() {
            break;
        }
        if better::<T, MAX>(x, best.0) {
            best = (x, i + 1);
        }
    }
    Some(best)
}

/// [`scan`] of a slice: the same first best value and position, found in four interleaved
/// chains (element `i` in chain `i % 4`, each keeping its first best), which are one vector
/// where the CPU has AVX2, then the chains' bests compared, ties (and NaNs) going to the
/// earliest position.
pub(crate) fn scan_slice<T: Num, const MAX: bool>(xs: &[T]) -> Option<(T, usize)> {
    let first = *xs.first()?;
    crate::kernel::simd::wide(
        #[inline(always)]
        || {
            let mut best = [first; 4];
            let mut at = [0usize; 4];
            let mut chunks = xs.chunks_exact(4);
            let mut base = 0;
            for c in &mut chunks {
                for j in 0..4 {
                    // Branch-free, so the four chains vectorize.
                    let take = better::<T, MAX>(c[j], best[j]);
                    best[j] = if take { c[j] } else { best[j] };
                    at[j] = if take { base + j } else { at[j] };
                }
                base += 4;
            }
            for (k, &x) in chunks.remainder().iter().enumerate() {
                if better::<T, MAX>(x, best[0]) {
                    (best[0], at[0]) = (x, base + k);
                }
            }
            // The chain bests (the tail's merged into chain 0) in order: a later one wins
            // only by being strictly better, an earlier position only on a tie.
            let mut win = (best[0], at[0]);
            for j in 1..4 {
                let (v, i) = (best[j], at[j]);
                let tie = !better::<T, MAX>(win.0, v);
                if better::<T, MAX>(v, win.0) || (tie && i < win.1) {
                    win = (v, i);
                }
            }
            Some(win)
        },
    )
}

/// The best values and their global indices of block `x` (at `region` of an input of
/// `input_shape`) over `axes`, in keepdims shape. A block with nothing to reduce gives
/// index -1 (its state's count is 0, so combining ignores it).
pub(crate) fn arg_partial<T: Num, const MAX: bool>(
    x: ArrayViewD<'_, T>,
    axes: &[usize],
    region: &[Range<usize>],
    input_shape: &[usize],
) -> (ArrayD<T>, ArrayD<i64>) {
    let mut kept_shape = x.shape().to_vec();
    for &k in axes {
        kept_shape[k] = 1;
    }
    if axes.len() == x.ndim() {
        let mut best: Option<(T, u64)> = None;
        for (row, start) in x.rows().into_iter().zip(RowStarts::new(input_shape, region)) {
            let found = match row.as_slice() {
                Some(s) => scan_slice::<T, MAX>(s),
                None => scan::<T, MAX>(row.iter().copied()),
            };
            if let Some((v, i)) = found
                && best.is_none_or(|(b, _)| better::<T, MAX>(v, b))
            {
                best = Some((v, start + i as u64));
            }
            if best.is_some_and(|(b, _)| b.is_nan()) {
                break;
            }
        }
        let (v, i) = best.map_or((T::default(), -1), |(v, g)| (v, g as i64));
        return (ArrayD::from_elem(kept_shape.clone(), v), ArrayD::from_elem(kept_shape, i));
    }
    let [k] = *axes else {
        // The builder allows one axis or all of them; treat anything else as all.
        let all: Vec<usize> = (0..x.ndim()).collect();
        return arg_partial::<T, MAX>(x, &all, region, input_shape);
    };
    let n = x.len_of(Axis(k));
    let kept: usize = kept_shape.iter().product();
    if n == 0 || kept == 0 {
        return (ArrayD::from_elem(kept_shape.clone(), T::default()), ArrayD::from_elem(kept_shape, -1));
    }
    let offset = region[k].start as i64;
    let (values, index) = if walk_lanes(&x, k, kept) {
        let found = Zip::from(x.lanes(Axis(k))).map_collect(|lane| {
            let best = match lane.as_slice() {
                Some(s) => scan_slice::<T, MAX>(s),
                None => scan::<T, MAX>(lane.iter().copied()),
            };
            best.unwrap_or((T::default(), 0))
        });
        (found.map(|p| p.0), found.map(|p| p.1 as i64 + offset))
    } else {
        let mut values = x.index_axis(Axis(k), 0).to_owned();
        let mut index = ArrayD::from_elem(values.raw_dim(), offset);
        for (i, row) in x.axis_iter(Axis(k)).enumerate().skip(1) {
            let g = offset + i as i64;
            Zip::from(&mut values).and(&mut index).and(&row).for_each(|v, j, &r| {
                if better::<T, MAX>(r, *v) {
                    *v = r;
                    *j = g;
                }
            });
        }
        (values, index)
    };
    (values.insert_axis(Axis(k)), index.insert_axis(Axis(k)))
}

/// Merges another state's best values and indices into `values`/`index` (same shape):
/// the better value wins, ties go to the smaller index.
pub(crate) fn arg_merge<T: Num, const MAX: bool>(
    values: &mut ArcArray<T, IxDyn>,
    index: &mut ArcArray<i64, IxDyn>,
    other_values: &ArcArray<T, IxDyn>,
    other_index: &ArcArray<i64, IxDyn>,
) {
    Zip::from(values).and(index).and(other_values).and(other_index).for_each(|v, i, &w, &j| {
        if better::<T, MAX>(w, *v) || (!better::<T, MAX>(*v, w) && j < *i) {
            *v = w;
            *i = j;
        }
    });
}

#[cfg(test)]
// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use ndarray::{Array2, ArrayD, arr1, s};

    #[test]
    fn slice_scans_find_what_the_sequential_scan_finds() {
        let s = crate::random::RandomStream::new(3);
        let pick = [f64::NAN, 0.0, -0.0, 1.0, -1.0, 2.0, f64::INFINITY, f64::NEG_INFINITY];
        for len in (0..70).chain([255, 256, 1000, 1025]) {
            for seed in 0..20u64 {
                let g = |i: usize| s.bits(seed * 10_000 + i as u64);
                // Few distinct values (many ties, ±0), NaN now and then.
                let xs: Vec<f64> = (0..len)
                    .map(|i| if g(i) % 97 == 0 { f64::NAN } else { pick[1 + (g(i) >> 8) as usize % 7] })
                    .collect();
                let key = |r: Option<(f64, usize)>| r.map(|(v, i)| (v.to_bits(), i));
                assert_eq!(key(scan_slice::<f64, true>(&xs)), key(scan::<f64, true>(xs.iter().copied())), "{xs:?}");
                assert_eq!(key(scan_slice::<f64, false>(&xs)), key(scan::<f64, false>(xs.iter().copied())), "{xs:?}");
                let ints: Vec<i32> = (0..len).map(|i| (g(i) % 5) as i32 - 2).collect();
                assert_eq!(scan_slice::<i32, true>(&ints), scan::<i32, true>(ints.iter().copied()));
                assert_eq!(scan_slice::<i32, false>(&ints), scan::<i32, false>(ints.iter().copied()));
            }
        }
    }

    fn flat<T: Num, const MAX: bool>(xs: &[T]) -> (T, i64) {
        let a = arr1(xs).into_dyn();
        let (v, i) = arg_partial::<T, MAX>(a.view(), &[0], &[0..xs.len()], &[xs.len()]);
        (v[[0]], i[[0]])
    }

    #[test]
    fn ties_keep_the_first_and_nan_wins() {
        assert_eq!(flat::<f64, false>(&[3.0, 1.0, 2.0, 1.0]), (1.0, 1));
        assert_eq!(flat::<f64, true>(&[3.0, 1.0, 3.0]), (3.0, 0));
        let (v, i) = flat::<f64, false>(&[3.0, f64::NAN, 0.0, f64::NAN]);
        assert!(v.is_nan());
        assert_eq!(i, 1);
        let (_, i) = flat::<f64, true>(&[f64::INFINITY, 5.0, f64::NAN]);
        assert_eq!(i, 2);
        assert_eq!(flat::<i32, true>(&[i32::MIN, i32::MIN]), (i32::MIN, 0));
        assert_eq!(flat::<bool, true>(&[false, true, true]), (true, 1));
        assert_eq!(flat::<f32, false>(&[]).1, -1);
    }

    #[test]
    fn flat_indices_are_global() {
        // A 2x3 block at rows 2..4, columns 1..4 of a 5x6 input.
        let whole = Array2::from_shape_fn((5, 6), |(i, j)| ((i * 7 + j * 5) % 9) as i64);
        let block = whole.slice(s![2..4, 1..4]);
        let (v, i) = arg_partial::<i64, true>(block.into_dyn(), &[0, 1], &[2..4, 1..4], &[5, 6]);
        let (mut best, mut at) = (i64::MIN, 0);
        for r in 2..4 {
            for c in 1..4 {
                if whole[[r, c]] > best {
                    (best, at) = (whole[[r, c]], r * 6 + c);
                }
            }
        }
        assert_eq!((v.shape(), v[[0, 0]], i[[0, 0]]), (&[1, 1][..], best, at as i64));
    }

    #[test]
    fn one_axis_in_both_strategies() {
        let a = Array2::from_shape_fn((40, 20), |(i, j)| ((i * 13 + j * 7) % 17) as f64);
        for (axis, offset) in [(0usize, 100usize), (1, 40)] {
            let region = if axis == 0 { [offset..offset + 40, 0..20] } else { [0..40, offset..offset + 20] };
            let (v, i) = arg_partial::<f64, false>(a.view().into_dyn(), &[axis], &region, &[1000, 1000]);
            for (lane_no, lane) in a.lanes(Axis(axis)).into_iter().enumerate() {
                let (bv, bi) = scan::<f64, false>(lane.iter().copied()).unwrap();
                let pos: Vec<usize> = if axis == 0 { vec![0, lane_no] } else { vec![lane_no, 0] };
                assert_eq!(v[pos.as_slice()], bv);
                assert_eq!(i[pos.as_slice()], (bi + offset) as i64);
            }
        }
    }

    #[test]
    fn merge_prefers_better_then_smaller_index() {
        let mut v = arr1(&[1.0, 2.0, f64::NAN, 5.0]).into_dyn().into_shared();
        let mut i = arr1(&[10i64, 10, 10, 10]).into_dyn().into_shared();
        let w = arr1(&[1.0, 1.0, f64::NAN, f64::NAN]).into_dyn().into_shared();
        let j = arr1(&[3i64, 20, 4, 30]).into_dyn().into_shared();
        arg_merge::<f64, false>(&mut v, &mut i, &w, &j);
        assert_eq!(i, arr1(&[3i64, 20, 4, 30]).into_dyn().into_shared());
        let empty = ArrayD::<f64>::zeros(IxDyn(&[3, 0]));
        let (ev, ei) = arg_partial::<f64, true>(empty.view(), &[1], &[0..3, 0..0], &[3, 0]);
        assert_eq!((ev.shape(), ei.iter().all(|&x| x == -1)), (&[3, 1][..], true));
    }
}
