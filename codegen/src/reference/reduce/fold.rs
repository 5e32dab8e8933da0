//! The reduction engine: folds a block over some of its axes into per-position
//! accumulators (keepdims shape), with the accumulator algebra of each reduction given by
//! a [`Fold`]. A contiguous block reduced over every axis runs one tight loop; otherwise
//! axes are reduced one at a time, the innermost in memory first, along contiguous lanes or
//! by accumulating whole rows, so inner loops always run over memory in order.

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Zip};

use crate::prefetch;
use crate::reference::num::{Num, maximum, minimum};

/// The accumulator algebra of a reduction.
pub(crate) trait Fold {
    /// Input element.
    type In: Copy;
    /// Per-position accumulator.
    type Acc: Copy;
    /// The accumulator of no elements.
    fn identity(&self) -> Self::Acc;
    /// Folds one more element into an accumulator.
    fn step(&self, acc: Self::Acc, x: Self::In) -> Self::Acc;
    /// Combines two accumulators.
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
    /// Folds a contiguous run of elements (override with a faster loop).
    fn fold_slice(&self, xs: &[Self::In]) -> Self::Acc {
        xs.iter().fold(self.identity(), |a, &x| self.step(a, x))
    }
    /// Folds a contiguous run `xs` of elements when `next`, a run of as many, is folded next
    /// (a hint for the cache: the result is `fold_slice(xs)`).
    fn fold_slice_then(&self, xs: &[Self::In], next: &[Self::In]) -> Self::Acc {
        prefetch_row(Some(next));
        self.fold_slice(xs)
    }
    /// Combines a contiguous run of accumulators (override with a faster loop).
    fn merge_slice(&self, xs: &[Self::Acc]) -> Self::Acc {
        xs.iter().fold(self.identity(), |a, &x| self.merge(a, x))
    }
}

/// Below this many kept positions, accumulating rows costs more than walking lanes.
const MIN_ROW_WIDTH: usize = 16;

/// A keepdims shape of ones (an `IxDyn` of up to four dimensions allocates nothing).
const ONES: [usize; 32] = [1; 32];

/// The accumulators of `x` folded over `axes` (ascending), in keepdims shape.
pub(crate) fn fold_axes<F: Fold>(f: &F, x: ArrayViewD<'_, F::In>, axes: &[usize]) -> ArrayD<F::Acc> {
    if axes.is_empty() {
        return x.map(|&v| f.step(f.identity(), v));
    }
    if axes.len() == x.ndim()
        && x.ndim() <= ONES.len()
        && let Some(s) = x.as_slice_memory_order()
    {
        return ArrayD::from_elem(IxDyn(&ONES[..x.ndim()]), f.fold_slice(s));
    }
    let first = innermost(&x, axes);
    let fold = |s: &[F::In], next: Option<&[F::In]>| match next {
        Some(n) => f.fold_slice_then(s, n),
        None => f.fold_slice(s),
    };
    let mut acc = reduce_axis(x, first, f.identity(), |a, v| f.step(a, v), fold);
    let mut rest: Vec<usize> = axes.iter().copied().filter(|&k| k != first).collect();
    while !rest.is_empty() {
        let k = innermost(&acc.view(), &rest);
        rest.retain(|&r| r != k);
        acc = reduce_axis(acc.view(), k, f.identity(), |a, v| f.merge(a, v), |s, _| f.merge_slice(s));
    }
    acc
}

/// The axis of `axes` whose elements lie closest together in memory.
fn innermost<T>(x: &ArrayViewD<'_, T>, axes: &[usize]) -> usize {
    let key = |k: &&usize| (x.len_of(Axis(**k)) <= 1, x.strides()[**k].unsigned_abs());
    *axes.iter().min_by_key(key).expect("at least one axis")
}

/// Whether to reduce `axis` of `x` lane by lane (it is the innermost axis in memory, or
/// fewer than [`MIN_ROW_WIDTH`] positions are kept) rather than row by row.
pub(crate) fn walk_lanes<T>(x: &ArrayViewD<'_, T>, axis: usize, kept: usize) -> bool {
    let stride = x.strides()[axis].unsigned_abs();
    let innermost =
        (0..x.ndim()).all(|k| k == axis || x.len_of(Axis(k)) <= 1 || x.strides()[k].unsigned_abs() >= stride);
    innermost || kept < MIN_ROW_WIDTH
}

