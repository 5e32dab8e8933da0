//! Blocks of `.npy` files: a `from_npy` block task reads exactly its block's elements with
//! positioned reads (`read_exact_at`, one per run of contiguous elements, adjacent runs
//! coalesced; never a memory map, never the whole file), and a `store_npy` task writes its
//! block's bytes in place with positioned writes. Both go through a per-thread buffer that
//! is reused from task to task.
//!
//! A block's elements are visited in file order: its axes sorted by decreasing file stride
//! (negative strides flipped), the innermost contiguous axes merged into one run. So a
//! Fortran-order file or a transposed view reads long runs too, and the block is then put
//! back into its logical (C) order in memory.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;

use kiln_ir::npy::{NpyFile, NpySource, NpyTarget, record_read, storage_strides};
use kiln_ir::{Chunk, DType, Element, with_chunk};
use ndarray::{ArrayD, Axis, IxDyn};

use crate::error::{Error, Result};
use crate::reference::num::with_dtype;

/// The most bytes one read of a strided run spans (a strided run is read as spans of whole
/// element groups and the selected elements are picked out).
const MAX_SPAN: usize = 1 << 20;

/// The most bytes of staging buffer a thread keeps between tasks (a larger one is freed after
/// its task, so the memory kiln holds between tasks stays what the runtime's budget counts).
const KEEP_BUFFER: usize = 1 << 20;

