//! The reference interpreter: computes one task of a task graph with ndarray. The kernels
//! (`source`, `elementwise`, `layout`, `reduce`) work on `Chunk`s and know nothing of graphs;
//! this module reads a task's node, block index and dependencies and calls them.

pub mod elementwise;
pub mod layout;
pub(crate) mod num;
pub mod reduce;
pub(crate) mod rows;
pub mod source;

use std::ops::Range;

use kiln_ir::{Chunk, ChunkGrid, Expr, KernelOutput, NodeAux, Op, TaskGraph, TaskId, TaskKind, Value};

use smallvec::SmallVec;

use crate::error::{Error, Result};
use reduce::PartialState;

/// Computes task `id` of `graph` from its dependencies' values (in `graph.deps(id)` order).
pub fn run_task(graph: &TaskGraph, id: TaskId, inputs: &[Value]) -> Result<Value> {
    let task = graph.task(id);
    let n_deps = graph.deps(id).len();
    if inputs.len() != n_deps {
        return Err(Error::Internal(format!(
            "{}: {} input values for {n_deps} dependencies",
            graph.key_string(id),
            inputs.len()
        )));
    }
    let in_context = |e: Error| in_task(graph, id, e);
    let expr = &graph.node_of(id).expr;
    match task.kind {
        TaskKind::Block => {
            let b = BlockAt::of(expr.chunks(), task.index).map_err(in_context)?;
            let chunk = block(graph, id, &b, inputs).map_err(in_context)?;
            check_block(expr, &b.shape, &chunk).map_err(in_context)?;
            Ok(Value::chunk(chunk))
        }
        TaskKind::ReducePartial if let Op::StoreNpy(target) = expr.op() => {
            // A store's per-block step: write the input block in place.
            let input = expr.inputs().first().ok_or_else(|| in_context(Error::Internal("no input".into())))?;
            let region = BlockAt::of(input.chunks(), task.index).map_err(in_context)?.region;
            let written = crate::npy::write_block(target, &region, chunk_of(inputs, 0)?).map_err(in_context)?;
            Ok(written_value(written))
        }
        TaskKind::ReduceCombine { .. } | TaskKind::ReduceFinal if matches!(expr.op(), Op::StoreNpy(_)) => {
            // A store's combine and final steps add up the bytes written.
            let mut total = 0i64;
            for k in 0..inputs.len() {
                let c = chunk_of(inputs, k)?;
                total += c.typed::<i64>().and_then(|a| a.iter().next().copied()).unwrap_or(0);
            }
            Ok(written_value(total as u64))
        }
        TaskKind::ReducePartial => {
            let state = if let Op::Fused { kernel, grid } = expr.op() {
                // The map-reduce kernel's partial state over one block of its grid.
                let b = BlockAt::of(grid, task.index).map_err(in_context)?;
                let chunks = chunks_of(inputs).map_err(in_context)?;
                let space = grid.shape();
                let state = crate::jit::try_run_partial(kernel, &chunks, &b.region, &space)
                    .unwrap_or_else(|| crate::kernel::run_partial(kernel, &chunks, &b.region, &space))
                    .map_err(in_context)?;
                check_partial(expr, &b.shape, &state).map_err(in_context)?;
                state
            } else {
                let (op, axes, _) = reduce_params(expr).map_err(in_context)?;
                let input = expr.inputs().first().ok_or_else(|| in_context(Error::Internal("no input".into())))?;
                let region = BlockAt::of(input.chunks(), task.index).map_err(in_context)?.region;
                reduce::partial(op, &axes, chunk_of(inputs, 0)?, &region, input.shape()).map_err(in_context)?
            };
            let nbytes = state.nbytes();
            Ok(Value::new(state, nbytes))
        }
        TaskKind::ReducePair => {
            let Op::Fused { kernel, grid } = expr.op() else {
                return Err(in_context(Error::Internal("a pair of partials of a node that is not fused".into())));
            };
            let mirror = grid
                .mirror(task.index)
                .filter(|_| inputs.len().is_multiple_of(2))
                .ok_or_else(|| in_context(Error::Internal("no mirror block to pair with".into())))?;
            let (a, b) = (BlockAt::of(grid, task.index), BlockAt::of(grid, mirror));
            let (a, b) = (a.map_err(in_context)?, b.map_err(in_context)?);
            let chunks = chunks_of(inputs).map_err(in_context)?;
            let (first, second) = chunks.split_at(chunks.len() / 2);
            let space = grid.shape();
            let (sa, sb) = crate::jit::try_run_pair(kernel, [first, second], [&a.region, &b.region], &space)
                .unwrap_or_else(|| {
                    Ok((
                        crate::kernel::run_partial(kernel, first, &a.region, &space)?,
                        crate::kernel::run_partial(kernel, second, &b.region, &space)?,
                    ))
                })
                .map_err(in_context)?;
            check_partial(expr, &a.shape, &sa).map_err(in_context)?;
            check_partial(expr, &b.shape, &sb).map_err(in_context)?;
            let nbytes = sa.nbytes() + sb.nbytes();
            Ok(Value::new(PairStates([(task.index, sa), (mirror, sb)]), nbytes))
        }
        TaskKind::ReducePick => {
            let pair = inputs
                .first()
                .and_then(|v| v.downcast_ref::<PairStates>())
                .ok_or_else(|| in_context(Error::Internal("a pick without its pair of states".into())))?;
            let (_, state) = pair.0.iter().find(|(i, _)| *i == task.index).ok_or_else(|| {
                in_context(Error::Internal(format!("the pair does not hold block {}'s state", task.index)))
            })?;
            let nbytes = state.nbytes();
            Ok(Value::new(state.clone(), nbytes))
        }
        TaskKind::ReduceCombine { .. } => {
            let (op, _, _) = reduce_params(expr).map_err(in_context)?;
            let state = reduce::combine(op, &states_of(inputs)?).map_err(in_context)?;
            let nbytes = state.nbytes();
            Ok(Value::new(state, nbytes))
        }
        TaskKind::ReduceFinal => {
            let (op, axes, keepdims) = reduce_params(expr).map_err(in_context)?;
            let b = BlockAt::of(expr.chunks(), task.index).map_err(in_context)?;
            let state = reduce::combine(op, &states_of(inputs)?).map_err(in_context)?;
            let chunk = reduce::finalize(op, state, &axes, keepdims, expr.dtype()).map_err(in_context)?;
            check_block(expr, &b.shape, &chunk).map_err(in_context)?;
            Ok(Value::chunk(chunk))
        }
    }
}

