//! Times the kernel interpreter on one 1024×1024 `f64` block against the same ops run one
//! by one with the reference kernels: the A1 kernel `(sin(x)^2 + cos(y)^2) * x - y/2`
//! summed (`x` a loaded block, `y` a random source), `(x + 1) * 2` as a map, and the A5
//! kernel `x + y.t()` (one input read through a transposed axes map) summed and as a map,
//! on contiguous blocks and on blocks that are views of a wider array (as `from_array`
//! makes them), and `x + x.t()` on one block. Run with
//! `cargo run -p kiln-codegen --release --example kernel_timing` (add `-- a5` for the A5
//! figures alone, from more runs).

mod common;

use common::{UNIFORM, time_s};
use kiln_codegen::kernel::{run_map, run_partial};
use kiln_codegen::reference::{elementwise, reduce, source};
use kiln_ir::{BinaryOp, Chunk, DType, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, Scalar, UnaryOp, ValueId};
use ndarray::Array2;

fn plus_one_times_two() -> Kernel {
    let v = ValueId;
    Kernel {
        ndim: 2,
        inputs: vec![KernelInput { dtype: DType::F64, axes: vec![0, 1] }],
        body: vec![
            Inst::Load(0),
            Inst::Const(Scalar::F64(1.0)),
            Inst::Binary(BinaryOp::Add, v(0), v(1)),
            Inst::Const(Scalar::F64(2.0)),
            Inst::Binary(BinaryOp::Mul, v(2), v(3)),
        ],
        output: KernelOutput::Map(v(4)),
    }
}

/// `x + y.t()` over a 2-d block, summed over both axes or (`reduce` false) as a map;
/// `x + y` when not `transposed`.
fn a5(reduce: bool, transposed: bool) -> Kernel {
    let v = ValueId;
    let f64_on = |axes: Vec<u32>| KernelInput { dtype: DType::F64, axes };
    let output = if reduce {
        KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![0, 1], keepdims: false, value: v(2) }
    } else {
        KernelOutput::Map(v(2))
    };
    Kernel {
        ndim: 2,
        inputs: vec![f64_on(vec![0, 1]), f64_on(if transposed { vec![1, 0] } else { vec![0, 1] })],
        body: vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Add, v(0), v(1))],
        output,
    }
}

