//! Chunk grids: how each axis of an array is cut into blocks (`AxisChunks`, `ChunkGrid`), and
//! the chunk requests users write (`Chunks`: sizes, whole axis, explicit lengths or `auto`).
//!
//! **Compactness invariant:** a grid costs O(ndim) bytes whenever its blocks are regular
//! (uniform size, possibly a different first block, and a remainder last block), whatever
//! the number of blocks: a 1,000,000-chunk array is a few words. Only irregular axes
//! (explicit lengths, strided slices) store one offset per block.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::shape::Shape;

/// The target block size of `auto` chunking, as in Dask (`array.chunk-size`).
pub const AUTO_CHUNK_BYTES: usize = 128 << 20;

/// How one axis is cut into blocks. Every axis has at least one block; an axis of length 0
/// has exactly one block, of length 0. The representation is canonical: two values are
/// equal exactly when they describe the same block lengths.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum AxisChunks {
    /// A first block of `head` elements, then blocks of `size`, the last one holding the
    /// remainder (`<= size`).
    Regular {
        /// Axis length.
        len: usize,
        /// Length of every block but the first and the last.
        size: usize,
        /// Length of the first block.
        head: usize,
    },
    /// Arbitrary block lengths, stored as `n_blocks + 1` offsets starting at 0.
    Explicit(Arc<[usize]>),
}

impl AxisChunks {
    /// Blocks of `size` (clamped to the axis) with a remainder last block.
    pub fn uniform(len: usize, size: usize) -> AxisChunks {
        let size = size.max(1).min(len.max(1));
        AxisChunks::regular(len, size, size)
    }

    /// The whole axis as one block.
    pub fn single(len: usize) -> AxisChunks {
        AxisChunks::Regular { len, size: len.max(1), head: len }
    }

    /// A first block of `head`, then blocks of `size`; canonicalized.
    pub fn regular(len: usize, size: usize, head: usize) -> AxisChunks {
        let size = size.max(1);
        let head = head.max(1);
        if head >= len {
            return AxisChunks::single(len);
        }
        let rest = len - head;
        if rest <= size {
            // Two blocks: the size is not observable, pick the canonical one.
            return AxisChunks::Regular { len, size: head.max(rest), head };
        }
        AxisChunks::Regular { len, size, head }
    }

    /// Chunks from explicit block lengths; stored compactly when they are regular.
    /// Lengths must be non-empty; zero lengths are kept (Dask allows them).
    pub fn from_lengths(lengths: &[usize]) -> AxisChunks {
        let len: usize = lengths.iter().sum();
        match lengths {
            [] => AxisChunks::single(0),
            [l] => AxisChunks::single(*l),
            [h, t] if *h > 0 && *t > 0 => AxisChunks::regular(len, *h.max(t), *h),
            [h, mid @ .., t] if *h > 0 && *t > 0 && !mid.is_empty() => {
                let size = mid[0];
                if size > 0 && *t <= size && mid.iter().all(|&m| m == size) {
                    AxisChunks::Regular { len, size, head: *h }
                } else {
                    AxisChunks::explicit(lengths)
                }
            }
            _ => AxisChunks::explicit(lengths),
        }
    }

    fn explicit(lengths: &[usize]) -> AxisChunks {
        let mut offsets = Vec::with_capacity(lengths.len() + 1);
        let mut acc = 0;
        offsets.push(0);
        for &l in lengths {
            acc += l;
            offsets.push(acc);
        }
        AxisChunks::Explicit(offsets.into())
    }

    /// Axis length.
    pub fn len(&self) -> usize {
        match self {
            AxisChunks::Regular { len, .. } => *len,
            AxisChunks::Explicit(off) => off[off.len() - 1],
        }
    }

    /// Whether the axis has length 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of blocks (at least 1).
    pub fn n_blocks(&self) -> usize {
        match *self {
            AxisChunks::Regular { len, size, head } => {
                if head >= len {
                    1
                } else {
                    1 + (len - head).div_ceil(size)
                }
            }
            AxisChunks::Explicit(ref off) => off.len() - 1,
        }
    }

