//! `Client`: submits Rust functions to a pool of worker threads and hands back
//! [`Future`]s, as `dask.distributed.Client` does; also gathers, scatters, and computes
//! arrays and delayed values in the background.

use std::any::TypeId;
use std::hash::Hash;

use kiln_ir::token::StableHasher;
use kiln_runtime::client::Executor;

use super::ClientCollection;
use super::future::{Future, FutureInputs};
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

    /// Starts computing `collection` in the background and returns its future at once
    /// (Dask's `client.compute`): an [`Array`] runs its graph on a worker (giving a
    /// [`DynArray`](crate::array::DynArray)); a [`Delayed<T>`](crate::delayed::Delayed)
    /// submits each of its calls as a task keyed by the call's key (giving a `T`).
    pub fn compute<C: ClientCollection>(&self, collection: &C) -> Future<C::Computed> {
        collection.compute_on(self)
    }

    /// Like [`Client::compute`], but the future gives a collection of the same kind backed
    /// by the computed data (same chunks, or the same key), so later work starts from it.
    pub fn persist<C: ClientCollection>(&self, collection: &C) -> Future<C::Persisted> {
        collection.persist_on(self)
    }

    /// Starts `f(args)` as a pure call (Dask's `submit(..., pure=True)`): while a task of the
    /// same function (the same Rust function or closure type) with equal arguments is held
    /// by any future, its future is returned instead of a new task. Arguments must be
    /// `Hash`; a future hashes as its key. The key is `name-<hash>`, the same for the same
    /// call.
    pub fn submit_pure<F: 'static, R, M, X>(&self, f: F, args: X) -> Future<R>
    where
        X: Args<F, R, M, FutureInputs> + Hash,
    {
        let name = short_name::<F>();
        let mut h = StableHasher::new();
        h.str("pure-submit");
        h.str(&name);
        TypeId::of::<F>().hash(&mut h);
        args.hash(&mut h);
        let token = h.finish128();
        let mut inputs = FutureInputs::default();
        let func = args.into_call(f, &mut inputs);
        Future::new(self.executor.submit_pure(&name, token, inputs.inputs, func, 0), self.clone())
    }

    /// Keeps `future`'s task running to the end although every handle on it is dropped
    /// (Dask's `fire_and_forget`): without this, a task nobody holds is dropped unrun.
    pub fn fire_and_forget<T>(&self, future: Future<T>) {
        let keep = future.handle.clone();
        future.handle.on_done(Box::new(move || drop(keep)));
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
