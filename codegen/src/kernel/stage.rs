//! Staging of inputs read across their memory layout: an input whose elements along the
//! row lie a cache line or more apart, but close together from one row to the next (a
//! transposed block, `x.t()`), is copied band by band (a few consecutive rows at a time)
//! into a row-major scratch buffer with a blocked gather, so every cache line and page of
//! the input is touched once per band instead of once per element, and the tiles of the
//! band then borrow their rows from that buffer as if the input were contiguous.
//!
//! Staging only moves elements: the walk order, and so every result bit (reductions
//! included), is the same as without it. The JIT's row walker (`jit/run.rs`) stages with
//! the same rules ([`band_rows`], [`across_lines`]) and copy ([`gather_rows`]).

use kiln_ir::Chunk;

use crate::error::{Error, Result};
use crate::kernel::load::InputGeom;
use crate::kernel::transpose::{BLOCK, transpose_rows};
use crate::kernel::walk::{Space, Tiling};
use crate::reference::num::Num;

/// Bytes in a cache line: elements at least this far apart share no line.
const LINE: usize = 64;

/// Elements a band aims to stage per input (`f64`: 256 KiB, well inside L2).
const BAND_ELEMS: usize = 32 * 1024;

/// The fewest rows a band must have for staging to pay: with fewer, each line of the input
/// is still mostly wasted.
const MIN_BAND_ROWS: usize = 8;

/// The most elements a band may stage per input (long rows): beyond, no staging.
const MAX_BAND_ELEMS: usize = 256 * 1024;

/// The most rows of a transposed input copied together (see `transpose`): a whole group is
/// read from each place along the row before the next place (longer runs of consecutive
/// lines); other rows are copied [`BLOCK`] at a time, each input line read once for all.
const GROUP: usize = 32;

/// How the walk stages inputs: which inputs, and how many rows a band has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Staging {
    /// Per input, whether it is staged (when its load is live and varies along the row).
    pub(super) inputs: Vec<bool>,
    /// Rows per band: a multiple of the tiling's rows per tile (exactly it when nothing is
    /// staged).
    pub(super) band_rows: usize,
}

impl Staging {
    /// The staging of inputs placed by `geoms` (elements of `sizes` bytes) in `space`, walked
    /// with `tiling`.
    pub(super) fn new(geoms: &[InputGeom], sizes: &[usize], space: &Space, tiling: Tiling) -> Staging {
        let per_tile = tiling.rows_per_tile.max(1);
        let band = band_rows(per_tile, space.row_len());
        let inputs: Vec<bool> = geoms
            .iter()
            .zip(sizes)
            .map(|(g, &size)| band.is_some() && across_lines(&g.strides, size, &space.lens))
            .collect();
        let band_rows = match band {
            Some(rows) if inputs.contains(&true) => rows,
            _ => per_tile,
        };
        Staging { inputs, band_rows }
    }
}

/// Rows per band for rows of `row_len` elements walked `per_tile` rows at a time (a multiple
/// of it), or `None` when rows are too long for a band to stay in L2.
pub(crate) fn band_rows(per_tile: usize, row_len: usize) -> Option<usize> {
    let per_tile = per_tile.max(1);
    let row_len = row_len.max(1);
    let rows = (BAND_ELEMS / (per_tile * row_len)).max(1) * per_tile;
    let rows = rows.max(MIN_BAND_ROWS.div_ceil(per_tile) * per_tile);
    (rows * row_len <= MAX_BAND_ELEMS).then_some(rows)
}

/// Whether an input with element `strides` (of `size` bytes) over axes of lengths `lens`
/// steps a cache line or more along the row but less than a line from one row to the next:
/// then consecutive rows share its lines, and a band gathered together reads each line once.
pub(crate) fn across_lines(strides: &[i64], size: usize, lens: &[usize]) -> bool {
    let Some(last) = lens.len().checked_sub(1) else {
        return false;
    };
    let along = strides[last].unsigned_abs() as usize;
    let Some(row_axis) = (0..last).rev().find(|&a| lens[a] > 1) else {
        return false;
    };
    let between = strides[row_axis].unsigned_abs() as usize;
    lens[last] > 1 && along * size >= LINE && between != 0 && between < along && between * size < LINE
}

