//! Element types (`DType`) and NumPy's type-promotion rules, including "weak" Rust scalars.

use std::fmt;

use crate::error::{Error, Result};

/// The element type of an array.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum DType {
    /// `bool`, one byte per element.
    Bool,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

/// What kind of Rust scalar an operand is, for NumPy 2's "weak scalar" promotion (NEP 50):
/// `f32_array * 2.0` stays `f32`, `i32_array + 1` stays `i32`, `i32_array * 0.5` is `f64`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ScalarKind {
    /// A Rust `bool`.
    Bool,
    /// A Rust integer (`i32`, `i64`, ...).
    Int,
    /// A Rust float (`f32`, `f64`).
    Float,
}

impl DType {
    /// All dtypes, narrowest first.
    pub const ALL: [DType; 5] = [DType::Bool, DType::I32, DType::I64, DType::F32, DType::F64];

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    /// The short name used in every text form: `bool`, `i32`, `i64`, `f32`, `f64`.
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    /// Parses a name written by [`DType::name`] (also accepts NumPy's `float64`, `int32`, ...).
    pub fn parse(name: &str) -> Result<DType> {
        Ok(match name {
            "bool" => DType::Bool,
            "i32" | "int32" => DType::I32,
            "i64" | "int64" => DType::I64,
            "f32" | "float32" => DType::F32,
            "f64" | "float64" => DType::F64,
            _ => return Err(Error::invalid("dtype", format!("unknown dtype {name:?}"))),
        })
    }

    /// Whether this is `f32` or `f64`.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// Whether this is `i32` or `i64`.
    pub fn is_int(self) -> bool {
        matches!(self, DType::I32 | DType::I64)
    }

    /// NumPy's `result_type` of two array dtypes.
    pub fn promote(a: DType, b: DType) -> DType {
        use DType::*;
        match (a, b) {
            _ if a == b => a,
            (Bool, x) | (x, Bool) => x,
            (I32, I64) | (I64, I32) => I64,
            (F32, F64) | (F64, F32) => F64,
            // Any integer with f32 needs f64 to hold it (NumPy: int32 + float32 -> float64).
            (I32 | I64, F32) | (F32, I32 | I64) => F64,
            (I32 | I64, F64) | (F64, I32 | I64) => F64,
            _ => unreachable!("all pairs are covered above"),
        }
    }

    /// NumPy 2's result type of an array of this dtype combined with a weak Rust scalar.
    pub fn promote_weak(self, scalar: ScalarKind) -> DType {
        match (self, scalar) {
            (d, ScalarKind::Bool) => d,
            (DType::Bool, ScalarKind::Int) => DType::I64,
            (d, ScalarKind::Int) => d,
            (d, ScalarKind::Float) if d.is_float() => d,
            (_, ScalarKind::Float) => DType::F64,
        }
    }

    /// The dtype of a float-valued function (`sqrt`, `sin`, true division) of this dtype:
    /// floats keep their width, integers become `f64`, and `bool` becomes `f32` (NumPy gives
    /// `float16`, which kiln does not have).
    pub fn to_float(self) -> DType {
        match self {
            DType::F32 | DType::Bool => DType::F32,
            DType::F64 | DType::I32 | DType::I64 => DType::F64,
        }
    }

    /// The accumulator dtype NumPy uses for `sum`/`prod`: booleans and integers narrower
    /// than 64 bits are summed as `i64`; floats keep their width.
    pub fn sum_dtype(self) -> DType {
        match self {
            DType::Bool | DType::I32 | DType::I64 => DType::I64,
            d => d,
        }
    }

    /// Whether a value of dtype `self` converts to `to` without loss ("safe" casting).
    pub fn can_cast_safely(self, to: DType) -> bool {
        DType::promote(self, to) == to
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_matches_numpy() {
        use DType::*;
        let cases = [
            (Bool, Bool, Bool),
            (Bool, I32, I32),
            (I32, I64, I64),
            (I32, F32, F64),
            (I64, F32, F64),
            (F32, F32, F32),
            (F32, F64, F64),
            (Bool, F32, F32),
        ];
        for (a, b, want) in cases {
            assert_eq!(DType::promote(a, b), want, "{a} + {b}");
            assert_eq!(DType::promote(b, a), want, "{b} + {a}");
        }
    }

    #[test]
    fn weak_scalars_keep_the_array_dtype() {
        assert_eq!(DType::F32.promote_weak(ScalarKind::Float), DType::F32);
        assert_eq!(DType::I32.promote_weak(ScalarKind::Int), DType::I32);
        assert_eq!(DType::I32.promote_weak(ScalarKind::Float), DType::F64);
        assert_eq!(DType::Bool.promote_weak(ScalarKind::Int), DType::I64);
        assert_eq!(DType::Bool.promote_weak(ScalarKind::Bool), DType::Bool);
    }

    #[test]
    fn names_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::parse(d.name()).unwrap(), d);
        }
        assert!(DType::parse("f16").is_err());
    }
}
