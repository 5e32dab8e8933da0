//! Results of more than one block are written into the array `compute()` returns by the
//! tasks that compute them (`frontend/src/array/placement.rs`): fused maps straight from
//! the JIT, other blocks copied from their values. Checked against ndarray on every dtype,
//! layouts read across (transposes), broadcasts and uneven blocks, under every scheduler
//! setting; blocks that other tasks read are kept and copied at the end.

mod common;

use common::{assert_close, chunkings, data, eval, eval_f64};
use kiln::array as ka;
use kiln::prelude::*;
use ndarray::{ArrayD, Axis as NdAxis};

#[test]
fn fused_maps_written_in_place_match_ndarray_in_every_dtype() {
    for shape in [&[7usize, 9][..], &[3, 4, 5], &[11]] {
        let v = data(shape, 3);
        for c in chunkings(shape) {
            let x = ka::from_array(v.clone(), c.as_slice());
            let what = format!("shape {shape:?} chunks {c:?}");
            assert_eq!(eval_f64(&(&x * 2.0 + 1.0)), v.mapv(|a| a * 2.0 + 1.0), "{what}");
            let mask = eval(&x.gt(0.5)).into_bool().unwrap();
            assert_eq!(mask, v.mapv(|a| a > 0.5), "{what}");
            let ints = eval(&(&x * 10.0).astype(DType::I32)).into_i32().unwrap();
            assert_eq!(ints, v.mapv(|a| (a * 10.0) as i32), "{what}");
            let halves = eval(&(x.astype(DType::F32) * 2.0)).into_f32().unwrap();
            assert_eq!(halves, v.mapv(|a| a as f32 * 2.0), "{what}");
        }
    }
}

#[test]
fn transposed_and_broadcast_reads_match_ndarray() {
    let v = data(&[9, 9], 5);
    for c in chunkings(&[9, 9]) {
        let x = ka::from_array(v.clone(), c.as_slice());
        let what = format!("chunks {c:?}");
        // A lone op reading a transposed input is a fused kernel of its own.
        assert_eq!(eval_f64(&(&x + &x.t())), &v + &v.t(), "{what}");
        assert_eq!(eval_f64(&((&x - &x.t()) * 0.5)), (&v - &v.t()) * 0.5, "{what}");
        let row_means = v.mean_axis(NdAxis(1)).unwrap().insert_axis(NdAxis(1));
        let centred = eval_f64(&(&x - &x.mean_axis(Axis(1)).insert_axis(Axis(1))));
        assert_close(&centred, &(&v - &row_means), 1e-12);
    }
}

#[test]
fn blocks_other_tasks_read_are_kept_and_copied() {
    let v = data(&[8, 6], 7);
    let x = ka::from_array(v.clone(), [3, 4]);
    let a = &x * 3.0;
    let want: ArrayD<f64> = v.mapv(|e| e * 3.0);
    // A slice is a fusion boundary: its tasks read `a`'s blocks.
    let (a1, part) = kiln::compute((&a, &a.slice(ka::s![1..5, 2..]))).unwrap();
    assert_eq!(a1.into_f64().unwrap(), want);
    assert_eq!(part.into_f64().unwrap(), want.slice(ndarray::s![1..5, 2..]).to_owned().into_dyn());
    // Asked for twice: each output gets the whole array.
    let (a1, total, a2) = kiln::compute((&a, &a.sum(), &a)).unwrap();
    assert_eq!(a1.into_f64().unwrap(), want);
    assert_eq!(a2.into_f64().unwrap(), want);
    assert_close(&total.into_f64().unwrap(), &ndarray::arr0(want.sum()).into_dyn(), 1e-12);
}

#[test]
fn a_failing_block_fails_the_run_naming_its_task() {
    let x = ka::from_array(common::int_data(&[6, 6], 1), [2, 3]);
    let err = (&x + 1i64).pow(-1i64).compute().unwrap_err().to_string();
    assert!(err.contains("pow") && err.contains("negative"), "{err}");
    // The next run is unaffected.
    let v = common::int_data(&[6, 6], 1);
    assert_eq!(eval(&(&x * 3i64)).into_i64().unwrap(), v.mapv(|e| e * 3));
}
