//! `.npy` files as sources and sinks of expressions: the header format ([`NpyHeader`]),
//! the identity of a file on disk ([`NpyFile`]), the part of a file a `from_npy` node reads
//! ([`NpySource`], an affine view that slices compose into) and the file a `store_npy`
//! node writes ([`NpyTarget`]). Reading and writing the bytes is codegen's job.

mod header;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

pub use header::{MAGIC, NpyHeader};

use crate::slice::{SliceElem, SliceSpec};

/// A file as it was when an expression was built: its path, length and modification time.
/// All three are part of the node's token, so a plan for the old contents of a path is never
/// mistaken for one of the new contents, and a reader can tell that the file changed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NpyFile {
    /// The path (absolute when the caller could make it so).
    pub path: PathBuf,
    /// Length in bytes.
    pub len: u64,
    /// Modification time in nanoseconds since the Unix epoch (0 when unknown).
    pub modified_ns: i128,
}

impl NpyFile {
    /// The identity of the file at `path` now.
    pub fn stat(path: &Path) -> std::io::Result<NpyFile> {
        let meta = std::fs::metadata(path)?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        Ok(NpyFile { path: path.to_path_buf(), len: meta.len(), modified_ns })
    }

    /// The file's name without its directory, as explain prints it.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(|| self.path.display().to_string(), |n| n.to_string_lossy().into_owned())
    }
}

/// The part of a `.npy` file a node holds: node element `p` is data element
/// `offset + Σ p[k] * strides[k]` of the file (counting elements from the start of the
/// data, in the file's storage order). The whole array of a C-order file has C strides; a
/// Fortran-order file has Fortran strides. Slices compose into the view, so a sliced
/// source reads only what it selects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NpySource {
    /// The file.
    pub file: NpyFile,
    /// Its header.
    pub header: NpyHeader,
    /// The node's shape (the file's, or what the slices select).
    pub shape: Vec<usize>,
    /// Data element of the node's first element.
    pub offset: i64,
    /// Data elements per step along each node axis (negative walks backwards).
    pub strides: Vec<i64>,
}

impl NpySource {
    /// The whole array of the file: the view of its shape in its storage order.
    pub fn whole(file: NpyFile, header: NpyHeader) -> NpySource {
        let strides = storage_strides(&header.shape, header.fortran_order);
        NpySource { file, shape: header.shape.clone(), header, offset: 0, strides }
    }

    /// Whether the view is the whole array in its logical order.
    pub fn is_whole(&self) -> bool {
        self.offset == 0
            && self.shape == self.header.shape
            && self.strides == storage_strides(&self.header.shape, self.header.fortran_order)
    }

    /// The view that `spec` (a normalized slice of the node's shape) selects: ranges move
    /// the offset and scale the stride, an index fixes a position and drops the axis, a new
    /// axis gets stride 0. `None` on overflow.
    pub fn slice(&self, spec: &SliceSpec) -> Option<NpySource> {
        let mut offset = self.offset;
        let mut strides = Vec::with_capacity(spec.elems().len());
        let mut k = 0;
        for &e in spec.elems() {
            match e {
                SliceElem::NewAxis => strides.push(0),
                SliceElem::Range(r) => {
                    let stride = *self.strides.get(k)?;
                    if !r.is_empty() {
                        offset = offset.checked_add(i64::try_from(r.nth(0)).ok()?.checked_mul(stride)?)?;
                    }
                    strides.push(stride.checked_mul(r.step as i64)?);
                    k += 1;
                }
                SliceElem::Index(i) => {
                    let stride = *self.strides.get(k)?;
                    offset = offset.checked_add(i64::try_from(i).ok()?.checked_mul(stride)?)?;
                    k += 1;
                }
            }
        }
        let shape = spec.out_shape().to_vec();
        (k == self.strides.len()).then(|| NpySource { offset, strides, shape, ..self.clone() })
    }

    /// Whether every element of the view lies inside the file's data.
    pub fn fits(&self) -> bool {
        let shape = &self.shape;
        if shape.len() != self.strides.len() {
            return false;
        }
        if shape.contains(&0) {
            return true;
        }
        let n = self.header.len() as i128;
        let (mut lo, mut hi) = (self.offset as i128, self.offset as i128);
        for (&len, &s) in shape.iter().zip(&self.strides) {
            let span = (len as i128 - 1) * s as i128;
            if span < 0 { lo += span } else { hi += span }
        }
        lo >= 0 && hi < n
    }

    /// The parameters explain prints: the file's name (never its directory, so plans print
    /// the same everywhere), its dtype and order when not the default, and the view when the
    /// node holds part of the file.
    pub fn write_params(&self, out: &mut Vec<String>) {
        out.push(format!("file={}", self.file.name()));
        if self.header.big_endian {
            out.push(format!("descr={}", self.header.descr()));
        }
        if self.header.fortran_order {
            out.push("fortran".into());
        }
        if !self.is_whole() {
            out.push(format!("view={self}"));
        }
    }
}

