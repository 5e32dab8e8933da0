//! The vector lowering of a row's varying values, used for the main loop when every varying
//! value has one dtype and is computed by ops that have a lane-wise form ([`LaneType`]:
//! `F64X2` for `f64`, `F32X4` for `f32`; for maps also `I64X2` and `I32X4`, with the
//! wrapping integer ops of [`integer_lanes`]). In every lane type, a comparison used only
//! as a `where` condition is a lane mask and the `where` a bit select ([`masks`]; `and`,
//! `or`, `not` of masks, `isnan` and, in four lanes, `bool` inputs are masks too), and a
//! mask that is the result is narrowed to `bool` bytes by a map ([`bool_bytes`]). Float
//! lanes: unit-stride loads, arithmetic, `sqrt`, `abs`, rounding, NaN-propagating
//! `minimum`/`maximum` (a compare and a bit select), NumPy's scalar `pow` fast paths,
//! splats of invariant values, `arange`; for `f64` also uniform random numbers and the
//! polynomial `exp`, `ln`, `sin`, `cos`, `tanh` and `pow` (`jit::math`; with fills,
//! `jit::fills`, these are loads of buffers instead). Per-lane host calls cover the rest
//! (other transcendentals, `rem`, `f32` `pow`, normal random numbers, `linspace`), but only in tests: in
//! production such kernels stay scalar. Each lane computes exactly what the scalar code
//! computes (IEEE operations are exact per lane, and no `fma` is formed), so results are
//! the same bits.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_module::Module;

use kiln_ir::{BinaryOp, DType, Distribution, Inst, Kernel, Scalar, UnaryOp};

use crate::error::{Error, Result};
use crate::jit::analysis::{Analysis, Stride, random_affine, row_axis};
use crate::jit::emit::{Emit, mem};
use crate::jit::host;
use crate::random::RandomStream;

/// The vector type of a kernel's main loop: the kernel's varying values, all of one float
/// dtype, computed a 128-bit vector at a time.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum LaneType {
    /// Two `f64` lanes.
    F64X2,
    /// Four `f32` lanes.
    F32X4,
    /// Two `i64` lanes (maps only; the ops of [`integer_lanes`]).
    I64X2,
    /// Four `i32` lanes (likewise).
    I32X4,
}

impl LaneType {
    /// The lane type whose lanes hold dtype `d`, if any.
    fn of(d: DType) -> Option<LaneType> {
        match d {
            DType::F64 => Some(LaneType::F64X2),
            DType::F32 => Some(LaneType::F32X4),
            DType::I64 => Some(LaneType::I64X2),
            DType::I32 => Some(LaneType::I32X4),
            DType::Bool => None,
        }
    }

    /// Whether the lanes are integers.
    pub(super) fn integer(self) -> bool {
        matches!(self, LaneType::I64X2 | LaneType::I32X4)
    }

    /// The dtype of one lane.
    pub(super) fn dtype(self) -> DType {
        match self {
            LaneType::F64X2 => DType::F64,
            LaneType::F32X4 => DType::F32,
            LaneType::I64X2 => DType::I64,
            LaneType::I32X4 => DType::I32,
        }
    }

    /// The Cranelift vector type.
    pub(super) fn ty(self) -> Type {
        match self {
            LaneType::F64X2 => types::F64X2,
            LaneType::F32X4 => types::F32X4,
            LaneType::I64X2 => types::I64X2,
            LaneType::I32X4 => types::I32X4,
        }
    }

    /// The number of lanes (row positions per vector).
    pub(super) fn lanes(self) -> usize {
        match self {
            LaneType::F64X2 | LaneType::I64X2 => 2,
            LaneType::F32X4 | LaneType::I32X4 => 4,
        }
    }

    /// Whether the lanes are `f64` (the host functions' `wide` flavour).
    fn wide(self) -> bool {
        self == LaneType::F64X2
    }

