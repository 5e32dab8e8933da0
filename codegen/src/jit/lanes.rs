//! One `f64` computation emitted either on a scalar (`F64`, with `I64` bit patterns and
//! `I8` conditions) or on two lanes (`F64X2`, with `I64X2` bit patterns and lane masks):
//! the vocabulary the polynomial math functions (`jit::math`) are written in, so the scalar
//! tail and the vector body run the very same IEEE operations.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_module::Module;

use crate::jit::emit::Emit;

/// The emission context of one computation: scalar or two lanes.
pub(super) struct Lanes<'r, 'a, 'b, M: Module> {
    /// The function's lowering context.
    pub(super) e: &'r mut Emit<'a, 'b, M>,
    /// Two lanes (`F64X2`) rather than one `F64`.
    pub(super) vector: bool,
}

/// Bit casts between same-sized scalar or vector types (lane order is little-endian).
fn cast_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

impl<M: Module> Lanes<'_, '_, '_, M> {
    /// The float type: `F64` or `F64X2`.
    pub(super) fn float_ty(&self) -> Type {
        if self.vector { types::F64X2 } else { types::F64 }
    }

    /// The integer type of the floats' bit patterns: `I64` or `I64X2`.
    pub(super) fn int_ty(&self) -> Type {
        if self.vector { types::I64X2 } else { types::I64 }
    }

    /// A float constant (in every lane).
    pub(super) fn f(&mut self, v: f64) -> Value {
        if self.vector { self.vconst(types::F64X2, v.to_bits()) } else { self.e.b.ins().f64const(v) }
    }

    /// An integer constant (in every lane).
    pub(super) fn i(&mut self, v: u64) -> Value {
        if self.vector { self.vconst(types::I64X2, v) } else { self.e.b.ins().iconst(types::I64, v as i64) }
    }

    /// A two-lane constant with `bits` in each lane: a constant-pool entry, which the x64
    /// backend folds into the instruction using it as a memory operand (a `splat` of a
    /// scalar constant is loaded into a register instead, and kept live, and spilled).
    fn vconst(&mut self, ty: Type, bits: u64) -> Value {
        let mut bytes = bits.to_le_bytes().to_vec();
        bytes.extend_from_slice(&bits.to_le_bytes());
        let c = self.e.b.func.dfg.constants.insert(ConstantData::from(bytes));
        self.e.b.ins().vconst(ty, c)
    }

    /// `a + b` (floats).
    pub(super) fn add(&mut self, a: Value, b: Value) -> Value {
        self.e.b.ins().fadd(a, b)
    }

    /// `a - b` (floats).
    pub(super) fn sub(&mut self, a: Value, b: Value) -> Value {
        self.e.b.ins().fsub(a, b)
    }

    /// `a * b` (floats).
    pub(super) fn mul(&mut self, a: Value, b: Value) -> Value {
        self.e.b.ins().fmul(a, b)
    }

    /// `a / b` (floats).
    pub(super) fn div(&mut self, a: Value, b: Value) -> Value {
        self.e.b.ins().fdiv(a, b)
    }

    /// `c + a` with `c` a constant.
    pub(super) fn add_c(&mut self, c: f64, a: Value) -> Value {
        let c = self.f(c);
        self.add(c, a)
    }

    /// `a * c` with `c` a constant.
    pub(super) fn mul_c(&mut self, a: Value, c: f64) -> Value {
        let c = self.f(c);
        self.mul(a, c)
    }

    /// `|x|`.
    pub(super) fn abs(&mut self, x: Value) -> Value {
        self.e.b.ins().fabs(x)
    }

    /// The bit pattern of `x`.
    pub(super) fn bits(&mut self, x: Value) -> Value {
        let ty = self.int_ty();
        self.e.b.ins().bitcast(ty, cast_flags(), x)
    }

    /// The float with bit pattern `i`.
    pub(super) fn float(&mut self, i: Value) -> Value {
        let ty = self.float_ty();
        self.e.b.ins().bitcast(ty, cast_flags(), i)
    }

    /// `a + b` (wrapping integers).
    pub(super) fn iadd(&mut self, a: Value, b: Value) -> Value {
        self.e.b.ins().iadd(a, b)
    }

    /// `a + c` with `c` a constant (wrapping integers).
    pub(super) fn iadd_c(&mut self, a: Value, c: u64) -> Value {
        let c = self.i(c);
        self.iadd(a, c)
    }

    /// `a - b` (wrapping integers).
    pub(super) fn isub(&mut self, a: Value, b: Value) -> Value {
        self.e.b.ins().isub(a, b)
    }

    /// `a & c` with `c` a constant.
    pub(super) fn and_c(&mut self, a: Value, c: u64) -> Value {
        let c = self.i(c);
        self.e.b.ins().band(a, c)
    }

    /// `a ^ b`.
    pub(super) fn xor(&mut self, a: Value, b: Value) -> Value {
        self.e.b.ins().bxor(a, b)
    }

    /// `a | b` (integers, or two conditions of the same kind).
    pub(super) fn or(&mut self, a: Value, b: Value) -> Value {
        self.e.b.ins().bor(a, b)
    }

    /// `a << n`.
    pub(super) fn shl(&mut self, a: Value, n: i64) -> Value {
        let n = self.e.b.ins().iconst(types::I64, n);
        self.e.b.ins().ishl(a, n)
    }

    /// `a >> n`, logical.
    pub(super) fn ushr(&mut self, a: Value, n: i64) -> Value {
        let n = self.e.b.ins().iconst(types::I64, n);
        self.e.b.ins().ushr(a, n)
    }

    /// The condition `a cc c` with `c` a float constant.
    pub(super) fn fcmp_c(&mut self, cc: FloatCC, a: Value, c: f64) -> Value {
        let c = self.f(c);
        self.e.b.ins().fcmp(cc, a, c)
    }

    /// The condition `a cc c` with `c` an integer constant.
    pub(super) fn icmp_c(&mut self, cc: IntCC, a: Value, c: u64) -> Value {
        let c = self.i(c);
        self.e.b.ins().icmp(cc, a, c)
    }

    /// `cond ? a : b`, per lane.
    pub(super) fn select(&mut self, cond: Value, a: Value, b: Value) -> Value {
        if !self.vector {
            return self.e.b.ins().select(cond, a, b);
        }
        let ty = self.e.b.func.dfg.value_type(a);
        let mask = if ty == types::I64X2 { cond } else { self.e.b.ins().bitcast(ty, cast_flags(), cond) };
        self.e.b.ins().bitselect(mask, a, b)
    }

    /// Whether `cond` holds in any lane (an `I8` for a branch).
    pub(super) fn any(&mut self, cond: Value) -> Value {
        if self.vector { self.e.b.ins().vany_true(cond) } else { cond }
    }
}
