//! `var`/`std` partial states: per position, the mean and the sum of squared deviations
//! from it (M2). A block computes them in two passes (mean first, then deviations), which
//! stays accurate on data far from zero — over a whole block, one row at a time while it is
//! in cache; states merge with Chan et al.'s parallel formula.

use std::marker::PhantomData;

use ndarray::{ArcArray, ArrayD, ArrayViewD, IxDyn, Zip};

use crate::reference::num::Num;
use crate::reference::reduce::fold::{SumF64, fold_axes, pairwise_sum, pairwise_sum_ahead};

/// Mean and M2 of `x` over `axes` (keepdims shape); `count` elements per position.
pub(crate) fn moments<T: Num>(x: ArrayViewD<'_, T>, axes: &[usize], count: u64) -> (ArrayD<f64>, ArrayD<f64>) {
    let n = count as f64;
    if axes.len() == x.ndim()
        && let Some(s) = x.as_slice_memory_order()
    {
        let shape = vec![1; x.ndim()];
        if count == 0 {
            return (ArrayD::zeros(shape.clone()), ArrayD::zeros(shape));
        }
        let mean = pairwise_sum(s, &T::to_f64) / n;
        let m2 = pairwise_sum(s, &|v: T| {
            let d = v.to_f64() - mean;
            d * d
        });
        return (ArrayD::from_elem(shape.clone(), mean), ArrayD::from_elem(shape, m2));
    }
    // Over every axis of a block whose rows are contiguous (a block of a larger array): the
    // two passes row by row, while the row is in cache, each row's moments merged into the
    // block's (Chan et al.), so the block is read from memory once.
    if axes.len() == x.ndim() && count > 0 && x.strides().last() == Some(&1) {
        let (mut seen, mut mean, mut m2) = (0.0f64, 0.0f64, 0.0f64);
        let mut rows = x.lanes(ndarray::Axis(x.ndim() - 1)).into_iter().peekable();
        while let Some(row) = rows.next() {
            let Some(r) = row.to_slice() else { continue };
            let nb = r.len() as f64;
            if nb == 0.0 {
                continue;
            }
            // The next row is asked for into L2 during the second pass, which reads the row in
            // cache and so leaves the memory idle otherwise; asking during the first pass
            // (as a sum does) or during both was slower (std of 8192² in 1024² blocks,
            // Threads(2): 26.7-27.0 ms here against 27.8-29.4 ms either way).
            let next = rows.peek().and_then(|n| n.to_slice()).filter(|n| n.len() == r.len());
            let sum = pairwise_sum(r, &T::to_f64);
            let mean_b = sum / nb;
            let dev = |v: T| {
                let d = v.to_f64() - mean_b;
                d * d
            };
            let m2_b = match next {
                Some(next) => pairwise_sum_ahead(r, &dev, next.as_ptr()),
                None => pairwise_sum(r, &dev),
            };
            let total = seen + nb;
            let delta = mean_b - mean;
            mean += delta * (nb / total);
            m2 += m2_b + delta * delta * (seen * nb / total);
            seen = total;
        }
        let shape = vec![1; x.ndim()];
        return (ArrayD::from_elem(shape.clone(), mean), ArrayD::from_elem(shape, m2));
    }
    let sums = fold_axes(&SumF64::<T>(PhantomData), x.view(), axes);
    if count == 0 {
        return (sums.clone(), sums);
    }
    let mean = sums.mapv_into(|s| s / n);
    let dev = Zip::from(&x).and_broadcast(&mean).map_collect(|&v, &m| {
        let d = v.to_f64() - m;
        d * d
    });
    let m2 = fold_axes(&SumF64::<f64>(PhantomData), dev.view(), axes);
    (mean, m2)
}

/// Merges moments `(nb, mean_b, m2_b)` into `(na, mean, m2)` (Chan et al.):
/// `delta = mean_b - mean_a`, `mean += delta * nb / n`, `m2 += m2_b + delta² * na * nb / n`.
pub(crate) fn merge_moments(
    mean: &mut ArcArray<f64, IxDyn>,
    m2: &mut ArcArray<f64, IxDyn>,
    na: u64,
    mean_b: &ArcArray<f64, IxDyn>,
    m2_b: &ArcArray<f64, IxDyn>,
    nb: u64,
) {
    let (fa, fb) = (na as f64, nb as f64);
    let n = fa + fb;
    Zip::from(mean).and(m2).and(mean_b).and(m2_b).for_each(|ma, sa, &mb, &sb| {
        let delta = mb - *ma;
        *ma += delta * (fb / n);
        *sa += sb + delta * delta * (fa * fb / n);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::RandomStream;
    use ndarray::{Array1, Array2, Axis};

    /// Two-pass reference on data shifted by its first element (exact for the offset data
    /// below): mean, then the sum of squared deviations.
    fn reference(xs: &[f64]) -> (f64, f64) {
        let shift = xs[0];
        let mean = xs.iter().map(|x| x - shift).sum::<f64>() / xs.len() as f64;
        (shift + mean, xs.iter().map(|x| (x - shift - mean) * (x - shift - mean)).sum())
    }

    #[test]
    fn merged_blocks_match_two_pass_on_offset_data() {
        let s = RandomStream::new(9);
        let xs: Vec<f64> = (0..100_000).map(|g| 1e6 + s.uniform01(g)).collect();
        let (rm, rm2) = reference(&xs);
        let mut acc: Option<(ArcArray<f64, IxDyn>, ArcArray<f64, IxDyn>, u64)> = None;
        for block in xs.chunks(7_919) {
            let a = Array1::from(block.to_vec()).into_dyn();
            let (m, m2) = moments(a.view(), &[0], block.len() as u64);
            let (m, m2) = (m.into_shared(), m2.into_shared());
            acc = Some(match acc {
                None => (m, m2, block.len() as u64),
                Some((mut am, mut am2, na)) => {
                    merge_moments(&mut am, &mut am2, na, &m, &m2, block.len() as u64);
                    (am, am2, na + block.len() as u64)
                }
            });
        }
        let (m, m2, n) = acc.unwrap();
        assert_eq!(n, 100_000);
        assert!((m[[0]] - rm).abs() < 1e-9, "{} vs {rm}", m[[0]]);
        assert!((m2[[0]] / rm2 - 1.0).abs() < 1e-9, "{} vs {rm2}", m2[[0]]);
        assert!((m2[[0]] / n as f64 - 1.0 / 12.0).abs() < 1e-3);
    }

    #[test]
    fn axis_moments_match_per_lane_reference() {
        let a = Array2::from_shape_fn((30, 20), |(i, j)| 1e6 + ((i * 31 + j * 17) % 23) as f64 / 7.0);
        let (m, m2) = moments(a.view().into_dyn(), &[0], 30);
        for (j, col) in a.axis_iter(Axis(1)).enumerate() {
            let (rm, rm2) = reference(&col.to_vec());
            assert!((m[[0, j]] - rm).abs() < 1e-9);
            assert!((m2[[0, j]] - rm2).abs() < 1e-6 * rm2.max(1.0));
        }
        let e = ArrayD::<f32>::zeros(IxDyn(&[0, 3]));
        let (m, m2) = moments(e.view(), &[0], 0);
        assert_eq!((m.shape(), m2.sum()), (&[1, 3][..], 0.0));
    }
}
