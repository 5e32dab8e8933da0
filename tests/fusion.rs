//! Blockwise fusion end to end: how many tasks fused plans lower to (counts, not just
//! values), and that fused plans compute what unfused plans compute — bitwise for
//! elementwise results, within 1e-12 relative for reductions (a fused partial may add in
//! another order) — for a dozen expressions and for random expression DAGs.

mod common;

use common::data;
use kiln::array as ka;
use kiln::ir::{Expr, Op, TaskGraph, TaskKind};
use kiln::passes::{PassOptions, build_graph, optimize_exprs};
use kiln::prelude::*;
use ndarray::{ArrayD, s};
use proptest::prelude::*;

/// `((sin(x)^2 + cos(y)^2) * x - y/2)`, the A1 benchmark before its sum.
fn a1_map(x: &Array, y: &Array) -> Array {
    (x.sin().pow(2.0) + y.cos().pow(2.0)) * x - y / 2.0
}

/// The optimized, lowered graph of `a` (default options, verified).
fn plan(a: &Array) -> (Vec<Expr>, TaskGraph) {
    let opts = PassOptions { verify: true, ..PassOptions::default() };
    let (roots, _) = optimize_exprs(std::slice::from_ref(a.expr()), &opts).expect("optimize");
    let (graph, _) = build_graph(&roots, &opts).expect("lower");
    (roots, graph)
}

fn count(graph: &TaskGraph, kind: fn(TaskKind) -> bool) -> usize {
    graph.tasks().iter().filter(|t| kind(t.kind)).count()
}

fn optimized() -> Config {
    Config { verify: true, ..Config::default() }
}

fn unoptimized() -> Config {
    optimized().with_optimize(false)
}

#[test]
fn a1_is_one_map_reduce_task_per_block_plus_the_tree() {
    let x = ka::random::uniform([512, 512], [64, 64], 42);
    let y = ka::random::uniform([512, 512], [64, 64], 7);
    let a1 = a1_map(&x, &y).sum();
    let (roots, graph) = plan(&a1);
    assert!(matches!(roots[0].op(), Op::Fused { .. }), "{}", a1.explain());
    assert_eq!(count(&graph, |k| k == TaskKind::ReducePartial), 64);
    assert_eq!(count(&graph, |k| matches!(k, TaskKind::ReduceCombine { .. })), 8);
    assert_eq!(count(&graph, |k| k == TaskKind::ReduceFinal), 1);
    assert_eq!(graph.len(), 73, "no block tasks: no full-size temporaries");
    // Unfused: 2 sources and 8 elementwise ops per block, one scalar, then the same tree.
    let unfused = build_graph(std::slice::from_ref(a1.expr()), &PassOptions::default()).unwrap().0;
    assert_eq!(unfused.len(), 64 * (2 + 8) + 1 + 73);
}

#[test]
fn a1_values_and_tasks_run_fused_and_unfused() {
    let x = ka::random::uniform([96, 80], [24, 20], 42);
    let y = ka::random::uniform([96, 80], [24, 20], 7);
    let a1 = a1_map(&x, &y).sum();
    let (fused, stats) = a1.compute_with_stats(&optimized()).unwrap();
    let (plain, plain_stats) = a1.compute_with_stats(&unoptimized()).unwrap();
    assert_eq!(stats.tasks_run, 16 + 2 + 1);
    assert_eq!(plain_stats.tasks_run, 16 * (2 + 8) + 1 + 16 + 2 + 1);
    assert_close(&fused, &plain, 1e-12);
}

#[test]
fn row_centring_fuses_around_the_mean() {
    let x = ka::random::uniform([40, 30], [10, 10], 1);
    let y = &x - &x.mean_axis(Axis(1)).insert_axis(Axis(1));
    let (_, graph) = plan(&y);
    // The mean is a map-reduce kernel generating the random numbers itself (12 partials, 4
    // finals), and one fused task per block regenerates them and subtracts: the random
    // array is never materialized.
    assert_eq!(graph.len(), 12 + 4 + 12);
    assert_bitwise(&y);
    // Summed: the fused tasks become 12 partials, then 2 combines (fan-in 8) and a final.
    let (_, graph) = plan(&y.sum());
    assert_eq!(graph.len(), 12 + 4 + 12 + 2 + 1);
    assert_reduction(&y.sum());
}

