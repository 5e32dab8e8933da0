//! Compiles a kernel to a native row function with Cranelift: the function evaluates the
//! kernel's result at `n` consecutive positions of one row of the iteration space and stores
//! them one after another at `out`. Values that do not vary along the row (constants,
//! broadcast inputs, sources on other axes, and everything computed only from them) are
//! computed once before the loop.
//!
//! The row function's signature (all pointers and integers 64-bit):
//! `fn(ptrs, strides, out, n, pos, aux) -> i32` where `ptrs[k]` is input `k`'s element at
//! the row's first position, `strides[k]` its step along the row in elements (read only for
//! [`Stride::Other`]), `pos[s]` the per-row position of source slot `s` (see
//! [`Analysis`]), `aux[s]` the host parameters of random and linspace sources. It returns 0,
//! or 1 when an integer `pow` met a negative exponent.

use std::collections::HashMap;
use std::sync::OnceLock;

use cranelift_codegen::ir::{AbiParam, BlockArg, Function, InstBuilder, Signature, UserFuncName, Value, types};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, ir::condcodes::IntCC};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};

use kiln_ir::{DType, Distribution, Inst, Kernel};

use crate::random::RandomStream;

use crate::error::{Error, Result};
use crate::jit::analysis::{Analysis, Stride};
use crate::jit::emit::{Emit, clif_type, mem};
use crate::jit::host::{self, HostTy};
use crate::jit::vector::{emit_vector_values, splats, vectorizable};

/// The native row function (see the module docs).
pub(crate) type RowFn = unsafe extern "C" fn(
    ptrs: *const *const u8,
    strides: *const i64,
    out: *mut u8,
    n: i64,
    pos: *const i64,
    aux: *const *const u8,
) -> i32;

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
    Ok((module, ids))
}

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
}

/// The evaluation context of one function: its entry values and how to compute the
/// result at a row position, as a scalar or as two lanes.
struct Body<'k> {
    kernel: &'k Kernel,
    a: &'k Analysis,
    strides: &'k [Stride],
    bases: Vec<Option<Value>>,
    steps: Vec<Option<Value>>,
    slot_vals: Vec<Option<(Value, Option<Value>)>>,
    /// The invariant values (computed before the loops).
    vals: Vec<Option<Value>>,
    /// Their 2-lane splats, when the kernel is vectorized.
    vecs: Option<Vec<Option<Value>>>,
}

impl Body<'_> {
    /// The result at row position `i`, converted to `f64` when `as_f64`.
    fn scalar_at<M: Module>(&self, e: &mut Emit<'_, '_, M>, i: Value, as_f64: bool) -> Result<Value> {
        let mut vals = self.vals.clone();
        emit_values(
            self.kernel,
            self.a,
            self.strides,
            e,
            &mut vals,
            &self.bases,
            &self.steps,
            &self.slot_vals,
            Some(i),
            true,
        )?;
        let r = self.a.result.idx();
        let v = vals[r].ok_or_else(|| Error::Internal("jit: the result was not computed".into()))?;
        Ok(if as_f64 { e.cast(self.a.dtypes[r], DType::F64, v) } else { v })
    }

    /// The result at row positions `i` and `i + 1` as an `F64X2` (vectorized kernels only).
    fn vector_at<M: Module>(&self, e: &mut Emit<'_, '_, M>, i: Value) -> Result<Value> {
        let mut vecs = self.vecs.clone().ok_or_else(|| Error::Internal("jit: not vectorized".into()))?;
        emit_vector_values(self.kernel, self.a, e, &mut vecs, &self.bases, &self.slot_vals, i)?;
        let r = self.a.result.idx();
        match vecs[r] {
            Some(v) => Ok(v),
            None => {
                // An invariant result of another dtype: convert, then splat.
                let s = self.vals[r].ok_or_else(|| Error::Internal("jit: the result was not computed".into()))?;
                let s = e.cast(self.a.dtypes[r], DType::F64, s);
                Ok(e.b.ins().splat(types::F64X2, s))
            }
        }
    }
}

