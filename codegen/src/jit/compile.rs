//! Compiles a kernel to a native row function with Cranelift: the function evaluates the
//! kernel's result at `n` consecutive positions of one row of the iteration space and stores
//! them one after another at `out`. Values that do not vary along the row (constants,
//! broadcast inputs, sources on other axes, and everything computed only from them) are
//! computed once before the loop. This file builds the function's entry (ISA, module,
//! input pointers, invariant values) and the scalar evaluation of a row position; the loops
//! around it are in `jit::loops`, the vector evaluation in `jit::vector`.
//!
//! The row function's signature (all pointers and integers 64-bit):
//! `fn(ptrs, strides, out, n, pos, aux) -> i32` where `ptrs[k]` is input `k`'s element at
//! the row's first position, `strides[k]` its step along the row in elements (read only for
//! [`Stride::Other`]) and `strides[inputs + k]` the bytes from its row to the next one (0
//! when it has none; read only by the folds that ask for the next row, [`hints_next_row`]),
//! `pos[s]` the per-row position of source slot `s` (see
//! [`Analysis`]), `aux[s]` the host parameters of random and linspace sources. It returns 0,
//! or 1 when an integer `pow` met a negative exponent.

use std::collections::HashMap;
use std::sync::OnceLock;

use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{AbiParam, Function, InstBuilder, Signature, UserFuncName, Value, types};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};

use kiln_ir::{DType, Distribution, Inst, Kernel};

use crate::random::RandomStream;

use crate::error::{Error, Result};
use crate::jit::analysis::{Analysis, Stride};
use crate::jit::emit::{Emit, clif_type, mem};
use crate::jit::fills::{self, Fill};
use crate::jit::host::{self, HostTy};
use crate::jit::loops::{Body, Vectors, map_loops, sum_leaf};
use crate::jit::vector::{lane_type, splats};

/// The native row function (see the module docs).
pub(crate) type RowFn = unsafe extern "C" fn(
    ptrs: *const *const u8,
    strides: *const i64,
    out: *mut u8,
    n: i64,
    pos: *const i64,
    aux: *const *const u8,
) -> i32;

/// The row function's status as a result: 1 means an integer `pow` met a negative
/// exponent.
pub(crate) fn status(code: i32) -> Result<()> {
    match code {
        0 => Ok(()),
        _ => Err(Error::Compute("pow: integers to negative integer powers are not allowed".into())),
    }
}

/// The host ISA with kiln's settings, built once.
fn isa() -> Result<OwnedTargetIsa> {
    static ISA: OnceLock<std::result::Result<OwnedTargetIsa, String>> = OnceLock::new();
    ISA.get_or_init(|| {
        let mut flags = settings::builder();
        let verify = if cfg!(any(debug_assertions, test)) { "true" } else { "false" };
        for (name, value) in [
            ("opt_level", "speed"),
            ("enable_verifier", verify),
            ("is_pic", "false"),
            ("use_colocated_libcalls", "false"),
        ] {
            flags.set(name, value).map_err(|e| format!("setting {name}: {e}"))?;
        }
        let builder = cranelift_native::builder().map_err(|e| format!("host ISA: {e}"))?;
        builder.finish(settings::Flags::new(flags)).map_err(|e| format!("host ISA: {e}"))
    })
    .clone()
    .map_err(|e| Error::Unsupported(format!("jit: {e}")))
}

fn host_type(t: HostTy) -> types::Type {
    match t {
        HostTy::F32 => types::F32,
        HostTy::F64 => types::F64,
        HostTy::I32 => types::I32,
        HostTy::I64 => types::I64,
    }
}

fn jit_error(e: impl std::fmt::Display) -> Error {
    Error::Unsupported(format!("jit: {e}"))
}