/// Like [`run_task`], but may take its inputs: an elementwise block whose input is held
/// only here (the runtime hands the last reader the only reference) is computed in that
/// input's buffer instead of a new one.
pub fn run_task_owned(graph: &TaskGraph, id: TaskId, inputs: &mut [Value]) -> Result<Value> {
    let task = graph.task(id);
    let expr = &graph.node_of(id).expr;
    if task.kind == TaskKind::Block && expr.op().is_elementwise() && inputs.len() == graph.deps(id).len() {
        let b = BlockAt::of(expr.chunks(), task.index)?;
        if let Some(chunk) = elementwise::in_place(expr.op(), &b.shape, inputs) {
            check_block(expr, &b.shape, &chunk).map_err(|e| match e {
                Error::Internal(m) => Error::Internal(format!("{}: {m}", graph.key_string(id))),
                other => other,
            })?;
            return Ok(Value::chunk(chunk));
        }
    }
    run_task(graph, id, inputs)
}

/// `e` naming task `id` when it is an internal error.
fn in_task(graph: &TaskGraph, id: TaskId, e: Error) -> Error {
    match e {
        Error::Internal(m) => Error::Internal(format!("{}: {m}", graph.key_string(id))),
        other => other,
    }
}

/// [`crate::run_task_into`]: a fused map's block task on the JIT writes into `dest`.
///
/// # Safety
///
/// As [`crate::run_task_into`].
pub(crate) unsafe fn run_task_into(
    graph: &TaskGraph,
    id: TaskId,
    inputs: &mut [Value],
    dest: &crate::BlockDest,
) -> Result<Option<Value>> {
    let task = graph.task(id);
    let expr = &graph.node_of(id).expr;
    if let (TaskKind::Block, Op::Fused { kernel, grid }) = (task.kind, expr.op())
        && matches!(kernel.output, KernelOutput::Map(_))
        && grid == expr.chunks()
        && expr.dtype() == dest.dtype
        && inputs.len() == graph.deps(id).len()
    {
        let b = BlockAt::of(expr.chunks(), task.index).map_err(|e| in_task(graph, id, e))?;
        let chunks = chunks_of(inputs)?;
        // SAFETY: the caller's guarantee: `dest` is a region of this block's shape.
        if let Some(r) = unsafe { crate::jit::try_run_map_into(kernel, &chunks, &b.region, dest) } {
            return r.map(|()| None).map_err(|e| in_task(graph, id, e));
        }
    }
    run_task_owned(graph, id, inputs).map(Some)
}

