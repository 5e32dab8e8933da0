//! Array results against independent references (ndarray computations and NumPy's known
//! answers), on 0-d to 4-d arrays, several chunkings, and every scheduler setting.

mod common;

use common::{assert_close, chunkings, data, eval, eval_f64, int_data};
use kiln::array as ka;
use kiln::prelude::*;
use ndarray::{ArrayD, IxDyn, arr0, array};

const SHAPES: [&[usize]; 6] = [&[], &[7], &[5, 6], &[3, 4, 5], &[2, 3, 2, 3], &[0, 3]];

#[test]
fn from_array_round_trips_every_shape_and_chunking() {
    for shape in SHAPES {
        let v = data(shape, 1);
        for c in chunkings(shape) {
            let x = ka::from_array(v.clone(), c.as_slice());
            assert_eq!(eval(&x).into_f64().unwrap(), v, "shape {shape:?} chunks {c:?}");
        }
    }
}

#[test]
fn constants_and_ranges_match_numpy() {
    assert_eq!(eval(&ka::zeros([2, 3], [1, 2])).into_f64().unwrap(), ArrayD::zeros(IxDyn(&[2, 3])));
    assert_eq!(eval(&ka::full([3], 7i64, [2])).into_i64().unwrap(), array![7i64, 7, 7].into_dyn());
    // np.arange(10, 0, -3) == [10, 7, 4, 1]
    assert_eq!(eval(&ka::arange(10i64, 0, -3, [3])).into_i64().unwrap(), array![10i64, 7, 4, 1].into_dyn());
    // np.arange(0, 1, 0.25)
    assert_eq!(eval(&ka::arange(0.0, 1.0, 0.25, [3])).into_f64().unwrap(), array![0.0, 0.25, 0.5, 0.75].into_dyn());
    // np.linspace(0, 1, 5) and np.linspace(2, 3, 4, endpoint=False)
    assert_eq!(eval(&ka::linspace(0.0, 1.0, 5, [2])).into_f64().unwrap(), array![0.0, 0.25, 0.5, 0.75, 1.0].into_dyn());
    let l = eval(&ka::linspace_endpoint(2.0, 3.0, 4, false, [3])).into_f64().unwrap();
    assert_eq!(l, array![2.0, 2.25, 2.5, 2.75].into_dyn());
    assert_eq!(eval(&ka::linspace(0.0, 1.0, 0, [1])).len(), 0);
}

#[test]
fn random_values_do_not_depend_on_chunking() {
    let a = eval(&ka::random::uniform([37, 23], [37, 23], 42)).into_f64().unwrap();
    for c in [[5, 7], [1, 23], [36, 1]] {
        assert_eq!(eval(&ka::random::uniform([37, 23], c, 42)).into_f64().unwrap(), a, "chunks {c:?}");
    }
    // A slice computes the same numbers as the full array.
    let s = eval(&ka::random::uniform([37, 23], [4, 4], 42).slice(s![3..9, 5..])).into_f64().unwrap();
    assert_eq!(s, a.slice(s![3..9, 5..]).to_owned().into_dyn());
    assert!(a.iter().all(|&v| (0.0..1.0).contains(&v)));
    assert_ne!(eval(&ka::random::uniform([37, 23], [5, 7], 43)).into_f64().unwrap(), a);
    let n = eval(&ka::random::normal([100_000], [7_000], 3)).into_f64().unwrap();
    let mean = n.mean().unwrap();
    let std = n.std(0.0);
    assert!(mean.abs() < 0.02 && (std - 1.0).abs() < 0.02, "mean {mean}, std {std}");
    let u = eval(&ka::random::uniform_range(-2.0, 6.0, [50_000], [9_999], 5)).into_f64().unwrap();
    assert!(u.iter().all(|&v| (-2.0..6.0).contains(&v)) && (u.mean().unwrap() - 2.0).abs() < 0.05);
}