/// Folds `x` along `axis` into a keepdims array (`axis` of length 1): along each lane when
/// the axis is the innermost in memory (or few lanes remain), otherwise by folding
/// whole rows into a row of accumulators, one position along the axis after another.
/// `fold_slice(lane, next)` folds a contiguous lane; `next` is the lane folded after it, when
/// contiguous too.
pub(crate) fn reduce_axis<E: Copy, A: Copy>(
    x: ArrayViewD<'_, E>,
    axis: usize,
    init: A,
    step: impl Fn(A, E) -> A,
    fold_slice: impl Fn(&[E], Option<&[E]>) -> A,
) -> ArrayD<A> {
    let n = x.len_of(Axis(axis));
    let mut kept_shape = x.shape().to_vec();
    kept_shape[axis] = 1;
    let kept: usize = kept_shape.iter().product();
    if n == 0 || kept == 0 {
        return ArrayD::from_elem(kept_shape, init);
    }
    let out = if walk_lanes(&x, axis, kept) {
        let mut folded = Vec::with_capacity(kept);
        let mut lanes = x.lanes(Axis(axis)).into_iter().peekable();
        while let Some(lane) = lanes.next() {
            folded.push(match lane.as_slice() {
                Some(s) => fold_slice(s, lanes.peek().and_then(|n| n.as_slice())),
                None => lane.iter().fold(init, |a, &v| step(a, v)),
            });
        }
        ArrayD::from_shape_vec(x.index_axis(Axis(axis), 0).raw_dim(), folded).expect("one value per lane")
    } else {
        let mut acc = ArrayD::from_elem(x.index_axis(Axis(axis), 0).raw_dim(), init);
        let mut rows = x.axis_iter(Axis(axis)).peekable();
        while let Some(row) = rows.next() {
            let next = rows.peek().and_then(|n| n.as_slice());
            match (acc.as_slice_mut(), row.as_slice()) {
                (Some(a), Some(r)) => accumulate_row(a, r, next, &step),
                _ => {
                    prefetch_row(next);
                    Zip::from(&mut acc).and(&row).for_each(|a, &v| *a = step(*a, v))
                }
            }
        }
        acc
    };
    out.insert_axis(Axis(axis))
}

/// Folds `row` into the accumulators `acc` position by position, asking for `next` (the
/// row folded after it, when contiguous and as long) into L2 a line per line of `row`.
fn accumulate_row<E: Copy, A: Copy>(acc: &mut [A], row: &[E], next: Option<&[E]>, step: &impl Fn(A, E) -> A) {
    let Some(next) = next.filter(|n| n.len() >= row.len()) else {
        acc.iter_mut().zip(row).for_each(|(a, &v)| *a = step(*a, v));
        return;
    };
    let per_line = (prefetch::LINE / size_of::<E>().max(1)).max(1);
    for (k, (a, r)) in acc.chunks_mut(per_line).zip(row.chunks(per_line)).enumerate() {
        prefetch::line_l2(next.as_ptr().wrapping_add(k * per_line));
        a.iter_mut().zip(r).for_each(|(a, &v)| *a = step(*a, v));
    }
}

/// Asks for the pages of `row` (the next a loop reads) ahead, if it is contiguous and long
/// enough for the ramp-up at its pages to matter (`prefetch.rs`).
pub(crate) fn prefetch_row<T>(row: Option<&[T]>) {
    if let Some(r) = row
        && size_of_val(r) >= 1024
    {
        prefetch::row_pages(r.as_ptr(), size_of_val(r));
    }
}

/// NumPy's pairwise summation of `f(x)` over a slice: blocks of up to 128 elements summed
/// with eight accumulators, halves summed recursively, so rounding error grows with
/// `log n` rather than `n`.
pub(crate) fn pairwise_sum<T: Copy>(xs: &[T], f: &impl Fn(T) -> f64) -> f64 {
    pairwise::<T, false>(xs, f, std::ptr::null())
}

