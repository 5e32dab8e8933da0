//! `Future<T>`: a handle on a task submitted to a [`Client`](super::Client) — its status,
//! its value (`result`, blocking or with a timeout, or `.await`), its error, cancellation —
//! and how futures become arguments of further tasks.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use kiln_runtime::client::{Input, Status, TaskHandle};

use super::Client;
use crate::delayed::args::{Data, IntoArg, Many, One, Sink, unpack};
use crate::error::{Error, Result};

/// A task submitted to a [`Client`]: its value will be a `T`. Clones share the task; the
/// value is freed when the last handle (and the last task reading it) is gone. Futures keep
/// their client's workers alive.
pub struct Future<T> {
    pub(crate) handle: TaskHandle,
    pub(crate) client: Client,
    _t: PhantomData<fn() -> T>,
}

impl<T> Future<T> {
    pub(crate) fn new(handle: TaskHandle, client: Client) -> Future<T> {
        Future { handle, client, _t: PhantomData }
    }

    /// The task's key (`load-1a2b3c4d`).
    pub fn key(&self) -> &str {
        self.handle.key()
    }

    /// Where the task is: pending, finished, error or cancelled.
    pub fn status(&self) -> Status {
        self.handle.status()
    }

    /// Whether the task is done (finished, failed or cancelled): `result()` would not block.
    pub fn done(&self) -> bool {
        self.handle.is_done()
    }

    /// Cancels the task unless it is done: it and every task waiting on it end cancelled.
    /// Returns whether this call cancelled it.
    pub fn cancel(&self) -> bool {
        self.client.executor.cancel(&self.handle)
    }

    /// The task's error, without waiting: `Some` once it failed, panicked or was
    /// cancelled (Dask's `exception()` after `done()`).
    pub fn error(&self) -> Option<Error> {
        self.handle.error().map(Error::from)
    }

    /// Blocks until the task is done. On a worker thread (a task waiting for another) it
    /// runs queued tasks meanwhile.
    pub fn wait(&self) {
        self.handle.wait();
    }

    /// The client the task was submitted to.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl<T: Data> Future<T> {
    /// Waits for the task and gives its value (a clone: the future keeps its own; see
    /// [`Future::into_result`]) or its error.
    pub fn result(&self) -> Result<T> {
        self.handle.wait();
        self.outcome()
    }

    /// Like [`Future::result`], but gives up after `timeout`: `None` if the task is not
    /// done by then.
    pub fn result_timeout(&self, timeout: Duration) -> Option<Result<T>> {
        if self.handle.wait_timeout(timeout) { Some(self.outcome()) } else { None }
    }

    /// Waits for the task and gives its value, moved out without a copy when this is the
    /// last handle.
    pub fn into_result(self) -> Result<T> {
        let value = self.handle.into_outcome()?;
        unpack::<T>(value).map_err(|e| Error::Type(e.to_string()))
    }

    fn outcome(&self) -> Result<T> {
        match self.handle.outcome() {
            Some(Ok(value)) => unpack::<T>(value).map_err(|e| Error::Type(e.to_string())),
            Some(Err(e)) => Err(Error::from(e)),
            None => Err(Error::Type(format!("{} is not done", self.key()))),
        }
    }
}

impl<T> Clone for Future<T> {
    fn clone(&self) -> Future<T> {
        Future::new(self.handle.clone(), self.client.clone())
    }
}

impl<T> std::hash::Hash for Future<T> {
    /// A future hashes as its task's key, so pure submits taking it are keyed by it.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl<T> std::fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Future<{}>({}, {:?})", std::any::type_name::<T>(), self.key(), self.status())
    }
}

/// Awaiting a [`Future`]: `client.submit(f, x).await` in async code gives `Result<T>`.
/// No async runtime is needed: the task's completion wakes the awaiting task's waker.
pub struct FutureAwait<T> {
    future: Option<Future<T>>,
}

impl<T: Data> std::future::Future for FutureAwait<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let Some(future) = self.future.as_ref() else {
            return Poll::Ready(Err(Error::Type("a kiln future was polled after it completed".into())));
        };
        if future.handle.register_waker(cx.waker()) {
            let future = self.future.take().expect("checked above");
            return Poll::Ready(future.into_result());
        }
        Poll::Pending
    }
}

impl<T> Unpin for FutureAwait<T> {}

impl<T: Data> std::future::IntoFuture for Future<T> {
    type Output = Result<T>;
    type IntoFuture = FutureAwait<T>;

    fn into_future(self) -> FutureAwait<T> {
        FutureAwait { future: Some(self) }
    }
}

/// The inputs of a task being submitted.
#[derive(Default)]
pub struct FutureInputs {
    pub(crate) inputs: Vec<Input>,
}

impl Sink for FutureInputs {
    fn push_value(&mut self, value: kiln_ir::Value) {
        self.inputs.push(Input::Value(value));
    }
}

impl<T: Data> IntoArg<T, FutureInputs> for Future<T> {
    type Source = One<T>;
    fn into_arg(self, sink: &mut FutureInputs) -> One<T> {
        sink.inputs.push(Input::Task(self.handle));
        One::new()
    }
}

impl<T: Data> IntoArg<T, FutureInputs> for &Future<T> {
    type Source = One<T>;
    fn into_arg(self, sink: &mut FutureInputs) -> One<T> {
        sink.inputs.push(Input::Task(self.handle.clone()));
        One::new()
    }
}

impl<T: Data> IntoArg<Vec<T>, FutureInputs> for Vec<Future<T>> {
    type Source = Many<T>;
    fn into_arg(self, sink: &mut FutureInputs) -> Many<T> {
        let n = self.len();
        sink.inputs.extend(self.into_iter().map(|f| Input::Task(f.handle)));
        Many::new(n)
    }
}

impl<T: Data> IntoArg<Vec<T>, FutureInputs> for &[Future<T>] {
    type Source = Many<T>;
    fn into_arg(self, sink: &mut FutureInputs) -> Many<T> {
        sink.inputs.extend(self.iter().map(|f| Input::Task(f.handle.clone())));
        Many::new(self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_shared_or_moved() {
        let client = Client::builder().threads(1).build().unwrap();
        let f = client.scatter(vec![1u32, 2, 3]);
        assert!(f.done());
        assert_eq!(f.result().unwrap(), vec![1, 2, 3]);
        assert_eq!(f.clone().into_result().unwrap(), vec![1, 2, 3]);
        assert_eq!(f.error(), None);
        assert!(format!("{f:?}").contains("scatter-"));
        assert_eq!(f.result_timeout(Duration::from_millis(1)).unwrap().unwrap().len(), 3);
        assert!(matches!(f.clone().into_result(), Ok(v) if v.len() == 3));
        // The last handle moves the value out.
        assert_eq!(f.into_result().unwrap(), vec![1, 2, 3]);
    }
}