    /// Offset of block `i`'s first element.
    pub fn block_start(&self, i: usize) -> usize {
        match *self {
            AxisChunks::Regular { len, size, head } => {
                if i == 0 {
                    0
                } else {
                    (head + (i - 1) * size).min(len)
                }
            }
            AxisChunks::Explicit(ref off) => off[i],
        }
    }

    /// Length of block `i`.
    pub fn block_len(&self, i: usize) -> usize {
        let r = self.block_range(i);
        r.end - r.start
    }

    /// Element range of block `i`.
    pub fn block_range(&self, i: usize) -> Range<usize> {
        match *self {
            AxisChunks::Regular { len, size, head } => {
                if i == 0 {
                    0..head.min(len)
                } else {
                    let s = (head + (i - 1) * size).min(len);
                    s..(s + size).min(len)
                }
            }
            AxisChunks::Explicit(ref off) => off[i]..off[i + 1],
        }
    }

    /// The block holding element `pos` (`pos < len`; `len` maps to the last block).
    pub fn block_of(&self, pos: usize) -> usize {
        match *self {
            AxisChunks::Regular { head, size, .. } => {
                if pos < head {
                    0
                } else {
                    (1 + (pos - head) / size).min(self.n_blocks() - 1)
                }
            }
            AxisChunks::Explicit(ref off) => {
                // The last block whose start is <= pos, skipping empty blocks.
                let i = off.partition_point(|&o| o <= pos);
                i.saturating_sub(1).min(off.len() - 2)
            }
        }
    }

    /// The largest block length.
    pub fn max_block_len(&self) -> usize {
        match *self {
            AxisChunks::Regular { len, size, head } => {
                head.min(len).max(if head >= len { 0 } else { size.min(len - head) })
            }
            AxisChunks::Explicit(ref off) => off.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0),
        }
    }

    /// Every block length, in order (allocates one entry per block).
    pub fn lengths(&self) -> Vec<usize> {
        (0..self.n_blocks()).map(|i| self.block_len(i)).collect()
    }

    /// The coarsest chunking whose boundaries include both `a`'s and `b`'s (Dask's
    /// `common_blockdim`): used to align operands of elementwise ops. Costs one step per
    /// block only when the two differ.
    pub fn common(a: &AxisChunks, b: &AxisChunks) -> AxisChunks {
        if a == b {
            return a.clone();
        }
        debug_assert_eq!(a.len(), b.len());
        let (mut i, mut j) = (0, 0);
        let (na, nb) = (a.n_blocks(), b.n_blocks());
        let mut lengths = Vec::new();
        let mut pos = 0;
        while i < na && j < nb {
            let (ea, eb) = (a.block_range(i).end, b.block_range(j).end);
            let end = ea.min(eb);
            if end > pos {
                lengths.push(end - pos);
                pos = end;
            }
            if ea == end {
                i += 1;
            }
            if eb == end {
                j += 1;
            }
        }
        AxisChunks::from_lengths(&lengths)
    }
}

impl fmt::Display for AxisChunks {
    /// `2000×10` (ten blocks of 2000), `1024×7+512`, `300+1024×6+512`, `20000` (one block),
    /// or explicit lengths `[3, 4, 5]` (elided past eight blocks).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AxisChunks::Regular { len, size, head } => {
                let n = self.n_blocks();
                if n == 1 {
                    return write!(f, "{len}");
                }
                let tail = self.block_len(n - 1);
                let mut first = true;
                let mut sep = |f: &mut fmt::Formatter<'_>| {
                    if !std::mem::take(&mut first) {
                        f.write_str("+")?;
                    }
                    Ok(())
                };
                let mut n_full = n - 2; // blocks strictly between head and tail have `size`
                if head == size {
                    n_full += 1;
                } else {
                    sep(f)?;
                    write!(f, "{head}")?;
                }
                if tail == size {
                    n_full += 1;
                }
                if n_full == 1 {
                    sep(f)?;
                    write!(f, "{size}")?;
                } else if n_full > 1 {
                    sep(f)?;
                    write!(f, "{size}×{n_full}")?;
                }
                if tail != size {
                    sep(f)?;
                    write!(f, "{tail}")?;
                }
                Ok(())
            }
            AxisChunks::Explicit(ref off) => {
                let n = off.len() - 1;
                f.write_str("[")?;
                let shown = if n > 8 { 6 } else { n };
                for i in 0..shown {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", off[i + 1] - off[i])?;
                }
                if n > shown { write!(f, ", …, {}] ({n} blocks)", off[n] - off[n - 1]) } else { f.write_str("]") }
            }
        }
    }
}

