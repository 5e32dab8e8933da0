//! The Cranelift JIT for fused chunk kernels: compiles a `Kernel` to a native row function
//! (`compile`, `loops`, `emit`, with host calls in `host`; kernels whose varying values are
//! all `f64` or all `f32` get an `F64X2` or `F32X4` main loop from `vector`; on CPUs with
//! AVX2, varying transcendentals and random numbers are read from buffers that host code
//! fills first, `fills`), caches it process-wide per kernel and input layout (`cache`), and
//! runs it over a block (`run` for maps, `reduce` for partial states). Results equal the
//! kernel interpreter's (`crate::kernel`) bit for bit, except that `exp`, `ln`, `sin`, `cos`
//! and `tanh` run `crate::math`'s vectorized polynomials (`math`, written in `lanes`; in
//! `f32` on promoted values), within `crate::math::ULP_BOUND` ulp of the interpreter's
//! libm; the interpreter stays the reference and the fallback for anything the JIT
//! declines.
//!
//! The JIT is on unless the environment sets `KILN_JIT=0` (read once) or [`set_enabled`]
//! turns it off. [`stats`] reports compilations, cache hits, fallbacks and compile time.

mod analysis;
mod cache;
mod compile;
mod emit;
mod fills;
mod host;
mod lanes;
mod loops;
mod math;
mod pair;
mod reduce;
mod run;
mod vector;

use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use kiln_ir::{Chunk, DType, Kernel, KernelOutput};
use ndarray::{ArrayD, IxDyn};

pub use analysis::Stride;
pub use cache::{JitStats, stats};
pub use compile::clif_text;

use crate::error::{Error, Result};
use crate::reference::num::with_dtype;
use crate::reference::reduce::PartialState;
use run::{RowCursor, Walk, call_row};

/// 0: not decided yet (read `KILN_JIT`), 1: on, 2: off.
static ENABLED: AtomicU8 = AtomicU8::new(0);

/// Whether fused kernels run on the JIT.
pub fn enabled() -> bool {
    match ENABLED.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            static FROM_ENV: OnceLock<bool> = OnceLock::new();
            let on = *FROM_ENV.get_or_init(|| std::env::var("KILN_JIT").map_or(true, |v| v.trim() != "0"));
            // A concurrent `set_enabled` wins over the environment.
            let _ = ENABLED.compare_exchange(0, if on { 1 } else { 2 }, Ordering::Relaxed, Ordering::Relaxed);
            ENABLED.load(Ordering::Relaxed) == 1
        }
    }
}

/// Turns the JIT on or off for the whole process (overrides `KILN_JIT`).
pub fn set_enabled(on: bool) {
    ENABLED.store(if on { 1 } else { 2 }, Ordering::Relaxed);
}

/// What the dispatch does with a JIT attempt's outcome: the interpreter runs again on
/// anything but a data error (so it reports internal errors in its own words, and covers
/// what the JIT cannot compile).
fn settle<T>(r: Result<T>) -> Option<Result<T>> {
    match r {
        Ok(v) => {
            cache::count_run();
            Some(Ok(v))
        }
        Err(e @ Error::Compute(_)) => {
            cache::count_run();
            Some(Err(e))
        }
        Err(_) => {
            cache::count_fallback();
            None
        }
    }
}

/// Runs a `Map` kernel over the block at `region` on the JIT, as
/// [`crate::kernel::run_map`] would; `None` when the JIT is off or declines the kernel
/// (the caller then runs the interpreter).
pub fn try_run_map(kernel: &Kernel, inputs: &[&Chunk], region: &[Range<usize>]) -> Option<Result<Chunk>> {
    if !enabled() || !worth_compiling(kernel) {
        cache::count_fallback();
        return None;
    }
    settle(run_map(kernel, inputs, region))
}