/// A `ReducePair` task's value: the partial states of two grid blocks, each with its linear
/// index.
struct PairStates([(u64, PartialState); 2]);

/// A store task's result: the bytes written, as a 0-d `i64` chunk.
fn written_value(bytes: u64) -> Value {
    Value::chunk(Chunk::new(ndarray::arr0(bytes as i64).into_dyn()))
}

/// Up to this many dimensions, a block's position, shape and ranges live on the stack: a task
/// then allocates nothing to find its block.
const INLINE_DIMS: usize = 6;

/// A block of a grid: its position, element ranges and shape.
struct BlockAt {
    idx: SmallVec<[usize; INLINE_DIMS]>,
    region: SmallVec<[Range<usize>; INLINE_DIMS]>,
    shape: SmallVec<[usize; INLINE_DIMS]>,
}

impl BlockAt {
    /// Linear block `index` (C order) of `grid`, which must exist.
    fn of(grid: &ChunkGrid, index: u64) -> Result<BlockAt> {
        if index >= grid.n_blocks() {
            return Err(Error::Internal(format!(
                "block {index} does not exist in a grid of {} blocks",
                grid.n_blocks()
            )));
        }
        let ndim = grid.ndim();
        let mut idx: SmallVec<[usize; INLINE_DIMS]> = smallvec::smallvec![0; ndim];
        grid.unravel_into(index, &mut idx);
        let region: SmallVec<[Range<usize>; INLINE_DIMS]> =
            idx.iter().enumerate().map(|(k, &i)| grid.axis(k).block_range(i)).collect();
        let shape = region.iter().map(|r| r.len()).collect();
        Ok(BlockAt { idx, region, shape })
    }
}

/// Checks that a computed block has the node's dtype and the block's `shape`.
fn check_block(expr: &Expr, shape: &[usize], chunk: &Chunk) -> Result<()> {
    if chunk.dtype() != expr.dtype() || chunk.shape() != shape {
        return Err(Error::Internal(format!(
            "computed a {} block of shape {:?}, expected {} {:?}",
            chunk.dtype(),
            chunk.shape(),
            expr.dtype(),
            shape
        )));
    }
    Ok(())
}

/// Checks that a fused reduction's partial state has the shape of its grid block,
/// `block_shape`, with the reduced axes set to 1.
fn check_partial(expr: &Expr, block_shape: &[usize], state: &PartialState) -> Result<()> {
    let (_, axes, _) = reduce_params(expr)?;
    let mut shape: SmallVec<[usize; INLINE_DIMS]> = block_shape.into();
    for &k in &axes {
        if let Some(s) = shape.get_mut(k) {
            *s = 1;
        }
    }
    if state.shape() != shape.as_slice() {
        return Err(Error::Internal(format!(
            "computed a partial state of shape {:?}, expected {shape:?}",
            state.shape()
        )));
    }
    Ok(())
}

fn chunk_of(inputs: &[Value], k: usize) -> Result<&Chunk> {
    let v = inputs.get(k).ok_or_else(|| Error::Internal(format!("missing input {k}")))?;
    v.as_chunk().ok_or_else(|| Error::Internal(format!("input {k} is a {}, not an array chunk", v.type_name())))
}

fn states_of(inputs: &[Value]) -> Result<SmallVec<[&PartialState; 8]>> {
    inputs
        .iter()
        .enumerate()
        .map(|(k, v)| {
            v.downcast_ref::<PartialState>()
                .ok_or_else(|| Error::Internal(format!("input {k} is a {}, not a reduction state", v.type_name())))
        })
        .collect()
}

fn chunks_of(inputs: &[Value]) -> Result<Vec<&Chunk>> {
    (0..inputs.len()).map(|k| chunk_of(inputs, k)).collect()
}

