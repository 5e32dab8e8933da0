//! `Executor`: a pool of worker threads running tasks submitted one at a time, each with its
//! inputs (values or other tasks), as Dask's `distributed` client runs futures. It is untyped
//! (tasks compute [`Value`]s); `kiln::Client` and `kiln::Future<T>` put types on top. The
//! protocol is written down in `README.md`.
//!
//! ```
//! use kiln_ir::Value;
//! use kiln_runtime::client::{Executor, Input};
//!
//! let exec = Executor::new(2).unwrap();
//! let one = exec.submit("one", Vec::new(), Box::new(|_| Ok(Value::new(1u64, 8))), 0);
//! let two = exec.submit(
//!     "plus_one",
//!     vec![Input::Task(one)],
//!     Box::new(|inputs| Ok(Value::new(inputs[0].downcast_ref::<u64>().unwrap() + 1, 8))),
//!     0,
//! );
//! assert_eq!(two.into_outcome().unwrap().downcast_ref::<u64>(), Some(&2));
//! ```

mod cell;
#[cfg(test)]
mod test;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use kiln_ir::token::mix64;
use kiln_ir::{Token, Value};

pub use cell::{DoneCallback, Input, Status, TaskFn, TaskHandle};

use crate::error::{Error, Result};
use crate::loom::{Arc, AtomicUsize, Condvar, Mutex, Ordering, Weak, lock, wait};
use crate::runner::panic_message;
use cell::{Phase, WeakHandle};

/// A pool of worker threads running submitted tasks. Clones share the pool; the threads
/// exit once every clone is dropped and every submitted task is done.
#[derive(Clone)]
pub struct Executor {
    owner: Arc<Owner>,
}

/// The pool as its users hold it: dropping the last one shuts the workers down.
struct Owner {
    shared: Arc<Shared>,
}

/// The state the workers share.
struct Shared {
    queue: Mutex<Queue>,
    /// Where idle workers sleep.
    wake: Condvar,
    /// Tasks being run by workers now.
    running: AtomicUsize,
    threads: usize,
    /// Live pure tasks by token: submitting an identical pure call gives the same task.
    pure: Mutex<PureTasks>,
}

/// The pure tasks submitted and still held somewhere, by token.
#[derive(Default)]
struct PureTasks {
    tasks: std::collections::HashMap<Token, WeakHandle>,
    /// The table's size after the last sweep of dead entries.
    swept: usize,
}

struct Queue {
    /// Queued tasks; those whose handles were all dropped meanwhile are skipped.
    ready: VecDeque<WeakHandle>,
    sleepers: usize,
    shutdown: bool,
}

thread_local! {
    /// The pool this thread works for, on worker threads.
    static WORKER: RefCell<Option<(Arc<Shared>, Weak<Owner>)>> = const { RefCell::new(None) };
}

