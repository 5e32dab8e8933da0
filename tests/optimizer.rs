//! The e-graph optimizer (`kiln::passes::egraph::Simplify`) against unoptimized plans: random
//! expressions (slices, transposes, broadcasting, reductions, rechunks, scalars, shared
//! subexpressions) over random, `arange`, `linspace`, `full` and in-memory sources compute
//! the same values with and without it. Values are compared bitwise, except where a float
//! `sum` or `mean` is involved: pushing a slice below a reduction or into a source can
//! change a block's memory layout, and the reference interpreter sums contiguous lanes
//! pairwise and strided ones in order, so those may differ in the last bits.

mod common;

use std::sync::Arc;

use kiln::array as ka;
use kiln::ir::{Chunk, DType, Expr, Op, ReduceOp};
use kiln::passes::egraph::{Limits, Simplify, simplify};
use kiln::passes::{ExprPass, PassOptions, build_graph};
use kiln::prelude::*;
use kiln::runtime::{RunOptions, execute};
use ndarray::{ArrayD, IxDyn, SliceInfoElem};
use proptest::prelude::*;

/// One computed root: dtype, shape, and every element's bits in C order (floats by their
/// bits, so NaN payloads and -0.0 count).
#[derive(Debug, PartialEq)]
struct Computed {
    dtype: DType,
    bits: ArrayD<u64>,
}

impl Computed {
    fn values(&self) -> ArrayD<f64> {
        self.bits.mapv(|b| match self.dtype {
            DType::F64 => f64::from_bits(b),
            DType::F32 => f64::from(f32::from_bits(b as u32)),
            DType::I64 => b as i64 as f64,
            DType::I32 => f64::from(b as u32 as i32),
            DType::Bool => b as f64,
        })
    }
}

fn chunk_bits(c: &Chunk) -> Vec<u64> {
    match c {
        Chunk::F64(a) => a.iter().map(|v| v.to_bits()).collect(),
        Chunk::F32(a) => a.iter().map(|v| u64::from(v.to_bits())).collect(),
        Chunk::I64(a) => a.iter().map(|&v| v as u64).collect(),
        Chunk::I32(a) => a.iter().map(|&v| u64::from(v as u32)).collect(),
        Chunk::Bool(a) => a.iter().map(|&v| u64::from(v)).collect(),
    }
}

/// Lowers and runs `roots` as they are (no expression passes) and assembles each root.
fn compute(roots: &[Expr]) -> Vec<Computed> {
    let opts = PassOptions { verify: true, ..PassOptions::default() };
    let (graph, _) = build_graph(roots, &opts).expect("lowering failed");
    let out = execute(Arc::new(graph), &RunOptions::new(Scheduler::Sync)).expect("running failed");
    roots
        .iter()
        .zip(out.outputs)
        .map(|(root, blocks)| {
            let grid = root.chunks();
            let mut bits = ArrayD::<u64>::zeros(IxDyn(root.shape()));
            for (b, value) in blocks.iter().enumerate() {
                let chunk = value.as_chunk().expect("an array block");
                let region = grid.block_region(&grid.unravel(b as u64));
                let info: Vec<SliceInfoElem> = region
                    .iter()
                    .map(|r| SliceInfoElem::Slice { start: r.start as isize, end: Some(r.end as isize), step: 1 })
                    .collect();
                let block = ArrayD::from_shape_vec(IxDyn(chunk.shape()), chunk_bits(chunk)).unwrap();
                bits.slice_mut(info.as_slice()).assign(&block);
            }
            Computed { dtype: root.dtype(), bits }
        })
        .collect()
}

/// Whether a float sum, mean, product or variance is computed anywhere in `roots`.
fn has_float_sum(roots: &[Expr]) -> bool {
    Expr::topo_order(roots).iter().any(|e| match e.op() {
        Op::Reduce { op, .. } => {
            e.inputs()[0].dtype().is_float()
                && matches!(
                    op,
                    ReduceOp::Sum | ReduceOp::Mean | ReduceOp::Prod | ReduceOp::Var { .. } | ReduceOp::Std { .. }
                )
        }
        _ => false,
    })
}