/// The reduction a `Reduce` node, or a fused node with a `Reduce` kernel, computes: op,
/// reduced axes (of its input, or of the kernel's iteration space) and keepdims.
fn reduce_params(expr: &Expr) -> Result<(kiln_ir::ReduceOp, SmallVec<[usize; INLINE_DIMS]>, bool)> {
    match expr.op() {
        Op::Reduce { op, axes, keepdims } => Ok((*op, axes.iter().copied().collect(), *keepdims)),
        Op::Fused { kernel, .. } => match &kernel.output {
            KernelOutput::Reduce { op, axes, keepdims, .. } => {
                Ok((*op, axes.iter().map(|&a| a as usize).collect(), *keepdims))
            }
            KernelOutput::Map(_) => Err(Error::Internal("a reduction task on a fused map node".into())),
        },
        other => Err(Error::Internal(format!("a reduction task on a {} node", other.name()))),
    }
}

/// Computes a `Block` task: block `b` of the task's node.
fn block(graph: &TaskGraph, id: TaskId, b: &BlockAt, inputs: &[Value]) -> Result<Chunk> {
    let node = graph.node_of(id);
    let expr = &node.expr;
    let grid = expr.chunks();
    let (idx, region, shape) = (&b.idx[..], &b.region[..], &b.shape[..]);
    let arg = |k: usize| chunk_of(inputs, k);
    match expr.op() {
        Op::FromArray(src) => source::from_array(src.data(), region),
        Op::Full(v) => Ok(source::full(*v, shape)),
        Op::Arange { start, step } => source::arange(*start, *step, first_axis(region)?),
        Op::Linspace { start, stop, endpoint } => {
            let range = first_axis(region)?;
            Ok(source::linspace(start.0, stop.0, *endpoint, grid.axis(0).len(), range))
        }
        Op::Random { dist, seed, view } => source::random(*dist, *seed, expr.shape(), view.as_deref(), region),
        Op::FromNpy(src) => crate::npy::read_block(src, region),
        Op::External(src) => src.block(grid.ravel(idx)).map_err(Error::Compute),
        Op::Unary(u) => elementwise::unary(*u, arg(0)?),
        Op::Binary(b) => elementwise::binary(*b, arg(0)?, arg(1)?, shape),
        Op::Where => elementwise::where_(arg(0)?, arg(1)?, arg(2)?, shape),
        Op::AsType => elementwise::astype(arg(0)?, expr.dtype()),
        Op::Slice(spec) => {
            let NodeAux::Slice(pieces) = &node.aux else {
                return Err(Error::Internal("a slice node without its pieces".into()));
            };
            let elems = layout::slice_elems(spec, pieces, idx)?;
            layout::slice(arg(0)?, &elems)
        }
        Op::Transpose(perm) => layout::transpose(arg(0)?, perm),
        Op::InsertAxis(k) => layout::insert_axis(arg(0)?, *k),
        Op::BroadcastTo => layout::broadcast_to(arg(0)?, shape),
        Op::Rechunk => {
            let input = expr.inputs().first().ok_or_else(|| Error::Internal("rechunk without input".into()))?;
            let in_grid = input.chunks();
            let parts = graph
                .deps(id)
                .iter()
                .enumerate()
                .map(|(k, &dep)| {
                    let region = BlockAt::of(in_grid, graph.task(dep).index)?.region.into_vec();
                    Ok((arg(k)?, region))
                })
                .collect::<Result<Vec<_>>>()?;
            layout::rechunk(expr.dtype(), region, &parts)
        }
        Op::Reduce { .. } | Op::StoreNpy(_) => Err(Error::Internal(format!("{} has no block tasks", expr.op().name()))),
        Op::Fused { kernel, grid } => {
            if !matches!(kernel.output, KernelOutput::Map(_)) || grid != expr.chunks() {
                return Err(Error::Internal("a block task of a fused node that is not a map over its chunks".into()));
            }
            let chunks = chunks_of(inputs)?;
            crate::jit::try_run_map(kernel, &chunks, region)
                .unwrap_or_else(|| crate::kernel::run_map(kernel, &chunks, region))
        }
    }
}

fn first_axis(region: &[Range<usize>]) -> Result<Range<usize>> {
    match region {
        [r] => Ok(r.clone()),
        _ => Err(Error::Internal(format!("a 1-d source with block region {region:?}"))),
    }
}

#[cfg(test)]
mod tests;