impl fmt::Debug for AxisChunks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The chunking of a whole array: one [`AxisChunks`] per axis. Cheap to clone (shared).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ChunkGrid(Arc<[AxisChunks]>);

impl ChunkGrid {
    /// A grid from per-axis chunkings.
    pub fn new(axes: impl Into<Arc<[AxisChunks]>>) -> ChunkGrid {
        ChunkGrid(axes.into())
    }

    /// One block covering the whole array.
    pub fn single(shape: &[usize]) -> ChunkGrid {
        ChunkGrid(shape.iter().map(|&d| AxisChunks::single(d)).collect())
    }

    /// Blocks of the given size on every axis (clamped), remainders last.
    pub fn uniform(shape: &[usize], block: &[usize]) -> ChunkGrid {
        ChunkGrid(shape.iter().zip(block).map(|(&d, &b)| AxisChunks::uniform(d, b)).collect())
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.0.len()
    }

    /// The chunking of axis `k`.
    pub fn axis(&self, k: usize) -> &AxisChunks {
        &self.0[k]
    }

    /// All axes.
    pub fn axes(&self) -> &[AxisChunks] {
        &self.0
    }

    /// The array shape this grid covers.
    pub fn shape(&self) -> Shape {
        Shape::new(self.0.iter().map(AxisChunks::len).collect::<Vec<_>>())
    }

    /// Blocks per axis.
    pub fn grid(&self) -> Vec<usize> {
        self.0.iter().map(AxisChunks::n_blocks).collect()
    }

    /// Total number of blocks (saturating).
    pub fn n_blocks(&self) -> u64 {
        self.0.iter().fold(1u64, |acc, a| acc.saturating_mul(a.n_blocks() as u64))
    }

    /// The shape of the block at grid position `idx`.
    pub fn block_shape(&self, idx: &[usize]) -> Vec<usize> {
        self.0.iter().zip(idx).map(|(a, &i)| a.block_len(i)).collect()
    }

    /// The element ranges of the block at grid position `idx`.
    pub fn block_region(&self, idx: &[usize]) -> Vec<Range<usize>> {
        self.0.iter().zip(idx).map(|(a, &i)| a.block_range(i)).collect()
    }

    /// The shape of the largest block.
    pub fn max_block_shape(&self) -> Vec<usize> {
        self.0.iter().map(AxisChunks::max_block_len).collect()
    }

    /// Grid position of linear block index `linear` (C order).
    pub fn unravel(&self, linear: u64) -> Vec<usize> {
        let mut idx = vec![0; self.ndim()];
        self.unravel_into(linear, &mut idx);
        idx
    }

    /// [`ChunkGrid::unravel`] into `idx` (of `ndim()` entries), without allocating.
    pub fn unravel_into(&self, mut linear: u64, idx: &mut [usize]) {
        for k in (0..self.ndim()).rev() {
            let n = self.0[k].n_blocks() as u64;
            idx[k] = (linear % n) as usize;
            linear /= n;
        }
    }

    /// The linear index of the block mirroring block `linear` across the diagonal of a 2-d
    /// grid chunked alike along both axes (block (i, j) ↔ (j, i)); `None` for other grids.
    pub fn mirror(&self, linear: u64) -> Option<u64> {
        let [a, b] = &self.0[..] else { return None };
        if a != b || linear >= self.n_blocks() {
            return None;
        }
        let n = a.n_blocks() as u64;
        Some(linear % n * n + linear / n)
    }

    /// Linear block index (C order) of grid position `idx`.
    pub fn ravel(&self, idx: &[usize]) -> u64 {
        self.0.iter().zip(idx).fold(0u64, |acc, (a, &i)| acc * a.n_blocks() as u64 + i as u64)
    }
}

