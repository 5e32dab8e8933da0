//! `Client`: submits Rust functions to a pool of worker threads and hands back
//! [`Future`]s, as `dask.distributed.Client` does; also gathers, scatters and runs arrays.

use std::sync::Arc;

use kiln_runtime::client::Executor;

use super::future::{Future, FutureInputs};
use crate::array::{Array, DynArray, from_array};
use crate::config::{self, Config};
use crate::delayed::args::{Args, Data, pack, short_name};
use crate::error::{Error, Result};

/// A local cluster of worker threads running submitted functions. Cheap to clone (shared).
/// The workers stop once every clone, and every [`Future`] of the client, is dropped and
/// the submitted tasks are done.
///
/// ```
/// use kiln_frontend::Client;
///
/// fn load(i: u64) -> Vec<u64> { (0..i).collect() }
/// fn summarize(parts: Vec<Vec<u64>>) -> usize { parts.iter().map(Vec::len).sum() }
///
/// let client = Client::local()?;
/// let futures: Vec<_> = (0..4u64).map(|i| client.submit(load, i)).collect();
/// let summary = client.submit(summarize, futures);
/// assert_eq!(summary.result()?, 0 + 1 + 2 + 3);
/// # Ok::<(), kiln_frontend::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) executor: Executor,
}

/// Options of a [`Client`]: `Client::builder().threads(4).build()`.
#[derive(Clone, Debug, Default)]
pub struct ClientBuilder {
    threads: Option<usize>,
}

impl ClientBuilder {
    /// The number of worker threads (default: all cores).
    pub fn threads(mut self, n: usize) -> ClientBuilder {
        self.threads = Some(n);
        self
    }

    /// Starts the workers.
    pub fn build(self) -> Result<Client> {
        let threads = self.threads.unwrap_or_else(kiln_runtime::Scheduler::available_threads);
        if threads == 0 {
            return Err(Error::Config("a client needs at least 1 thread".into()));
        }
        Ok(Client { executor: Executor::new(threads)? })
    }
}

/// Options of one submitted task: `client.submit_with(TaskOptions::new().retries(2), f, x)`.
#[derive(Clone, Debug, Default)]
pub struct TaskOptions {
    retries: u32,
    name: Option<String>,
}

impl TaskOptions {
    /// No retries, the function's own name.
    pub fn new() -> TaskOptions {
        TaskOptions::default()
    }

    /// Calls the function again up to `n` more times while it fails or panics.
    pub fn retries(mut self, n: u32) -> TaskOptions {
        self.retries = n;
        self
    }

    /// The name in the task's key, instead of the function's.
    pub fn name(mut self, name: impl Into<String>) -> TaskOptions {
        self.name = Some(name.into());
        self
    }
}

impl Client {
    /// A client with one worker thread per core.
    pub fn local() -> Result<Client> {
        Client::builder().build()
    }

    /// A builder for other options.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The client whose task is running on the calling thread, if any: how a task submits
    /// further tasks (Dask's `get_client()`).
    pub fn current() -> Option<Client> {
        Executor::current().map(|executor| Client { executor })
    }

    /// The number of worker threads.
    pub fn threads(&self) -> usize {
        self.executor.threads()
    }

    /// Starts `f(args)` and returns its future at once. `args` is one argument or a tuple
    /// of them; each is a plain value, a `Future<A>` (or `&Future<A>`) passed as `A`, or a
    /// `Vec<Future<A>>` (or `&[Future<A>]`) passed as `Vec<A>`. Future arguments are
    /// dependencies: the task is queued once they are done, and fails (or is cancelled) if
    /// one of them does.
    pub fn submit<F, R, M, X>(&self, f: F, args: X) -> Future<R>
    where
        X: Args<F, R, M, FutureInputs>,
    {
        self.submit_with(TaskOptions::default(), f, args)
    }

    /// [`Client::submit`] with options (retries, name).
    pub fn submit_with<F, R, M, X>(&self, opts: TaskOptions, f: F, args: X) -> Future<R>
    where
        X: Args<F, R, M, FutureInputs>,
    {
        let name = opts.name.unwrap_or_else(short_name::<F>);
        let mut inputs = FutureInputs::default();
        let func = args.into_call(f, &mut inputs);
        let handle = self.executor.submit(&name, inputs.inputs, func, opts.retries);
        Future::new(handle, self.clone())
    }

    /// Submits `f(item)` for each item (Dask's `client.map`).
    pub fn map<F, R, M, X>(&self, f: F, items: impl IntoIterator<Item = X>) -> Vec<Future<R>>
    where
        F: Clone,
        X: Args<F, R, M, FutureInputs>,
    {
        items.into_iter().map(|x| self.submit(f.clone(), x)).collect()
    }

    /// The values of `futures`, in order (each moved out where the future was its last
    /// handle); the first error if a task failed.
    pub fn gather<T: Data>(&self, futures: Vec<Future<T>>) -> Result<Vec<T>> {
        futures.into_iter().map(Future::into_result).collect()
    }

    /// A future already holding `value` (Dask's `scatter`), to pass to many tasks.
    pub fn scatter<T: Data>(&self, value: T) -> Future<T> {
        Future::new(self.executor.ready("scatter", pack(value)), self.clone())
    }

    /// Computes `array` on a worker (the array's own graph runs on kiln's runtime, with
    /// the global settings); the future gives the computed array.
    pub fn compute(&self, array: &Array) -> Future<DynArray> {
        let array = array.clone();
        self.run_collection("compute", move |cfg| array.compute_with(cfg))
    }

    /// Computes `array` on a worker and gives it back as an array over the computed data
    /// (same chunks), so later expressions start from it.
    pub fn persist(&self, array: &Array) -> Future<Array> {
        let array = array.clone();
        self.run_collection("persist", move |cfg| {
            let chunks = kiln_ir::Chunks::from(array.chunks());
            let data = array.compute_with(cfg)?;
            Ok(match data {
                DynArray::Bool(a) => from_array(a, chunks),
                DynArray::I32(a) => from_array(a, chunks),
                DynArray::I64(a) => from_array(a, chunks),
                DynArray::F32(a) => from_array(a, chunks),
                DynArray::F64(a) => from_array(a, chunks),
            })
        })
    }

    fn run_collection<R: Data>(
        &self,
        name: &str,
        f: impl Fn(&Config) -> Result<R> + Send + Sync + 'static,
    ) -> Future<R> {
        let f = Arc::new(f);
        let func: kiln_runtime::client::TaskFn = Box::new(move |_| {
            let cfg = config::get().map_err(|e| e.to_string())?;
            f(&cfg).map(pack).map_err(|e| e.to_string().into())
        });
        Future::new(self.executor.submit(name, Vec::new(), func, 0), self.clone())
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client {{ threads: {} }}", self.threads())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_options_and_names() {
        let err = Client::builder().threads(0).build().unwrap_err();
        assert_eq!(err.to_string(), "invalid configuration: a client needs at least 1 thread");
        let client = Client::builder().threads(2).build().unwrap();
        assert_eq!(format!("{client:?}"), "Client { threads: 2 }");
        fn double(x: u64) -> u64 {
            x * 2
        }
        let f = client.submit(double, 4u64);
        assert!(f.key().starts_with("double-"));
        let g = client.submit_with(TaskOptions::new().name("twice"), double, &f);
        assert!(g.key().starts_with("twice-"));
        assert_eq!(g.result().unwrap(), 16);
    }
}
