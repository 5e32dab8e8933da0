//! Spill files: a run's folder of spilled values (made on the first spill, removed with
//! everything in it when the run's store is dropped, whether the run succeeded or failed)
//! and one file per spilled value (removed when its last reader has read it back).

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use kiln_ir::{SpillCodec, TaskGraph, TaskId, Value};

use crate::error::{Error, Result};
use crate::loom::{Arc, Mutex, lock};

/// The folder a run spills into.
#[derive(Debug)]
pub(crate) struct SpillDir {
    /// Where the run's folder goes.
    parent: PathBuf,
    /// The run's own folder, once made (or why it could not be); taken by `close`.
    made: Mutex<Option<std::result::Result<Arc<DirGuard>, String>>>,
    /// Numbers the files: two threads may write the same value at once (one of the two
    /// copies is then dropped), so a task id alone does not name a file.
    files: AtomicU64,
}

/// Removes the run's folder when the last file in it and the run are done with it.
#[derive(Debug)]
pub(crate) struct DirGuard(PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// One spilled value on disk; the file is removed on drop.
pub(crate) struct SpillFile {
    path: PathBuf,
    codec: &'static SpillCodec,
    nbytes: usize,
    _dir: Arc<DirGuard>,
}

impl std::fmt::Debug for SpillFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SpillFile({}, {} bytes)", self.path.display(), self.nbytes)
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl SpillDir {
    /// A spill folder to be made inside `parent` (the system's temporary folder if `None`).
    pub(crate) fn new(parent: Option<&Path>) -> SpillDir {
        SpillDir {
            parent: parent.map_or_else(std::env::temp_dir, Path::to_path_buf),
            made: Mutex::new(None),
            files: AtomicU64::new(0),
        }
    }

    /// Lets the run's folder go: it is removed now, or when the last spill file still being
    /// read by a task that outlived its run is dropped.
    pub(crate) fn close(&self) {
        lock(&self.made).take();
    }

    /// The run's folder, made on first use.
    fn dir(&self) -> Result<Arc<DirGuard>> {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let mut made = lock(&self.made);
        let made = made.get_or_insert_with(|| {
            let n = RUNS.fetch_add(1, Ordering::Relaxed);
            let dir = self.parent.join(format!("kiln-spill-{}-{n}", std::process::id()));
            fs::create_dir_all(&dir).map(|()| Arc::new(DirGuard(dir.clone()))).map_err(|e| {
                format!(
                    "cannot make the spill folder {}: {e} (set KILN_SPILL_DIR or MemoryBudget::spill_dir)",
                    dir.display()
                )
            })
        });
        made.clone().map_err(Error::Spill)
    }

    /// Whether the run's folder has been made (for tests).
    #[cfg(test)]
    pub(crate) fn path(&self) -> Option<PathBuf> {
        lock(&self.made).as_ref().and_then(|m| m.as_ref().ok()).map(|g| g.0.clone())
    }

    /// Writes task `id`'s `value` to a file of its own; `None` if the value cannot be spilled.
    pub(crate) fn write(&self, graph: &TaskGraph, id: TaskId, value: &Value) -> Result<Option<SpillFile>> {
        let Some(codec) = value.spill_codec() else { return Ok(None) };
        let dir = self.dir()?;
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let path = dir.0.join(format!("t{}-{n}.bin", id.0));
        let file = SpillFile { path, codec, nbytes: value.nbytes(), _dir: dir };
        let written = File::create(&file.path).and_then(|f| {
            let mut w = BufWriter::with_capacity(1 << 20, f);
            value.spill_to(&mut w).unwrap_or(Ok(()))?;
            w.flush()
        });
        written.map_err(|e| {
            Error::Spill(format!("cannot spill task {} to {}: {e}", graph.key_string(id), file.path.display()))
        })?;
        Ok(Some(file))
    }
}

impl SpillFile {
    /// Reads the value back.
    pub(crate) fn read(&self) -> Result<Value> {
        let f = File::open(&self.path)
            .map_err(|e| Error::Spill(format!("cannot open the spill file {}: {e}", self.path.display())))?;
        let mut r = BufReader::with_capacity(1 << 20, f);
        (self.codec.read)(&mut r)
            .map_err(|e| Error::Spill(format!("cannot read the spill file {}: {e}", self.path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::Chunk;

    #[test]
    fn values_spill_read_back_and_files_go_away() {
        let graph = crate::synthetic::chain(2);
        let parent = std::env::temp_dir().join(format!("kiln-spill-test-{}", std::process::id()));
        let dir = SpillDir::new(Some(&parent));
        assert!(dir.path().is_none(), "nothing is made before the first spill");
        let chunk = Chunk::new(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[4, 5]), 2.5f64));
        let file = dir.write(&graph, TaskId(1), &Value::chunk(chunk.clone())).unwrap().unwrap();
        let folder = dir.path().unwrap();
        assert!(folder.starts_with(&parent));
        assert_eq!(file.read().unwrap().as_chunk(), Some(&chunk));
        assert_eq!(format!("{file:?}"), format!("SpillFile({}, 160 bytes)", file.path.display()));
        assert!(dir.write(&graph, TaskId(0), &Value::new(3u8, 1)).unwrap().is_none());
        let path = file.path.clone();
        drop(file);
        assert!(!path.exists());
        drop(dir);
        assert!(!folder.exists(), "the run's folder goes with the last file and the run");
        let _ = fs::remove_dir(&parent);
    }

    #[test]
    fn an_unusable_folder_is_a_clear_error() {
        let graph = crate::synthetic::chain(1);
        let dir = SpillDir::new(Some(Path::new("/proc/definitely/not/here")));
        let value = Value::chunk(Chunk::new(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[1]), 1i32)));
        let err = dir.write(&graph, TaskId(0), &value).unwrap_err().to_string();
        assert!(err.contains("cannot make the spill folder /proc/definitely/not/here"), "{err}");
    }
}
