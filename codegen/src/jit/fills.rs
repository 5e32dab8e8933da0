//! Values a row function reads from buffers that host code fills first, a window of at most
//! [`WINDOW`] positions of a row at a time: the transcendental functions and float `pow`
//! (but NumPy's fast constant exponents), through `math::batch`/`batch_f32` (`batch_pow`)
//! where `crate::math` covers them (loops on the CPU's widest
//! vectors, 8 or 4 `f64` lanes, where Cranelift has 2), a loop of the host function (the
//! one inline code calls) otherwise, random numbers (through the interpreter's generator,
//! vectorized likewise) and `linspace` values (a call per element inline). The rest of the kernel then vectorizes in Cranelift,
//! even where a function's inline form is a call per element (all `f32` functions).
//!
//! [`plan`] rewrites a kernel so each such varying value is a load of an extra contiguous
//! input of its dtype (input `inputs.len() + j` for fill `j`); an argument that is not
//! already an input read in place or an earlier fill is computed by a prefix function (the
//! rewritten kernel mapping that argument). The rewritten kernel keeps every instruction at
//! its position, so the original kernel's source slots (`Walk::pos`, `Compiled::aux`) stay
//! valid. At run time [`FillBuffers::fill`] fills the buffers in order before the calls on
//! the window. The values are the same bits as the inline code's (`math::batch` equals the
//! scalar functions the JIT's polynomials and host calls compute; the generator is the
//! interpreter's), so whether a kernel is planned this way changes its speed and compile
//! time only.
//!
//! Fills are used where the CPU has vectors wider than 128 bits (AVX2 or AVX-512); on
//! others, the inline two-lane code is as wide as the host loops and saves the buffers.

use std::ops::Range;

use kiln_ir::{BinaryOp, DType, Inst, Kernel, KernelInput, UnaryOp, ValueId};

use crate::error::{Error, Result};
use crate::jit::analysis::{Analysis, Stride, random_affine, row_axis};
use crate::jit::compile::{RowFn, status};
use crate::jit::host;
use crate::jit::vector::fast_pow;
use crate::kernel::sources::{Linspace, RandomGen};
use crate::random::RandomStream;

/// The most positions of a row the buffers hold (and a row function call computes).
pub(crate) const WINDOW: usize = 1024;

/// How one buffer is filled.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Fill {
    /// A random source: the values at flat indices `pos[slot] + i * source.step`.
    Random { source: RandomGen, slot: usize },
    /// A `linspace` along the row: the values at positions `pos[slot] + i`.
    Linspace { source: Linspace, slot: usize },
    /// Float unary `op` with a host function (`host::unary_f64`, `host::unary_f32`) of an
    /// argument of dtype `dtype` (`f64` or `f32`).
    Math { op: UnaryOp, dtype: DType, arg: Arg },
    /// `pow` of two arguments of dtype `dtype` (`f64` or `f32`; `math::batch_pow`), its
    /// exponent not one of NumPy's fast constants.
    Pow { dtype: DType, args: [Arg; 2] },
}

/// Where a [`Fill::Math`] argument comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    /// Input `k`, read in place (or from its stage buffer) with unit stride.
    Input(usize),
    /// The buffer of an earlier fill.
    Fill(usize),
    /// Computed by prefix function `p` into a scratch buffer.
    Prefix(usize),
}

/// A kernel rewritten to read its fills.
pub(crate) struct Plan {
    /// The kernel, each filled value a load of its buffer (an extra input).
    pub(crate) kernel: Kernel,
    /// The row stride class of every input of `kernel` (the extras: [`Stride::One`]).
    pub(crate) strides: Vec<Stride>,
    /// The fills, in the order they run.
    pub(crate) fills: Vec<Fill>,
    /// The values the prefix functions compute (`kernel` mapping each).
    pub(crate) prefixes: Vec<ValueId>,
}

impl Plan {
    /// `kernel` mapping `value` instead of its own output: a prefix function.
    pub(crate) fn prefix_kernel(&self, value: ValueId) -> Kernel {
        Kernel { output: kiln_ir::KernelOutput::Map(value), ..self.kernel.clone() }
    }

    /// The analysis of `kernel` (the rewritten kernel or a prefix kernel) with the source
    /// slots of `original`, the original kernel's analysis.
    pub(crate) fn analyse(&self, kernel: &Kernel, original: &Analysis) -> Result<Analysis> {
        let dtypes = kernel.dtypes().map_err(|e| Error::Internal(format!("jit: {e}")))?;
        Ok(Analysis::new(kernel, dtypes, &self.strides).with_slots_of(kernel, original))
    }
}

impl Fill {
    /// The dtype of the values filled.
    pub(crate) fn dtype(&self) -> DType {
        match self {
            Fill::Random { .. } | Fill::Linspace { .. } => DType::F64,
            Fill::Math { dtype, .. } | Fill::Pow { dtype, .. } => *dtype,
        }
    }
}

