//! The loops of a row function, around the per-position evaluation of the kernel
//! ([`Body`]): a map's main loop of one vector per iteration (two `f64` or four `f32` row
//! positions, [`LaneType`]) with a scalar tail, and the pairwise-summation leaf, whose
//! vectorized form adds 8 positions per iteration into four `F64X2` accumulators (an `f32`
//! kernel's two `F32X4` vectors promoted exactly to four `F64X2` halves, in the same element
//! order), so both equal the interpreter's sums bit for bit; the integer sum, which adds
//! four vectors per iteration into two `i64` lanes (wrapping sums in any order are the
//! interpreter's bits); and the extreme fold, the interpreter's `min`/`max` chains in
//! vectors.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{BlockArg, InstBuilder, Value, types};
use cranelift_module::Module;

use kiln_ir::{DType, Kernel};

use crate::error::{Error, Result};
use crate::jit::analysis::{Analysis, Stride};
use crate::jit::compile::emit_values;
use crate::jit::emit::{Emit, mem};
use crate::jit::vector::{LaneType, SlotVals, bool_bytes, emit_vector_values};

/// The vector form of a function's body, when the kernel is vectorized.
pub(super) struct Vectors {
    /// The lane type of the main loop.
    pub(super) lane: LaneType,
    /// The splats of the invariant values of the lane dtype (per value).
    pub(super) splats: Vec<Option<Value>>,
}

/// The evaluation context of one function: its entry values and how to compute the
/// result at a row position, as a scalar or as a vector.
pub(super) struct Body<'k> {
    /// The kernel.
    pub(super) kernel: &'k Kernel,
    /// Its analysis.
    pub(super) a: &'k Analysis,
    /// The row stride class of each input.
    pub(super) strides: &'k [Stride],
    /// Each used input's element address at the row's first position.
    pub(super) bases: Vec<Option<Value>>,
    /// Each input's run-time step in bytes ([`Stride::Other`] only).
    pub(super) steps: Vec<Option<Value>>,
    /// The per-row source values (position, host parameters) per instruction.
    pub(super) slot_vals: Vec<Option<(Value, Option<Value>)>>,
    /// The invariant values (computed before the loops).
    pub(super) vals: Vec<Option<Value>>,
    /// The vector form, when the kernel is vectorized.
    pub(super) vectors: Option<Vectors>,
    /// Per input the fold asks for the next row of (`compile::hints_next_row`): the bytes
    /// from its row to the next one (0: none to ask for).
    pub(super) next_rows: Vec<Option<Value>>,
    /// Whether any of `next_rows` is not 0 (`None` when there are none).
    pub(super) any_next_row: Option<Value>,
}

impl Body<'_> {
    /// The result at row position `i`, converted to `f64` when `as_f64`; `tail` when it is
    /// the tail of a vector loop (transcendentals then call their host functions).
    fn scalar_at<M: Module>(&self, e: &mut Emit<'_, '_, M>, i: Value, as_f64: bool, tail: bool) -> Result<Value> {
        let mut vals = self.vals.clone();
        let inline = e.inline_polynomials;
        e.inline_polynomials = inline && !tail;
        let r = emit_values(
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
        );
        e.inline_polynomials = inline;
        r?;
        let r = self.a.result.idx();
        let v = vals[r].ok_or_else(|| Error::Internal("jit: the result was not computed".into()))?;
        Ok(if as_f64 { e.cast(self.a.dtypes[r], DType::F64, v) } else { v })
    }

    /// The result at row positions `i .. i + lanes` as one vector of the lane type
    /// (vectorized kernels only).
    fn vector_at<M: Module>(&self, e: &mut Emit<'_, '_, M>, i: Value) -> Result<Value> {
        let Vectors { lane, splats } =
            self.vectors.as_ref().ok_or_else(|| Error::Internal("jit: not vectorized".into()))?;
        let mut vecs = splats.clone();
        emit_vector_values(self.kernel, self.a, *lane, e, &mut vecs, &self.bases, &self.slot_vals as &SlotVals, i)?;
        let r = self.a.result.idx();
        match vecs[r] {
            Some(v) => Ok(v),
            None => {
                // An invariant result of another dtype: convert, then splat.
                let s = self.vals[r].ok_or_else(|| Error::Internal("jit: the result was not computed".into()))?;
                let s = e.cast(self.a.dtypes[r], lane.dtype(), s);
                Ok(e.b.ins().splat(lane.ty(), s))
            }
        }
    }

    /// The result at row positions `i .. i + lanes` as `f64` pairs (`F64X2`), in position
    /// order (vectorized kernels only).
    fn f64_pairs_at<M: Module>(&self, e: &mut Emit<'_, '_, M>, i: Value) -> Result<Vec<Value>> {
        let v = self.vector_at(e, i)?;
        let lane = self.vectors.as_ref().ok_or_else(|| Error::Internal("jit: not vectorized".into()))?.lane;
        lane.to_f64_pairs(e, v)
    }
}

