//! Tests of the reduction states: every op through `partial`, `combine` and `finalize` on
//! chunked arrays, against direct ndarray computations and NumPy's corner cases.

use std::collections::BTreeMap;

use kiln_ir::{ChunkGrid, Element, F64Bits};
use ndarray::{Array, Array1, ArrayD, IxDyn, SliceInfoElem, arr1};

use super::*;
use crate::random::RandomStream;
use crate::reference::layout;

fn slice_info(region: &[Range<usize>]) -> Vec<SliceInfoElem> {
    region
        .iter()
        .map(|r| SliceInfoElem::Slice { start: r.start as isize, end: Some(r.end as isize), step: 1 })
        .collect()
}

/// Reduces `x`, cut into blocks of `block`, over `axes` the way a task graph does: one
/// partial per block, combined in pairs, then the rest combined and finalized per output
/// block (keepdims), and the output blocks assembled.
fn chunked<T: Element>(op: ReduceOp, x: &ArrayD<T>, block: &[usize], axes: &[usize]) -> Result<Chunk> {
    let grid = ChunkGrid::uniform(x.shape(), block);
    let mut groups: BTreeMap<Vec<usize>, (Vec<Range<usize>>, Vec<PartialState>)> = BTreeMap::new();
    for lin in 0..grid.n_blocks() {
        let idx = grid.unravel(lin);
        let region = grid.block_region(&idx);
        let data = Chunk::new(x.slice(slice_info(&region).as_slice()).to_owned());
        let state = partial(op, axes, &data, &region, x.shape())?;
        let mut key = idx.clone();
        let mut out_region = region.clone();
        for &k in axes {
            key[k] = 0;
            out_region[k] = 0..1;
        }
        groups.entry(key).or_insert_with(|| (out_region, Vec::new())).1.push(state);
    }
    let out_dtype = op.out_dtype(T::DTYPE);
    let mut blocks = Vec::new();
    for (region, states) in groups.into_values() {
        let level1: Vec<PartialState> =
            states.chunks(2).map(|g| combine(op, &g.iter().collect::<Vec<_>>())).collect::<Result<_>>()?;
        let last = combine(op, &level1.iter().collect::<Vec<_>>())?;
        blocks.push((finalize(op, last, axes, true, out_dtype)?, region));
    }
    let mut out_region: Vec<Range<usize>> = x.shape().iter().map(|&d| 0..d).collect();
    for &k in axes {
        out_region[k] = 0..1;
    }
    let parts: Vec<(&Chunk, Vec<Range<usize>>)> = blocks.iter().map(|(c, r)| (c, r.clone())).collect();
    layout::rechunk(out_dtype, &out_region, &parts)
}

fn vals<T: Element>(c: &Chunk) -> Vec<T> {
    c.typed::<T>().expect("dtype").iter().copied().collect()
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol * y.abs().max(1.0) || (x.is_nan() && y.is_nan()))
}

fn iota3() -> ArrayD<f64> {
    Array::from_shape_fn(IxDyn(&[6, 5, 7]), |i| ((i[0] * 37 + i[1] * 11 + i[2] * 5) % 17) as f64 - 8.0)
}

/// `x` reduced over `axes` with `f` along each axis, in keepdims form.
fn by_axes(x: &ArrayD<f64>, axes: &[usize], f: impl Fn(&ArrayD<f64>, usize) -> ArrayD<f64>) -> Vec<f64> {
    let mut e = x.clone();
    for &k in axes.iter().rev() {
        e = f(&e, k).insert_axis(Axis(k));
    }
    e.iter().copied().collect()
}

