//! Typed scratch buffers of a tile (`Buf`), the element trait that reaches into them
//! (`Elem`), a tile operand (`Src`: a slice or one value broadcast along the tile) and the
//! loops that apply a scalar function across a tile, one instruction at a time.

use kiln_ir::{Chunk, DType};
use ndarray::{ArrayD, IxDyn};

use crate::error::{Error, Result};
use crate::kernel::simd::wide;
use crate::reference::num::{Num, with_dtype};

/// A buffer of one dtype: a scratch slot, a scalar, an output block or accumulators.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Buf {
    /// `bool` elements.
    Bool(Vec<bool>),
    /// `i32` elements.
    I32(Vec<i32>),
    /// `i64` elements.
    I64(Vec<i64>),
    /// `f32` elements.
    F32(Vec<f32>),
    /// `f64` elements.
    F64(Vec<f64>),
}

impl Default for Buf {
    fn default() -> Self {
        Buf::Bool(Vec::new())
    }
}

impl Buf {
    /// `len` default values (zero, `false`) of `dtype`.
    pub(super) fn zeros(dtype: DType, len: usize) -> Buf {
        with_dtype!(dtype, T => T::wrap(vec![T::default(); len]))
    }

    /// `len` copies of `value`.
    pub(super) fn filled<T: Elem>(value: T, len: usize) -> Buf {
        T::wrap(vec![value; len])
    }

    /// An empty buffer of `dtype` with room for `cap` elements.
    pub(super) fn with_capacity(dtype: DType, cap: usize) -> Buf {
        with_dtype!(dtype, T => T::wrap(Vec::with_capacity(cap)))
    }

    /// Grows (with default values) or shrinks to `len` elements.
    pub(super) fn resize(&mut self, len: usize) {
        match self {
            Buf::Bool(v) => v.resize(len, false),
            Buf::I32(v) => v.resize(len, 0),
            Buf::I64(v) => v.resize(len, 0),
            Buf::F32(v) => v.resize(len, 0.0),
            Buf::F64(v) => v.resize(len, 0.0),
        }
    }

    /// The element type.
    pub(super) fn dtype(&self) -> DType {
        match self {
            Buf::Bool(_) => DType::Bool,
            Buf::I32(_) => DType::I32,
            Buf::I64(_) => DType::I64,
            Buf::F32(_) => DType::F32,
            Buf::F64(_) => DType::F64,
        }
    }

    /// The elements, if they are `T`s.
    pub(super) fn typed<T: Elem>(&self) -> Result<&Vec<T>> {
        T::vec(self).ok_or_else(|| mismatch(T::DTYPE, self.dtype()))
    }

    /// The elements, if they are `T`s.
    pub(super) fn typed_mut<T: Elem>(&mut self) -> Result<&mut Vec<T>> {
        let found = self.dtype();
        T::vec_mut(self).ok_or_else(|| mismatch(T::DTYPE, found))
    }

    /// The buffer as a C-order block of `shape`.
    pub(super) fn into_chunk(self, shape: &[usize]) -> Result<Chunk> {
        fn block<T: Elem>(v: Vec<T>, shape: &[usize]) -> Result<Chunk> {
            ArrayD::from_shape_vec(IxDyn(shape), v)
                .map(Chunk::new)
                .map_err(|e| Error::Internal(format!("kernel: a block of shape {shape:?}: {e}")))
        }
        match self {
            Buf::Bool(v) => block(v, shape),
            Buf::I32(v) => block(v, shape),
            Buf::I64(v) => block(v, shape),
            Buf::F32(v) => block(v, shape),
            Buf::F64(v) => block(v, shape),
        }
    }
}

fn mismatch(want: DType, found: DType) -> Error {
    Error::Internal(format!("kernel: a {found} buffer used as {want}"))
}

