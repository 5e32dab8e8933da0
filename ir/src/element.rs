//! The `Element` trait: the Rust types kiln stores in arrays (`bool`, `i32`, `i64`, `f32`,
//! `f64`), tied to their dtype, scalar and chunk representations.

use std::fmt;

use ndarray::{ArcArray, IxDyn};

use crate::chunk::Chunk;
use crate::dtype::DType;
use crate::scalar::Scalar;

/// A Rust element type kiln stores in arrays: `bool`, `i32`, `i64`, `f32` or `f64`.
pub trait Element: Copy + Send + Sync + PartialEq + PartialOrd + fmt::Debug + Default + 'static {
    /// The dtype of this type.
    const DTYPE: DType;
    /// Wraps a value as a [`Scalar`].
    fn to_scalar(self) -> Scalar;
    /// Casts a [`Scalar`] of any dtype to this type (NumPy `astype` rules).
    fn from_scalar(s: Scalar) -> Self;
    /// Wraps a shared array as a [`Chunk`].
    fn into_chunk(a: ArcArray<Self, IxDyn>) -> Chunk;
    /// The array inside `c`, if `c` holds this type.
    fn chunk_ref(c: &Chunk) -> Option<&ArcArray<Self, IxDyn>>;
    /// The array inside `c`, if `c` holds this type.
    fn from_chunk(c: Chunk) -> Option<ArcArray<Self, IxDyn>>;
}

macro_rules! element {
    ($t:ty, $d:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_scalar(self) -> Scalar {
                Scalar::$d(self)
            }
            fn from_scalar(s: Scalar) -> Self {
                match s.cast(DType::$d) {
                    Scalar::$d(v) => v,
                    _ => unreachable!("cast returns the requested dtype"),
                }
            }
            fn into_chunk(a: ArcArray<Self, IxDyn>) -> Chunk {
                Chunk::$d(a)
            }
            fn chunk_ref(c: &Chunk) -> Option<&ArcArray<Self, IxDyn>> {
                match c {
                    Chunk::$d(a) => Some(a),
                    _ => None,
                }
            }
            fn from_chunk(c: Chunk) -> Option<ArcArray<Self, IxDyn>> {
                match c {
                    Chunk::$d(a) => Some(a),
                    _ => None,
                }
            }
        }
    };
}
element!(bool, Bool);
element!(i32, I32);
element!(i64, I64);
element!(f32, F32);
element!(f64, F64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_casts() {
        assert_eq!(f32::from_scalar(Scalar::I64(3)), 3.0);
        assert!(bool::from_scalar(Scalar::F64(f64::NAN)));
        assert_eq!(i32::from_scalar(Scalar::F64(-1.9)), -1);
    }
}
