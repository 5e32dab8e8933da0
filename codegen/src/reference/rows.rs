//! Walking the rows of a block in C order with the global flat index of each row's first
//! element, so kernels that need global positions (random numbers, flat argmin) pay one
//! step per row instead of an unravel per element.

use std::ops::Range;

/// Iterator over the global flat (C-order) index of the first element of each row (the
/// last axis) of a block `region` of an array of shape `shape`, in C order. A 0-d array
/// has one row of length 1; a region with an empty axis has no rows.
pub(crate) struct RowStarts {
    /// C-order element strides of the whole array, for every axis but the last.
    strides: Vec<u64>,
    /// The region's axes but the last.
    region: Vec<Range<usize>>,
    /// Current position in `region`.
    pos: Vec<usize>,
    /// Global flat index of `pos` (with the last axis at the region's start).
    base: u64,
    /// Rows not yet yielded.
    remaining: usize,
}

impl RowStarts {
    /// Rows of `region` (one range per axis of `shape`).
    pub(crate) fn new(shape: &[usize], region: &[Range<usize>]) -> RowStarts {
        debug_assert_eq!(shape.len(), region.len());
        let nd = shape.len();
        let mut strides = vec![1u64; nd];
        for k in (0..nd.saturating_sub(1)).rev() {
            strides[k] = strides[k + 1] * shape[k + 1] as u64;
        }
        let base: u64 = region.iter().zip(&strides).map(|(r, &s)| r.start as u64 * s).sum();
        let remaining = if region.iter().any(|r| r.is_empty()) {
            0
        } else {
            region[..nd.saturating_sub(1)].iter().map(|r| r.len()).product()
        };
        let outer = nd.saturating_sub(1);
        RowStarts {
            strides: strides[..outer].to_vec(),
            region: region[..outer].to_vec(),
            pos: region[..outer].iter().map(|r| r.start).collect(),
            base,
            remaining,
        }
    }

    /// Length of every row (1 for a 0-d array).
    #[cfg(test)]
    pub(crate) fn row_len(region: &[Range<usize>]) -> usize {
        region.last().map_or(1, |r| r.len())
    }
}

impl Iterator for RowStarts {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let current = self.base;
        // Advance the odometer over the outer axes, last axis fastest.
        for k in (0..self.pos.len()).rev() {
            self.pos[k] += 1;
            self.base += self.strides[k];
            if self.pos[k] < self.region[k].end {
                break;
            }
            self.pos[k] = self.region[k].start;
            self.base -= self.strides[k] * self.region[k].len() as u64;
        }
        Some(current)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for RowStarts {}

#[cfg(test)]
// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    /// Flat indices of every element of the region, by brute force.
    fn brute(shape: &[usize], region: &[Range<usize>]) -> Vec<u64> {
        let n: usize = region.iter().map(|r| r.len()).product();
        let mut out = Vec::new();
        for lin in 0..n {
            let mut rem = lin;
            let mut idx = vec![0; shape.len()];
            for k in (0..shape.len()).rev() {
                idx[k] = region[k].start + rem % region[k].len();
                rem /= region[k].len();
            }
            out.push(idx.iter().zip(shape).fold(0u64, |acc, (&i, &d)| acc * d as u64 + i as u64));
        }
        out
    }

    #[test]
    fn rows_match_brute_force() {
        let shape = [4, 5, 6];
        let region = [1..3, 2..5, 1..4];
        let rows: Vec<u64> = RowStarts::new(&shape, &region).collect();
        let len = RowStarts::row_len(&region);
        let flat: Vec<u64> = rows.iter().flat_map(|&r| (0..len as u64).map(move |j| r + j)).collect();
        assert_eq!(flat, brute(&shape, &region));
    }

    #[test]
    fn degenerate_regions() {
        assert_eq!(RowStarts::new(&[], &[]).collect::<Vec<_>>(), vec![0]);
        assert_eq!(RowStarts::row_len(&[]), 1);
        assert_eq!(RowStarts::new(&[7], &[2..5]).collect::<Vec<_>>(), vec![2]);
        assert_eq!(RowStarts::new(&[3, 0], &[0..3, 0..0]).count(), 0);
        assert_eq!(RowStarts::new(&[3, 4], &[1..1, 0..4]).count(), 0);
    }
}
