//! Tests of the worker pool's protocol: threads per run, helpers joining, sleeping workers,
//! failures while other threads still run tasks.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use kiln_ir::{TaskGraph, TaskId, Value};

use super::pool;
use crate::loom::{Arc, Mutex};
use crate::synthetic::{self, count_runner};
use crate::{Error, RunOptions, Scheduler, TaskRunner, execute_with};

/// No test in this crate asks for more than this many threads.
const MOST_THREADS_ASKED: usize = 4;

#[test]
fn no_more_threads_than_asked_work_on_a_run() {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (r, m) = (running.clone(), most.clone());
    let count = count_runner();
    let runner: Arc<TaskRunner> = Arc::new(move |g: &TaskGraph, id: TaskId, inputs: &[Value]| {
        m.fetch_max(r.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_micros(300));
        r.fetch_sub(1, Ordering::SeqCst);
        count(g, id, inputs)
    });
    let graph = Arc::new(synthetic::wide(300, 30));
    let out = execute_with(graph, &RunOptions::new(Scheduler::Threads(3)), runner).unwrap();
    assert!(most.load(Ordering::SeqCst) <= 3, "{} tasks ran at once", most.load(Ordering::SeqCst));
    assert!(out.stats.threads <= 3, "{:?}", out.stats);
    let workers = pool().workers();
    assert!((2..MOST_THREADS_ASKED).contains(&workers), "{workers} pool workers");
}

/// A run of two sources that each wait (up to 10 s) until both have started: it finishes at
/// once only if a second thread works on it. Returns how many starts the tasks saw (2 when
/// they ran at the same time) and the run's thread count.
fn rendezvous_run() -> (usize, usize) {
    let (tx, rx) = mpsc::channel::<u32>();
    let rx = Arc::new(Mutex::new(rx));
    let met = Arc::new(AtomicUsize::new(0));
    let count = count_runner();
    let m = met.clone();
    let runner: Arc<TaskRunner> = Arc::new(move |g: &TaskGraph, id: TaskId, inputs: &[Value]| {
        if inputs.is_empty() {
            tx.send(id.0).map_err(|e| e.to_string())?;
            // Both tasks read start signals (their own or the other's) until both are in.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while m.load(Ordering::SeqCst) < 2 && std::time::Instant::now() < deadline {
                if rx.lock().unwrap().recv_timeout(Duration::from_millis(5)).is_ok() {
                    m.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        count(g, id, inputs)
    });
    let graph = Arc::new(synthetic::wide(2, 2));
    let out = execute_with(graph, &RunOptions::new(Scheduler::Threads(2)), runner).unwrap();
    (met.load(Ordering::SeqCst), out.stats.threads)
}

#[test]
fn a_pool_worker_joins_the_callers_run() {
    assert_eq!(rendezvous_run(), (2, 2));
}

#[test]
fn sleeping_workers_wake_for_later_runs() {
    for _ in 0..3 {
        // Between runs the workers have nothing to do and go to sleep on the condvar.
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(rendezvous_run(), (2, 2));
    }
}

#[test]
fn a_failing_run_returns_while_another_thread_still_runs_a_task() {
    let caller = std::thread::current().id();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let started_rx = Arc::new(Mutex::new(started_rx));
    let release_rx = Arc::new(Mutex::new(release_rx));
    let helper_done = Arc::new(AtomicBool::new(false));
    let done = helper_done.clone();
    let runner: Arc<TaskRunner> = Arc::new(move |_: &TaskGraph, _: TaskId, _: &[Value]| {
        if std::thread::current().id() == caller {
            // Fail once a pool worker is inside a task of this run.
            let _ = started_rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
            return Err("caller's task failed".into());
        }
        started_tx.send(()).map_err(|e| e.to_string())?;
        let _ = release_rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
        done.store(true, Ordering::SeqCst);
        Ok(Value::new(0u64, 8))
    });
    let graph = Arc::new(synthetic::wide(2, 2));
    let err = execute_with(graph.clone(), &RunOptions::new(Scheduler::Threads(2)), runner).unwrap_err();
    assert!(matches!(&err, Error::TaskFailed { message, .. } if message == "caller's task failed"), "{err}");
    assert!(!helper_done.load(Ordering::SeqCst), "execute waited for the other thread's task");
    release_tx.send(()).unwrap();
    // The pool is usable again once the worker's task has ended in the background.
    let out = execute_with(graph, &RunOptions::new(Scheduler::Threads(2)), count_runner()).unwrap();
    assert_eq!(synthetic::output_u64(&out), vec![vec![4]]);
}
