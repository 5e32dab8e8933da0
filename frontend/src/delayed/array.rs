//! Arrays and delayed values: `Array::to_delayed` (one `Delayed<ArrayD<T>>` per block),
//! `from_delayed` (an array from delayed blocks, computed now to learn their shapes) and
//! `from_delayed_chunks` (lazy: the shapes are declared, each block is computed when its
//! task runs).

use std::marker::PhantomData;
use std::sync::Arc;

use kiln_ir::token::StableHasher;
use kiln_ir::{AxisChunks, BlockProducer, Chunk, ChunkGrid, Chunks, Element, ExternalBlocks, Value};
use ndarray::ArrayD;

use super::func::func;
use super::{Body, Delayed, Node, graph};
use crate::array::{Array, DynArray, from_array};
use crate::config::{self, Config, Scheduler};
use crate::error::{Error, Result};

/// The computed blocks of an array, in C order of its chunk grid.
type Blocks = Arc<Vec<Chunk>>;

/// Computes every block of `array` (with the global settings).
fn compute_blocks(array: &Array) -> Result<Blocks> {
    let cfg = config::get()?;
    array.check()?;
    let opts = cfg.pass_options();
    let roots = vec![array.expr().clone()];
    let roots = if cfg.optimize { kiln_passes::optimize_exprs(&roots, &opts)?.0 } else { roots };
    let (graph, _) = kiln_passes::build_graph(&roots, &opts)?;
    let out = kiln_runtime::execute(Arc::new(graph), &cfg.run_options())?;
    let blocks = out.outputs.into_iter().next().unwrap_or_default();
    let chunks = blocks
        .into_iter()
        .map(|v| v.take_or_clone::<Chunk>().ok_or_else(|| Error::Type("a task returned a non-array value".into())))
        .collect::<Result<Vec<Chunk>>>()?;
    Ok(Arc::new(chunks))
}

impl Array {
    /// One `Delayed` per block, in C order of the chunk grid, each an ndarray of `T` (which
    /// must be the array's dtype). The blocks are computed together, once, when the first is
    /// needed; their keys derive from the array's expression, so two calls give equal keys.
    ///
    /// ```
    /// use kiln_frontend::array as ka;
    /// let x = ka::arange(0i64, 10, 1, [4]);
    /// let blocks = x.to_delayed::<i64>()?;
    /// assert_eq!(blocks.len(), 3);
    /// let sums = blocks.iter().map(|b| kiln_frontend::delayed::call(|a: ndarray::ArrayD<i64>| a.sum(), b)).collect::<Vec<_>>();
    /// assert_eq!(kiln_frontend::delayed::compute(&sums)?, vec![6, 22, 17]);
    /// # Ok::<(), kiln_frontend::Error>(())
    /// ```
    pub fn to_delayed<T: Element>(&self) -> Result<Vec<Delayed<ArrayD<T>>>> {
        self.check()?;
        if self.dtype() != T::DTYPE {
            return Err(Error::Type(format!(
                "to_delayed::<{}>() on an array of dtype {}; convert it with astype() first",
                T::DTYPE,
                self.dtype()
            )));
        }
        let array = self.clone();
        let blocks_name = format!("{}-blocks", self.expr().op().name());
        let blocks: Delayed<Blocks> = Delayed::from_node(Node {
            token: self.expr().token(),
            name: blocks_name,
            deps: Vec::new(),
            body: Body::Call {
                pattern: Vec::new(),
                func: Box::new(move |_| {
                    compute_blocks(&array).map(|b| Value::new(b, 0)).map_err(|e| e.to_string().into())
                }),
            },
        });
        let take = |all: Blocks, i: usize| -> ArrayD<T> {
            all[i].clone().into_typed::<T>().map(|a| a.into_owned()).unwrap_or_else(|| ArrayD::default(vec![0]))
        };
        let n = self.n_blocks() as usize;
        Ok((0..n).map(|i| func(take).name("block").pure().call((blocks.clone(), i))).collect())
    }

    /// An array from delayed blocks: see [`from_delayed`].
    pub fn from_delayed<T: Element>(blocks: Vec<Delayed<ArrayD<T>>>, grid: &[usize]) -> Result<Array> {
        from_delayed(blocks, grid)
    }
}

/// An array from delayed blocks laid out on a grid of `grid[k]` blocks along axis `k`, in C
/// order. The blocks are computed now (together); their shapes must line up (equal lengths
/// along each row and column of the grid), and give the array's chunks.
///
/// ```
/// use kiln_frontend::array as ka;
/// let x = ka::arange(0i64, 10, 1, [4]);
/// let blocks = x.to_delayed::<i64>()?;
/// let back = kiln_frontend::delayed::from_delayed(blocks, &[3])?;
/// assert_eq!(back.compute()?.into_i64()?.sum(), 45);
/// assert_eq!(back.chunks().to_string(), x.chunks().to_string());
/// # Ok::<(), kiln_frontend::Error>(())
/// ```
pub fn from_delayed<T: Element>(blocks: Vec<Delayed<ArrayD<T>>>, grid: &[usize]) -> Result<Array> {
    let n: usize = grid.iter().product();
    if blocks.len() != n {
        return Err(Error::Type(format!("from_delayed: {} blocks for a grid of {grid:?} ({n} blocks)", blocks.len())));
    }
    let values = super::compute(&blocks)?;
    let ndim = grid.len();
    if let Some(bad) = values.iter().find(|b| b.ndim() != ndim) {
        return Err(Error::Type(format!("from_delayed: a block has {} axes, the grid {ndim}", bad.ndim())));
    }
    // Block index (C order) of the `j`-th block along axis `k`, other indices 0.
    let stride = |k: usize| grid[k + 1..].iter().product::<usize>();
    let mut axes = Vec::with_capacity(ndim);
    for k in 0..ndim {
        let lengths: Vec<usize> = (0..grid[k]).map(|j| values[j * stride(k)].shape()[k]).collect();
        axes.push(AxisChunks::from_lengths(&lengths));
    }
    let chunk_grid = ChunkGrid::new(axes);
    for (i, b) in values.iter().enumerate() {
        let expected = chunk_grid.block_shape(&chunk_grid.unravel(i as u64));
        if b.shape() != expected.as_slice() {
            return Err(Error::Type(format!(
                "from_delayed: block {i} has shape {:?}, where its row and column give {expected:?}",
                b.shape()
            )));
        }
    }
    let chunks: Vec<Value> = values.into_iter().map(|b| Value::chunk(Chunk::new(b))).collect();
    let whole = DynArray::assemble(&chunk_grid, T::DTYPE, chunks)?.into_typed::<T>()?;
    Ok(from_array(whole, &chunk_grid))
}

