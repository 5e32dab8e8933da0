//! The float sums of two mirrored blocks in one pass (`TaskKind::ReducePair`). Block A
//! (i, j) of `(x + x.t()).sum()` reads `x`'s block (i, j) along its rows and (j, i) across
//! them (staged a band of rows at a time); its mirror B (j, i) reads the same two blocks the
//! other way round, so B's element (c, r) is the kernel of A's inputs at (r, c) with their
//! roles swapped. One pass over A's rows computes both: each row of A is summed as usual,
//! and the kernel's map function, handed A's row pointers in B's order, gives the row of
//! B's values at column r of B. B's pairwise leaves (runs of at most 128 positions along
//! its rows, that is of A's rows) then accumulate down A's rows in the leaf's eight
//! interleaved sums, a whole row of B's rows at a time; at the end each of B's rows is
//! summed from its leaves with the pairwise tree's own additions. Each shared block is
//! read from memory once, and is transposed once instead of twice, and both results equal
//! the one-block-at-a-time sums bit for bit.

use std::ops::Range;
use std::sync::Arc;

use kiln_ir::{Chunk, Inst, Kernel, with_chunk};

use crate::error::Result;
use crate::jit::analysis::Stride;
use crate::jit::cache::Compiled;
use crate::jit::compile::{RowFn, status};
use crate::jit::fills::{FillBuffers, WINDOW};
use crate::jit::reduce::{pairwise, piece_len};
use crate::jit::run::{RowCursor, Walk};

/// The leaves of NumPy's pairwise sum of positions `s .. s + n`, in order, as
/// `reduce::pairwise` visits them.
fn leaves(s: usize, n: usize, out: &mut Vec<Range<usize>>) {
    if n <= 128 {
        out.push(s..s + n);
        return;
    }
    let half = n / 2 - n / 2 % 8;
    leaves(s, half, out);
    leaves(s + half, n - half, out);
}

/// The pairwise sum of `n` positions from its leaves' sums (the next ones of `sums`), with
/// `reduce::pairwise`'s additions in its order.
fn from_leaves(sums: &mut impl Iterator<Item = f64>, n: usize) -> f64 {
    if n <= 128 {
        return sums.next().unwrap_or(0.0);
    }
    let half = n / 2 - n / 2 % 8;
    let first = from_leaves(sums, half);
    first + from_leaves(sums, n - half)
}

/// For each input of B (`inputs[1]`), the input of A (`inputs[0]`) that is the same block
/// read with the two axes swapped, when every input has one, A's walk `a` reads every
/// input with unit stride along its rows (staged ones included; any stride when rows are
/// one position long), and the kernel has no sources whose values depend on the position
/// (random, arange, linspace): then B's value at (c, r) is the kernel of those inputs of A
/// at (r, c).
pub(super) fn mirror_inputs(kernel: &Kernel, inputs: [&[&Chunk]; 2], a: &Walk) -> Option<Vec<usize>> {
    let positional =
        kernel.body.iter().any(|i| matches!(i, Inst::Random { .. } | Inst::Arange { .. } | Inst::Linspace { .. }));
    if positional || (a.row_len() > 1 && a.stride_classes().iter().any(|&s| s != Stride::One)) {
        return None;
    }
    let identity = |c: &Chunk| with_chunk!(c, x => (x.as_ptr() as usize, x.shape().to_vec(), x.strides().to_vec()));
    let a: Vec<_> = inputs[0].iter().map(|c| identity(c)).collect();
    (inputs[1].iter().zip(&kernel.inputs))
        .map(|(chunk, spec)| {
            let swapped: Vec<u32> = spec.axes.iter().rev().copied().collect();
            let me = identity(chunk);
            (spec.axes.len() == 2)
                .then(|| (0..a.len()).find(|&k| a[k] == me && kernel.inputs[k].axes == swapped))
                .flatten()
        })
        .collect()
}

/// How B reads A's rows: the kernel compiled as a map of the summed value over unit-stride
/// inputs (with fills or without), for each of its inputs the input of A whose row it
/// reads, and whether the value is an `f32` (summed in `f64`, as the leaf promotes it).
pub(super) struct Mirror {
    pub(super) map: Arc<Compiled>,
    pub(super) from: Vec<usize>,
    pub(super) f32: bool,
    /// The element size of each input (the kernel's inputs' dtypes).
    pub(super) sizes: Vec<usize>,
}