/// Copies the rows of a band of `chunk`: row `r` has `row_len` elements, the first at
/// element offset `starts[r]`, the next `step` further each; they land one after another
/// in `dst` (`row_len` elements each, `dst` holding at least `starts.len() * row_len`).
///
/// The offsets must address elements of the block: every `starts[r] + j * step` for
/// `j < row_len` is `Σ p_k * stride_k` of an in-bounds index `p` (the walk guarantees it).
pub(super) fn gather_band<T: Num>(
    chunk: &Chunk,
    starts: &[i64],
    step: i64,
    row_len: usize,
    dst: &mut [T],
) -> Result<()> {
    let a = chunk
        .typed::<T>()
        .ok_or_else(|| Error::Internal(format!("kernel: staging {} as {}", chunk.dtype(), T::DTYPE)))?;
    if dst.len() < starts.len() * row_len {
        return Err(Error::Internal(format!(
            "kernel: a band of {} rows of {row_len} staged into {} elements",
            starts.len(),
            dst.len()
        )));
    }
    // SAFETY: the caller's promise: the offsets address elements of the block.
    unsafe { gather_rows(a.as_ptr(), starts, step, row_len, dst) };
    Ok(())
}

/// [`gather_band`] from the element at `base`: row `r` has `row_len` elements, the first
/// at `base + starts[r]`, the next `step` further each; `dst` holds at least
/// `starts.len() * row_len` elements.
///
/// # Safety
///
/// Every `base + starts[r] + j * step` for `j < row_len` must address an initialized `T`.
pub(crate) unsafe fn gather_rows<T: Num>(base: *const T, starts: &[i64], step: i64, row_len: usize, dst: &mut [T]) {
    assert!(dst.len() >= starts.len() * row_len, "a band staged into too small a buffer");
    let mut r0 = 0;
    while r0 < starts.len() {
        // The run of rows from `r0` that start on consecutive elements (a transposed input's
        // rows, one element apart), cut to whole blocks and at most a group.
        let s0 = starts[r0];
        let run = starts[r0..].iter().take(GROUP).enumerate().take_while(|&(r, &s)| s == s0.wrapping_add(r as i64));
        let rows = run.count() / BLOCK * BLOCK;
        if rows > 0 {
            let out = &mut dst[r0 * row_len..(r0 + rows) * row_len];
            // SAFETY: row `r0 + r` starts at element `s0 + r`, and every `s0 + r + j * step`
            // with `j < row_len` addresses an initialized element (the caller's promise).
            unsafe { transpose_rows(base.offset(s0 as isize), step as isize, rows, row_len, out) };
            r0 += rows;
            continue;
        }
        // Anything else: a few rows at a time, each input line read once for all of them.
        let rows = BLOCK.min(starts.len() - r0);
        let out = &mut dst[r0 * row_len..(r0 + rows) * row_len];
        for j in 0..row_len {
            let at = j as isize * step as isize;
            for (r, &start) in starts[r0..r0 + rows].iter().enumerate() {
                // SAFETY: `start + j * step` with `j < row_len` addresses an initialized
                // element (the caller's promise).
                out[r * row_len + j] = unsafe { *base.offset(start as isize + at) };
            }
        }
        r0 += rows;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, s};

    fn space(lens: &[usize]) -> Space {
        Space { lens: lens.to_vec(), starts: vec![0; lens.len()] }
    }

    #[test]
    fn stages_only_inputs_read_across_lines() {
        let sp = space(&[1024, 1024]);
        let tiling = Tiling::new(1024);
        let geoms = |s: &[&[i64]]| s.iter().map(|s| InputGeom { strides: s.to_vec() }).collect::<Vec<_>>();
        // Contiguous, transposed, transposed view of a wider array, broadcast column,
        // every other element, every 64th element along both axes.
        let g = geoms(&[&[1024, 1], &[1, 1024], &[1, 8192], &[1, 0], &[2048, 2], &[64, 64 * 1024]]);
        let st = Staging::new(&g, &[8; 6], &sp, tiling);
        assert_eq!(st.inputs, vec![false, true, true, false, false, false]);
        assert_eq!(st.band_rows, 32);
        // A transposed `i32` input whose elements along the row lie 8 apart: 32 bytes, the
        // same line for two of them; 16 apart: a line each.
        let g = geoms(&[&[1, 8], &[1, 16]]);
        assert_eq!(Staging::new(&g, &[4, 4], &sp, tiling).inputs, vec![false, true]);
        // Nothing staged: bands are tiles.
        let st = Staging::new(&geoms(&[&[1024, 1]]), &[8], &sp, tiling);
        assert_eq!((st.inputs, st.band_rows), (vec![false], 1));
    }

    #[test]
    fn band_rows_follow_the_tiling() {
        let t = [InputGeom { strides: vec![1, 5000] }];
        // Packed rows of 3: whole tiles per band.
        let st = Staging::new(&t, &[8], &space(&[5000, 3]), Tiling::new(3));
        assert_eq!(st.band_rows % Tiling::new(3).rows_per_tile, 0);
        assert!(st.inputs[0] && st.band_rows * 3 <= BAND_ELEMS);
        // Long rows: at least 8 rows a band, up to the cap.
        let st = Staging::new(&t, &[8], &space(&[64, 20_000]), Tiling::new(20_000));
        assert_eq!((st.inputs.clone(), st.band_rows), (vec![true], 8));
        let st = Staging::new(&t, &[8], &space(&[64, 40_000]), Tiling::new(40_000));
        assert_eq!((st.inputs, st.band_rows), (vec![false], 1));
        // One row, or rows along an axis of length 1 only: nothing to share.
        assert!(!Staging::new(&t, &[8], &space(&[1, 1024]), Tiling::new(1024)).inputs[0]);
        let t3 = [InputGeom { strides: vec![1, 0, 5000] }];
        assert!(Staging::new(&t3, &[8], &space(&[40, 1, 1024]), Tiling::new(1024)).inputs[0]);
        assert!(!Staging::new(&t3, &[8], &space(&[1, 1, 1024]), Tiling::new(1024)).inputs[0]);
        // Fewer rows than a band: they still share the lines.
        assert!(Staging::new(&t, &[8], &space(&[3, 1024]), Tiling::new(1024)).inputs[0]);
    }

    #[test]
    fn gathers_bands_row_by_row() {
        let whole = Array2::from_shape_fn((30, 20), |(i, j)| (i * 20 + j) as f64).into_shared();
        // The transpose of an 11x20 view: row r of the band is column r of the view, so
        // element j is view[j, r] = whole[j + 2, r].
        let view = Chunk::from(whole.slice_move(s![2..13, ..]).into_dyn());
        let rows: Vec<i64> = (0..20).collect();
        let mut dst = vec![0.0; 20 * 11];
        gather_band(&view, &rows, 20, 11, &mut dst).unwrap();
        for (r, row) in dst.chunks(11).enumerate() {
            let want: Vec<f64> = (0..11).map(|j| ((j + 2) * 20 + r) as f64).collect();
            assert_eq!(row, want.as_slice(), "row {r}");
        }
        // Rows in any order, a short band, a backwards step.
        let mut dst = vec![0.0; 3 * 4];
        gather_band(&view, &[10 * 20 + 19, 10 * 20, 10 * 20 + 5], -20, 4, &mut dst).unwrap();
        assert_eq!(dst, vec![259.0, 239.0, 219.0, 199.0, 240.0, 220.0, 200.0, 180.0, 245.0, 225.0, 205.0, 185.0]);
        // Too small a buffer, the wrong dtype.
        assert!(gather_band(&view, &[0, 1], 20, 11, &mut [0.0; 21][..]).is_err());
        assert!(gather_band::<i64>(&view, &[0], 20, 1, &mut [0; 1]).is_err());
    }
}
