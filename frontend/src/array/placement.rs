//! Blocks placed into the array `compute()` returns by the worker that computed them.
//!
//! Without this, a run hands every block of a result to the calling thread, which then
//! allocates the whole array and copies the blocks in one by one: on one thread, after the
//! run, and with every block held until the end. Here each array of more than one block
//! gets its buffer before the run (zeroed lazily, so its pages are first touched by the
//! workers that fill them, in parallel), and the task computing a block copies its value
//! into its region right away, while the block is still in cache, and gives the run a
//! [`Placed`] marker instead (declaring the block's bytes, which the result holds), so the
//! block's own buffer is freed (and reused by the next block) at once; a fused map's block
//! is written there by the JIT directly (`kiln_codegen::run_task_into`). Only blocks that
//! nothing else reads are placed: a block that another task needs, or that two outputs
//! share, is kept as a value and copied at the end.

use std::collections::HashMap;
use std::sync::Mutex;

use kiln_codegen::BlockDest;
use kiln_ir::{Chunk, ChunkGrid, DType, Element, Expr, TaskGraph, TaskId, Value};
use kiln_runtime::BoxError;
use ndarray::{ArrayD, ArrayViewMutD, IxDyn, ShapeBuilder};

use super::DynArray;
use super::dynarray::with_dyn;
use crate::error::{Error, Result};

/// The value a placed block leaves in the run: its data is already in the result.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Placed;

/// A result array's buffer, written by the tasks of its blocks.
struct Arena {
    grid: ChunkGrid,
    dtype: DType,
    /// The array, taken out once the run has succeeded. Writers never lock it: they write
    /// through `base`, each to its own block's region.
    array: Mutex<Option<DynArray>>,
    /// The address of the array's first element.
    base: *mut u8,
    /// The array's C-order strides, in elements.
    strides: Vec<usize>,
}

// SAFETY: `base` points into the buffer `array` owns, which stays allocated as long as the
// arena lives (it is only taken out after the run, when no task writes any more). Tasks
// write through it concurrently only to the regions of distinct grid blocks, which are
// disjoint, and nothing reads the buffer until the run is over.
unsafe impl Send for Arena {}
// SAFETY: as above.
unsafe impl Sync for Arena {}

/// Where the blocks of a run's result arrays go.
#[derive(Default)]
pub(crate) struct Placement {
    /// Per placed task: its result's arena and its block's linear index.
    sinks: HashMap<TaskId, (usize, u64)>,
    arenas: Vec<Option<Arena>>,
}

/// A zeroed array of `shape` (`calloc`: its pages are mapped when first written; in huge
/// pages where the system allows it, as NumPy's are), or [`Error::Memory`] where it cannot
/// be allocated.
pub(crate) fn zeroed(dtype: DType, shape: &[usize]) -> Result<DynArray> {
    fn make<T: Element>(shape: &[usize]) -> Result<ArrayD<T>> {
        let too_large = || Error::Memory(format!("a result of shape {shape:?} ({}) does not fit in memory", T::DTYPE));
        let n = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or_else(too_large)?;
        let layout = std::alloc::Layout::array::<T>(n).map_err(|_| too_large())?;
        let v = if layout.size() == 0 {
            Vec::new()
        } else {
            // SAFETY: the layout has a non-zero size.
            let p = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
            if p.is_null() {
                return Err(too_large());
            }
            // SAFETY: `p` was allocated by the global allocator with `T`'s alignment and
            // room for `n` of them; all-zero bytes are a valid `T` for every element type
            // (`false`, 0, 0.0).
            unsafe { Vec::from_raw_parts(p, n, n) }
        };
        advise_huge_pages(v.as_ptr().cast(), layout.size());
        ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| Error::Type(format!("an array of shape {shape:?}: {e}")))
    }
    Ok(match dtype {
        DType::Bool => DynArray::Bool(make(shape)?),
        DType::I32 => DynArray::I32(make(shape)?),
        DType::I64 => DynArray::I64(make(shape)?),
        DType::F32 => DynArray::F32(make(shape)?),
        DType::F64 => DynArray::F64(make(shape)?),
    })
}

/// Bytes from which an array asks for huge pages (NumPy's threshold).
const HUGE_PAGES_FROM: usize = 4 << 20;

