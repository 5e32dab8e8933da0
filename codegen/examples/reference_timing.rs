//! Times the reference kernels on one 1024×1024 `f64` block: elementwise add, a full sum
//! and `mean` over each axis (partial state plus finalize). Run with
//! `cargo run -p kiln-codegen --release --example reference_timing`.

use std::hint::black_box;
use std::time::Instant;

use kiln_codegen::reference::{elementwise, reduce};
use kiln_ir::{BinaryOp, Chunk, DType, ReduceOp};
use ndarray::{Array2, Axis};

/// The median of `reps` timings of `f`, in milliseconds.
fn time_ms<T>(reps: usize, mut f: impl FnMut() -> T) -> f64 {
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[reps / 2]
}

fn main() {
    let n = 1024;
    let a = Array2::from_shape_fn((n, n), |(i, j)| (i * n + j) as f64 * 1e-3);
    let x = Chunk::new(a.clone().into_dyn());
    let b = a.mapv(|v| v + 1.0);
    let y = Chunk::new(b.clone().into_dyn());
    let region = [0..n, 0..n];
    let shape = [n, n];
    let reps = 50;
    let add = time_ms(reps, || elementwise::binary(BinaryOp::Add, &x, &y, &shape).unwrap());
    let reduce_to = |op: ReduceOp, axes: &[usize]| {
        let state = reduce::partial(op, axes, &x, &region, &shape).unwrap();
        reduce::finalize(op, state, axes, false, DType::F64).unwrap()
    };
    let sum = time_ms(reps, || reduce_to(ReduceOp::Sum, &[0, 1]));
    let mean1 = time_ms(reps, || reduce_to(ReduceOp::Mean, &[1]));
    let mean0 = time_ms(reps, || reduce_to(ReduceOp::Mean, &[0]));
    let var = time_ms(reps, || reduce_to(ReduceOp::Var { ddof: kiln_ir::F64Bits(0.0) }, &[0, 1]));
    let nd_add = time_ms(reps, || &a + &b);
    let nd_sum = time_ms(reps, || a.sum());
    let nd_mean1 = time_ms(reps, || a.mean_axis(Axis(1)));
    let nd_mean0 = time_ms(reps, || a.mean_axis(Axis(0)));
    let row = Chunk::new(ndarray::Array1::from_elem(n, 2.0).into_dyn());
    let add_row = time_ms(reps, || elementwise::binary(BinaryOp::Add, &x, &row, &shape).unwrap());
    // A block of a larger user array: rows are contiguous, the block is not.
    let big = Chunk::new(Array2::from_elem((n, 2 * n), 1.0f64).into_dyn());
    let view = kiln_codegen::reference::source::from_array(&big, &region).unwrap();
    let sum_view = time_ms(reps, || {
        let state = reduce::partial(ReduceOp::Sum, &[0, 1], &view, &region, &[n, 2 * n]).unwrap();
        reduce::finalize(ReduceOp::Sum, state, &[0, 1], false, DType::F64).unwrap()
    });
    let uniform = kiln_ir::Distribution::Uniform { low: kiln_ir::F64Bits(0.0), high: kiln_ir::F64Bits(1.0) };
    let random = time_ms(reps, || kiln_codegen::reference::source::random(uniform, 1, &shape, None, &region).unwrap());
    println!("1024x1024 f64 block, median of {reps} runs (ndarray alone in parentheses):");
    println!("  add            {add:.3} ms ({nd_add:.3} ms)");
    println!("  sum            {sum:.3} ms ({nd_sum:.3} ms)");
    println!("  mean axis 1    {mean1:.3} ms ({nd_mean1:.3} ms)");
    println!("  mean axis 0    {mean0:.3} ms ({nd_mean0:.3} ms)");
    println!("  var all axes   {var:.3} ms");
    println!("  add row        {add_row:.3} ms (broadcast 1-d operand)");
    println!("  sum of a view  {sum_view:.3} ms (block of a 1024x2048 array)");
    println!("  random.uniform {random:.3} ms");
}