/// A module with every host function registered and declared.
fn module() -> Result<(JITModule, HashMap<&'static str, FuncId>)> {
    let mut builder = JITBuilder::with_isa(isa()?, cranelift_module::default_libcall_names());
    let fns = host::all();
    for f in &fns {
        builder.symbol(f.name, f.addr);
    }
    let mut module = JITModule::new(builder);
    let mut ids = HashMap::new();
    for f in &fns {
        let mut sig = module.make_signature();
        sig.params.extend(f.params.iter().map(|&t| AbiParam::new(host_type(t))));
        sig.returns.push(AbiParam::new(host_type(f.ret)));
        let id = module.declare_function(f.name, Linkage::Import, &sig).map_err(jit_error)?;
        ids.insert(f.name, id);
    }
    #[cfg(target_arch = "x86_64")]
    {
        // Cranelift has no prefetch instruction: a function of one, `prefetcht1 [rdi]; ret`,
        // called with the convention that clobbers no register, so the loops asking for
        // lines keep their accumulators in registers across the call.
        let mut sig = module.make_signature();
        sig.call_conv = cranelift_codegen::isa::CallConv::PreserveAll;
        sig.params.push(AbiParam::new(types::I64));
        let id = module.declare_function(PREFETCH_L2, Linkage::Local, &sig).map_err(jit_error)?;
        module.define_function_bytes(id, 16, &[0x0F, 0x18, 0x17, 0xC3], &[]).map_err(jit_error)?;
        ids.insert(PREFETCH_L2, id);
    }
    Ok((module, ids))
}

/// The JIT's own function asking for the line at its argument into L2 (x86-64 only).
pub(super) const PREFETCH_L2: &str = "kiln_prefetch_l2";

fn row_signature(module: &JITModule) -> Signature {
    let mut sig = module.make_signature();
    sig.params.extend((0..6).map(|_| AbiParam::new(types::I64)));
    sig.returns.push(AbiParam::new(types::I32));
    sig
}

/// Which function to build from a kernel.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum FnKind {
    /// Store the result at each position of the row.
    Map,
    /// Store at `out` the `f64` sum of the result over the `n <= 128` positions, summed as
    /// the base case of NumPy's pairwise summation (`reference::reduce::fold::pairwise_sum`):
    /// sequentially from 0 below 8 elements, else in 8 interleaved accumulators combined as
    /// `((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))`, then the tail sequentially.
    SumLeaf,
    /// Store at `out` the wrapping `i64` sum of the result (an integer or `bool`) over the
    /// `n` positions: any order gives the same bits, so vectors of it are added lane-wise.
    IntSum,
    /// Store at `out` the `min` or `max` of a float result over the `n` positions, folded
    /// as the interpreter's `MinMax::fold_slice` (vectorized kernels only).
    Extreme,
}