#[test]
fn sums_and_means_match_ndarray_for_every_axis_set() {
    let x = iota3();
    for axes in [vec![0], vec![1], vec![2], vec![0, 2], vec![1, 2], vec![0, 1, 2]] {
        let sum = chunked(ReduceOp::Sum, &x, &[4, 2, 3], &axes).unwrap();
        assert_eq!(vals::<f64>(&sum), by_axes(&x, &axes, |e, k| e.sum_axis(Axis(k))), "sum {axes:?}");
        let mean = chunked(ReduceOp::Mean, &x, &[4, 2, 3], &axes).unwrap();
        let n: usize = axes.iter().map(|&k| x.shape()[k]).product();
        let expect: Vec<f64> = by_axes(&x, &axes, |e, k| e.sum_axis(Axis(k))).iter().map(|s| s / n as f64).collect();
        assert!(close(&vals::<f64>(&mean), &expect, 1e-12), "mean {axes:?}");
        let prod = chunked(ReduceOp::Prod, &x.mapv(|v| v / 4.0), &[4, 2, 3], &axes).unwrap();
        let expect = by_axes(&x.mapv(|v| v / 4.0), &axes, |e, k| e.map_axis(Axis(k), |l| l.product()));
        assert!(close(&vals::<f64>(&prod), &expect, 1e-12), "prod {axes:?}");
    }
}

#[test]
fn integer_sums_widen_and_wrap() {
    let x = arr1(&[i32::MAX, i32::MAX, 1]).into_dyn();
    let s = chunked(ReduceOp::Sum, &x, &[2], &[0]).unwrap();
    assert_eq!(vals::<i64>(&s), vec![2 * i64::from(i32::MAX) + 1]);
    let y = arr1(&[i64::MAX, 1, 5]).into_dyn();
    assert_eq!(vals::<i64>(&chunked(ReduceOp::Sum, &y, &[1], &[0]).unwrap()), vec![i64::MIN + 5]);
    assert_eq!(vals::<i64>(&chunked(ReduceOp::Prod, &y, &[2], &[0]).unwrap()), vec![i64::MAX.wrapping_mul(5)]);
    let b = arr1(&[true, false, true, true]).into_dyn();
    assert_eq!(vals::<i64>(&chunked(ReduceOp::Sum, &b, &[3], &[0]).unwrap()), vec![3]);
    assert_eq!(vals::<i64>(&chunked(ReduceOp::Prod, &b, &[3], &[0]).unwrap()), vec![0]);
    let m = chunked(ReduceOp::Mean, &arr1(&[1i32, 2]).into_dyn(), &[1], &[0]).unwrap();
    assert_eq!(vals::<f64>(&m), vec![1.5]);
}

#[test]
fn f32_results_stay_f32_and_accumulate_in_f64() {
    let x = Array1::from_elem(1_000_000, 0.1f32).into_dyn();
    let s = chunked(ReduceOp::Sum, &x, &[300_000], &[0]).unwrap();
    assert_eq!(s.dtype(), DType::F32);
    assert_eq!(vals::<f32>(&s), vec![(f64::from(0.1f32) * 1e6) as f32]);
    let m = chunked(ReduceOp::Mean, &x, &[300_000], &[0]).unwrap();
    assert_eq!(vals::<f32>(&m), vec![0.1f32]);
    let v = chunked(ReduceOp::Var { ddof: F64Bits(0.0) }, &x, &[300_000], &[0]).unwrap();
    assert_eq!(v.dtype(), DType::F32);
    assert!(vals::<f32>(&v)[0].abs() < 1e-12);
}