/// The pairwise leaf sums of one leaf window of B's rows, accumulated a row of A at a time
/// (the window's rows of A are B's positions): as the leaf sums `n` values, the first 8 in
/// eight sums, each later run of 8 added to them, the sums added in a tree, and the last
/// `n % 8` added one by one (fewer than 8: added one by one from zero).
struct LeafRows {
    /// The eight interleaved sums, one row of B's rows each.
    eight: Vec<Vec<f64>>,
    /// Each of B's rows' leaf sum so far.
    total: Vec<f64>,
}

impl LeafRows {
    fn new(rows: usize) -> LeafRows {
        LeafRows { eight: vec![vec![0.0; rows]; 8], total: vec![0.0; rows] }
    }

    /// Adds `values`, the leaf's `k`-th of `n` values for each of B's rows.
    fn add(&mut self, k: usize, n: usize, values: &[f64]) {
        let full = if n < 8 { 0 } else { n - n % 8 };
        if n < 8 && k == 0 {
            self.total.fill(0.0);
        }
        if k < 8 && k < full {
            self.eight[k].copy_from_slice(values);
            return;
        }
        if k < full {
            self.eight[k % 8].iter_mut().zip(values).for_each(|(r, &v)| *r += v);
            return;
        }
        if k == full && full > 0 {
            self.close();
        }
        self.total.iter_mut().zip(values).for_each(|(t, &v)| *t += v);
    }

    /// Ends a leaf of `n` values: its sums, one per row of B's rows.
    fn finish(&mut self, n: usize) -> &[f64] {
        if n >= 8 && n.is_multiple_of(8) {
            self.close();
        }
        &self.total
    }

    /// The eight sums added in the leaf's tree.
    fn close(&mut self) {
        let r = &self.eight;
        for (c, t) in self.total.iter_mut().enumerate() {
            *t = ((r[0][c] + r[1][c]) + (r[2][c] + r[3][c])) + ((r[4][c] + r[5][c]) + (r[6][c] + r[7][c]));
        }
    }
}

/// Runs B's map function on `n` positions from `b_ptrs` (`steps` all 1) into `out`, with its
/// fills (`fills`, when the map has any) filled a window at a time first; the map reads no
/// positions (the kernel has no position sources).
///
/// # Safety
///
/// Each pointer of `b_ptrs` must address `n` consecutive elements of its input's dtype, and
/// `out` must have room for `n` elements of the map's dtype.
unsafe fn b_values(
    mirror: &Mirror,
    map: RowFn,
    fills: &mut Option<FillBuffers>,
    b_ptrs: &[*const u8],
    steps: &[i64],
    out: *mut u8,
    n: usize,
) -> Result<()> {
    let aux = mirror.map.aux.as_ptr() as *const *const u8;
    let Some(fills) = fills else {
        // SAFETY: the caller's promise; the map reads nothing else.
        return status(unsafe { map(b_ptrs.as_ptr(), steps.as_ptr(), out, n as i64, [].as_ptr(), aux) });
    };
    let mut real = b_ptrs.to_vec();
    for at in (0..n).step_by(WINDOW) {
        let m = WINDOW.min(n - at);
        for ((r, &p), &size) in real.iter_mut().zip(b_ptrs).zip(&mirror.sizes) {
            *r = p.wrapping_add(at * size);
        }
        // SAFETY: positions `at .. at + m` of each input lie inside the `n` the caller
        // promises; the prefix functions are row functions of the map kernel.
        unsafe {
            fills.fill(
                &mirror.map.fills,
                &mirror.map.prefixes,
                real.as_ptr(),
                steps.as_ptr(),
                0,
                at..at + m,
                &[],
                aux,
            )?
        };
        // SAFETY: `real` holds the real inputs' pointers.
        let ptrs = unsafe { fills.pointers(real.as_ptr(), at) };
        let to = out.wrapping_add(at * mirror.map.out_size);
        // SAFETY: the inputs and the buffers hold positions `at .. at + m`, and `out` has
        // room for them (the caller's promise).
        status(unsafe { map(ptrs, steps.as_ptr(), to, m as i64, [].as_ptr(), aux) })?;
    }
    Ok(())
}