/// An array of `shape` in `chunks` whose block `i` (C order of the chunk grid) is the value
/// of `blocks[i]`, computed lazily (Dask's `from_delayed`, one call per block): nothing runs
/// now; each block's delayed graph runs on the worker that runs the block's task, when the
/// array (or the part of it a result needs) is computed. A block whose dtype or shape differs
/// from what `chunks` declare fails the compute with an error naming the block.
///
/// Each block's graph runs on its own: a call shared by several blocks runs once per block
/// reading it (persist it first to share it). Use [`from_delayed`] when the shapes are not
/// known in advance.
///
/// ```
/// use kiln_frontend::{array as ka, delayed};
/// let blocks: Vec<_> = (0..3i64)
///     .map(|i| delayed::call(move || ndarray::ArrayD::from_elem(vec![4], i), ()))
///     .collect();
/// let x = delayed::from_delayed_chunks(blocks, &[12], [4])?;
/// assert_eq!(x.sum().compute()?.into_scalar::<i64>()?, 4 * (0 + 1 + 2));
/// # Ok::<(), kiln_frontend::Error>(())
/// ```
pub fn from_delayed_chunks<T: Element>(
    blocks: Vec<Delayed<ArrayD<T>>>,
    shape: &[usize],
    chunks: impl Into<Chunks>,
) -> Result<Array> {
    let grid = chunks.into().resolve(&kiln_ir::Shape::from(shape), T::DTYPE)?;
    if blocks.len() as u64 != grid.n_blocks() {
        return Err(Error::Type(format!(
            "from_delayed_chunks: {} blocks for chunks {grid} ({} blocks)",
            blocks.len(),
            grid.n_blocks()
        )));
    }
    let mut h = StableHasher::new();
    h.str("from_delayed");
    h.str(T::DTYPE.name());
    h.str(&grid.to_string());
    for b in &blocks {
        h.word(b.token().0 as u64);
        h.word((b.token().0 >> 64) as u64);
    }
    let producer = DelayedBlocks::<T> { blocks: blocks.into_iter().map(|b| b.node).collect(), _t: PhantomData };
    let source = ExternalBlocks {
        name: "from_delayed".into(),
        token: h.finish128(),
        dtype: T::DTYPE,
        grid: grid.clone(),
        producer: Arc::new(producer),
    };
    Ok(Array::from_expr(kiln_ir::build::external(Arc::new(source), &Chunks::Grid(grid))?))
}

/// The blocks of a lazy [`from_delayed_chunks`]: block `i` is the value of call `i`.
struct DelayedBlocks<T> {
    blocks: Vec<Arc<Node>>,
    _t: PhantomData<fn() -> T>,
}

impl<T: Element> BlockProducer for DelayedBlocks<T> {
    fn block(&self, index: u64) -> std::result::Result<Chunk, String> {
        let node = self.blocks.get(index as usize).ok_or_else(|| format!("no delayed block {index}"))?;
        // On the thread running the block's task: the block's calls run one after another.
        let cfg = Config::default().with_scheduler(Scheduler::Sync).with_progress(false);
        let value = graph::run_one(node, &cfg).map_err(|e| e.to_string())?;
        let array = graph::unpack_output::<ArrayD<T>>(value).map_err(|e| e.to_string())?;
        Ok(Chunk::new(array))
    }
}

#[cfg(test)]
mod tests {
    use crate::array::{arange, ones};

    #[test]
    fn blocks_round_trip_in_two_dimensions() {
        let x = arange(0.0, 30.0, 1.0, [8]);
        let blocks = x.to_delayed::<f64>().unwrap();
        assert_eq!(blocks.len(), 4);
        assert_eq!(blocks[0].key(), x.to_delayed::<f64>().unwrap()[0].key());
        let back = super::from_delayed(blocks, &[4]).unwrap();
        assert_eq!(back.compute().unwrap(), x.compute().unwrap());
        let m = ones([5, 7], [2, 3]);
        let blocks = m.to_delayed::<f64>().unwrap();
        let grid = m.chunks().grid();
        let back = super::from_delayed(blocks, &grid).unwrap();
        assert_eq!(back.compute().unwrap(), m.compute().unwrap());
        assert!(m.to_delayed::<i32>().unwrap_err().to_string().contains("dtype f64"));
        let wrong = super::from_delayed(m.to_delayed::<f64>().unwrap(), &[2, 2]).unwrap_err();
        assert!(wrong.to_string().contains("9 blocks for a grid of [2, 2]"), "{wrong}");
    }
}