/// Whether float unary `op` of dtype `d` calls a host function per element in inline code,
/// so a fill computes it.
fn host_function(op: UnaryOp, d: DType) -> bool {
    match d {
        DType::F64 => host::unary_f64(op).is_some(),
        DType::F32 => host::unary_f32(op).is_some(),
        _ => false,
    }
}

/// Fills `dst` with fill `op` of `src`, both holding `m` elements of `dtype` (`f64` or
/// `f32`): `math::batch` (`batch_f32`) for the functions it covers, a loop of the host
/// function otherwise.
///
/// # Safety
///
/// `src` and `dst` must point to `m` elements of `dtype`, aligned, `dst` not overlapping
/// `src`.
unsafe fn compute(op: UnaryOp, dtype: DType, src: *const u8, dst: *mut u8, m: usize) -> Result<()> {
    // SAFETY: as the caller guarantees.
    let done = unsafe {
        match dtype {
            DType::F64 => each(op, src, dst, m, crate::math::batch, host::unary_f64(op)),
            DType::F32 => each(op, src, dst, m, crate::math::batch_f32, host::unary_f32(op)),
            _ => false,
        }
    };
    if done { Ok(()) } else { Err(Error::Internal(format!("jit: no host {op:?} in {dtype}"))) }
}

/// [`compute`] in `T`: `batch`, or else a loop of `host`; whether either computed it.
///
/// # Safety
///
/// As [`compute`], with `T` the dtype's type.
unsafe fn each<T: Copy>(
    op: UnaryOp,
    src: *const u8,
    dst: *mut u8,
    m: usize,
    batch: fn(UnaryOp, &[T], &mut [T]) -> bool,
    host: Option<fn(T) -> T>,
) -> bool {
    // SAFETY: as the caller guarantees.
    let (src, dst) =
        unsafe { (std::slice::from_raw_parts(src.cast::<T>(), m), std::slice::from_raw_parts_mut(dst.cast::<T>(), m)) };
    if batch(op, src, dst) {
        return true;
    }
    let Some(f) = host else { return false };
    dst.iter_mut().zip(src).for_each(|(d, &x)| *d = f(x));
    true
}

/// Fills `dst` with `pow` of `xs` and `ys`, all holding `m` elements of `dtype` (`f64` or
/// `f32`).
///
/// # Safety
///
/// `xs`, `ys` and `dst` must point to `m` elements of `dtype`, aligned, `dst` overlapping
/// neither.
unsafe fn compute_pow(dtype: DType, xs: *const u8, ys: *const u8, dst: *mut u8, m: usize) -> Result<()> {
    // SAFETY: as the caller guarantees.
    unsafe {
        match dtype {
            DType::F64 => crate::math::batch_pow(
                std::slice::from_raw_parts(xs.cast(), m),
                std::slice::from_raw_parts(ys.cast(), m),
                std::slice::from_raw_parts_mut(dst.cast(), m),
            ),
            DType::F32 => crate::math::batch_pow_f32(
                std::slice::from_raw_parts(xs.cast(), m),
                std::slice::from_raw_parts(ys.cast(), m),
                std::slice::from_raw_parts_mut(dst.cast(), m),
            ),
            _ => return Err(Error::Internal(format!("jit: pow of {dtype} to fill"))),
        }
    }
    Ok(())
}

/// Whether kernels are planned with fills (see the module docs).
pub(crate) fn batching() -> bool {
    #[cfg(test)]
    if let Some(on) = BATCHING.with(|b| b.get()) {
        return on;
    }
    crate::kernel::simd::has_wide_vectors()
}