/// Runs a `Reduce` kernel's partial state over the block at `region` (of a space of shape
/// `space`) on the JIT, as [`crate::kernel::run_partial`] would; `None` when the JIT is
/// off or declines the kernel.
pub fn try_run_partial(
    kernel: &Kernel,
    inputs: &[&Chunk],
    region: &[Range<usize>],
    space: &[usize],
) -> Option<Result<PartialState>> {
    if !enabled() || !worth_compiling(kernel) {
        cache::count_fallback();
        return None;
    }
    settle(run_partial(kernel, inputs, region, space))
}

/// Runs a `Reduce` kernel's partial states over two blocks (`inputs[k]` at `regions[k]`)
/// on the JIT, as two [`crate::kernel::run_partial`] calls would; `None` when the JIT is
/// off or declines the kernel. Blocks that mirror each other across the diagonal of a 2-d
/// space, each reading the other's input blocks across their layout (`(x + x.t()).sum()`,
/// `TaskKind::ReducePair`), have their float sums computed in one pass (`pair`).
pub fn try_run_pair(
    kernel: &Kernel,
    inputs: [&[&Chunk]; 2],
    regions: [&[Range<usize>]; 2],
    space: &[usize],
) -> Option<Result<(PartialState, PartialState)>> {
    if !enabled() || !worth_compiling(kernel) {
        cache::count_fallback();
        return None;
    }
    settle(run_pair(kernel, inputs, regions, space))
}

/// Whether the JIT is expected to beat the interpreter on `kernel`. Kernels that generate
/// random numbers spend most of their time in the generator, which is the interpreter's
/// either way (the JIT fills its buffers with it, `fills`), and the interpreter's AVX-512
/// tile loops then reduce faster than the JIT's two-lane code and per-call overhead (the
/// tour's front page 0.745 s vs 0.655 s, `x.std()` 49 vs 42 ms, on the 2-core machine). So
/// they run on the JIT only where it also fills `f64` transcendentals, which it computes
/// 3 to 4 times as fast (the tour's A1 0.175 s vs 0.48 s). On a CPU without AVX2 (no
/// fills) the JIT's own `I64X2` generator runs, twice as slow as the interpreter's: never
/// there. The JIT still compiles and runs such kernels when called directly (`run_map`,
/// `run_partial`), which the differential tests do.
fn worth_compiling(kernel: &Kernel) -> bool {
    use kiln_ir::Inst;
    if !kernel.body.iter().any(|inst| matches!(inst, Inst::Random { .. })) {
        return true;
    }
    let dtypes = kernel.dtypes().unwrap_or_default();
    fills::batching()
        && kernel.body.iter().any(|inst| {
            matches!(inst, Inst::Unary(op, x)
                if crate::math::covers(*op) && dtypes.get(x.idx()) == Some(&kiln_ir::DType::F64))
        })
}

fn invalid(e: kiln_ir::Error) -> Error {
    Error::Internal(format!("jit: {e}"))
}

/// [`crate::kernel::run_map`] on the JIT (errors other than data errors mean "use the
/// interpreter").
pub fn run_map(kernel: &Kernel, inputs: &[&Chunk], region: &[Range<usize>]) -> Result<Chunk> {
    let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
    let (d, prepared) = prepare_map(kernel, inputs, region, None)?;
    with_dtype!(d, T => {
        let Some((walk, c)) = prepared else {
            return block(Vec::<T>::new(), &shape);
        };
        let total = walk.n_rows() * walk.row_len();
        let mut out: Vec<T> = Vec::with_capacity(total);
        // SAFETY: the walk's output strides are C order over the block, so its rows are
        // the `total` elements of `out`'s allocation.
        unsafe { map_rows(&c, &walk, out.as_mut_ptr() as *mut u8)? };
        // SAFETY: the rows wrote every one of the `total` elements (rows × row length is
        // the block's size), each a valid value of the dtype (bools are stored as 0 or 1).
        unsafe { out.set_len(total) };
        block(out, &shape)
    })
}