#[test]
fn arithmetic_with_arrays_and_scalars_matches_ndarray() {
    for shape in SHAPES {
        let (a, b) = (data(shape, 2), data(shape, 3).mapv(|v| if v == 0.0 { 0.5 } else { v }));
        for c in chunkings(shape) {
            let (x, y) = (ka::from_array(a.clone(), c.as_slice()), ka::from_array(b.clone(), c.as_slice()));
            assert_close(&eval_f64(&(&x + &y)), &(&a + &b), 0.0);
            assert_close(&eval_f64(&(&x - &y)), &(&a - &b), 0.0);
            assert_close(&eval_f64(&(&x * &y)), &(&a * &b), 0.0);
            assert_close(&eval_f64(&(&x / &y)), &(&a / &b), 0.0);
            assert_close(&eval_f64(&(2.0 - &x * 3.0)), &a.mapv(|v| 2.0 - v * 3.0), 0.0);
            assert_close(&eval_f64(&(1.0 / &y)), &b.mapv(|v| 1.0 / v), 0.0);
            assert_close(&eval_f64(&-&x), &a.mapv(|v| -v), 0.0);
        }
    }
}

#[test]
fn unary_functions_match_ndarray() {
    let a = data(&[4, 9], 4);
    let x = ka::from_array(a.clone(), [3, 4]);
    let cases: Vec<(Array, ArrayD<f64>)> = vec![
        (x.abs(), a.mapv(f64::abs)),
        (x.abs().sqrt(), a.mapv(|v| v.abs().sqrt())),
        (x.exp(), a.mapv(f64::exp)),
        (x.abs().ln(), a.mapv(|v| v.abs().ln())),
        (x.abs().log10(), a.mapv(|v| v.abs().log10())),
        (x.sin(), a.mapv(f64::sin)),
        (x.cos(), a.mapv(f64::cos)),
        (x.tan(), a.mapv(f64::tan)),
        (x.tanh(), a.mapv(f64::tanh)),
        (x.floor(), a.mapv(f64::floor)),
        (x.ceil(), a.mapv(f64::ceil)),
        (x.round(), a.mapv(f64::round_ties_even)),
        (x.pow(3i64), a.mapv(|v| v.powi(3))),
        (x.abs().pow(0.5), a.mapv(|v| v.abs().powf(0.5))),
    ];
    for (got, want) in cases {
        assert_close(&eval_f64(&got), &want, 1e-15);
    }
}

