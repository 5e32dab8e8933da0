//! Property tests: random shapes (0-d to 4-d, empty axes included), random chunkings and
//! random sequences of operations give the same values in kiln as in a direct ndarray
//! evaluation — optimized and unoptimized, on one thread and several (see `common::eval`).

mod common;

use common::{assert_close, data, eval_f64};
use kiln::array as ka;
use kiln::prelude::*;
use ndarray::{ArrayD, SliceInfoElem};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    Unary(u8),
    Scalar(u8, f64),
    Combine(u8, u64, usize),
    Reduce(u8, usize, bool),
    Slice(usize, usize, usize, isize),
    Transpose,
    Rechunk(usize),
    InsertAxis(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..6).prop_map(Step::Unary),
        (0u8..6, -3.0f64..3.0).prop_map(|(o, v)| Step::Scalar(o, (v * 4.0).round() / 4.0)),
        (0u8..4, any::<u64>(), 1usize..4).prop_map(|(o, s, c)| Step::Combine(o, s, c)),
        (0u8..4, 0usize..4, any::<bool>()).prop_map(|(o, a, k)| Step::Reduce(o, a, k)),
        (0usize..4, 0usize..8, 0usize..8, prop_oneof![Just(1isize), Just(2), Just(-1), Just(-2), Just(3)])
            .prop_map(|(a, s, e, st)| Step::Slice(a, s, e, st)),
        Just(Step::Transpose),
        (1usize..5).prop_map(Step::Rechunk),
        (0usize..4).prop_map(Step::InsertAxis),
    ]
}

/// Applies one step to both the kiln array and the ndarray reference; skips steps that do
/// not apply to the current shape.
fn apply(s: &Step, x: Array, r: ArrayD<f64>) -> (Array, ArrayD<f64>) {
    let nd = r.ndim();
    match *s {
        Step::Unary(o) => match o {
            0 => (-&x, r.mapv(|v| -v)),
            1 => (x.abs(), r.mapv(f64::abs)),
            2 => (x.sin(), r.mapv(f64::sin)),
            3 => (x.floor(), r.mapv(f64::floor)),
            4 => (x.round(), r.mapv(f64::round_ties_even)),
            _ => (x.tanh(), r.mapv(f64::tanh)),
        },
        Step::Scalar(o, v) => match o {
            0 => (&x + v, r.mapv(|e| e + v)),
            1 => (v - &x, r.mapv(|e| v - e)),
            2 => (&x * v, r.mapv(|e| e * v)),
            3 if v != 0.0 => (&x / v, r.mapv(|e| e / v)),
            4 => (x.maximum(v), r.mapv(|e| if e.is_nan() { e } else { e.max(v) })),
            _ => (x.minimum(v), r.mapv(|e| if e.is_nan() { e } else { e.min(v) })),
        },
        Step::Combine(o, seed, c) => {
            let other = data(r.shape(), seed);
            let chunks: Vec<usize> = r.shape().iter().map(|&d| c.min(d.max(1))).collect();
            let y = ka::from_array(other.clone(), chunks.as_slice());
            match o {
                0 => (&x + &y, &r + &other),
                1 => (&x - &y, &r - &other),
                2 => (&x * &y, &r * &other),
                _ => (
                    where_(&x.gt(&y), &x, &y),
                    ndarray::Zip::from(&r).and(&other).map_collect(|&a, &b| if a > b { a } else { b }),
                ),
            }
        }
        Step::Reduce(o, a, keep) if nd > 0 => {
            let k = a % nd;
            let len = r.shape()[k];
            let out_empty = r.is_empty() && len > 0;
            let red = match o {
                0 => (x.sum_axes(&[k], keep), r.sum_axis(ndarray::Axis(k))),
                1 if len > 0 => (x.mean_axes(&[k], keep), r.mean_axis(ndarray::Axis(k)).expect("non-empty")),
                2 if len > 0 || out_empty => (
                    x.max_axes(&[k], keep),
                    r.fold_axis(ndarray::Axis(k), f64::NEG_INFINITY, |&m, &v| {
                        if m.is_nan() || v.is_nan() { f64::NAN } else { m.max(v) }
                    }),
                ),
                3 if len > 1 => (x.var_axes(&[k], 1.0, keep), r.var_axis(ndarray::Axis(k), 1.0)),
                _ => (x.sum_axes(&[k], keep), r.sum_axis(ndarray::Axis(k))),
            };
            let reference = if keep { red.1.insert_axis(ndarray::Axis(k)) } else { red.1 };
            (red.0, reference)
        }
        Step::Slice(a, s, e, st) if nd > 0 => {
            let k = a % nd;
            let len = r.shape()[k];
            let (s, e) = (s.min(len), e.min(len));
            let (s, e) = (s.min(e), s.max(e));
            let mut info = vec![SliceInfoElem::Slice { start: 0, end: None, step: 1 }; nd];
            info[k] = SliceInfoElem::Slice { start: s as isize, end: Some(e as isize), step: st };
            (x.slice(info.as_slice()), r.slice(info.as_slice()).to_owned())
        }
        Step::Transpose => (x.t(), r.t().to_owned()),
        Step::Rechunk(c) => {
            let chunks: Vec<usize> = r.shape().iter().map(|&d| c.min(d.max(1))).collect();
            (x.rechunk(chunks.as_slice()), r)
        }
        Step::InsertAxis(a) if nd < 4 => {
            let k = a % (nd + 1);
            (x.insert_axis(ndarray::Axis(k)), r.insert_axis(ndarray::Axis(k)))
        }
        _ => (x, r),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn kiln_equals_ndarray(
        shape in prop::collection::vec(0usize..6, 0..4),
        chunk in 1usize..4,
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 1..6),
    ) {
        let r = data(&shape, seed);
        let chunks: Vec<usize> = shape.iter().map(|&d| chunk.min(d.max(1))).collect();
        let mut x = ka::from_array(r.clone(), chunks.as_slice());
        let mut r = r;
        for s in &steps {
            (x, r) = apply(s, x, r);
        }
        x.check().unwrap();
        prop_assert_eq!(x.shape(), r.shape());
        assert_close(&eval_f64(&x), &r, 1e-9);
        // Reductions over everything agree too.
        let total = eval_f64(&x.sum());
        prop_assert!((total[[]] - r.sum()).abs() <= 1e-9 * (1.0 + r.sum().abs()) || r.sum().is_nan());
    }
}
