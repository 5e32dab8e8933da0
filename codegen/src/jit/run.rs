//! Running a compiled kernel over one block: checks the input blocks against the kernel
//! (as the interpreter does), works out each input's element strides over the iteration
//! space, walks the rows of the block in C order (for a map, after dropping length-1 axes
//! and merging axes that every input and source steps through contiguously, so a
//! contiguous block is one long row) and calls the row function once per row with the
//! row's input pointers and source positions. Inputs read across their memory layout (a
//! transposed block) are staged as the interpreter stages them: a band of rows at a time is
//! copied row-major (`kernel::stage`), and the row function reads the copy as a contiguous
//! input, so its code and every result bit are those of a contiguous input.

use std::ops::Range;

use kiln_ir::{Chunk, DType, Inst, Kernel, with_chunk};

use crate::error::{Error, Result};
use crate::jit::analysis::{Stride, random_affine};
use crate::jit::cache::Compiled;
use crate::jit::compile::{RowFn, status};
use crate::jit::fills::{FillBuffers, WINDOW};
use crate::kernel::stage::{across_lines, band_rows, gather_rows};
use crate::prefetch::{LINE, line_l2};
use crate::reference::num::with_dtype;

/// An input block as the row walker reads it.
pub(crate) struct InputView {
    /// Address of the block's element at the block's first position.
    pub(crate) base: *const u8,
    /// Element dtype.
    pub(crate) dtype: DType,
    /// Element size in bytes.
    pub(crate) size: usize,
    /// Element stride along each walked axis (0 where the input broadcasts).
    pub(crate) strides: Vec<i64>,
    /// Whether the row function reads a row-major copy of a band of rows (see
    /// [`Walk::plan_row_access`]).
    pub(crate) staged: bool,
}

/// The walked iteration space of a call: lengths and global starts per axis, the input
/// strides and the affine trackers of sources (random flat indices; arange/linspace
/// positions, which need the axes unmerged).
pub(crate) struct Walk {
    /// Length of each walked axis (at least one axis).
    pub(crate) lens: Vec<usize>,
    /// Global start of each walked axis.
    pub(crate) starts: Vec<usize>,
    /// The inputs.
    pub(crate) inputs: Vec<InputView>,
    /// Per position slot: its value at the block's first position and its step per walked
    /// axis (the row axis' step is applied inside the row function, so it is not used here
    /// except for arange/linspace, whose row step is 1).
    pub(crate) pos: Vec<(i64, Vec<i64>)>,
    /// Rows per band of the staged inputs.
    pub(crate) band_rows: usize,
    /// The output's element stride along each walked axis (a map's: C order over the block,
    /// or the strides of the larger array it is written into).
    pub(crate) out: Vec<i64>,
}

fn internal(m: String) -> Error {
    Error::Internal(format!("jit: {m}"))
}

