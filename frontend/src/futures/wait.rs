//! Waiting on many futures: `as_completed` (an iterator in completion order) and `wait`
//! (until the first or all are done), as `concurrent.futures` and Dask have them.

use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use super::future::Future;

/// When [`wait`] returns.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as one future is done.
    FirstCompleted,
    /// Once every future is done.
    AllCompleted,
}

/// The futures of [`as_completed`] as they complete.
pub struct AsCompleted<T> {
    futures: Vec<Option<Future<T>>>,
    done: Receiver<usize>,
    left: usize,
}

/// Tells `futures` to report to a channel when done: the receiving end yields their indices
/// in completion order.
fn completions<T>(futures: &[Future<T>]) -> Receiver<usize> {
    let (tx, rx) = channel();
    for (i, f) in futures.iter().enumerate() {
        let tx = tx.clone();
        f.handle.on_done(Box::new(move || {
            // The receiver may be gone (the caller stopped iterating): nothing to tell.
            let _ = tx.send(i);
        }));
    }
    rx
}

/// The futures in the order they complete (finished, failed or cancelled), each yielded
/// once, blocking until the next is done.
///
/// ```
/// let client = kiln_frontend::Client::builder().threads(2).build()?;
/// let fs = client.map(|ms: u64| { std::thread::sleep(std::time::Duration::from_millis(ms)); ms }, [30u64, 1]);
/// let order: Vec<u64> = kiln_frontend::futures::as_completed(fs).map(|f| f.result()).collect::<Result<_, _>>()?;
/// assert_eq!(order, vec![1, 30]);
/// # Ok::<(), kiln_frontend::Error>(())
/// ```
pub fn as_completed<T>(futures: Vec<Future<T>>) -> AsCompleted<T> {
    let done = completions(&futures);
    let left = futures.len();
    AsCompleted { futures: futures.into_iter().map(Some).collect(), done, left }
}

impl<T> Iterator for AsCompleted<T> {
    type Item = Future<T>;

    fn next(&mut self) -> Option<Future<T>> {
        if self.left == 0 {
            return None;
        }
        while let Ok(i) = self.done.recv() {
            if let Some(f) = self.futures.get_mut(i).and_then(Option::take) {
                self.left -= 1;
                return Some(f);
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Blocks until the first or all of `futures` are done; gives `(done, not_done)`, each in
/// the original order.
pub fn wait<T>(futures: Vec<Future<T>>, when: ReturnWhen) -> (Vec<Future<T>>, Vec<Future<T>>) {
    wait_until(futures, when, None)
}

/// [`wait`], giving up after `timeout` (then `done` may be short of what `when` asked).
pub fn wait_timeout<T>(
    futures: Vec<Future<T>>,
    when: ReturnWhen,
    timeout: Duration,
) -> (Vec<Future<T>>, Vec<Future<T>>) {
    wait_until(futures, when, Some(Instant::now() + timeout))
}

fn wait_until<T>(
    futures: Vec<Future<T>>,
    when: ReturnWhen,
    deadline: Option<Instant>,
) -> (Vec<Future<T>>, Vec<Future<T>>) {
    let rx = completions(&futures);
    let want = match when {
        ReturnWhen::FirstCompleted => futures.len().min(1),
        ReturnWhen::AllCompleted => futures.len(),
    };
    for _ in 0..want {
        let got = match deadline {
            None => rx.recv().ok(),
            Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())).ok(),
        };
        if got.is_none() {
            break;
        }
    }
    futures.into_iter().partition(Future::done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::futures::Client;

    #[test]
    fn empty_and_finished_sets() {
        let none: Vec<Future<u8>> = Vec::new();
        assert_eq!(as_completed(none.clone()).count(), 0);
        assert_eq!(wait(none, ReturnWhen::AllCompleted).0.len(), 0);
        let client = Client::builder().threads(1).build().unwrap();
        let fs = vec![client.scatter(1u8), client.scatter(2u8)];
        let (done, not_done) = wait_timeout(fs.clone(), ReturnWhen::AllCompleted, Duration::from_secs(1));
        assert_eq!((done.len(), not_done.len()), (2, 0));
        let mut got: Vec<u8> = as_completed(fs).map(|f| f.result().unwrap()).collect();
        got.sort();
        assert_eq!(got, vec![1, 2]);
    }
}
