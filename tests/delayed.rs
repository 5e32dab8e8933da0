//! `kiln::delayed` from a user's crate: the seed example (a loop of `delayed!(load(..))` /
//! `delayed!(process(..))`, then `delayed!(summarize(parts)).compute()`), joint computes,
//! purity, persist, errors and panics naming the call, arrays to delayed blocks and back,
//! and a property test of random delayed DAGs against direct calls.

use kiln::delayed::{self, Delayed};
use kiln::prelude::*;
use proptest::prelude::*;

fn load(file: String) -> Vec<u64> {
    file.bytes().map(u64::from).collect()
}

fn process(data: Vec<u64>) -> u64 {
    data.iter().sum()
}

fn summarize(parts: Vec<u64>) -> u64 {
    parts.iter().sum()
}

fn sync() -> Config {
    Config::default().with_scheduler(Scheduler::Sync)
}

fn threads() -> Config {
    Config::default().with_scheduler(Scheduler::Threads(3))
}

#[test]
fn the_seed_example() {
    let filenames = ["a.csv", "bb.csv", "ccc.csv"];
    let mut results = Vec::new();
    for f in filenames {
        let data = kiln::delayed!(load(f.to_string()));
        let result = kiln::delayed!(process(data));
        results.push(result);
    }
    let summary: Delayed<u64> = kiln::delayed!(summarize(results));
    let expected: u64 = filenames.iter().map(|f| process(load(f.to_string()))).sum();
    assert_eq!(summary.compute().unwrap(), expected);
    assert_eq!(summary.compute_with(&sync()).unwrap(), expected);
    assert_eq!(summary.compute_with(&threads()).unwrap(), expected);
    let text = summary.explain();
    assert!(text.starts_with("delayed: 7 tasks, depth 3, 1 outputs\n"), "{text}");
    assert!(text.contains(&format!("= {} <- ", summary.key())), "{text}");
    assert_eq!(summary.to_dot().matches(" -> ").count(), 6);
}

#[test]
fn joint_computes_share_work_and_values_move_to_single_consumers() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static LOADS: AtomicUsize = AtomicUsize::new(0);
    fn counted_load(n: usize) -> Vec<u64> {
        LOADS.fetch_add(1, Ordering::SeqCst);
        vec![1; n]
    }
    let data = kiln::delayed!(counted_load(1000));
    let len = delayed::call(|v: Vec<u64>| v.len(), &data);
    let sum = delayed::call(|v: Vec<u64>| v.iter().sum::<u64>(), &data);
    let (a, b) = delayed::compute((&len, &sum)).unwrap();
    assert_eq!((a, b, LOADS.load(Ordering::SeqCst)), (1000, 1000, 1));
    // A single consumer gets the very buffer the producer made (moved, not cloned).
    let make = delayed::call(|| vec![7u8; 1 << 20], ());
    let addr = delayed::call(|v: Vec<u8>| v.as_ptr() as usize, make.clone());
    let seen = delayed::call(|v: Vec<u8>| v.as_ptr() as usize, make);
    let (x, y) = delayed::compute((&addr, &seen)).unwrap();
    assert_ne!(x, 0);
    assert_ne!(x, y, "two consumers: one of them reads a copy");
    let vec_roots = vec![len.clone(), len.clone()];
    assert_eq!(delayed::compute(&vec_roots).unwrap(), vec![1000, 1000]);
    // `kiln::compute` takes delayed values as it takes arrays, sharing their calls too.
    let loads = LOADS.load(Ordering::SeqCst);
    let (a, b) = kiln::compute((&len, &sum)).unwrap();
    assert_eq!((a, b, LOADS.load(Ordering::SeqCst)), (1000, 1000, loads + 1));
    assert_eq!(kiln::compute(&vec_roots).unwrap(), vec![1000, 1000]);
    let (one,) = kiln::compute_with((&sum,), &sync()).unwrap();
    assert_eq!(one, 1000);
}