#[test]
fn numpy_semantics_where_rust_differs() {
    // np.round: half to even.
    let r = ka::from_array(array![-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], [4]).round();
    assert_eq!(eval(&r).into_f64().unwrap(), array![-2.0, -2.0, -0.0, 0.0, 2.0, 2.0].into_dyn());
    // Python's % takes the divisor's sign: np.array([7, -7, 7, -7]) % [3, 3, -3, -3]
    let i = ka::from_array(array![7i64, -7, 7, -7, 5], [2]);
    let d = ka::from_array(array![3i64, 3, -3, -3, 0], [3]);
    assert_eq!(eval(&(&i % &d)).into_i64().unwrap(), array![1i64, 2, -2, -1, 0].into_dyn());
    let f = ka::from_array(array![7.5, -7.5, 7.5, -7.5], [3]) % ka::from_array(array![2.0, 2.0, -2.0, -2.0], [1]);
    assert_eq!(eval(&f).into_f64().unwrap(), array![1.5, 0.5, -0.5, -1.5].into_dyn());
    // Integer true division gives f64; integer arithmetic wraps.
    let q = eval(&(ka::full([2], 7i64, [1]) / 2i64));
    assert_eq!(q.into_f64().unwrap(), array![3.5, 3.5].into_dyn());
    let big = ka::from_array(array![i32::MAX, i32::MIN], [1]);
    assert_eq!(eval(&(&big + 1i64)).into_i32().unwrap(), array![i32::MIN, i32::MIN + 1].into_dyn());
    assert_eq!(eval(&big.abs()).into_i32().unwrap(), array![i32::MAX, i32::MIN].into_dyn());
    // Weak scalars: an f32 array times 2.0 stays f32; an i32 array plus 1 stays i32.
    let x32 = ka::from_array(array![1.5f32, 2.5], [1]);
    assert_eq!(eval(&(&x32 * 2.0)).into_f32().unwrap(), array![3.0f32, 5.0].into_dyn());
    assert_eq!((&big + 1i64).dtype(), DType::I32);
    assert_eq!((&big * 0.5).dtype(), DType::F64);
    // NaN propagates through minimum, maximum, clip, min and max.
    let n = ka::from_array(array![1.0, f64::NAN, -3.0, 7.0], [3]);
    let mx = eval(&maximum(&n, 0.0)).into_f64().unwrap();
    assert!(mx[1].is_nan() && mx[0] == 1.0 && mx[2] == 0.0);
    let cl = eval(&n.clip(-1.0, 5.0)).into_f64().unwrap();
    assert!(cl[1].is_nan() && cl[2] == -1.0 && cl[3] == 5.0);
    assert!(eval(&n.max()).into_scalar::<f64>().unwrap().is_nan());
    assert!(eval(&n.min_axis(Axis(0))).into_scalar::<f64>().unwrap().is_nan());
    assert_eq!(eval(&n.is_nan()).into_bool().unwrap(), array![false, true, false, false].into_dyn());
    // np.argmax returns the first NaN; ties give the first index.
    assert_eq!(eval(&n.argmax()).into_scalar::<i64>().unwrap(), 1);
    let ties = ka::from_array(array![[1.0, 5.0, 5.0], [5.0, 0.0, 5.0]], [1, 2]);
    assert_eq!(eval(&ties.argmax()).into_scalar::<i64>().unwrap(), 1);
    assert_eq!(eval(&ties.argmax_axis(Axis(0))).into_i64().unwrap(), array![1i64, 0, 0].into_dyn());
    assert_eq!(eval(&ties.argmin_axis(Axis(1))).into_i64().unwrap(), array![0i64, 1].into_dyn());
}

#[test]
fn integer_power_with_negative_exponent_fails_naming_the_task() {
    let x = ka::from_array(array![2i64, 3], [1]);
    let err = x.pow(-1i64).compute().unwrap_err().to_string();
    assert!(err.contains("pow") && err.contains("negative"), "{err}");
    assert_eq!(eval(&x.pow(3i64)).into_i64().unwrap(), array![8i64, 27].into_dyn());
}

#[test]
fn comparisons_logic_and_where() {
    let a = data(&[3, 5], 5);
    let b = data(&[5], 6);
    let (x, y) = (ka::from_array(a.clone(), [2, 2]), ka::from_array(b.clone(), [3]));
    let bcast = |f: fn(f64, f64) -> bool| ArrayD::from_shape_fn(IxDyn(&[3, 5]), |i| f(a[[i[0], i[1]]], b[[i[1]]]));
    assert_eq!(eval(&x.lt(&y)).into_bool().unwrap(), bcast(|p, q| p < q));
    assert_eq!(eval(&x.le(&y)).into_bool().unwrap(), bcast(|p, q| p <= q));
    assert_eq!(eval(&x.gt(&y)).into_bool().unwrap(), bcast(|p, q| p > q));
    assert_eq!(eval(&x.ge(&y)).into_bool().unwrap(), bcast(|p, q| p >= q));
    assert_eq!(eval(&x.eq(&y)).into_bool().unwrap(), bcast(|p, q| p == q));
    assert_eq!(eval(&x.ne(&y)).into_bool().unwrap(), bcast(|p, q| p != q));
    let both = x.gt(0.0).and(y.lt(1.0));
    assert_eq!(eval(&both).into_bool().unwrap(), bcast(|p, q| p > 0.0 && q < 1.0));
    let either = x.gt(0.0).or(y.lt(1.0)).not();
    assert_eq!(eval(&either).into_bool().unwrap(), bcast(|p, q| !(p > 0.0 || q < 1.0)));
    let w = where_(&x.gt(&y), &x, 0.0);
    assert_close(
        &eval_f64(&w),
        &ArrayD::from_shape_fn(IxDyn(&[3, 5]), |i| {
            let (p, q) = (a[[i[0], i[1]]], b[[i[1]]]);
            if p > q { p } else { 0.0 }
        }),
        0.0,
    );
    // Logic on numbers uses truthiness, as np.logical_and.
    let i = ka::from_array(array![0i64, 2, 0, -1], [3]);
    assert_eq!(eval(&i.and(i.ne(2i64))).into_bool().unwrap(), array![false, false, false, true].into_dyn());
}