impl fmt::Display for NpySource {
    /// `@20 [40, 1] of (10, 20)`: the first element, the strides, the file's shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{} {:?} of {}", self.offset, self.strides, crate::shape::Shape::from(self.header.shape.as_slice()))
    }
}

/// The strides (in elements) of an array of `shape` stored in C or Fortran order.
pub fn storage_strides(shape: &[usize], fortran_order: bool) -> Vec<i64> {
    let nd = shape.len();
    let mut strides = vec![1i64; nd];
    let mut acc = 1i64;
    let axes: Vec<usize> = if fortran_order { (0..nd).collect() } else { (0..nd).rev().collect() };
    for k in axes {
        strides[k] = acc;
        acc = acc.saturating_mul(shape[k] as i64);
    }
    strides
}

/// The file a `store_npy` node writes: little-endian, C order, its header already written
/// (the data starts at `data_offset`). The file must exist and have its full length before
/// the node's tasks run; each task writes its block's bytes in place.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NpyTarget {
    /// The path.
    pub path: PathBuf,
    /// The header of the stored array (`data_offset` is where the data starts).
    pub header: NpyHeader,
}

impl NpyTarget {
    /// A target for an array of `dtype` and `shape` at `path`, with NumPy's header layout.
    pub fn new(path: PathBuf, dtype: crate::dtype::DType, shape: &[usize]) -> NpyTarget {
        let mut header =
            NpyHeader { dtype, big_endian: false, fortran_order: false, shape: shape.to_vec(), data_offset: 0 };
        header.data_offset = header.encode().len() as u64;
        NpyTarget { path, header }
    }

    /// The file's name without its directory.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(|| self.path.display().to_string(), |n| n.to_string_lossy().into_owned())
    }
}

/// Bytes read from each `.npy` file by this process, for tests that prove a plan reads only
/// what it needs.
static BYTES_READ: LazyLock<Mutex<HashMap<PathBuf, u64>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Counts `n` bytes read from `path` (called by the readers).
pub fn record_read(path: &Path, n: u64) {
    let mut table = BYTES_READ.lock().unwrap_or_else(|e| e.into_inner());
    *table.entry(path.to_path_buf()).or_default() += n;
}

/// Bytes of element data read from `path` so far by this process (headers not counted).
pub fn bytes_read(path: &Path) -> u64 {
    BYTES_READ.lock().unwrap_or_else(|e| e.into_inner()).get(path).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    fn source(shape: &[usize], fortran_order: bool) -> NpySource {
        let file = NpyFile { path: "/data/x.npy".into(), len: 0, modified_ns: 0 };
        let header =
            NpyHeader { dtype: DType::F64, big_endian: false, fortran_order, shape: shape.to_vec(), data_offset: 128 };
        NpySource::whole(file, header)
    }

    fn spec(info: &[ndarray::SliceInfoElem], shape: &[usize]) -> SliceSpec {
        SliceSpec::normalize(info, shape).unwrap()
    }

    #[test]
    fn slices_compose_into_the_view() {
        let x = source(&[10, 20], false);
        assert_eq!(x.strides, vec![20, 1]);
        assert!(x.is_whole() && x.fits());
        let s = ndarray::s![2..8;2, ..;-1];
        let y = x.slice(&spec(s.as_ref(), &[10, 20])).unwrap();
        assert_eq!((y.offset, y.strides.clone()), (40 + 19, vec![40, -1]));
        assert!(y.fits() && !NpySource { shape: vec![5, 20], ..y.clone() }.fits());
        let z = y.slice(&spec(ndarray::s![1, ndarray::NewAxis, 5].as_ref(), &[3, 20])).unwrap();
        assert_eq!((z.offset, z.strides.clone()), (59 + 40 - 5, vec![0]));
        assert_eq!(z.to_string(), "@94 [0] of (10, 20)");
        let mut params = Vec::new();
        z.write_params(&mut params);
        assert_eq!(params, ["file=x.npy", "view=@94 [0] of (10, 20)"]);
    }

    #[test]
    fn fortran_files_have_fortran_strides() {
        let x = source(&[3, 4, 5], true);
        assert_eq!(x.strides, vec![1, 3, 12]);
        assert_eq!(storage_strides(&[], false), Vec::<i64>::new());
        assert_eq!(NpyTarget::new("out.npy".into(), DType::I32, &[2]).header.data_offset, 128);
    }

    #[test]
    fn reads_are_counted_per_file() {
        let p = Path::new("/nonexistent/counted.npy");
        record_read(p, 8);
        record_read(p, 16);
        assert_eq!(bytes_read(p), 24);
        assert_eq!(bytes_read(Path::new("/nonexistent/other.npy")), 0);
    }
}