/// [`try_run_map`] writing the block into `dest` instead of a new buffer.
///
/// # Safety
///
/// `dest` must describe a region of `region`'s shape inside an array of `dest.dtype` that
/// nothing else reads or writes meanwhile.
pub unsafe fn try_run_map_into(
    kernel: &Kernel,
    inputs: &[&Chunk],
    region: &[Range<usize>],
    dest: &crate::BlockDest,
) -> Option<Result<()>> {
    if !enabled() || !worth_compiling(kernel) {
        cache::count_fallback();
        return None;
    }
    // SAFETY: the caller's guarantee.
    settle(unsafe { run_map_into(kernel, inputs, region, dest) })
}

/// [`run_map`] writing the block into `dest`.
///
/// # Safety
///
/// As [`try_run_map_into`].
pub unsafe fn run_map_into(
    kernel: &Kernel,
    inputs: &[&Chunk],
    region: &[Range<usize>],
    dest: &crate::BlockDest,
) -> Result<()> {
    let (d, prepared) = prepare_map(kernel, inputs, region, Some(&dest.strides))?;
    if d != dest.dtype {
        return Err(Error::Internal(format!("jit: a {d} block into a {} array", dest.dtype)));
    }
    match prepared {
        // SAFETY: the walk's output strides are the array's, from the region's first
        // element: the caller guarantees every element of the region lies inside the array.
        Some((walk, c)) => unsafe { map_rows(&c, &walk, dest.base) },
        None => Ok(()),
    }
}

/// What a map over the block at `region` needs: the result's dtype and, unless the block
/// is empty, the walk (its output strides `out`, per axis of the block, or C order over
/// the block) and the compiled kernel.
fn prepare_map(
    kernel: &Kernel,
    inputs: &[&Chunk],
    region: &[Range<usize>],
    out: Option<&[usize]>,
) -> Result<(DType, Option<(Walk, std::sync::Arc<cache::Compiled>)>)> {
    let KernelOutput::Map(value) = kernel.output else {
        return Err(Error::Internal("jit: a map of a reduction kernel".into()));
    };
    kernel.verify().map_err(invalid)?;
    let d = kernel.dtypes().map_err(invalid)?[value.idx()];
    let mut walk = Walk::new(kernel, inputs, region)?;
    if walk.is_empty() {
        return Ok((d, None));
    }
    match out {
        Some(strides) if strides.len() != region.len() => {
            return Err(Error::Internal(format!(
                "jit: {} output strides for a {}-d block",
                strides.len(),
                region.len()
            )));
        }
        Some(strides) if !region.is_empty() => walk.out = strides.iter().map(|&s| s as i64).collect(),
        _ => {}
    }
    walk.simplify(kernel);
    walk.plan_row_access()?;
    let c = cache::get(kernel, &walk.stride_classes())?;
    Ok((d, Some((walk, c))))
}

/// Runs `c`'s map function over every row of `walk`, writing each at `base` plus the row's
/// offset by the walk's output strides.
///
/// # Safety
///
/// Every position of the walk, at its output strides from `base`, must be an element of an
/// allocation of the map's dtype that nothing else accesses meanwhile.
unsafe fn map_rows(c: &cache::Compiled, walk: &Walk, base: *mut u8) -> Result<()> {
    let map = c.f.ok_or_else(|| Error::Internal("jit: a map kernel without its map function".into()))?;
    let last = walk.lens.len() - 1;
    let row_len = walk.row_len();
    if row_len > 1 && walk.out[last] != 1 {
        return Err(Error::Unsupported("jit: an output whose rows are not contiguous".into()));
    }
    let mut cursor = RowCursor::new(walk);
    let mut idx = vec![0usize; last];
    let mut at = 0i64;
    for _ in 0..walk.n_rows() {
        let out = base.wrapping_offset(at as isize * c.out_size as isize);
        // SAFETY: the row's `row_len` elements from `out` are elements of the output (the
        // caller's guarantee); the row's positions lie inside the block.
        unsafe { call_row(c, map, walk, &mut cursor, 0, row_len, out)? };
        cursor.advance(walk);
        run::next_row(&mut idx, &walk.lens, |k, by| at = at.wrapping_add(walk.out[k].wrapping_mul(by)));
    }
    Ok(())
}