/// Computes `a` fused and unfused and requires the same bits.
fn assert_bitwise(a: &Array) {
    let fused = a.compute_with(&optimized()).unwrap_or_else(|e| panic!("{e}\n{}", a.explain()));
    let plain = a.compute_with(&unoptimized()).unwrap();
    assert_eq!((fused.dtype(), fused.shape()), (plain.dtype(), plain.shape()));
    assert_eq!(bits(&fused), bits(&plain), "fused and unfused differ\n{}", a.explain());
}

/// Computes `a` fused and unfused and requires values within 1e-12 relative: the JIT runs
/// `exp`, `ln`, `sin`, `cos` and `tanh` as polynomials within `kiln_codegen::math::ULP_BOUND`
/// (2) ulp of libm, which the unfused plan calls.
fn assert_transcendental(a: &Array) {
    assert_reduction(a);
}

/// Computes `a` fused and unfused and requires values within 1e-12 relative.
fn assert_reduction(a: &Array) {
    let fused = a.compute_with(&optimized()).unwrap_or_else(|e| panic!("{e}\n{}", a.explain()));
    let plain = a.compute_with(&unoptimized()).unwrap();
    assert_eq!((fused.dtype(), fused.shape()), (plain.dtype(), plain.shape()));
    assert_close(&fused, &plain, 1e-12);
}

fn bits(d: &DynArray) -> Vec<u64> {
    d.cast(DType::F64).into_f64().expect("f64").iter().map(|v| v.to_bits()).collect()
}

fn assert_close(got: &DynArray, want: &DynArray, rtol: f64) {
    let (g, w) = (got.cast(DType::F64).into_f64().unwrap(), want.cast(DType::F64).into_f64().unwrap());
    common::assert_close(&g, &w, rtol);
}

#[test]
fn a_dozen_expressions_compute_the_same_fused_and_unfused() {
    let x = ka::random::uniform([30, 30], [7, 8], 1);
    let y = ka::random::normal([30, 30], [7, 8], 2);
    let d = ka::from_array(data(&[30, 30], 3), [10, 6]);
    let row = ka::from_array(data(&[30], 4), [8]);
    let col = ka::from_array(data(&[30, 1], 5), [7, 1]);
    let i = ka::arange(0i64, 30, 1, [7]);
    let lin = ka::linspace(-1.0, 1.0, 30, [8]);
    // Elementwise: bitwise, but for the transcendental functions (see `assert_transcendental`).
    assert_transcendental(&a1_map(&x, &y));
    assert_bitwise(&((&x - &y).abs().sqrt() + &d * 0.5));
    assert_bitwise(&(&x + &x.t() - &d.t()));
    assert_bitwise(&where_(&x.gt(&y).and(d.lt(0.5)), &(&x * &row), &col).astype(DType::F32));
    assert_bitwise(&((&i * 3 + 7) % 5 - &i.pow(2i64)).astype(DType::F64));
    assert_bitwise(&(&lin * &x + &i.astype(DType::F64) / 4.0).maximum(&y));
    assert_transcendental(&(&d.slice(s![2..20, ..;-1]) + 1.0).exp().tanh());
    assert_bitwise(&x.ge(&d).or(y.is_nan()).not());
    assert_transcendental(&(&x * 2.0 - 1.0).sin().round().clip(-0.5, 0.5).broadcast_to([3, 30, 30]));
    // Reductions: within 1e-12 relative (exact for the integer and logical ones).
    assert_reduction(&a1_map(&x, &y).sum());
    assert_reduction(&(&x * &y).mean_axis(Axis(0)));
    assert_reduction(&(&x + &y).std(1.0));
    assert_reduction(&(&x - &d).var_axes(&[1], 0.0, true));
    assert_reduction(&(&x * &row).max_axis(Axis(1)));
    assert_reduction(&(&x + 0.5).prod_axis(Axis(0)));
    assert_bitwise(&(&x - &y).argmax());
    assert_bitwise(&(&x - &col).argmin_axis(Axis(1)));
    assert_bitwise(&x.gt(0.99).any_axis(Axis(0)));
    assert_bitwise(&(&i * 2).sum());
    assert_bitwise(&d.t().sum_axis(Axis(0)).min());
}