#[test]
fn one_compute_takes_arrays_and_delayed_values_together() {
    use kiln::array as ka;
    let x = ka::arange(0.0, 10.0, 1.0, [4]);
    let n = kiln::delayed!(summarize(vec![1, 2, 3]));
    let blocks = x.to_delayed::<f64>().unwrap();
    let first = delayed::call(|b: ndarray::ArrayD<f64>| b.sum(), &blocks[0]);
    let (total, six, mean, head) = kiln::compute((&x.sum(), &n, &x.mean(), &first)).unwrap();
    assert_eq!(total.into_scalar::<f64>().unwrap(), 45.0);
    assert_eq!(six, 6);
    assert_eq!(mean.into_scalar::<f64>().unwrap(), 4.5);
    assert_eq!(head, 6.0);
    let (only,) = kiln::compute_with((&x,), &threads()).unwrap();
    assert_eq!(only.shape(), &[10]);
    let arrays = vec![x.sum(), x.max()];
    let both: Vec<f64> = kiln::compute(&arrays).unwrap().into_iter().map(|a| a.into_scalar::<f64>().unwrap()).collect();
    assert_eq!(both, vec![45.0, 9.0]);
    // An error in either part is the compute's error.
    let bad = &x + &ka::ones([3], [3]);
    let err = kiln::compute((&n, &bad)).unwrap_err();
    assert!(err.to_string().contains("shapes (10,) (3,)"), "{err}");
}

#[test]
fn pure_calls_are_deduplicated_and_persist_keeps_values() {
    fn add(a: u64, b: u64) -> u64 {
        a + b
    }
    let x = kiln::delayed!(pure add(1, 2));
    let y = kiln::delayed!(pure add(1, 2));
    let z = kiln::delayed!(pure add(x.clone(), y.clone()));
    assert_eq!(x.key(), y.key());
    assert!(z.explain().starts_with("delayed: 2 tasks"), "{}", z.explain());
    assert_eq!(z.compute().unwrap(), 6);
    let p = z.persist().unwrap();
    assert_eq!(p.key(), z.key());
    assert!(p.explain().starts_with("delayed: 1 tasks"));
    assert_eq!(kiln::delayed!(add(p, 1)).compute().unwrap(), 7);
}

#[test]
fn errors_and_panics_name_the_call() {
    fn parse(s: String) -> u64 {
        s.parse().expect("not a number")
    }
    let good = kiln::delayed!(parse("12".to_string()));
    let bad = kiln::delayed!(parse("x".to_string()));
    let total = kiln::delayed!(summarize(vec![good, bad.clone()]));
    for cfg in [sync(), threads()] {
        let err = total.compute_with(&cfg).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with(&format!("task {} (parse) panicked: not a number", bad.key())), "{text}");
    }
    // Nothing is left running: the same graph computes again once fixed.
    let fixed = kiln::delayed!(summarize(vec![kiln::delayed!(parse("1".to_string()))]));
    assert_eq!(fixed.compute_with(&threads()).unwrap(), 1);
}

#[test]
fn arrays_to_delayed_blocks_and_back() {
    use kiln::array as ka;
    let x = ka::arange(0i64, 100, 1, [30]);
    let blocks = x.to_delayed::<i64>().unwrap();
    assert_eq!(blocks.len(), 4);
    let doubled: Vec<_> = blocks.into_iter().map(|b| delayed::call(|a: ndarray::ArrayD<i64>| a * 2, b)).collect();
    let y = delayed::from_delayed(doubled, &[4]).unwrap();
    assert_eq!(y.sum().compute().unwrap().into_scalar::<i64>().unwrap(), 2 * 4950);
    assert_eq!(y.chunks().to_string(), x.chunks().to_string());
}

