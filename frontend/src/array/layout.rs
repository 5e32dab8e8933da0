//! Shape operations: slicing with ndarray's `s![...]`, transposes, new axes, broadcasting,
//! and rechunking.

use kiln_ir::{Chunks, Shape, build};
use ndarray::{Axis, SliceInfoElem};

use super::Array;

impl Array {
    /// Basic slicing with ndarray's `s![...]`: ranges, steps (negative steps walk the range
    /// backwards from its end, as in ndarray), integer indices (negative count from the end)
    /// and `NewAxis`. Out-of-range bounds clamp as in NumPy; fewer entries than axes leave
    /// the rest whole.
    pub fn slice<I: AsRef<[SliceInfoElem]>>(&self, info: I) -> Array {
        self.map_expr(|x| build::slice(x, info.as_ref()))
    }

    /// The transpose (axes reversed).
    pub fn t(&self) -> Array {
        let perm: Vec<usize> = (0..self.ndim()).rev().collect();
        self.permuted_axes(perm)
    }

    /// Permutes the axes: output axis `k` is input axis `axes[k]`.
    pub fn permuted_axes(&self, axes: impl AsRef<[usize]>) -> Array {
        self.map_expr(|x| build::transpose(x, axes.as_ref()))
    }

    /// Inserts a new axis of length 1 at `axis`.
    pub fn insert_axis(&self, axis: Axis) -> Array {
        self.map_expr(|x| build::insert_axis(x, axis.index()))
    }

    /// Broadcasts to `shape` (NumPy's `broadcast_to`): existing axes keep their chunks, new
    /// and stretched axes are one block each.
    pub fn broadcast_to(&self, shape: impl Into<Shape>) -> Array {
        let shape = shape.into();
        self.map_expr(|x| build::broadcast_to(x, &shape))
    }

    /// The same values in new chunks.
    pub fn rechunk(&self, chunks: impl Into<Chunks>) -> Array {
        let chunks = chunks.into();
        self.map_expr(|x| build::rechunk(x, &chunks))
    }
}

#[cfg(test)]
mod tests {
    use crate::array::{ones, s};
    use ndarray::Axis;

    #[test]
    fn layout_shapes() {
        let x = ones([6, 4], [4, 4]);
        assert_eq!(x.slice(s![..3, 1]).shape(), &[3]);
        assert_eq!(x.slice(s![.., ..;-2, ndarray::NewAxis]).shape(), &[6, 2, 1]);
        assert_eq!(x.t().shape(), &[4, 6]);
        assert_eq!(x.insert_axis(Axis(0)).shape(), &[1, 6, 4]);
        assert_eq!(x.broadcast_to([3, 6, 4]).shape(), &[3, 6, 4]);
        assert_eq!(x.rechunk([3, 2]).chunks().to_string(), "(3×2, 2×2)");
        assert!(x.slice(s![7]).check().is_err());
    }
}