/// Builds function `kind` of `kernel` (verified) with inputs read along rows with
/// `strides`, into `func`; `f64` transcendentals are inline polynomials where `polynomials`
/// is set (and not in a vector loop's tail), host calls otherwise. Gives whether the
/// function asks for the next row itself ([`hints_next_row`]).
#[allow(clippy::too_many_arguments)]
fn build<M: Module>(
    kernel: &Kernel,
    a: &Analysis,
    strides: &[Stride],
    kind: FnKind,
    polynomials: bool,
    module: &mut M,
    host_ids: &HashMap<&'static str, FuncId>,
    func: &mut Function,
) -> Result<bool> {
    let config = module.target_config();
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let [ptrs, stride_ptr, out, n, pos, aux] = params[..] else {
        return Err(Error::Internal("jit: the row function lost its parameters".into()));
    };
    let flag = b.declare_var(types::I32);
    let zero32 = b.ins().iconst(types::I32, 0);
    b.def_var(flag, zero32);

    // Per-input base pointers and run-time strides (in bytes), read once; for a fold that
    // asks for the next row, the distance to it of each input read in place.
    let n_in = kernel.inputs.len();
    let hints =
        matches!(kind, FnKind::SumLeaf | FnKind::IntSum | FnKind::Extreme) && polynomials && hints_next_row(kernel, a);
    let mut bases = Vec::with_capacity(n_in);
    let mut steps = Vec::with_capacity(n_in);
    let mut next_rows = vec![None; n_in];
    for (k, input) in kernel.inputs.iter().enumerate() {
        let used = kernel.body.iter().enumerate().any(|(i, inst)| a.live[i] && *inst == Inst::Load(k as u32));
        if !used {
            bases.push(None);
            steps.push(None);
            continue;
        }
        let off = (k * 8) as i32;
        bases.push(Some(b.ins().load(types::I64, mem(), ptrs, off)));
        if hints && strides.get(k) == Some(&Stride::One) && input.dtype.size() >= 4 {
            next_rows[k] = Some(b.ins().load(types::I64, mem(), stride_ptr, ((n_in + k) * 8) as i32));
        }
        steps.push(match strides.get(k) {
            Some(Stride::Other) => {
                let s = b.ins().load(types::I64, mem(), stride_ptr, off);
                Some(b.ins().imul_imm_s(s, input.dtype.size() as i64))
            }
            _ => None,
        });
    }
    let mut slot_vals = vec![None; kernel.body.len()];
    for (i, slot) in slot_vals.iter_mut().enumerate() {
        if let (true, Some(s)) = (a.live[i], a.pos_slot[i]) {
            let p = b.ins().load(types::I64, mem(), pos, (s * 8) as i32);
            let x = a.aux_slot[i].map(|x| b.ins().load(types::I64, mem(), aux, (x * 8) as i32));
            *slot = Some((p, x));
        }
    }

    let mut e = Emit { b: &mut b, module, host_ids, refs: HashMap::new(), flag, inline_polynomials: polynomials };
    let mut vals: Vec<Option<Value>> = vec![None; kernel.body.len()];
    // Row-invariant values, before the loops.
    emit_values(kernel, a, strides, &mut e, &mut vals, &bases, &steps, &slot_vals, None, false)?;
    // Integer lanes and `bool` results (lane masks) map and sum as integers only: the leaf
    // sums in `f64` pairs, which they do not convert to.
    let bool_result = a.dtypes[a.result.idx()] == DType::Bool;
    let lane = lane_type(kernel, a, strides)
        .filter(|l| kind != FnKind::SumLeaf || !(l.integer() || bool_result))
        .filter(|l| kind != FnKind::IntSum || super::loops::int_sum_lanes(*l, a));
    let vectors = lane.map(|lane| Vectors { lane, splats: splats(a, lane, &mut e, &vals) });
    let any_next_row = next_rows.iter().flatten().fold(None, |any: Option<Value>, &d| {
        let set = e.b.ins().icmp_imm_s(IntCC::NotEqual, d, 0);
        Some(any.map_or(set, |a| e.b.ins().bor(a, set)))
    });
    let body = Body { kernel, a, strides, bases, steps, slot_vals, vals, vectors, next_rows, any_next_row };
    match kind {
        FnKind::Map => map_loops(&body, &mut e, out, n)?,
        FnKind::SumLeaf => sum_leaf(&body, &mut e, out, n)?,
        FnKind::IntSum => super::loops::int_sum(&body, &mut e, out, n)?,
        FnKind::Extreme => super::loops::extreme(&body, &mut e, out, n)?,
    }
    let hinted = e.refs.contains_key(PREFETCH_L2);
    b.seal_all_blocks();
    b.finalize(config);
    Ok(hinted)
}

/// Emits the live instructions that vary along the row (`varying`) or those that do not,
/// at row position `i` (`None` before the loop), into `vals`.
#[allow(clippy::too_many_arguments)]
pub(super) fn emit_values<M: Module>(
    kernel: &Kernel,
    a: &Analysis,
    strides: &[Stride],
    e: &mut Emit<'_, '_, M>,
    vals: &mut [Option<Value>],
    bases: &[Option<Value>],
    steps: &[Option<Value>],
    slot_vals: &[Option<(Value, Option<Value>)>],
    i: Option<Value>,
    varying: bool,
) -> Result<()> {
    let missing = |v: usize| Error::Internal(format!("jit: %{v} used before it is computed"));
    for (k, inst) in kernel.body.iter().enumerate() {
        if !a.live[k] || a.varies[k] != varying {
            continue;
        }
        let get = |v: kiln_ir::ValueId| vals[v.idx()].ok_or_else(|| missing(v.idx()));
        let d = a.dtypes[k];
        let position = |p: Value, e: &mut Emit<'_, '_, M>| match i {
            Some(i) if varying => e.b.ins().iadd(p, i),
            _ => p,
        };
        let v = match inst {
            Inst::Load(n) => {
                let n = *n as usize;
                let base = bases.get(n).copied().flatten().ok_or_else(|| missing(k))?;
                let addr = match (strides.get(n), i, steps.get(n).copied().flatten()) {
                    (Some(Stride::One), Some(i), _) => {
                        let off = e.b.ins().imul_imm_s(i, kernel.inputs[n].dtype.size() as i64);
                        e.b.ins().iadd(base, off)
                    }
                    (Some(Stride::Other), Some(i), Some(step)) => {
                        let off = e.b.ins().imul(i, step);
                        e.b.ins().iadd(base, off)
                    }
                    _ => base,
                };
                e.b.ins().load(clif_type(d), mem(), addr, 0)
            }
            Inst::Const(s) => e.constant(*s),
            Inst::Random { .. } => {
                let (p, x) = slot_vals[k].ok_or_else(|| missing(k))?;
                let x = x.ok_or_else(|| missing(k))?;
                let g = match (i, varying) {
                    (Some(i), true) => {
                        let Inst::Random { base, start, step, axes, .. } = inst else {
                            return Err(missing(k));
                        };
                        let nd = kernel.ndim as usize;
                        let row_step = crate::jit::analysis::random_affine(base, start, step, axes, nd).1
                            [crate::jit::analysis::row_axis(kernel)];
                        let off = e.b.ins().imul_imm_s(i, row_step);
                        e.b.ins().iadd(p, off)
                    }
                    _ => p,
                };
                match inst {
                    Inst::Random { dist: Distribution::Uniform { low, high }, seed, .. } => {
                        e.uniform(g, RandomStream::new(*seed).keys(), low.0, high.0 - low.0)
                    }
                    _ => e.call("kiln_random", &[x, g])?,
                }
            }
            Inst::Arange { start, step, .. } => {
                let (p, _) = slot_vals[k].ok_or_else(|| missing(k))?;
                let g = position(p, e);
                e.arange(*start, *step, g)
            }
            Inst::Linspace { .. } => {
                let (p, x) = slot_vals[k].ok_or_else(|| missing(k))?;
                let x = x.ok_or_else(|| missing(k))?;
                let g = position(p, e);
                e.call("kiln_linspace", &[x, g])?
            }
            Inst::Unary(op, x) => e.unary(*op, a.dtypes[x.idx()], get(*x)?)?,
            Inst::Binary(op, x, y) => e.binary(*op, a.dtypes[x.idx()], get(*x)?, get(*y)?, a.const_exponent[k])?,
            Inst::Where(c, x, y) => {
                let (c, x, y) = (get(*c)?, get(*x)?, get(*y)?);
                e.select(c, x, y)
            }
            Inst::Cast(to, x) => e.cast(a.dtypes[x.idx()], *to, get(*x)?),
        };
        vals[k] = Some(v);
    }
    Ok(())
}

