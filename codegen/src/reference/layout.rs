//! Kernels that move data without computing on it: `slice`, `transpose` and `insert_axis`
//! (zero-copy views of the input block), `broadcast_to` (materialized) and `rechunk`
//! (a view when one input block covers the output, otherwise assembled by copying).

use std::ops::Range;

use kiln_ir::{AxisPiece, Chunk, DType, Element, SliceElem, SliceSpec, with_chunk};
use ndarray::{ArrayD, Axis, IxDyn, SliceInfoElem};

use crate::error::{Error, Result};
use crate::reference::elementwise::broadcast_view;
use crate::reference::num::with_dtype;

/// The ndarray slice of the input block that gives output block `out_idx` of a slice node:
/// `pieces[k]` lists, per output block along input axis `k`, the input block and local
/// range (see `kiln_ir::slice::slice_axis_pieces`); an integer index uses the local start
/// of the axis's only piece.
pub fn slice_elems(spec: &SliceSpec, pieces: &[Vec<AxisPiece>], out_idx: &[usize]) -> Result<Vec<SliceInfoElem>> {
    let mut elems = Vec::with_capacity(spec.elems().len());
    let (mut in_axis, mut out_axis) = (0, 0);
    let piece = |axis: usize, pos: usize| {
        pieces.get(axis).and_then(|p| p.get(pos)).ok_or_else(|| {
            Error::Internal(format!("slice: no piece for output block {pos} along input axis {axis} ({spec})"))
        })
    };
    for e in spec.elems() {
        match e {
            SliceElem::Range(_) => {
                let pos = *out_idx.get(out_axis).ok_or_else(|| {
                    Error::Internal(format!("slice: output block index {out_idx:?} is too short for {spec}"))
                })?;
                elems.push(piece(in_axis, pos)?.local.to_ndarray());
                in_axis += 1;
                out_axis += 1;
            }
            SliceElem::Index(_) => {
                elems.push(SliceInfoElem::Index(piece(in_axis, 0)?.local.start as isize));
                in_axis += 1;
            }
            SliceElem::NewAxis => {
                elems.push(SliceInfoElem::NewAxis);
                out_axis += 1;
            }
        }
    }
    Ok(elems)
}

/// A view of `x` sliced by `elems` (non-negative bounds, as [`slice_elems`] makes them),
/// sharing its buffer. Out-of-range bounds are an error, not a panic.
pub fn slice(x: &Chunk, elems: &[SliceInfoElem]) -> Result<Chunk> {
    let shape = x.shape();
    let bad = |what: String| Error::Internal(format!("slice: {what} for a block of shape {shape:?} ({elems:?})"));
    let mut axis = 0;
    for e in elems {
        match *e {
            SliceInfoElem::NewAxis => continue,
            SliceInfoElem::Index(i) => {
                if axis >= shape.len() || i < 0 || i as usize >= shape[axis] {
                    return Err(bad(format!("index {i} is out of range on axis {axis}")));
                }
            }
            SliceInfoElem::Slice { start, end, step } => {
                let len = *shape.get(axis).ok_or_else(|| bad("too many entries".into()))?;
                let end = end.unwrap_or(len as isize);
                if step == 0 || start < 0 || start > end || end as usize > len {
                    return Err(bad(format!("range {start}..{end};{step} is out of range on axis {axis}")));
                }
            }
        }
        axis += 1;
    }
    if axis != shape.len() {
        return Err(bad(format!("{axis} entries for {} axes", shape.len())));
    }
    Ok(with_chunk!(x.clone(), a => Chunk::from(a.slice_move(elems))))
}

/// A view of `x` with its axes permuted (output axis `k` is input axis `perm[k]`).
pub fn transpose(x: &Chunk, perm: &[usize]) -> Result<Chunk> {
    let mut seen = vec![false; x.shape().len()];
    let valid =
        perm.len() == seen.len() && perm.iter().all(|&k| k < seen.len() && !std::mem::replace(&mut seen[k], true));
    if !valid {
        return Err(Error::Internal(format!(
            "transpose: {perm:?} is not a permutation of the axes of {:?}",
            x.shape()
        )));
    }
    Ok(with_chunk!(x.clone(), a => Chunk::from(a.permuted_axes(IxDyn(perm)))))
}

/// A view of `x` with a new length-1 axis at `axis`.
pub fn insert_axis(x: &Chunk, axis: usize) -> Result<Chunk> {
    if axis > x.shape().len() {
        return Err(Error::Internal(format!("insert_axis: axis {axis} is out of range for shape {:?}", x.shape())));
    }
    Ok(with_chunk!(x.clone(), a => Chunk::from(a.insert_axis(Axis(axis)))))
}

