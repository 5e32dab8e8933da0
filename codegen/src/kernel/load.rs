//! Input access: checks each input block against its axes map and turns it into element
//! strides per iteration axis (0 where it broadcasts), then reads tiles of it, gathered
//! into a scratch buffer or, for a contiguous row, borrowed in place.

use kiln_ir::{Chunk, KernelInput, with_chunk};

use crate::error::{Error, Result};
use crate::kernel::tile::Elem;

/// Where input `n`'s elements lie relative to the iteration space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct InputGeom {
    /// Element stride along each iteration axis: 0 along axes the input does not name and
    /// along axes where its block has length 1 (broadcast).
    pub(super) strides: Vec<i64>,
}

/// The geometry of input `n` (`spec`) with block `chunk` in an iteration block of `lens`
/// (`lens` has at least one axis; a 0-d space is given as `[1]`).
pub(super) fn input_geom(n: usize, spec: &KernelInput, chunk: &Chunk, lens: &[usize]) -> Result<InputGeom> {
    if chunk.dtype() != spec.dtype {
        return Err(Error::Internal(format!(
            "kernel: input {n} is a {} block, the kernel reads {}",
            chunk.dtype(),
            spec.dtype
        )));
    }
    let shape = chunk.shape();
    let fits = shape.len() == spec.axes.len()
        && spec.axes.iter().zip(shape).all(|(&a, &len)| lens.get(a as usize).is_some_and(|&l| len == l || len == 1));
    if !fits {
        return Err(Error::Internal(format!(
            "kernel: input {n} has a block of shape {shape:?}, which does not fit axes {:?} of the block {lens:?}",
            spec.axes
        )));
    }
    let chunk_strides: Vec<isize> = with_chunk!(chunk, a => a.strides().to_vec());
    let mut strides = vec![0i64; lens.len()];
    for ((&a, &len), &st) in spec.axes.iter().zip(shape).zip(&chunk_strides) {
        if len > 1 {
            strides[a as usize] = st as i64;
        }
    }
    Ok(InputGeom { strides })
}

/// Reads `n` elements of `chunk` per row: row `k` starts at element offset `starts[k]` and
/// steps by `step`; the rows land one after another in `dst` (`n` elements each).
///
/// The offsets must address elements of the block: every `starts[k] + i * step` for
/// `i < n` is `Σ p_j * stride_j` of an in-bounds index `p` (the walk guarantees it; strides
/// along broadcast axes are 0).
pub(super) fn gather<T: Elem>(
    chunk: &Chunk,
    starts: impl IntoIterator<Item = i64>,
    step: i64,
    n: usize,
    dst: &mut [T],
) -> Result<()> {
    let a = chunk
        .typed::<T>()
        .ok_or_else(|| Error::Internal(format!("kernel: loading {} as {}", chunk.dtype(), T::DTYPE)))?;
    let base = a.as_ptr();
    for (row, start) in dst.chunks_exact_mut(n.max(1)).zip(starts) {
        if step == 0 {
            // SAFETY: `start` is the offset of an in-bounds element of `a` (see above).
            row.fill(unsafe { *base.offset(start as isize) });
            continue;
        }
        for (i, d) in row.iter_mut().enumerate() {
            // SAFETY: `start + i * step` with `i < n` addresses an in-bounds element of `a`.
            *d = unsafe { *base.offset(start as isize + i as isize * step as isize) };
        }
    }
    Ok(())
}

/// The `n` contiguous elements of `chunk` from element offset `start` (a row with stride 1),
/// borrowed in place.
pub(super) fn contiguous<T: Elem>(chunk: &Chunk, start: i64, n: usize) -> Result<&[T]> {
    let a = chunk
        .typed::<T>()
        .ok_or_else(|| Error::Internal(format!("kernel: loading {} as {}", chunk.dtype(), T::DTYPE)))?;
    // SAFETY: elements `start .. start + n` are in-bounds elements of `a` along an axis of
    // stride 1 (the walk guarantees it), so they are `n` consecutive initialized `T`s that
    // live as long as the borrow of `chunk`.
    Ok(unsafe { std::slice::from_raw_parts(a.as_ptr().offset(start as isize), n) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::DType;
    use ndarray::{Array2, s};

    fn spec(axes: &[u32]) -> KernelInput {
        KernelInput { dtype: DType::F64, axes: axes.to_vec() }
    }

    #[test]
    fn strides_follow_the_axes_map() {
        let a = Chunk::new(Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64).into_dyn());
        // A 3x4 block on axes [0, 2] of a 3x5x4 space: axis 1 broadcasts.
        assert_eq!(input_geom(0, &spec(&[0, 2]), &a, &[3, 5, 4]).unwrap().strides, vec![4, 0, 1]);
        // Transposed onto the space.
        assert_eq!(input_geom(0, &spec(&[1, 0]), &a, &[4, 3]).unwrap().strides, vec![1, 4]);
        // A length-1 axis broadcasts.
        let col = Chunk::new(Array2::<f64>::zeros((3, 1)).into_dyn());
        assert_eq!(input_geom(0, &spec(&[0, 1]), &col, &[3, 7]).unwrap().strides, vec![1, 0]);
        let err = input_geom(2, &spec(&[0, 1]), &a, &[3, 5]).unwrap_err().to_string();
        assert!(err.contains("input 2 has a block of shape [3, 4]"), "{err}");
        assert!(input_geom(0, &spec(&[0]), &a, &[3]).is_err());
        let ints = Chunk::new(Array2::<i32>::zeros((3, 4)).into_dyn());
        assert!(input_geom(0, &spec(&[0, 1]), &ints, &[3, 4]).unwrap_err().to_string().contains("i32 block"));
    }

    #[test]
    fn gather_and_borrow() {
        let whole = Array2::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as f64).into_shared();
        // A reversed, strided view: element (i, j) is whole[3 - i, 2 * j].
        let view = Chunk::from(whole.clone().slice_move(s![..;-1, ..;2]).into_dyn());
        let g = input_geom(0, &spec(&[0, 1]), &view, &[4, 3]).unwrap();
        let mut dst = vec![0.0; 6];
        gather(&view, [g.strides[0], 2 * g.strides[0]], g.strides[1], 3, &mut dst).unwrap();
        assert_eq!(dst, vec![12.0, 14.0, 16.0, 6.0, 8.0, 10.0]);
        gather(&view, [0], 0, 3, &mut dst[..3]).unwrap();
        assert_eq!(&dst[..3], &[18.0; 3]);
        let c = Chunk::from(whole.into_dyn());
        assert_eq!(contiguous::<f64>(&c, 7, 3).unwrap(), &[7.0, 8.0, 9.0]);
        assert!(contiguous::<i64>(&c, 0, 1).is_err());
    }
}