impl fmt::Display for ChunkGrid {
    /// One entry per axis, tuple style: `(2000×10, 2000×10)`, `(1024×7+512,)`, `()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        if self.0.len() == 1 {
            f.write_str(",")?;
        }
        f.write_str(")")
    }
}

impl fmt::Debug for ChunkGrid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// How to chunk one axis, in a [`Chunks`] request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChunkAxis {
    /// Pick a size so blocks hold about [`AUTO_CHUNK_BYTES`] (Dask's `"auto"`).
    Auto,
    /// The whole axis in one block (Dask's `-1`).
    Full,
    /// Blocks of this many elements (clamped to the axis), the remainder last.
    Size(usize),
    /// These block lengths, which must sum to the axis length.
    Explicit(Vec<usize>),
}

/// A chunk request, resolved against a shape and dtype into a [`ChunkGrid`]. Integer arrays
/// (`[1000, 1000]`) give block sizes per axis; a single integer applies to every axis;
/// [`Chunks::auto`], [`Chunks::full`] and [`Chunks::per_axis`] cover Dask's `"auto"`, `-1`
/// and mixed forms; a [`ChunkGrid`] is taken as is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Chunks {
    /// The same request on every axis.
    All(ChunkAxis),
    /// One request per axis.
    PerAxis(Vec<ChunkAxis>),
    /// An existing grid (for example another array's `chunks()`).
    Grid(ChunkGrid),
}

impl Chunks {
    /// About [`AUTO_CHUNK_BYTES`] per block, as square as the shape allows.
    pub fn auto() -> Chunks {
        Chunks::All(ChunkAxis::Auto)
    }

    /// One block for the whole array.
    pub fn full() -> Chunks {
        Chunks::All(ChunkAxis::Full)
    }

    /// Blocks of `size` elements along every axis.
    pub fn uniform(size: usize) -> Chunks {
        Chunks::All(ChunkAxis::Size(size))
    }

    /// One request per axis, e.g. `[ChunkAxis::Size(1000), ChunkAxis::Full]`.
    pub fn per_axis(axes: impl Into<Vec<ChunkAxis>>) -> Chunks {
        Chunks::PerAxis(axes.into())
    }

    /// Explicit block lengths per axis (Dask's tuple of tuples).
    pub fn explicit(lengths: Vec<Vec<usize>>) -> Chunks {
        Chunks::PerAxis(lengths.into_iter().map(ChunkAxis::Explicit).collect())
    }

    /// Dask-style integers: a positive size, or `-1` for the whole axis.
    pub fn from_isize(sizes: &[isize]) -> Chunks {
        Chunks::PerAxis(
            sizes.iter().map(|&s| if s < 0 { ChunkAxis::Full } else { ChunkAxis::Size(s as usize) }).collect(),
        )
    }

    /// Resolves the request for an array of `shape` and `dtype`.
    pub fn resolve(&self, shape: &[usize], dtype: DType) -> Result<ChunkGrid> {
        let ndim = shape.len();
        let requests: Vec<ChunkAxis> = match self {
            Chunks::Grid(g) => {
                if g.shape().dims() != shape {
                    return Err(Error::invalid(
                        "chunks",
                        format!(
                            "chunk grid {g} covers shape {} but the array has shape {}",
                            g.shape(),
                            Shape::from(shape)
                        ),
                    ));
                }
                return Ok(g.clone());
            }
            Chunks::All(a) => vec![a.clone(); ndim],
            Chunks::PerAxis(v) => {
                if v.len() != ndim {
                    return Err(Error::invalid(
                        "chunks",
                        format!(
                            "{} chunk sizes given for an array of {ndim} dimensions with shape {}",
                            v.len(),
                            Shape::from(shape)
                        ),
                    ));
                }
                v.clone()
            }
        };
        let mut axes: Vec<Option<AxisChunks>> = vec![None; ndim];
        for (k, (req, &len)) in requests.iter().zip(shape).enumerate() {
            axes[k] = match req {
                ChunkAxis::Auto => None,
                ChunkAxis::Full => Some(AxisChunks::single(len)),
                ChunkAxis::Size(0) => {
                    return Err(Error::invalid(
                        "chunks",
                        format!("chunk size 0 on axis {k} (shape {})", Shape::from(shape)),
                    ));
                }
                ChunkAxis::Size(s) => Some(AxisChunks::uniform(len, *s)),
                ChunkAxis::Explicit(lengths) => {
                    let total: usize = lengths.iter().sum();
                    if total != len || lengths.is_empty() {
                        return Err(Error::invalid(
                            "chunks",
                            format!(
                                "explicit chunks {lengths:?} on axis {k} sum to {total}, but the axis has length {len}"
                            ),
                        ));
                    }
                    Some(AxisChunks::from_lengths(lengths))
                }
            };
        }
        resolve_auto(&mut axes, shape, dtype);
        Ok(ChunkGrid(axes.into_iter().map(|a| a.expect("resolved")).collect()))
    }
}

