//! Values a row function reads from buffers that host code fills first, a strip of at most
//! [`STRIP`] positions at a time: the `f64` transcendentals of `crate::math` (through
//! `math::batch`, whose loops run on the CPU's widest vectors, 8 or 4 lanes, where Cranelift
//! has 2) and random numbers (through the interpreter's generator, vectorized likewise).
//!
//! [`plan`] rewrites a kernel so each such varying value is a load of an extra contiguous
//! `f64` input (input `inputs.len() + j` for fill `j`); an argument that is not already an
//! input read in place or an earlier fill is computed by a prefix function (the rewritten
//! kernel mapping that argument). The rewritten kernel keeps every instruction at its
//! position, so the original kernel's source slots (`Walk::pos`, `Compiled::aux`) stay
//! valid. At run time [`FillBuffers::fill`] fills the buffers in order before each call.
//! The values are the same bits as the inline code's (`math::batch` equals the scalar
//! functions the JIT's polynomials equal; the generator is the interpreter's), so whether
//! a kernel is planned this way changes its speed and compile time only.
//!
//! Fills are used where the CPU has vectors wider than 128 bits (AVX2 or AVX-512); on
//! others, the inline two-lane code is as wide as the host loops and saves the buffers.

use kiln_ir::{DType, Inst, Kernel, KernelInput, UnaryOp, ValueId};

use crate::error::{Error, Result};
use crate::jit::analysis::{Analysis, Stride, random_affine, row_axis};
use crate::jit::compile::RowFn;
use crate::kernel::sources::RandomGen;
use crate::random::RandomStream;

/// The most positions filled (and computed) per row function call.
pub(crate) const STRIP: usize = 256;

/// How one buffer is filled.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Fill {
    /// A random source: the values at flat indices `pos[slot] + i * source.step`.
    Random { source: RandomGen, slot: usize },
    /// `op` (one `crate::math::covers`) of an `f64` argument.
    Math { op: UnaryOp, arg: Arg },
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
            Inst::Unary(op, x) if crate::math::covers(*op) && a.dtypes[x.idx()] == DType::F64 => {
                let arg = match (&kernel.body[x.idx()], fill_of[x.idx()]) {
                    (_, Some(j)) => Arg::Fill(j),
                    (Inst::Load(n), None) if strides.get(*n as usize) == Some(&Stride::One) => Arg::Input(*n as usize),
                    _ => {
                        prefixes.push(*x);
                        Arg::Prefix(prefixes.len() - 1)
                    }
                };
                Fill::Math { op: *op, arg }
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
    inputs.extend((0..fills.len()).map(|_| KernelInput { dtype: DType::F64, axes: all_axes.clone() }));
    let mut strides = strides.to_vec();
    strides.resize(inputs.len(), Stride::One);
    Some(Plan { kernel: Kernel { inputs, body, ..kernel.clone() }, strides, fills, prefixes })
}

/// The buffers of a block's fills and the pointer array the row functions read: the real
/// inputs' pointers of the current strip, then each fill's buffer.
pub(crate) struct FillBuffers {
    ptrs: Vec<*const u8>,
    bufs: Vec<Vec<f64>>,
    scratch: Vec<f64>,
}

impl FillBuffers {
    /// Buffers for `fills` after `n_inputs` real inputs.
    pub(crate) fn new(n_inputs: usize, fills: &[Fill]) -> FillBuffers {
        let bufs: Vec<Vec<f64>> = fills.iter().map(|_| vec![0.0; STRIP]).collect();
        let mut ptrs = vec![std::ptr::null(); n_inputs];
        ptrs.extend(bufs.iter().map(|b| b.as_ptr().cast::<u8>()));
        FillBuffers { ptrs, bufs, scratch: vec![0.0; STRIP] }
    }

    /// Fills the first `m <= STRIP` positions of every buffer, for a strip whose real
    /// inputs start at `real` (read with row steps `steps`) and whose source positions
    /// are `pos`; returns the pointer array for the row function.
    ///
    /// # Safety
    ///
    /// `real` must hold the real inputs' pointers, each input's positions `0 .. m` along the
    /// row (at its step) lying inside its block, and `aux` must be the kernel's host
    /// parameters (prefix functions are row functions of the kernel).
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn fill(
        &mut self,
        fills: &[Fill],
        prefixes: &[RowFn],
        real: *const *const u8,
        steps: *const i64,
        m: usize,
        pos: &[i64],
        aux: *const *const u8,
    ) -> Result<*const *const u8> {
        if m > STRIP {
            return Err(Error::Internal(format!("jit: a strip of {m} positions to fill")));
        }
        let n_inputs = self.ptrs.len() - self.bufs.len();
        // SAFETY: the caller passes `n_inputs` real pointers.
        let real = unsafe { std::slice::from_raw_parts(real, n_inputs) };
        self.ptrs[..n_inputs].copy_from_slice(real);
        for (j, fill) in fills.iter().enumerate() {
            let (done, rest) = self.bufs.split_at_mut(j);
            let dst = &mut rest[0][..m];
            match *fill {
                Fill::Random { source, slot } => {
                    let g0 = *pos.get(slot).ok_or_else(|| Error::Internal("jit: a fill without its slot".into()))?;
                    source.fill(g0, dst);
                }
                Fill::Math { op, arg } => {
                    let src: &[f64] = match arg {
                        // SAFETY: input `k` has unit stride and `f64` elements (the plan
                        // checked both), and its positions `0 .. m` lie inside its block.
                        Arg::Input(k) => unsafe { std::slice::from_raw_parts(real[k].cast::<f64>(), m) },
                        Arg::Fill(i) => &done[i][..m],
                        Arg::Prefix(p) => {
                            let f = prefixes[p];
                            let out = self.scratch.as_mut_ptr().cast::<u8>();
                            // SAFETY: `scratch` has room for `m` `f64`s; the pointer array
                            // holds the real inputs and the buffers filled so far, which are
                            // all the prefix reads (its value precedes this fill's).
                            let status = unsafe { f(self.ptrs.as_ptr(), steps, out, m as i64, pos.as_ptr(), aux) };
                            if status != 0 {
                                return Err(Error::Compute(
                                    "pow: integers to negative integer powers are not allowed".into(),
                                ));
                            }
                            &self.scratch[..m]
                        }
                    };
                    if !crate::math::batch(op, src, dst) {
                        return Err(Error::Internal(format!("jit: no batched {op:?}")));
                    }
                }
            }
        }
        Ok(self.ptrs.as_ptr())
    }
}
