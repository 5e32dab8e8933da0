//! Typed scalar values (`Scalar`) and NumPy-style casting between them.

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::dtype::{DType, ScalarKind};

/// One value of any dtype. Floats compare and hash by their bits, so `NaN == NaN` and
/// `-0.0 != 0.0` here: a `Scalar` is a parameter, not a number to compute with.
#[derive(Copy, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum Scalar {
    /// A `bool`.
    Bool(bool),
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
}

impl Scalar {
    /// The dtype of this value.
    pub fn dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::I32(_) => DType::I32,
            Scalar::I64(_) => DType::I64,
            Scalar::F32(_) => DType::F32,
            Scalar::F64(_) => DType::F64,
        }
    }

    /// The weak-promotion kind of this value when it comes from a Rust literal.
    pub fn kind(self) -> ScalarKind {
        match self {
            Scalar::Bool(_) => ScalarKind::Bool,
            Scalar::I32(_) | Scalar::I64(_) => ScalarKind::Int,
            Scalar::F32(_) | Scalar::F64(_) => ScalarKind::Float,
        }
    }

    /// The value as `f64` (`true` is 1).
    pub fn as_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => f64::from(u8::from(b)),
            Scalar::I32(v) => f64::from(v),
            Scalar::I64(v) => v as f64,
            Scalar::F32(v) => f64::from(v),
            Scalar::F64(v) => v,
        }
    }

    /// The value as `i64` (floats truncate toward zero and saturate; NaN is 0).
    pub fn as_i64(self) -> i64 {
        match self {
            Scalar::Bool(b) => i64::from(b),
            Scalar::I32(v) => i64::from(v),
            Scalar::I64(v) => v,
            Scalar::F32(v) => v as i64,
            Scalar::F64(v) => v as i64,
        }
    }

    /// Whether the value is non-zero (NaN counts as true, as in NumPy).
    pub fn truthy(self) -> bool {
        match self {
            Scalar::Bool(b) => b,
            Scalar::I32(v) => v != 0,
            Scalar::I64(v) => v != 0,
            Scalar::F32(v) => v != 0.0,
            Scalar::F64(v) => v != 0.0,
        }
    }

    /// Converts to `to` like NumPy's `astype` (unsafe casting): floats to integers truncate
    /// and saturate (NaN becomes 0), integers wrap.
    pub fn cast(self, to: DType) -> Scalar {
        match to {
            DType::Bool => Scalar::Bool(self.truthy()),
            DType::I32 => Scalar::I32(match self {
                Scalar::I64(v) => v as i32,
                Scalar::F32(v) => v as i32,
                Scalar::F64(v) => v as i32,
                other => other.as_i64() as i32,
            }),
            DType::I64 => Scalar::I64(self.as_i64()),
            DType::F32 => Scalar::F32(match self {
                Scalar::F64(v) => v as f32,
                Scalar::I64(v) => v as f32,
                Scalar::I32(v) => v as f32,
                Scalar::F32(v) => v,
                Scalar::Bool(b) => f32::from(u8::from(b)),
            }),
            DType::F64 => Scalar::F64(self.as_f64()),
        }
    }

    /// Whether casting to `to` keeps the value (used to reject `i32_array + 3_000_000_000`,
    /// which NumPy 2 also rejects).
    pub fn fits(self, to: DType) -> bool {
        match (self, to) {
            (Scalar::I64(v), DType::I32) => i32::try_from(v).is_ok(),
            _ => true,
        }
    }

    fn bits(self) -> u64 {
        match self {
            Scalar::Bool(b) => u64::from(b),
            Scalar::I32(v) => v as u32 as u64,
            Scalar::I64(v) => v as u64,
            Scalar::F32(v) => u64::from(v.to_bits()),
            Scalar::F64(v) => v.to_bits(),
        }
    }
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Self) -> bool {
        self.dtype() == other.dtype() && self.bits() == other.bits()
    }
}

impl Eq for Scalar {}

impl Hash for Scalar {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.dtype().hash(state);
        self.bits().hash(state);
    }
}

impl fmt::Display for Scalar {
    /// Writes the shortest text that reads back to the same value (`1.0`, `-0.0`, `NaN`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::I32(v) => write!(f, "{v}"),
            Scalar::I64(v) => write!(f, "{v}"),
            Scalar::F32(v) => write!(f, "{v:?}"),
            Scalar::F64(v) => write!(f, "{v:?}"),
        }
    }
}

impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}
impl From<i32> for Scalar {
    fn from(v: i32) -> Self {
        Scalar::I32(v)
    }
}
impl From<i64> for Scalar {
    fn from(v: i64) -> Self {
        Scalar::I64(v)
    }
}
impl From<f32> for Scalar {
    fn from(v: f32) -> Self {
        Scalar::F32(v)
    }
}
impl From<f64> for Scalar {
    fn from(v: f64) -> Self {
        Scalar::F64(v)
    }
}

/// An `f64` parameter (a `ddof`, a distribution bound) that compares and hashes by its bits.
#[derive(Copy, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct F64Bits(pub f64);

impl PartialEq for F64Bits {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for F64Bits {}
impl Hash for F64Bits {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}
impl fmt::Display for F64Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_compare_by_bits() {
        assert_eq!(Scalar::F64(f64::NAN), Scalar::F64(f64::NAN));
        assert_ne!(Scalar::F64(0.0), Scalar::F64(-0.0));
        assert_ne!(Scalar::F64(1.0), Scalar::F32(1.0));
    }

    #[test]
    fn casts_follow_numpy() {
        assert_eq!(Scalar::F64(-2.7).cast(DType::I64), Scalar::I64(-2));
        assert_eq!(Scalar::F64(f64::NAN).cast(DType::I32), Scalar::I32(0));
        assert_eq!(Scalar::I64(1 << 33).cast(DType::I32), Scalar::I32(0));
        assert_eq!(Scalar::F64(0.5).cast(DType::Bool), Scalar::Bool(true));
        assert!(!Scalar::I64(1 << 40).fits(DType::I32));
    }

    #[test]
    fn display_round_trips_floats() {
        assert_eq!(Scalar::F64(1.0).to_string(), "1.0");
        assert_eq!(Scalar::F64(-0.0).to_string(), "-0.0");
        assert_eq!(Scalar::I32(-3).to_string(), "-3");
    }
}