/// The loops of a map: one vector per iteration while a vector's positions remain, when
/// vectorized and the result has the lane dtype (16 positions narrowed to `bool` bytes when
/// it is a lane mask), then one position at a time; each result stored at `out`.
pub(super) fn map_loops<M: Module>(body: &Body<'_>, e: &mut Emit<'_, '_, M>, out: Value, n: Value) -> Result<()> {
    let d = body.a.dtypes[body.a.result.idx()];
    let size = d.size() as i64;
    let (shead, sbody, exit) = (e.b.create_block(), e.b.create_block(), e.b.create_block());
    e.b.append_block_param(shead, types::I64);
    let zero = e.b.ins().iconst(types::I64, 0);
    let vector_loop = matches!(&body.vectors, Some(Vectors { lane, .. }) if lane.dtype() == d);
    // A varying `bool` result of a vectorized kernel is a lane mask: 16 positions per
    // iteration, narrowed to one vector of bytes.
    let bool_loop = body.vectors.is_some() && d == DType::Bool && body.a.varies[body.a.result.idx()];
    // The main loop takes `step` positions per iteration while they remain, then hands its
    // position to the scalar loop at `shead`.
    let step = match &body.vectors {
        Some(_) if bool_loop => 16,
        Some(Vectors { lane, .. }) if vector_loop => lane.lanes(),
        _ => 0,
    };
    if step == 0 {
        e.b.ins().jump(shead, &[BlockArg::Value(zero)]);
    } else if let Some(Vectors { lane, .. }) = &body.vectors {
        let (vhead, vbody) = (e.b.create_block(), e.b.create_block());
        e.b.append_block_param(vhead, types::I64);
        e.b.ins().jump(vhead, &[BlockArg::Value(zero)]);
        e.b.switch_to_block(vhead);
        let i = e.b.block_params(vhead)[0];
        let end = e.b.ins().iadd_imm_s(i, step as i64);
        let room = e.b.ins().icmp(IntCC::SignedLessThanOrEqual, end, n);
        e.b.ins().brif(room, vbody, &[], shead, &[BlockArg::Value(i)]);
        e.b.switch_to_block(vbody);
        let v = if bool_loop {
            let mut masks = Vec::with_capacity(16 / lane.lanes());
            for k in 0..16 / lane.lanes() {
                let at = e.b.ins().iadd_imm_s(i, (k * lane.lanes()) as i64);
                masks.push(body.vector_at(e, at)?);
            }
            bool_bytes(e, *lane, &masks)?
        } else {
            // One vector per iteration: unrolling measured no faster, and each copy of the
            // body (transcendental polynomials included) costs compile time.
            body.vector_at(e, i)?
        };
        let off = e.b.ins().imul_imm_s(i, size);
        let addr = e.b.ins().iadd(out, off);
        e.b.ins().store(mem(), v, addr, 0);
        e.b.ins().jump(vhead, &[BlockArg::Value(end)]);
    }
    e.b.switch_to_block(shead);
    let i = e.b.block_params(shead)[0];
    let more = e.b.ins().icmp(IntCC::SignedLessThan, i, n);
    e.b.ins().brif(more, sbody, &[], exit, &[]);
    e.b.switch_to_block(sbody);
    let v = body.scalar_at(e, i, false, vector_loop || bool_loop)?;
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

/// The pairwise-summation leaf (see [`crate::jit::compile::FnKind::SumLeaf`]).
pub(super) fn sum_leaf<M: Module>(body: &Body<'_>, e: &mut Emit<'_, '_, M>, out: Value, n: Value) -> Result<()> {
    let f64t = types::F64;
    let lanes = body.vectors.as_ref().map(|v| v.lane.lanes());
    let vector = lanes.is_some();
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
    // first 8 go through the loop body and the body is emitted once per vector (or, scalar,
    // per accumulator) only. Accumulator `k` adds positions `i + 2k` and `i + 2k + 1`
    // (scalar: `i + k`), whatever the lane type.
    // A costly body (transcendental functions) is emitted once and the accumulators rotate:
    // each iteration adds one vector (or position) into the first accumulators and passes
    // them on last, so after every 8 positions each accumulator has added the same positions
    // as in the unrolled loop, which adds 8 positions per iteration with one copy of the
    // body per accumulator: faster on cheap bodies, but each copy of a polynomial costs
    // compile time that its run never pays back.
    let rotate = costly(body.kernel, body.a);
    let step = match lanes {
        _ if !rotate => 8,
        Some(l) => l,
        None => 1,
    };
    let chunk = |e: &mut Emit<'_, '_, M>, i: Value| -> Result<Vec<Value>> {
        match lanes {
            Some(l) => {
                let mut pairs = Vec::with_capacity(n_acc);
                for k in 0..step / l {
                    let at = e.b.ins().iadd_imm_s(i, (k * l) as i64);
                    pairs.extend(body.f64_pairs_at(e, at)?);
                }
                Ok(pairs)
            }
            None => (0..step)
                .map(|k| {
                    let at = e.b.ins().iadd_imm_s(i, k as i64);
                    body.scalar_at(e, at, true, false)
                })
                .collect(),
        }
    };
    e.b.switch_to_block(big);
    let minus_zero = e.b.ins().f64const(-0.0);
    let start = if vector { e.b.ins().splat(types::F64X2, minus_zero) } else { minus_zero };
    // The positions the accumulators take: the largest multiple of 8 in the row.
    let n8 = e.b.ins().band_imm_s(n, -8);
    let mut args = vec![BlockArg::Value(zero)];
    args.extend((0..n_acc).map(|_| BlockArg::Value(start)));
    e.b.ins().jump(lhead, &args);

    e.b.switch_to_block(lhead);
    let lp = e.b.block_params(lhead).to_vec();
    let i = lp[0];
    let end = e.b.ins().iadd_imm_s(i, step as i64);
    let room = e.b.ins().icmp(IntCC::SignedLessThanOrEqual, end, n8);
    let pass: Vec<BlockArg> = lp.iter().map(|&v| BlockArg::Value(v)).collect();
    e.b.ins().brif(room, lbody, &[], combine, &pass);
    e.b.switch_to_block(lbody);
    // Only a leaf without rotation (memory-bound) has `next_rows`.
    hint_next_rows(body, e, i, step)?;
    let xs = chunk(e, i)?;
    if xs.is_empty() || xs.len() > n_acc || (!rotate && xs.len() != n_acc) {
        return Err(Error::Internal(format!("jit: {} values for {n_acc} accumulators", xs.len())));
    }
    let accs = &lp[1..];
    let sums: Vec<Value> = accs.iter().zip(&xs).map(|(&r, &x)| e.b.ins().fadd(r, x)).collect();
    let mut args = vec![BlockArg::Value(end)];
    args.extend(accs[sums.len()..].iter().chain(&sums).map(|&v| BlockArg::Value(v)));
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
    let x = body.scalar_at(e, i, true, vector)?;
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

/// Asks for positions `i .. i + positions` of the next row of each input in
/// `body.next_rows` into L2, a call of `compile::PREFETCH_L2` per line (one per iteration
/// when the positions make less), interleaved with this row's reads as the interpreter's
/// sums do.
fn hint_next_rows<M: Module>(body: &Body<'_>, e: &mut Emit<'_, '_, M>, i: Value, positions: usize) -> Result<()> {
    let Some(any) = body.any_next_row else {
        return Ok(());
    };
    // Rows with no next row to ask for (a 1-d walk, or rows that follow one another in
    // memory, which the hardware streams by itself) skip the calls.
    let (hint, rest) = (e.b.create_block(), e.b.create_block());
    e.b.ins().brif(any, hint, &[], rest, &[]);
    e.b.switch_to_block(hint);
    for (k, next) in body.next_rows.iter().enumerate() {
        if let (Some(next), Some(base)) = (next, body.bases[k]) {
            let size = body.kernel.inputs[k].dtype.size();
            let off = e.b.ins().imul_imm_s(i, size as i64);
            let here = e.b.ins().iadd(base, off);
            let there = e.b.ins().iadd(here, *next);
            for at in (0..positions * size).step_by(crate::prefetch::LINE) {
                let line = e.b.ins().iadd_imm_s(there, at as i64);
                e.call_void(crate::jit::compile::PREFETCH_L2, &[line])?;
            }
        }
    }
    e.b.ins().jump(rest, &[]);
    e.b.switch_to_block(rest);
    Ok(())
}

/// Whether evaluating `kernel` at a position calls a transcendental function (a vectorized
/// polynomial or a host call): then a copy of its body is large to compile and slow to run,
/// so loop overhead does not matter beside it.
pub(super) fn costly(kernel: &Kernel, a: &Analysis) -> bool {
    use kiln_ir::{BinaryOp, Inst};
    kernel.body.iter().enumerate().any(|(i, inst)| {
        a.live[i]
            && a.varies[i]
            && match inst {
                Inst::Unary(op, _) => crate::math::covers(*op) || crate::jit::host::unary_symbol(*op, true).is_some(),
                Inst::Binary(BinaryOp::Pow, ..) => !crate::jit::vector::fast_pow(a, i),
                _ => false,
            }
    })
}

/// Whether the integer sum's vector loop can take the result in `lane`s: a varying `bool`
/// result (a lane mask, all ones where true) or an integer result of the lane dtype.
pub(super) fn int_sum_lanes(lane: LaneType, a: &Analysis) -> bool {
    let r = a.result.idx();
    let d = a.dtypes[r];
    (d == DType::Bool && a.varies[r]) || (lane.integer() && d == lane.dtype())
}

/// The integer sum ([`crate::jit::compile::FnKind::IntSum`]): four vectors per iteration
/// (one for a costly body) added into two `i64` lanes while their positions remain (a mask
/// subtracted, its true lanes being -1; four 32-bit lanes widened to two pairs first), then
/// one position at a time, the result converted to `i64`; the wrapping total stored at
/// `out`.
pub(super) fn int_sum<M: Module>(body: &Body<'_>, e: &mut Emit<'_, '_, M>, out: Value, n: Value) -> Result<()> {
    let d = body.a.dtypes[body.a.result.idx()];
    let (shead, sbody, exit) = (e.b.create_block(), e.b.create_block(), e.b.create_block());
    e.b.append_block_param(shead, types::I64);
    e.b.append_block_param(shead, types::I64);
    e.b.append_block_param(exit, types::I64);
    let zero = e.b.ins().iconst(types::I64, 0);
    match &body.vectors {
        None => {
            e.b.ins().jump(shead, &[BlockArg::Value(zero), BlockArg::Value(zero)]);
        }
        Some(Vectors { lane, .. }) => {
            // A costly body is large to compile and slow to run, so loop overhead does not
            // matter beside it.
            let copies = if costly(body.kernel, body.a) { 1 } else { 4 };
            let lanes = lane.lanes();
            let (vhead, vbody, vdone) = (e.b.create_block(), e.b.create_block(), e.b.create_block());
            for block in [vhead, vdone] {
                e.b.append_block_param(block, types::I64);
                e.b.append_block_param(block, types::I64X2);
            }
            let none = e.b.ins().splat(types::I64X2, zero);
            e.b.ins().jump(vhead, &[BlockArg::Value(zero), BlockArg::Value(none)]);
            e.b.switch_to_block(vhead);
            let (i, acc) = (e.b.block_params(vhead)[0], e.b.block_params(vhead)[1]);
            let end = e.b.ins().iadd_imm_s(i, (copies * lanes) as i64);
            let room = e.b.ins().icmp(IntCC::SignedLessThanOrEqual, end, n);
            e.b.ins().brif(room, vbody, &[], vdone, &[BlockArg::Value(i), BlockArg::Value(acc)]);
            e.b.switch_to_block(vbody);
            hint_next_rows(body, e, i, copies * lanes)?;
            let mut acc = acc;
            for k in 0..copies {
                let at = e.b.ins().iadd_imm_s(i, (k * lanes) as i64);
                let v = body.vector_at(e, at)?;
                // The lanes as 64-bit integers: one vector of two, or two of four 32-bit lanes.
                let wide_ty = if lanes == 2 { types::I64X2 } else { types::I32X4 };
                let v = if e.b.func.dfg.value_type(v) == wide_ty {
                    v
                } else {
                    e.b.ins().bitcast(wide_ty, crate::jit::vector::cast_flags(), v)
                };
                let parts = if lanes == 2 { vec![v] } else { vec![e.b.ins().swiden_low(v), e.b.ins().swiden_high(v)] };
                for part in parts {
                    acc = if d == DType::Bool { e.b.ins().isub(acc, part) } else { e.b.ins().iadd(acc, part) };
                }
            }
            e.b.ins().jump(vhead, &[BlockArg::Value(end), BlockArg::Value(acc)]);
            e.b.switch_to_block(vdone);
            let (i, acc) = (e.b.block_params(vdone)[0], e.b.block_params(vdone)[1]);
            let lo = e.b.ins().extractlane(acc, 0);
            let hi = e.b.ins().extractlane(acc, 1);
            let total = e.b.ins().iadd(lo, hi);
            e.b.ins().jump(shead, &[BlockArg::Value(i), BlockArg::Value(total)]);
        }
    }
    e.b.switch_to_block(shead);
    let (i, total) = (e.b.block_params(shead)[0], e.b.block_params(shead)[1]);
    let more = e.b.ins().icmp(IntCC::SignedLessThan, i, n);
    e.b.ins().brif(more, sbody, &[], exit, &[BlockArg::Value(total)]);
    e.b.switch_to_block(sbody);
    let v = body.scalar_at(e, i, false, body.vectors.is_some())?;
    let v = e.cast(d, DType::I64, v);
    let total = e.b.ins().iadd(total, v);
    let next = e.b.ins().iadd_imm_s(i, 1);
    e.b.ins().jump(shead, &[BlockArg::Value(next), BlockArg::Value(total)]);
    e.b.switch_to_block(exit);
    let total = e.b.block_params(exit)[0];
    e.b.ins().store(mem(), total, out, 0);
    let status = e.b.use_var(e.flag);
    e.b.ins().return_(&[status]);
    Ok(())
}

/// Whether the extreme fold can be compiled for a kernel vectorized in `lane`s: a float
/// result in its own lanes.
pub(super) fn extreme_lanes(lane: LaneType, a: &Analysis) -> bool {
    let d = a.dtypes[a.result.idx()];
    d.is_float() && d == lane.dtype()
}

/// NumPy's NaN-propagating `maximum` (`max`) or `minimum` of `acc` and `x`, scalars or lane
/// vectors: `acc` where `acc >= x` (`<=`) or `acc` is NaN, else `x`.
fn extreme_step<M: Module>(e: &mut Emit<'_, '_, M>, lane: Option<LaneType>, max: bool, acc: Value, x: Value) -> Value {
    let cc = if max { FloatCC::GreaterThanOrEqual } else { FloatCC::LessThanOrEqual };
    let keep = e.b.ins().fcmp(cc, acc, x);
    let nan = e.b.ins().fcmp(FloatCC::Unordered, acc, acc);
    let keep = e.b.ins().bor(keep, nan);
    match lane {
        Some(lane) => {
            let mask = e.b.ins().bitcast(lane.ty(), crate::jit::vector::cast_flags(), keep);
            e.b.ins().bitselect(mask, acc, x)
        }
        None => e.b.ins().select(keep, acc, x),
    }
}

/// The extreme fold ([`crate::jit::compile::FnKind::Extreme`]): `min` or `max` of the result
/// over the `n` positions as `MinMax::fold_slice` folds them, in its 16 chains (chain `j`
/// takes positions `16m + j`: four `F32X4` or eight `F64X2` vectors per 16 positions),
/// folded in order, then the positions past the last 16 folded from the identity one by
/// one, and that added last: the interpreter's bits, NaN payloads and signed zeros
/// included. Stores the result (of the lane dtype) at `out`.
pub(super) fn extreme<M: Module>(body: &Body<'_>, e: &mut Emit<'_, '_, M>, out: Value, n: Value) -> Result<()> {
    let Some(Vectors { lane, .. }) = &body.vectors else {
        return Err(Error::Internal("jit: an extreme fold of a kernel that is not vectorized".into()));
    };
    let lane = *lane;
    let max = matches!(&body.kernel.output, kiln_ir::KernelOutput::Reduce { op: kiln_ir::ReduceOp::Max, .. });
    let identity = if max { f64::NEG_INFINITY } else { f64::INFINITY };
    let (lanes, scalar_ty) = (lane.lanes(), lane.dtype());
    let chains = crate::reference::reduce::fold::MINMAX_CHAINS;
    let per = chains / lanes;
    let [vhead, vbody, vdone, thead, tbody, done] = [(); 6].map(|_| e.b.create_block());
    e.b.append_block_param(vhead, types::I64);
    e.b.append_block_param(vdone, types::I64);
    for _ in 0..per {
        e.b.append_block_param(vhead, lane.ty());
        e.b.append_block_param(vdone, lane.ty());
    }
    let float_ty = if scalar_ty == DType::F32 { types::F32 } else { types::F64 };
    e.b.append_block_param(thead, types::I64);
    e.b.append_block_param(thead, float_ty);
    e.b.append_block_param(done, float_ty);
    let zero = e.b.ins().iconst(types::I64, 0);
    let init = lane.splat_const(e, identity);
    let args: Vec<BlockArg> =
        std::iter::once(zero).chain(std::iter::repeat_n(init, per)).map(BlockArg::Value).collect();
    e.b.ins().jump(vhead, &args);

    e.b.switch_to_block(vhead);
    let params = e.b.block_params(vhead).to_vec();
    let (i, accs) = (params[0], &params[1..]);
    let end = e.b.ins().iadd_imm_s(i, chains as i64);
    let room = e.b.ins().icmp(IntCC::SignedLessThanOrEqual, end, n);
    let to_done: Vec<BlockArg> = params.iter().map(|&v| BlockArg::Value(v)).collect();
    e.b.ins().brif(room, vbody, &[], vdone, &to_done);
    e.b.switch_to_block(vbody);
    hint_next_rows(body, e, i, chains)?;
    let mut next = vec![BlockArg::Value(end)];
    for (k, &acc) in accs.iter().enumerate() {
        let at = e.b.ins().iadd_imm_s(i, (k * lanes) as i64);
        let x = body.vector_at(e, at)?;
        next.push(BlockArg::Value(extreme_step(e, Some(lane), max, acc, x)));
    }
    e.b.ins().jump(vhead, &next);

    // The chains, folded in order; then the tail from the identity.
    e.b.switch_to_block(vdone);
    let params = e.b.block_params(vdone).to_vec();
    let (i, accs) = (params[0], &params[1..]);
    let mut r = Vec::with_capacity(chains);
    for &acc in accs {
        for l in 0..lanes {
            r.push(e.b.ins().extractlane(acc, l as u8));
        }
    }
    let chains = r[1..].iter().fold(r[0], |a, &x| extreme_step(e, None, max, a, x));
    let tail_init =
        if scalar_ty == DType::F32 { e.b.ins().f32const(identity as f32) } else { e.b.ins().f64const(identity) };
    e.b.ins().jump(thead, &[BlockArg::Value(i), BlockArg::Value(tail_init)]);
    e.b.switch_to_block(thead);
    let (i, tail) = (e.b.block_params(thead)[0], e.b.block_params(thead)[1]);
    let more = e.b.ins().icmp(IntCC::SignedLessThan, i, n);
    e.b.ins().brif(more, tbody, &[], done, &[BlockArg::Value(tail)]);
    e.b.switch_to_block(tbody);
    let x = body.scalar_at(e, i, false, true)?;
    let tail = extreme_step(e, None, max, tail, x);
    let next = e.b.ins().iadd_imm_s(i, 1);
    e.b.ins().jump(thead, &[BlockArg::Value(next), BlockArg::Value(tail)]);
    e.b.switch_to_block(done);
    let tail = e.b.block_params(done)[0];
    let result = extreme_step(e, None, max, chains, tail);
    e.b.ins().store(mem(), result, out, 0);
    let status = e.b.use_var(e.flag);
    e.b.ins().return_(&[status]);
    Ok(())
}