    /// `v` (rounded to the lane dtype) in every lane.
    pub(super) fn splat_const<M: Module>(self, e: &mut Emit<'_, '_, M>, v: f64) -> Value {
        let s = match self {
            LaneType::F64X2 => e.b.ins().f64const(v),
            LaneType::F32X4 => e.b.ins().f32const(v as f32),
            LaneType::I64X2 => e.b.ins().iconst(types::I64, v as i64),
            LaneType::I32X4 => e.b.ins().iconst(types::I32, i64::from(v as i32)),
        };
        e.b.ins().splat(self.ty(), s)
    }

    /// The `f64` values of vector `v`'s lanes, in lane order, as `F64X2` halves: `v` itself,
    /// or an `F32X4`'s low and high lane pairs promoted exactly.
    pub(super) fn to_f64_pairs<M: Module>(self, e: &mut Emit<'_, '_, M>, v: Value) -> Result<Vec<Value>> {
        Ok(match self {
            LaneType::F64X2 => vec![v],
            LaneType::I64X2 | LaneType::I32X4 => {
                return Err(Error::Internal("jit: integer lanes are not summed in f64 pairs".into()));
            }
            LaneType::F32X4 => {
                let low = e.b.ins().fvpromote_low(v);
                // Lanes 2 and 3 moved down (bytes 8..16 into 0..8) for the second promotion.
                let mask: Vec<u8> = (8..16).chain(8..16).collect();
                let mask = e.b.func.dfg.immediates.push(ConstantData::from(mask));
                let bytes = e.b.ins().bitcast(types::I8X16, cast_flags(), v);
                let high = e.b.ins().shuffle(bytes, bytes, mask);
                let high = e.b.ins().bitcast(types::F32X4, cast_flags(), high);
                let high = e.b.ins().fvpromote_low(high);
                vec![low, high]
            }
        })
    }
}

/// Bit casts between vector types of the same size (lane order is little-endian).
pub(super) fn cast_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// The lane type of `kernel`'s main loop, when every live varying value has a lane-wise form
/// in it (see the module docs): the varying values' common float dtype decides it; a kernel
/// with nothing varying takes its result's (`F64X2` for a result that is not a float, which
/// is converted and splatted).
pub(super) fn lane_type(kernel: &Kernel, a: &Analysis, strides: &[Stride]) -> Option<LaneType> {
    let varying = kernel.body.iter().enumerate().filter(|&(i, _)| a.live[i] && a.varies[i]);
    // The first varying value that is not a `bool` decides; with none, `bool` masks alone
    // take four lanes, and a kernel with nothing varying its result's lanes.
    let lane = match varying.clone().find(|&(i, _)| a.dtypes[i] != DType::Bool) {
        Some((i, _)) => LaneType::of(a.dtypes[i])?,
        None if varying.clone().next().is_some() => LaneType::I32X4,
        None => LaneType::of(a.dtypes[a.result.idx()]).unwrap_or(LaneType::F64X2),
    };
    let calls = vectorize_calls();
    let d = lane.dtype();
    let same = |vs: &[kiln_ir::ValueId]| vs.iter().all(|v| a.dtypes[v.idx()] == d);
    let masks = masks(kernel, a, d, strides);
    let mut varying = varying;
    let all = varying.all(|(i, inst)| {
        if masks[i] {
            return true;
        }
        a.dtypes[i] == d
            && (!lane.integer() || integer_lanes(inst))
            && match inst {
                Inst::Load(k) => strides.get(*k as usize) == Some(&Stride::One),
                // Lane-wise host calls only shuffle registers around the calls: a kernel that
                // needs one per element stays scalar (`vectorize_calls` lifts this for tests).
                Inst::Random { dist: Distribution::Normal { .. }, .. } | Inst::Linspace { .. } => calls,
                // Random numbers are `f64`, so uniform ones occur in `F64X2` kernels only.
                Inst::Random { .. } | Inst::Arange { .. } => true,
                Inst::Unary(op, x) => {
                    let polynomial = lane.wide() && crate::math::covers(*op);
                    let call = host::unary_symbol(*op, lane.wide()).is_some() && !polynomial;
                    !matches!(op, UnaryOp::IsNan | UnaryOp::Not) && same(&[*x]) && (calls || !call)
                }
                Inst::Binary(op, x, y) => {
                    use BinaryOp::*;
                    let call = op == &Rem || (op == &Pow && !fast_pow(a, i) && !lane.wide());
                    matches!(op, Add | Sub | Mul | Div | Rem | Pow | Minimum | Maximum)
                        && same(&[*x, *y])
                        && (calls || !call)
                }
                // A lane mask picks between values of the lane dtype.
                Inst::Where(c, x, y) => masks[c.idx()] && same(&[*x, *y]),
                Inst::Const(_) | Inst::Cast(..) => false,
            }
    });
    all.then_some(lane)
}