#[test]
fn mirrored_blocks_are_reduced_in_pairs_with_the_bits_of_block_by_block() {
    // Square chunks, the last ones shorter (blocks (i, j) and (j, i) have swapped shapes),
    // and values whose sums round differently in another order.
    let d = ka::from_array(data(&[40, 40], 8).mapv(|v| v / 3.0 + 0.1), [9, 9]);
    let sum = (&d + &d.t()).sum();
    let (_, graph) = plan(&sum);
    assert_eq!(count(&graph, |k| k == TaskKind::ReducePair), 10, "a pair per two blocks off the diagonal");
    assert_eq!(count(&graph, |k| k == TaskKind::ReducePick), 20);
    assert_eq!(count(&graph, |k| k == TaskKind::ReducePartial), 5);
    assert_bitwise(&sum);
    let before = kiln::jit::stats().one_pass_pairs;
    let along = [(&d + &d.t()).sum_axis(Axis(1)), (&d * 2.0 - &d.t()).mean_axis(Axis(0))];
    for a in [sum, (&d * &d.t() - &d).mean(), (&d - &d.t()).max()].into_iter().chain(along) {
        assert_reduction(&a);
        // The JIT sums a pair in one pass, the interpreter block by block: the same bits.
        let jit = a.compute_with(&optimized()).unwrap();
        let was = kiln::jit::enabled();
        kiln::jit::set_enabled(false);
        let interpreted = a.compute_with(&optimized());
        kiln::jit::set_enabled(was);
        assert_eq!(bits(&jit), bits(&interpreted.unwrap()), "{}", a.explain());
    }
    if kiln::jit::enabled() {
        let pairs = kiln::jit::stats().one_pass_pairs - before;
        assert!(pairs >= 30, "the sum's, the mean's and the row sums' pairs took one pass: {pairs}");
    }
}

#[test]
fn shared_subexpressions_are_computed_once_and_agree() {
    let x = ka::random::uniform([40, 40], [10, 10], 9);
    let s = x.exp();
    let (a, b) = (&s + 1.0, (&s * &s.t()).sum());
    let (fa, fb) = kiln::compute_with((&a, &b), &optimized()).unwrap();
    let (pa, pb) = kiln::compute_with((&a, &b), &unoptimized()).unwrap();
    // The fused `exp` may run on the JIT, within 2 ulp of the unfused libm `exp`.
    assert_close(&fa, &pa, 1e-12);
    assert_close(&fb, &pb, 1e-12);
}

/// One random step of an expression DAG: picks its operands from the arrays built so far, so
/// later steps share earlier results.
#[derive(Clone, Debug)]
enum Step {
    Unary(u8, usize),
    Scalar(u8, usize, f64),
    Binary(u8, usize, usize),
    Transpose(usize),
    Slice(usize, usize, usize, isize),
    Reduce(u8, usize, usize),
    Rechunk(usize, usize),
    InsertAxis(usize, usize),
}

fn step() -> impl Strategy<Value = Step> {
    let i = 0usize..64;
    prop_oneof![
        (0u8..6, i.clone()).prop_map(|(o, a)| Step::Unary(o, a)),
        (0u8..4, i.clone(), -2.0f64..2.0).prop_map(|(o, a, v)| Step::Scalar(o, a, (v * 4.0).round() / 4.0 + 0.125)),
        (0u8..5, i.clone(), i.clone()).prop_map(|(o, a, b)| Step::Binary(o, a, b)),
        i.clone().prop_map(Step::Transpose),
        (i.clone(), 0usize..3, 0usize..4, prop_oneof![Just(1isize), Just(-1), Just(2)])
            .prop_map(|(a, k, s, st)| Step::Slice(a, k, s, st)),
        (0u8..3, i.clone(), 0usize..3).prop_map(|(o, a, k)| Step::Reduce(o, a, k)),
        (i.clone(), 1usize..5).prop_map(|(a, c)| Step::Rechunk(a, c)),
        (i, 0usize..3).prop_map(|(a, k)| Step::InsertAxis(a, k)),
    ]
}

/// An array of the pool and whether a reduction or a transcendental function feeds it (then
/// values may differ in the last bits between plans: reductions group differently, and the
/// JIT's `sin`, `tanh` and `exp` are within 2 ulp of libm's, not equal).
type Entry = (Array, bool);

