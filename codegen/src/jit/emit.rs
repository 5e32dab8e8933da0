//! The scalar lowering of kernel instructions to Cranelift IR, one element at a time, with
//! the interpreter's exact semantics: wrapping integer arithmetic, NumPy floor modulo that
//! never traps (`x % 0 == 0`, `MIN % -1 == 0`), NaN-propagating `minimum`/`maximum`, IEEE
//! comparisons, saturating float-to-integer casts (NaN becomes 0), `bool` as a 0/1 byte,
//! inline polynomials for the `f64` functions `crate::math` implements (`jit::math`), and
//! host calls for the other functions Cranelift has no instruction for.

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{FuncRef, InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_frontend::{FunctionBuilder, Variable};
use cranelift_module::{FuncId, Module};

use kiln_ir::{BinaryOp, DType, Scalar, UnaryOp};

use crate::error::{Error, Result};
use crate::jit::host;

/// The Cranelift type of a dtype's elements (`bool` is a byte holding 0 or 1).
pub(super) fn clif_type(d: DType) -> Type {
    match d {
        DType::Bool => types::I8,
        DType::I32 => types::I32,
        DType::I64 => types::I64,
        DType::F32 => types::F32,
        DType::F64 => types::F64,
    }
}

/// Flags of every load and store: JIT code only touches memory the driver vouches for.
pub(super) fn mem() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// The lowering context of one function.
pub(super) struct Emit<'a, 'b, M: Module> {
    /// The function being built.
    pub(super) b: &'a mut FunctionBuilder<'b>,
    /// The module (to import host functions).
    pub(super) module: &'a mut M,
    /// Host functions declared in the module, by symbol.
    pub(super) host_ids: &'a HashMap<&'static str, FuncId>,
    /// Host functions imported into this function so far.
    pub(super) refs: HashMap<&'static str, FuncRef>,
    /// The status flag: set to 1 when an integer `pow` sees a negative exponent.
    pub(super) flag: Variable,
    /// Whether scalar `f64` transcendentals (and `pow`) are emitted inline as the polynomials of
    /// `crate::math`; otherwise they call the same Rust functions (`host`), equal bit for
    /// bit: the scalar tail of a vectorized loop, which runs for at most a few positions a
    /// row, then costs no compile time for a second copy of each polynomial.
    pub(super) inline_polynomials: bool,
}

impl<M: Module> Emit<'_, '_, M> {
    /// A call of host function `name`; its single result.
    pub(super) fn call(&mut self, name: &'static str, args: &[Value]) -> Result<Value> {
        let fref = self.func_ref(name)?;
        let call = self.b.ins().call(fref, args);
        self.b
            .inst_results(call)
            .first()
            .copied()
            .ok_or_else(|| Error::Internal(format!("jit: {name} returns nothing")))
    }

    /// Calls `name`, a function of the module that returns nothing.
    pub(super) fn call_void(&mut self, name: &'static str, args: &[Value]) -> Result<()> {
        let fref = self.func_ref(name)?;
        self.b.ins().call(fref, args);
        Ok(())
    }

    /// Function `name` of the module, imported into this function on first use.
    fn func_ref(&mut self, name: &'static str) -> Result<FuncRef> {
        if let Some(&f) = self.refs.get(name) {
            return Ok(f);
        }
        let id = *self.host_ids.get(name).ok_or_else(|| Error::Internal(format!("jit: no function {name}")))?;
        let f = self.module.declare_func_in_func(id, self.b.func);
        self.refs.insert(name, f);
        Ok(f)
    }

    /// A constant.
    pub(super) fn constant(&mut self, s: Scalar) -> Value {
        let ins = self.b.ins();
        match s {
            Scalar::Bool(v) => ins.iconst(types::I8, i64::from(v)),
            Scalar::I32(v) => ins.iconst(types::I32, i64::from(v)),
            Scalar::I64(v) => ins.iconst(types::I64, v),
            Scalar::F32(v) => ins.f32const(v),
            Scalar::F64(v) => ins.f64const(v),
        }
    }

    fn one(&mut self, d: DType) -> Value {
        match d {
            DType::F32 => self.b.ins().f32const(1.0),
            _ => self.b.ins().f64const(1.0),
        }
    }

    /// `op(x)` for `x` of dtype `d`.
    pub(super) fn unary(&mut self, op: UnaryOp, d: DType, x: Value) -> Result<Value> {
        use UnaryOp::*;
        let unsupported = || Error::Internal(format!("jit: {} of {d}", op.name()));
        Ok(match d {
            DType::F32 | DType::F64 => match op {
                IsNan => self.b.ins().fcmp(FloatCC::Unordered, x, x),
                Neg => self.b.ins().fneg(x),
                Abs => self.b.ins().fabs(x),
                Sqrt => self.b.ins().sqrt(x),
                Floor => self.b.ins().floor(x),
                Ceil => self.b.ins().ceil(x),
                Round => self.b.ins().nearest(x),
                Not => return Err(unsupported()),
                _ if d == DType::F64 && crate::math::covers(op) && self.inline_polynomials => {
                    crate::jit::math::emit(self, op, x, false)?
                }
                _ => {
                    let name = host::unary_symbol(op, d == DType::F64).ok_or_else(unsupported)?;
                    self.call(name, &[x])?
                }
            },
            DType::I32 | DType::I64 => match op {
                IsNan => self.b.ins().iconst(types::I8, 0),
                Neg => self.b.ins().ineg(x),
                Abs => self.b.ins().iabs(x),
                Floor | Ceil | Round => x,
                _ => return Err(unsupported()),
            },
            DType::Bool => match op {
                Not => {
                    let one = self.b.ins().iconst(types::I8, 1);
                    self.b.ins().bxor(x, one)
                }
                Abs | Floor | Ceil | Round => x,
                IsNan => self.b.ins().iconst(types::I8, 0),
                _ => return Err(unsupported()),
            },
        })
    }

    /// `op(x, y)` for operands of dtype `d`; `exponent` is `y` when it is a `Const` (NumPy's
    /// scalar `pow` fast paths).
    pub(super) fn binary(
        &mut self,
        op: BinaryOp,
        d: DType,
        x: Value,
        y: Value,
        exponent: Option<Scalar>,
    ) -> Result<Value> {
        use BinaryOp::*;
        let unsupported = || Error::Internal(format!("jit: {} of {d}", op.name()));
        if let Some(v) = self.compare(op, d, x, y) {
            return Ok(v);
        }
        Ok(match d {
            DType::F32 | DType::F64 => match op {
                Add => self.b.ins().fadd(x, y),
                Sub => self.b.ins().fsub(x, y),
                Mul => self.b.ins().fmul(x, y),
                Div => self.b.ins().fdiv(x, y),
                Rem => self.call(if d == DType::F64 { "kiln_rem_f64" } else { "kiln_rem_f32" }, &[x, y])?,
                Minimum | Maximum => {
                    // `x` when `x <= y` (`>=`) or `x` is NaN, else `y`.
                    let cc = if op == Minimum { FloatCC::LessThanOrEqual } else { FloatCC::GreaterThanOrEqual };
                    let keep = self.b.ins().fcmp(cc, x, y);
                    let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
                    let keep = self.b.ins().bor(keep, nan);
                    self.b.ins().select(keep, x, y)
                }
                Pow => match exponent.map(Scalar::as_f64) {
                    Some(2.0) => self.b.ins().fmul(x, x),
                    Some(0.5) => self.b.ins().sqrt(x),
                    Some(-1.0) => {
                        let one = self.one(d);
                        self.b.ins().fdiv(one, x)
                    }
                    Some(1.0) => x,
                    Some(0.0) => self.one(d),
                    _ if d == DType::F64 && self.inline_polynomials => crate::jit::math::emit_pow(self, x, y, false)?,
                    _ => self.call(if d == DType::F64 { "kiln_pow_f64" } else { "kiln_pow_f32" }, &[x, y])?,
                },
                _ => return Err(unsupported()),
            },
            DType::I32 | DType::I64 => match op {
                Add => self.b.ins().iadd(x, y),
                Sub => self.b.ins().isub(x, y),
                Mul => self.b.ins().imul(x, y),
                Rem => self.int_rem(d, x, y),
                Minimum => self.b.ins().smin(x, y),
                Maximum => self.b.ins().smax(x, y),
                Pow => {
                    let negative = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, y, 0);
                    let negative = self.b.ins().uextend(types::I32, negative);
                    let flag = self.b.use_var(self.flag);
                    let flag = self.b.ins().bor(flag, negative);
                    self.b.def_var(self.flag, flag);
                    self.call(if d == DType::I64 { "kiln_pow_i64" } else { "kiln_pow_i32" }, &[x, y])?
                }
                _ => return Err(unsupported()),
            },
            DType::Bool => match op {
                Add | Or | Maximum => self.b.ins().bor(x, y),
                Mul | And | Minimum => self.b.ins().band(x, y),
                _ => return Err(unsupported()),
            },
        })
    }

    /// Comparisons, which every dtype has (`bool` compares as unsigned 0/1).
    pub(super) fn compare(&mut self, op: BinaryOp, d: DType, x: Value, y: Value) -> Option<Value> {
        use BinaryOp::*;
        if d.is_float() {
            let cc = match op {
                Eq => FloatCC::Equal,
                // Rust's `!=`: true when unordered.
                Ne => FloatCC::NotEqual,
                Lt => FloatCC::LessThan,
                Le => FloatCC::LessThanOrEqual,
                Gt => FloatCC::GreaterThan,
                Ge => FloatCC::GreaterThanOrEqual,
                _ => return None,
            };
            return Some(self.b.ins().fcmp(cc, x, y));
        }
        let signed = d != DType::Bool;
        let cc = match (op, signed) {
            (Eq, _) => IntCC::Equal,
            (Ne, _) => IntCC::NotEqual,
            (Lt, true) => IntCC::SignedLessThan,
            (Le, true) => IntCC::SignedLessThanOrEqual,
            (Gt, true) => IntCC::SignedGreaterThan,
            (Ge, true) => IntCC::SignedGreaterThanOrEqual,
            (Lt, false) => IntCC::UnsignedLessThan,
            (Le, false) => IntCC::UnsignedLessThanOrEqual,
            (Gt, false) => IntCC::UnsignedGreaterThan,
            (Ge, false) => IntCC::UnsignedGreaterThanOrEqual,
            _ => return None,
        };
        Some(self.b.ins().icmp(cc, x, y))
    }

    /// NumPy's integer floor modulo: 0 for a zero divisor and for `MIN % -1`, else the
    /// truncated remainder moved into the divisor's sign. The divisor is replaced by 1 where
    /// `srem` would trap.
    fn int_rem(&mut self, d: DType, x: Value, y: Value) -> Value {
        let ty = clif_type(d);
        let zero = self.b.ins().iconst(ty, 0);
        let one = self.b.ins().iconst(ty, 1);
        let is_zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
        let is_minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
        let trivial = self.b.ins().bor(is_zero, is_minus_one);
        let safe = self.b.ins().select(trivial, one, y);
        let r = self.b.ins().srem(x, safe);
        let r_neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
        let y_neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, y, 0);
        let r_nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        let signs_differ = self.b.ins().bxor(r_neg, y_neg);
        let adjust = self.b.ins().band(r_nonzero, signs_differ);
        let moved = self.b.ins().iadd(r, y);
        let r = self.b.ins().select(adjust, moved, r);
        self.b.ins().select(trivial, zero, r)
    }

    /// `cond ? x : y`.
    pub(super) fn select(&mut self, cond: Value, x: Value, y: Value) -> Value {
        self.b.ins().select(cond, x, y)
    }

    /// `x` of dtype `from` converted to `to` (Rust's `as`, the interpreter's `CastFrom`).
    pub(super) fn cast(&mut self, from: DType, to: DType, x: Value) -> Value {
        use DType::*;
        if from == to {
            return x;
        }
        let ins = self.b.ins();
        match (from, to) {
            (F32 | F64, Bool) => {
                let zero = if from == F64 { ins.f64const(0.0) } else { ins.f32const(0.0) };
                self.b.ins().fcmp(FloatCC::NotEqual, x, zero)
            }
            (I32 | I64, Bool) => ins.icmp_imm_s(IntCC::NotEqual, x, 0),
            (Bool, I32 | I64) => ins.uextend(clif_type(to), x),
            (Bool, F32 | F64) => {
                let wide = ins.uextend(types::I32, x);
                self.b.ins().fcvt_from_sint(clif_type(to), wide)
            }
            (I32, I64) => ins.sextend(types::I64, x),
            (I64, I32) => ins.ireduce(types::I32, x),
            (I32 | I64, F32 | F64) => ins.fcvt_from_sint(clif_type(to), x),
            (F32 | F64, I32 | I64) => ins.fcvt_to_sint_sat(clif_type(to), x),
            (F32, F64) => ins.fpromote(types::F64, x),
            (F64, F32) => ins.fdemote(types::F32, x),
            _ => x,
        }
    }

    /// An integer constant of type `ty` (`I64`, or `I64X2` splatted).
    fn int_const(&mut self, ty: Type, k: u64) -> Value {
        let c = self.b.ins().iconst(types::I64, k as i64);
        if ty == types::I64 { c } else { self.b.ins().splat(ty, c) }
    }

    /// SplitMix64's finalizer (`kiln_ir::token::mix64`) of `z`, an `I64` or `I64X2`.
    fn mix64(&mut self, z: Value, ty: Type) -> Value {
        let mut z = z;
        for (shift, mul) in [(30, Some(0xBF58_476D_1CE4_E5B9u64)), (27, Some(0x94D0_49BB_1331_11EB)), (31, None)] {
            let s = self.b.ins().iconst(types::I64, shift);
            let shifted = self.b.ins().ushr(z, s);
            z = self.b.ins().bxor(z, shifted);
            if let Some(m) = mul {
                let m = self.int_const(ty, m);
                z = self.b.ins().imul(z, m);
            }
        }
        z
    }

    /// A uniform random value on `[low, low + width)` at flat index `g` (an `I64`, or an
    /// `I64X2` for two lanes), as `RandomStream::uniform01` computes it with keys `keys`:
    /// `low + width * ((mix64(mix64(g ^ k1) + k2) >> 11) * 2^-53)`.
    pub(super) fn uniform(&mut self, g: Value, keys: (u64, u64), low: f64, width: f64) -> Value {
        let ty = self.b.func.dfg.value_type(g);
        let (fty, lanes) = if ty == types::I64 { (types::F64, false) } else { (types::F64X2, true) };
        let k1 = self.int_const(ty, keys.0);
        let z = self.b.ins().bxor(g, k1);
        let z = self.mix64(z, ty);
        let k2 = self.int_const(ty, keys.1);
        let z = self.b.ins().iadd(z, k2);
        let z = self.mix64(z, ty);
        let eleven = self.b.ins().iconst(types::I64, 11);
        let top = self.b.ins().ushr(z, eleven);
        // Below 2^53, so the signed conversion is exact (and exists for two lanes).
        let f = self.b.ins().fcvt_from_sint(fty, top);
        let fconst = |e: &mut Self, v: f64| {
            let c = e.b.ins().f64const(v);
            if lanes { e.b.ins().splat(fty, c) } else { c }
        };
        let scale = fconst(self, 1.0 / (1u64 << 53) as f64);
        let u = self.b.ins().fmul(f, scale);
        let width = fconst(self, width);
        let low = fconst(self, low);
        let scaled = self.b.ins().fmul(width, u);
        self.b.ins().fadd(low, scaled)
    }

    /// NumPy's `arange` element at global position `i` (an `i64`): `start + i * step` in
    /// the dtype of `start` (integers wrap, `bool` computes in `i64` and tests for non-zero).
    pub(super) fn arange(&mut self, start: Scalar, step: Scalar, i: Value) -> Value {
        match (start, step) {
            (Scalar::Bool(s), Scalar::Bool(d)) => {
                let v = self.b.ins().imul_imm_s(i, i64::from(d));
                let v = self.b.ins().iadd_imm_s(v, i64::from(s));
                self.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0)
            }
            (Scalar::I32(s), Scalar::I32(d)) => {
                let i = self.b.ins().ireduce(types::I32, i);
                let v = self.b.ins().imul_imm_s(i, i64::from(d));
                self.b.ins().iadd_imm_s(v, i64::from(s))
            }
            (Scalar::I64(s), Scalar::I64(d)) => {
                let v = self.b.ins().imul_imm_s(i, d);
                self.b.ins().iadd_imm_s(v, s)
            }
            (Scalar::F32(s), Scalar::F32(d)) => {
                let f = self.b.ins().fcvt_from_uint(types::F32, i);
                let d = self.b.ins().f32const(d);
                let v = self.b.ins().fmul(f, d);
                let s = self.b.ins().f32const(s);
                self.b.ins().fadd(s, v)
            }
            (_, _) => {
                let (s, d) = (start.as_f64(), step.as_f64());
                let f = self.b.ins().fcvt_from_uint(types::F64, i);
                let d = self.b.ins().f64const(d);
                let v = self.b.ins().fmul(f, d);
                let s = self.b.ins().f64const(s);
                self.b.ins().fadd(s, v)
            }
        }
    }
}