/// [`pairwise_sum`], asking for the `xs.len()` elements from `ahead` (the run summed next)
/// into L2 a line per step as it goes (`prefetch.rs`); same result.
pub(crate) fn pairwise_sum_ahead<T: Copy>(xs: &[T], f: &impl Fn(T) -> f64, ahead: *const T) -> f64 {
    pairwise::<T, true>(xs, f, ahead)
}

fn pairwise<T: Copy, const AHEAD: bool>(xs: &[T], f: &impl Fn(T) -> f64, ahead: *const T) -> f64 {
    const BLOCK: usize = 128;
    let n = xs.len();
    if n < 8 {
        return xs.iter().fold(0.0, |a, &x| a + f(x));
    }
    if n <= BLOCK {
        if AHEAD {
            prefetch::line_l2(ahead);
        }
        let mut r = Eight::first(&xs[..8], f);
        let mut chunks = xs[8..].chunks_exact(8);
        let mut at = 8;
        for c in &mut chunks {
            if AHEAD {
                prefetch::line_l2(ahead.wrapping_add(at));
                at += 8;
            }
            r.add(c, f);
        }
        let mut res = r.total();
        for &x in chunks.remainder() {
            res += f(x);
        }
        return res;
    }
    let half = n / 2;
    let half = half - half % 8;
    pairwise::<T, AHEAD>(&xs[..half], f, ahead) + pairwise::<T, AHEAD>(&xs[half..], f, ahead.wrapping_add(half))
}

/// The eight accumulators of a pairwise-sum leaf: accumulator `j` sums elements `j`, `j + 8`,
/// ...; the total is `((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))`. On x86-64 they are
/// four two-lane registers written out, which the compiler does not find by itself from the
/// eight-element loop (measured 10 % faster on a memory-bound sum); the bits are the same.
#[cfg(target_arch = "x86_64")]
struct Eight([std::arch::x86_64::__m128d; 4]);

#[cfg(target_arch = "x86_64")]
impl Eight {
    #[inline(always)]
    fn pair<T: Copy>(c: &[T], j: usize, f: &impl Fn(T) -> f64) -> std::arch::x86_64::__m128d {
        let (hi, lo) = (f(c[j + 1]), f(c[j]));
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe { std::arch::x86_64::_mm_set_pd(hi, lo) }
    }

    #[inline(always)]
    fn first<T: Copy>(c: &[T], f: &impl Fn(T) -> f64) -> Eight {
        Eight([0, 2, 4, 6].map(|j| Eight::pair(c, j, f)))
    }

    #[inline(always)]
    fn add<T: Copy>(&mut self, c: &[T], f: &impl Fn(T) -> f64) {
        for (k, r) in self.0.iter_mut().enumerate() {
            let x = Eight::pair(c, 2 * k, f);
            // SAFETY: SSE2 is part of the x86-64 baseline.
            *r = unsafe { std::arch::x86_64::_mm_add_pd(*r, x) };
        }
    }

    #[inline(always)]
    fn total(&self) -> f64 {
        let mut r = [0.0f64; 8];
        for (k, v) in self.0.iter().enumerate() {
            // SAFETY: `r[2k..2k + 2]` is in bounds (k < 4); an unaligned store of two lanes.
            unsafe { std::arch::x86_64::_mm_storeu_pd(r.as_mut_ptr().add(2 * k), *v) };
        }
        ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    }
}

#[cfg(not(target_arch = "x86_64"))]
struct Eight([f64; 8]);

#[cfg(not(target_arch = "x86_64"))]
impl Eight {
    #[inline(always)]
    fn first<T: Copy>(c: &[T], f: &impl Fn(T) -> f64) -> Eight {
        Eight(std::array::from_fn(|j| f(c[j])))
    }

    #[inline(always)]
    fn add<T: Copy>(&mut self, c: &[T], f: &impl Fn(T) -> f64) {
        for (j, r) in self.0.iter_mut().enumerate() {
            *r += f(c[j]);
        }
    }

    #[inline(always)]
    fn total(&self) -> f64 {
        let r = &self.0;
        ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    }
}

