//! Array constructors: from in-memory ndarray data (zero-copy blocks), constants, ranges.

use std::sync::Arc;

use kiln_ir::{Chunk, Chunks, Element, Expr, Scalar, Shape, build};
use ndarray::{ArcArray, Array as NdArray, Dimension};

use super::Array;

/// A chunked array over in-memory ndarray data. Blocks are zero-copy views of `data`.
pub fn from_array<T: Element, D: Dimension>(data: NdArray<T, D>, chunks: impl Into<Chunks>) -> Array {
    from_shared(data.into_shared(), chunks)
}

/// Like [`from_array`] for data already shared (`ArcArray`): no copy, and two arrays made
/// from the same shared data and view are the same expression node.
pub fn from_shared<T: Element, D: Dimension>(data: ArcArray<T, D>, chunks: impl Into<Chunks>) -> Array {
    let chunk = Chunk::from(data.into_dyn());
    source(build::from_array(chunk.clone(), &chunks.into()), || build::from_array(chunk, &Chunks::full()))
}

/// An array of `f64` zeros.
pub fn zeros(shape: impl Into<Shape>, chunks: impl Into<Chunks>) -> Array {
    full(shape, 0.0, chunks)
}

/// An array of `f64` ones.
pub fn ones(shape: impl Into<Shape>, chunks: impl Into<Chunks>) -> Array {
    full(shape, 1.0, chunks)
}

/// An array filled with `value`; its dtype is the value's Rust type (`7` gives `i32`).
pub fn full(shape: impl Into<Shape>, value: impl Into<Scalar>, chunks: impl Into<Chunks>) -> Array {
    let (shape, value) = (shape.into(), value.into());
    source(build::full(value, &shape, &chunks.into()), || build::full(value, &shape, &Chunks::full()))
}

/// Values from `start` up to (not including) `stop` by `step`, as NumPy's `arange`; the dtype
/// is `T`'s.
pub fn arange<T: Element>(start: T, stop: T, step: T, chunks: impl Into<Chunks>) -> Array {
    let (a, b, s) = (start.to_scalar(), stop.to_scalar(), step.to_scalar());
    source(build::arange(a, b, s, T::DTYPE, &chunks.into()), || build::full(a.cast(T::DTYPE), &[0], &Chunks::full()))
}

/// `num` evenly spaced `f64` values from `start` to `stop` inclusive, as NumPy's `linspace`.
pub fn linspace(start: f64, stop: f64, num: usize, chunks: impl Into<Chunks>) -> Array {
    linspace_endpoint(start, stop, num, true, chunks)
}

/// Like [`linspace`]; `endpoint: false` leaves `stop` out (the step is then
/// `(stop - start) / num`).
pub fn linspace_endpoint(start: f64, stop: f64, num: usize, endpoint: bool, chunks: impl Into<Chunks>) -> Array {
    source(build::linspace(start, stop, num, endpoint, &chunks.into()), || {
        build::full(Scalar::F64(start), &[num], &Chunks::full())
    })
}

/// Wraps a source builder's result; on error records it on a valid stand-in expression
/// (`fallback`) so metadata accessors keep working.
pub(crate) fn source(res: kiln_ir::Result<Expr>, fallback: impl FnOnce() -> kiln_ir::Result<Expr>) -> Array {
    match res {
        Ok(e) => Array::from_expr(e),
        Err(err) => {
            let expr = fallback()
                .or_else(|_| build::full(Scalar::F64(0.0), &[], &Chunks::full()))
                .expect("a 0-d constant is always valid");
            Array { expr, error: Some(Arc::new(err)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::DType;
    use ndarray::array;

    #[test]
    fn constructors_resolve_chunks() {
        let x = from_array(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [1, 2]);
        assert_eq!((x.shape(), x.chunks().to_string()), (&[2, 3][..], "(1×2, 2+1)".to_string()));
        assert_eq!(full([4], 7, [3]).dtype(), DType::I32);
        assert_eq!(arange(0i64, 10, 3, [2]).shape(), &[4]);
        assert_eq!(arange(0.0, 1.0, 0.25, [2]).dtype(), DType::F64);
        assert_eq!(linspace(0.0, 1.0, 5, [2]).shape(), &[5]);
        assert!(zeros([3, 3], Chunks::auto()).check().is_ok());
    }

    #[test]
    fn bad_chunks_are_recorded_not_panicked() {
        let x = zeros([3, 3], [0, 1]);
        assert_eq!(
            x.check().unwrap_err().to_string(),
            "invalid expression: chunks: chunk size 0 on axis 0 (shape (3, 3))"
        );
        assert_eq!(x.shape(), &[3, 3]);
        assert!(arange(0, 10, 0, [2]).check().is_err());
    }
}