impl Walk {
    /// The walk of `kernel` (verified) over the block at `region` with input blocks
    /// `inputs`, checked as the interpreter checks them.
    pub(crate) fn new(kernel: &Kernel, inputs: &[&Chunk], region: &[Range<usize>]) -> Result<Walk> {
        if inputs.len() != kernel.inputs.len() {
            return Err(internal(format!("{} input blocks for {} inputs", inputs.len(), kernel.inputs.len())));
        }
        if region.len() != kernel.ndim as usize || region.iter().any(|r| r.start > r.end) {
            return Err(internal(format!("block region {region:?} for a {}-d kernel", kernel.ndim)));
        }
        let (lens, starts): (Vec<usize>, Vec<usize>) =
            if region.is_empty() { (vec![1], vec![0]) } else { region.iter().map(|r| (r.len(), r.start)).unzip() };
        let mut views = Vec::with_capacity(inputs.len());
        for (n, (spec, chunk)) in kernel.inputs.iter().zip(inputs).enumerate() {
            if chunk.dtype() != spec.dtype {
                return Err(internal(format!(
                    "input {n} is a {} block, the kernel reads {}",
                    chunk.dtype(),
                    spec.dtype
                )));
            }
            let shape = chunk.shape();
            let fits = shape.len() == spec.axes.len()
                && spec
                    .axes
                    .iter()
                    .zip(shape)
                    .all(|(&a, &len)| lens.get(a as usize).is_some_and(|&l| len == l || len == 1));
            if !fits {
                return Err(internal(format!(
                    "input {n} has a block of shape {shape:?}, which does not fit axes {:?} of the block {lens:?}",
                    spec.axes
                )));
            }
            let (base, chunk_strides): (*const u8, Vec<isize>) =
                with_chunk!(chunk, a => (a.as_ptr() as *const u8, a.strides().to_vec()));
            let mut strides = vec![0i64; lens.len()];
            for ((&a, &len), &st) in spec.axes.iter().zip(shape).zip(&chunk_strides) {
                if len > 1 {
                    strides[a as usize] = st as i64;
                }
            }
            views.push(InputView { base, dtype: spec.dtype, size: spec.dtype.size(), strides, staged: false });
        }
        let mut pos = Vec::new();
        for inst in &kernel.body {
            match inst {
                Inst::Random { base, start, step, axes, .. } => {
                    let (offset, strides) = random_affine(base, start, step, axes, kernel.ndim as usize);
                    let init = starts
                        .iter()
                        .zip(&strides)
                        .fold(offset, |acc, (&s, &d)| acc.wrapping_add((s as i64).wrapping_mul(d)));
                    pos.push((init, strides));
                }
                Inst::Arange { axis, .. } | Inst::Linspace { axis, .. } => {
                    let a = *axis as usize;
                    let mut strides = vec![0i64; lens.len()];
                    strides[a] = 1;
                    pos.push((starts[a] as i64, strides));
                }
                _ => {}
            }
        }
        let mut out = vec![1i64; lens.len()];
        for a in (0..lens.len().saturating_sub(1)).rev() {
            out[a] = out[a + 1] * lens[a + 1] as i64;
        }
        Ok(Walk { lens, starts, inputs: views, pos, band_rows: 1, out })
    }

    /// Whether the block has no elements.
    pub(crate) fn is_empty(&self) -> bool {
        self.lens.contains(&0)
    }

    /// Drops length-1 axes and merges neighbouring axes that every input and tracker steps
    /// through contiguously (for a map, whose output is C-order). Not done when the kernel
    /// has arange/linspace sources (their row-axis position must stay the kernel's axis).
    pub(crate) fn simplify(&mut self, kernel: &Kernel) {
        if kernel.body.iter().any(|i| matches!(i, Inst::Arange { .. } | Inst::Linspace { .. })) {
            return;
        }
        // Random sources step along the kernel's last axis by a compiled-in amount: that
        // axis stays the innermost one.
        let has_random = kernel.body.iter().any(|i| matches!(i, Inst::Random { .. }));
        let last = self.lens.len() - 1;
        let keep: Vec<usize> =
            (0..self.lens.len()).filter(|&a| self.lens[a] != 1 || (has_random && a == last)).collect();
        let keep = if keep.is_empty() { vec![self.lens.len() - 1] } else { keep };
        let pick = |v: &[i64]| keep.iter().map(|&a| v[a]).collect::<Vec<_>>();
        let mut lens: Vec<usize> = keep.iter().map(|&a| self.lens[a]).collect();
        let mut starts: Vec<usize> = keep.iter().map(|&a| self.starts[a]).collect();
        let mut inputs: Vec<Vec<i64>> = self.inputs.iter().map(|v| pick(&v.strides)).collect();
        let mut pos: Vec<Vec<i64>> = self.pos.iter().map(|(_, s)| pick(s)).collect();
        let mut out = pick(&self.out);
        let mut a = lens.len() - 1;
        while a > 0 {
            let inner = lens[a] as i64;
            let mergeable = |s: &Vec<i64>| s[a - 1] == s[a].wrapping_mul(inner);
            if inputs.iter().all(mergeable) && pos.iter().all(mergeable) && mergeable(&out) {
                lens[a] *= lens[a - 1];
                lens.remove(a - 1);
                starts.remove(a - 1);
                for s in inputs.iter_mut().chain(pos.iter_mut()).chain(std::iter::once(&mut out)) {
                    s.remove(a - 1);
                }
            }
            a -= 1;
        }
        // Starts only matter for arange/linspace, which this function leaves unmerged.
        self.lens = lens;
        self.starts = starts;
        self.out = out;
        for (v, s) in self.inputs.iter_mut().zip(inputs) {
            v.strides = s;
        }
        for (p, s) in self.pos.iter_mut().zip(pos) {
            p.1 = s;
        }
    }