/// Which values are lane masks: the varying comparisons of values of dtype `d`, `isnan` of
/// them (floats), unit-stride loads of `bool` inputs (in four lanes), and `and`/`or`/`not`
/// of masks, whose every use is as the condition of a
/// `where` or an operand of another mask (a comparison's vector is a mask of all-ones or
/// zero lanes, which `bitselect` takes directly and the bitwise ops combine), or that are
/// the result (which a map narrows to bytes, [`bool_bytes`]); a `bool` used otherwise has
/// no vector form.
fn masks(kernel: &Kernel, a: &Analysis, d: DType, strides: &[Stride]) -> Vec<bool> {
    use BinaryOp::*;
    let n = kernel.body.len();
    let mut masks = vec![false; n];
    for (i, inst) in kernel.body.iter().enumerate() {
        let typed = |v: &kiln_ir::ValueId| a.dtypes[v.idx()] == d;
        masks[i] = a.live[i]
            && a.varies[i]
            && match inst {
                // Four lanes only: widening two bytes to two 64-bit lanes costs more than the
                // scalar loop (`where(m, x, -x)`: 0.80 against 0.67 ms per 1024² block).
                Inst::Load(k) => {
                    a.dtypes[i] == DType::Bool
                        && matches!(d, DType::F32 | DType::I32)
                        && strides.get(*k as usize) == Some(&Stride::One)
                }
                Inst::Binary(Eq | Ne | Lt | Le | Gt | Ge, x, y) => typed(x) && typed(y),
                Inst::Unary(UnaryOp::IsNan, x) => d.is_float() && typed(x),
                Inst::Binary(And | Or, x, y) => masks[x.idx()] && masks[y.idx()],
                Inst::Unary(UnaryOp::Not, x) => masks[x.idx()],
                _ => false,
            };
    }
    // Every other use unmasks the value it reads. Users come after what they read, so
    // walking back settles each value's users first (the result may stay a mask).
    for (j, inst) in kernel.body.iter().enumerate().rev().filter(|&(j, _)| a.live[j]) {
        let values = match inst {
            Inst::Where(_, x, y) if a.varies[j] => vec![x.idx(), y.idx()],
            Inst::Binary(And | Or, ..) | Inst::Unary(UnaryOp::Not, _) if masks[j] => vec![],
            other => operands(other),
        };
        for v in values {
            masks[v] = false;
        }
    }
    masks
}

/// The values `inst` reads.
fn operands(inst: &Inst) -> Vec<usize> {
    match inst {
        Inst::Unary(_, x) | Inst::Cast(_, x) => vec![x.idx()],
        Inst::Binary(_, x, y) => vec![x.idx(), y.idx()],
        Inst::Where(c, x, y) => vec![c.idx(), x.idx(), y.idx()],
        _ => vec![],
    }
}

