//! Block-index arithmetic shared by the lowering of every op family: walking a chunk grid in
//! C order without allocating per block (`Odometer`), and mapping an output block position
//! to the linear index of the one input block it reads (`BlockMap`).

#[cfg(test)]
use kiln_ir::AxisChunks;
use kiln_ir::ChunkGrid;

/// A position in a grid of block counts, advanced in C order (last axis fastest).
pub(crate) struct Odometer {
    dims: Vec<usize>,
    idx: Vec<usize>,
}

impl Odometer {
    /// Starts at the origin of a grid with `dims` blocks per axis.
    pub(crate) fn new(dims: Vec<usize>) -> Odometer {
        let idx = vec![0; dims.len()];
        Odometer { dims, idx }
    }

    /// Restarts at the origin of a grid with the given block counts (same number of axes).
    pub(crate) fn reset(&mut self, dims: impl Iterator<Item = usize>) {
        for (d, n) in self.dims.iter_mut().zip(dims) {
            *d = n;
        }
        self.idx.fill(0);
    }

    /// The current position.
    pub(crate) fn idx(&self) -> &[usize] {
        &self.idx
    }

    /// Moves to the next position in C order; returns false (and wraps to the origin) after
    /// the last one.
    pub(crate) fn advance(&mut self) -> bool {
        for k in (0..self.dims.len()).rev() {
            self.idx[k] += 1;
            if self.idx[k] < self.dims[k] {
                return true;
            }
            self.idx[k] = 0;
        }
        false
    }
}

/// The C-order strides of a grid's block counts: the linear block index of position `p` is
/// `sum(p[k] * strides[k])`.
pub(crate) fn block_strides(grid: &ChunkGrid) -> Vec<u64> {
    let mut strides = vec![0u64; grid.ndim()];
    let mut acc = 1u64;
    for k in (0..grid.ndim()).rev() {
        strides[k] = acc;
        acc = acc.saturating_mul(grid.axis(k).n_blocks() as u64);
    }
    strides
}

/// How one output axis contributes to the input block's linear index.
enum AxisMap {
    /// `out_idx * stride` (0 for axes the input does not have or broadcasts).
    Stride(u64),
    /// A precomputed contribution per output block along the axis.
    Table(Vec<u64>),
}

/// Maps an output block position to the linear index of the input block it reads: a
/// constant plus one term per output axis. Built once per node; applying it costs one
/// multiply or lookup per axis and allocates nothing.
pub(crate) struct BlockMap {
    base: u64,
    axes: Vec<AxisMap>,
}

impl BlockMap {
    /// The input block at the same position, with NumPy broadcasting: the input's axes align
    /// with the last output axes, and an axis it stretches (length 1 against a longer or
    /// empty output axis) always reads the block holding its one element (block 0 unless
    /// zero-length blocks come first). A length-1 axis that is not stretched has the
    /// output's chunks and reads the same position, like any other axis.
    pub(crate) fn broadcast(input: &ChunkGrid, output: &ChunkGrid) -> BlockMap {
        let strides = block_strides(input);
        let offset = output.ndim() - input.ndim();
        let mut base = 0;
        let axes = (0..output.ndim())
            .map(|d| match d.checked_sub(offset) {
                Some(k) if input.axis(k).len() == output.axis(d).len() => AxisMap::Stride(strides[k]),
                Some(k) => {
                    base += input.axis(k).block_of(0) as u64 * strides[k];
                    AxisMap::Stride(0)
                }
                None => AxisMap::Stride(0),
            })
            .collect();
        BlockMap { base, axes }
    }

    /// A fused kernel's input whose axis `j` runs along output axis `axes[j]`: the block at
    /// the same position along each named axis with the output's chunks; an axis with other
    /// chunks (a length-1 axis broadcast along it) always reads the block holding its one
    /// element; output axes the input does not name do not move it.
    pub(crate) fn along(input: &ChunkGrid, axes: &[u32], output: &ChunkGrid) -> BlockMap {
        let strides = block_strides(input);
        let mut base = 0;
        let mut maps: Vec<AxisMap> = (0..output.ndim()).map(|_| AxisMap::Stride(0)).collect();
        for (j, &a) in axes.iter().enumerate() {
            if input.axis(j) == output.axis(a as usize) {
                maps[a as usize] = AxisMap::Stride(strides[j]);
            } else {
                base += input.axis(j).block_of(0) as u64 * strides[j];
            }
        }
        BlockMap { base, axes: maps }
    }