#[test]
fn astype_follows_numpy() {
    let x = ka::from_array(array![-2.7, -0.5, 0.0, 0.5, 2.7, f64::NAN], [4]);
    assert_eq!(eval(&x.astype(DType::I64)).into_i64().unwrap(), array![-2i64, 0, 0, 0, 2, 0].into_dyn());
    assert_eq!(
        eval(&x.astype(DType::Bool)).into_bool().unwrap(),
        array![true, true, false, true, true, true].into_dyn()
    );
    assert_eq!(eval(&x.astype(DType::F32)).dtype(), DType::F32);
    let b = ka::from_array(array![true, false], [1]);
    assert_eq!(eval(&b.astype(DType::I32)).into_i32().unwrap(), array![1, 0].into_dyn());
    assert_eq!(eval(&(&b + 1i64)).into_i64().unwrap(), array![2i64, 1].into_dyn());
}

#[test]
fn broadcasting_and_misaligned_chunks() {
    let (a, b, c) = (data(&[4, 1, 6], 7), data(&[5, 1], 8), data(&[6], 9));
    let x = ka::from_array(a.clone(), [3, 1, 4]);
    let y = ka::from_array(b.clone(), [2, 1]);
    let z = ka::from_array(c.clone(), [5]);
    let want = &(&a + &b) * &c;
    assert_close(&eval_f64(&((&x + &y) * &z)), &want, 1e-15);
    // Same shapes, different chunks: aligned to common chunks.
    let p = ka::from_array(data(&[10, 7], 1), [4, 3]);
    let q = ka::from_array(data(&[10, 7], 2), [5, 2]);
    assert_close(&eval_f64(&(&p - &q)), &(data(&[10, 7], 1) - data(&[10, 7], 2)), 0.0);
    // 0-d arrays broadcast against anything.
    let s0 = ka::from_array(arr0(2.0), [] as [usize; 0]);
    assert_close(&eval_f64(&(&p * &s0)), &(data(&[10, 7], 1) * 2.0), 0.0);
}

fn fold_axes(a: &ArrayD<f64>, axes: &[usize], f: impl Fn(&ArrayD<f64>) -> f64) -> ArrayD<f64> {
    // Reference reduction over several axes: move them last, flatten, reduce each row.
    let keep: Vec<usize> = (0..a.ndim()).filter(|k| !axes.contains(k)).collect();
    let perm: Vec<usize> = keep.iter().chain(axes).copied().collect();
    let out_shape: Vec<usize> = keep.iter().map(|&k| a.shape()[k]).collect();
    let n: usize = axes.iter().map(|&k| a.shape()[k]).product();
    let p = a.clone().permuted_axes(perm).as_standard_layout().to_owned();
    let rows = p.into_shape_with_order((out_shape.iter().product(), n)).unwrap();
    let vals: Vec<f64> = rows.outer_iter().map(|r| f(&r.to_owned().into_dyn())).collect();
    ArrayD::from_shape_vec(IxDyn(&out_shape), vals).unwrap()
}