/// Whether `inst` has a lane-wise form in integer lanes: loads, the wrapping `+ - *`,
/// negation, `minimum`, `maximum`, the wrapping `abs` and the rounding ops (which leave
/// integers as they are). Remainder and powers keep their zero and sign guards in scalar
/// code.
fn integer_lanes(inst: &Inst) -> bool {
    use BinaryOp::*;
    match inst {
        Inst::Load(_) => true,
        Inst::Unary(op, _) => {
            matches!(op, UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round)
        }
        Inst::Binary(op, ..) => matches!(op, Add | Sub | Mul | Minimum | Maximum | Eq | Ne | Lt | Le | Gt | Ge),
        Inst::Where(..) => true,
        _ => false,
    }
}

/// Whether instruction `i`, a `pow`, has a constant exponent that NumPy's fast paths
/// compute without a call (2, 0.5, -1, 1, 0).
pub(super) fn fast_pow(a: &Analysis, i: usize) -> bool {
    matches!(a.const_exponent[i].map(Scalar::as_f64), Some(2.0 | 0.5 | -1.0 | 1.0 | 0.0))
}

/// Whether kernels that call host functions per element are vectorized too (lane by
/// lane): off, except in this crate's tests, which cover the lane-wise calls.
fn vectorize_calls() -> bool {
    cfg!(test)
}

/// Splats the live invariant values of the lane dtype (computed in `vals`) into vectors.
pub(super) fn splats<M: Module>(
    a: &Analysis,
    lane: LaneType,
    e: &mut Emit<'_, '_, M>,
    vals: &[Option<Value>],
) -> Vec<Option<Value>> {
    vals.iter()
        .enumerate()
        .map(|(i, v)| match v {
            Some(v) if a.live[i] && !a.varies[i] && a.dtypes[i] == lane.dtype() => Some(e.b.ins().splat(lane.ty(), *v)),
            _ => None,
        })
        .collect()
}

/// A vector of the scalars `lanes` (one per lane, in order).
fn gather<M: Module>(e: &mut Emit<'_, '_, M>, lane: LaneType, lanes: &[Value]) -> Result<Value> {
    let (&first, rest) = lanes.split_first().ok_or_else(|| Error::Internal("jit: a vector of no lanes".into()))?;
    let mut v = e.b.ins().splat(lane.ty(), first);
    for (l, &x) in rest.iter().enumerate() {
        v = e.b.ins().insertlane(v, x, l as u8 + 1);
    }
    Ok(v)
}

/// `name` applied lane by lane.
pub(super) fn per_lane<M: Module>(
    e: &mut Emit<'_, '_, M>,
    lane: LaneType,
    name: &'static str,
    args: &[Value],
) -> Result<Value> {
    let mut lanes = Vec::with_capacity(lane.lanes());
    for l in 0..lane.lanes() {
        let xs: Vec<Value> = args.iter().map(|&x| e.b.ins().extractlane(x, l as u8)).collect();
        lanes.push(e.call(name, &xs)?);
    }
    gather(e, lane, &lanes)
}

/// The per-row source values the row function reads before its loop: position and host
/// parameters, per instruction.
pub(super) type SlotVals = [Option<(Value, Option<Value>)>];