    /// The row stride class of every input.
    pub(crate) fn stride_classes(&self) -> Vec<Stride> {
        let last = self.lens.len() - 1;
        self.inputs
            .iter()
            .map(|v| {
                if self.lens[last] <= 1 {
                    Stride::Zero
                } else if v.staged {
                    Stride::One
                } else {
                    Stride::of(v.strides[last])
                }
            })
            .collect()
    }

    /// Decides how each input is read along the row. One read across its memory layout (a
    /// step along the row of a cache line or more, as a transposed block) whose consecutive
    /// rows share lines is staged a band of rows at a time. Fails when another input steps
    /// more than a line along the row (each element on a line of its own): the interpreter
    /// runs those.
    pub(crate) fn plan_row_access(&mut self) -> Result<()> {
        let last = self.lens.len() - 1;
        let band = band_rows(1, self.row_len());
        for v in &mut self.inputs {
            v.staged = band.is_some() && across_lines(&v.strides, v.size, &self.lens);
            let far = self.lens[last] > 1 && v.strides[last].unsigned_abs().saturating_mul(v.size as u64) > 64;
            if far && !v.staged {
                return Err(Error::Unsupported("jit: an input is read across its layout".into()));
            }
        }
        self.band_rows = band.unwrap_or(1);
        Ok(())
    }

    /// Elements per row.
    pub(crate) fn row_len(&self) -> usize {
        self.lens[self.lens.len() - 1]
    }

    /// Number of rows.
    pub(crate) fn n_rows(&self) -> usize {
        self.lens[..self.lens.len() - 1].iter().product()
    }
}

/// The per-row arguments of the row function, advanced row by row in C order.
pub(crate) struct RowCursor {
    /// Input element offsets of the current row's first position.
    offsets: Vec<i64>,
    /// Source positions of the current row's first position.
    pub(crate) pos: Vec<i64>,
    /// Source positions at the first position a call computes.
    row_pos: Vec<i64>,
    /// Local position along each row axis.
    idx: Vec<usize>,
    /// Input pointers of the current row (refreshed by `ptrs`).
    ptrs: Vec<*const u8>,
    /// Row steps of the inputs (elements; 1 for staged inputs), then the bytes from each
    /// input's row to the next along the row axis, for inputs read in place with unit step
    /// whose next row does not follow on in memory (0 otherwise: nothing to ask for ahead),
    /// as the row function reads them (`jit::compile`).
    pub(crate) steps: Vec<i64>,
    /// The current row's index in the walk.
    row: usize,
    /// Whether any input is staged.
    staging: bool,
    /// The rows whose staged inputs the stage buffers hold.
    band: Range<usize>,
    /// Per input, its band of rows copied row-major when it is staged (`u64`s, aligned for
    /// every dtype), empty otherwise.
    stages: Vec<Vec<u64>>,
    /// Scratch: element offsets of the band's rows, and the position of a row.
    band_starts: Vec<i64>,
    band_idx: Vec<usize>,
    /// The buffers of the kernel's fills (made on the first call that has fills).
    fills: Option<FillBuffers>,
}

