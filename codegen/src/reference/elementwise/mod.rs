//! Elementwise kernels: `unary`, `binary`, `where_` and `astype`, with NumPy broadcasting of
//! operands that are smaller than the output block, and the loops they share. Each op is
//! dispatched once per block, never per element.

pub(crate) mod binary;
mod cast;
mod in_place;
pub(crate) mod unary;

pub use binary::binary;
pub use cast::astype;
pub use in_place::in_place;
pub use unary::unary;

use kiln_ir::Chunk;
use ndarray::{ArcArray, ArrayD, ArrayViewD, IxDyn, Zip};

use crate::error::{Error, Result};
use crate::reference::num::with_chunk_pair;

/// `a` viewed with the output block's `shape` (NumPy broadcasting: trailing axes align,
/// length-1 axes stretch, missing leading axes are added).
pub(crate) fn broadcast_view<'a, T>(op: &str, a: &'a ArcArray<T, IxDyn>, shape: &[usize]) -> Result<ArrayViewD<'a, T>> {
    a.broadcast(IxDyn(shape)).ok_or_else(|| {
        Error::Internal(format!(
            "{op}: an operand of shape {:?} does not broadcast to the block shape {shape:?}",
            a.shape()
        ))
    })
}

/// `f` of every element of `a`, keeping its shape (and memory order when contiguous).
pub(crate) fn map1<T: Copy, O>(a: &ArcArray<T, IxDyn>, f: impl Fn(T) -> O) -> ArrayD<O> {
    a.map(|&x| f(x))
}

/// `f` of corresponding elements of `a` and `b` broadcast to `shape`. Contiguous operands
/// and scalar operands run as flat loops over slices.
pub(crate) fn map2<A: Copy, B: Copy, O>(
    op: &str,
    a: &ArcArray<A, IxDyn>,
    b: &ArcArray<B, IxDyn>,
    shape: &[usize],
    f: impl Fn(A, B) -> O,
) -> Result<ArrayD<O>> {
    let av = broadcast_view(op, a, shape)?;
    let bv = broadcast_view(op, b, shape)?;
    let flat: Option<Vec<O>> = match (av.as_slice(), bv.as_slice()) {
        (Some(x), Some(y)) => Some(x.iter().zip(y).map(|(&x, &y)| f(x, y)).collect()),
        (Some(x), None) if b.len() == 1 => {
            let y = b.iter().next().copied();
            y.map(|y| x.iter().map(|&x| f(x, y)).collect())
        }
        (None, Some(y)) if a.len() == 1 => {
            let x = a.iter().next().copied();
            x.map(|x| y.iter().map(|&y| f(x, y)).collect())
        }
        _ => None,
    };
    match flat {
        Some(v) => from_flat(op, shape, v),
        None => Ok(Zip::from(&av).and(&bv).map_collect(|&x, &y| f(x, y))),
    }
}

/// `f` of corresponding elements of three operands broadcast to `shape`.
pub(crate) fn map3<A: Copy, B: Copy, C: Copy, O>(
    op: &str,
    a: &ArcArray<A, IxDyn>,
    b: &ArcArray<B, IxDyn>,
    c: &ArcArray<C, IxDyn>,
    shape: &[usize],
    f: impl Fn(A, B, C) -> O,
) -> Result<ArrayD<O>> {
    let av = broadcast_view(op, a, shape)?;
    let bv = broadcast_view(op, b, shape)?;
    let cv = broadcast_view(op, c, shape)?;
    if let (Some(x), Some(y), Some(z)) = (av.as_slice(), bv.as_slice(), cv.as_slice()) {
        let v = x.iter().zip(y).zip(z).map(|((&x, &y), &z)| f(x, y, z)).collect();
        return from_flat(op, shape, v);
    }
    Ok(Zip::from(&av).and(&bv).and(&cv).map_collect(|&x, &y, &z| f(x, y, z)))
}

/// A C-order array of `shape` from its elements.
fn from_flat<O>(op: &str, shape: &[usize], v: Vec<O>) -> Result<ArrayD<O>> {
    ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| Error::Internal(format!("{op}: {e}")))
}

/// NumPy's `where(cond, a, b)` over a block of `shape`: `cond` is `bool`, `a` and `b` share
/// a dtype; each may be smaller than the block (broadcasting).
pub fn where_(cond: &Chunk, a: &Chunk, b: &Chunk, shape: &[usize]) -> Result<Chunk> {
    let Chunk::Bool(c) = cond else {
        return Err(Error::Internal(format!("where: the condition must be bool, got {}", cond.dtype())));
    };
    with_chunk_pair!(a, b, (x, y) => Ok(Chunk::new(map3("where", c, x, y, shape, |c, x, y| if c { x } else { y })?)),
        else Err(Error::Internal(format!("where: operands have different dtypes {} and {}", a.dtype(), b.dtype()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, arr1, arr2};

    fn chunk<T: kiln_ir::Element, D: ndarray::Dimension>(a: Array<T, D>) -> Chunk {
        Chunk::new(a.into_dyn())
    }

    #[test]
    fn where_broadcasts_all_three_operands() {
        let cond = chunk(arr2(&[[true], [false]]));
        let a = chunk(arr1(&[1.0, 2.0, 3.0]));
        let b = chunk(ndarray::arr0(-1.0));
        let out = where_(&cond, &a, &b, &[2, 3]).unwrap();
        assert_eq!(out, chunk(arr2(&[[1.0, 2.0, 3.0], [-1.0, -1.0, -1.0]])));
        let full = where_(&chunk(arr1(&[true, false])), &chunk(arr1(&[1, 2])), &chunk(arr1(&[3, 4])), &[2]).unwrap();
        assert_eq!(full, chunk(arr1(&[1, 4])));
        assert!(where_(&a, &a, &b, &[3]).is_err());
        assert!(where_(&cond, &a, &chunk(arr1(&[1i32])), &[2, 3]).is_err());
        assert!(where_(&cond, &a, &b, &[2, 4]).is_err());
    }

    #[test]
    fn map2_paths_agree() {
        let a = Array::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as i64).into_dyn().into_shared();
        let t = a.clone().reversed_axes();
        let s = ndarray::arr0(10i64).into_dyn().into_shared();
        let expect = a.map(|&x| x * 10);
        assert_eq!(map2("t", &a, &s, &[3, 4], |x, y| x * y).unwrap(), expect);
        assert_eq!(map2("t", &s, &a, &[3, 4], |x, y| x * y).unwrap(), expect);
        assert_eq!(map2("t", &t, &s, &[4, 3], |x, y| x * y).unwrap(), expect.t());
        assert_eq!(map2("t", &a, &a, &[3, 4], |x, y| x + y).unwrap(), a.map(|&x| 2 * x));
        assert_eq!(map2("t", &a, &a, &[0, 3, 4], |x, y| x + y).unwrap().shape(), &[0, 3, 4]);
    }
}