/// Emits the live varying values at row positions `i .. i + lane.lanes()` as vectors, into
/// `vecs` (which holds the splats of the invariant values).
#[allow(clippy::too_many_arguments)]
pub(super) fn emit_vector_values<M: Module>(
    kernel: &Kernel,
    a: &Analysis,
    lane: LaneType,
    e: &mut Emit<'_, '_, M>,
    vecs: &mut [Option<Value>],
    bases: &[Option<Value>],
    slot_vals: &SlotVals,
    i: Value,
) -> Result<()> {
    let missing = |v: usize| Error::Internal(format!("jit: %{v} has no vector form"));
    let size = lane.dtype().size() as i64;
    for (k, inst) in kernel.body.iter().enumerate() {
        if !a.live[k] || !a.varies[k] {
            continue;
        }
        let get = |v: kiln_ir::ValueId| vecs[v.idx()].ok_or_else(|| missing(v.idx()));
        // The position of each lane: `p + (i + l) * step`.
        let lane_positions = |e: &mut Emit<'_, '_, M>, p: Value, step: i64| -> Vec<Value> {
            let at = e.b.ins().imul_imm_s(i, step);
            let first = e.b.ins().iadd(p, at);
            let mut ps = vec![first];
            for l in 1..lane.lanes() {
                ps.push(e.b.ins().iadd_imm_s(first, l as i64 * step));
            }
            ps
        };
        let v = match inst {
            Inst::Load(n) if a.dtypes[k] == DType::Bool => {
                let base = bases.get(*n as usize).copied().flatten().ok_or_else(|| missing(k))?;
                let addr = e.b.ins().iadd(base, i);
                bool_mask(e, addr)
            }
            Inst::Load(n) => {
                let base = bases.get(*n as usize).copied().flatten().ok_or_else(|| missing(k))?;
                let off = e.b.ins().imul_imm_s(i, size);
                let addr = e.b.ins().iadd(base, off);
                e.b.ins().load(lane.ty(), mem(), addr, 0)
            }
            Inst::Random { base, start, step, axes, dist, seed } => {
                let (p, x) = slot_vals[k].ok_or_else(|| missing(k))?;
                let x = x.ok_or_else(|| missing(k))?;
                let row_step = random_affine(base, start, step, axes, kernel.ndim as usize).1[row_axis(kernel)];
                let ps = lane_positions(e, p, row_step);
                match (dist, &ps[..]) {
                    (Distribution::Uniform { low, high }, &[lo, hi]) => {
                        let g = e.b.ins().splat(types::I64X2, lo);
                        let g = e.b.ins().insertlane(g, hi, 1);
                        e.uniform(g, RandomStream::new(*seed).keys(), low.0, high.0 - low.0)
                    }
                    (Distribution::Uniform { .. }, _) => return Err(missing(k)),
                    (Distribution::Normal { .. }, _) => {
                        let lanes = ps.iter().map(|&g| e.call("kiln_random", &[x, g])).collect::<Result<Vec<_>>>()?;
                        gather(e, lane, &lanes)?
                    }
                }
            }
            Inst::Linspace { .. } => {
                let (p, x) = slot_vals[k].ok_or_else(|| missing(k))?;
                let x = x.ok_or_else(|| missing(k))?;
                let ps = lane_positions(e, p, 1);
                let lanes = ps.iter().map(|&g| e.call("kiln_linspace", &[x, g])).collect::<Result<Vec<_>>>()?;
                gather(e, lane, &lanes)?
            }
            Inst::Arange { start, step, .. } => {
                let (p, _) = slot_vals[k].ok_or_else(|| missing(k))?;
                let ps = lane_positions(e, p, 1);
                let lanes: Vec<Value> = ps.iter().map(|&g| e.arange(*start, *step, g)).collect();
                gather(e, lane, &lanes)?
            }
            // Lane masks (see `masks`): comparisons, and the logic of masks.
            Inst::Binary(op, x, y) if a.dtypes[k] == DType::Bool => {
                let (x, y) = (get(*x)?, get(*y)?);
                match op {
                    BinaryOp::And => e.b.ins().band(x, y),
                    BinaryOp::Or => e.b.ins().bor(x, y),
                    op => e.compare(*op, lane.dtype(), x, y).ok_or_else(|| missing(k))?,
                }
            }
            Inst::Unary(UnaryOp::Not, x) => {
                let x = get(*x)?;
                e.b.ins().bnot(x)
            }
            Inst::Unary(UnaryOp::IsNan, x) => {
                let x = get(*x)?;
                e.b.ins().fcmp(FloatCC::Unordered, x, x)
            }
            Inst::Where(c, x, y) => {
                let (c, x, y) = (get(*c)?, get(*x)?, get(*y)?);
                let mask = if e.b.func.dfg.value_type(c) == lane.ty() { c } else { bitcast(e, lane, c) };
                e.b.ins().bitselect(mask, x, y)
            }
            Inst::Unary(op, x) if lane.integer() => int_unary(e, lane, *op, get(*x)?).ok_or_else(|| missing(k))?,
            Inst::Binary(op, x, y) if lane.integer() => {
                int_binary(e, lane, *op, get(*x)?, get(*y)?).ok_or_else(|| missing(k))?
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
                    op if lane.wide() && crate::math::covers(*op) => crate::jit::math::emit(e, *op, x, true)?,
                    op => {
                        let name = host::unary_symbol(*op, lane.wide()).ok_or_else(|| missing(k))?;
                        per_lane(e, lane, name, &[x])?
                    }
                }
            }
            Inst::Binary(op, x, y) => {
                let (x, y) = (get(*x)?, get(*y)?);
                binary(e, lane, *op, x, y, a.const_exponent[k]).ok_or_else(|| missing(k))??
            }
            _ => return Err(missing(k)),
        };
        vecs[k] = Some(v);
    }
    Ok(())
}

