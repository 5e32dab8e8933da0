//! `Value`: the type-erased result of any task (an array chunk, a reduction's partial state,
//! later an Arrow batch, a bag partition or a user's value), shared by reference count.

use std::any::Any;
use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;

use crate::chunk::Chunk;
use crate::chunk_io;

/// How a kind of value is written to disk and read back when the runtime spills it under a
/// memory budget. A value made without one (`Value::new`) is never spilled.
pub struct SpillCodec {
    /// Writes the value (the `Any` is the value's inside).
    pub write: fn(&(dyn Any + Send + Sync), &mut dyn Write) -> io::Result<()>,
    /// Reads a value written by `write`.
    pub read: fn(&mut dyn Read) -> io::Result<Value>,
}

/// Array chunks spill as their elements (see [`chunk_io`]).
static CHUNK_CODEC: SpillCodec = SpillCodec {
    write: |v, w| match v.downcast_ref::<Chunk>() {
        Some(c) => chunk_io::write_chunk(c, w),
        None => Err(io::Error::other("the chunk codec was given a value that is not a chunk")),
    },
    read: |r| chunk_io::read_chunk(r).map(Value::chunk),
};

/// A task's result: any `Send + Sync` value plus the bytes it holds (for memory accounting).
#[derive(Clone)]
pub struct Value {
    inner: Arc<dyn Any + Send + Sync>,
    nbytes: usize,
    type_name: &'static str,
    codec: Option<&'static SpillCodec>,
}

impl Value {
    /// Wraps `v`, which holds about `nbytes` bytes.
    pub fn new<T: Any + Send + Sync>(v: T, nbytes: usize) -> Value {
        Value { inner: Arc::new(v), nbytes, type_name: std::any::type_name::<T>(), codec: None }
    }

    /// Wraps `v`, which holds about `nbytes` bytes and can be spilled to disk with `codec`.
    pub fn spillable<T: Any + Send + Sync>(v: T, nbytes: usize, codec: &'static SpillCodec) -> Value {
        Value { codec: Some(codec), ..Value::new(v, nbytes) }
    }

    /// Wraps an array chunk (spillable).
    pub fn chunk(c: Chunk) -> Value {
        let nbytes = c.nbytes();
        Value::spillable(c, nbytes, &CHUNK_CODEC)
    }

    /// The codec that spills this value, if it can be spilled.
    pub fn spill_codec(&self) -> Option<&'static SpillCodec> {
        self.codec
    }

    /// Writes this value with its codec; `None` if it has none.
    pub fn spill_to(&self, w: &mut dyn Write) -> Option<io::Result<()>> {
        self.codec.map(|c| (c.write)(&*self.inner, w))
    }

    /// Whether this is the only handle to the inside (dropping it frees the memory).
    pub fn is_unique(&self) -> bool {
        Arc::strong_count(&self.inner) == 1
    }

    /// Bytes held, as declared when the value was made.
    pub fn nbytes(&self) -> usize {
        self.nbytes
    }

    /// The Rust type inside, for error messages.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// A reference to the inside, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.inner.downcast_ref::<T>()
    }

    /// The array chunk inside, if this value is one.
    pub fn as_chunk(&self) -> Option<&Chunk> {
        self.downcast_ref::<Chunk>()
    }

    /// Moves the inside out when this is the only handle and it is a `T`; otherwise gives
    /// the value back.
    pub fn try_unwrap<T: Any + Send + Sync>(self) -> Result<T, Value> {
        if !self.inner.is::<T>() {
            return Err(self);
        }
        let Value { inner, nbytes, type_name, codec } = self;
        match Arc::downcast::<T>(inner) {
            Ok(arc) => Arc::try_unwrap(arc).map_err(|arc| Value { inner: arc, nbytes, type_name, codec }),
            Err(inner) => Err(Value { inner, nbytes, type_name, codec }),
        }
    }

    /// The inside as a `T`: moved out when this is the only handle, cloned otherwise.
    pub fn take_or_clone<T: Any + Send + Sync + Clone>(self) -> Option<T> {
        match self.try_unwrap::<T>() {
            Ok(v) => Some(v),
            Err(v) => v.downcast_ref::<T>().cloned(),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value<{}>({} bytes)", self.type_name, self.nbytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_values_move_out() {
        let v = Value::new(vec![1u64, 2, 3], 24);
        let shared = v.clone();
        let v = v.try_unwrap::<Vec<u64>>().unwrap_err();
        drop(shared);
        assert_eq!(v.try_unwrap::<Vec<u64>>().unwrap(), vec![1, 2, 3]);
        assert!(Value::new(1u8, 1).try_unwrap::<u16>().is_err());
    }

    #[test]
    fn chunks_spill_and_read_back_other_values_do_not() {
        let c = Chunk::new(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[2, 3]), 1.5f64));
        let v = Value::chunk(c.clone());
        assert!(v.is_unique());
        let mut bytes = Vec::new();
        v.spill_to(&mut bytes).unwrap().unwrap();
        let back = (v.spill_codec().unwrap().read)(&mut bytes.as_slice()).unwrap();
        assert_eq!(back.as_chunk(), Some(&c));
        assert_eq!(back.nbytes(), 48);
        assert!(Value::new(1u8, 1).spill_to(&mut Vec::new()).is_none());
        let shared = back.clone();
        assert!(!back.is_unique() && !shared.is_unique());
    }
}
