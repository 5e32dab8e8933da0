//! Elementwise methods with NumPy semantics: math functions, comparisons, logic, `where_`,
//! `clip`, `astype`. Operands broadcast (NumPy rules) and differently chunked operands are
//! aligned to common chunks automatically.

use kiln_ir::{BinaryOp, DType, UnaryOp, build};

use super::{Array, Operand};

impl Array {
    pub(crate) fn unary(&self, op: UnaryOp) -> Array {
        self.map_expr(|x| build::unary(op, x))
    }

    pub(crate) fn binary(&self, op: BinaryOp, other: impl Into<Operand>) -> Array {
        let other = other.into().into_array();
        if let Some(bad) = Array::first_error([self, &other]) {
            return bad;
        }
        Array::from_result(build::binary(op, &self.expr, &other.expr), self)
    }

    /// `self ** other` (integers to negative integer powers fail when computed, as in NumPy).
    pub fn pow(&self, other: impl Into<Operand>) -> Array {
        self.binary(BinaryOp::Pow, other)
    }

    /// NaN-propagating elementwise maximum.
    pub fn maximum(&self, other: impl Into<Operand>) -> Array {
        self.binary(BinaryOp::Maximum, other)
    }

    /// NaN-propagating elementwise minimum.
    pub fn minimum(&self, other: impl Into<Operand>) -> Array {
        self.binary(BinaryOp::Minimum, other)
    }

    /// Limits values to `[lo, hi]` (NumPy's `clip`: `minimum(maximum(x, lo), hi)`; NaN stays NaN).
    pub fn clip(&self, lo: impl Into<Operand>, hi: impl Into<Operand>) -> Array {
        self.maximum(lo).minimum(hi)
    }

    /// Elementwise `==` (a `bool` array).
    pub fn eq(&self, other: impl Into<Operand>) -> Array {
        self.binary(BinaryOp::Eq, other)
    }

    /// Elementwise `!=`.
    pub fn ne(&self, other: impl Into<Operand>) -> Array {
        self.binary(BinaryOp::Ne, other)
    }

    /// Elementwise `<`.
    pub fn lt(&self, other: impl Into<Operand>) -> Array {
        self.binary(BinaryOp::Lt, other)
    }

    /// Elementwise `<=`.
    pub fn le(&self, other: impl Into<Operand>) -> Array {
        self.binary(BinaryOp::Le, other)
    }

    /// Elementwise `>`.
    pub fn gt(&self, other: impl Into<Operand>) -> Array {
        self.binary(BinaryOp::Gt, other)
    }

    /// Elementwise `>=`.
    pub fn ge(&self, other: impl Into<Operand>) -> Array {
        self.binary(BinaryOp::Ge, other)
    }

    /// Logical and (non-zero is true), NumPy's `logical_and`.
    pub fn and(&self, other: impl Into<Operand>) -> Array {
        self.binary(BinaryOp::And, other)
    }

    /// Logical or, NumPy's `logical_or`.
    pub fn or(&self, other: impl Into<Operand>) -> Array {
        self.binary(BinaryOp::Or, other)
    }

    /// Logical not, NumPy's `logical_not`.
    pub fn not(&self) -> Array {
        self.unary(UnaryOp::Not)
    }

    /// Whether each element is NaN (always false for integers).
    pub fn is_nan(&self) -> Array {
        self.unary(UnaryOp::IsNan)
    }

    /// Conversion to `dtype` (NumPy `astype`: floats to integers truncate; out-of-range
    /// values saturate and NaN becomes 0, where NumPy's result is undefined).
    pub fn astype(&self, dtype: DType) -> Array {
        self.map_expr(|x| Ok(build::astype(x, dtype)))
    }
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        impl Array {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> Array {
                    self.unary(UnaryOp::$op)
                }
            )*
        }
    };
}

unary_methods! {
    /// Absolute value (integers wrap: `abs(i32::MIN) == i32::MIN`, as NumPy).
    abs => Abs;
    /// Square root (integers become `f64`).
    sqrt => Sqrt;
    /// `e^x`.
    exp => Exp;
    /// Natural logarithm.
    ln => Ln;
    /// Base-10 logarithm.
    log10 => Log10;
    /// Sine.
    sin => Sin;
    /// Cosine.
    cos => Cos;
    /// Tangent.
    tan => Tan;
    /// Hyperbolic tangent.
    tanh => Tanh;
    /// Round down (integers unchanged).
    floor => Floor;
    /// Round up (integers unchanged).
    ceil => Ceil;
    /// Round half to even, as NumPy's `round` (integers unchanged).
    round => Round;
}

/// NaN-propagating elementwise maximum (NumPy's `maximum`).
pub fn maximum(a: &Array, b: impl Into<Operand>) -> Array {
    a.maximum(b)
}

/// NaN-propagating elementwise minimum (NumPy's `minimum`).
pub fn minimum(a: &Array, b: impl Into<Operand>) -> Array {
    a.minimum(b)
}

/// `a` where `cond` is true (non-zero), else `b`, broadcasting all three (NumPy's `where`).
pub fn where_(cond: &Array, a: impl Into<Operand>, b: impl Into<Operand>) -> Array {
    let (a, b) = (a.into().into_array(), b.into().into_array());
    if let Some(bad) = Array::first_error([cond, &a, &b]) {
        return bad;
    }
    Array::from_result(build::where_(&cond.expr, &a.expr, &b.expr), cond)
}
