//! Slicing: normalizing ndarray's `s![...]` against a shape (`SliceSpec`) and mapping the
//! slice of a chunked axis onto its blocks (`slice_axis_chunks`, `slice_axis_pieces`).
//!
//! Semantics are ndarray's (kiln reuses its `s!` macro): negative indices count from the
//! end; a negative step walks the range `start..end` backwards from `end - 1`. Unlike
//! ndarray (which panics), out-of-range slice bounds are clamped as NumPy does, fewer
//! entries than axes leave the trailing axes whole, and an out-of-range integer index is an
//! error.

use std::fmt;

use ndarray::SliceInfoElem;

use crate::chunks::{AxisChunks, ChunkGrid};
use crate::error::{Error, Result};
use crate::shape::Shape;

/// A normalized range on one axis: `0 <= start <= end <= len`, `step != 0`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct AxisSlice {
    /// First position of the range (inclusive).
    pub start: usize,
    /// End of the range (exclusive).
    pub end: usize,
    /// Stride; negative walks backwards from `end - 1`.
    pub step: isize,
}

impl AxisSlice {
    /// The whole axis of length `len`.
    pub fn full(len: usize) -> AxisSlice {
        AxisSlice { start: 0, end: len, step: 1 }
    }

    /// Number of selected elements.
    pub fn len(&self) -> usize {
        (self.end - self.start).div_ceil(self.step.unsigned_abs())
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Source position of the `i`-th selected element.
    pub fn nth(&self, i: usize) -> usize {
        let s = self.step.unsigned_abs();
        if self.step > 0 { self.start + i * s } else { self.end - 1 - i * s }
    }

    /// The ndarray slice element selecting the same positions.
    pub fn to_ndarray(self) -> SliceInfoElem {
        SliceInfoElem::Slice { start: self.start as isize, end: Some(self.end as isize), step: self.step }
    }
}

/// One entry of a normalized slice.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SliceElem {
    /// Keep a range of the next input axis.
    Range(AxisSlice),
    /// Take one position of the next input axis, dropping the axis.
    Index(usize),
    /// Insert a new axis of length 1.
    NewAxis,
}

/// A slice normalized against an input shape: exactly one `Range` or `Index` per input axis,
/// in order, with `NewAxis` entries anywhere.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SliceSpec(Box<[SliceElem]>);

impl SliceSpec {
    /// Normalizes ndarray slice elements (from `s![...]`) against `shape`.
    pub fn normalize(info: &[SliceInfoElem], shape: &[usize]) -> Result<SliceSpec> {
        let n_axes = info.iter().filter(|e| !matches!(e, SliceInfoElem::NewAxis)).count();
        if n_axes > shape.len() {
            return Err(Error::invalid(
                "slice",
                format!("too many indices: {n_axes} given for an array of shape {}", Shape::from(shape)),
            ));
        }
        let mut out = Vec::with_capacity(info.len() + shape.len() - n_axes);
        let mut axis = 0;
        for e in info {
            match *e {
                SliceInfoElem::NewAxis => out.push(SliceElem::NewAxis),
                SliceInfoElem::Index(i) => {
                    let len = shape[axis];
                    let pos = if i < 0 { i + len as isize } else { i };
                    if pos < 0 || pos as usize >= len {
                        return Err(Error::invalid(
                            "slice",
                            format!(
                                "index {i} is out of bounds for axis {axis} with size {len} (shape {})",
                                Shape::from(shape)
                            ),
                        ));
                    }
                    out.push(SliceElem::Index(pos as usize));
                    axis += 1;
                }
                SliceInfoElem::Slice { start, end, step } => {
                    if step == 0 {
                        return Err(Error::invalid("slice", format!("slice step cannot be zero (axis {axis})")));
                    }
                    let len = shape[axis];
                    let clamp = |v: isize| -> usize {
                        let v = if v < 0 { v + len as isize } else { v };
                        v.clamp(0, len as isize) as usize
                    };
                    let s = clamp(start);
                    let e = end.map_or(len, clamp).max(s);
                    out.push(SliceElem::Range(AxisSlice { start: s, end: e, step }));
                    axis += 1;
                }
            }
        }
        for &len in &shape[axis..] {
            out.push(SliceElem::Range(AxisSlice::full(len)));
        }
        Ok(SliceSpec(out.into()))
    }

    /// The entries.
    pub fn elems(&self) -> &[SliceElem] {
        &self.0
    }

    /// The shape of the result.
    pub fn out_shape(&self) -> Shape {
        Shape::new(
            self.0
                .iter()
                .filter_map(|e| match e {
                    SliceElem::Range(r) => Some(r.len()),
                    SliceElem::Index(_) => None,
                    SliceElem::NewAxis => Some(1),
                })
                .collect::<Vec<_>>(),
        )
    }

    /// Whether the slice selects everything of an array of `shape`, unchanged.
    pub fn is_identity(&self, shape: &[usize]) -> bool {
        self.0.len() == shape.len()
            && self.0.iter().zip(shape).all(|(e, &len)| *e == SliceElem::Range(AxisSlice::full(len)))
    }

    /// The chunking of the result: each output block comes from exactly one input block.
    pub fn out_chunks(&self, input: &ChunkGrid) -> ChunkGrid {
        let mut axis = 0;
        let mut out = Vec::new();
        for e in self.0.iter() {
            match e {
                SliceElem::Range(r) => {
                    out.push(slice_axis_chunks(input.axis(axis), r));
                    axis += 1;
                }
                SliceElem::Index(_) => axis += 1,
                SliceElem::NewAxis => out.push(AxisChunks::single(1)),
            }
        }
        ChunkGrid::new(out)
    }
}