#[test]
fn min_max_propagate_nan_across_blocks() {
    let mut x = iota3();
    x[[4, 3, 6]] = f64::NAN;
    let mx = vals::<f64>(&chunked(ReduceOp::Max, &x, &[4, 2, 3], &[0, 1, 2]).unwrap());
    assert!(mx[0].is_nan());
    let mn = vals::<f64>(&chunked(ReduceOp::Min, &x, &[4, 2, 3], &[0]).unwrap());
    assert_eq!(mn.iter().filter(|v| v.is_nan()).count(), 1);
    assert!(mn[3 * 7 + 6].is_nan());
    let ints = arr1(&[3i32, -7, 9, i32::MIN, i32::MAX]).into_dyn();
    assert_eq!(vals::<i32>(&chunked(ReduceOp::Min, &ints, &[2], &[0]).unwrap()), vec![i32::MIN]);
    assert_eq!(vals::<i32>(&chunked(ReduceOp::Max, &ints, &[2], &[0]).unwrap()), vec![i32::MAX]);
    let b = arr1(&[false, true]).into_dyn();
    assert_eq!(vals::<bool>(&chunked(ReduceOp::Min, &b, &[1], &[0]).unwrap()), vec![false]);
}

#[test]
fn variance_with_ddof_and_offset_data() {
    let s = RandomStream::new(4);
    let x = Array::from_shape_fn(IxDyn(&[300, 50]), |i| 1e6 + s.uniform01((i[0] * 50 + i[1]) as u64));
    for ddof in [0.0, 1.0] {
        let op = ReduceOp::Var { ddof: F64Bits(ddof) };
        let got = vals::<f64>(&chunked(op, &x, &[70, 20], &[0]).unwrap());
        let expect: Vec<f64> = x.axis_iter(Axis(1)).map(|c| c.var(ddof)).collect();
        assert!(close(&got, &expect, 1e-9), "ddof {ddof}");
        let all = vals::<f64>(&chunked(op, &x, &[70, 20], &[0, 1]).unwrap());
        let flat = Array1::from_iter(x.iter().copied());
        assert!(close(&all, &[flat.var(ddof)], 1e-9), "{all:?} vs {}", flat.var(ddof));
        let std = vals::<f64>(&chunked(ReduceOp::Std { ddof: F64Bits(ddof) }, &x, &[70, 20], &[0, 1]).unwrap());
        assert!(close(&std, &[flat.std(ddof)], 1e-9));
    }
    // ddof >= n: M2 / 0 is inf for spread data and NaN for a single value (NumPy).
    let two = arr1(&[1.0, 3.0]).into_dyn();
    assert_eq!(
        vals::<f64>(&chunked(ReduceOp::Var { ddof: F64Bits(2.0) }, &two, &[1], &[0]).unwrap()),
        vec![f64::INFINITY]
    );
    assert_eq!(vals::<f64>(&chunked(ReduceOp::Var { ddof: F64Bits(1.0) }, &two, &[1], &[0]).unwrap()), vec![2.0]);
    let one = arr1(&[5.0]).into_dyn();
    assert!(vals::<f64>(&chunked(ReduceOp::Var { ddof: F64Bits(1.0) }, &one, &[1], &[0]).unwrap())[0].is_nan());
    assert!(vals::<f64>(&chunked(ReduceOp::Var { ddof: F64Bits(3.0) }, &one, &[1], &[0]).unwrap())[0].is_nan());
}

