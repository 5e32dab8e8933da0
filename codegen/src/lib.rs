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

use kiln_ir::{DType, TaskGraph, TaskId, Value};

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

/// Where a block task may write its block instead of a buffer of its own: the block's
/// region of a larger C-order array (the array `compute()` returns).
#[derive(Clone, Debug)]
pub struct BlockDest {
    /// The address of the region's first element.
    pub base: *mut u8,
    /// The array's element type.
    pub dtype: DType,
    /// The array's strides, in elements, one per axis of the block.
    pub strides: Vec<usize>,
}

/// Like [`run_task_owned`], but a block that a fused map kernel computes is written into
/// `dest` (`Ok(None)`); any other task gives its value (`Ok(Some)`), for the caller to
/// place. After an error, the region may hold part of the block.
///
/// # Safety
///
/// `dest` must describe a region of the task's block shape (its node's block) inside an
/// array of `dest.dtype` that nothing else reads or writes while this runs.
pub unsafe fn run_task_into(
    graph: &TaskGraph,
    id: TaskId,
    inputs: &mut [Value],
    dest: &BlockDest,
) -> Result<Option<Value>> {
    // SAFETY: the caller's guarantee.
    unsafe { reference::run_task_into(graph, id, inputs, dest) }
}