/// A compiled row function, with what the drivers need to call it.
pub(crate) struct Native {
    /// The map function (not compiled for a float sum along rows, which only the leaf
    /// computes).
    pub(crate) f: Option<RowFn>,
    /// The pairwise-sum leaf, for `sum` of floats and `mean`.
    pub(crate) leaf: Option<RowFn>,
    /// The wrapping `i64` sum of a row piece, for `sum` of integers and `bool`s.
    pub(crate) int_sum: Option<RowFn>,
    /// The `min` or `max` of a row piece, for vectorized float kernels.
    pub(crate) extreme: Option<RowFn>,
    /// Whether the kernel calls no transcendental function (`loops::costly`), so that its
    /// speed is the memory's and hints for the next row pay.
    pub(crate) memory_bound: bool,
    /// Whether the leaf, the integer sum or the extreme fold asks for the next row itself
    /// (calls [`PREFETCH_L2`]; see [`hints_next_row`]): then host code does not.
    pub(crate) hints_next_row: bool,
    /// The buffers host code fills before each call (`jit::fills`; empty when none).
    pub(crate) fills: Vec<Fill>,
    /// The functions computing the fills' arguments ([`Arg::Prefix`](crate::jit::fills::Arg)).
    pub(crate) prefixes: Vec<RowFn>,
    /// Wall time spent compiling.
    pub(crate) compile_time: std::time::Duration,
}

/// Whether the pairwise-sum leaf, the integer sum and the extreme fold of `kernel`
/// (compiled without fills) ask for the next row of each input they read in place into
/// L2, a line at a time as they read the current one: when the kernel is memory-bound (no
/// transcendental functions). Host code asking for a call's lines in one burst before it
/// left a sum about 20 % slower than the interpreter's interleaved hints (`(x * 2).sum()`
/// 28–29 ms against 22–25); `(x + 0.5).max()`, which had no hints, goes from 39 to 28 ms.
/// Cranelift has no prefetch instruction, so each hint is a call of the module's
/// [`PREFETCH_L2`] (x86-64 only; elsewhere there are no hints). A kernel rewritten for
/// fills has more inputs than the walk's strides describe, so its folds leave the hints
/// to host code.
pub(crate) fn hints_next_row(kernel: &Kernel, a: &Analysis) -> bool {
    cfg!(target_arch = "x86_64") && !super::loops::costly(kernel, a)
}