/// `sum` (and the sums of `mean`) in `f64`, pairwise over contiguous runs.
pub(crate) struct SumF64<T>(pub PhantomData<T>);

impl<T: Num> Fold for SumF64<T> {
    type In = T;
    type Acc = f64;
    fn identity(&self) -> f64 {
        0.0
    }
    fn step(&self, acc: f64, x: T) -> f64 {
        acc + x.to_f64()
    }
    fn merge(&self, a: f64, b: f64) -> f64 {
        a + b
    }
    fn fold_slice(&self, xs: &[T]) -> f64 {
        pairwise_sum(xs, &T::to_f64)
    }
    fn fold_slice_then(&self, xs: &[T], next: &[T]) -> f64 {
        if next.len() < xs.len() {
            return self.fold_slice(xs);
        }
        pairwise_sum_ahead(xs, &T::to_f64, next.as_ptr())
    }
    fn merge_slice(&self, xs: &[f64]) -> f64 {
        pairwise_sum(xs, &|x| x)
    }
}

/// `sum` of integers and bools in wrapping `i64`.
pub(crate) struct SumI64<T>(pub PhantomData<T>);

impl<T: Num> Fold for SumI64<T> {
    type In = T;
    type Acc = i64;
    fn identity(&self) -> i64 {
        0
    }
    fn step(&self, acc: i64, x: T) -> i64 {
        acc.wrapping_add(x.to_i64())
    }
    fn merge(&self, a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }
}

/// `prod` of floats in `f64`.
pub(crate) struct ProdF64<T>(pub PhantomData<T>);

impl<T: Num> Fold for ProdF64<T> {
    type In = T;
    type Acc = f64;
    fn identity(&self) -> f64 {
        1.0
    }
    fn step(&self, acc: f64, x: T) -> f64 {
        acc * x.to_f64()
    }
    fn merge(&self, a: f64, b: f64) -> f64 {
        a * b
    }
}

/// `prod` of integers and bools in wrapping `i64`.
pub(crate) struct ProdI64<T>(pub PhantomData<T>);

impl<T: Num> Fold for ProdI64<T> {
    type In = T;
    type Acc = i64;
    fn identity(&self) -> i64 {
        1
    }
    fn step(&self, acc: i64, x: T) -> i64 {
        acc.wrapping_mul(x.to_i64())
    }
    fn merge(&self, a: i64, b: i64) -> i64 {
        a.wrapping_mul(b)
    }
}

/// NaN-propagating `min` (`MAX = false`) or `max` (`MAX = true`) in the input's dtype.
pub(crate) struct MinMax<T, const MAX: bool>(pub PhantomData<T>);

impl<T: Num, const MAX: bool> Fold for MinMax<T, MAX> {
    type In = T;
    type Acc = T;
    fn identity(&self) -> T {
        if MAX { T::MAX_IDENTITY } else { T::MIN_IDENTITY }
    }
    fn step(&self, acc: T, x: T) -> T {
        if MAX { maximum(acc, x) } else { minimum(acc, x) }
    }
    fn merge(&self, a: T, b: T) -> T {
        self.step(a, b)
    }
    fn fold_slice(&self, xs: &[T]) -> T {
        // `MINMAX_CHAINS` independent chains (chain `j` folds positions `16m + j`) keep the
        // comparisons pipelined, each step's compare and select waiting on the last; they
        // are vectors where the CPU has them (the same chains, so the same result), and the
        // JIT's extreme fold runs the same chains. The chains are then folded in order, and
        // the positions past the last run of 16 from the identity, added last.
        crate::kernel::simd::wide(
            #[inline(always)]
            || {
                let mut r = [self.identity(); MINMAX_CHAINS];
                let mut chunks = xs.chunks_exact(MINMAX_CHAINS);
                for c in &mut chunks {
                    for j in 0..MINMAX_CHAINS {
                        r[j] = self.step(r[j], c[j]);
                    }
                }
                let chains = r[1..].iter().fold(r[0], |a, &x| self.step(a, x));
                let tail = chunks.remainder().iter().fold(self.identity(), |a, &x| self.step(a, x));
                self.step(chains, tail)
            },
        )
    }
}

