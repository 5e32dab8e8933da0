//! `CancelToken`: stops runs from another thread. A run given a token (in `RunOptions`)
//! registers itself with it; `cancel()` fails every registered run with
//! [`Error::Cancelled`](crate::Error::Cancelled) at once: no new task starts, the caller
//! returns as soon as the task on its own thread (if any) is done, and tasks running on other
//! threads finish in the background with their results dropped.

use std::fmt;

use crate::loom::{Arc, AtomicBool, Mutex, Ordering, Weak, lock};

/// Something a token can stop: a threaded run.
pub(crate) trait Cancellable: Send + Sync {
    /// Stops the run (idempotent).
    fn cancel(&self);
}

/// A handle that cancels the runs it is given to, from any thread. Clones share the same
/// state: cancelling one cancels all. Once cancelled it stays cancelled, and runs started
/// with it fail at once.
///
/// ```
/// use std::sync::Arc;
/// use kiln_runtime::{CancelToken, Error, RunOptions, Scheduler, execute_with, synthetic};
///
/// let token = CancelToken::new();
/// token.cancel();
/// let opts = RunOptions::new(Scheduler::Threads(2)).with_cancel(token.clone());
/// let res = execute_with(Arc::new(synthetic::chain(10)), &opts, synthetic::count_runner());
/// assert_eq!(res.unwrap_err(), Error::Cancelled);
/// assert!(token.is_cancelled());
/// ```
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    /// Runs in progress with this token; each removes itself when it returns.
    runs: Mutex<Vec<Weak<dyn Cancellable>>>,
}

impl CancelToken {
    /// A token not cancelled yet.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Cancels every run using this token, now and later.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        let runs: Vec<Arc<dyn Cancellable>> = lock(&self.inner.runs).iter().filter_map(Weak::upgrade).collect();
        for run in runs {
            run.cancel();
        }
    }

    /// Whether [`CancelToken::cancel`] has been called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Relaxed)
    }

    /// Registers `run` until the returned guard is dropped; cancels it at once if the token
    /// already is. (The flag is read after the registration and set before `cancel` reads
    /// the list, under the list's lock, so one of the two always sees the other.)
    pub(crate) fn watch(&self, run: &Arc<dyn Cancellable>) -> Watch {
        let weak = Arc::downgrade(run);
        lock(&self.inner.runs).push(weak.clone());
        if self.inner.cancelled.load(Ordering::SeqCst) {
            run.cancel();
        }
        Watch { token: self.clone(), run: weak }
    }
}

/// A run's registration with a token, removed on drop.
pub(crate) struct Watch {
    token: CancelToken,
    run: Weak<dyn Cancellable>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        lock(&self.token.inner.runs).retain(|w| !Weak::ptr_eq(w, &self.run));
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CancelToken {{ cancelled: {} }}", self.is_cancelled())
    }
}

impl PartialEq for CancelToken {
    /// The same token (clones of one another).
    fn eq(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loom::AtomicUsize;

    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Cancellable for Counter {
        fn cancel(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn cancel_reaches_registered_runs_and_later_ones() {
        let token = CancelToken::new();
        let run = Arc::new(Counter::default());
        let as_dyn: Arc<dyn Cancellable> = run.clone();
        let watch = token.watch(&as_dyn);
        assert!(!token.is_cancelled());
        token.clone().cancel();
        assert!(token.is_cancelled());
        assert_eq!(run.0.load(Ordering::SeqCst), 1);
        drop(watch);
        assert!(lock(&token.inner.runs).is_empty(), "the guard removes its run");
        // A run registered after the cancel is stopped at once.
        let late = Arc::new(Counter::default());
        let late_dyn: Arc<dyn Cancellable> = late.clone();
        let _w = token.watch(&late_dyn);
        assert_eq!(late.0.load(Ordering::SeqCst), 1);
        assert_eq!(token, token.clone());
        assert_ne!(token, CancelToken::new());
        assert_eq!(format!("{token:?}"), "CancelToken { cancelled: true }");
    }
}