/// An element type of kernel values: a [`Num`] that lives in a [`Buf`].
pub(super) trait Elem: Num {
    /// The elements of `b`, if it holds this type.
    fn vec(b: &Buf) -> Option<&Vec<Self>>;
    /// The elements of `b`, if it holds this type.
    fn vec_mut(b: &mut Buf) -> Option<&mut Vec<Self>>;
    /// Wraps elements as a buffer.
    fn wrap(v: Vec<Self>) -> Buf;
    /// Wraps an operand as one of any dtype.
    fn any(s: Src<'_, Self>) -> AnySrc<'_>;
}

macro_rules! elem {
    ($t:ty, $d:ident) => {
        impl Elem for $t {
            fn vec(b: &Buf) -> Option<&Vec<Self>> {
                match b {
                    Buf::$d(v) => Some(v),
                    _ => None,
                }
            }
            fn vec_mut(b: &mut Buf) -> Option<&mut Vec<Self>> {
                match b {
                    Buf::$d(v) => Some(v),
                    _ => None,
                }
            }
            fn wrap(v: Vec<Self>) -> Buf {
                Buf::$d(v)
            }
            fn any(s: Src<'_, Self>) -> AnySrc<'_> {
                AnySrc::$d(s)
            }
        }
    };
}
elem!(bool, Bool);
elem!(i32, I32);
elem!(i64, I64);
elem!(f32, F32);
elem!(f64, F64);

/// An operand of a tile: one value per position, or one value for the whole tile.
#[derive(Copy, Clone, Debug)]
pub(super) enum Src<'a, T> {
    /// The same value everywhere (hoisted: it does not vary along the tile).
    Splat(T),
    /// One value per position of the tile.
    Slice(&'a [T]),
}

impl<T: Copy> Src<'_, T> {
    /// The value at position `i`.
    #[inline(always)]
    pub(super) fn at(&self, i: usize) -> T {
        match *self {
            Src::Splat(x) => x,
            Src::Slice(s) => s[i],
        }
    }
}

/// A tile operand of any dtype.
#[derive(Copy, Clone, Debug)]
pub(super) enum AnySrc<'a> {
    /// `bool` values.
    Bool(Src<'a, bool>),
    /// `i32` values.
    I32(Src<'a, i32>),
    /// `i64` values.
    I64(Src<'a, i64>),
    /// `f32` values.
    F32(Src<'a, f32>),
    /// `f64` values.
    F64(Src<'a, f64>),
}

impl AnySrc<'_> {
    /// The element type.
    pub(super) fn dtype(&self) -> DType {
        match self {
            AnySrc::Bool(_) => DType::Bool,
            AnySrc::I32(_) => DType::I32,
            AnySrc::I64(_) => DType::I64,
            AnySrc::F32(_) => DType::F32,
            AnySrc::F64(_) => DType::F64,
        }
    }
}

/// `out[i] = f(a[i])` over the tile.
#[inline(always)]
pub(super) fn map1<A: Copy, O: Copy>(a: Src<'_, A>, out: &mut [O], f: impl Fn(A) -> O) {
    wide(move || map1_loop(a, out, f))
}

/// `out[i] = f(a[i])` for an `f` that calls a library function: vectorizing around the
/// call would only shuffle registers, so this loop stays at the baseline.
#[inline(always)]
pub(super) fn map1_call<A: Copy, O: Copy>(a: Src<'_, A>, out: &mut [O], f: impl Fn(A) -> O) {
    map1_loop(a, out, f)
}

#[inline(always)]
fn map1_loop<A: Copy, O: Copy>(a: Src<'_, A>, out: &mut [O], f: impl Fn(A) -> O) {
    match a {
        Src::Splat(x) => out.fill(f(x)),
        Src::Slice(xs) => {
            debug_assert_eq!(xs.len(), out.len());
            out.iter_mut().zip(xs).for_each(|(o, &x)| *o = f(x));
        }
    }
}

/// `out[i] = f(a[i], b[i])` over the tile, with a loop per combination of operand kinds so
/// each one vectorizes.
#[inline(always)]
pub(super) fn map2<A: Copy, B: Copy, O: Copy>(a: Src<'_, A>, b: Src<'_, B>, out: &mut [O], f: impl Fn(A, B) -> O) {
    wide(move || map2_loop(a, b, out, f))
}

/// `out[i] = f(a[i], b[i])` for an `f` that calls a library function (see [`map1_call`]).
#[inline(always)]
pub(super) fn map2_call<A: Copy, B: Copy, O: Copy>(a: Src<'_, A>, b: Src<'_, B>, out: &mut [O], f: impl Fn(A, B) -> O) {
    map2_loop(a, b, out, f)
}

#[inline(always)]
fn map2_loop<A: Copy, B: Copy, O: Copy>(a: Src<'_, A>, b: Src<'_, B>, out: &mut [O], f: impl Fn(A, B) -> O) {
    match (a, b) {
        (Src::Slice(xs), Src::Slice(ys)) => {
            debug_assert!(xs.len() == out.len() && ys.len() == out.len());
            out.iter_mut().zip(xs.iter().zip(ys)).for_each(|(o, (&x, &y))| *o = f(x, y));
        }
        (Src::Slice(xs), Src::Splat(y)) => {
            debug_assert_eq!(xs.len(), out.len());
            out.iter_mut().zip(xs).for_each(|(o, &x)| *o = f(x, y));
        }
        (Src::Splat(x), Src::Slice(ys)) => {
            debug_assert_eq!(ys.len(), out.len());
            out.iter_mut().zip(ys).for_each(|(o, &y)| *o = f(x, y));
        }
        (Src::Splat(x), Src::Splat(y)) => out.fill(f(x, y)),
    }
}

/// `out[i] = f(c[i], a[i], b[i])` over the tile.
#[inline(always)]
pub(super) fn map3<C: Copy, A: Copy, B: Copy, O: Copy>(
    c: Src<'_, C>,
    a: Src<'_, A>,
    b: Src<'_, B>,
    out: &mut [O],
    f: impl Fn(C, A, B) -> O,
) {
    // Cut every slice to the tile's length so the loop's index checks fold away.
    let n = out.len();
    let (c, a, b) = (cut(c, n), cut(a, n), cut(b, n));
    wide(move || {
        for (i, o) in out.iter_mut().enumerate() {
            *o = f(c.at(i), a.at(i), b.at(i));
        }
    })
}

fn cut<T>(s: Src<'_, T>, n: usize) -> Src<'_, T> {
    match s {
        Src::Slice(v) => Src::Slice(&v[..n]),
        splat => splat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_know_their_dtype() {
        let mut b = Buf::zeros(DType::I32, 3);
        assert_eq!(b.dtype(), DType::I32);
        b.typed_mut::<i32>().unwrap()[1] = 7;
        assert_eq!(b.typed::<i32>().unwrap(), &vec![0, 7, 0]);
        let err = b.typed::<f64>().unwrap_err();
        assert!(err.to_string().contains("i32 buffer used as f64"), "{err}");
        let c = Buf::filled(2.5f32, 4).into_chunk(&[2, 2]).unwrap();
        assert_eq!(c.shape(), &[2, 2]);
        assert!(Buf::filled(1i64, 3).into_chunk(&[2, 2]).is_err());
        assert_eq!(Buf::with_capacity(DType::F64, 8).typed::<f64>().unwrap().len(), 0);
    }

    #[test]
    fn loops_broadcast_splats() {
        let xs = [1.0, 2.0, 3.0];
        let mut out = [0.0; 3];
        map1(Src::Slice(&xs), &mut out, |x| x * 2.0);
        assert_eq!(out, [2.0, 4.0, 6.0]);
        map2(Src::Splat(10.0), Src::Slice(&xs), &mut out, |x, y| x - y);
        assert_eq!(out, [9.0, 8.0, 7.0]);
        map2(Src::Slice(&xs), Src::Splat(1.0), &mut out, |x, y| x + y);
        assert_eq!(out, [2.0, 3.0, 4.0]);
        map2(Src::Splat(1.0), Src::Splat(2.0), &mut out, |x, y| x + y);
        assert_eq!(out, [3.0; 3]);
        let c = [true, false, true];
        map3(Src::Slice(&c), Src::Slice(&xs), Src::Splat(-1.0), &mut out, |c, a, b| if c { a } else { b });
        assert_eq!(out, [1.0, -1.0, 3.0]);
        let mut flags = [false; 3];
        map1(Src::Splat(f64::NAN), &mut flags, f64::is_nan);
        assert_eq!(flags, [true; 3]);
    }
}