/// The sums over the whole of A (`a`, 2-d) and of its mirror B, or with `per_row` over each
/// of their rows, as `reduce::sum_by_leaf` folds them: rows in order, each row's pieces
/// pairwise-summed with the compiled leaf and added to the accumulator (the one, or the
/// row's). `mirror` says how B's inputs are A's (see [`Mirror`]); the kernel has no random,
/// arange or linspace sources, so a value depends on the inputs' elements alone.
pub(super) fn sums_in_one_pass(
    c: &Compiled,
    leaf: RowFn,
    a: &Walk,
    mirror: &Mirror,
    per_row: bool,
) -> Result<[Vec<f64>; 2]> {
    let map = mirror.map.f.ok_or_else(|| crate::error::Error::Internal("jit: a mirror without its map".into()))?;
    // B has A's row length as rows and A's row count as row length.
    let (b_rows, b_len) = (a.row_len(), a.n_rows());
    let b_piece = piece_len(b_len);
    let mut windows = Vec::new();
    for s in (0..b_len).step_by(b_piece) {
        leaves(s, b_piece.min(b_len - s), &mut windows);
    }
    let a_piece = piece_len(b_rows);
    let mut cursor = RowCursor::new(a);
    let mut a_sums = vec![0.0f64; if per_row { b_len } else { 1 }];
    let mut values = vec![0.0f64; b_rows];
    let mut narrow = vec![0.0f32; if mirror.f32 { b_rows } else { 0 }];
    let mut sums = LeafRows::new(b_rows);
    let mut b_leaves = vec![0.0f64; b_rows * windows.len()];
    let mut b_ptrs = vec![std::ptr::null::<u8>(); mirror.from.len()];
    let steps = vec![1i64; b_ptrs.len()];
    let mut fills = (!mirror.map.fills.is_empty()).then(|| FillBuffers::new(b_ptrs.len(), &mirror.map.fills));
    for (w, window) in windows.iter().enumerate() {
        let n = window.len();
        for k in 0..n {
            let a_sum = &mut a_sums[if per_row { window.start + k } else { 0 }];
            for s in (0..b_rows).step_by(a_piece) {
                *a_sum += pairwise(c, leaf, a, &mut cursor, s, a_piece.min(b_rows - s))?;
            }
            let a_ptrs = cursor.ptrs(a, 0);
            for (p, &from) in b_ptrs.iter_mut().zip(&mirror.from) {
                // SAFETY: `ptrs` points at one pointer per input of A, and `from` indexes them.
                *p = unsafe { *a_ptrs.add(from) };
            }
            let out: *mut u8 = if mirror.f32 { narrow.as_mut_ptr().cast() } else { values.as_mut_ptr().cast() };
            // SAFETY: each pointer addresses the current row of an input of A read with unit
            // stride (in place or staged), `b_rows` elements of the dtype B's input reads
            // there; `out` has room for `b_rows` values of the map's dtype.
            unsafe { b_values(mirror, map, &mut fills, &b_ptrs, &steps, out, b_rows)? };
            if mirror.f32 {
                values.iter_mut().zip(&narrow).for_each(|(v, &x)| *v = f64::from(x));
            }
            sums.add(k, n, &values);
            cursor.advance(a);
        }
        for (r, &sum) in sums.finish(n).iter().enumerate() {
            b_leaves[r * windows.len() + w] = sum;
        }
    }
    let mut b_sums = vec![0.0f64; if per_row { b_rows } else { 1 }];
    for (r, row) in b_leaves.chunks(windows.len().max(1)).enumerate() {
        let mut sums = row.iter().copied();
        let b_sum = &mut b_sums[if per_row { r } else { 0 }];
        for s in (0..b_len).step_by(b_piece) {
            *b_sum += from_leaves(&mut sums, b_piece.min(b_len - s));
        }
    }
    Ok([a_sums, b_sums])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_cut_as_the_pairwise_sum_does() {
        let cut = |n| {
            let mut v = Vec::new();
            leaves(0, n, &mut v);
            v
        };
        assert_eq!(cut(100), vec![0..100]);
        assert_eq!(cut(1024), (0..8).map(|k| k * 128..(k + 1) * 128).collect::<Vec<_>>());
        assert_eq!(cut(300), vec![0..72, 72..144, 144..216, 216..300]);
        let xs: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin()).collect();
        let v = cut(1000);
        let mut sums = v.iter().map(|w| crate::reference::reduce::fold::pairwise_sum(&xs[w.clone()], &|x| x));
        let whole = crate::reference::reduce::fold::pairwise_sum(&xs, &|x| x);
        assert_eq!(from_leaves(&mut sums, 1000).to_bits(), whole.to_bits());
    }

    #[test]
    fn leaf_rows_sum_as_the_leaf_does() {
        for n in [1usize, 5, 7, 8, 9, 15, 16, 17, 100, 128] {
            let xs: Vec<f64> = (0..n).map(|i| if i == 0 { -0.0 } else { (i as f64 * 0.71).cos() * 1e3 }).collect();
            let mut rows = LeafRows::new(1);
            for (k, &x) in xs.iter().enumerate() {
                rows.add(k, n, &[x]);
            }
            let want = crate::reference::reduce::fold::pairwise_sum(&xs, &|x| x);
            assert_eq!(rows.finish(n)[0].to_bits(), want.to_bits(), "n={n}");
        }
    }
}