#[test]
fn argmin_argmax_flat_and_per_axis() {
    let x = iota3();
    let flat: Vec<f64> = x.iter().copied().collect();
    let first = |best: f64| flat.iter().position(|&v| v == best).unwrap() as i64;
    let max = flat.iter().copied().fold(f64::MIN, f64::max);
    let min = flat.iter().copied().fold(f64::MAX, f64::min);
    assert_eq!(vals::<i64>(&chunked(ReduceOp::ArgMax, &x, &[4, 2, 3], &[0, 1, 2]).unwrap()), vec![first(max)]);
    assert_eq!(vals::<i64>(&chunked(ReduceOp::ArgMin, &x, &[4, 2, 3], &[0, 1, 2]).unwrap()), vec![first(min)]);
    for axis in 0..3 {
        let got = vals::<i64>(&chunked(ReduceOp::ArgMin, &x, &[4, 2, 3], &[axis]).unwrap());
        let expect: Vec<i64> = by_axes(&x, &[axis], |e, k| {
            e.map_axis(Axis(k), |lane| {
                let m = lane.iter().copied().fold(f64::MAX, f64::min);
                lane.iter().position(|&v| v == m).unwrap() as f64
            })
        })
        .iter()
        .map(|&v| v as i64)
        .collect();
        assert_eq!(got, expect, "axis {axis}");
    }
    // The first NaN wins, even when a later block holds a smaller one.
    let mut y = iota3();
    y[[5, 0, 0]] = f64::NAN;
    y[[2, 4, 6]] = f64::NAN;
    let at = (2 * 35 + 4 * 7 + 6) as i64;
    assert_eq!(vals::<i64>(&chunked(ReduceOp::ArgMax, &y, &[4, 2, 3], &[0, 1, 2]).unwrap()), vec![at]);
    assert_eq!(vals::<i64>(&chunked(ReduceOp::ArgMin, &y, &[1, 1, 1], &[0, 1, 2]).unwrap()), vec![at]);
    // Ties across blocks go to the smallest index whatever the merge order.
    let z = arr1(&[1, 5, 0, 5, 5]).into_dyn();
    assert_eq!(vals::<i64>(&chunked(ReduceOp::ArgMax, &z, &[2], &[0]).unwrap()), vec![1]);
    let s1 = partial(ReduceOp::ArgMax, &[0], &Chunk::new(arr1(&[5]).into_dyn()), &[3..4], &[5]).unwrap();
    let s0 = partial(ReduceOp::ArgMax, &[0], &Chunk::new(arr1(&[1, 5]).into_dyn()), &[0..2], &[5]).unwrap();
    let merged = combine(ReduceOp::ArgMax, &[&s1, &s0]).unwrap();
    assert_eq!(vals::<i64>(&finalize(ReduceOp::ArgMax, merged, &[0], false, DType::I64).unwrap()), vec![1]);
}

#[test]
fn any_and_all() {
    let x = arr1(&[0.0, 0.0, f64::NAN, 0.0]).into_dyn();
    assert_eq!(vals::<bool>(&chunked(ReduceOp::Any, &x, &[2], &[0]).unwrap()), vec![true]);
    assert_eq!(vals::<bool>(&chunked(ReduceOp::All, &x, &[2], &[0]).unwrap()), vec![false]);
    let y = Array::from_shape_fn(IxDyn(&[3, 4]), |i| i[0] as i32 * i[1] as i32);
    assert_eq!(vals::<bool>(&chunked(ReduceOp::All, &y, &[2, 3], &[1]).unwrap()), vec![false, false, false]);
    assert_eq!(vals::<bool>(&chunked(ReduceOp::Any, &y, &[2, 3], &[1]).unwrap()), vec![false, true, true]);
}

