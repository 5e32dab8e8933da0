//! The walk over a block: its rows in C order, grouped into tiles of at most [`TILE`]
//! elements (a long row is cut into segments, short rows are packed several to a tile) and
//! tiles into bands (consecutive rows whose staged inputs are copied together, see
//! `stage`), and the affine "trackers" that follow each row's position (input element
//! offsets, random flat indices, accumulator offsets) with one add per row.

use std::ops::Range;

/// The most elements one tile holds: the scratch buffers of a tile stay in cache.
pub(super) const TILE: usize = 1024;

/// The block being walked: the iteration region's lengths and global starts, with at least
/// one axis (a 0-d block is walked as one row of length 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Space {
    /// Length along each axis.
    pub(super) lens: Vec<usize>,
    /// Global start along each axis.
    pub(super) starts: Vec<usize>,
}

impl Space {
    /// The block at `region`.
    pub(super) fn new(region: &[Range<usize>]) -> Space {
        if region.is_empty() {
            return Space { lens: vec![1], starts: vec![0] };
        }
        Space { lens: region.iter().map(|r| r.len()).collect(), starts: region.iter().map(|r| r.start).collect() }
    }

    /// The row axis (the last).
    pub(super) fn last(&self) -> usize {
        self.lens.len() - 1
    }

    /// Elements per row.
    pub(super) fn row_len(&self) -> usize {
        self.lens[self.last()]
    }

    /// Number of rows (0 when any axis is empty).
    pub(super) fn n_rows(&self) -> usize {
        if self.lens.contains(&0) { 0 } else { self.lens[..self.last()].iter().product() }
    }

    /// Whether the block has no elements.
    pub(super) fn is_empty(&self) -> bool {
        self.lens.contains(&0)
    }
}

/// How rows make tiles: `rows_per_tile` whole rows, or (when that is 1) one row cut into
/// segments of `seg_len` elements (the last one shorter), as even as possible.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct Tiling {
    /// Rows in a full tile.
    pub(super) rows_per_tile: usize,
    /// Elements of a row segment (the row length when rows are packed).
    pub(super) seg_len: usize,
}

impl Tiling {
    /// The tiling of rows of `row_len` elements (at least 1).
    pub(super) fn new(row_len: usize) -> Tiling {
        let row_len = row_len.max(1);
        if row_len <= TILE / 2 {
            return Tiling { rows_per_tile: TILE / row_len, seg_len: row_len };
        }
        Tiling { rows_per_tile: 1, seg_len: row_len.div_ceil(row_len.div_ceil(TILE)) }
    }

    /// Whether several rows share a tile (then nothing is hoisted per row).
    pub(super) fn packed(&self) -> bool {
        self.rows_per_tile > 1
    }
}

/// Affine functions of the row position: tracker `t` at local row position `p` (the
/// position along every axis but the last) is `init[t] + Σ p[k] * strides[t][k]`, in
/// wrapping `i64` arithmetic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Trackers {
    /// Value at the block's first row.
    pub(super) init: Vec<i64>,
    /// Per tracker, the step along each axis but the last (flattened, `outer` per tracker).
    pub(super) strides: Vec<i64>,
    /// Axes but the last.
    pub(super) outer: usize,
}

impl Trackers {
    /// No trackers over `outer` row axes.
    pub(super) fn new(outer: usize) -> Trackers {
        Trackers { init: Vec::new(), strides: Vec::new(), outer }
    }

    /// Adds a tracker with value `init` at the first row and `strides` (one per axis; the
    /// last axis' entry is ignored, it is applied within rows); returns its number.
    pub(super) fn add(&mut self, init: i64, strides: &[i64]) -> usize {
        self.init.push(init);
        self.strides.extend((0..self.outer).map(|k| strides.get(k).copied().unwrap_or(0)));
        self.init.len() - 1
    }

    /// Number of trackers.
    pub(super) fn len(&self) -> usize {
        self.init.len()
    }
}

