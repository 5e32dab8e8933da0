//! `Chunk`: one block of an array in memory, an `ArcArray` of any dtype. Cloning shares the
//! buffer, and slicing a chunk is a zero-copy view into it (how `from_array` blocks stay
//! views of the user's array).

use ndarray::{ArcArray, ArrayD, IxDyn};

use crate::dtype::DType;
use crate::element::Element;

/// A block of array data: a shared n-d array of one of kiln's dtypes.
#[derive(Clone, Debug, PartialEq)]
pub enum Chunk {
    /// `bool` elements.
    Bool(ArcArray<bool, IxDyn>),
    /// `i32` elements.
    I32(ArcArray<i32, IxDyn>),
    /// `i64` elements.
    I64(ArcArray<i64, IxDyn>),
    /// `f32` elements.
    F32(ArcArray<f32, IxDyn>),
    /// `f64` elements.
    F64(ArcArray<f64, IxDyn>),
}

/// Runs `$body` with `$a` bound to the typed array inside a [`Chunk`] (by value, reference
/// or mutable reference, following the matched expression), whatever its dtype.
#[macro_export]
macro_rules! with_chunk {
    ($chunk:expr, $a:ident => $body:expr) => {
        match $chunk {
            $crate::Chunk::Bool($a) => $body,
            $crate::Chunk::I32($a) => $body,
            $crate::Chunk::I64($a) => $body,
            $crate::Chunk::F32($a) => $body,
            $crate::Chunk::F64($a) => $body,
        }
    };
}

impl Chunk {
    /// Wraps an owned array.
    pub fn new<T: Element>(a: ArrayD<T>) -> Chunk {
        T::into_chunk(a.into_shared())
    }

    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        match self {
            Chunk::Bool(_) => DType::Bool,
            Chunk::I32(_) => DType::I32,
            Chunk::I64(_) => DType::I64,
            Chunk::F32(_) => DType::F32,
            Chunk::F64(_) => DType::F64,
        }
    }

    /// The block's shape.
    pub fn shape(&self) -> &[usize] {
        with_chunk!(self, a => a.shape())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_chunk!(self, a => a.len())
    }

    /// Whether the block has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of element data this block covers (its logical size, not the shared buffer's).
    pub fn nbytes(&self) -> usize {
        self.len() * self.dtype().size()
    }

    /// The typed array, if the chunk holds `T`.
    pub fn typed<T: Element>(&self) -> Option<&ArcArray<T, IxDyn>> {
        T::chunk_ref(self)
    }

    /// The typed array, if the chunk holds `T`.
    pub fn into_typed<T: Element>(self) -> Option<ArcArray<T, IxDyn>> {
        T::from_chunk(self)
    }
}

impl<T: Element> From<ArrayD<T>> for Chunk {
    fn from(a: ArrayD<T>) -> Self {
        Chunk::new(a)
    }
}

impl<T: Element> From<ArcArray<T, IxDyn>> for Chunk {
    fn from(a: ArcArray<T, IxDyn>) -> Self {
        T::into_chunk(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, s};

    #[test]
    fn slicing_shares_the_buffer() {
        let c = Chunk::new(Array::from_shape_fn(IxDyn(&[4, 4]), |i| (i[0] * 4 + i[1]) as f64));
        let a = c.typed::<f64>().unwrap().clone();
        let view = a.clone().slice_move(s![1..3, 2..]).into_dyn();
        assert_eq!(view.as_ptr() as usize, a.as_ptr() as usize + 6 * 8);
        assert_eq!(Chunk::from(view).nbytes(), 4 * 8);
        assert_eq!(c.dtype(), DType::F64);
        assert!(c.typed::<f32>().is_none());
    }
}