#[test]
fn empty_blocks_are_identities() {
    let empty = Chunk::new(ArrayD::<f64>::zeros(IxDyn(&[2, 0])));
    let full = Chunk::new(Array::from_shape_vec(IxDyn(&[2, 3]), vec![1.0, 2.5, 3.0, 4.0, 5.0, 6.0]).unwrap());
    let cases = [
        (ReduceOp::Sum, vec![0.0, 0.0]),
        (ReduceOp::Prod, vec![1.0, 1.0]),
        (ReduceOp::Mean, vec![f64::NAN, f64::NAN]),
        (ReduceOp::Var { ddof: F64Bits(0.0) }, vec![f64::NAN, f64::NAN]),
    ];
    for (op, want) in cases {
        let e = partial(op, &[1], &empty, &[0..2, 3..3], &[2, 3]).unwrap();
        assert_eq!(e.count, 0);
        let got = finalize(op, e.clone(), &[1], false, DType::F64).unwrap();
        assert!(close(&vals::<f64>(&got), &want, 0.0), "{}", op.name());
        // An empty state leaves the other unchanged, first or last.
        let f = partial(op, &[1], &full, &[0..2, 0..3], &[2, 3]).unwrap();
        assert_eq!(combine(op, &[&e, &f, &e]).unwrap(), f, "{}", op.name());
    }
    for (op, want) in [(ReduceOp::Any, false), (ReduceOp::All, true)] {
        let e = partial(op, &[0, 1], &empty, &[0..2, 0..0], &[2, 0]).unwrap();
        assert_eq!(vals::<bool>(&finalize(op, e, &[0, 1], false, DType::Bool).unwrap()), vec![want]);
    }
    for op in [ReduceOp::Min, ReduceOp::ArgMax] {
        let e = partial(op, &[1], &empty, &[0..2, 3..3], &[2, 3]).unwrap();
        let f = partial(op, &[1], &full, &[0..2, 0..3], &[2, 3]).unwrap();
        let out = finalize(op, combine(op, &[&e, &f]).unwrap(), &[1], false, op.out_dtype(DType::F64)).unwrap();
        let expect = finalize(op, f, &[1], false, op.out_dtype(DType::F64)).unwrap();
        assert_eq!(format!("{out:?}"), format!("{expect:?}"));
        let err = finalize(op, e, &[1], false, op.out_dtype(DType::F64)).unwrap_err();
        assert!(matches!(err, Error::Compute(_)), "{err}");
    }
    // No positions at all: nothing to complain about.
    let none = Chunk::new(ArrayD::<f64>::zeros(IxDyn(&[0, 0])));
    let e = partial(ReduceOp::Max, &[1], &none, &[0..0, 0..0], &[0, 0]).unwrap();
    assert_eq!(finalize(ReduceOp::Max, e, &[1], false, DType::F64).unwrap().shape(), &[0]);
}

#[test]
fn keepdims_and_errors() {
    let x = Chunk::new(iota3());
    let region = [0..6, 0..5, 0..7];
    let s = partial(ReduceOp::Sum, &[0, 2], &x, &region, &[6, 5, 7]).unwrap();
    assert_eq!(s.shape(), &[1, 5, 1]);
    assert_eq!(s.nbytes(), 40);
    assert_eq!(finalize(ReduceOp::Sum, s.clone(), &[0, 2], true, DType::F64).unwrap().shape(), &[1, 5, 1]);
    assert_eq!(finalize(ReduceOp::Sum, s.clone(), &[0, 2], false, DType::F64).unwrap().shape(), &[5]);
    assert!(finalize(ReduceOp::Sum, s.clone(), &[0, 2], false, DType::I64).is_err());
    assert!(finalize(ReduceOp::Mean, s.clone(), &[0, 2], false, DType::F64).is_ok());
    assert!(finalize(ReduceOp::Max, s.clone(), &[0, 2], false, DType::F64).is_err());
    let other = partial(ReduceOp::Sum, &[0], &x, &region, &[6, 5, 7]).unwrap();
    assert!(matches!(combine(ReduceOp::Sum, &[&s, &other]), Err(Error::Internal(_))));
    assert!(combine(ReduceOp::Sum, &[]).is_err());
    assert!(partial(ReduceOp::Sum, &[3], &x, &region, &[6, 5, 7]).is_err());
    assert!(partial(ReduceOp::Sum, &[0], &x, &[0..6, 0..5, 0..6], &[6, 5, 7]).is_err());
    // No reduced axes: every position folds one element.
    let id = partial(ReduceOp::Max, &[], &x, &region, &[6, 5, 7]).unwrap();
    assert_eq!(finalize(ReduceOp::Max, id, &[], false, DType::F64).unwrap(), x);
    let scalar = Chunk::new(ndarray::arr0(4i32).into_dyn());
    let a = partial(ReduceOp::ArgMin, &[], &scalar, &[], &[]).unwrap();
    assert_eq!(vals::<i64>(&finalize(ReduceOp::ArgMin, a, &[], false, DType::I64).unwrap()), vec![0]);
}
