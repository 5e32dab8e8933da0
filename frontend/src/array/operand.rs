//! `Operand`: what elementwise methods accept on their right-hand side, an array or a Rust
//! scalar (`f64`, `i64`, `bool`, or any dtype through `Scalar`) (which promotes "weakly": `f32_array.gt(0.5)` compares in `f32`).

use kiln_ir::{Expr, Scalar};

use super::Array;

/// An array or a Rust scalar, as accepted by `x.gt(0.5)`, `x.pow(&y)`, `where_(&c, &a, 0.0)`.
#[derive(Clone, Debug)]
pub enum Operand {
    /// An array.
    Array(Array),
    /// A Rust scalar.
    Scalar(Scalar),
}

impl Operand {
    /// The operand as an array (scalars become weak 0-d arrays).
    pub fn into_array(self) -> Array {
        match self {
            Operand::Array(a) => a,
            Operand::Scalar(s) => Array::from_expr(scalar_expr(s)),
        }
    }
}

pub(crate) fn scalar_expr(s: Scalar) -> Expr {
    kiln_ir::build::scalar(s)
}

impl From<&Array> for Operand {
    fn from(a: &Array) -> Self {
        Operand::Array(a.clone())
    }
}
impl From<Array> for Operand {
    fn from(a: Array) -> Self {
        Operand::Array(a)
    }
}
impl From<&&Array> for Operand {
    fn from(a: &&Array) -> Self {
        Operand::Array((*a).clone())
    }
}

macro_rules! scalar_operand {
    ($($t:ty),*) => {$(
        impl From<$t> for Operand {
            fn from(v: $t) -> Self {
                Operand::Scalar(Scalar::from(v))
            }
        }
    )*};
}
// One float and one integer type only, so literals infer (`x.gt(0.5)`, `x.pow(2)`); other
// widths go through `Scalar` (`x.gt(Scalar::F32(v))`), and all promote weakly alike.
scalar_operand!(f64, i64, bool);

impl From<Scalar> for Operand {
    fn from(v: Scalar) -> Self {
        Operand::Scalar(v)
    }
}