/// Fills the `None` axes so a block holds about [`AUTO_CHUNK_BYTES`]: short axes are taken
/// whole, the rest share the remaining budget equally (as square as possible).
fn resolve_auto(axes: &mut [Option<AxisChunks>], shape: &[usize], dtype: DType) {
    let fixed: f64 = axes.iter().flatten().map(|a| a.max_block_len().max(1) as f64).product();
    let mut budget = ((AUTO_CHUNK_BYTES / dtype.size()) as f64 / fixed).max(1.0);
    let mut pending: Vec<usize> = (0..shape.len()).filter(|&k| axes[k].is_none()).collect();
    pending.sort_by_key(|&k| shape[k]);
    while !pending.is_empty() {
        let ideal = budget.powf(1.0 / pending.len() as f64);
        let k = pending[0];
        if (shape[k] as f64) <= ideal {
            axes[k] = Some(AxisChunks::single(shape[k]));
            budget = (budget / shape[k].max(1) as f64).max(1.0);
            pending.remove(0);
        } else {
            let size = (ideal.floor() as usize).max(1);
            for &k in &pending {
                axes[k] = Some(AxisChunks::uniform(shape[k], size));
            }
            pending.clear();
        }
    }
}

impl<const N: usize> From<[usize; N]> for Chunks {
    fn from(v: [usize; N]) -> Self {
        Chunks::PerAxis(v.iter().map(|&s| ChunkAxis::Size(s)).collect())
    }
}
impl From<&[usize]> for Chunks {
    fn from(v: &[usize]) -> Self {
        Chunks::PerAxis(v.iter().map(|&s| ChunkAxis::Size(s)).collect())
    }
}
impl From<Vec<usize>> for Chunks {
    fn from(v: Vec<usize>) -> Self {
        Chunks::from(v.as_slice())
    }
}
impl From<usize> for Chunks {
    fn from(v: usize) -> Self {
        Chunks::uniform(v)
    }
}
impl From<ChunkGrid> for Chunks {
    fn from(g: ChunkGrid) -> Self {
        Chunks::Grid(g)
    }
}
impl From<&ChunkGrid> for Chunks {
    fn from(g: &ChunkGrid) -> Self {
        Chunks::Grid(g.clone())
    }
}
impl From<&Chunks> for Chunks {
    fn from(c: &Chunks) -> Self {
        c.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_axes_are_canonical() {
        assert_eq!(AxisChunks::from_lengths(&[5, 5, 5]), AxisChunks::uniform(15, 5));
        assert_eq!(AxisChunks::from_lengths(&[5, 3]), AxisChunks::uniform(8, 5));
        assert_eq!(AxisChunks::from_lengths(&[3, 5, 5, 2]), AxisChunks::regular(15, 5, 3));
        assert!(matches!(AxisChunks::from_lengths(&[5, 7, 5, 5]), AxisChunks::Explicit(_)));
        assert_eq!(AxisChunks::uniform(10, 100), AxisChunks::single(10));
        assert_eq!(AxisChunks::from_lengths(&[0]), AxisChunks::single(0));
    }

    #[test]
    fn block_geometry() {
        let a = AxisChunks::regular(15, 5, 3); // [3, 5, 5, 2]
        assert_eq!(a.n_blocks(), 4);
        assert_eq!(a.lengths(), vec![3, 5, 5, 2]);
        assert_eq!(a.block_range(2), 8..13);
        assert_eq!(
            (0..15).map(|p| a.block_of(p)).collect::<Vec<_>>(),
            vec![0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3]
        );
        let e = AxisChunks::from_lengths(&[2, 0, 3]);
        assert_eq!(e.n_blocks(), 3);
        assert_eq!((0..5).map(|p| e.block_of(p)).collect::<Vec<_>>(), vec![0, 0, 2, 2, 2]);
        let z = AxisChunks::single(0);
        assert_eq!((z.n_blocks(), z.block_len(0)), (1, 0));
    }

    #[test]
    fn common_chunks_merge_boundaries() {
        let a = AxisChunks::uniform(10, 4); // 4 4 2
        let b = AxisChunks::uniform(10, 5); // 5 5
        assert_eq!(AxisChunks::common(&a, &b).lengths(), vec![4, 1, 3, 2]);
    }

    #[test]
    fn mirror_blocks_swap_the_axes_of_square_grids_only() {
        let g = ChunkGrid::new(vec![AxisChunks::uniform(10, 4), AxisChunks::uniform(10, 4)]);
        assert_eq!(g.mirror(g.ravel(&[0, 2])), Some(g.ravel(&[2, 0])));
        assert_eq!(g.mirror(g.ravel(&[1, 1])), Some(g.ravel(&[1, 1])));
        assert_eq!(g.mirror(9), None);
        let wide = ChunkGrid::new(vec![AxisChunks::uniform(10, 4), AxisChunks::uniform(10, 5)]);
        assert_eq!(wide.mirror(1), None);
        assert_eq!(ChunkGrid::new(vec![AxisChunks::uniform(10, 4)]).mirror(1), None);
    }

    #[test]
    fn display() {
        let g = ChunkGrid::new(vec![
            AxisChunks::uniform(20000, 2000),
            AxisChunks::uniform(7680, 1024),
            AxisChunks::regular(15, 5, 3),
            AxisChunks::single(7),
            AxisChunks::from_lengths(&[1, 2, 3]),
        ]);
        assert_eq!(g.to_string(), "(2000×10, 1024×7+512, 3+5×2+2, 7, [1, 2, 3])");
        let long = AxisChunks::from_lengths(&(1..=20).collect::<Vec<_>>());
        assert_eq!(long.to_string(), "[1, 2, 3, 4, 5, 6, …, 20] (20 blocks)");
    }

    #[test]
    fn requests_resolve() {
        let g = Chunks::from([3, 100]).resolve(&[10, 5], DType::F64).unwrap();
        assert_eq!(g.to_string(), "(3×3+1, 5)");
        assert_eq!(Chunks::from([2]).resolve(&[3], DType::F64).unwrap().to_string(), "(2+1,)");
        let g = Chunks::from_isize(&[4, -1]).resolve(&[10, 5], DType::F64).unwrap();
        assert_eq!(g.to_string(), "(4×2+2, 5)");
        let g = Chunks::auto().resolve(&[20000, 20000], DType::F64).unwrap();
        assert_eq!(g.max_block_shape(), vec![4096, 4096]);
        let g = Chunks::auto().resolve(&[10, 100_000_000], DType::F64).unwrap();
        assert_eq!(g.max_block_shape()[0], 10);
        assert!(Chunks::from([0, 1]).resolve(&[3, 3], DType::F64).is_err());
        assert!(Chunks::from([1]).resolve(&[3, 3], DType::F64).is_err());
        assert!(Chunks::explicit(vec![vec![1, 1]]).resolve(&[3], DType::F64).is_err());
    }

    #[test]
    fn ravel_round_trips() {
        let g = ChunkGrid::uniform(&[10, 7, 3], &[3, 2, 3]);
        for lin in 0..g.n_blocks() {
            assert_eq!(g.ravel(&g.unravel(lin)), lin);
        }
    }
}