fn apply(pool: &[Entry], s: &Step) -> Option<Entry> {
    // Half the picks take one of the three newest arrays, so chains grow long.
    let pick =
        |i: usize| if i < 32 { &pool[pool.len() - 1 - (i % 3).min(pool.len() - 1)] } else { &pool[i % pool.len()] };
    let out = match *s {
        Step::Unary(o, a) => {
            let (x, r) = pick(a);
            let y = match o {
                0 => -x,
                1 => x.abs().sqrt(),
                2 => x.sin(),
                3 => x.tanh(),
                4 => x.abs(),
                _ => (-x.abs()).exp(),
            };
            (y, *r || matches!(o, 2 | 3 | 5..))
        }
        Step::Scalar(o, a, v) => {
            let (x, r) = pick(a);
            let y = match o {
                0 => x + v,
                1 => v - x,
                2 => x * v,
                _ => x / v,
            };
            (y, *r)
        }
        Step::Binary(o, a, b) => {
            let ((x, rx), (y, ry)) = (pick(a), pick(b));
            let z = match o {
                0 => x + y,
                1 => x - y,
                2 => x * y,
                3 => x.maximum(y),
                _ => where_(&x.gt(y), x, y),
            };
            (z, *rx || *ry)
        }
        Step::Transpose(a) => (pick(a).0.t(), pick(a).1),
        Step::Slice(a, k, start, step) => {
            let (x, r) = pick(a);
            if x.ndim() == 0 {
                return None;
            }
            let k = k % x.ndim();
            let mut info: Vec<ndarray::SliceInfoElem> = vec![(..).into(); x.ndim()];
            let start = start.min(x.shape()[k].saturating_sub(1)) as isize;
            info[k] = ndarray::SliceInfoElem::Slice { start, end: None, step };
            (x.slice(info.as_slice()), *r)
        }
        Step::Reduce(o, a, k) => {
            let x = &pick(a).0;
            if x.ndim() == 0 || x.is_empty() {
                return None;
            }
            let k = k % x.ndim();
            let y = match o {
                0 => x.sum_axes(&[k], true),
                1 => x.mean_axes(&[k], true),
                _ => x.max_axes(&[k], true),
            };
            (y, true)
        }
        Step::Rechunk(a, c) => {
            let (x, r) = pick(a);
            let chunks: Vec<usize> = x.shape().iter().map(|&d| c.min(d.max(1))).collect();
            (x.rechunk(chunks.as_slice()), *r)
        }
        Step::InsertAxis(a, k) => {
            let (x, r) = pick(a);
            if x.ndim() >= 3 {
                return None;
            }
            (x.insert_axis(Axis(k % (x.ndim() + 1))), *r)
        }
    };
    out.0.check().is_ok().then_some(out)
}

fn sources(n: usize, m: usize, c: (usize, usize), d: (usize, usize), seed: u64) -> Vec<Entry> {
    vec![
        (ka::random::uniform([n, m], [c.0, c.1], seed), false),
        (ka::from_array(data(&[n, m], seed), [d.0, d.1]), false),
        (ka::from_array(data(&[m], seed + 1), [c.1]), false),
        (ka::linspace(0.0, 1.0, m, [d.1]), false),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn optimized_equals_unoptimized(
        n in 1usize..10,
        m in 1usize..10,
        c in (1usize..7, 1usize..7),
        d in (1usize..7, 1usize..7),
        seed in 0u64..1000,
        steps in prop::collection::vec(step(), 2..14),
    ) {
        let mut pool = sources(n, m, c, d, seed);
        for s in &steps {
            if let Some(e) = apply(&pool, s) {
                pool.push(e);
            }
        }
        // The last two arrays built, and the sum of the last: several roots sharing work.
        let k = pool.len();
        let roots: Vec<Entry> = vec![pool[k - 1].clone(), pool[k - 2].clone(), (pool[k - 1].0.sum(), true)];
        let arrays: Vec<Array> = roots.iter().map(|e| e.0.clone()).collect();
        let fused = kiln::compute_with(&arrays, &optimized()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let plain = kiln::compute_with(&arrays, &unoptimized()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for ((f, p), (a, reduced)) in fused.iter().zip(&plain).zip(&roots) {
            prop_assert_eq!((f.dtype(), f.shape()), (p.dtype(), p.shape()));
            if *reduced {
                let (g, w): (ArrayD<f64>, ArrayD<f64>) = (f.cast(DType::F64).into_f64().unwrap(), p.cast(DType::F64).into_f64().unwrap());
                for (x, y) in g.iter().zip(w.iter()) {
                    let ok = (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * (1.0 + y.abs());
                    prop_assert!(ok, "{} vs {}\n{}", x, y, a.explain());
                }
            } else {
                prop_assert_eq!(bits(f), bits(p), "\n{}", a.explain());
            }
        }
    }
}