#[test]
fn reductions_match_ndarray_over_every_axis_set() {
    let shapes: [&[usize]; 4] = [&[9], &[5, 7], &[4, 3, 5], &[2, 3, 2, 4]];
    for shape in shapes {
        let a = data(shape, 11);
        let ndim = shape.len();
        for c in chunkings(shape) {
            let x = ka::from_array(a.clone(), c.as_slice());
            for mask in 1u32..(1 << ndim) {
                let axes: Vec<usize> = (0..ndim).filter(|k| mask & (1 << k) != 0).collect();
                let n = axes.iter().map(|&k| shape[k]).product::<usize>() as f64;
                let sum = |v: &ArrayD<f64>| v.sum();
                let mean = |v: &ArrayD<f64>| v.sum() / v.len() as f64;
                let var = |v: &ArrayD<f64>| {
                    let m = v.sum() / v.len() as f64;
                    v.mapv(|e| (e - m) * (e - m)).sum() / (v.len() as f64 - 1.0)
                };
                let ctx = format!("shape {shape:?} chunks {c:?} axes {axes:?}");
                assert_close(&eval_f64(&x.sum_axes(&axes, false)), &fold_axes(&a, &axes, sum), 1e-12);
                assert_close(&eval_f64(&x.mean_axes(&axes, false)), &fold_axes(&a, &axes, mean), 1e-12);
                let v = eval_f64(&x.var_axes(&axes, 1.0, false));
                if n > 1.0 {
                    assert_close(&v, &fold_axes(&a, &axes, var), 1e-10);
                }
                let s = eval_f64(&x.std_axes(&axes, 1.0, false));
                if n > 1.0 {
                    assert_close(&s, &fold_axes(&a, &axes, var).mapv(f64::sqrt), 1e-10);
                }
                let mx = fold_axes(&a, &axes, |v| v.fold(f64::NEG_INFINITY, |m, &e| m.max(e)));
                assert_close(&eval_f64(&x.max_axes(&axes, false)), &mx, 0.0);
                let mn = fold_axes(&a, &axes, |v| v.fold(f64::INFINITY, |m, &e| m.min(e)));
                assert_close(&eval_f64(&x.min_axes(&axes, false)), &mn, 0.0);
                let pr = fold_axes(&a, &axes, |v| v.product());
                assert_close(&eval_f64(&x.prod_axes(&axes, false)), &pr, 1e-12);
                let any = fold_axes(&a, &axes, |v| f64::from(u8::from(v.iter().any(|&e| e > 3.0))));
                assert_close(&eval_f64(&x.gt(3.0).any_axes(&axes, false)), &any, 0.0);
                let all = fold_axes(&a, &axes, |v| f64::from(u8::from(v.iter().all(|&e| e > -3.5))));
                assert_close(&eval_f64(&x.gt(-3.5).all_axes(&axes, false)), &all, 0.0);
                // keepdims keeps reduced axes as length 1.
                let kd = eval(&x.sum_axes(&axes, true));
                let want: Vec<usize> = (0..ndim).map(|k| if axes.contains(&k) { 1 } else { shape[k] }).collect();
                assert_eq!(kd.shape(), want.as_slice(), "{ctx}");
            }
            // argmin/argmax along each axis and flattened.
            for k in 0..ndim {
                let am = eval(&x.argmax_axis(Axis(k))).into_i64().unwrap();
                let want = a.map_axis(Axis(k), |lane| {
                    let mut best = 0;
                    for (i, &v) in lane.iter().enumerate() {
                        if v > lane[best] {
                            best = i;
                        }
                    }
                    best as i64
                });
                assert_eq!(am, want, "argmax shape {shape:?} chunks {c:?} axis {k}");
            }
            let flat: Vec<f64> = a.iter().copied().collect();
            let mut best = 0;
            for (i, &v) in flat.iter().enumerate() {
                if v < flat[best] {
                    best = i;
                }
            }
            assert_eq!(eval(&x.argmin()).into_scalar::<i64>().unwrap(), best as i64);
        }
    }
}

