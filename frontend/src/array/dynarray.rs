//! `DynArray`: a computed array, an ndarray `ArrayD` of whichever dtype the expression has,
//! with typed access (`into_f64()`, `into_scalar::<T>()`).

use std::fmt;

use kiln_ir::{Chunk, DType, Element, Value};
use ndarray::{ArrayD, ArrayViewD};

use crate::error::{Error, Result};

/// A computed array of any dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum DynArray {
    /// `bool` elements.
    Bool(ArrayD<bool>),
    /// `i32` elements.
    I32(ArrayD<i32>),
    /// `i64` elements.
    I64(ArrayD<i64>),
    /// `f32` elements.
    F32(ArrayD<f32>),
    /// `f64` elements.
    F64(ArrayD<f64>),
}

macro_rules! with_dyn {
    ($d:expr, $a:ident => $body:expr) => {
        match $d {
            DynArray::Bool($a) => $body,
            DynArray::I32($a) => $body,
            DynArray::I64($a) => $body,
            DynArray::F32($a) => $body,
            DynArray::F64($a) => $body,
        }
    };
}
pub(crate) use with_dyn;

impl DynArray {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            DynArray::Bool(_) => DType::Bool,
            DynArray::I32(_) => DType::I32,
            DynArray::I64(_) => DType::I64,
            DynArray::F32(_) => DType::F32,
            DynArray::F64(_) => DType::F64,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        with_dyn!(self, a => a.shape())
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_dyn!(self, a => a.len())
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The array as `ArrayD<T>`, if its dtype is `T`'s (no conversion; see [`DynArray::cast`]).
    pub fn into_typed<T: Element>(self) -> Result<ArrayD<T>> {
        let dtype = self.dtype();
        self.into_chunk().into_typed::<T>().map(|a| a.into_owned()).ok_or_else(|| {
            Error::Type(format!("the array has dtype {dtype}, not {}; convert it with cast() or astype()", T::DTYPE))
        })
    }

    /// A view as `T`, if the dtype is `T`'s.
    pub fn view<T: Element>(&self) -> Option<ArrayViewD<'_, T>> {
        match (self, T::DTYPE) {
            (DynArray::F64(a), DType::F64) => Some(reinterpret(a.view())),
            (DynArray::F32(a), DType::F32) => Some(reinterpret(a.view())),
            (DynArray::I64(a), DType::I64) => Some(reinterpret(a.view())),
            (DynArray::I32(a), DType::I32) => Some(reinterpret(a.view())),
            (DynArray::Bool(a), DType::Bool) => Some(reinterpret(a.view())),
            _ => None,
        }
    }

    /// The `f64` array (an error for other dtypes).
    pub fn into_f64(self) -> Result<ArrayD<f64>> {
        self.into_typed()
    }

    /// The `f32` array (an error for other dtypes).
    pub fn into_f32(self) -> Result<ArrayD<f32>> {
        self.into_typed()
    }

    /// The `i64` array (an error for other dtypes).
    pub fn into_i64(self) -> Result<ArrayD<i64>> {
        self.into_typed()
    }

    /// The `i32` array (an error for other dtypes).
    pub fn into_i32(self) -> Result<ArrayD<i32>> {
        self.into_typed()
    }

    /// The `bool` array (an error for other dtypes).
    pub fn into_bool(self) -> Result<ArrayD<bool>> {
        self.into_typed()
    }

    /// The single element of a 0-d (or one-element) array, converted to `T` like Python's
    /// `float(x)` / `int(x)`.
    pub fn into_scalar<T: Element>(self) -> Result<T> {
        if self.len() != 1 {
            return Err(Error::Type(format!(
                "into_scalar needs a single element, but the array has shape {:?}",
                self.shape()
            )));
        }
        Ok(with_dyn!(&self, a => T::from_scalar(a.iter().next().expect("one element").to_scalar())))
    }

    /// Converts to `dtype` (NumPy `astype`).
    pub fn cast(&self, dtype: DType) -> DynArray {
        fn conv<S: Element, T: Element>(a: &ArrayD<S>) -> ArrayD<T> {
            a.mapv(|v| T::from_scalar(v.to_scalar()))
        }
        with_dyn!(self, a => match dtype {
            DType::Bool => DynArray::Bool(conv(a)),
            DType::I32 => DynArray::I32(conv(a)),
            DType::I64 => DynArray::I64(conv(a)),
            DType::F32 => DynArray::F32(conv(a)),
            DType::F64 => DynArray::F64(conv(a)),
        })
    }

    /// The array as a [`Chunk`] (no copy).
    pub fn into_chunk(self) -> Chunk {
        with_dyn!(self, a => Chunk::new(a))
    }

    /// The array held by a chunk (no copy when the chunk is the only owner of its buffer).
    pub fn from_chunk(c: Chunk) -> DynArray {
        match c {
            Chunk::Bool(a) => DynArray::Bool(a.into_owned()),
            Chunk::I32(a) => DynArray::I32(a.into_owned()),
            Chunk::I64(a) => DynArray::I64(a.into_owned()),
            Chunk::F32(a) => DynArray::F32(a.into_owned()),
            Chunk::F64(a) => DynArray::F64(a.into_owned()),
        }
    }

    /// Puts computed blocks together: `blocks` are the values of each block of `grid`, in C
    /// order.
    pub(crate) fn assemble(grid: &kiln_ir::ChunkGrid, dtype: DType, blocks: Vec<Value>) -> Result<DynArray> {
        let mut chunks = Vec::with_capacity(blocks.len());
        for v in blocks {
            let c =
                v.take_or_clone::<Chunk>().ok_or_else(|| Error::Type("a task returned a non-array value".into()))?;
            chunks.push(c);
        }
        if chunks.len() == 1 {
            return Ok(DynArray::from_chunk(chunks.pop().expect("one block")));
        }
        let mut out = super::placement::zeroed(dtype, grid.shape().dims())?;
        for (b, c) in chunks.iter().enumerate() {
            super::placement::copy_block(&mut out, grid, b as u64, c)?;
        }
        Ok(out)
    }
}

/// Re-types a view whose element type is known (by dtype) to be `U`.
fn reinterpret<T: Element, U: Element>(v: ArrayViewD<'_, T>) -> ArrayViewD<'_, U> {
    assert_eq!(T::DTYPE, U::DTYPE, "callers match dtypes first");
    // SAFETY: T and U are the same type: `Element` is implemented only for five distinct
    // types, each with its own DTYPE, and the assertion above checked the dtypes match.
    unsafe { std::mem::transmute::<ArrayViewD<'_, T>, ArrayViewD<'_, U>>(v) }
}

impl<T: Element> From<ArrayD<T>> for DynArray {
    fn from(a: ArrayD<T>) -> Self {
        DynArray::from_chunk(Chunk::new(a))
    }
}

impl fmt::Display for DynArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        with_dyn!(self, a => fmt::Display::fmt(a, f))
    }
}

impl From<DynArray> for Chunk {
    fn from(d: DynArray) -> Self {
        d.into_chunk()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr0;

    #[test]
    fn typed_access_is_strict_and_scalars_convert() {
        let d = DynArray::from(arr0(3i64).into_dyn());
        assert_eq!(d.clone().into_scalar::<f64>().unwrap(), 3.0);
        let err = d.clone().into_f64().unwrap_err();
        assert_eq!(err.to_string(), "the array has dtype i64, not f64; convert it with cast() or astype()");
        assert_eq!(d.cast(DType::F64).into_f64().unwrap()[[]], 3.0);
        assert!(d.view::<i64>().is_some());
        assert!(d.view::<f64>().is_none());
    }
}