impl Executor {
    /// A pool of `threads` workers (at least 1), started now; an error if the system would
    /// not start a single thread.
    pub fn new(threads: usize) -> Result<Executor> {
        let threads = threads.max(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue { ready: VecDeque::new(), sleepers: 0, shutdown: false }),
            wake: Condvar::new(),
            running: AtomicUsize::new(0),
            threads,
            pure: Mutex::new(PureTasks::default()),
        });
        let owner = Arc::new(Owner { shared: shared.clone() });
        let mut started = 0;
        for index in 0..threads {
            let (shared, weak) = (shared.clone(), Arc::downgrade(&owner));
            let spawned = std::thread::Builder::new().name(format!("kiln-client-{index}")).spawn(move || {
                WORKER.with(|w| *w.borrow_mut() = Some((shared.clone(), weak)));
                shared.work();
            });
            started += usize::from(spawned.is_ok());
        }
        // Without a thread the pool could not run anything; with fewer than asked it runs
        // on those it has.
        if started == 0 {
            return Err(Error::internal("the client could not start a worker thread"));
        }
        Ok(Executor { owner })
    }

    /// The executor whose worker runs the calling thread's task, if any: how a task submits
    /// further tasks.
    pub fn current() -> Option<Executor> {
        WORKER.with(|w| w.borrow().as_ref().and_then(|(_, owner)| owner.upgrade())).map(|owner| Executor { owner })
    }

    /// The number of worker threads.
    pub fn threads(&self) -> usize {
        self.owner.shared.threads
    }

    /// Submits a task computing `func(values of inputs)`, retried up to `retries` more times
    /// when it fails or panics; returns at once. Its key is `name` and a unique suffix. A
    /// failed or cancelled input fails or cancels it.
    pub fn submit(&self, name: &str, inputs: Vec<Input>, func: TaskFn, retries: u32) -> TaskHandle {
        self.submit_keyed(new_key(name), inputs, func, retries)
    }

    /// A pure task: while a task submitted with the same `token` is held anywhere, gives that
    /// task (and drops `func` and `inputs`); otherwise submits a new one keyed
    /// `name-<token>`. The caller makes the token a hash of the function and its arguments
    /// (Dask's `submit(..., pure=True)`).
    pub fn submit_pure(&self, name: &str, token: Token, inputs: Vec<Input>, func: TaskFn, retries: u32) -> TaskHandle {
        let mut pure = lock(&self.owner.shared.pure);
        if let Some(task) = pure.tasks.get(&token).and_then(WeakHandle::upgrade) {
            return task;
        }
        let task = self.submit_keyed(format!("{name}-{}", token.short()), inputs, func, retries);
        pure.tasks.insert(token, task.downgrade());
        // Forget dead entries whenever the table has doubled since the last sweep.
        if pure.tasks.len() >= 2 * pure.swept.max(64) {
            pure.tasks.retain(|_, t| t.upgrade().is_some());
            pure.swept = pure.tasks.len();
        }
        task
    }

    /// [`Executor::submit`] with the task's whole key given (a delayed call's key, say).
    pub fn submit_keyed(&self, key: String, inputs: Vec<Input>, func: TaskFn, retries: u32) -> TaskHandle {
        let shared = &self.owner.shared;
        let deps: Vec<TaskHandle> =
            inputs.iter().filter_map(|i| if let Input::Task(t) = i { Some(t.clone()) } else { None }).collect();
        let task = TaskHandle::new(key, Phase::Waiting(1), inputs, Some(func), retries);
        let mut early = None;
        for dep in deps {
            // Count the dependency first, so that it cannot be released before it is counted.
            if let Phase::Waiting(n) = &mut task.lock().phase {
                *n += 1;
            }
            let mut state = dep.lock();
            match &state.phase {
                Phase::Finished(_) | Phase::Taken => {}
                Phase::Failed(e) => early = Some(Phase::Failed(e.clone())),
                Phase::Cancelled => early = Some(Phase::Cancelled),
                _ => {
                    state.dependents.push(task.downgrade());
                    continue;
                }
            }
            drop(state);
            if let Phase::Waiting(n) = &mut task.lock().phase {
                *n -= 1;
            }
        }
        match early {
            Some(phase) => shared.settle(task.clone(), phase),
            None => shared.release(vec![task.clone()]),
        }
        task
    }

    /// A task already finished with `value` (Dask's `scatter`).
    pub fn ready(&self, name: &str, value: Value) -> TaskHandle {
        TaskHandle::new(new_key(name), Phase::Finished(value), Vec::new(), None, 0)
    }

    /// Cancels `task` unless it is done: it and every task waiting on it end as cancelled
    /// (a running task finishes in the background and its value is dropped). Returns
    /// whether it was cancelled by this call.
    pub fn cancel(&self, task: &TaskHandle) -> bool {
        cancel(task)
    }
}

/// [`Executor::cancel`], for tasks of any executor.
pub fn cancel(task: &TaskHandle) -> bool {
    let Some(wakeups) = task.settle(Phase::Cancelled) else { return false };
    let mut next = wakeups.fire();
    while let Some(dep) = next.pop() {
        if let Some(w) = dep.settle(Phase::Cancelled) {
            next.extend(w.fire());
        }
    }
    true
}

impl Drop for Owner {
    fn drop(&mut self) {
        lock(&self.shared.queue).shutdown = true;
        self.shared.wake.notify_all();
    }
}

/// A unique key: `name-` and 8 hex digits.
fn new_key(name: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{name}-{:08x}", mix64(n) as u32)
}

/// The function name in a key (`load` in `load-1a2b3c4d`).
fn name_of(key: &str) -> &str {
    key.rsplit_once('-').map_or(key, |(name, _)| name)
}

impl Shared {
    /// A worker's life: run queued tasks; sleep while there are none; leave once the pool
    /// is shut down and nothing is left to do.
    fn work(&self) {
        loop {
            let task = {
                let mut q = lock(&self.queue);
                loop {
                    if let Some(t) = q.ready.pop_front() {
                        let Some(t) = t.upgrade() else { continue };
                        self.running.fetch_add(1, Ordering::SeqCst);
                        break t;
                    }
                    if q.shutdown && self.running.load(Ordering::SeqCst) == 0 {
                        return;
                    }
                    q.sleepers += 1;
                    q = wait(&self.wake, q);
                    q.sleepers -= 1;
                }
            };
            self.run(task);
            self.done_one();
        }
    }

