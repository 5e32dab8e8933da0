//! `persist()`: compute an array now and keep its values in memory, as an array backed by
//! them (Dask's `persist`). Later expressions built on it start from the computed blocks
//! instead of recomputing what led to them.

use kiln_ir::{Chunks, build};

use super::Array;
use super::create::source;
use crate::config::{self, Config};
use crate::error::Result;

impl Array {
    /// Computes the array with the global settings and returns an array over the result,
    /// chunked as this one is. The result must fit in memory.
    ///
    /// ```
    /// use kiln_frontend::array as ka;
    /// let x = ka::random::uniform([100, 100], [25, 25], 7);
    /// let y = (&x * 2.0).persist()?;          // computed once, here
    /// assert_eq!(y.chunks(), x.chunks());
    /// let s = y.sum().compute()?.into_scalar::<f64>()?;
    /// let m = y.mean().compute()?.into_scalar::<f64>()?;
    /// assert!((s / 10_000.0 - m).abs() < 1e-12);
    /// # Ok::<(), kiln_frontend::Error>(())
    /// ```
    pub fn persist(&self) -> Result<Array> {
        self.persist_with(&config::get()?)
    }

    /// [`Array::persist`] with the given settings.
    pub fn persist_with(&self, cfg: &Config) -> Result<Array> {
        let grid = self.chunks().clone();
        let data = self.compute_with(cfg)?.into_chunk();
        Ok(source(build::from_array(data.clone(), &Chunks::Grid(grid)), || build::from_array(data, &Chunks::full())))
    }
}

#[cfg(test)]
mod tests {
    use crate::array as ka;
    use crate::config::{Config, Scheduler};

    #[test]
    fn persisted_arrays_hold_the_values_with_the_same_chunks() {
        let cfg = Config::default().with_scheduler(Scheduler::Sync);
        let x = ka::arange(0.0, 30.0, 1.0, [7]);
        let y = (&x * 3.0).persist_with(&cfg).unwrap();
        assert_eq!(y.chunks(), x.chunks());
        assert!(matches!(y.expr().op(), kiln_ir::Op::FromArray(_)), "{}", y.expr());
        let got = (&y + 1.0).compute_with(&cfg).unwrap().into_f64().unwrap();
        assert_eq!(got.as_slice().unwrap(), (0..30).map(|i| i as f64 * 3.0 + 1.0).collect::<Vec<_>>().as_slice());
        let bad = &ka::ones([2], [1]) + &ka::ones([3], [1]);
        assert!(bad.persist_with(&cfg).is_err());
    }
}