#[test]
fn reduction_dtypes_and_empty_arrays_follow_numpy() {
    let i = ka::from_array(int_data(&[4, 5], 3).mapv(|v| v as i32), [3, 2]);
    assert_eq!(eval(&i.sum()).dtype(), DType::I64);
    assert_eq!(eval(&i.mean()).dtype(), DType::F64);
    assert_eq!(eval(&i.max()).dtype(), DType::I32);
    let want: i64 = int_data(&[4, 5], 3).sum();
    assert_eq!(eval(&i.sum()).into_scalar::<i64>().unwrap(), want);
    let f = ka::from_array(data(&[6], 2).mapv(|v| v as f32), [4]);
    assert_eq!(eval(&f.mean()).dtype(), DType::F32);
    let e = ka::zeros([0, 3], [1, 2]);
    assert_eq!(eval(&e.sum()).into_scalar::<f64>().unwrap(), 0.0);
    assert_eq!(eval(&e.prod()).into_scalar::<f64>().unwrap(), 1.0);
    assert!(eval(&e.mean()).into_scalar::<f64>().unwrap().is_nan());
    assert_eq!(eval(&e.sum_axis(Axis(0))).into_f64().unwrap(), ArrayD::zeros(IxDyn(&[3])));
    assert_eq!(eval(&e.max_axis(Axis(1))).shape(), &[0]);
    let err = e.max().compute().unwrap_err().to_string();
    assert!(err.contains("zero-size array to reduction operation max"), "{err}");
    // var with ddof >= n: NumPy gives inf or NaN (M2 / 0).
    let one = ka::from_array(array![3.0], [1]);
    assert!(eval(&one.var(1.0)).into_scalar::<f64>().unwrap().is_nan());
    // Variance is computed stably (not as E[x²] - E[x]²).
    let off = ka::from_array(data(&[1000], 4).mapv(|v| 1e9 + v), [64]);
    let want = data(&[1000], 4).var(0.0);
    let got = eval(&off.var(0.0)).into_scalar::<f64>().unwrap();
    assert!((got - want).abs() < 1e-6 * want, "got {got}, want {want}");
}

#[test]
fn slicing_matches_ndarray() {
    let a = data(&[9, 8, 5], 12);
    for c in chunkings(&[9, 8, 5]) {
        let x = ka::from_array(a.clone(), c.as_slice());
        let ctx = format!("chunks {c:?}");
        assert_eq!(
            eval(&x.slice(s![2..7, .., 1..])).into_f64().unwrap(),
            a.slice(s![2..7, .., 1..]).to_owned().into_dyn(),
            "{ctx}"
        );
        assert_eq!(
            eval(&x.slice(s![..;2, 1..7;3, ..])).into_f64().unwrap(),
            a.slice(s![..;2, 1..7;3, ..]).to_owned().into_dyn(),
            "{ctx}"
        );
        assert_eq!(
            eval(&x.slice(s![..;-1, 1..6;-2, 3])).into_f64().unwrap(),
            a.slice(s![..;-1, 1..6;-2, 3]).to_owned().into_dyn(),
            "{ctx}"
        );
        assert_eq!(
            eval(&x.slice(s![-1, .., -2..])).into_f64().unwrap(),
            a.slice(s![-1, .., -2..]).to_owned().into_dyn(),
            "{ctx}"
        );
        assert_eq!(
            eval(&x.slice(s![1..3, ndarray::NewAxis, 2, ..])).into_f64().unwrap(),
            a.slice(s![1..3, ndarray::NewAxis, 2, ..]).to_owned().into_dyn(),
            "{ctx}"
        );
        assert_eq!(eval(&x.slice(s![4..4, .., ..])).shape(), &[0, 8, 5]);
        // NumPy clamps out-of-range slice bounds.
        assert_eq!(
            eval(&x.slice(s![5..100, ..2, ..])).into_f64().unwrap(),
            a.slice(s![5.., ..2, ..]).to_owned().into_dyn()
        );
        // Fewer entries than axes keep the rest whole.
        assert_eq!(eval(&x.slice(s![3])).into_f64().unwrap(), a.slice(s![3, .., ..]).to_owned().into_dyn());
    }
    let err = ka::zeros([3], [2]).slice(s![3]).compute().unwrap_err().to_string();
    assert_eq!(err, "invalid expression: slice: index 3 is out of bounds for axis 0 with size 3 (shape (3,))");
}