    /// Output axis `k` is input axis `perm[k]`.
    pub(crate) fn transpose(input: &ChunkGrid, perm: &[usize]) -> BlockMap {
        let strides = block_strides(input);
        BlockMap { base: 0, axes: perm.iter().map(|&p| AxisMap::Stride(strides[p])).collect() }
    }

    /// The output has a new single-block axis at `axis`; the other axes are the input's.
    pub(crate) fn insert_axis(input: &ChunkGrid, axis: usize) -> BlockMap {
        let mut axes: Vec<AxisMap> = block_strides(input).into_iter().map(AxisMap::Stride).collect();
        axes.insert(axis, AxisMap::Stride(0));
        BlockMap { base: 0, axes }
    }

    /// A map from explicit parts: `base` plus, per output axis, either a stride or a table
    /// of contributions indexed by the output block position along that axis.
    pub(crate) fn from_tables(base: u64, tables: Vec<Option<Vec<u64>>>) -> BlockMap {
        let axes = tables.into_iter().map(|t| t.map_or(AxisMap::Stride(0), AxisMap::Table)).collect();
        BlockMap { base, axes }
    }

    /// The input block's linear index for output position `out_idx`.
    pub(crate) fn at(&self, out_idx: &[usize]) -> u64 {
        let mut linear = self.base;
        for (map, &i) in self.axes.iter().zip(out_idx) {
            linear += match map {
                AxisMap::Stride(s) => *s * i as u64,
                AxisMap::Table(t) => t[i],
            };
        }
        linear
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odometer_walks_in_c_order() {
        let mut o = Odometer::new(vec![2, 3]);
        let mut seen = vec![o.idx().to_vec()];
        while o.advance() {
            seen.push(o.idx().to_vec());
        }
        assert_eq!(seen, vec![vec![0, 0], vec![0, 1], vec![0, 2], vec![1, 0], vec![1, 1], vec![1, 2]]);
        let mut scalar = Odometer::new(vec![]);
        assert!(!scalar.advance());
    }

    #[test]
    fn maps_agree_with_ravel() {
        let input = ChunkGrid::uniform(&[6, 1, 4], &[2, 1, 2]); // 3 × 1 × 2 blocks
        let output = ChunkGrid::uniform(&[8, 6, 5, 4], &[1, 2, 1, 2]);
        let b = BlockMap::broadcast(&input, &output);
        assert_eq!(b.at(&[7, 2, 4, 1]), input.ravel(&[2, 0, 1]));
        let leading_empty = ChunkGrid::new(vec![AxisChunks::from_lengths(&[0, 1])]);
        let stretched = BlockMap::broadcast(&leading_empty, &ChunkGrid::uniform(&[4], &[2]));
        assert_eq!(stretched.at(&[1]), 1);
        let kept = BlockMap::broadcast(&leading_empty, &leading_empty);
        assert_eq!((kept.at(&[0]), kept.at(&[1])), (0, 1));
        let t = BlockMap::transpose(&input, &[2, 0, 1]);
        assert_eq!(t.at(&[1, 2, 0]), input.ravel(&[2, 0, 1]));
        let i = BlockMap::insert_axis(&input, 1);
        assert_eq!(i.at(&[1, 0, 0, 1]), input.ravel(&[1, 0, 1]));
        // Input axes (0, 1, 2) run along output axes (3, 0, 1); the length-1 axis 1 is
        // broadcast along output axis 0 and output axis 2 is not named.
        let space = ChunkGrid::uniform(&[5, 4, 7, 6], &[1, 2, 1, 2]);
        let a = BlockMap::along(&input, &[3, 0, 1], &space);
        assert_eq!(a.at(&[4, 1, 6, 2]), input.ravel(&[2, 0, 1]));
        let stretched = BlockMap::along(&leading_empty, &[0], &ChunkGrid::uniform(&[4], &[2]));
        assert_eq!(stretched.at(&[1]), 1);
    }
}