/// Asks the kernel to back the whole 2 MiB pages of `bytes` bytes at `p` with huge pages (a
/// hint: `madvise(MADV_HUGEPAGE)`; it fails harmlessly where transparent huge pages are
/// off). A fresh large array then takes one page fault per 2 MiB instead of per 4 KiB.
fn advise_huge_pages(p: *const u8, bytes: usize) {
    #[cfg(target_os = "linux")]
    if bytes >= HUGE_PAGES_FROM {
        const HUGE: usize = 2 << 20;
        let start = (p as usize).next_multiple_of(HUGE);
        let end = (p as usize + bytes) / HUGE * HUGE;
        if end > start {
            // SAFETY: `madvise` with MADV_HUGEPAGE changes no data and no mapping's
            // contents; the range lies inside the allocation at `p`.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (p, bytes);
}

impl Placement {
    /// Arenas for those of `roots` (the graph's outputs, in order) that have more than one
    /// block, and the tasks whose blocks go straight into them.
    pub(crate) fn new(roots: &[Expr], graph: &TaskGraph) -> Result<Placement> {
        let mut p = Placement::default();
        let placed = |(root, out): (&Expr, &kiln_ir::GraphOutput)| {
            out.tasks.len() > 1 && out.tasks.len() as u64 == root.chunks().n_blocks()
        };
        if !roots.iter().zip(graph.outputs()).any(placed) {
            return Ok(p);
        }
        let mut uses: HashMap<TaskId, usize> = HashMap::new();
        for o in graph.outputs() {
            for &t in &o.tasks {
                *uses.entry(t).or_default() += 1;
            }
        }
        let (offsets, _) = graph.dependents();
        let read = |t: TaskId| offsets[t.idx() + 1] > offsets[t.idx()];
        for (k, (root, out)) in roots.iter().zip(graph.outputs()).enumerate() {
            if !placed((root, out)) {
                p.arenas.push(None);
                continue;
            }
            let grid = root.chunks();
            let mut array = zeroed(root.dtype(), grid.shape().dims())?;
            let base = with_dyn!(&mut array, a => a.as_mut_ptr() as *mut u8);
            let dims = grid.shape().dims().to_vec();
            let mut strides = vec![1usize; dims.len()];
            for d in (0..dims.len().saturating_sub(1)).rev() {
                strides[d] = strides[d + 1] * dims[d + 1];
            }
            for (b, &t) in out.tasks.iter().enumerate() {
                let task = graph.task(t);
                if uses[&t] == 1 && !read(t) && task.node == out.node && task.index == b as u64 {
                    p.sinks.insert(t, (k, b as u64));
                }
            }
            p.arenas.push(Some(Arena {
                grid: grid.clone(),
                dtype: root.dtype(),
                array: Mutex::new(Some(array)),
                base,
                strides,
            }));
        }
        Ok(p)
    }

    /// Computes task `id` of `graph` from `inputs`: a placed block is written into its
    /// result's array (by a fused map kernel directly, otherwise copied from its value) and
    /// leaves the [`Placed`] marker; any other task gives its value.
    pub(crate) fn run(&self, graph: &TaskGraph, id: TaskId, inputs: &mut [Value]) -> Result<Value, BoxError> {
        let Some(&(k, b)) = self.sinks.get(&id) else {
            return Ok(kiln_codegen::run_task_owned(graph, id, inputs)?);
        };
        let arena = self.arenas[k].as_ref().ok_or_else(|| Error::Type("a placed block without its array".into()))?;
        let idx = arena.grid.unravel(b);
        let region = arena.grid.block_region(&idx);
        let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
        let offset: usize = region.iter().zip(&arena.strides).map(|(r, &s)| r.start * s).sum();
        let dest = BlockDest {
            base: arena.base.wrapping_add(offset * arena.dtype.size()),
            dtype: arena.dtype,
            strides: arena.strides.clone(),
        };
        // The marker declares the block's bytes: they are held (in the result) until the
        // end, and the memory budget counts them as it counted the block before.
        let placed = || Value::new(Placed, shape.iter().product::<usize>() * arena.dtype.size());
        // SAFETY: task `id` is block `b` of the result's node (checked in `new`), so `dest`
        // is a region of its block's shape inside the arena's array, of the array's dtype;
        // only this task writes that region and nothing reads it during the run.
        let Some(value) = (unsafe { kiln_codegen::run_task_into(graph, id, inputs, &dest)? }) else {
            return Ok(placed());
        };
        let chunk = value.as_chunk().ok_or_else(|| Error::Type("a task returned a non-array value".into()))?;
        if chunk.dtype() != arena.dtype || chunk.shape() != shape.as_slice() {
            return Err(Error::Type(format!(
                "block {idx:?} is a {} block of shape {:?}; the array's blocks there are {} of shape {shape:?}",
                chunk.dtype(),
                chunk.shape(),
                arena.dtype
            ))
            .into());
        }
        kiln_ir::with_chunk!(chunk, src => {
            // SAFETY: as above; the chunk's dtype and shape are the region's (checked).
            unsafe { write_region(dest.base, &shape, &arena.strides, src.view()) }
        });
        Ok(placed())
    }

    /// The result array of output `k` after a successful run, with the blocks that were not
    /// placed copied in; `None` when output `k` has no arena.
    pub(crate) fn finish(&self, k: usize, blocks: &[Value]) -> Result<Option<DynArray>> {
        let Some(arena) = self.arenas.get(k).and_then(Option::as_ref) else {
            return Ok(None);
        };
        let mut array = arena
            .array
            .lock()
            .map_err(|_| Error::Type("a result array's lock was poisoned".into()))?
            .take()
            .ok_or_else(|| Error::Type("a result array was taken twice".into()))?;
        for (b, v) in blocks.iter().enumerate() {
            if v.downcast_ref::<Placed>().is_some() {
                continue;
            }
            let chunk = v.as_chunk().ok_or_else(|| Error::Type("a task returned a non-array value".into()))?;
            copy_block(&mut array, &arena.grid, b as u64, chunk)?;
        }
        Ok(Some(array))
    }
}

/// Copies `src` into the region of `shape` at `base` of an array of `T` with `strides`.
///
/// # Safety
///
/// The region must lie inside that array, and nothing else may read or write it meanwhile.
unsafe fn write_region<T: Element>(base: *mut u8, shape: &[usize], strides: &[usize], src: ndarray::ArrayViewD<'_, T>) {
    let dims = IxDyn(shape).strides(IxDyn(strides));
    // SAFETY: the caller's guarantee.
    let mut dst: ArrayViewMutD<'_, T> = unsafe { ArrayViewMutD::from_shape_ptr(dims, base.cast::<T>()) };
    dst.assign(&src);
}

/// Copies `chunk`, block `b` of `grid`, into its region of `array`.
pub(crate) fn copy_block(array: &mut DynArray, grid: &ChunkGrid, b: u64, chunk: &Chunk) -> Result<()> {
    let region = grid.block_region(&grid.unravel(b));
    let info: Vec<ndarray::SliceInfoElem> = region
        .iter()
        .map(|r| ndarray::SliceInfoElem::Slice { start: r.start as isize, end: Some(r.end as isize), step: 1 })
        .collect();
    with_dyn!(array, a => {
        let block = chunk.typed().ok_or_else(|| Error::Type("a block has the wrong dtype".into()))?;
        let mut dst = a.slice_mut(info.as_slice());
        if dst.shape() != block.shape() {
            return Err(Error::Type(format!("a block of shape {:?} where the array has {:?}", block.shape(), dst.shape())));
        }
        dst.assign(block);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::{self as ka, Array};
    use crate::config::Config;

    /// The tasks `Placement` writes straight into each result, per output.
    fn placed(arrays: &[&Array]) -> Vec<usize> {
        let (roots, graph) = crate::array::compute::lower(arrays, &Config::default()).unwrap();
        let p = Placement::new(&roots, &graph).unwrap();
        (0..arrays.len()).map(|k| p.sinks.values().filter(|(o, _)| *o == k).count()).collect()
    }

    #[test]
    fn a_result_too_large_to_allocate_is_an_error() {
        for shape in [&[1usize << 40, 1 << 40][..], &[1 << 62]] {
            let e = zeroed(DType::F64, shape).map(|_| ()).unwrap_err();
            assert!(matches!(&e, Error::Memory(m) if m.contains("does not fit in memory")), "{e}");
        }
        assert_eq!(zeroed(DType::Bool, &[0, 3]).unwrap().shape(), &[0, 3]);
        // Computing one fails before any task runs, instead of aborting the process.
        let huge = ka::zeros([1 << 32, 1 << 32], [1 << 31, 1 << 31]) * 2.0;
        assert!(matches!(huge.compute(), Err(Error::Memory(_))));
    }

    #[test]
    fn only_blocks_nothing_else_reads_are_placed() {
        let x = ka::from_array(ndarray::Array2::<f64>::zeros((8, 6)).into_dyn(), [3, 4]);
        let a = &x * 3.0;
        // 3 × 2 blocks, each placed.
        assert_eq!(placed(&[&a]), vec![6]);
        assert_eq!(placed(&[&x.t()]), vec![6]);
        // One block: handed over whole, nothing to place.
        assert_eq!(placed(&[&a.sum()]), vec![0]);
        // Read by a slice (a fusion boundary): the 4 blocks of `a` under rows 1..5 are kept
        // as values, the 2 below placed; the slice's own 4 blocks are placed. Asked for
        // twice: kept as values.
        assert_eq!(placed(&[&a, &a.slice(ka::s![1..5, 2..])]), vec![2, 4]);
        assert_eq!(placed(&[&a, &a]), vec![0, 0]);
    }
}
