//! Times the pipeline on a 1,000,000-block expression: `((x + 1) * 2).sum()` for `x` of
//! shape (1,000,000, 1000) in (1, 1000) chunks. Run it in release:
//! `cargo run -p kiln-passes --release --example lower_million`.

use std::time::Instant;

use kiln_ir::build;
use kiln_ir::{BinaryOp, Chunks, Distribution, F64Bits, ReduceOp, Scalar};
use kiln_passes::{PassOptions, build_graph};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let dist = Distribution::Uniform { low: F64Bits(0.0), high: F64Bits(1.0) };
    let x = build::random(dist, 42, &[1_000_000, 1000], &Chunks::from([1, 1000]))?;
    let y = build::binary(BinaryOp::Add, &x, &build::scalar(Scalar::F64(1.0)))?;
    let y = build::binary(BinaryOp::Mul, &y, &build::scalar(Scalar::F64(2.0)))?;
    let s = build::reduce(ReduceOp::Sum, &y, None, false)?;
    let built = start.elapsed();
    let opts = PassOptions { verify: false, ..PassOptions::default() };
    let start = Instant::now();
    let (graph, records) = build_graph(&[s], &opts)?;
    let total = start.elapsed();
    println!("build expression: {built:?}");
    for r in &records {
        println!("{:>6}: {:<40} {:?}", r.name, r.summary, r.elapsed);
    }
    println!("pipeline total: {total:?} ({} tasks)", graph.len());
    let start = Instant::now();
    drop(graph);
    println!("drop graph: {:?}", start.elapsed());
    Ok(())
}
