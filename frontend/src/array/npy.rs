//! `.npy` files on disk: [`from_npy`] makes a lazy array over one (each block task reads
//! only its block's bytes; slices are pushed into the read), and [`Array::to_npy`] writes an
//! array into one block by block (NumPy's `np.save` format, so `np.load` reads it back).

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use kiln_ir::npy::{NpyFile, NpyHeader, NpySource, NpyTarget};
use kiln_ir::{Chunks, Expr, Op, build};

use super::Array;
use super::compute::run_arrays;
use crate::config::{self, Config};
use crate::error::{Error, Result};

/// The largest header kiln reads (NumPy itself refuses headers over 10,000 bytes unless told
/// otherwise).
const MAX_HEADER: usize = 1 << 20;

/// A chunked array over the `.npy` file at `path` (NumPy's `np.save` format, versions 1.0
/// to 3.0; `bool`, `i32`, `i64`, `f32` and `f64` elements, either byte order, C or Fortran
/// order). Only the header is read now; each block is read from disk when a task needs it,
/// with positioned reads of just its bytes. Errors name the file and say what is wrong.
///
/// ```no_run
/// use kiln_frontend::array as ka;
/// let x = ka::from_npy("data.npy", [1000, 1000])?;
/// let total: f64 = x.sum().compute()?.into_scalar()?;
/// # Ok::<(), kiln_frontend::Error>(())
/// ```
pub fn from_npy(path: impl AsRef<Path>, chunks: impl Into<Chunks>) -> Result<Array> {
    let path = absolute(path.as_ref());
    let fail = |what: String| Error::File(format!("from_npy: {}: {what}", path.display()));
    let file = File::open(&path).map_err(|e| fail(e.to_string()))?;
    let identity = NpyFile::stat(&path).map_err(|e| fail(e.to_string()))?;
    let mut prefix = Vec::with_capacity(12);
    (&file).take(12).read_to_end(&mut prefix).map_err(|e| fail(e.to_string()))?;
    let total = NpyHeader::total_len(&prefix).map_err(&fail)?;
    if total > MAX_HEADER {
        return Err(fail(format!("the header is {total} bytes long, more than the {MAX_HEADER} kiln reads")));
    }
    if (total as u64) > identity.len {
        return Err(fail(format!("the header is truncated (the file has {} bytes, the header {total})", identity.len)));
    }
    let mut bytes = vec![0u8; total];
    file.read_exact_at(&mut bytes, 0).map_err(|e| fail(e.to_string()))?;
    let header = NpyHeader::parse(&bytes).map_err(&fail)?;
    let data_len = header.data_len().unwrap_or(u64::MAX);
    let available = identity.len - header.data_offset;
    if available < data_len {
        return Err(fail(format!(
            "the file is truncated: the header announces {data_len} bytes of {} {:?} data, the file holds {available}",
            header.descr(),
            header.shape
        )));
    }
    let expr = build::from_npy(NpySource::whole(identity, header), &chunks.into())?;
    Ok(Array::from_expr(expr))
}

/// Bytes of element data this process has read from the `.npy` file at `path` so far: what
/// tests use to show that a plan reads only what it needs.
pub fn npy_bytes_read(path: impl AsRef<Path>) -> u64 {
    kiln_ir::npy::bytes_read(&absolute(path.as_ref()))
}

impl Array {
    /// Computes the array and writes it to the `.npy` file at `path` (created or
    /// overwritten; little-endian, C order, read back by `np.load` or [`from_npy`]). The
    /// header is written and the file sized first; then every block's task writes its bytes
    /// in place, fused with the kernel computing the block, so the whole array is never in
    /// memory. The file is complete when this returns `Ok`, and removed on error.
    pub fn to_npy(&self, path: impl AsRef<Path>) -> Result<()> {
        self.to_npy_with(path, &config::get()?)
    }

    /// [`Array::to_npy`] with the given settings.
    pub fn to_npy_with(&self, path: impl AsRef<Path>, cfg: &Config) -> Result<()> {
        self.check()?;
        let path = absolute(path.as_ref());
        let fail = |what: String| Error::File(format!("to_npy: {}: {what}", path.display()));
        if reads_file(&self.expr, &path) {
            return Err(fail("the array reads this file; write to another path".into()));
        }
        let target = NpyTarget::new(path.clone(), self.dtype(), self.shape());
        let data_len = target.header.data_len().ok_or_else(|| fail("the array is too large".into()))?;
        let store = Array::from_expr(build::store_npy(&self.expr, target.clone())?);
        let file = File::create(&path).map_err(|e| fail(e.to_string()))?;
        file.write_all_at(&target.header.encode(), 0)
            .and_then(|()| file.set_len(target.header.data_offset + data_len))
            .map_err(|e| fail(e.to_string()))?;
        drop(file);
        let written =
            run_arrays(&[&store], cfg).and_then(|(mut out, _)| out.pop().expect("one output").into_scalar::<i64>());
        match written {
            Ok(n) if n as u64 == data_len => Ok(()),
            Ok(n) => {
                let _ = std::fs::remove_file(&path);
                Err(fail(format!("wrote {n} of {data_len} bytes")))
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    }
}

/// `path` made absolute (left as it is when the working directory is unknown).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether the expression reads the file at `path`.
fn reads_file(expr: &Expr, path: &Path) -> bool {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let target = canonical(path);
    Expr::topo_order(std::slice::from_ref(expr))
        .iter()
        .any(|e| matches!(e.op(), Op::FromNpy(src) if canonical(&src.file.path) == target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::{Axis, from_array};

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("kiln-frontend-npy-{}-{name}", std::process::id()))
    }

    #[test]
    fn arrays_round_trip_through_a_file() {
        let path = temp("round-trip.npy");
        let data = ndarray::Array2::from_shape_fn((5, 7), |(i, j)| (i * 7 + j) as f64);
        let x = from_array(data.clone(), [2, 3]);
        x.to_npy(&path).unwrap();
        let y = from_npy(&path, [3, 2]).unwrap();
        assert_eq!(y.compute().unwrap().into_f64().unwrap(), data.clone().into_dyn());
        let centred = &y - &y.mean_axis(Axis(0));
        let err = centred.to_npy(&path).unwrap_err().to_string();
        assert!(err.contains("reads this file"), "{err}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn missing_and_foreign_files_are_errors_naming_them() {
        let err = from_npy(temp("missing.npy"), [2]).unwrap_err().to_string();
        assert!(err.starts_with("from_npy: ") && err.contains("missing.npy"), "{err}");
        let path = temp("foreign.npy");
        std::fs::write(&path, b"hello").unwrap();
        let err = from_npy(&path, [2]).unwrap_err().to_string();
        assert!(err.contains("foreign.npy") && err.contains("magic"), "{err}");
        std::fs::remove_file(&path).unwrap();
    }
}
