//! The 2-lane (`F64X2`) lowering of a row's varying values, used for the main loop when
//! every varying value is an `f64` computed by ops that have a lane-wise form: unit-stride
//! loads, arithmetic, `sqrt`, `abs`, rounding, NaN-propagating `minimum`/`maximum` (a
//! compare and a bit select), NumPy's scalar `pow` fast paths, the polynomial `exp`, `ln`,
//! `sin`, `cos` and `tanh` (`jit::math`), and per-lane host calls for the rest (other
//! transcendentals, `rem`, `pow`, random numbers, `linspace`). Each lane computes exactly
//! what the scalar code computes, so results are the same bits.

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{Endianness, InstBuilder, MemFlagsData, Value, types};
use cranelift_module::Module;

use kiln_ir::{BinaryOp, DType, Distribution, Inst, Kernel, Scalar, UnaryOp};

use crate::error::{Error, Result};
use crate::jit::analysis::{Analysis, Stride, random_affine, row_axis};
use crate::jit::emit::{Emit, mem};
use crate::jit::host;
use crate::random::RandomStream;

/// Whether every live varying value of `kernel` has a 2-lane form (see the module docs).
pub(super) fn vectorizable(kernel: &Kernel, a: &Analysis, strides: &[Stride]) -> bool {
    let calls = vectorize_calls();
    let f64s = |vs: &[kiln_ir::ValueId]| vs.iter().all(|v| a.dtypes[v.idx()] == DType::F64);
    kernel.body.iter().enumerate().filter(|&(i, _)| a.live[i] && a.varies[i]).all(|(i, inst)| {
        a.dtypes[i] == DType::F64
            && match inst {
                Inst::Load(k) => strides.get(*k as usize) == Some(&Stride::One),
                // Lane-wise host calls only shuffle registers around the calls: a kernel that
                // needs one per element stays scalar (`vectorize_calls` lifts this for tests).
                Inst::Random { dist: Distribution::Normal { .. }, .. } | Inst::Linspace { .. } => calls,
                Inst::Random { .. } | Inst::Arange { .. } => true,
                Inst::Unary(op, x) => {
                    let call = host::unary_symbol(*op, true).is_some() && !crate::math::covers(*op);
                    !matches!(op, UnaryOp::IsNan | UnaryOp::Not) && f64s(&[*x]) && (calls || !call)
                }
                Inst::Binary(op, x, y) => {
                    use BinaryOp::*;
                    let fast_pow =
                        matches!(a.const_exponent[i].map(Scalar::as_f64), Some(2.0 | 0.5 | -1.0 | 1.0 | 0.0));
                    let call = op == &Rem || (op == &Pow && !fast_pow);
                    matches!(op, Add | Sub | Mul | Div | Rem | Pow | Minimum | Maximum)
                        && f64s(&[*x, *y])
                        && (calls || !call)
                }
                Inst::Const(_) | Inst::Where(..) | Inst::Cast(..) => false,
            }
    })
}

/// Whether kernels that call host functions per element are vectorized too (lane by
/// lane): off, except in this crate's tests, which cover the lane-wise calls.
fn vectorize_calls() -> bool {
    cfg!(test)
}

/// Splats the live invariant `f64` values (computed in `vals`) into 2-lane vectors.
pub(super) fn splats<M: Module>(a: &Analysis, e: &mut Emit<'_, '_, M>, vals: &[Option<Value>]) -> Vec<Option<Value>> {
    vals.iter()
        .enumerate()
        .map(|(i, v)| match v {
            Some(v) if a.live[i] && !a.varies[i] && a.dtypes[i] == DType::F64 => {
                Some(e.b.ins().splat(types::F64X2, *v))
            }
            _ => None,
        })
        .collect()
}

/// A vector of two scalars.
fn pair<M: Module>(e: &mut Emit<'_, '_, M>, lo: Value, hi: Value) -> Value {
    let v = e.b.ins().splat(types::F64X2, lo);
    e.b.ins().insertlane(v, hi, 1)
}

/// `name` applied lane by lane.
pub(super) fn per_lane<M: Module>(e: &mut Emit<'_, '_, M>, name: &'static str, args: &[Value]) -> Result<Value> {
    let mut lanes = [None, None];
    for (l, slot) in lanes.iter_mut().enumerate() {
        let xs: Vec<Value> = args.iter().map(|&x| e.b.ins().extractlane(x, l as u8)).collect();
        *slot = Some(e.call(name, &xs)?);
    }
    let [Some(lo), Some(hi)] = lanes else { return Err(Error::Internal("jit: a lane went missing".into())) };
    Ok(pair(e, lo, hi))
}

/// The per-row source values the row function reads before its loop: position and host
/// parameters, per instruction.
pub(super) type SlotVals = [Option<(Value, Option<Value>)>];