/// The chains of `MinMax::fold_slice`.
pub(crate) const MINMAX_CHAINS: usize = 16;

/// `any` (`ALL = false`) or `all` (`ALL = true`) of the non-zero test.
pub(crate) struct AnyAll<T, const ALL: bool>(pub PhantomData<T>);

impl<T: Num, const ALL: bool> Fold for AnyAll<T, ALL> {
    type In = T;
    type Acc = bool;
    fn identity(&self) -> bool {
        ALL
    }
    fn step(&self, acc: bool, x: T) -> bool {
        if ALL { acc && x.nonzero() } else { acc || x.nonzero() }
    }
    fn merge(&self, a: bool, b: bool) -> bool {
        if ALL { a && b } else { a || b }
    }
    fn fold_slice(&self, xs: &[T]) -> bool {
        if ALL { xs.iter().all(|x| x.nonzero()) } else { xs.iter().any(|x| x.nonzero()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, Array2, Array3, IxDyn, s};

    fn sum_f64() -> SumF64<f64> {
        SumF64(PhantomData)
    }

    #[test]
    fn pairwise_sum_is_exact_on_integers_and_accurate() {
        for n in [0usize, 1, 7, 8, 9, 127, 128, 129, 1000, 4097] {
            let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
            assert_eq!(pairwise_sum(&xs, &|x| x), (n * n.saturating_sub(1) / 2) as f64, "n={n}");
        }
        let xs = vec![0.1f64; 1_000_000];
        let naive = xs.iter().fold(0.0, |a, &x| a + x);
        let pw = pairwise_sum(&xs, &|x| x);
        assert!((pw - 100_000.0).abs() < (naive - 100_000.0).abs());
        assert!((pw - 100_000.0).abs() < 1e-8, "{pw}");
    }

    /// NumPy's pairwise summation written out plainly, element by element.
    fn numpy_pairwise(xs: &[f64]) -> f64 {
        let n = xs.len();
        if n < 8 {
            return xs.iter().fold(0.0, |a, &x| a + x);
        }
        if n <= 128 {
            let mut r: [f64; 8] = std::array::from_fn(|j| xs[j]);
            let mut i = 8;
            while i + 8 <= n {
                for j in 0..8 {
                    r[j] += xs[i + j];
                }
                i += 8;
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for &x in &xs[i..] {
                res += x;
            }
            return res;
        }
        let half = n / 2 - (n / 2) % 8;
        numpy_pairwise(&xs[..half]) + numpy_pairwise(&xs[half..])
    }

    #[test]
    fn pairwise_sum_equals_numpys_order_bit_for_bit() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 10f64.powi((seed % 12) as i32)
        };
        for n in [0usize, 3, 8, 15, 16, 17, 127, 128, 129, 255, 1000, 1031, 5000] {
            let xs: Vec<f64> = (0..n).map(|_| next()).collect();
            assert_eq!(pairwise_sum(&xs, &|x| x).to_bits(), numpy_pairwise(&xs).to_bits(), "n={n}");
            let sq: Vec<f64> = xs.iter().map(|&x| (x - 0.25) * (x - 0.25)).collect();
            let got = pairwise_sum(&xs, &|x: f64| (x - 0.25) * (x - 0.25));
            assert_eq!(got.to_bits(), numpy_pairwise(&sq).to_bits(), "n={n}");
        }
    }

    #[test]
    fn rows_of_a_block_accumulate_in_row_order() {
        // A block of a larger array, reduced over its first axis: rows folded one after
        // another (the next asked for ahead), as a plain loop over rows adds them.
        let big = ndarray::Array2::from_shape_fn((40, 300), |(i, j)| ((i * 7919 + j * 104_729) % 1000) as f64 * 0.37);
        for (rows, cols) in [(1, 100), (2, 100), (37, 257), (40, 300)] {
            let block = big.slice(s![..rows, 3..3 + cols.min(297)]);
            let got = fold_axes(&sum_f64(), block.view().into_dyn(), &[0]);
            let mut want = vec![0.0f64; block.ncols()];
            for row in block.rows() {
                want.iter_mut().zip(row).for_each(|(w, &v)| *w += v);
            }
            let got: Vec<u64> = got.iter().map(|v| v.to_bits()).collect();
            let want: Vec<u64> = want.iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want, "{rows}×{cols}");
        }
    }