#[test]
fn transposes_new_axes_broadcast_to_and_rechunk() {
    let a = data(&[4, 6, 3], 13);
    let x = ka::from_array(a.clone(), [3, 4, 2]);
    assert_eq!(eval(&x.t()).into_f64().unwrap(), a.t().to_owned());
    assert_eq!(eval(&x.permuted_axes([1, 2, 0])).into_f64().unwrap(), a.clone().permuted_axes(vec![1, 2, 0]));
    assert_eq!(eval(&x.insert_axis(Axis(1))).into_f64().unwrap(), a.clone().insert_axis(Axis(1)));
    let b = data(&[6, 1], 14);
    let y = ka::from_array(b.clone(), [4, 1]);
    let want = b.broadcast(IxDyn(&[2, 6, 5])).unwrap().to_owned();
    assert_eq!(eval(&y.broadcast_to([2, 6, 5])).into_f64().unwrap(), want);
    for c in [[4, 6, 3], [1, 1, 1], [3, 5, 2]] {
        assert_eq!(eval(&x.rechunk(c)).into_f64().unwrap(), a, "rechunk {c:?}");
    }
    let r = x.rechunk(Chunks::per_axis([ChunkAxis::Full, ChunkAxis::Size(4), ChunkAxis::Explicit(vec![1, 2])]));
    assert_eq!(r.chunks().to_string(), "(4, 4+2, 1+2)");
    assert_eq!(eval(&r).into_f64().unwrap(), a);
    // (x + x.T) on a square array (the A5 benchmark's shape of work).
    let s = data(&[7, 7], 15);
    let sx = ka::from_array(s.clone(), [3, 3]);
    assert_close(&eval_f64(&(&sx + &sx.t()).sum()), &arr0((&s + &s.t()).sum()).into_dyn(), 1e-12);
}

#[test]
fn dask_front_page_example() {
    let x = ka::random::uniform([200, 300], [64, 64], 42);
    let y = &x - &x.mean_axis(Axis(1)).insert_axis(Axis(1));
    let xv = eval(&x).into_f64().unwrap();
    let mean = xv.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
    assert_close(&eval_f64(&y), &(&xv - &mean), 1e-12);
    assert!(eval(&y.sum()).into_scalar::<f64>().unwrap().abs() < 1e-9);
}

#[test]
fn several_outputs_compute_together() {
    let x = ka::random::uniform([50, 40], [16, 16], 1);
    let y = &x * 2.0;
    let (a, b, c) = kiln::compute((&y.sum(), &y.slice(s![..2, ..3]), &x.max())).unwrap();
    let xv = eval(&x).into_f64().unwrap();
    assert!((a.into_scalar::<f64>().unwrap() - 2.0 * xv.sum()).abs() < 1e-9);
    assert_eq!(b.into_f64().unwrap(), xv.slice(s![..2, ..3]).mapv(|v| v * 2.0).into_dyn());
    assert_eq!(c.into_scalar::<f64>().unwrap(), xv.fold(0.0f64, |m, &v| m.max(v)));
    let all = kiln::compute(&vec![x.sum(), x.min()]).unwrap();
    assert_eq!(all.len(), 2);
}

#[test]
fn build_errors_are_reported_before_running() {
    let a = ka::ones([3, 4], [2, 2]);
    let bad = (&a + &ka::ones([5], [5])).sum();
    let msg = bad.compute().unwrap_err().to_string();
    assert_eq!(msg, "invalid expression: add: operands could not be broadcast together with shapes (3, 4) (5,)");
    assert!(bad.explain().starts_with("error: invalid expression: add:"));
    assert!(a.sum_axis(Axis(2)).check().unwrap_err().to_string().contains("axis 2 is out of bounds"));
    assert!(a.permuted_axes([0, 0]).check().is_err());
    assert!(a.broadcast_to([4, 4]).check().is_err());
    assert!(a.rechunk(Chunks::explicit(vec![vec![1, 1], vec![4]])).check().is_err());
    assert!(
        ka::from_array(array![1.0, 2.0], [1]).reduce(kiln::ir::ReduceOp::ArgMin, Some(&[0, 0]), false).check().is_err()
    );
}
