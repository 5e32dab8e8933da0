//! `kiln::array`: lazy chunked n-d arrays with NumPy semantics and ndarray names. An
//! [`Array`] is an expression: operations build new expressions without touching data, and
//! `compute()` optimizes, lowers and runs them on all cores.
//!
//! Invalid operations never panic: the resulting `Array` records the error (naming the op
//! and the shapes), later operations carry it along, and `check()`, `compute()` and
//! `explain()` report it before any task runs.

mod compute;
mod create;
mod dynarray;
mod elementwise;
mod layout;
mod npy;
mod operand;
mod operators;
mod persist;
mod placement;
pub mod random;
mod reduce;

use std::fmt;
use std::sync::Arc;

use kiln_ir::{ChunkGrid, DType, Expr};

pub use crate::collections::{Collections, compute, compute_with};
pub use compute::Computable;
pub(crate) use compute::run_arrays;
pub use create::{arange, from_array, from_shared, full, linspace, linspace_endpoint, ones, zeros};
pub use dynarray::DynArray;
pub use elementwise::{maximum, minimum, where_};
pub use kiln_ir::{ChunkAxis, Chunks, Element};
pub use ndarray::{Axis, s};
pub use npy::{from_npy, npy_bytes_read};
pub use operand::Operand;

use crate::error::{Error, Result};

/// A lazy, chunked n-d array: cheap to clone (shared), `Send + Sync`. Every operation takes
/// `&self` and returns a new `Array`.
#[derive(Clone)]
pub struct Array {
    expr: Expr,
    error: Option<Arc<kiln_ir::Error>>,
}

impl Array {
    pub(crate) fn from_expr(expr: Expr) -> Array {
        Array { expr, error: None }
    }

    /// Wraps a builder's result; on error keeps `fallback`'s expression for metadata.
    pub(crate) fn from_result(res: kiln_ir::Result<Expr>, fallback: &Array) -> Array {
        match res {
            Ok(expr) => Array::from_expr(expr),
            Err(e) => Array { expr: fallback.expr.clone(), error: Some(Arc::new(e)) },
        }
    }

    /// Applies a builder to this array unless it already carries an error.
    pub(crate) fn map_expr(&self, f: impl FnOnce(&Expr) -> kiln_ir::Result<Expr>) -> Array {
        if self.error.is_some() {
            return self.clone();
        }
        Array::from_result(f(&self.expr), self)
    }

    /// The first recorded error among `arrays`, as an `Array` carrying it.
    pub(crate) fn first_error<'a>(arrays: impl IntoIterator<Item = &'a Array>) -> Option<Array> {
        arrays.into_iter().find(|a| a.error.is_some()).cloned()
    }

    /// The expression behind this array.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// `Ok` if the expression is valid; otherwise the error recorded when it was built.
    pub fn check(&self) -> Result<()> {
        match &self.error {
            None => Ok(()),
            Some(e) => Err(Error::Invalid((**e).clone())),
        }
    }

    /// Length of each axis.
    pub fn shape(&self) -> &[usize] {
        self.expr.shape()
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.expr.ndim()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.expr.shape().size()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.expr.dtype()
    }

    /// How the array is cut into blocks.
    pub fn chunks(&self) -> &ChunkGrid {
        self.expr.chunks()
    }

    /// Number of blocks.
    pub fn n_blocks(&self) -> u64 {
        self.expr.chunks().n_blocks()
    }

    /// Bytes of the whole array (not computed, just shape × element size).
    pub fn nbytes(&self) -> usize {
        self.expr.meta().nbytes()
    }
}

impl fmt::Display for Array {
    /// Dask's repr, without computing: `Array<random.uniform, shape=(20000, 20000), dtype=f64,
    /// chunksize=(2000, 2000), chunks=100, nbytes=3.2 GB>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.error {
            return write!(f, "Array<invalid: {e}>");
        }
        let chunksize: Vec<String> = self.chunks().max_block_shape().iter().map(usize::to_string).collect();
        let chunksize =
            if chunksize.len() == 1 { format!("({},)", chunksize[0]) } else { format!("({})", chunksize.join(", ")) };
        write!(
            f,
            "Array<{}, shape={}, dtype={}, chunksize={chunksize}, chunks={}, nbytes={}>",
            self.expr.op().name(),
            self.expr.shape(),
            self.dtype(),
            self.n_blocks(),
            kiln_ir::task_graph::fmt_bytes(self.nbytes())
        )
    }
}

impl fmt::Debug for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_are_send_sync_and_cheap() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Array>();
        let x = zeros([20_000, 20_000], [2_000, 2_000]);
        assert_eq!(
            x.to_string(),
            "Array<full, shape=(20000, 20000), dtype=f64, chunksize=(2000, 2000), chunks=100, nbytes=3.2 GB>"
        );
    }

    #[test]
    fn errors_are_recorded_and_carried() {
        let a = ones([3, 4], [2, 2]);
        let b = ones([5], [5]);
        let c = (&a + &b).sum();
        let err = c.check().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid expression: add: operands could not be broadcast together with shapes (3, 4) (5,)"
        );
        assert!(c.to_string().starts_with("Array<invalid: add:"));
    }
}