    /// Every subset of axes of a 3-d array, in several memory layouts, against ndarray's
    /// `sum_axis`.
    #[test]
    fn fold_axes_matches_sum_axis_in_every_layout() {
        let a = Array3::from_shape_fn((5, 6, 17), |(i, j, k)| (i * 1000 + j * 100 + k) as f64);
        let views = [
            a.view().into_dyn(),
            a.view().permuted_axes([2, 0, 1]).into_dyn(),
            a.slice(s![..;-1, 1..5, ..;3]).into_dyn(),
        ];
        for v in views {
            let nd = v.ndim();
            for mask in 0..(1 << nd) {
                let axes: Vec<usize> = (0..nd).filter(|k| mask & (1 << k) != 0).collect();
                let got = fold_axes(&sum_f64(), v.view(), &axes);
                let mut expect = v.to_owned();
                for &k in axes.iter().rev() {
                    expect = expect.sum_axis(Axis(k)).insert_axis(Axis(k));
                }
                assert_eq!(got, expect, "axes {axes:?} of {:?}", v.shape());
            }
        }
    }

    #[test]
    fn row_and_lane_strategies_agree() {
        // Reducing axis 0 of a C-order array accumulates rows; axis 1 walks lanes.
        let a = Array2::from_shape_fn((300, 40), |(i, j)| ((i * 7 + j * 3) % 11) as i64);
        let f = SumI64::<i64>(PhantomData);
        let rows = fold_axes(&f, a.view().into_dyn(), &[0]);
        assert_eq!(rows, a.sum_axis(Axis(0)).insert_axis(Axis(0)).into_dyn());
        let lanes = fold_axes(&f, a.view().into_dyn(), &[1]);
        assert_eq!(lanes, a.sum_axis(Axis(1)).insert_axis(Axis(1)).into_dyn());
        let narrow = Array2::from_shape_fn((1000, 2), |(i, j)| (i + j) as i64);
        assert_eq!(
            fold_axes(&f, narrow.view().into_dyn(), &[0]),
            narrow.sum_axis(Axis(0)).insert_axis(Axis(0)).into_dyn()
        );
    }

    #[test]
    fn empty_axes_give_identities() {
        let a = Array::<f64, _>::zeros(IxDyn(&[3, 0, 2]));
        assert_eq!(fold_axes(&sum_f64(), a.view(), &[1]), Array::zeros(IxDyn(&[3, 1, 2])));
        let all = AnyAll::<f64, true>(PhantomData);
        assert_eq!(fold_axes(&all, a.view(), &[0, 1, 2]), Array::from_elem(IxDyn(&[1, 1, 1]), true));
        let mx = MinMax::<i32, true>(PhantomData);
        let e = Array::<i32, _>::zeros(IxDyn(&[0]));
        assert_eq!(fold_axes(&mx, e.view(), &[0]), Array::from_elem(IxDyn(&[1]), i32::MIN));
        // Kept axes of length 0 give no positions.
        let k = Array::<f64, _>::zeros(IxDyn(&[0, 4]));
        assert_eq!(fold_axes(&sum_f64(), k.view(), &[1]).shape(), &[0, 1]);
    }

    #[test]
    fn extremes_propagate_nan() {
        let mut v: Vec<f64> = (0..37).map(|i| i as f64).collect();
        let mx = MinMax::<f64, true>(PhantomData);
        let mn = MinMax::<f64, false>(PhantomData);
        assert_eq!(mx.fold_slice(&v), 36.0);
        assert_eq!(mn.fold_slice(&v), 0.0);
        for pos in [0, 5, 34, 36] {
            let mut w = v.clone();
            w[pos] = f64::NAN;
            assert!(mx.fold_slice(&w).is_nan() && mn.fold_slice(&w).is_nan(), "NaN at {pos}");
        }
        v[3] = f64::NEG_INFINITY;
        assert_eq!(mn.fold_slice(&v), f64::NEG_INFINITY);
    }
}
