//! What `Client::compute` and `Client::persist` accept: arrays (their graph runs on a
//! worker, on kiln's runtime) and delayed values (their calls become the client's tasks).

use std::sync::Arc;

use kiln_runtime::client::Input;

use super::{Client, Future};
use crate::array::{Array, DynArray, from_array};
use crate::config::{self, Config};
use crate::delayed::args::{Data, pack};
use crate::delayed::{Delayed, submit_graph};
use crate::error::Result;

/// A collection a [`Client`] can compute in the background: an [`Array`] or a
/// [`Delayed`] value.
pub trait ClientCollection {
    /// What `compute` gives: the computed data.
    type Computed: Data;
    /// What `persist` gives: the same kind of collection, backed by the computed data.
    type Persisted: Data;
    /// Starts computing on `client`.
    fn compute_on(&self, client: &Client) -> Future<Self::Computed>;
    /// Starts computing on `client`, to continue lazily from the result.
    fn persist_on(&self, client: &Client) -> Future<Self::Persisted>;
}

impl ClientCollection for Array {
    type Computed = DynArray;
    type Persisted = Array;

    /// The array's graph runs on one worker, on kiln's runtime with the global settings.
    fn compute_on(&self, client: &Client) -> Future<DynArray> {
        let array = self.clone();
        run_on(client, "compute", move |cfg| array.compute_with(cfg))
    }

    /// An array over the computed data, with the same chunks.
    fn persist_on(&self, client: &Client) -> Future<Array> {
        let array = self.clone();
        run_on(client, "persist", move |cfg| {
            let chunks = kiln_ir::Chunks::from(array.chunks());
            Ok(match array.compute_with(cfg)? {
                DynArray::Bool(a) => from_array(a, chunks),
                DynArray::I32(a) => from_array(a, chunks),
                DynArray::I64(a) => from_array(a, chunks),
                DynArray::F32(a) => from_array(a, chunks),
                DynArray::F64(a) => from_array(a, chunks),
            })
        })
    }
}

impl<T: Data> ClientCollection for Delayed<T> {
    type Computed = T;
    type Persisted = Delayed<T>;

    /// Each call becomes one of the client's tasks, keyed by the call's key.
    fn compute_on(&self, client: &Client) -> Future<T> {
        Future::new(submit_graph(&self.node, &client.executor), client.clone())
    }

    /// A `Delayed` holding the value, with the same key (as [`Delayed::persist`]).
    fn persist_on(&self, client: &Client) -> Future<Delayed<T>> {
        let node = self.node.clone();
        let root = submit_graph(&node, &client.executor);
        let func: kiln_runtime::client::TaskFn = Box::new(move |mut values| {
            let value = values.pop().ok_or("persist lost its input")?;
            Ok(pack(Delayed::<T>::from_node(node.persisted(value))))
        });
        Future::new(client.executor.submit("persist", vec![Input::Task(root)], func, 0), client.clone())
    }
}

/// Submits `f(settings)` as one task named `name`.
fn run_on<R: Data>(client: &Client, name: &str, f: impl Fn(&Config) -> Result<R> + Send + Sync + 'static) -> Future<R> {
    let f = Arc::new(f);
    let func: kiln_runtime::client::TaskFn = Box::new(move |_| {
        let cfg = config::get().map_err(|e| e.to_string())?;
        f(&cfg).map(pack).map_err(|e| e.to_string().into())
    });
    Future::new(client.executor.submit(name, Vec::new(), func, 0), client.clone())
}