thread_local! {
    /// The raw bytes of the block being read or written, reused by the thread's next task.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The span of a strided run.
    static SPAN: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// An element type as `.npy` files store it.
trait NpyElement: Element {
    /// Decodes one element from its bytes.
    fn decode(bytes: &[u8], big_endian: bool) -> Self;
    /// Encodes one element as little-endian bytes.
    fn encode(self, out: &mut [u8]);
}

macro_rules! npy_number {
    ($($t:ty),*) => {$(
        impl NpyElement for $t {
            fn decode(bytes: &[u8], big_endian: bool) -> Self {
                let b = bytes.try_into().expect("one element's bytes");
                if big_endian { <$t>::from_be_bytes(b) } else { <$t>::from_le_bytes(b) }
            }
            fn encode(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
npy_number!(i32, i64, f32, f64);

impl NpyElement for bool {
    fn decode(bytes: &[u8], _big_endian: bool) -> Self {
        bytes[0] != 0
    }
    fn encode(self, out: &mut [u8]) {
        out[0] = u8::from(self);
    }
}

/// How a block's elements lie in the file, visited in file order.
struct FileOrder {
    /// Data element of the first element visited.
    offset: i64,
    /// The block's axes of more than one element, by decreasing file stride: (logical axis,
    /// length, stride); strides are positive.
    axes: Vec<(usize, usize, i64)>,
    /// Logical axes walked backwards (their stride was negative).
    flipped: Vec<usize>,
    /// Number of innermost axes of `axes` merged into one run.
    merged: usize,
    /// Elements per run.
    run: usize,
    /// Stride between a run's elements (1: contiguous).
    run_stride: i64,
}

impl FileOrder {
    /// The file order of the block at `region` of a view with `offset` and `strides`.
    fn new(offset: i64, strides: &[i64], region: &[Range<usize>]) -> FileOrder {
        let mut offset = offset + region.iter().zip(strides).map(|(r, &s)| r.start as i64 * s).sum::<i64>();
        let mut axes = Vec::new();
        let mut flipped = Vec::new();
        for (k, (r, &s)) in region.iter().zip(strides).enumerate() {
            let len = r.len();
            if len <= 1 {
                continue;
            }
            if s < 0 {
                offset += (len as i64 - 1) * s;
                flipped.push(k);
            }
            axes.push((k, len, s.abs()));
        }
        axes.sort_by_key(|&(k, _, s)| (std::cmp::Reverse(s), k));
        let (mut merged, mut run, mut run_stride) = (0, 1usize, 1i64);
        if let Some(&(_, len, s)) = axes.last() {
            (merged, run, run_stride) = (1, len, s);
            if s == 1 {
                while let Some(&(_, len, s)) = axes.iter().rev().nth(merged)
                    && s == run as i64
                {
                    run *= len;
                    merged += 1;
                }
            }
        }
        FileOrder { offset, axes, flipped, merged, run, run_stride }
    }

    /// Whether file order is the block's logical C order (no axis permuted or flipped).
    fn is_logical(&self) -> bool {
        self.flipped.is_empty() && self.axes.windows(2).all(|w| w[0].0 < w[1].0)
    }

    /// Calls `f` with the data element where each run starts, in file order.
    fn for_each_run(&self, mut f: impl FnMut(i64) -> io::Result<()>) -> io::Result<()> {
        let outer = &self.axes[..self.axes.len() - self.merged];
        let mut idx = vec![0usize; outer.len()];
        loop {
            let pos = self.offset + outer.iter().zip(&idx).map(|(&(_, _, s), &i)| i as i64 * s).sum::<i64>();
            f(pos)?;
            let mut k = outer.len();
            loop {
                if k == 0 {
                    return Ok(());
                }
                k -= 1;
                idx[k] += 1;
                if idx[k] < outer[k].1 {
                    break;
                }
                idx[k] = 0;
            }
        }
    }
}

/// Adjacent byte ranges merged into one positioned read or write.
struct Coalescer {
    /// File position, buffer position and length of the pending transfer.
    pending: Option<(u64, usize, usize)>,
}

impl Coalescer {
    fn push(
        &mut self,
        file_pos: u64,
        buf_pos: usize,
        len: usize,
        mut flush: impl FnMut(u64, Range<usize>) -> io::Result<()>,
    ) -> io::Result<()> {
        match &mut self.pending {
            Some((f, b, n)) if *f + *n as u64 == file_pos && *b + *n == buf_pos => *n += len,
            _ => {
                if let Some((f, b, n)) = self.pending.take() {
                    flush(f, b..b + n)?;
                }
                self.pending = Some((file_pos, buf_pos, len));
            }
        }
        Ok(())
    }

    fn finish(&mut self, mut flush: impl FnMut(u64, Range<usize>) -> io::Result<()>) -> io::Result<()> {
        match self.pending.take() {
            Some((f, b, n)) => flush(f, b..b + n),
            None => Ok(()),
        }
    }
}

/// Checks that `region` is a block of an array of `shape`.
fn check_region(what: &str, region: &[Range<usize>], shape: &[usize]) -> Result<()> {
    let fits = region.len() == shape.len() && region.iter().zip(shape).all(|(r, &d)| r.start <= r.end && r.end <= d);
    if !fits {
        return Err(Error::Internal(format!(
            "{what}: block region {region:?} is outside the array of shape {shape:?}"
        )));
    }
    Ok(())
}

/// An I/O error as a task error naming the file.
fn io_error(op: &str, path: &std::path::Path, e: io::Error) -> Error {
    let what = match e.kind() {
        io::ErrorKind::UnexpectedEof => "the file is shorter than its header says".to_string(),
        _ => e.to_string(),
    };
    Error::Compute(format!("{op}: {}: {what}", path.display()))
}

/// Runs `f` on the thread's staging buffer, zeroed to `len` bytes; frees the buffer after
/// if it is over [`KEEP_BUFFER`].
fn with_buffer<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    BUFFER.with_borrow_mut(|raw| {
        raw.clear();
        raw.resize(len, 0);
        let r = f(raw);
        if raw.capacity() > KEEP_BUFFER {
            *raw = Vec::new();
        }
        r
    })
}

/// Reads the block at `region` of the view `src`.
pub fn read_block(src: &NpySource, region: &[Range<usize>]) -> Result<Chunk> {
    check_region("from_npy", region, &src.shape)?;
    let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
    let dtype = src.header.dtype;
    with_dtype!(dtype, T => read_typed::<T>(src, region, &shape).map(Chunk::new))
}

fn read_typed<T: NpyElement>(src: &NpySource, region: &[Range<usize>], shape: &[usize]) -> Result<ArrayD<T>> {
    let n: usize = shape.iter().product();
    if n == 0 {
        return Ok(ArrayD::from_shape_vec(IxDyn(shape), Vec::new()).expect("an empty block"));
    }
    let path = &src.file.path;
    let file = File::open(path).map_err(|e| io_error("from_npy", path, e))?;
    check_unchanged(&file, &src.file)?;
    let size = src.header.dtype.size();
    let base = src.header.data_offset;
    let order = FileOrder::new(src.offset, &src.strides, region);
    let mut read_bytes = 0u64;
    let in_place = order.is_logical() && !src.header.big_endian && is_plain::<T>();
    let values = if in_place {
        // Native little-endian numbers in logical order: read straight into the block.
        let mut values = vec![T::decode(&[0u8; 8][..size], false); n];
        // SAFETY: `is_plain::<T>()` holds, so `T` is `i32`, `i64`, `f32` or `f64`: plain
        // data of `size` bytes for which every bit pattern is a valid value; the byte slice
        // covers exactly the vector's `n` initialized elements and is the only access to
        // them while it lives.
        let bytes = unsafe { std::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<u8>(), n * size) };
        fill(&file, &order, base, size, bytes, &mut read_bytes).map(|()| values)
    } else {
        with_buffer(n * size, |raw| {
            fill(&file, &order, base, size, raw, &mut read_bytes)?;
            Ok(raw.chunks_exact(size).map(|b| T::decode(b, src.header.big_endian)).collect())
        })
    };
    record_read(path, read_bytes);
    let values = values.map_err(|e| io_error("from_npy", path, e))?;
    Ok(to_logical(values, &order, shape))
}

/// Whether `T`'s in-memory bytes are its `.npy` bytes (a little-endian machine and a number
/// type: `bool` is read through the buffer, which maps every non-zero byte to `true`).
fn is_plain<T: NpyElement>() -> bool {
    cfg!(target_endian = "little") && T::DTYPE != DType::Bool
}

/// Reads the elements `order` visits, in that order, into `raw` (`size` bytes each), and
/// adds the bytes read from disk to `read_bytes`.
fn fill(
    file: &File,
    order: &FileOrder,
    base: u64,
    size: usize,
    raw: &mut [u8],
    read_bytes: &mut u64,
) -> io::Result<()> {
    let mut out = 0usize;
    let run_bytes = order.run * size;
    if order.run_stride == 1 {
        let mut co = Coalescer { pending: None };
        let mut flush = |f: u64, r: Range<usize>| {
            *read_bytes += r.len() as u64;
            file.read_exact_at(&mut raw[r], f)
        };
        order.for_each_run(|pos| {
            co.push(base + pos as u64 * size as u64, out, run_bytes, &mut flush)?;
            out += run_bytes;
            Ok(())
        })?;
        return co.finish(&mut flush);
    }
    let stride = order.run_stride as usize;
    let group = (MAX_SPAN / (stride * size)).max(1);
    SPAN.with_borrow_mut(|span| {
        order.for_each_run(|pos| {
            let mut done = 0;
            while done < order.run {
                let g = group.min(order.run - done);
                let span_len = ((g - 1) * stride + 1) * size;
                span.resize(span_len, 0);
                let at = base + (pos as u64 + (done * stride) as u64) * size as u64;
                file.read_exact_at(&mut span[..span_len], at)?;
                *read_bytes += span_len as u64;
                for i in 0..g {
                    raw[out..out + size].copy_from_slice(&span[i * stride * size..][..size]);
                    out += size;
                }
                done += g;
            }
            Ok(())
        })
    })
}

/// The block in logical C order from its values in file order.
fn to_logical<T: NpyElement>(values: Vec<T>, order: &FileOrder, shape: &[usize]) -> ArrayD<T> {
    if order.is_logical() {
        return ArrayD::from_shape_vec(IxDyn(shape), values).expect("the block's element count");
    }
    let sorted: Vec<usize> = order.axes.iter().map(|&(k, _, _)| k).collect();
    let lens: Vec<usize> = order.axes.iter().map(|&(_, len, _)| len).collect();
    let a = ArrayD::from_shape_vec(IxDyn(&lens), values).expect("the block's element count");
    let mut perm: Vec<usize> = (0..sorted.len()).collect();
    perm.sort_by_key(|&i| sorted[i]);
    let mut a = a.permuted_axes(IxDyn(&perm));
    let mut logical = sorted.clone();
    logical.sort_unstable();
    for f in &order.flipped {
        let rank = logical.iter().position(|k| k == f).expect("a flipped axis is a block axis");
        a.invert_axis(Axis(rank));
    }
    let values: Vec<T> = a.iter().copied().collect();
    ArrayD::from_shape_vec(IxDyn(shape), values).expect("the block's element count")
}

/// Fails when the file is no longer the one the expression was built for.
fn check_unchanged(file: &File, expected: &NpyFile) -> Result<()> {
    let meta = file.metadata().map_err(|e| io_error("from_npy", &expected.path, e))?;
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    if meta.len() != expected.len || modified_ns != expected.modified_ns {
        return Err(Error::Compute(format!(
            "from_npy: {}: the file changed after from_npy read its header (call from_npy again)",
            expected.path.display()
        )));
    }
    Ok(())
}

/// Writes `chunk`, the block at `region` of the stored array, into `target`'s file; returns
/// the number of data bytes written.
pub fn write_block(target: &NpyTarget, region: &[Range<usize>], chunk: &Chunk) -> Result<u64> {
    let header = &target.header;
    check_region("store_npy", region, &header.shape)?;
    let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
    if chunk.dtype() != header.dtype || chunk.shape() != shape.as_slice() {
        return Err(Error::Internal(format!(
            "store_npy: a {} block of shape {:?} for region {region:?} of a {} file",
            chunk.dtype(),
            chunk.shape(),
            header.dtype
        )));
    }
    let n: usize = shape.iter().product();
    if n == 0 {
        return Ok(0);
    }
    let path = &target.path;
    let file = OpenOptions::new().write(true).open(path).map_err(|e| io_error("to_npy", path, e))?;
    let size = header.dtype.size();
    let base = header.data_offset;
    let order = FileOrder::new(0, &storage_strides(&header.shape, false), region);
    let written = match with_chunk!(chunk, a => plain_bytes(a)) {
        // A standard-layout block of native little-endian numbers is written from memory.
        Some(bytes) => drain(&file, &order, base, size, bytes),
        None => with_buffer(n * size, |raw| {
            with_chunk!(chunk, a => encode_all(a.iter().copied(), raw, size));
            drain(&file, &order, base, size, raw)
        }),
    };
    written.map_err(|e| io_error("to_npy", path, e))?;
    debug_assert!(header.dtype != DType::Bool || size == 1);
    Ok((n * size) as u64)
}

/// The bytes of a block whose memory is already its `.npy` data: C order, contiguous, plain
/// numbers on a little-endian machine.
fn plain_bytes<T: NpyElement>(a: &ndarray::ArcArray<T, IxDyn>) -> Option<&[u8]> {
    let values = a.as_slice().filter(|_| is_plain::<T>())?;
    // SAFETY: `is_plain::<T>()` holds, so `T` is `i32`, `i64`, `f32` or `f64` (plain data
    // without padding); the byte slice covers exactly `values` and borrows it immutably.
    Some(unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values)) })
}

/// Writes `raw` (the block's bytes in logical C order) to the positions `order` visits.
fn drain(file: &File, order: &FileOrder, base: u64, size: usize, raw: &[u8]) -> io::Result<()> {
    let mut out = 0usize;
    let mut co = Coalescer { pending: None };
    let mut flush = |f: u64, r: Range<usize>| file.write_all_at(&raw[r], f);
    let run_bytes = order.run * size;
    let stride = order.run_stride as u64;
    order.for_each_run(|pos| {
        for i in 0..if stride == 1 { 1 } else { order.run } {
            let (at, len) = if stride == 1 { (pos as u64, run_bytes) } else { (pos as u64 + i as u64 * stride, size) };
            co.push(base + at * size as u64, out, len, &mut flush)?;
            out += len;
        }
        Ok(())
    })?;
    co.finish(&mut flush)
}

fn encode_all<T: NpyElement>(values: impl Iterator<Item = T>, raw: &mut [u8], size: usize) {
    for (v, out) in values.zip(raw.chunks_exact_mut(size)) {
        v.encode(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::npy::NpyHeader;
    use std::path::PathBuf;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("kiln-codegen-npy-{}-{name}", std::process::id()))
    }

    /// Writes `values` (logical C order) as a `.npy` file in the given storage order.
    fn write_file(path: &std::path::Path, shape: &[usize], fortran_order: bool, values: &[i64]) -> NpySource {
        let header =
            NpyHeader { dtype: DType::I64, big_endian: false, fortran_order, shape: shape.to_vec(), data_offset: 0 };
        let mut bytes = header.encode();
        let a = ArrayD::from_shape_vec(IxDyn(shape), values.to_vec()).unwrap();
        let stored: Vec<i64> = if fortran_order { a.t().iter().copied().collect() } else { values.to_vec() };
        for v in stored {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let data_offset = header.encode().len() as u64;
        std::fs::write(path, bytes).unwrap();
        let file = NpyFile::stat(path).unwrap();
        NpySource::whole(file, NpyHeader { data_offset, ..header })
    }

    fn values(c: &Chunk) -> Vec<i64> {
        c.typed::<i64>().unwrap().iter().copied().collect()
    }

    #[test]
    fn large_staging_buffers_are_not_kept_between_tasks() {
        // A Fortran-order block is read through the staging buffer.
        let (rows, cols) = (512, 512);
        let all: Vec<i64> = (0..(rows * cols) as i64).collect();
        let path = temp("staging.npy");
        let src = write_file(&path, &[rows, cols], true, &all);
        let small = read_block(&src, &[0..4, 0..4]).unwrap();
        assert_eq!(values(&small)[..4], [0, 1, 2, 3]);
        assert!(BUFFER.with_borrow(|b| b.capacity()) > 0, "a small buffer is kept for the next task");
        let big = read_block(&src, &[0..rows, 0..cols]).unwrap();
        assert_eq!(values(&big)[cols + 1], (cols + 1) as i64);
        assert_eq!(BUFFER.with_borrow(|b| b.capacity()), 0, "2 MiB is not kept");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn blocks_of_c_and_fortran_files_and_views_read_their_elements() {
        let all: Vec<i64> = (0..24).collect();
        for fortran in [false, true] {
            let path = temp(&format!("blocks-{fortran}.npy"));
            let src = write_file(&path, &[4, 6], fortran, &all);
            let block = read_block(&src, &[1..3, 2..5]).unwrap();
            assert_eq!((block.shape().to_vec(), values(&block)), (vec![2, 3], vec![8, 9, 10, 14, 15, 16]));
            // A reversed, strided view: rows 3, 1 and columns 5, 3, 1.
            let spec = kiln_ir::SliceSpec::normalize(ndarray::s![..;-2, ..;-2].as_ref(), &[4, 6]).unwrap();
            let view = src.slice(&spec).unwrap();
            let block = read_block(&view, &[0..2, 0..3]).unwrap();
            assert_eq!(values(&block), vec![23, 21, 19, 11, 9, 7]);
            let empty = read_block(&src, &[1..1, 0..6]).unwrap();
            assert_eq!(empty.shape(), &[0, 6]);
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn contiguous_runs_are_coalesced_and_counted() {
        let path = temp("counted.npy");
        let src = write_file(&path, &[10, 4], false, &(0..40).collect::<Vec<_>>());
        let before = kiln_ir::npy::bytes_read(&path);
        let block = read_block(&src, &[2..5, 0..4]).unwrap();
        assert_eq!(values(&block), (8..20).collect::<Vec<_>>());
        assert_eq!(kiln_ir::npy::bytes_read(&path) - before, 12 * 8);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn written_blocks_land_in_place_and_errors_name_the_file() {
        let path = temp("written.npy");
        let target = NpyTarget::new(path.clone(), DType::I64, &[3, 4]);
        let mut bytes = target.header.encode();
        bytes.resize(bytes.len() + 12 * 8, 0);
        std::fs::write(&path, &bytes).unwrap();
        let block = |r0: i64, rows: usize, c0: i64, cols: usize| {
            let a = ArrayD::from_shape_fn(IxDyn(&[rows, cols]), |i| (r0 + i[0] as i64) * 4 + c0 + i[1] as i64);
            Chunk::new(a)
        };
        assert_eq!(write_block(&target, &[0..3, 0..1], &block(0, 3, 0, 1)).unwrap(), 24);
        write_block(&target, &[0..2, 1..4], &block(0, 2, 1, 3)).unwrap();
        write_block(&target, &[2..3, 1..4], &block(2, 1, 1, 3)).unwrap();
        let src = NpySource::whole(NpyFile::stat(&path).unwrap(), target.header.clone());
        assert_eq!(values(&read_block(&src, &[0..3, 0..4]).unwrap()), (0..12).collect::<Vec<_>>());
        std::fs::remove_file(&path).unwrap();
        let err = write_block(&target, &[0..1, 0..1], &block(0, 1, 0, 1)).unwrap_err().to_string();
        assert!(err.contains("written.npy"), "{err}");
        let err = read_block(&src, &[0..1, 0..1]).unwrap_err().to_string();
        assert!(err.contains("written.npy"), "{err}");
    }
}
