//! `Value`: the type-erased result of any task (an array chunk, a reduction's partial state,
//! later an Arrow batch, a bag partition or a user's value), shared by reference count.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::chunk::Chunk;

/// A task's result: any `Send + Sync` value plus the bytes it holds (for memory accounting).
#[derive(Clone)]
pub struct Value {
    inner: Arc<dyn Any + Send + Sync>,
    nbytes: usize,
    type_name: &'static str,
}

impl Value {
    /// Wraps `v`, which holds about `nbytes` bytes.
    pub fn new<T: Any + Send + Sync>(v: T, nbytes: usize) -> Value {
        Value { inner: Arc::new(v), nbytes, type_name: std::any::type_name::<T>() }
    }

    /// Wraps an array chunk.
    pub fn chunk(c: Chunk) -> Value {
        let nbytes = c.nbytes();
        Value::new(c, nbytes)
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
        let Value { inner, nbytes, type_name } = self;
        match Arc::downcast::<T>(inner) {
            Ok(arc) => Arc::try_unwrap(arc).map_err(|arc| Value { inner: arc, nbytes, type_name }),
            Err(inner) => Err(Value { inner, nbytes, type_name }),
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
}