/// Emits the live varying values at row positions `i` and `i + 1` as 2-lane vectors, into
/// `vecs` (which holds the splats of the invariant values).
#[allow(clippy::too_many_arguments)]
pub(super) fn emit_vector_values<M: Module>(
    kernel: &Kernel,
    a: &Analysis,
    e: &mut Emit<'_, '_, M>,
    vecs: &mut [Option<Value>],
    bases: &[Option<Value>],
    slot_vals: &SlotVals,
    i: Value,
) -> Result<()> {
    let missing = |v: usize| Error::Internal(format!("jit: %{v} has no vector form"));
    for (k, inst) in kernel.body.iter().enumerate() {
        if !a.live[k] || !a.varies[k] {
            continue;
        }
        let get = |v: kiln_ir::ValueId| vecs[v.idx()].ok_or_else(|| missing(v.idx()));
        let lane_positions = |e: &mut Emit<'_, '_, M>, p: Value, step: i64| {
            let at = e.b.ins().imul_imm_s(i, step);
            let lo = e.b.ins().iadd(p, at);
            let hi = e.b.ins().iadd_imm_s(lo, step);
            (lo, hi)
        };
        let v = match inst {
            Inst::Load(n) => {
                let base = bases.get(*n as usize).copied().flatten().ok_or_else(|| missing(k))?;
                let off = e.b.ins().imul_imm_s(i, 8);
                let addr = e.b.ins().iadd(base, off);
                e.b.ins().load(types::F64X2, mem(), addr, 0)
            }
            Inst::Random { base, start, step, axes, dist, seed } => {
                let (p, x) = slot_vals[k].ok_or_else(|| missing(k))?;
                let x = x.ok_or_else(|| missing(k))?;
                let row_step = random_affine(base, start, step, axes, kernel.ndim as usize).1[row_axis(kernel)];
                let (lo, hi) = lane_positions(e, p, row_step);
                match dist {
                    Distribution::Uniform { low, high } => {
                        let g = e.b.ins().splat(types::I64X2, lo);
                        let g = e.b.ins().insertlane(g, hi, 1);
                        e.uniform(g, RandomStream::new(*seed).keys(), low.0, high.0 - low.0)
                    }
                    Distribution::Normal { .. } => {
                        let lo = e.call("kiln_random", &[x, lo])?;
                        let hi = e.call("kiln_random", &[x, hi])?;
                        pair(e, lo, hi)
                    }
                }
            }
            Inst::Linspace { .. } => {
                let (p, x) = slot_vals[k].ok_or_else(|| missing(k))?;
                let x = x.ok_or_else(|| missing(k))?;
                let (lo, hi) = lane_positions(e, p, 1);
                let lo = e.call("kiln_linspace", &[x, lo])?;
                let hi = e.call("kiln_linspace", &[x, hi])?;
                pair(e, lo, hi)
            }
            Inst::Arange { start, step, .. } => {
                let (p, _) = slot_vals[k].ok_or_else(|| missing(k))?;
                let (lo, hi) = lane_positions(e, p, 1);
                let lo = e.arange(*start, *step, lo);
                let hi = e.arange(*start, *step, hi);
                pair(e, lo, hi)
            }
            Inst::Unary(op, x) => {
                let x = get(*x)?;
                match op {
                    UnaryOp::Neg => e.b.ins().fneg(x),
                    UnaryOp::Abs => e.b.ins().fabs(x),
                    UnaryOp::Sqrt => e.b.ins().sqrt(x),
                    UnaryOp::Floor => e.b.ins().floor(x),
                    UnaryOp::Ceil => e.b.ins().ceil(x),
                    UnaryOp::Round => e.b.ins().nearest(x),
                    op if crate::math::covers(*op) => crate::jit::math::emit(e, *op, x, true)?,
                    op => {
                        let name = host::unary_symbol(*op, true).ok_or_else(|| missing(k))?;
                        per_lane(e, name, &[x])?
                    }
                }
            }
            Inst::Binary(op, x, y) => {
                let (x, y) = (get(*x)?, get(*y)?);
                binary(e, *op, x, y, a.const_exponent[k]).ok_or_else(|| missing(k))??
            }
            _ => return Err(missing(k)),
        };
        vecs[k] = Some(v);
    }
    Ok(())
}

/// The 2-lane form of a binary `f64` op (`None` if it has none).
fn binary<M: Module>(
    e: &mut Emit<'_, '_, M>,
    op: BinaryOp,
    x: Value,
    y: Value,
    exponent: Option<Scalar>,
) -> Option<Result<Value>> {
    use BinaryOp::*;
    Some(Ok(match op {
        Add => e.b.ins().fadd(x, y),
        Sub => e.b.ins().fsub(x, y),
        Mul => e.b.ins().fmul(x, y),
        Div => e.b.ins().fdiv(x, y),
        Rem => return Some(per_lane(e, "kiln_rem_f64", &[x, y])),
        Minimum | Maximum => {
            let cc = if op == Minimum { FloatCC::LessThanOrEqual } else { FloatCC::GreaterThanOrEqual };
            let keep = e.b.ins().fcmp(cc, x, y);
            let nan = e.b.ins().fcmp(FloatCC::Unordered, x, x);
            let keep = e.b.ins().bor(keep, nan);
            let flags = MemFlagsData::new().with_endianness(Endianness::Little);
            let mask = e.b.ins().bitcast(types::F64X2, flags, keep);
            e.b.ins().bitselect(mask, x, y)
        }
        Pow => match exponent.map(Scalar::as_f64) {
            Some(2.0) => e.b.ins().fmul(x, x),
            Some(0.5) => e.b.ins().sqrt(x),
            Some(-1.0) => {
                let one = e.b.ins().f64const(1.0);
                let one = e.b.ins().splat(types::F64X2, one);
                e.b.ins().fdiv(one, x)
            }
            Some(1.0) => x,
            Some(0.0) => {
                let one = e.b.ins().f64const(1.0);
                e.b.ins().splat(types::F64X2, one)
            }
            _ => return Some(per_lane(e, "kiln_pow_f64", &[x, y])),
        },
        _ => return None,
    }))
}