/// Seconds per A5 run on a 1024×1024 block: summed and as a map, on contiguous blocks and
/// on views, summed on one block read both ways (`x + x.t()`), and summed without the
/// transpose (`x + y`, the floor); the median of `reps` runs each.
fn a5_timings(reps: usize) -> [f64; 6] {
    let n = 1024;
    let stream = kiln_codegen::random::RandomStream::new(42);
    let region = [0..n, 0..n];
    let space = [8192, 8192];
    let sum_all = |state: reduce::PartialState| {
        reduce::finalize(ReduceOp::Sum, state, &[0, 1], false, DType::F64).expect("finalize")
    };
    let x = Chunk::new(Array2::from_shape_fn((n, n), |(i, j)| stream.uniform01((i * n + j) as u64)).into_dyn());
    // A5: two distinct blocks, the second read transposed; contiguous, then as views of a
    // 2048×8192 array (rows 64 KiB apart, as blocks of an 8192-wide array are).
    let a5_sum = a5(true, true);
    let a5_map = a5(false, true);
    let y_data = Array2::from_shape_fn((n, n), |(i, j)| stream.uniform01((n * n + i * n + j) as u64));
    let y = Chunk::new(y_data.into_dyn());
    let a5_contiguous = time_s(reps, || sum_all(run_partial(&a5_sum, &[&x, &y], &region, &space).expect("a5")));
    let a5_map_contiguous = time_s(reps, || run_map(&a5_map, &[&x, &y], &region).expect("a5 map"));
    let wide =
        ndarray::Array2::from_shape_fn((2 * n, 8 * n), |(i, j)| stream.uniform01((i * 8 * n + j) as u64)).into_shared();
    let xv = Chunk::from(wide.clone().slice_move(ndarray::s![..n, ..n]).into_dyn());
    let yv = Chunk::from(wide.slice_move(ndarray::s![n.., n..2 * n]).into_dyn());
    let a5_views = time_s(reps, || sum_all(run_partial(&a5_sum, &[&xv, &yv], &region, &space).expect("a5")));
    let a5_map_views = time_s(reps, || run_map(&a5_map, &[&xv, &yv], &region).expect("a5 map"));

    let one_block = time_s(reps, || sum_all(run_partial(&a5_sum, &[&x, &x], &region, &space).expect("a5")));
    let plain = a5(true, false);
    let plain_sum = time_s(reps, || sum_all(run_partial(&plain, &[&x, &y], &region, &space).expect("x + y")));
    [a5_contiguous, a5_views, a5_map_contiguous, a5_map_views, one_block, plain_sum]
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("a5") {
        // Only the A5 figures, from more runs (for profiling the transposed path).
        let ns = |s: f64| s * 1e9 / (1024.0 * 1024.0);
        let t = a5_timings(101);
        println!(
            "A5 ns per element: summed {:.2} / views {:.2}, map {:.2} / views {:.2}, one block {:.2}; \
             x + y summed {:.2}",
            ns(t[0]),
            ns(t[1]),
            ns(t[2]),
            ns(t[3]),
            ns(t[4]),
            ns(t[5])
        );
        return;
    }
    let n = 1024;
    let elems = (n * n) as f64;
    let ns = |s: f64| s * 1e9 / elems;
    let stream = kiln_codegen::random::RandomStream::new(42);
    let data = Array2::from_shape_fn((n, n), |(i, j)| stream.uniform01((i * n + j) as u64));
    let x = Chunk::new(data.clone().into_dyn());
    let region = [0..n, 0..n];
    let space = [8192, 8192];
    let shape = [n, n];
    let reps = 21;

    let sum_all = |state: reduce::PartialState| {
        reduce::finalize(ReduceOp::Sum, state, &[0, 1], false, DType::F64).expect("finalize")
    };
    let a1 = common::a1(true);
    let fused = time_s(reps, || sum_all(run_partial(&a1, &[&x], &region, &space).expect("a1")));
    let two = source::full(Scalar::F64(2.0), &[]);
    let by_ops = time_s(reps, || {
        let y = source::random(UNIFORM, 7, &space, None, &region).expect("random");
        let s = elementwise::binary(BinaryOp::Pow, &elementwise::unary(UnaryOp::Sin, &x).expect("sin"), &two, &shape);
        let c = elementwise::binary(BinaryOp::Pow, &elementwise::unary(UnaryOp::Cos, &y).expect("cos"), &two, &shape);
        let t = elementwise::binary(BinaryOp::Add, &s.expect("pow"), &c.expect("pow"), &shape).expect("add");
        let t = elementwise::binary(BinaryOp::Mul, &t, &x, &shape).expect("mul");
        let h = elementwise::binary(BinaryOp::Div, &y, &two, &shape).expect("div");
        let t = elementwise::binary(BinaryOp::Sub, &t, &h, &shape).expect("sub");
        sum_all(reduce::partial(ReduceOp::Sum, &[0, 1], &t, &region, &shape).expect("sum"))
    });
    let y = source::random(UNIFORM, 7, &space, None, &region).expect("random");
    let ys: Vec<f64> = y.typed::<f64>().expect("f64").iter().copied().collect();
    let xs: Vec<f64> = data.iter().copied().collect();
    let sin = time_s(reps, || xs.iter().map(|v| v.sin()).sum::<f64>());
    let cos = time_s(reps, || ys.iter().map(|v| v.cos()).sum::<f64>());
    let random = time_s(reps, || source::random(UNIFORM, 7, &space, None, &region).expect("random"));

    let k = plus_one_times_two();
    let map = time_s(reps, || run_map(&k, &[&x], &region).expect("map"));
    let one = source::full(Scalar::F64(1.0), &[]);
    let map_ops = time_s(reps, || {
        let t = elementwise::binary(BinaryOp::Add, &x, &one, &shape).expect("add");
        elementwise::binary(BinaryOp::Mul, &t, &two, &shape).expect("mul")
    });
    let copy = time_s(reps, || xs.iter().map(|v| v * 2.0).collect::<Vec<f64>>());
    // A 256x256 block stays in cache: the loops' own speed, without memory traffic.
    let m = 256;
    let small = Chunk::new(Array2::from_shape_fn((m, m), |(i, j)| (i * m + j) as f64).into_dyn());
    let small_region = [0..m, 0..m];
    let small_reps = 16 * reps;
    let ns_small = |s: f64| s * 1e9 / (m * m) as f64;
    let map_small = time_s(small_reps, || run_map(&k, &[&small], &small_region).expect("map"));
    let map_ops_small = time_s(small_reps, || {
        let t = elementwise::binary(BinaryOp::Add, &small, &one, &[m, m]).expect("add");
        elementwise::binary(BinaryOp::Mul, &t, &two, &[m, m]).expect("mul")
    });

    let [a5_contiguous, a5_views, a5_map_contiguous, a5_map_views, one_block, plain_sum] = a5_timings(reps);

    println!("1024x1024 f64 block, median of {reps} runs, ns per element:");
    println!("  A1 summed, fused kernel     {:6.2}", ns(fused));
    println!("  A1 summed, op by op         {:6.2}", ns(by_ops));
    println!("    sin alone + cos alone     {:6.2} ({:.2} + {:.2})", ns(sin + cos), ns(sin), ns(cos));
    println!("    random.uniform alone      {:6.2}", ns(random));
    println!("  (x + 1) * 2, fused kernel   {:6.2}", ns(map));
    println!("  (x + 1) * 2, op by op       {:6.2}", ns(map_ops));
    println!("    x * 2 into a new Vec      {:6.2}", ns(copy));
    println!("  (x + 1) * 2 on 256x256, fused kernel {:6.2}", ns_small(map_small));
    println!("  (x + 1) * 2 on 256x256, op by op     {:6.2}", ns_small(map_ops_small));
    println!("  A5 x + y.t() summed, contiguous blocks   {:6.2}", ns(a5_contiguous));
    println!("  A5 x + y.t() summed, views (8192 wide)   {:6.2}", ns(a5_views));
    println!("  A5 x + y.t() map, contiguous blocks      {:6.2}", ns(a5_map_contiguous));
    println!("  A5 x + y.t() map, views (8192 wide)      {:6.2}", ns(a5_map_views));
    println!("  A5 x + x.t() summed, one block           {:6.2}", ns(one_block));
    println!("    x + y summed (no transpose)            {:6.2}", ns(plain_sum));
}