    /// Pops one queued task and runs it on this thread; false if none was queued.
    fn help_once(&self) -> bool {
        let task = {
            let mut q = lock(&self.queue);
            let mut t = None;
            while let Some(weak) = q.ready.pop_front() {
                t = weak.upgrade();
                if t.is_some() {
                    self.running.fetch_add(1, Ordering::SeqCst);
                    break;
                }
            }
            t
        };
        match task {
            Some(t) => {
                self.run(t);
                self.done_one();
                true
            }
            None => false,
        }
    }

    /// Runs a queued task: reads its inputs, calls its function (again, up to its retries,
    /// while it fails), stores the outcome and releases its dependents.
    fn run(&self, task: TaskHandle) {
        let (inputs, func, retries) = {
            let mut state = task.lock();
            if !matches!(state.phase, Phase::Queued) {
                return;
            }
            state.phase = Phase::Running;
            (std::mem::take(&mut state.inputs), state.func.take(), state.retries)
        };
        let Some(func) = func else {
            let err = Error::internal(format!("task {} has no function", task.key()));
            self.settle(task, Phase::Failed(err));
            return;
        };
        let mut values = Vec::with_capacity(inputs.len());
        for input in inputs {
            match input {
                Input::Value(v) => values.push(v),
                Input::Task(dep) => match dep.take_or_share() {
                    Ok(v) => values.push(v),
                    Err(e) => {
                        self.settle(task, Phase::Failed(e));
                        return;
                    }
                },
            }
        }
        let mut attempt = 0;
        let outcome = loop {
            let args = if attempt < retries { values.clone() } else { std::mem::take(&mut values) };
            let err = match catch_unwind(AssertUnwindSafe(|| func(args))) {
                Ok(Ok(value)) => break Phase::Finished(value),
                Ok(Err(e)) => Error::TaskFailed {
                    key: task.key().to_string(),
                    op: name_of(task.key()).to_string(),
                    message: e.to_string(),
                },
                Err(payload) => Error::TaskPanicked {
                    key: task.key().to_string(),
                    op: name_of(task.key()).to_string(),
                    message: panic_message(&*payload),
                },
            };
            if attempt >= retries || task.is_done() {
                break Phase::Failed(err);
            }
            attempt += 1;
        };
        drop(values);
        drop(func);
        self.settle(task, outcome);
    }

    /// Moves `task` to its final `phase` and passes the news on: a finished task releases
    /// its dependents, a failed or cancelled one fails or cancels them. The handle is dropped
    /// first, so that a dependent holding the last other handle can move the value out.
    fn settle(&self, task: TaskHandle, phase: Phase) {
        let failure = match &phase {
            Phase::Failed(e) => Some(Phase::Failed(e.clone())),
            Phase::Cancelled => Some(Phase::Cancelled),
            _ => None,
        };
        let settled = task.settle(phase);
        drop(task);
        let Some(wakeups) = settled else { return };
        let dependents = wakeups.fire();
        match failure {
            None => self.release(dependents),
            Some(failure) => {
                let mut next = dependents;
                while let Some(dep) = next.pop() {
                    let phase = match &failure {
                        Phase::Failed(e) => Phase::Failed(e.clone()),
                        _ => Phase::Cancelled,
                    };
                    if let Some(w) = dep.settle(phase) {
                        next.extend(w.fire());
                    }
                }
            }
        }
    }

    /// Counts one dependency of each of `tasks` as done; queues those with none left.
    fn release(&self, tasks: Vec<TaskHandle>) {
        let mut ready = Vec::new();
        for t in tasks {
            let mut state = t.lock();
            if let Phase::Waiting(n) = &mut state.phase {
                *n -= 1;
                if *n == 0 {
                    state.phase = Phase::Queued;
                    drop(state);
                    ready.push(t.downgrade());
                }
            }
        }
        if ready.is_empty() {
            return;
        }
        let n = ready.len();
        let mut q = lock(&self.queue);
        q.ready.extend(ready);
        let wake = q.sleepers.min(n);
        drop(q);
        for _ in 0..wake {
            self.wake.notify_one();
        }
    }

    /// Counts a task run by a worker as over; when the last running task of a shut-down
    /// pool is over, the workers may leave (once the queue is empty).
    fn done_one(&self) {
        if self.running.fetch_sub(1, Ordering::SeqCst) == 1 && lock(&self.queue).shutdown {
            self.wake.notify_all();
        }
    }
}

/// Whether the calling thread is a worker of an executor.
pub(crate) fn on_worker() -> bool {
    WORKER.with(|w| w.borrow().is_some())
}

/// On a worker thread, runs one queued task of its executor; false if there was none (or
/// this is not a worker thread).
pub(crate) fn help_once() -> bool {
    let shared = WORKER.with(|w| w.borrow().as_ref().map(|(s, _)| s.clone()));
    shared.is_some_and(|s| s.help_once())
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Executor {{ threads: {} }}", self.threads())
    }
}
