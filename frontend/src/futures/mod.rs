//! `kiln_frontend::futures`: run Rust functions now, on a pool of worker threads, and get
//! [`Future`]s of their results, as `concurrent.futures` and `dask.distributed` do. Pass
//! futures to further submits to chain tasks: they run when their inputs are done, without
//! blocking a worker while they wait.
//!
//! ```
//! use kiln_frontend::Client;
//!
//! fn load(path: String) -> Vec<u8> { path.into_bytes() }
//! fn summarize(parts: Vec<Vec<u8>>) -> usize { parts.iter().map(Vec::len).sum() }
//!
//! let client = Client::local()?;
//! let futures: Vec<_> = ["a.csv", "bb.csv"].iter().map(|p| client.submit(load, p.to_string())).collect();
//! let summary = client.submit(summarize, futures);
//! assert_eq!(summary.result()?, 11);
//! let both = client.gather(client.map(|x: u64| x * 2, [1u64, 2]))?;
//! assert_eq!(both, vec![2, 4]);
//! # Ok::<(), kiln_frontend::Error>(())
//! ```
//!
//! Methods are inherent (no trait to import). A `Future<T>` also implements
//! [`IntoFuture`](std::future::IntoFuture): `future.await` gives `Result<T>` in async code,
//! with no async runtime needed by kiln. A task can get its client
//! ([`Client::current`]) and submit more tasks; a task that waits for a future runs other
//! queued tasks meanwhile, so the pool never deadlocks on it.
//!
//! # Towards a distributed backend (design note; only the local backend exists)
//!
//! Everything that crosses the boundary between the typed API and the executor is already
//! data: a task is a name, a list of inputs (values or other tasks) and a retry count; a
//! result is a `Value` or an error. A distributed backend keeps this shape but cannot ship
//! closures, so it will take functions by **registered name**: a `register("load", load)`
//! table built identically on every process (as the MPI design builds the same graph on
//! every rank), with arguments and results `serde`-serializable (`Data + Serialize +
//! DeserializeOwned`). `Client::submit` then sends `(name, key, input keys, argument
//! bytes)`; workers look the function up, decode, run, and keep results keyed by task key
//! for `gather`. `Future` stays a key plus a client handle, so the user-facing API (`submit`,
//! `map`, `gather`, `result`, `as_completed`, `wait`, `scatter`, `cancel`) does not change;
//! only local closures (unregistered functions) are refused by that backend.

mod client;
mod collection;
mod future;
mod wait;

pub use client::{Client, ClientBuilder, TaskOptions};
pub use collection::ClientCollection;
pub use future::{Future, FutureAwait, FutureInputs};
pub use kiln_runtime::client::Status;
pub use wait::{AsCompleted, ReturnWhen, as_completed, wait, wait_timeout};