#[cfg(test)]
thread_local! {
    static BATCHING: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with fills on or off on this thread (the cache keys kernels by it), so the tests
/// cover the inline code on any CPU.
#[cfg(test)]
pub(crate) fn with_batching<R>(on: bool, f: impl FnOnce() -> R) -> R {
    let before = BATCHING.with(|b| b.replace(Some(on)));
    let r = f();
    BATCHING.with(|b| b.set(before));
    r
}

/// The fills of `kernel` (analysed as `a`, inputs read along rows with `strides`), or
/// `None` when it has nothing to fill or fills are off.
pub(crate) fn plan(kernel: &Kernel, a: &Analysis, strides: &[Stride]) -> Option<Plan> {
    if !batching() {
        return None;
    }
    let n_inputs = kernel.inputs.len();
    let mut body = kernel.body.clone();
    let mut fills = Vec::new();
    let mut prefixes = Vec::new();
    // The fill of each instruction that has one.
    let mut fill_of: Vec<Option<usize>> = vec![None; body.len()];
    // Where a fill's argument comes from: an earlier fill, an input read in place, or else
    // a new prefix function.
    let arg_of = |x: ValueId, fill_of: &[Option<usize>], prefixes: &mut Vec<ValueId>| match (
        &kernel.body[x.idx()],
        fill_of[x.idx()],
    ) {
        (_, Some(j)) => Arg::Fill(j),
        (Inst::Load(n), None) if strides.get(*n as usize) == Some(&Stride::One) => Arg::Input(*n as usize),
        _ => {
            prefixes.push(x);
            Arg::Prefix(prefixes.len() - 1)
        }
    };
    for (k, inst) in kernel.body.iter().enumerate() {
        if !a.live[k] || !a.varies[k] {
            continue;
        }
        let fill = match inst {
            Inst::Random { dist, seed, base, start, step, axes } => {
                let row_step = random_affine(base, start, step, axes, kernel.ndim as usize).1[row_axis(kernel)];
                let source = RandomGen { dist: *dist, stream: RandomStream::new(*seed), step: row_step };
                Fill::Random { source, slot: a.pos_slot[k]? }
            }
            Inst::Linspace { start, stop, num, endpoint, .. } => {
                let source = Linspace::new(start.0, stop.0, *num, *endpoint);
                Fill::Linspace { source, slot: a.pos_slot[k]? }
            }
            Inst::Unary(op, x) if host_function(*op, a.dtypes[x.idx()]) => {
                Fill::Math { op: *op, dtype: a.dtypes[x.idx()], arg: arg_of(*x, &fill_of, &mut prefixes) }
            }
            Inst::Binary(BinaryOp::Pow, x, y) if a.dtypes[k].is_float() && !fast_pow(a, k) => {
                let args = [arg_of(*x, &fill_of, &mut prefixes), arg_of(*y, &fill_of, &mut prefixes)];
                Fill::Pow { dtype: a.dtypes[k], args }
            }
            _ => continue,
        };
        fill_of[k] = Some(fills.len());
        body[k] = Inst::Load((n_inputs + fills.len()) as u32);
        fills.push(fill);
    }
    if fills.is_empty() {
        return None;
    }
    let mut inputs = kernel.inputs.clone();
    let all_axes: Vec<u32> = (0..kernel.ndim).collect();
    inputs.extend(fills.iter().map(|f| KernelInput { dtype: f.dtype(), axes: all_axes.clone() }));
    let mut strides = strides.to_vec();
    strides.resize(inputs.len(), Stride::One);
    Some(Plan { kernel: Kernel { inputs, body, ..kernel.clone() }, strides, fills, prefixes })
}

/// The buffers of a block's fills, holding a window of at most [`WINDOW`] positions of one
/// row (so the pairwise leaf's calls on 128 positions share one fill of the whole piece),
/// and the pointer array the row functions read: the real inputs' pointers, then each
/// fill's buffer, at a call's first position.
pub(crate) struct FillBuffers {
    ptrs: Vec<*const u8>,
    /// Each fill's buffer (room for [`WINDOW`] elements of any dtype).
    bufs: Vec<Vec<f64>>,
    /// The element size of each fill's dtype.
    sizes: Vec<usize>,
    /// The prefix functions' outputs: one per argument of a fill.
    scratch: [Vec<f64>; 2],
    /// The row (its index in the walk) and the positions the buffers hold.
    window: Option<(usize, Range<usize>)>,
}

impl FillBuffers {
    /// Buffers for `fills` after `n_inputs` real inputs.
    pub(crate) fn new(n_inputs: usize, fills: &[Fill]) -> FillBuffers {
        FillBuffers {
            ptrs: vec![std::ptr::null(); n_inputs + fills.len()],
            bufs: fills.iter().map(|_| vec![0.0; WINDOW]).collect(),
            sizes: fills.iter().map(|f| f.dtype().size()).collect(),
            scratch: [vec![0.0; WINDOW], vec![0.0; WINDOW]],
            window: None,
        }
    }

    /// Whether the buffers hold positions `at` of row `row`.
    pub(crate) fn holds(&self, row: usize, at: Range<usize>) -> bool {
        self.window.as_ref().is_some_and(|(r, w)| *r == row && w.start <= at.start && at.end <= w.end)
    }

    /// Fills positions `at` (at most [`WINDOW`]) of row `row` into the buffers, the real
    /// inputs at `at.start` being `real` (read with row steps `steps`) and the source
    /// positions there `pos`.
    ///
    /// # Safety
    ///
    /// `real` must hold the real inputs' pointers, each input's positions `0 .. at.len()`
    /// along the row (at its step) lying inside its block, and `aux` must be the kernel's
    /// host parameters (prefix functions are row functions of the kernel).
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn fill(
        &mut self,
        fills: &[Fill],
        prefixes: &[RowFn],
        real: *const *const u8,
        steps: *const i64,
        row: usize,
        at: Range<usize>,
        pos: &[i64],
        aux: *const *const u8,
    ) -> Result<()> {
        let m = at.len();
        if m > WINDOW {
            return Err(Error::Internal(format!("jit: a window of {m} positions to fill")));
        }
        self.window = None;
        // SAFETY: the caller's `real` holds the real inputs' pointers; the buffers' start
        // (the window's first position) follows them.
        unsafe { self.point(real, 0) };
        let at_slot =
            |slot: usize| pos.get(slot).copied().ok_or_else(|| Error::Internal("jit: a fill without its slot".into()));
        for (j, fill) in fills.iter().enumerate() {
            let dst = self.bufs[j].as_mut_ptr().cast::<u8>();
            match *fill {
                Fill::Random { source, slot } => source.fill(at_slot(slot)?, &mut self.bufs[j][..m]),
                Fill::Linspace { source, slot } => {
                    let first = usize::try_from(at_slot(slot)?).unwrap_or(usize::MAX);
                    source.fill(first, true, &mut self.bufs[j][..m]);
                }
                Fill::Math { op, dtype, arg } => {
                    // SAFETY: the caller's promises (see `source`).
                    let src = unsafe { self.source(arg, 0, prefixes, steps, m, pos, aux)? };
                    // SAFETY: the argument is `m` elements of `dtype` (see `source`), not in
                    // this fill's buffer.
                    unsafe { compute(op, dtype, src, dst, m)? };
                }
                Fill::Pow { dtype, args: [x, y] } => {
                    // SAFETY: as above, each argument prefixed into its own scratch buffer.
                    let (xs, ys) = unsafe {
                        (
                            self.source(x, 0, prefixes, steps, m, pos, aux)?,
                            self.source(y, 1, prefixes, steps, m, pos, aux)?,
                        )
                    };
                    // SAFETY: both arguments are `m` elements of `dtype`, aligned (inputs of
                    // the dtype, buffers and scratch of `f64`s), none this fill's buffer.
                    unsafe { compute_pow(dtype, xs, ys, dst, m)? };
                }
            }
        }
        self.window = Some((row, at));
        Ok(())
    }

    /// The first of the `m` elements of fill argument `arg`: input `k` read in place with
    /// unit stride (the plan checked stride and dtype), an earlier buffer, or the output of
    /// a prefix function, computed into scratch buffer `scratch`.
    ///
    /// # Safety
    ///
    /// As [`FillBuffers::fill`], with the pointer array holding the real inputs and the
    /// buffers filled so far (all a prefix reads: its value precedes the fill's).
    #[allow(clippy::too_many_arguments)]
    unsafe fn source(
        &mut self,
        arg: Arg,
        scratch: usize,
        prefixes: &[RowFn],
        steps: *const i64,
        m: usize,
        pos: &[i64],
        aux: *const *const u8,
    ) -> Result<*const u8> {
        let n_inputs = self.ptrs.len() - self.bufs.len();
        Ok(match arg {
            Arg::Input(k) => self.ptrs[k],
            Arg::Fill(i) => self.ptrs[n_inputs + i],
            Arg::Prefix(p) => {
                let out = self.scratch[scratch].as_mut_ptr().cast::<u8>();
                // SAFETY: the scratch buffer has room for `m <= WINDOW` elements; the
                // caller's promise covers what the prefix reads.
                status(unsafe { prefixes[p](self.ptrs.as_ptr(), steps, out, m as i64, pos.as_ptr(), aux) })?;
                out.cast_const()
            }
        })
    }

    /// The pointer array of a call from position `at` of the window's row, whose real
    /// inputs there are `real`.
    ///
    /// # Safety
    ///
    /// `real` must hold the real inputs' pointers, and the buffers must hold position `at`.
    pub(crate) unsafe fn pointers(&mut self, real: *const *const u8, at: usize) -> *const *const u8 {
        let skip = self.window.as_ref().map_or(0, |(_, w)| at - w.start);
        // SAFETY: as the caller guarantees.
        unsafe { self.point(real, skip) };
        self.ptrs.as_ptr()
    }

    /// Sets the pointer array to `real`, then each buffer from its element `skip`.
    ///
    /// # Safety
    ///
    /// `real` must hold the real inputs' pointers.
    unsafe fn point(&mut self, real: *const *const u8, skip: usize) {
        let n_inputs = self.ptrs.len() - self.bufs.len();
        // SAFETY: as the caller guarantees.
        let real = unsafe { std::slice::from_raw_parts(real, n_inputs) };
        let (inputs, buffers) = self.ptrs.split_at_mut(n_inputs);
        inputs.copy_from_slice(real);
        for ((p, b), size) in buffers.iter_mut().zip(&self.bufs).zip(&self.sizes) {
            *p = b.as_ptr().cast::<u8>().wrapping_add(skip * size);
        }
    }
}
