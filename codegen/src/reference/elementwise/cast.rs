//! `astype`: elementwise dtype conversion with NumPy's unsafe-casting results (see
//! [`CastFrom`](crate::reference::num::CastFrom) for the rules of each pair).

use kiln_ir::{Chunk, DType, with_chunk};

use crate::error::Result;
use crate::reference::elementwise::map1;
use crate::reference::num::{CastFrom, with_dtype};

/// `x` converted to dtype `to`; the same block, shared, when it already has that dtype.
pub fn astype(x: &Chunk, to: DType) -> Result<Chunk> {
    if x.dtype() == to {
        return Ok(x.clone());
    }
    Ok(with_chunk!(x, a => with_dtype!(to, T => Chunk::new(map1(a, T::cast_from)))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr1;

    fn chunk<T: kiln_ir::Element>(v: &[T]) -> Chunk {
        Chunk::new(arr1(v).into_dyn())
    }

    #[test]
    fn conversions() {
        let f = chunk(&[-2.7, 0.0, f64::NAN, 3e10, 0.5]);
        assert_eq!(astype(&f, DType::I32).unwrap(), chunk(&[-2, 0, 0, i32::MAX, 0]));
        assert_eq!(astype(&f, DType::Bool).unwrap(), chunk(&[true, false, true, true, true]));
        let g = astype(&f, DType::F32).unwrap();
        let g: Vec<f32> = g.typed::<f32>().unwrap().iter().copied().collect::<Vec<_>>();
        assert_eq!((g[0], g[1], g[3], g[4]), (-2.7f32, 0.0, 3e10, 0.5));
        assert!(g[2].is_nan());
        let i = chunk(&[i64::from(i32::MAX) + 1, -1, 0]);
        assert_eq!(astype(&i, DType::I32).unwrap(), chunk(&[i32::MIN, -1, 0]));
        assert_eq!(astype(&i, DType::Bool).unwrap(), chunk(&[true, true, false]));
        let b = chunk(&[true, false]);
        assert_eq!(astype(&b, DType::F64).unwrap(), chunk(&[1.0, 0.0]));
        assert_eq!(astype(&b, DType::I32).unwrap(), chunk(&[1, 0]));
        let same = astype(&f, DType::F64).unwrap();
        assert_eq!(same.typed::<f64>().unwrap().as_ptr(), f.typed::<f64>().unwrap().as_ptr());
    }
}
