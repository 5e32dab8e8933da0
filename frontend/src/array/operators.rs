//! Rust operators on arrays: `+ - * / %` and unary `-` for every mix of `Array`, `&Array`
//! and scalars (`f64`, `i64`: one of each so literals infer) on either side. `/` on integers gives `f64` and
//! `%` is floor modulo (the divisor's sign), as in NumPy.

use std::ops::{Add, Div, Mul, Neg, Rem, Sub};

use kiln_ir::{BinaryOp, UnaryOp};

use super::operand::scalar_expr;
use super::{Array, Operand};

macro_rules! array_ops {
    ($($trait:ident, $method:ident, $op:ident;)*) => {$(
        impl $trait<&Array> for &Array {
            type Output = Array;
            fn $method(self, rhs: &Array) -> Array {
                self.binary(BinaryOp::$op, rhs)
            }
        }
        impl $trait<Array> for &Array {
            type Output = Array;
            fn $method(self, rhs: Array) -> Array {
                self.binary(BinaryOp::$op, rhs)
            }
        }
        impl $trait<&Array> for Array {
            type Output = Array;
            fn $method(self, rhs: &Array) -> Array {
                self.binary(BinaryOp::$op, rhs)
            }
        }
        impl $trait<Array> for Array {
            type Output = Array;
            fn $method(self, rhs: Array) -> Array {
                self.binary(BinaryOp::$op, rhs)
            }
        }
        scalar_ops!($trait, $method, $op; f64, i64);
    )*};
}

macro_rules! scalar_ops {
    ($trait:ident, $method:ident, $op:ident; $($t:ty),*) => {$(
        impl $trait<$t> for &Array {
            type Output = Array;
            fn $method(self, rhs: $t) -> Array {
                self.binary(BinaryOp::$op, rhs)
            }
        }
        impl $trait<$t> for Array {
            type Output = Array;
            fn $method(self, rhs: $t) -> Array {
                self.binary(BinaryOp::$op, rhs)
            }
        }
        impl $trait<&Array> for $t {
            type Output = Array;
            fn $method(self, rhs: &Array) -> Array {
                Array::from_expr(scalar_expr(self.into())).binary(BinaryOp::$op, Operand::from(rhs))
            }
        }
        impl $trait<Array> for $t {
            type Output = Array;
            fn $method(self, rhs: Array) -> Array {
                Array::from_expr(scalar_expr(self.into())).binary(BinaryOp::$op, rhs)
            }
        }
    )*};
}

array_ops! {
    Add, add, Add;
    Sub, sub, Sub;
    Mul, mul, Mul;
    Div, div, Div;
    Rem, rem, Rem;
}

impl Neg for &Array {
    type Output = Array;
    fn neg(self) -> Array {
        self.unary(UnaryOp::Neg)
    }
}

impl Neg for Array {
    type Output = Array;
    fn neg(self) -> Array {
        self.unary(UnaryOp::Neg)
    }
}

#[cfg(test)]
mod tests {
    use crate::array::{full, ones};
    use kiln_ir::DType;

    #[test]
    fn every_operand_mix_builds() {
        let x = ones([4], [2]);
        let y = &x + &x;
        let _ = (&x - 1.0, 2.0 * &x, x.clone() / 2, 1 - x.clone(), -&x, -(y.clone()), y % 3.0, x.pow(2), x.gt(0.5));
        let i = full([4], 3, [2]);
        assert_eq!((&i / &i).dtype(), DType::F64);
        assert_eq!((&i * 2).dtype(), DType::I32);
        assert_eq!((&i * 2.5).dtype(), DType::F64);
        assert_eq!((full([2], 1.0f32, [2]) * 2.0).dtype(), DType::F32);
    }
}