/// Whether `kernel` reduces with a float sum (`sum` of floats, `mean`), which the leaf
/// function computes.
pub(crate) fn wants_leaf(kernel: &Kernel, a: &Analysis) -> bool {
    match &kernel.output {
        kiln_ir::KernelOutput::Reduce { op: kiln_ir::ReduceOp::Mean, .. } => true,
        kiln_ir::KernelOutput::Reduce { op: kiln_ir::ReduceOp::Sum, value, .. } => a.dtypes[value.idx()].is_float(),
        kiln_ir::KernelOutput::Map(_) | kiln_ir::KernelOutput::Reduce { .. } => false,
    }
}

/// Whether `kernel` reduces with a `sum` of integers or `bool`s, which the integer sum
/// function computes.
pub(crate) fn wants_int_sum(kernel: &Kernel, a: &Analysis) -> bool {
    matches!(&kernel.output,
        kiln_ir::KernelOutput::Reduce { op: kiln_ir::ReduceOp::Sum, value, .. } if !a.dtypes[value.idx()].is_float())
}

/// Whether `kernel` reduces with `min` or `max` of a float value that its main loop computes
/// in that float's own lanes (with fills, the rewritten kernel's), which the extreme fold
/// computes.
fn wants_extreme(kernel: &Kernel, a: &Analysis, plan: Option<&fills::Plan>, strides: &[Stride]) -> bool {
    if !matches!(
        &kernel.output,
        kiln_ir::KernelOutput::Reduce { op: kiln_ir::ReduceOp::Min | kiln_ir::ReduceOp::Max, .. }
    ) {
        return false;
    }
    let lane = match plan {
        Some(p) => p.analyse(&p.kernel, a).ok().and_then(|fa| lane_type(&p.kernel, &fa, &p.strides).map(|l| (l, fa))),
        None => lane_type(kernel, a, strides).map(|l| (l, a.clone())),
    };
    lane.is_some_and(|(lane, fa)| super::loops::extreme_lanes(lane, &fa))
}

/// Whether a reduction kernel reduces along its last axis, the row axis of every block it
/// walks (`jit::reduce` then folds whole row pieces, with the leaf for float sums).
fn leaf_only(kernel: &Kernel) -> bool {
    match &kernel.output {
        kiln_ir::KernelOutput::Reduce { axes, .. } => kernel.ndim > 0 && axes.contains(&(kernel.ndim - 1)),
        kiln_ir::KernelOutput::Map(_) => false,
    }
}

/// Compiles `kernel` (verified) for inputs read along rows with `strides`: its row
/// functions, and with fills (`jit::fills::plan`), the rewritten kernel's and the prefix
/// functions.
pub(crate) fn compile(kernel: &Kernel, dtypes: Vec<DType>, strides: &[Stride]) -> Result<(Native, Analysis)> {
    let started = std::time::Instant::now();
    let a = Analysis::new(kernel, dtypes, strides);
    let plan = fills::plan(kernel, &a, strides);
    // A reduction along rows that has a compiled fold (the float sums' leaf, the integer
    // sum, the extreme fold) only ever calls that: the map function is not compiled.
    let fold = if wants_leaf(kernel, &a) {
        Some(FnKind::SumLeaf)
    } else if wants_int_sum(kernel, &a) {
        Some(FnKind::IntSum)
    } else {
        wants_extreme(kernel, &a, plan.as_ref(), strides).then_some(FnKind::Extreme)
    };
    let kinds: Vec<FnKind> = match (fold, leaf_only(kernel)) {
        (Some(fold), true) => vec![fold],
        (Some(fold), false) => vec![FnKind::Map, fold],
        (None, _) => vec![FnKind::Map],
    };
    // Each function: its kernel, what it builds, and with which input strides.
    let mut jobs: Vec<(Kernel, FnKind, &[Stride])> = Vec::new();
    match &plan {
        Some(p) => {
            jobs.extend(p.prefixes.iter().map(|&v| (p.prefix_kernel(v), FnKind::Map, &p.strides[..])));
            jobs.extend(kinds.iter().map(|&kind| (p.kernel.clone(), kind, &p.strides[..])));
        }
        None => jobs.extend(kinds.iter().map(|&kind| (kernel.clone(), kind, strides))),
    }
    let (mut module, host_ids) = module()?;
    let sig = row_signature(&module);
    let mut ids = Vec::new();
    let mut hinted = false;
    let mut ctx: Context = module.make_context();
    for (n, (k, kind, strides)) in jobs.iter().enumerate() {
        let fa = match &plan {
            Some(p) => p.analyse(k, &a)?,
            None => a.clone(),
        };
        let id = module.declare_function(&format!("kiln_fn{n}"), Linkage::Export, &sig).map_err(jit_error)?;
        ctx.func.signature = sig.clone();
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        hinted |= build(k, &fa, strides, *kind, plan.is_none(), &mut module, &host_ids, &mut ctx.func)?;
        module.define_function(id, &mut ctx).map_err(|e| jit_error(format!("{e:?}")))?;
        module.clear_context(&mut ctx);
        ids.push(id);
    }
    module.finalize_definitions().map_err(jit_error)?;
    let mut fns: Vec<RowFn> = ids
        .iter()
        .map(|&id| {
            let ptr = module.get_finalized_function(id);
            // SAFETY: `ptr` is the finalized code of a function with `row_signature`, which
            // is `RowFn`'s (six 64-bit integer arguments, an `i32` result, the C ABI).
            unsafe { std::mem::transmute::<*const u8, RowFn>(ptr) }
        })
        .collect();
    // The module is dropped here; its code memory stays mapped (cranelift-jit leaks
    // finalized code on drop so function pointers stay valid), which the cache relies on:
    // compiled kernels live for the rest of the process.
    drop(module);
    let n_prefixes = plan.as_ref().map_or(0, |p| p.prefixes.len());
    let main = fns.split_off(n_prefixes);
    let pick = |kind| kinds.iter().position(|&k| k == kind).map(|n| main[n]);
    let native = Native {
        f: pick(FnKind::Map),
        leaf: pick(FnKind::SumLeaf),
        int_sum: pick(FnKind::IntSum),
        extreme: pick(FnKind::Extreme),
        memory_bound: !super::loops::costly(kernel, &a),
        hints_next_row: hinted,
        fills: plan.map(|p| p.fills).unwrap_or_default(),
        prefixes: fns,
        compile_time: started.elapsed(),
    };
    Ok((native, a))
}