/// The lane mask (`I32X4`) of the four `bool` bytes (0 or 1) at `addr`: loaded as one
/// integer into the low lanes of a byte vector, zero-extended twice, compared with zero.
fn bool_mask<M: Module>(e: &mut Emit<'_, '_, M>, addr: Value) -> Value {
    let bits = e.b.ins().load(types::I32, mem(), addr, 0);
    let v = e.b.ins().scalar_to_vector(types::I32X4, bits);
    let v = e.b.ins().bitcast(types::I8X16, cast_flags(), v);
    let v = e.b.ins().uwiden_low(v);
    let v = e.b.ins().uwiden_low(v);
    let zero = e.b.ins().iconst(types::I32, 0);
    let zero = e.b.ins().splat(types::I32X4, zero);
    e.b.ins().icmp(IntCC::NotEqual, v, zero)
}

/// The `bool` bytes (0 or 1) of the lane masks `masks` (comparisons in `lane`, in position
/// order, 16 positions in all) as one `I8X16`: 64-bit masks are paired into 32-bit ones by
/// a byte shuffle, then narrowed with signed saturation (all-ones stays all-ones) to 16 and
/// 8 bits, and the low bit kept.
pub(super) fn bool_bytes<M: Module>(e: &mut Emit<'_, '_, M>, lane: LaneType, masks: &[Value]) -> Result<Value> {
    if masks.len() * lane.lanes() != 16 {
        return Err(Error::Internal(format!("jit: {} masks of {lane:?} are not 16 bools", masks.len())));
    }
    let words: Vec<Value> = if lane.lanes() == 2 {
        // Bytes 0..4 and 8..12 of each mask: its two lanes' low halves.
        let picks: Vec<u8> = [0u8, 8, 16, 24].iter().flat_map(|&b| b..b + 4).collect();
        let picks = e.b.func.dfg.immediates.push(ConstantData::from(picks));
        masks
            .chunks(2)
            .map(|pair| {
                let lo = e.b.ins().bitcast(types::I8X16, cast_flags(), pair[0]);
                let hi = e.b.ins().bitcast(types::I8X16, cast_flags(), pair[1]);
                let both = e.b.ins().shuffle(lo, hi, picks);
                e.b.ins().bitcast(types::I32X4, cast_flags(), both)
            })
            .collect()
    } else {
        masks.iter().map(|&m| e.b.ins().bitcast(types::I32X4, cast_flags(), m)).collect()
    };
    let halves: Vec<Value> = words.chunks(2).map(|w| e.b.ins().snarrow(w[0], w[1])).collect();
    let bytes = e.b.ins().snarrow(halves[0], halves[1]);
    let one = e.b.ins().iconst(types::I8, 1);
    let one = e.b.ins().splat(types::I8X16, one);
    Ok(e.b.ins().band(bytes, one))
}

/// `v` reinterpreted as a vector of `lane` (a comparison's mask, of the same width).
fn bitcast<M: Module>(e: &mut Emit<'_, '_, M>, lane: LaneType, v: Value) -> Value {
    e.b.ins().bitcast(lane.ty(), cast_flags(), v)
}