/// Builds function `kind` of `kernel` (verified) with inputs read along rows with
/// `strides`, into `func`.
#[allow(clippy::too_many_arguments)]
fn build<M: Module>(
    kernel: &Kernel,
    a: &Analysis,
    strides: &[Stride],
    kind: FnKind,
    module: &mut M,
    host_ids: &HashMap<&'static str, FuncId>,
    func: &mut Function,
) -> Result<()> {
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

    // Per-input base pointers and run-time strides (in bytes), read once.
    let mut bases = Vec::with_capacity(kernel.inputs.len());
    let mut steps = Vec::with_capacity(kernel.inputs.len());
    for (k, input) in kernel.inputs.iter().enumerate() {
        let used = kernel.body.iter().enumerate().any(|(i, inst)| a.live[i] && *inst == Inst::Load(k as u32));
        if !used {
            bases.push(None);
            steps.push(None);
            continue;
        }
        let off = (k * 8) as i32;
        bases.push(Some(b.ins().load(types::I64, mem(), ptrs, off)));
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

    let mut e = Emit { b: &mut b, module, host_ids, refs: HashMap::new(), flag };
    let mut vals: Vec<Option<Value>> = vec![None; kernel.body.len()];
    // Row-invariant values, before the loops.
    emit_values(kernel, a, strides, &mut e, &mut vals, &bases, &steps, &slot_vals, None, false)?;
    let vecs = vectorizable(kernel, a, strides).then(|| splats(a, &mut e, &vals));
    let body = Body { kernel, a, strides, bases, steps, slot_vals, vals, vecs };
    match kind {
        FnKind::Map => map_loops(&body, &mut e, out, n)?,
        FnKind::SumLeaf => sum_leaf(&body, &mut e, out, n)?,
    }
    b.seal_all_blocks();
    b.finalize(config);
    Ok(())
}

/// The loops of a map: two vectors (4 positions) per iteration while 4 remain, when
/// vectorized, then one position at a time; each result stored at `out`.
fn map_loops<M: Module>(body: &Body<'_>, e: &mut Emit<'_, '_, M>, out: Value, n: Value) -> Result<()> {
    let d = body.a.dtypes[body.a.result.idx()];
    let size = d.size() as i64;
    let (shead, sbody, exit) = (e.b.create_block(), e.b.create_block(), e.b.create_block());
    e.b.append_block_param(shead, types::I64);
    let zero = e.b.ins().iconst(types::I64, 0);
    if body.vecs.is_some() && d == DType::F64 {
        let (vhead, vbody) = (e.b.create_block(), e.b.create_block());
        e.b.append_block_param(vhead, types::I64);
        e.b.ins().jump(vhead, &[BlockArg::Value(zero)]);
        e.b.switch_to_block(vhead);
        let i = e.b.block_params(vhead)[0];
        let end = e.b.ins().iadd_imm_s(i, 2);
        let room = e.b.ins().icmp(IntCC::SignedLessThanOrEqual, end, n);
        e.b.ins().brif(room, vbody, &[], shead, &[BlockArg::Value(i)]);
        e.b.switch_to_block(vbody);
        // One vector per iteration: unrolling measured no faster, and each copy of the body
        // (transcendental polynomials included) costs compile time.
        let v = body.vector_at(e, i)?;
        let off = e.b.ins().imul_imm_s(i, size);
        let addr = e.b.ins().iadd(out, off);
        e.b.ins().store(mem(), v, addr, 0);
        e.b.ins().jump(vhead, &[BlockArg::Value(end)]);
    } else {
        e.b.ins().jump(shead, &[BlockArg::Value(zero)]);
    }
    e.b.switch_to_block(shead);
    let i = e.b.block_params(shead)[0];
    let more = e.b.ins().icmp(IntCC::SignedLessThan, i, n);
    e.b.ins().brif(more, sbody, &[], exit, &[]);
    e.b.switch_to_block(sbody);
    let v = body.scalar_at(e, i, false)?;
    let off = e.b.ins().imul_imm_s(i, size);
    let addr = e.b.ins().iadd(out, off);
    e.b.ins().store(mem(), v, addr, 0);
    let next = e.b.ins().iadd_imm_s(i, 1);
    e.b.ins().jump(shead, &[BlockArg::Value(next)]);
    e.b.switch_to_block(exit);
    let status = e.b.use_var(e.flag);
    e.b.ins().return_(&[status]);
    Ok(())
}

/// The pairwise-summation leaf (see [`FnKind::SumLeaf`]).
fn sum_leaf<M: Module>(body: &Body<'_>, e: &mut Emit<'_, '_, M>, out: Value, n: Value) -> Result<()> {
    let f64t = types::F64;
    let vector = body.vecs.is_some();
    let acc_ty = if vector { types::F64X2 } else { f64t };
    let n_acc = if vector { 4 } else { 8 };
    let [big, lhead, lbody, combine, thead, tbody, done] = [(); 7].map(|_| e.b.create_block());
    e.b.append_block_param(thead, types::I64);
    e.b.append_block_param(thead, f64t);
    e.b.append_block_param(lhead, types::I64);
    e.b.append_block_param(combine, types::I64);
    for _ in 0..n_acc {
        e.b.append_block_param(lhead, acc_ty);
        e.b.append_block_param(combine, acc_ty);
    }
    e.b.append_block_param(done, f64t);
    let zero = e.b.ins().iconst(types::I64, 0);
    let fzero = e.b.ins().f64const(0.0);
    // Fewer than 8 elements: `0.0 + x0 + x1 + ...`, which is the tail loop from 0.
    let few = e.b.ins().icmp_imm_s(IntCC::SignedLessThan, n, 8);
    e.b.ins().brif(few, thead, &[BlockArg::Value(zero), BlockArg::Value(fzero)], big, &[]);

    // 8 or more: the interpreter's accumulators start at the first 8 elements; here they
    // start at -0.0, the exact additive identity (`-0.0 + x` is `x`, bit for bit), so the
    // first 8 go through the loop body and the body is emitted once per accumulator only.
    let chunk = |e: &mut Emit<'_, '_, M>, i: Value| -> Result<Vec<Value>> {
        (0..n_acc)
            .map(|k| {
                let at = e.b.ins().iadd_imm_s(i, if vector { 2 * k as i64 } else { k as i64 });
                if vector { body.vector_at(e, at) } else { body.scalar_at(e, at, true) }
            })
            .collect()
    };
    e.b.switch_to_block(big);
    let minus_zero = e.b.ins().f64const(-0.0);
    let start = if vector { e.b.ins().splat(types::F64X2, minus_zero) } else { minus_zero };
    let mut args = vec![BlockArg::Value(zero)];
    args.extend((0..n_acc).map(|_| BlockArg::Value(start)));
    e.b.ins().jump(lhead, &args);

    e.b.switch_to_block(lhead);
    let lp = e.b.block_params(lhead).to_vec();
    let i = lp[0];
    let end = e.b.ins().iadd_imm_s(i, 8);
    let room = e.b.ins().icmp(IntCC::SignedLessThanOrEqual, end, n);
    let pass: Vec<BlockArg> = lp.iter().map(|&v| BlockArg::Value(v)).collect();
    e.b.ins().brif(room, lbody, &[], combine, &pass);
    e.b.switch_to_block(lbody);
    let xs = chunk(e, i)?;
    let mut args = vec![BlockArg::Value(end)];
    for (r, x) in lp[1..].iter().zip(xs) {
        args.push(BlockArg::Value(e.b.ins().fadd(*r, x)));
    }
    e.b.ins().jump(lhead, &args);

    e.b.switch_to_block(combine);
    let cp = e.b.block_params(combine).to_vec();
    let r: Vec<Value> = if vector {
        let mut lanes = Vec::with_capacity(8);
        for &v in &cp[1..] {
            lanes.push(e.b.ins().extractlane(v, 0));
            lanes.push(e.b.ins().extractlane(v, 1));
        }
        lanes
    } else {
        cp[1..].to_vec()
    };
    let s01 = e.b.ins().fadd(r[0], r[1]);
    let s23 = e.b.ins().fadd(r[2], r[3]);
    let s45 = e.b.ins().fadd(r[4], r[5]);
    let s67 = e.b.ins().fadd(r[6], r[7]);
    let lo = e.b.ins().fadd(s01, s23);
    let hi = e.b.ins().fadd(s45, s67);
    let res = e.b.ins().fadd(lo, hi);
    e.b.ins().jump(thead, &[BlockArg::Value(cp[0]), BlockArg::Value(res)]);

    // The tail, sequentially.
    e.b.switch_to_block(thead);
    let (i, acc) = (e.b.block_params(thead)[0], e.b.block_params(thead)[1]);
    let more = e.b.ins().icmp(IntCC::SignedLessThan, i, n);
    let tdone = e.b.create_block();
    e.b.ins().brif(more, tbody, &[], tdone, &[]);
    e.b.switch_to_block(tbody);
    let x = body.scalar_at(e, i, true)?;
    let acc2 = e.b.ins().fadd(acc, x);
    let next = e.b.ins().iadd_imm_s(i, 1);
    e.b.ins().jump(thead, &[BlockArg::Value(next), BlockArg::Value(acc2)]);
    e.b.switch_to_block(tdone);
    e.b.ins().jump(done, &[BlockArg::Value(acc)]);

    e.b.switch_to_block(done);
    let res = e.b.block_params(done)[0];
    e.b.ins().store(mem(), res, out, 0);
    let status = e.b.use_var(e.flag);
    e.b.ins().return_(&[status]);
    Ok(())
}

/// Emits the live instructions that vary along the row (`varying`) or those that do not,
/// at row position `i` (`None` before the loop), into `vals`.
#[allow(clippy::too_many_arguments)]
fn emit_values<M: Module>(
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
    /// The map function.
    pub(crate) f: RowFn,
    /// The pairwise-sum leaf, for `sum` of floats and `mean`.
    pub(crate) leaf: Option<RowFn>,
    /// Wall time spent compiling.
    pub(crate) compile_time: std::time::Duration,
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

/// Compiles `kernel` (verified) for inputs read along rows with `strides`.
pub(crate) fn compile(kernel: &Kernel, dtypes: Vec<DType>, strides: &[Stride]) -> Result<(Native, Analysis)> {
    let started = std::time::Instant::now();
    let a = Analysis::new(kernel, dtypes, strides);
    let (mut module, host_ids) = module()?;
    let sig = row_signature(&module);
    let mut kinds = vec![FnKind::Map];
    if wants_leaf(kernel, &a) {
        kinds.push(FnKind::SumLeaf);
    }
    let mut ids = Vec::new();
    let mut ctx: Context = module.make_context();
    for (n, &kind) in kinds.iter().enumerate() {
        let id = module.declare_function(&format!("kiln_fn{n}"), Linkage::Export, &sig).map_err(jit_error)?;
        ctx.func.signature = sig.clone();
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        build(kernel, &a, strides, kind, &mut module, &host_ids, &mut ctx.func)?;
        module.define_function(id, &mut ctx).map_err(|e| jit_error(format!("{e:?}")))?;
        module.clear_context(&mut ctx);
        ids.push(id);
    }
    module.finalize_definitions().map_err(jit_error)?;
    let fns: Vec<RowFn> = ids
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
    let native = Native { f: fns[0], leaf: fns.get(1).copied(), compile_time: started.elapsed() };
    Ok((native, a))
}

/// The CLIF text of `kernel`'s map function (or, with `leaf`, its pairwise-sum leaf)
/// before optimization, for snapshots and verbose explanations.
pub fn clif_text(kernel: &Kernel, strides: &[Stride], leaf: bool) -> Result<String> {
    kernel.verify().map_err(|e| Error::Internal(format!("jit: {e}")))?;
    let dtypes = kernel.dtypes().map_err(|e| Error::Internal(format!("jit: {e}")))?;
    let a = Analysis::new(kernel, dtypes, strides);
    let (mut module, host_ids) = module()?;
    let sig = row_signature(&module);
    let mut func = Function::with_name_signature(UserFuncName::user(0, 0), sig);
    let kind = if leaf { FnKind::SumLeaf } else { FnKind::Map };
    build(kernel, &a, strides, kind, &mut module, &host_ids, &mut func)?;
    Ok(func.display().to_string())
}