/// The part of a tile's rows being evaluated: `rows` rows, positions `s .. s + n` of each.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct Span {
    /// Rows.
    pub(super) rows: usize,
    /// First position along the row (relative to the block's start).
    pub(super) s: usize,
    /// Positions per row.
    pub(super) n: usize,
}

impl Span {
    /// Elements of the span.
    pub(super) fn len(&self) -> usize {
        self.rows * self.n
    }

    /// One position of the first row (how hoisted values are evaluated).
    pub(super) const SCALAR: Span = Span { rows: 1, s: 0, n: 1 };
}

/// The rows of one tile: per row its global position along the row axes and its tracker
/// values.
#[derive(Clone, Debug, Default)]
pub(super) struct TileRows {
    /// Rows in this tile.
    pub(super) n: usize,
    /// Index of the tile's first row in C order.
    pub(super) first: usize,
    /// Global positions, `outer` per row.
    pub(super) pos: Vec<usize>,
    /// Tracker values, one set per row.
    pub(super) vals: Vec<i64>,
    /// Trackers per row.
    pub(super) n_trackers: usize,
    /// Index of the tile's first row in its band.
    pub(super) in_band: usize,
}

impl TileRows {
    /// Tracker `t` of row `r` of the tile.
    #[inline]
    pub(super) fn val(&self, r: usize, t: usize) -> i64 {
        self.vals[r * self.n_trackers + t]
    }

    /// Global position of row `r` along row axis `k`.
    #[inline]
    pub(super) fn pos(&self, r: usize, k: usize, outer: usize) -> usize {
        self.pos[r * outer + k]
    }

    /// Copies rows `start .. start + max_rows` of this band (fewer at its end) into `tile`,
    /// a tile of the band.
    pub(super) fn sub(&self, start: usize, max_rows: usize, tile: &mut TileRows) {
        let n = max_rows.min(self.n.saturating_sub(start));
        let outer = self.pos.len().checked_div(self.n).unwrap_or(0);
        let nt = self.n_trackers;
        tile.n = n;
        tile.first = self.first + start;
        tile.n_trackers = nt;
        tile.in_band = start;
        tile.pos.clear();
        tile.pos.extend_from_slice(&self.pos[start * outer..(start + n) * outer]);
        tile.vals.clear();
        tile.vals.extend_from_slice(&self.vals[start * nt..(start + n) * nt]);
    }
}

/// The odometer over rows: yields the rows of a block in C order, a tile at a time.
#[derive(Clone, Debug)]
pub(super) struct Rows<'a> {
    space: &'a Space,
    trackers: &'a Trackers,
    /// Local position of the next row along each row axis.
    pos: Vec<usize>,
    /// Tracker values at `pos`.
    vals: Vec<i64>,
    /// Index of the next row.
    next: usize,
    /// Rows in the block.
    total: usize,
}

impl<'a> Rows<'a> {
    /// The rows of `space`, with `trackers` following them.
    pub(super) fn new(space: &'a Space, trackers: &'a Trackers) -> Rows<'a> {
        Rows {
            space,
            trackers,
            pos: vec![0; space.last()],
            vals: trackers.init.clone(),
            next: 0,
            total: space.n_rows(),
        }
    }

    /// Fills `tile` with the next at most `max_rows` rows; false when none are left.
    pub(super) fn next_tile(&mut self, max_rows: usize, tile: &mut TileRows) -> bool {
        let n = max_rows.min(self.total - self.next);
        let outer = self.space.last();
        tile.n = n;
        tile.first = self.next;
        tile.n_trackers = self.trackers.len();
        tile.in_band = 0;
        tile.pos.clear();
        tile.vals.clear();
        for _ in 0..n {
            tile.pos.extend(self.pos.iter().zip(&self.space.starts).map(|(p, s)| p + s));
            tile.vals.extend_from_slice(&self.vals);
            self.advance(outer);
        }
        n > 0
    }

    /// Steps to the next row: the last row axis fastest.
    fn advance(&mut self, outer: usize) {
        self.next += 1;
        let nt = self.trackers.len();
        for k in (0..outer).rev() {
            self.pos[k] += 1;
            for t in 0..nt {
                self.vals[t] = self.vals[t].wrapping_add(self.trackers.strides[t * outer + k]);
            }
            if self.pos[k] < self.space.lens[k] {
                return;
            }
            let len = self.space.lens[k] as i64;
            self.pos[k] = 0;
            for t in 0..nt {
                self.vals[t] = self.vals[t].wrapping_sub(self.trackers.strides[t * outer + k].wrapping_mul(len));
            }
        }
    }
}

