//! Elementwise ops computed in the buffer of an input: when the runtime hands a task the
//! only reference to an input block that already has the output's shape and dtype (its last
//! reader), `sin(x)`, `x * y` and the like overwrite it instead of allocating a new block.
//! The values are the same as the allocating path's: both use the same function tables.

use kiln_ir::{BinaryOp, Chunk, Op, UnaryOp, Value};
use ndarray::{ArcArray, IxDyn, Zip};

use crate::reference::elementwise::binary::{bool_binary_fn, float_binary_fn, int_binary_fn};
use crate::reference::elementwise::unary::{bool_unary_fn, float_unary_fn, int_unary_fn};

type Arr<T> = ArcArray<T, IxDyn>;

/// Computes block `shape` of `op` in place in one of `inputs` when one qualifies; otherwise
/// returns `None` and leaves `inputs` as they were (the caller allocates).
pub fn in_place(op: &Op, shape: &[usize], inputs: &mut [Value]) -> Option<Chunk> {
    match *op {
        Op::Unary(u) => {
            let x = take_unique(inputs.first_mut()?, shape)?;
            unary_into(u, x).map_err(|x| inputs[0] = Value::chunk(x)).ok()
        }
        Op::Binary(b) if !b.is_predicate() && inputs.len() == 2 => {
            // Overwrite the left operand, or else the right one (not for pow, whose fast
            // paths depend on which side the exponent is).
            let sides: &[usize] = if b == BinaryOp::Pow { &[0] } else { &[0, 1] };
            for &side in sides {
                if let Some(x) = take_unique(&mut inputs[side], shape) {
                    let other = inputs[1 - side].as_chunk()?;
                    match binary_into(b, x, side, other) {
                        Ok(c) => return Some(c),
                        Err(x) => inputs[side] = Value::chunk(x),
                    }
                }
            }
            None
        }
        _ => None,
    }
}

/// Takes the chunk out of `slot` when the slot is its only handle, its buffer is not
/// shared and it has the block's shape; otherwise leaves the slot as it was.
fn take_unique(slot: &mut Value, shape: &[usize]) -> Option<Chunk> {
    if slot.as_chunk()?.shape() != shape {
        return None;
    }
    let v = std::mem::replace(slot, Value::new((), 0));
    match v.try_unwrap::<Chunk>() {
        Ok(c) if kiln_ir::with_chunk!(&c, a => a.is_unique()) => Some(c),
        Ok(c) => {
            *slot = Value::chunk(c);
            None
        }
        Err(v) => {
            *slot = v;
            None
        }
    }
}

/// Applies `f` to every element of a uniquely held array.
fn map_into<T: Copy>(a: Arr<T>, f: fn(T) -> T) -> Result<Arr<T>, Arr<T>> {
    let mut owned = a.try_into_owned_nocopy()?;
    owned.mapv_inplace(f);
    Ok(owned.into_shared())
}

fn unary_into(op: UnaryOp, x: Chunk) -> Result<Chunk, Chunk> {
    fn go<T: Copy>(a: Arr<T>, f: Option<fn(T) -> T>) -> Result<Chunk, Chunk>
    where
        Chunk: From<Arr<T>>,
    {
        match f {
            Some(f) => map_into(a, f).map(Chunk::from).map_err(Chunk::from),
            None => Err(Chunk::from(a)),
        }
    }
    match x {
        Chunk::F64(a) => go(a, float_unary_fn(op)),
        Chunk::F32(a) => go(a, float_unary_fn(op)),
        Chunk::I64(a) => go(a, int_unary_fn(op)),
        Chunk::I32(a) => go(a, int_unary_fn(op)),
        Chunk::Bool(a) => go(a, bool_unary_fn(op)),
    }
}

/// `x = f(x, other)` (side 0) or `x = f(other, x)` (side 1), `other` broadcast to `x`.
/// Scalar and same-layout operands run as flat loops.
fn zip_into<T: Copy>(a: Arr<T>, other: &Arr<T>, side: usize, f: fn(T, T) -> T) -> Result<Arr<T>, Arr<T>> {
    let mut owned = a.try_into_owned_nocopy()?;
    let g = move |x: T, y: T| if side == 0 { f(x, y) } else { f(y, x) };
    if other.len() == 1 && owned.len() != 1 {
        let Some(&y) = other.iter().next() else { return Err(owned.into_shared()) };
        owned.mapv_inplace(|x| g(x, y));
        return Ok(owned.into_shared());
    }
    let same_layout = owned.shape() == other.shape() && owned.strides() == other.strides();
    if let (true, Some(xs), Some(ys)) = (same_layout, owned.as_slice_memory_order_mut(), other.as_slice_memory_order())
    {
        xs.iter_mut().zip(ys).for_each(|(x, &y)| *x = g(*x, y));
        return Ok(owned.into_shared());
    }
    let Some(o) = other.broadcast(owned.raw_dim()) else { return Err(owned.into_shared()) };
    Zip::from(&mut owned).and(&o).for_each(|x, &y| *x = g(*x, y));
    Ok(owned.into_shared())
}