impl fmt::Display for SliceSpec {
    /// The `s!` syntax: `[..10, 2..8;2, 3, NewAxis]` (bounds written out in full).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match e {
                SliceElem::Range(r) => {
                    write!(f, "{}..{}", r.start, r.end)?;
                    if r.step != 1 {
                        write!(f, ";{}", r.step)?;
                    }
                }
                SliceElem::Index(i) => write!(f, "{i}")?,
                SliceElem::NewAxis => f.write_str("NewAxis")?,
            }
        }
        f.write_str("]")
    }
}

/// The part of one input block that lands in one output block, along one axis.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AxisPiece {
    /// The input block.
    pub in_block: usize,
    /// The range to take, relative to the input block's start.
    pub local: AxisSlice,
}

/// The output blocks of slicing axis `input` by `r`, in output order (descending input
/// blocks for a negative step). Blocks that contribute nothing are skipped; an empty result
/// is one empty piece of block 0.
pub fn slice_axis_pieces(input: &AxisChunks, r: &AxisSlice) -> Vec<AxisPiece> {
    let mut pieces = Vec::new();
    if !r.is_empty() {
        let s = r.step.unsigned_abs();
        let first = input.block_of(r.start);
        let last = input.block_of(r.end - 1);
        for b in first..=last {
            let br = input.block_range(b);
            let (lo, hi) = (br.start.max(r.start), br.end.min(r.end));
            if lo >= hi {
                continue;
            }
            let local = if r.step > 0 {
                // First selected position >= lo.
                let p0 = r.start + (lo - r.start).div_ceil(s) * s;
                if p0 >= hi {
                    continue;
                }
                AxisSlice { start: p0 - br.start, end: hi - br.start, step: r.step }
            } else {
                // Selected positions are end-1, end-1-s, ...: the largest one < hi.
                let top = r.end - 1;
                let Some(p0) = top.checked_sub((top - (hi - 1)).div_ceil(s) * s) else { continue };
                if p0 < lo {
                    continue;
                }
                AxisSlice { start: lo - br.start, end: p0 + 1 - br.start, step: r.step }
            };
            pieces.push(AxisPiece { in_block: b, local });
        }
        if r.step < 0 {
            pieces.reverse();
        }
    }
    if pieces.is_empty() {
        pieces.push(AxisPiece { in_block: 0, local: AxisSlice { start: 0, end: 0, step: 1 } });
    }
    pieces
}

/// The chunking of axis `input` sliced by `r`: O(1) for a unit step on a regular axis,
/// one step per block otherwise.
pub fn slice_axis_chunks(input: &AxisChunks, r: &AxisSlice) -> AxisChunks {
    if r.step == 1
        && let AxisChunks::Regular { size, .. } = *input
    {
        if r.is_empty() {
            return AxisChunks::single(0);
        }
        let head = input.block_range(input.block_of(r.start)).end.min(r.end) - r.start;
        return AxisChunks::regular(r.len(), size, head);
    }
    let lengths: Vec<usize> = slice_axis_pieces(input, r).iter().map(|p| p.local.len()).collect();
    AxisChunks::from_lengths(&lengths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::s;

    fn positions(r: &AxisSlice) -> Vec<usize> {
        (0..r.len()).map(|i| r.nth(i)).collect()
    }

    #[test]
    fn normalizes_like_ndarray_and_clamps_like_numpy() {
        let spec = SliceSpec::normalize(s![..10, -3.., 1, ndarray::NewAxis].as_ref(), &[5, 8, 4, 2]).unwrap();
        assert_eq!(spec.to_string(), "[0..5, 5..8, 1, NewAxis, 0..2]");
        assert_eq!(spec.out_shape(), Shape::from([5, 3, 1, 2]));
        let rev = SliceSpec::normalize(s![1..7;-2].as_ref(), &[10]).unwrap();
        let SliceElem::Range(r) = rev.elems()[0] else { panic!() };
        assert_eq!(positions(&r), vec![6, 4, 2]);
        let err = SliceSpec::normalize(s![5].as_ref(), &[5]).unwrap_err();
        assert_eq!(err.to_string(), "slice: index 5 is out of bounds for axis 0 with size 5 (shape (5,))");
        assert!(SliceSpec::normalize(s![.., .., ..].as_ref(), &[1, 2]).is_err());
        assert!(SliceSpec::normalize(s![.., ..].as_ref(), &[3, 4]).unwrap().is_identity(&[3, 4]));
    }

    /// Checks pieces against a direct enumeration of positions for many slices.
    #[test]
    fn pieces_cover_exactly_the_selected_positions() {
        let axes = [AxisChunks::uniform(23, 5), AxisChunks::from_lengths(&[3, 0, 7, 1, 12]), AxisChunks::single(4)];
        for input in &axes {
            let len = input.len();
            for start in 0..=len {
                for end in start..=len {
                    for step in [-4isize, -3, -1, 1, 2, 5] {
                        let r = AxisSlice { start, end, step };
                        let pieces = slice_axis_pieces(input, &r);
                        let got: Vec<usize> = pieces
                            .iter()
                            .flat_map(|p| {
                                let b0 = input.block_start(p.in_block);
                                positions(&p.local).into_iter().map(move |q| q + b0)
                            })
                            .collect();
                        assert_eq!(got, positions(&r), "{input} {r:?}");
                        let chunks = slice_axis_chunks(input, &r);
                        assert_eq!(chunks.lengths(), pieces.iter().map(|p| p.local.len()).collect::<Vec<_>>());
                        for p in &pieces {
                            assert!(p.local.end <= input.block_len(p.in_block));
                        }
                    }
                }
            }
        }
    }
}