impl RowCursor {
    /// The cursor at the first row of `walk`.
    pub(crate) fn new(walk: &Walk) -> RowCursor {
        let last = walk.lens.len() - 1;
        RowCursor {
            offsets: vec![0; walk.inputs.len()],
            pos: walk.pos.iter().map(|p| p.0).collect(),
            row_pos: vec![0; walk.pos.len()],
            idx: vec![0; last],
            ptrs: vec![std::ptr::null(); walk.inputs.len()],
            steps: walk
                .inputs
                .iter()
                .map(|v| if v.staged { 1 } else { v.strides[last] })
                .chain(walk.inputs.iter().map(|v| match last.checked_sub(1) {
                    Some(row_axis)
                        if !v.staged && v.strides[last] == 1 && v.strides[row_axis] != walk.lens[last] as i64 =>
                    {
                        v.strides[row_axis].wrapping_mul(v.size as i64)
                    }
                    _ => 0,
                }))
                .collect(),
            row: 0,
            staging: walk.inputs.iter().any(|v| v.staged),
            band: 0..0,
            stages: walk
                .inputs
                .iter()
                .map(|v| {
                    let elems = if v.staged { walk.band_rows.min(walk.n_rows()) * walk.row_len() } else { 0 };
                    vec![0u64; (elems * v.size).div_ceil(8)]
                })
                .collect(),
            band_starts: Vec::with_capacity(walk.band_rows),
            band_idx: Vec::with_capacity(last),
            fills: None,
        }
    }

    /// Local position of the current row along row axis `k`.
    pub(crate) fn at(&self, k: usize) -> usize {
        self.idx[k]
    }

    /// The input pointers of the current row, shifted by `skip` positions along it.
    pub(crate) fn ptrs(&mut self, walk: &Walk, skip: usize) -> *const *const u8 {
        if self.staging && !self.band.contains(&self.row) {
            self.stage_band(walk);
        }
        let in_band = self.row.saturating_sub(self.band.start) * walk.row_len() + skip;
        for (k, (p, v)) in self.ptrs.iter_mut().zip(&walk.inputs).enumerate() {
            *p = if v.staged {
                self.stages[k].as_ptr().cast::<u8>().wrapping_add(in_band * v.size)
            } else {
                let elems = self.offsets[k].wrapping_add(self.steps[k].wrapping_mul(skip as i64));
                v.base.wrapping_offset(elems as isize * v.size as isize)
            };
        }
        self.ptrs.as_ptr()
    }

    /// Asks for positions `skip .. skip + n` of the next row of every input read in place
    /// along the row into L2, a line at a time (`prefetch::line_l2`): the pairwise sums then
    /// find the next row on its way, as the interpreter's do. A hint: no result changes.
    pub(crate) fn ahead(&self, walk: &Walk, skip: usize, n: usize) {
        let Some(row_axis) = walk.lens.len().checked_sub(2) else {
            return;
        };
        for ((v, &off), &step) in walk.inputs.iter().zip(&self.offsets).zip(&self.steps) {
            if v.staged || step != 1 {
                continue;
            }
            let first = off.wrapping_add(v.strides[row_axis]).wrapping_add(skip as i64);
            let p = v.base.wrapping_offset(first as isize * v.size as isize);
            for at in (0..n * v.size).step_by(LINE) {
                line_l2(p.wrapping_add(at));
            }
        }
    }

    /// The source positions at position `skip` of the current row.
    fn positions(&mut self, walk: &Walk, skip: usize) -> &[i64] {
        let last = walk.lens.len() - 1;
        for ((r, &p), w) in self.row_pos.iter_mut().zip(&self.pos).zip(&walk.pos) {
            *r = p.wrapping_add(w.1[last].wrapping_mul(skip as i64));
        }
        &self.row_pos
    }

    /// Copies the band of rows from the current one into the stage buffers.
    fn stage_band(&mut self, walk: &Walk) {
        let n = walk.band_rows.min(walk.n_rows() - self.row);
        let (row_len, last) = (walk.row_len(), walk.lens.len() - 1);
        self.band = self.row..self.row + n;
        for (k, v) in walk.inputs.iter().enumerate().filter(|(_, v)| v.staged) {
            self.band_starts.clear();
            self.band_idx.clear();
            self.band_idx.extend_from_slice(&self.idx);
            let mut off = self.offsets[k];
            for _ in 0..n {
                self.band_starts.push(off);
                next_row(&mut self.band_idx, &walk.lens, |a, by| off = off.wrapping_add(v.strides[a].wrapping_mul(by)));
            }
            let buf = &mut self.stages[k];
            with_dtype!(v.dtype, T => {
                // SAFETY: the buffer holds `band_rows * row_len >= n * row_len` elements of
                // `T` in `u64`s (aligned for `T`, zeroed: a valid `T`).
                let dst = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<T>(), n * row_len) };
                // SAFETY: rows `row .. row + n` lie inside the walked block, so every element
                // of theirs is an element of the input's block.
                unsafe { gather_rows(v.base.cast::<T>(), &self.band_starts, v.strides[last], row_len, dst) }
            });
        }
    }

    /// Steps to the next row.
    pub(crate) fn advance(&mut self, walk: &Walk) {
        self.row += 1;
        let (offsets, pos) = (&mut self.offsets, &mut self.pos);
        next_row(&mut self.idx, &walk.lens, |k, by| {
            for (o, v) in offsets.iter_mut().zip(&walk.inputs) {
                *o = o.wrapping_add(v.strides[k].wrapping_mul(by));
            }
            for (p, w) in pos.iter_mut().zip(&walk.pos) {
                *p = p.wrapping_add(w.1[k].wrapping_mul(by));
            }
        });
    }
}