/// `x` broadcast to `shape` (NumPy rules) and copied into a new C-order block.
pub fn broadcast_to(x: &Chunk, shape: &[usize]) -> Result<Chunk> {
    with_chunk!(x, a => {
        let view = broadcast_view("broadcast_to", a, shape)?;
        Ok(Chunk::new(view.as_standard_layout().into_owned()))
    })
}

/// The output block at `out_region` (global element ranges) of a rechunk, from the input
/// blocks `parts`, each with its own global region. One part covering the whole output
/// gives a view of it; otherwise the overlaps are copied into a new block, and they must
/// cover it exactly.
pub fn rechunk(dtype: DType, out_region: &[Range<usize>], parts: &[(&Chunk, Vec<Range<usize>>)]) -> Result<Chunk> {
    for (chunk, region) in parts {
        let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
        if chunk.shape() != shape.as_slice() || chunk.dtype() != dtype || region.len() != out_region.len() {
            return Err(Error::Internal(format!(
                "rechunk: input block {} {:?} does not match its region {region:?} ({dtype}, {} axes)",
                chunk.dtype(),
                chunk.shape(),
                out_region.len()
            )));
        }
    }
    if let [(chunk, region)] = parts
        && region.iter().zip(out_region).all(|(r, o)| r.start <= o.start && o.end <= r.end)
    {
        let elems: Vec<SliceInfoElem> = region
            .iter()
            .zip(out_region)
            .map(|(r, o)| SliceInfoElem::Slice {
                start: (o.start - r.start) as isize,
                end: Some((o.end - r.start) as isize),
                step: 1,
            })
            .collect();
        return slice(chunk, &elems);
    }
    with_dtype!(dtype, T => assemble::<T>(out_region, parts))
}

