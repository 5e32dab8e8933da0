//! kiln's chunk kernels: computes one task of a task graph from its inputs' values. Today
//! this is the reference interpreter built on ndarray (`reference`); the Cranelift JIT will
//! plug in beside it and must agree with it.

pub mod error;

pub use error::{Error, Result};

use kiln_ir::{TaskGraph, TaskId, Value};

/// Computes task `id` of `graph` from its dependencies' values, given in the order of
/// `graph.deps(id)`.
pub fn run_task(graph: &TaskGraph, id: TaskId, inputs: &[Value]) -> Result<Value> {
    let _ = inputs;
    Err(Error::Unsupported(format!("no kernel yet for {}", graph.key_string(id))))
}
