//! kiln's chunk kernels: computes one task of a task graph from its inputs' values with the
//! reference interpreter built on ndarray (`reference`); fused kernels run on the Cranelift
//! JIT (`jit`) when it is on, and on the kernel interpreter (`kernel`) otherwise.

pub mod error;
pub mod jit;
pub mod kernel;
pub mod math;
pub mod npy;
mod prefetch;
pub mod random;
pub mod reference;

pub use error::{Error, Result};
pub use reference::reduce::PartialState;

use kiln_ir::{TaskGraph, TaskId, Value};

/// Computes task `id` of `graph` from its dependencies' values, given in the order of
/// `graph.deps(id)`: an array chunk (`Value::chunk`) for `Block` and `ReduceFinal` tasks, a
/// [`PartialState`] for `ReducePartial` and `ReduceCombine` tasks.
pub fn run_task(graph: &TaskGraph, id: TaskId, inputs: &[Value]) -> Result<Value> {
    reference::run_task(graph, id, inputs)
}

/// Like [`run_task`], taking the inputs: a block held only by this task may be reused for
/// its result (elementwise ops then compute in place instead of allocating).
pub fn run_task_owned(graph: &TaskGraph, id: TaskId, inputs: &mut [Value]) -> Result<Value> {
    reference::run_task_owned(graph, id, inputs)
}
