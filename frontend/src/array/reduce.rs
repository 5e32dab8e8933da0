//! Reductions over all axes, one axis (`sum_axis(Axis(k))`) or several (`sum_axes(&[0, 2],
//! keepdims)`), lowered as tree reductions (block → combine → aggregate) like Dask's. Results
//! follow NumPy: integer sums are `i64`, means of integers `f64`, `min`/`max` propagate NaN,
//! and `min`/`max`/`argmin`/`argmax` of zero elements are errors.

use kiln_ir::{F64Bits, ReduceOp, build};
use ndarray::Axis;

use super::Array;

impl Array {
    /// A reduction over `axes` (`None`: all axes), keeping reduced axes as length 1 if
    /// `keepdims`.
    pub fn reduce(&self, op: ReduceOp, axes: Option<&[usize]>, keepdims: bool) -> Array {
        self.map_expr(|x| build::reduce(op, x, axes, keepdims))
    }

    /// Variance with `ddof` delta degrees of freedom, over all axes.
    pub fn var(&self, ddof: f64) -> Array {
        self.reduce(ReduceOp::Var { ddof: F64Bits(ddof) }, None, false)
    }

    /// Variance along one axis.
    pub fn var_axis(&self, axis: Axis, ddof: f64) -> Array {
        self.reduce(ReduceOp::Var { ddof: F64Bits(ddof) }, Some(&[axis.index()]), false)
    }

    /// Variance over several axes.
    pub fn var_axes(&self, axes: &[usize], ddof: f64, keepdims: bool) -> Array {
        self.reduce(ReduceOp::Var { ddof: F64Bits(ddof) }, Some(axes), keepdims)
    }

    /// Standard deviation with `ddof` delta degrees of freedom, over all axes.
    pub fn std(&self, ddof: f64) -> Array {
        self.reduce(ReduceOp::Std { ddof: F64Bits(ddof) }, None, false)
    }

    /// Standard deviation along one axis.
    pub fn std_axis(&self, axis: Axis, ddof: f64) -> Array {
        self.reduce(ReduceOp::Std { ddof: F64Bits(ddof) }, Some(&[axis.index()]), false)
    }

    /// Standard deviation over several axes.
    pub fn std_axes(&self, axes: &[usize], ddof: f64, keepdims: bool) -> Array {
        self.reduce(ReduceOp::Std { ddof: F64Bits(ddof) }, Some(axes), keepdims)
    }
}

macro_rules! reductions {
    ($($op:ident: $all:ident, $axis:ident, $axes:ident, $what:literal;)*) => {
        impl Array {
            $(
                #[doc = concat!("The ", $what, " of all elements (a 0-d array).")]
                pub fn $all(&self) -> Array {
                    self.reduce(ReduceOp::$op, None, false)
                }

                #[doc = concat!("The ", $what, " along one axis (the axis is removed).")]
                pub fn $axis(&self, axis: Axis) -> Array {
                    self.reduce(ReduceOp::$op, Some(&[axis.index()]), false)
                }

                #[doc = concat!("The ", $what, " over several axes, keeping them as length 1 if `keepdims`.")]
                pub fn $axes(&self, axes: &[usize], keepdims: bool) -> Array {
                    self.reduce(ReduceOp::$op, Some(axes), keepdims)
                }
            )*
        }
    };
}

reductions! {
    Sum: sum, sum_axis, sum_axes, "sum";
    Prod: prod, prod_axis, prod_axes, "product";
    Mean: mean, mean_axis, mean_axes, "arithmetic mean";
    Min: min, min_axis, min_axes, "minimum (NaN if any element is NaN)";
    Max: max, max_axis, max_axes, "maximum (NaN if any element is NaN)";
    Any: any, any_axis, any_axes, "logical or";
    All: all, all_axis, all_axes, "logical and";
}

impl Array {
    /// Flat (C-order) index of the first minimum; NaN counts as the minimum.
    pub fn argmin(&self) -> Array {
        self.reduce(ReduceOp::ArgMin, None, false)
    }

    /// Index of the first minimum along one axis.
    pub fn argmin_axis(&self, axis: Axis) -> Array {
        self.reduce(ReduceOp::ArgMin, Some(&[axis.index()]), false)
    }

    /// Flat (C-order) index of the first maximum; NaN counts as the maximum.
    pub fn argmax(&self) -> Array {
        self.reduce(ReduceOp::ArgMax, None, false)
    }

    /// Index of the first maximum along one axis.
    pub fn argmax_axis(&self, axis: Axis) -> Array {
        self.reduce(ReduceOp::ArgMax, Some(&[axis.index()]), false)
    }
}

#[cfg(test)]
mod tests {
    use crate::array::{ones, zeros};
    use kiln_ir::DType;
    use ndarray::Axis;

    #[test]
    fn shapes_and_dtypes() {
        let x = ones([6, 4, 2], [4, 4, 1]);
        assert_eq!(x.sum().shape(), &[] as &[usize]);
        assert_eq!(x.mean_axis(Axis(1)).shape(), &[6, 2]);
        assert_eq!(x.max_axes(&[0, 2], true).shape(), &[1, 4, 1]);
        assert_eq!(x.argmax_axis(Axis(2)).dtype(), DType::I64);
        assert_eq!(x.any().dtype(), DType::Bool);
        assert!(x.argmin_axis(Axis(3)).check().is_err());
        assert!(x.argmax().check().is_ok());
        assert!(zeros([0], [1]).max().check().is_err());
    }
}
