//! Chunks as bytes: how the runtime writes an array chunk to a spill file and reads it back.
//! The format is private to one process (native byte order): a magic tag, the dtype, the
//! rank, the shape, then the elements in C order.

use std::io::{self, Read, Write};

use ndarray::{ArrayD, IxDyn};

use crate::chunk::Chunk;
use crate::dtype::DType;
use crate::element::Element;

/// Opens every spilled chunk, so a file of something else is not mistaken for one.
const MAGIC: &[u8; 4] = b"KCH1";

/// Elements copied through the staging buffer per write or read call.
const BATCH: usize = 1 << 16;

/// Writes `chunk` to `w` (a header, then the elements in C order whatever the chunk's memory
/// layout).
pub fn write_chunk(chunk: &Chunk, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(MAGIC)?;
    w.write_all(&[dtype_code(chunk.dtype()), chunk.shape().len() as u8])?;
    for &d in chunk.shape() {
        w.write_all(&(d as u64).to_ne_bytes())?;
    }
    crate::with_chunk!(chunk, a => match a.as_slice() {
        Some(elements) => write_elements(elements, w),
        None => write_elements(&a.iter().copied().collect::<Vec<_>>(), w),
    })
}

/// Reads a chunk written by [`write_chunk`] from `r`.
pub fn read_chunk(r: &mut dyn Read) -> io::Result<Chunk> {
    let mut head = [0u8; 6];
    r.read_exact(&mut head)?;
    if &head[..4] != MAGIC {
        return Err(invalid("not a kiln chunk (bad magic)"));
    }
    let dtype = dtype_of(head[4]).ok_or_else(|| invalid("unknown dtype code"))?;
    let mut shape = Vec::with_capacity(head[5] as usize);
    for _ in 0..head[5] {
        let mut d = [0u8; 8];
        r.read_exact(&mut d)?;
        shape.push(usize::try_from(u64::from_ne_bytes(d)).map_err(|_| invalid("dimension too large"))?);
    }
    let len = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or_else(|| invalid("shape overflows"))?;
    match dtype {
        DType::Bool => {
            let bytes: Vec<u8> = read_elements(r, len)?;
            if bytes.iter().any(|&b| b > 1) {
                return Err(invalid("a bool element is neither 0 nor 1"));
            }
            chunk_of(shape, bytes.into_iter().map(|b| b == 1).collect::<Vec<bool>>())
        }
        DType::I32 => chunk_of(shape, read_elements::<i32>(r, len)?),
        DType::I64 => chunk_of(shape, read_elements::<i64>(r, len)?),
        DType::F32 => chunk_of(shape, read_elements::<f32>(r, len)?),
        DType::F64 => chunk_of(shape, read_elements::<f64>(r, len)?),
    }
}

fn chunk_of<T: Element>(shape: Vec<usize>, data: Vec<T>) -> io::Result<Chunk> {
    let a = ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|e| invalid(&e.to_string()))?;
    Ok(Chunk::new(a))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("spilled chunk: {what}"))
}

fn dtype_code(d: DType) -> u8 {
    match d {
        DType::Bool => 0,
        DType::I32 => 1,
        DType::I64 => 2,
        DType::F32 => 3,
        DType::F64 => 4,
    }
}

fn dtype_of(code: u8) -> Option<DType> {
    Some(match code {
        0 => DType::Bool,
        1 => DType::I32,
        2 => DType::I64,
        3 => DType::F32,
        4 => DType::F64,
        _ => return None,
    })
}

/// Plain-old-data element types whose every bit pattern of the right size is a valid value
/// (`bool` is not: it is read as `u8` and checked).
trait Pod: Copy + Default {
    const SIZE: usize;
}

macro_rules! pod {
    ($($t:ty),*) => {$(impl Pod for $t { const SIZE: usize = std::mem::size_of::<$t>(); })*};
}
pod!(u8, i32, i64, f32, f64);

/// `bool` is written as its byte (0 or 1), which is how it is laid out in memory.
trait AsBytes: Copy {
    fn bytes(s: &[Self]) -> &[u8];
}

impl<T: Pod> AsBytes for T {
    fn bytes(s: &[T]) -> &[u8] {
        // SAFETY: `T` is a primitive number type (see `Pod`): no padding, every byte
        // initialized, and `u8` has alignment 1; the length covers exactly the slice.
        unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
    }
}

impl AsBytes for bool {
    fn bytes(s: &[bool]) -> &[u8] {
        // SAFETY: a `bool` is one initialized byte holding 0 or 1; `u8` has the same size and
        // alignment.
        unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), s.len()) }
    }
}

fn write_elements<T: AsBytes>(elements: &[T], w: &mut dyn Write) -> io::Result<()> {
    w.write_all(T::bytes(elements))
}

fn read_elements<T: Pod>(r: &mut dyn Read, len: usize) -> io::Result<Vec<T>> {
    let mut out: Vec<T> = Vec::with_capacity(len);
    let mut batch = vec![0u8; BATCH.min(len.max(1)) * T::SIZE];
    let mut left = len;
    while left > 0 {
        let n = left.min(BATCH);
        let bytes = &mut batch[..n * T::SIZE];
        r.read_exact(bytes)?;
        out.extend(bytes.chunks_exact(T::SIZE).map(|b| {
            let mut v = T::default();
            // SAFETY: `b` has exactly `size_of::<T>()` bytes and every bit pattern is a valid
            // `T` (see `Pod`); the destination is a properly aligned `T`.
            unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), (&raw mut v).cast::<u8>(), T::SIZE) };
            v
        }));
        left -= n;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Axis};

    fn round_trip(c: &Chunk) -> Chunk {
        let mut bytes = Vec::new();
        write_chunk(c, &mut bytes).unwrap();
        read_chunk(&mut bytes.as_slice()).unwrap()
    }

    #[test]
    fn every_dtype_and_layout_round_trips() {
        let f = Array2::from_shape_fn((3, 4), |(i, j)| i as f64 * 10.0 + j as f64 - 0.5);
        let chunks = [
            Chunk::new(f.clone().into_dyn()),
            Chunk::new(f.t().to_owned().into_dyn()),
            Chunk::F64(f.clone().into_dyn().into_shared().reversed_axes()),
            Chunk::new(f.mapv(|v| v as f32).into_dyn()),
            Chunk::new(f.mapv(|v| v as i32).into_dyn()),
            Chunk::new(f.mapv(|v| v as i64).into_dyn()),
            Chunk::new(f.mapv(|v| v > 5.0).into_dyn()),
            Chunk::new(ArrayD::<f64>::zeros(IxDyn(&[0, 3]))),
            Chunk::new(ArrayD::from_elem(IxDyn(&[]), -0.0f64)),
        ];
        for c in &chunks {
            assert_eq!(&round_trip(c), c, "{c:?}");
        }
        let view = Chunk::F64(f.into_dyn().into_shared().index_axis_move(Axis(1), 2));
        assert_eq!(round_trip(&view), view);
    }

    #[test]
    fn corrupt_input_is_an_error() {
        let mut bytes = Vec::new();
        write_chunk(&Chunk::new(ArrayD::from_elem(IxDyn(&[2]), true)), &mut bytes).unwrap();
        let mut bad = bytes.clone();
        *bad.last_mut().unwrap() = 7;
        assert!(read_chunk(&mut bad.as_slice()).unwrap_err().to_string().contains("neither 0 nor 1"));
        assert!(read_chunk(&mut &bytes[..bytes.len() - 1]).is_err());
        assert!(read_chunk(&mut &b"nope.."[..]).unwrap_err().to_string().contains("bad magic"));
    }
}
