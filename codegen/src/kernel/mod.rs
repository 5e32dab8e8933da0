//! The kernel interpreter: runs a fused `Kernel` over one block, processing it in
//! cache-sized tiles so a chain of fused ops makes one pass over memory.

use std::ops::Range;

use kiln_ir::{Chunk, Kernel};

use crate::error::{Error, Result};
use crate::reference::reduce::PartialState;

/// Runs a `Map` kernel over the block at `region` (global element ranges of the iteration
/// space); `inputs` are the blocks of the kernel's inputs, in order.
pub fn run_map(kernel: &Kernel, inputs: &[&Chunk], region: &[Range<usize>]) -> Result<Chunk> {
    let _ = (kernel, inputs, region);
    Err(Error::Unsupported("the kernel interpreter is not written yet".into()))
}

/// Runs a `Reduce` kernel over the block at `region`: the partial state of the reduction
/// over that block. `space` is the whole iteration space's shape (flat argmin/argmax
/// indices count in it).
pub fn run_partial(
    kernel: &Kernel,
    inputs: &[&Chunk],
    region: &[Range<usize>],
    space: &[usize],
) -> Result<PartialState> {
    let _ = (kernel, inputs, region, space);
    Err(Error::Unsupported("the kernel interpreter is not written yet".into()))
}