#[test]
fn lazy_from_delayed_runs_only_the_blocks_a_result_needs() {
    use kiln::array as ka;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static LOADS: AtomicUsize = AtomicUsize::new(0);
    fn load_rows(first: usize, rows: usize) -> ndarray::ArrayD<f64> {
        LOADS.fetch_add(1, Ordering::SeqCst);
        ndarray::Array2::from_shape_fn((rows, 3), |(i, j)| ((first + i) * 3 + j) as f64).into_dyn()
    }
    let blocks: Vec<_> = [(0, 4), (4, 4), (8, 2)].iter().map(|&(f, r)| kiln::delayed!(load_rows(f, r))).collect();
    let x = delayed::from_delayed_chunks(blocks.clone(), &[10, 3], [4, 3]).unwrap();
    assert_eq!(LOADS.load(Ordering::SeqCst), 0, "building the array runs nothing");
    assert_eq!(x.chunks().to_string(), "(4×2+2, 3)");
    let expected = ndarray::Array2::from_shape_fn((10, 3), |(i, j)| (i * 3 + j) as f64).into_dyn();
    assert_eq!(x.compute().unwrap().into_f64().unwrap(), expected);
    assert_eq!(LOADS.load(Ordering::SeqCst), 3);
    // Fused with later work, on every scheduler; a slice reads only its block.
    let total = (&x * 2.0 + 1.0).sum();
    for cfg in [sync(), threads()] {
        assert_eq!(total.compute_with(&cfg).unwrap().into_scalar::<f64>().unwrap(), 2.0 * 435.0 + 30.0);
    }
    let before = LOADS.load(Ordering::SeqCst);
    let head = x.slice(ndarray::s![..3, ..]).sum().compute().unwrap().into_scalar::<f64>().unwrap();
    assert_eq!((head, LOADS.load(Ordering::SeqCst) - before), (36.0, 1));
    // Shapes that do not match the declared chunks are an error naming the block.
    let wrong = delayed::from_delayed_chunks(blocks.clone(), &[10, 3], [5, 3]).unwrap_err();
    assert!(wrong.to_string().contains("3 blocks for chunks (5×2, 3) (2 blocks)"), "{wrong}");
    let mislaid = delayed::from_delayed_chunks(blocks, &[12, 3], [4, 3]).unwrap();
    let err = mislaid.compute().unwrap_err().to_string();
    assert!(
        err.contains("from_delayed block 2 is f64 of shape [2, 3]; its chunks declare f64 of shape [4, 3]"),
        "{err}"
    );
    // A failing call fails the compute, naming the call.
    fn broken(_: u8) -> ndarray::ArrayD<f64> {
        panic!("no such file")
    }
    let bad = kiln::delayed!(broken(0));
    let err = delayed::from_delayed_chunks(vec![bad.clone()], &[2], [2]).unwrap().compute().unwrap_err().to_string();
    assert!(err.contains(&bad.key()) && err.contains("no such file"), "{err}");
    // Round trip through to_delayed.
    let y = ka::arange(0i64, 10, 1, [4]);
    let back = delayed::from_delayed_chunks(y.to_delayed::<i64>().unwrap(), &[10], [4]).unwrap();
    assert_eq!(back.compute().unwrap(), y.compute().unwrap());
}

/// A random DAG: node `i` is a pure or impure call of one of a few functions on up to
/// three earlier nodes (or constants); checks the result against the same calls made
/// directly.
fn check_random_dag(spec: &[(u8, Vec<usize>, u64)], threads_: bool) {
    let mut lazy: Vec<Delayed<u64>> = Vec::new();
    let mut direct: Vec<u64> = Vec::new();
    for (i, (kind, picks, constant)) in spec.iter().enumerate() {
        let args: Vec<usize> = if i == 0 { Vec::new() } else { picks.iter().map(|p| p % i).collect() };
        let (d, v) = match (kind % 4, args.as_slice()) {
            (_, []) => (delayed::value(*constant), *constant),
            (0, [a, ..]) => (
                delayed::call(|x: u64, c: u64| x.wrapping_mul(3).wrapping_add(c), (&lazy[*a], *constant)),
                direct[*a].wrapping_mul(3).wrapping_add(*constant),
            ),
            (1, [a, b, ..]) => (
                delayed::func(|x: u64, y: u64| x ^ y.rotate_left(7))
                    .name("mix")
                    .pure()
                    .call((lazy[*a].clone(), lazy[*b].clone())),
                direct[*a] ^ direct[*b].rotate_left(7),
            ),
            _ => {
                let parts: Vec<Delayed<u64>> = args.iter().map(|&a| lazy[a].clone()).collect();
                let sum = args.iter().fold(1u64, |s, &a| s.wrapping_add(direct[a]));
                (delayed::call(|v: Vec<u64>| v.into_iter().fold(1u64, u64::wrapping_add), parts), sum)
            }
        };
        lazy.push(d);
        direct.push(v);
    }
    let cfg = if threads_ { threads() } else { sync() };
    let last = lazy.len() - 1;
    let roots = vec![lazy[last].clone(), lazy[last / 2].clone(), lazy[0].clone()];
    assert_eq!(delayed::compute_with(&roots, &cfg).unwrap(), vec![direct[last], direct[last / 2], direct[0]]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_delayed_dags_match_direct_calls(
        spec in prop::collection::vec((any::<u8>(), prop::collection::vec(any::<usize>(), 0..4), any::<u64>()), 1..60),
        threads_ in any::<bool>(),
    ) {
        check_random_dag(&spec, threads_);
    }
}
