//! Running a compiled kernel over one block: checks the input blocks against the kernel
//! (as the interpreter does), works out each input's element strides over the iteration
//! space, walks the rows of the block in C order (for a map, after dropping length-1 axes
//! and merging axes that every input and source steps through contiguously, so a
//! contiguous block is one long row) and calls the row function once per row with the
//! row's input pointers and source positions.

use std::ops::Range;

use kiln_ir::{Chunk, Inst, Kernel, with_chunk};

use crate::error::{Error, Result};
use crate::jit::analysis::{Stride, random_affine};
use crate::jit::cache::Compiled;
use crate::jit::compile::RowFn;

/// An input block as the row walker reads it.
pub(crate) struct InputView {
    /// Address of the block's element at the block's first position.
    pub(crate) base: *const u8,
    /// Element size in bytes.
    pub(crate) size: usize,
    /// Element stride along each walked axis (0 where the input broadcasts).
    pub(crate) strides: Vec<i64>,
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
            views.push(InputView { base, size: spec.dtype.size(), strides });
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
        Ok(Walk { lens, starts, inputs: views, pos })
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
        let mut a = lens.len() - 1;
        while a > 0 {
            let inner = lens[a] as i64;
            let mergeable = |s: &Vec<i64>| s[a - 1] == s[a].wrapping_mul(inner);
            if inputs.iter().all(mergeable) && pos.iter().all(mergeable) {
                lens[a] *= lens[a - 1];
                lens.remove(a - 1);
                starts.remove(a - 1);
                for s in inputs.iter_mut().chain(pos.iter_mut()) {
                    s.remove(a - 1);
                }
            }
            a -= 1;
        }
        // Starts only matter for arange/linspace, which this function leaves unmerged.
        self.lens = lens;
        self.starts = starts;
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
            .map(|v| if self.lens[last] <= 1 { Stride::Zero } else { Stride::of(v.strides[last]) })
            .collect()
    }

    /// Fails when an input is read across its memory layout (a step along the row longer
    /// than a cache line, as a transposed block): the interpreter stages such inputs a
    /// band of rows at a time, which this walker does not, so the call is left to it.
    pub(crate) fn check_row_access(&self) -> Result<()> {
        let last = self.lens.len() - 1;
        let across = self.lens[last] > 1
            && self.inputs.iter().any(|v| v.strides[last].unsigned_abs().saturating_mul(v.size as u64) > 64);
        if across {
            return Err(Error::Unsupported("jit: an input is read across its layout".into()));
        }
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
    /// Row steps of the inputs (elements).
    pub(crate) steps: Vec<i64>,
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
            steps: walk.inputs.iter().map(|v| v.strides[last]).collect(),
        }
    }

    /// Local position of the current row along row axis `k`.
    pub(crate) fn at(&self, k: usize) -> usize {
        self.idx[k]
    }

    /// The input pointers of the current row, shifted by `skip` positions along it.
    pub(crate) fn ptrs(&mut self, walk: &Walk, skip: usize) -> *const *const u8 {
        for ((p, v), (&off, &step)) in self.ptrs.iter_mut().zip(&walk.inputs).zip(self.offsets.iter().zip(&self.steps))
        {
            let elems = off.wrapping_add(step.wrapping_mul(skip as i64));
            *p = v.base.wrapping_offset(elems as isize * v.size as isize);
        }
        self.ptrs.as_ptr()
    }

    /// Steps to the next row.
    pub(crate) fn advance(&mut self, walk: &Walk) {
        for k in (0..self.idx.len()).rev() {
            self.idx[k] += 1;
            for (o, v) in self.offsets.iter_mut().zip(&walk.inputs) {
                *o = o.wrapping_add(v.strides[k]);
            }
            for (p, w) in self.pos.iter_mut().zip(&walk.pos) {
                *p = p.wrapping_add(w.1[k]);
            }
            if self.idx[k] < walk.lens[k] {
                return;
            }
            let len = walk.lens[k] as i64;
            self.idx[k] = 0;
            for (o, v) in self.offsets.iter_mut().zip(&walk.inputs) {
                *o = o.wrapping_sub(v.strides[k].wrapping_mul(len));
            }
            for (p, w) in self.pos.iter_mut().zip(&walk.pos) {
                *p = p.wrapping_sub(w.1[k].wrapping_mul(len));
            }
        }
    }
}

/// Calls `f`, one of `c`'s functions, on `n` positions of the current row from position `skip`,
/// writing to `out`.
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
    let ptrs = cursor.ptrs(walk, skip);
    let last = walk.lens.len() - 1;
    for ((r, &p), w) in cursor.row_pos.iter_mut().zip(&cursor.pos).zip(&walk.pos) {
        *r = p.wrapping_add(w.1[last].wrapping_mul(skip as i64));
    }
    let pos = &cursor.row_pos;
    let aux = c.aux.as_ptr() as *const *const u8;
    // SAFETY: the caller guarantees the addresses; the row function reads `ptrs`,
    // `steps`, `pos` and `aux` only at the slots the analysis gave them, which these
    // vectors have.
    let status = unsafe { f(ptrs, cursor.steps.as_ptr(), out, n as i64, pos.as_ptr(), aux) };
    if status != 0 {
        return Err(Error::Compute("pow: integers to negative integer powers are not allowed".into()));
    }
    Ok(())
}