/// Copies the overlap of every part with `out_region` into a new block.
fn assemble<T: Element>(out_region: &[Range<usize>], parts: &[(&Chunk, Vec<Range<usize>>)]) -> Result<Chunk> {
    let shape: Vec<usize> = out_region.iter().map(|r| r.len()).collect();
    let size: usize = shape.iter().product();
    // Zeroed memory comes from the allocator untouched; every element is overwritten below.
    let mut out = ArrayD::<T>::from_elem(IxDyn(&shape), T::default());
    let mut covered = 0usize;
    for (chunk, region) in parts {
        let overlap: Vec<Range<usize>> =
            region.iter().zip(out_region).map(|(r, o)| r.start.max(o.start)..r.end.min(o.end)).collect();
        if overlap.iter().any(|r| r.start >= r.end) {
            continue;
        }
        let local = |base: &[Range<usize>]| -> Vec<SliceInfoElem> {
            overlap
                .iter()
                .zip(base)
                .map(|(v, b)| SliceInfoElem::Slice {
                    start: (v.start - b.start) as isize,
                    end: Some((v.end - b.start) as isize),
                    step: 1,
                })
                .collect()
        };
        let src = chunk.typed::<T>().ok_or_else(|| Error::Internal("rechunk: input dtypes differ".into()))?;
        out.slice_mut(local(out_region).as_slice()).assign(&src.slice(local(region).as_slice()));
        covered += overlap.iter().map(|r| r.len()).product::<usize>();
    }
    if covered != size {
        return Err(Error::Internal(format!(
            "rechunk: input blocks cover {covered} of the {size} elements of the output block {out_region:?}"
        )));
    }
    Ok(Chunk::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::slice::slice_axis_pieces;
    use kiln_ir::{AxisChunks, ChunkGrid};
    use ndarray::{Array, Array3, Dimension, s};

    fn iota(shape: &[usize]) -> ArrayD<i64> {
        Array::from_shape_fn(IxDyn(shape), |i| i.as_array_view().iter().fold(0i64, |acc, &x| acc * 10 + x as i64))
    }

    /// Slices a chunked array through `slice_elems`/`slice` block by block and compares the
    /// assembled result with ndarray's slice of the whole array.
    fn check_slice(shape: &[usize], block: &[usize], info: &[SliceInfoElem]) {
        let whole = iota(shape);
        let spec = SliceSpec::normalize(info, shape).unwrap();
        let in_grid = ChunkGrid::uniform(shape, block);
        let out_grid = spec.out_chunks(&in_grid);
        let mut pieces = Vec::new();
        let mut in_axis = 0;
        for e in spec.elems() {
            match e {
                SliceElem::Range(r) => pieces.push(slice_axis_pieces(in_grid.axis(in_axis), r)),
                SliceElem::Index(i) => {
                    let a = in_grid.axis(in_axis);
                    let b = a.block_of(*i);
                    let r = kiln_ir::AxisSlice { start: i - a.block_start(b), end: i - a.block_start(b) + 1, step: 1 };
                    pieces.push(vec![AxisPiece { in_block: b, local: r }]);
                }
                SliceElem::NewAxis => continue,
            }
            in_axis += 1;
        }
        let expect = whole.slice(info).to_owned();
        let mut got = ArrayD::<i64>::zeros(IxDyn(expect.shape()));
        for lin in 0..out_grid.n_blocks() {
            let out_idx = out_grid.unravel(lin);
            // The input block: per input axis, the piece's block (index: its only piece).
            let mut in_idx = Vec::new();
            let (mut ia, mut oa) = (0, 0);
            for e in spec.elems() {
                match e {
                    SliceElem::Range(_) => {
                        in_idx.push(pieces[ia][out_idx[oa]].in_block);
                        ia += 1;
                        oa += 1;
                    }
                    SliceElem::Index(_) => {
                        in_idx.push(pieces[ia][0].in_block);
                        ia += 1;
                    }
                    SliceElem::NewAxis => oa += 1,
                }
            }
            let region = in_grid.block_region(&in_idx);
            let info: Vec<SliceInfoElem> = region
                .iter()
                .map(|r| SliceInfoElem::Slice { start: r.start as isize, end: Some(r.end as isize), step: 1 })
                .collect();
            let input = Chunk::new(whole.slice(info.as_slice()).to_owned());
            let elems = slice_elems(&spec, &pieces, &out_idx).unwrap();
            let block = slice(&input, &elems).unwrap();
            let out_region = out_grid.block_region(&out_idx);
            let oi: Vec<SliceInfoElem> = out_region
                .iter()
                .map(|r| SliceInfoElem::Slice { start: r.start as isize, end: Some(r.end as isize), step: 1 })
                .collect();
            got.slice_mut(oi.as_slice()).assign(block.typed::<i64>().unwrap());
        }
        assert_eq!(got, expect, "{spec}");
    }

    #[test]
    fn slices_with_negative_steps_indices_and_new_axes() {
        check_slice(&[10, 7], &[3, 4], s![1..9;-2, ..].as_ref());
        check_slice(&[10, 7], &[3, 4], s![..;-1, 2..;3].as_ref());
        check_slice(&[10, 7], &[3, 4], s![-3, -6..-1;-2].as_ref());
        check_slice(&[10, 7], &[3, 4], s![ndarray::NewAxis, 4..8, ndarray::NewAxis, -1].as_ref());
        check_slice(&[6, 5, 4], &[4, 2, 3], s![.., 3, ..;-3].as_ref());
        check_slice(&[6, 5], &[4, 2], s![3..3, ..].as_ref());
    }

    #[test]
    fn slice_is_a_view_and_checks_bounds() {
        let x = Chunk::new(iota(&[4, 5]));
        let v = slice(&x, s![1..3, ..;-1].as_ref()).unwrap();
        assert_eq!(v.typed::<i64>().unwrap()[[0, 0]], 14);
        let base = x.typed::<i64>().unwrap().as_ptr() as usize;
        assert_eq!(v.typed::<i64>().unwrap().as_ptr() as usize, base + (5 + 4) * 8);
        assert!(slice(&x, s![4, ..].as_ref()).is_err());
        assert!(slice(&x, s![0..6, ..].as_ref()).is_err());
        assert!(slice(&x, s![..].as_ref()).is_err());
    }

    #[test]
    fn transpose_of_3d_and_insert_axis() {
        let a = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 100 + j * 10 + k) as i32);
        let x = Chunk::new(a.clone().into_dyn());
        let t = transpose(&x, &[2, 0, 1]).unwrap();
        let tv = t.typed::<i32>().unwrap();
        assert_eq!(tv.shape(), &[4, 2, 3]);
        assert_eq!(tv[[3, 1, 2]], 123);
        assert_eq!(tv.as_ptr(), x.typed::<i32>().unwrap().as_ptr());
        assert_eq!(tv, &a.permuted_axes([2, 0, 1]).into_dyn().into_shared());
        assert!(transpose(&x, &[0, 0, 1]).is_err());
        assert!(transpose(&x, &[0, 1]).is_err());
        let e = insert_axis(&x, 3).unwrap();
        assert_eq!(e.shape(), &[2, 3, 4, 1]);
        assert_eq!(insert_axis(&x, 1).unwrap().shape(), &[2, 1, 3, 4]);
        assert!(insert_axis(&x, 4).is_err());
    }

    #[test]
    fn broadcast_to_materializes() {
        let x = Chunk::new(Array::from_shape_vec(IxDyn(&[3, 1]), vec![1.0, 2.0, 3.0]).unwrap());
        let b = broadcast_to(&x, &[2, 3, 4]).unwrap();
        let bv = b.typed::<f64>().unwrap();
        assert!(bv.is_standard_layout());
        assert_eq!(bv[[1, 2, 3]], 3.0);
        assert_eq!(bv.sum(), 2.0 * 4.0 * 6.0);
        assert!(broadcast_to(&x, &[2, 2]).is_err());
    }

    /// Assembles each output block of a rechunk from the overlapping input blocks.
    fn check_rechunk(shape: &[usize], from: &ChunkGrid, to: &ChunkGrid) {
        let whole = iota(shape);
        let block_of = |grid: &ChunkGrid, idx: &[usize]| {
            let region = grid.block_region(idx);
            let info: Vec<SliceInfoElem> = region
                .iter()
                .map(|r| SliceInfoElem::Slice { start: r.start as isize, end: Some(r.end as isize), step: 1 })
                .collect();
            (Chunk::new(whole.slice(info.as_slice()).to_owned()), region)
        };
        let inputs: Vec<(Chunk, Vec<Range<usize>>)> =
            (0..from.n_blocks()).map(|l| block_of(from, &from.unravel(l))).collect();
        for l in 0..to.n_blocks() {
            let (expect, out_region) = block_of(to, &to.unravel(l));
            let parts: Vec<(&Chunk, Vec<Range<usize>>)> = inputs
                .iter()
                .filter(|(_, r)| r.iter().zip(&out_region).all(|(a, b)| a.start.max(b.start) < a.end.min(b.end)))
                .map(|(c, r)| (c, r.clone()))
                .collect();
            let parts = if parts.is_empty() { vec![(&inputs[0].0, inputs[0].1.clone())] } else { parts };
            let got = rechunk(DType::I64, &out_region, &parts).unwrap();
            assert_eq!(got, expect, "block {l} {out_region:?}");
        }
    }

    #[test]
    fn rechunk_assembles_from_several_blocks() {
        let shape = [9, 7];
        check_rechunk(&shape, &ChunkGrid::uniform(&shape, &[4, 3]), &ChunkGrid::uniform(&shape, &[3, 5]));
        check_rechunk(&shape, &ChunkGrid::uniform(&shape, &[2, 7]), &ChunkGrid::uniform(&shape, &[9, 2]));
        let explicit = ChunkGrid::new(vec![AxisChunks::from_lengths(&[3, 0, 6]), AxisChunks::from_lengths(&[7])]);
        check_rechunk(&shape, &explicit, &ChunkGrid::uniform(&shape, &[5, 3]));
        check_rechunk(&shape, &ChunkGrid::uniform(&shape, &[5, 3]), &explicit);
        let empty = [4, 0];
        check_rechunk(&empty, &ChunkGrid::uniform(&empty, &[2, 1]), &ChunkGrid::uniform(&empty, &[3, 1]));
    }

    #[test]
    fn rechunk_views_or_rejects() {
        let c = Chunk::new(iota(&[4, 4]));
        let v = rechunk(DType::I64, &[1..3, 0..4], &[(&c, vec![0..4, 0..4])]).unwrap();
        assert_eq!(v.typed::<i64>().unwrap().as_ptr() as usize, c.typed::<i64>().unwrap().as_ptr() as usize + 32);
        let missing = rechunk(DType::I64, &[2..6, 0..4], &[(&c, vec![0..4, 0..4])]).unwrap_err();
        assert!(missing.to_string().contains("cover 8 of the 16"), "{missing}");
        assert!(rechunk(DType::F64, &[0..4, 0..4], &[(&c, vec![0..4, 0..4])]).is_err());
        assert!(rechunk(DType::I64, &[0..4, 0..4], &[(&c, vec![0..4, 0..5])]).is_err());
        assert_eq!(rechunk(DType::Bool, &[0..0, 0..3], &[]).unwrap().shape(), &[0, 3]);
    }
}