/// Optimizes `roots` with `Simplify` alone and checks the optimized plan computes the same
/// values. Returns the optimized expressions.
fn check(roots: &[Expr]) -> Vec<Expr> {
    let out = Simplify.run(roots.to_vec(), &PassOptions::default()).expect("the pass failed");
    let report = simplify(roots, &Limits::default()).report;
    assert_eq!(report.fallback, None, "the optimizer fell back to its input");
    assert_eq!(out.result.len(), roots.len());
    for (a, b) in out.result.iter().zip(roots) {
        assert_eq!(a.meta(), b.meta(), "the optimizer changed a root's metadata");
    }
    let (before, after) = (compute(roots), compute(&out.result));
    for (k, (b, a)) in before.iter().zip(&after).enumerate() {
        assert_eq!((a.dtype, a.bits.shape()), (b.dtype, b.bits.shape()));
        if has_float_sum(roots) {
            common::assert_close(&a.values(), &b.values(), 1e-12);
        } else {
            assert_eq!(
                a,
                b,
                "root {k} differs after {}\nbefore:\n{}\nafter:\n{}",
                out.summary,
                kiln::ir::expr_text::listing(roots),
                kiln::ir::expr_text::listing(&out.result)
            );
        }
    }
    out.result
}

fn tasks(roots: &[Expr]) -> usize {
    build_graph(roots, &PassOptions::default()).unwrap().0.len()
}

#[test]
fn slices_of_sources_compute_the_same_elements_with_fewer_tasks() {
    let x = ka::random::uniform([200, 300], [20, 30], 7);
    let a = x.slice(s![..10, ..]);
    let b = x.slice(s![5..150;7, 299]);
    let c = x.slice(s![..;-3, ndarray::NewAxis, 2..40;-5]);
    let roots = [a.expr().clone(), b.expr().clone(), c.expr().clone()];
    let optimized = check(&roots);
    assert!(tasks(&optimized) < tasks(&roots), "{} vs {}", tasks(&optimized), tasks(&roots));
    let data = common::data(&[30, 40], 3);
    let m = ka::from_array(data, [7, 9]);
    let ints = ka::arange(-50i64, 150, 3, [16]);
    let small = ka::arange(0i32, 100, 1, [16]);
    let ones = ka::full([50, 60], 1.5f32, [8, 8]);
    let roots: Vec<Expr> = [
        m.slice(s![3..29;4, ..;-1]),
        m.slice(s![-1, 5..6]),
        ints.slice(s![3..60;-7]),
        ints.slice(s![13]),
        small.slice(s![..40]) * 3,
        ones.slice(s![..3, 10..;5]),
    ]
    .iter()
    .map(|a| a.expr().clone())
    .collect();
    check(&roots);
}

#[test]
fn pushdowns_through_ops_keep_values() {
    let x = ka::random::uniform([60, 50], [7, 11], 1);
    let y = ka::random::normal([60, 50], [7, 11], 2);
    let row = ka::random::uniform([50], [11], 3);
    let roots: Vec<Expr> = [
        (&x + &y).slice(s![..10, 5..]),
        (&x * &row).exp().slice(s![3, ..;-2]),
        x.t().t() * 1.0,
        -(-&x),
        x.mean_axis(Axis(1)).slice(s![..10]),
        (&x - &x.mean_axis(Axis(1)).insert_axis(Axis(1))).slice(s![..10, ..]).sum(),
        row.broadcast_to([60, 50]).slice(s![2..9, 40..]),
        x.t().slice(s![4, 10..20]),
        x.max_axes(&[0], true).slice(s![.., ..;3]),
    ]
    .iter()
    .map(|a| a.expr().clone())
    .collect();
    check(&roots);
}

#[test]
fn rechunked_sources_and_sliced_linspaces_keep_values() {
    let x = ka::random::uniform([60, 50], [7, 11], 1);
    let lin = ka::linspace(0.0, 1.0, 101, [10]);
    let odd = ka::linspace_endpoint(-3.7, 11.3, 77, false, [9]);
    let roots: Vec<Expr> = [
        x.rechunk([20, 50]).slice(s![3..40, 5]),
        x.rechunk([13, 17]).slice(s![..;-2, 10..30;3]),
        (&x.rechunk([30, 25]) + &x).slice(s![2..9, ..]),
        x.slice(s![..30, ..]).rechunk([10, 10]).exp(),
        ka::arange(0i64, 40, 1, [7]).rechunk([5]),
        lin.slice(s![7]),
        lin.slice(s![..50]),
        lin.slice(s![..;4]),
        lin.slice(s![..80;2]) * 2.0,
        lin.slice(s![3..4]),
        lin.slice(s![1..50]),
        lin.slice(s![..;-3]),
        odd.slice(s![..40]),
        odd.slice(s![..;8]),
        odd.rechunk([20]).slice(s![..33;2]),
        odd.slice(s![76]),
    ]
    .iter()
    .map(|a| a.expr().clone())
    .collect();
    let optimized = check(&roots);
    assert!(tasks(&optimized) < tasks(&roots), "{} vs {}", tasks(&optimized), tasks(&roots));
}

#[test]
fn shared_costly_values_stay_shared() {
    let x = ka::random::uniform([100, 100], [10, 10], 1).sin();
    let part = x.slice(s![..10, ..]).sum();
    let total = &part + &x.sum();
    let optimized = check(std::slice::from_ref(total.expr()));
    let sines = Expr::topo_order(&optimized).iter().filter(|e| e.op().name() == "sin").count();
    assert_eq!(sines, 1);
}

