//! The kernel interpreter: runs a fused `Kernel` over one block, processing it in
//! cache-sized tiles so a chain of fused ops makes one pass over memory.
//!
//! A call checks the kernel and its input blocks, plans the body (`plan`: what is live, what
//! can be hoisted out of the row loop, where each value lives), then walks the block's rows
//! in C order (`walk`), a tile of at most 1024 elements at a time, evaluating one
//! instruction per tile into a typed scratch buffer (`eval`, `load`, `sources`) and writing
//! the result into the output block or folding it into a reduction's accumulators
//! (`reduce`). An input read across its memory layout (a transposed block) is first copied
//! a band of rows at a time into a row-major buffer (`stage`, `transpose`), so that its
//! cache lines are read once, not once per element. Values equal the per-op reference
//! interpreter's (`crate::reference`), whose function tables and folds it reuses; the JIT
//! must agree with both.

mod eval;
mod exec;
mod load;
mod plan;
mod reduce;
pub(crate) mod simd;
pub(crate) mod sources;
pub(crate) mod stage;
mod tile;
mod transpose;
mod walk;

use std::ops::Range;

use kiln_ir::{Chunk, Kernel, KernelOutput};

/// Shared with the JIT, which plans kernels the same way.
pub(crate) use plan::{const_exponents, operands, random_affine};
pub(crate) use reduce::ReducedLayout;
pub(crate) use sources::Linspace;
pub(crate) use walk::c_strides;

use crate::error::{Error, Result};
use crate::reference::reduce::PartialState;
use exec::{Ctx, Sink};
use reduce::Reducer;
use tile::Buf;

/// Runs a `Map` kernel over the block at `region` (global element ranges of the iteration
/// space); `inputs` are the blocks of the kernel's inputs, in order.
pub fn run_map(kernel: &Kernel, inputs: &[&Chunk], region: &[Range<usize>]) -> Result<Chunk> {
    let KernelOutput::Map(value) = kernel.output else {
        return Err(Error::Internal("kernel: run_map of a reduction kernel (use run_partial)".into()));
    };
    let ctx = Ctx::new(kernel, inputs, region, value, true)?;
    let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
    let mut sink = Sink::Map(Buf::with_capacity(ctx.out_dtype(), shape.iter().product()));
    ctx.run(&mut sink)?;
    let Sink::Map(out) = sink else {
        return Err(Error::Internal("kernel: the output block went missing".into()));
    };
    out.into_chunk(&shape)
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
    let KernelOutput::Reduce { op, ref axes, value, .. } = kernel.output else {
        return Err(Error::Internal("kernel: run_partial of a map kernel (use run_map)".into()));
    };
    check_region(region, space)?;
    let mut ctx = Ctx::new(kernel, inputs, region, value, false)?;
    let reducer = Reducer::new(op, axes, ctx.out_dtype(), &ctx.space, kernel.ndim as usize, space, &mut ctx.trackers)?;
    let mut sink = Sink::Reduce(reducer);
    ctx.run(&mut sink)?;
    let Sink::Reduce(reducer) = sink else {
        return Err(Error::Internal("kernel: the reduction went missing".into()));
    };
    reducer.finish()
}

/// Fails unless the block `region` lies inside the iteration space `space`.
pub(crate) fn check_region(region: &[Range<usize>], space: &[usize]) -> Result<()> {
    let inside = space.len() == region.len() && region.iter().zip(space).all(|(r, &d)| r.start <= r.end && r.end <= d);
    if !inside {
        return Err(Error::Internal(format!("kernel: block region {region:?} is not inside the space {space:?}")));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