fn binary_into(op: BinaryOp, x: Chunk, side: usize, other: &Chunk) -> Result<Chunk, Chunk> {
    fn go<T: Copy>(a: Arr<T>, other: &Arr<T>, side: usize, f: Option<fn(T, T) -> T>) -> Result<Chunk, Chunk>
    where
        Chunk: From<Arr<T>>,
    {
        match f {
            Some(f) => zip_into(a, other, side, f).map(Chunk::from).map_err(Chunk::from),
            None => Err(Chunk::from(a)),
        }
    }
    match (x, other) {
        (Chunk::F64(a), Chunk::F64(b)) => go(a, b, side, float_binary_fn(op, b)),
        (Chunk::F32(a), Chunk::F32(b)) => go(a, b, side, float_binary_fn(op, b)),
        (Chunk::I64(a), Chunk::I64(b)) => go(a, b, side, int_binary_fn(op)),
        (Chunk::I32(a), Chunk::I32(b)) => go(a, b, side, int_binary_fn(op)),
        (Chunk::Bool(a), Chunk::Bool(b)) => go(a, b, side, bool_binary_fn(op)),
        (x, _) => Err(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::elementwise::{binary, unary};
    use ndarray::{arr0, arr1, arr2};

    fn value<T: kiln_ir::Element, D: ndarray::Dimension>(a: ndarray::Array<T, D>) -> Value {
        Value::chunk(Chunk::new(a.into_dyn()))
    }

    #[test]
    fn unique_inputs_are_overwritten_with_the_allocating_paths_values() {
        let x = arr2(&[[0.5, -1.5], [2.0, f64::NAN]]);
        let mut inputs = vec![value(x.clone())];
        let ptr = inputs[0].as_chunk().unwrap().typed::<f64>().unwrap().as_ptr();
        let got = in_place(&Op::Unary(UnaryOp::Sin), &[2, 2], &mut inputs).unwrap();
        assert_eq!(got.typed::<f64>().unwrap().as_ptr(), ptr, "no new buffer");
        let want = unary(UnaryOp::Sin, &Chunk::new(x.clone().into_dyn())).unwrap();
        assert_eq!(format!("{got:?}"), format!("{want:?}"));

        // 2 - x writes into x (the right operand); x ** 2 only into the left one.
        let two = value(arr0(2.0));
        let mut inputs = vec![two.clone(), value(x.clone())];
        let got = in_place(&Op::Binary(BinaryOp::Sub), &[2, 2], &mut inputs).unwrap();
        let want = binary(BinaryOp::Sub, two.as_chunk().unwrap(), &Chunk::new(x.clone().into_dyn()), &[2, 2]).unwrap();
        assert_eq!(format!("{got:?}"), format!("{want:?}"));
        let mut inputs = vec![two.clone(), value(x.clone())];
        assert!(in_place(&Op::Binary(BinaryOp::Pow), &[2, 2], &mut inputs).is_none());
        assert_eq!(inputs[1].as_chunk().unwrap().shape(), &[2, 2], "left as it was");
    }

    #[test]
    fn shared_or_mismatched_inputs_are_left_alone() {
        let x = value(arr1(&[1i64, 2, 3]));
        let held = x.clone();
        let mut inputs = vec![x];
        assert!(in_place(&Op::Unary(UnaryOp::Neg), &[3], &mut inputs).is_none());
        drop(held);
        // A view into a buffer someone else holds is not unique either.
        let base = arr1(&[1i64, 2, 3, 4]).into_dyn().into_shared();
        let view = base.clone().slice_move(ndarray::s![1..]).into_dyn();
        let mut inputs = vec![Value::chunk(Chunk::from(view))];
        assert!(in_place(&Op::Unary(UnaryOp::Neg), &[3], &mut inputs).is_none());
        // A broadcast operand is smaller than the block; comparisons change the dtype.
        let mut inputs = vec![value(arr1(&[1.0])), value(arr1(&[1.0, 2.0]))];
        let got = in_place(&Op::Binary(BinaryOp::Add), &[2], &mut inputs).unwrap();
        assert_eq!(got.typed::<f64>().unwrap().iter().copied().collect::<Vec<_>>(), vec![2.0, 3.0]);
        let mut inputs = vec![value(arr1(&[1.0, 2.0])), value(arr1(&[1.0, 2.0]))];
        assert!(in_place(&Op::Binary(BinaryOp::Lt), &[2], &mut inputs).is_none());
        let mut inputs = vec![value(arr1(&[1i64, 2]))];
        assert!(in_place(&Op::Unary(UnaryOp::Floor), &[2], &mut inputs).is_none());
    }
}