/// A small deterministic choice stream from a proptest seed.
struct Choices(u64);

impl Choices {
    fn pick(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n.max(1) as u64) as usize
    }
}

/// A random valid slice of `shape`: ranges with steps, indices, new axes.
fn random_slice(c: &mut Choices, shape: &[usize]) -> Vec<SliceInfoElem> {
    let mut info = Vec::new();
    for &len in shape {
        if c.pick(6) == 0 {
            info.push(SliceInfoElem::NewAxis);
        }
        if len > 0 && c.pick(5) == 0 {
            info.push(SliceInfoElem::Index(c.pick(len) as isize));
            continue;
        }
        let a = c.pick(len + 1);
        let b = a + c.pick(len + 1 - a);
        let step = [1, 1, 2, -1, 3, -2][c.pick(6)];
        info.push(SliceInfoElem::Slice { start: a as isize, end: Some(b as isize), step });
    }
    info
}

/// A random expression DAG over random sources and chunkings: values in the pool may be
/// used several times (shared subexpressions), and 1 or 2 roots come out.
fn random_roots(seed: u64) -> Vec<Array> {
    let mut c = Choices(seed);
    let (n, m) = (1 + c.pick(12), 1 + c.pick(12));
    let ch = [1 + c.pick(n), 1 + c.pick(m)];
    let mut pool: Vec<Array> = vec![
        ka::random::uniform([n, m], ch, seed),
        ka::random::normal([m], [ch[1]], seed ^ 1),
        ka::from_array(common::data(&[n, m], seed), ch),
        ka::arange(0i64, m as i64, 1, [ch[1]]).astype(DType::F64),
        ka::full([n, 1], 0.5, [ch[0], 1]),
        ka::linspace_endpoint(
            [0.0, -1.5, 0.1, 3.0][c.pick(4)],
            [1.0, 0.7, -2.25, 1e3][c.pick(4)],
            m,
            c.pick(2) == 0,
            [ch[1]],
        ),
    ];
    for _ in 0..2 + c.pick(10) {
        let a = pool[c.pick(pool.len())].clone();
        let b = pool[c.pick(pool.len())].clone();
        let nd = a.ndim();
        let next = match c.pick(24) {
            0 => &a + &b,
            1 => &a * &b,
            2 => &a - 1.5,
            3 => -(-&a),
            4 => a.exp(),
            5 => a.abs().sqrt(),
            6 | 7 => a.slice(random_slice(&mut c, a.shape())),
            8 => a.t(),
            9 if nd > 0 => a.sum_axis(Axis(c.pick(nd))),
            10 if nd > 0 => a.max_axis(Axis(c.pick(nd))),
            11 => a.insert_axis(Axis(c.pick(nd + 1))),
            12 => &a * 1.0,
            13 => where_(&a.gt(0.5), &a, &b),
            14 if nd > 0 => a.mean_axes(&[c.pick(nd)], true),
            15 => a.gt(&b).and(a.le(0.9)),
            16 => a.astype(DType::I32) * 3 - 1,
            17 => a.astype(DType::I64) % 4 + b.astype(DType::I64),
            18 => a.is_nan().not().or(a.gt(&b)),
            19 => a.sum().slice(s![ndarray::NewAxis]) * &b,
            20 => a.astype(DType::F32).sqrt() * 2.0,
            21 if nd > 0 => {
                // A prefix with a power-of-two step: the slices a linspace can absorb.
                let mut info = vec![SliceInfoElem::Slice { start: 0, end: None, step: 1 }; nd];
                let end = c.pick(a.shape()[0] + 1) as isize;
                info[0] = SliceInfoElem::Slice { start: 0, end: Some(end), step: [1, 2, 4][c.pick(3)] };
                a.slice(info)
            }
            22 => a.rechunk(vec![1 + c.pick(4); nd].as_slice()).slice(random_slice(&mut c, a.shape())),
            _ => a.rechunk(vec![1 + c.pick(4); nd].as_slice()),
        };
        if next.check().is_ok() {
            pool.push(next);
        }
    }
    let last = pool.pop().expect("a value");
    let sliced = last.slice(random_slice(&mut c, last.shape()));
    let root = if sliced.check().is_ok() { sliced } else { last };
    if c.pick(2) == 0 { vec![root] } else { vec![root, pool[c.pick(pool.len())].clone()] }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn optimized_equals_unoptimized(seed in any::<u64>()) {
        let roots: Vec<Expr> = random_roots(seed).iter().map(|a| a.expr().clone()).collect();
        check(&roots);
    }
}