fn block<T: kiln_ir::Element>(v: Vec<T>, shape: &[usize]) -> Result<Chunk> {
    ArrayD::from_shape_vec(IxDyn(shape), v)
        .map(Chunk::new)
        .map_err(|e| Error::Internal(format!("jit: a block of shape {shape:?}: {e}")))
}

/// [`crate::kernel::run_partial`] on the JIT (errors other than data errors mean "use the
/// interpreter").
pub fn run_partial(
    kernel: &Kernel,
    inputs: &[&Chunk],
    region: &[Range<usize>],
    space: &[usize],
) -> Result<PartialState> {
    let KernelOutput::Reduce { op, ref axes, value, .. } = kernel.output else {
        return Err(Error::Internal("jit: run_partial of a map kernel".into()));
    };
    crate::kernel::check_region(region, space)?;
    kernel.verify().map_err(invalid)?;
    let d = kernel.dtypes().map_err(invalid)?[value.idx()];
    let mut walk = Walk::new(kernel, inputs, region)?;
    walk.plan_row_access()?;
    let c = if walk.is_empty() { None } else { Some(cache::get(kernel, &walk.stride_classes())?) };
    match c {
        Some(c) => reduce::partial(&c, &walk, op, axes, d, kernel.ndim as usize, space),
        None => reduce::partial_empty(&walk, op, axes, d, kernel.ndim as usize, space),
    }
}

/// [`try_run_pair`] without the dispatch (errors other than data errors mean "use the
/// interpreter").
pub fn run_pair(
    kernel: &Kernel,
    inputs: [&[&Chunk]; 2],
    regions: [&[Range<usize>]; 2],
    space: &[usize],
) -> Result<(PartialState, PartialState)> {
    let KernelOutput::Reduce { op, ref axes, value, .. } = kernel.output else {
        return Err(Error::Internal("jit: run_pair of a map kernel".into()));
    };
    let [a, b] = regions;
    crate::kernel::check_region(a, space)?;
    crate::kernel::check_region(b, space)?;
    kernel.verify().map_err(invalid)?;
    let d = kernel.dtypes().map_err(invalid)?[value.idx()];
    let mut walks = [Walk::new(kernel, inputs[0], a)?, Walk::new(kernel, inputs[1], b)?];
    for w in &mut walks {
        w.plan_row_access()?;
    }
    if walks.iter().any(Walk::is_empty) {
        return Ok((run_partial(kernel, inputs[0], a, space)?, run_partial(kernel, inputs[1], b, space)?));
    }
    let first = cache::get(kernel, &walks[0].stride_classes())?;
    let second = cache::get(kernel, &walks[1].stride_classes())?;
    let ndim = kernel.ndim as usize;
    // The map that gives B's values along A's rows, where a pair's sums can take one pass
    // (`pair`); without it (or if it does not compile) the blocks run one after the other.
    let summed = matches!(op, kiln_ir::ReduceOp::Sum | kiln_ir::ReduceOp::Mean) && d.is_float();
    let mirror = pair::mirror_inputs(kernel, inputs, &walks[0]).filter(|_| summed).and_then(|from| {
        let map_kernel = Kernel { output: KernelOutput::Map(value), ..kernel.clone() };
        let map = cache::get(&map_kernel, &vec![Stride::One; from.len()]).ok()?;
        let sizes = kernel.inputs.iter().map(|i| i.dtype.size()).collect();
        map.f.is_some().then_some(pair::Mirror { map, from, f32: d == DType::F32, sizes })
    });
    reduce::pair_partial([&first, &second], [&walks[0], &walks[1]], mirror.as_ref(), op, axes, d, ndim, space)
}

#[cfg(test)]
mod tests;