/// C-order strides of `shape` (in elements).
pub(crate) fn c_strides(shape: &[usize]) -> Vec<i64> {
    let mut strides = vec![1i64; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1].wrapping_mul(shape[k + 1] as i64);
    }
    strides
}

#[cfg(test)]
// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    #[test]
    fn tilings() {
        assert_eq!(Tiling::new(1), Tiling { rows_per_tile: 1024, seg_len: 1 });
        assert_eq!(Tiling::new(0), Tiling { rows_per_tile: 1024, seg_len: 1 });
        assert_eq!(Tiling::new(300), Tiling { rows_per_tile: 3, seg_len: 300 });
        assert_eq!(Tiling::new(600), Tiling { rows_per_tile: 1, seg_len: 600 });
        assert_eq!(Tiling::new(1024), Tiling { rows_per_tile: 1, seg_len: 1024 });
        assert_eq!(Tiling::new(1025), Tiling { rows_per_tile: 1, seg_len: 513 });
        assert!(Tiling::new(3).packed() && !Tiling::new(2000).packed());
    }

    #[test]
    fn rows_follow_c_order_with_trackers() {
        let space = Space::new(&[2..4, 5..8, 0..4]);
        assert_eq!((space.n_rows(), space.row_len(), space.last()), (6, 4, 2));
        let mut trackers = Trackers::new(2);
        let flat = trackers.add(2 * 12 + 5 * 4, &[12, 4, 1]);
        let skip = trackers.add(0, &[0, 1]);
        let mut rows = Rows::new(&space, &trackers);
        let mut tile = TileRows::default();
        let mut seen = Vec::new();
        while rows.next_tile(4, &mut tile) {
            for r in 0..tile.n {
                seen.push((tile.pos(r, 0, 2), tile.pos(r, 1, 2), tile.val(r, flat), tile.val(r, skip)));
            }
        }
        let want: Vec<_> =
            (2..4).flat_map(|i| (5..8).map(move |j| (i, j, (i * 12 + j * 4) as i64, (j - 5) as i64))).collect();
        assert_eq!(seen, want);

        // The same rows as bands of 4 cut into tiles of at most 3.
        let mut rows = Rows::new(&space, &trackers);
        let (mut band, mut seen) = (TileRows::default(), Vec::new());
        while rows.next_tile(4, &mut band) {
            for start in (0..band.n).step_by(3) {
                band.sub(start, 3, &mut tile);
                assert_eq!((tile.in_band, tile.first), (start, band.first + start));
                for r in 0..tile.n {
                    seen.push((tile.pos(r, 0, 2), tile.pos(r, 1, 2), tile.val(r, flat), tile.val(r, skip)));
                }
            }
        }
        assert_eq!(seen, want);
    }

    #[test]
    fn degenerate_spaces() {
        let zero_d = Space::new(&[]);
        assert_eq!((zero_d.lens.clone(), zero_d.n_rows(), zero_d.is_empty()), (vec![1], 1, false));
        let trackers = Trackers::new(0);
        let mut rows = Rows::new(&zero_d, &trackers);
        let mut tile = TileRows::default();
        assert!(rows.next_tile(8, &mut tile));
        assert_eq!(tile.n, 1);
        assert!(!rows.next_tile(8, &mut tile));
        let empty = Space::new(&[0..3, 2..2]);
        assert!(empty.is_empty());
        assert_eq!(empty.n_rows(), 0);
        assert_eq!(c_strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(c_strides(&[]), Vec::<i64>::new());
    }
}