/// The CLIF text of `kernel`'s map function (or, with `leaf`, its pairwise-sum leaf)
/// before optimization, as compiled without fills (`jit::fills`: its `f64` transcendentals
/// inline), for snapshots and verbose explanations.
pub fn clif_text(kernel: &Kernel, strides: &[Stride], leaf: bool) -> Result<String> {
    kernel.verify().map_err(|e| Error::Internal(format!("jit: {e}")))?;
    let dtypes = kernel.dtypes().map_err(|e| Error::Internal(format!("jit: {e}")))?;
    let a = Analysis::new(kernel, dtypes, strides);
    let (mut module, host_ids) = module()?;
    let sig = row_signature(&module);
    let mut func = Function::with_name_signature(UserFuncName::user(0, 0), sig);
    let kind = if leaf { FnKind::SumLeaf } else { FnKind::Map };
    build(kernel, &a, strides, kind, true, &mut module, &host_ids, &mut func)?;
    Ok(func.display().to_string())
}

/// The rewritten kernel of `kernel`'s fills plan (`jit::fills`, planned as on a CPU with
/// AVX2), its fills and prefix values, and the CLIF text of its map function (or, with
/// `leaf`, its pairwise-sum leaf) before optimization, for snapshots.
#[cfg(test)]
pub(crate) fn fills_text(kernel: &Kernel, strides: &[Stride], leaf: bool) -> Result<String> {
    let dtypes = kernel.dtypes().map_err(|e| Error::Internal(format!("jit: {e}")))?;
    let a = Analysis::new(kernel, dtypes, strides);
    let p = fills::with_batching(true, || fills::plan(kernel, &a, strides))
        .ok_or_else(|| Error::Internal("jit: the kernel has no fills".into()))?;
    let k = &p.kernel;
    let fa = p.analyse(k, &a)?;
    let (mut module, host_ids) = module()?;
    let sig = row_signature(&module);
    let mut func = Function::with_name_signature(UserFuncName::user(0, 0), sig);
    let kind = if leaf { FnKind::SumLeaf } else { FnKind::Map };
    build(k, &fa, &p.strides, kind, false, &mut module, &host_ids, &mut func)?;
    let fills: Vec<String> = p.fills.iter().enumerate().map(|(j, f)| format!("fill {j}: {f:?}")).collect();
    Ok(format!("{k}\n\n{}\nprefix values: {:?}\n\n{}", fills.join("\n"), p.prefixes, func.display()))
}