/// The lane-wise form of an integer unary op (`None` if it has none; see [`integer_lanes`]).
fn int_unary<M: Module>(e: &mut Emit<'_, '_, M>, lane: LaneType, op: UnaryOp, x: Value) -> Option<Value> {
    Some(match op {
        UnaryOp::Neg => e.b.ins().ineg(x),
        UnaryOp::Abs if lane == LaneType::I32X4 => e.b.ins().iabs(x),
        // `i64` lanes (no `vpabsq` below AVX-512): `-x` where `x < 0`, wrapping.
        UnaryOp::Abs => {
            let zero = e.b.ins().iconst(types::I64, 0);
            let zero = e.b.ins().splat(types::I64X2, zero);
            let negative = e.b.ins().icmp(IntCC::SignedLessThan, x, zero);
            let minus = e.b.ins().ineg(x);
            e.b.ins().bitselect(negative, minus, x)
        }
        UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round => x,
        _ => return None,
    })
}

/// The lane-wise form of an integer binary op (`None` if it has none; see
/// [`integer_lanes`]).
fn int_binary<M: Module>(e: &mut Emit<'_, '_, M>, lane: LaneType, op: BinaryOp, x: Value, y: Value) -> Option<Value> {
    use BinaryOp::*;
    Some(match op {
        Add => e.b.ins().iadd(x, y),
        Sub => e.b.ins().isub(x, y),
        Mul => e.b.ins().imul(x, y),
        Minimum if lane == LaneType::I32X4 => e.b.ins().smin(x, y),
        Maximum if lane == LaneType::I32X4 => e.b.ins().smax(x, y),
        // `i64` lanes (no `vpminsq` below AVX-512): a compare and a bit select.
        Minimum | Maximum => {
            let cc = if op == Minimum { IntCC::SignedLessThan } else { IntCC::SignedGreaterThan };
            let keep = e.b.ins().icmp(cc, x, y);
            e.b.ins().bitselect(keep, x, y)
        }
        _ => return None,
    })
}

/// The lane-wise form of a binary float op (`None` if it has none).
fn binary<M: Module>(
    e: &mut Emit<'_, '_, M>,
    lane: LaneType,
    op: BinaryOp,
    x: Value,
    y: Value,
    exponent: Option<Scalar>,
) -> Option<Result<Value>> {
    use BinaryOp::*;
    let wide = lane.wide();
    Some(Ok(match op {
        Add => e.b.ins().fadd(x, y),
        Sub => e.b.ins().fsub(x, y),
        Mul => e.b.ins().fmul(x, y),
        Div => e.b.ins().fdiv(x, y),
        Rem => return Some(per_lane(e, lane, if wide { "kiln_rem_f64" } else { "kiln_rem_f32" }, &[x, y])),
        Minimum | Maximum => {
            // The scalar trick per lane: `x` where `x <= y` (`>=`) or `x` is NaN, else `y`.
            let cc = if op == Minimum { FloatCC::LessThanOrEqual } else { FloatCC::GreaterThanOrEqual };
            let keep = e.b.ins().fcmp(cc, x, y);
            let nan = e.b.ins().fcmp(FloatCC::Unordered, x, x);
            let keep = e.b.ins().bor(keep, nan);
            let mask = bitcast(e, lane, keep);
            e.b.ins().bitselect(mask, x, y)
        }
        Pow => match exponent.map(Scalar::as_f64) {
            Some(2.0) => e.b.ins().fmul(x, x),
            Some(0.5) => e.b.ins().sqrt(x),
            Some(-1.0) => {
                let one = lane.splat_const(e, 1.0);
                e.b.ins().fdiv(one, x)
            }
            Some(1.0) => x,
            Some(0.0) => lane.splat_const(e, 1.0),
            _ if wide => return Some(crate::jit::math::emit_pow(e, x, y, true)),
            _ => return Some(per_lane(e, lane, "kiln_pow_f32", &[x, y])),
        },
        _ => return None,
    }))
}