/// Steps `idx`, a position along the row axes (of lengths `lens`), to the next row in C
/// order, calling `shift(axis, by)` for each move along `axis` (by 1, or back by its length).
pub(crate) fn next_row(idx: &mut [usize], lens: &[usize], mut shift: impl FnMut(usize, i64)) {
    for k in (0..idx.len()).rev() {
        idx[k] += 1;
        shift(k, 1);
        if idx[k] < lens[k] {
            return;
        }
        idx[k] = 0;
        shift(k, -(lens[k] as i64));
    }
}

/// Calls `f`, one of `c`'s functions, on `n` positions of the current row from position `skip`,
/// writing to `out`. For a kernel with fills (`jit::fills`), the buffers are filled first
/// unless they hold these positions already (a window of up to [`WINDOW`] positions from
/// `skip` to at most the row's end); a call on more than a window is made a window at a
/// time, the map function's output advancing (the pairwise leaf's calls, on at most 128
/// positions, are never cut).
///
/// # Safety
///
/// `out` must have room for `n` elements of the result's dtype, and the row's positions
/// `skip .. skip + n` must lie inside the walked block (so every input address the row
/// function computes is an element of its block).
pub(crate) unsafe fn call_row(
    c: &Compiled,
    f: RowFn,
    walk: &Walk,
    cursor: &mut RowCursor,
    skip: usize,
    n: usize,
    out: *mut u8,
) -> Result<()> {
    let aux = c.aux.as_ptr() as *const *const u8;
    if c.fills.is_empty() || n == 0 {
        let ptrs = cursor.ptrs(walk, skip);
        let steps = cursor.steps.as_ptr();
        let pos = cursor.positions(walk, skip);
        // SAFETY: the caller guarantees the addresses; the row function reads `ptrs`,
        // `steps`, `pos` and `aux` only at the slots the analysis gave them, which these
        // vectors have.
        return status(unsafe { f(ptrs, steps, out, n as i64, pos.as_ptr(), aux) });
    }
    let mut fills = cursor.fills.take().unwrap_or_else(|| FillBuffers::new(walk.inputs.len(), &c.fills));
    let mut call = |cursor: &mut RowCursor, at: usize, m: usize, out: *mut u8| -> Result<()> {
        let row = cursor.row;
        let real = cursor.ptrs(walk, at);
        let steps = cursor.steps.as_ptr();
        let pos = cursor.positions(walk, at);
        if !fills.holds(row, at..at + m) {
            let window = at..at + WINDOW.min(walk.row_len() - at);
            // SAFETY: the window's positions lie inside the row, so inside the block.
            unsafe { fills.fill(&c.fills, &c.prefixes, real, steps, row, window, pos, aux)? };
        }
        // SAFETY: the buffers hold positions `at .. at + m`.
        let ptrs = unsafe { fills.pointers(real, at) };
        // SAFETY: as above, the row function reading `m` elements of each buffer.
        status(unsafe { f(ptrs, steps, out, m as i64, pos.as_ptr(), aux) })
    };
    let mut done = 0;
    let mut r = Ok(());
    while done < n && r.is_ok() {
        let m = WINDOW.min(n - done);
        r = call(cursor, skip + done, m, out.wrapping_add(done * c.out_size));
        done += m;
    }
    cursor.fills = Some(fills);
    r
}
