//! `TaskHandle`: one dynamically submitted task's shared cell — its state (waiting, queued,
//! running, finished, failed, cancelled), its inputs until it runs, the tasks waiting on it,
//! and whoever waits for it (threads on a condvar, async wakers, completion callbacks).

use std::fmt;
use std::task::Waker;
use std::time::{Duration, Instant};

use kiln_ir::Value;

use crate::error::Error;
use crate::loom::{Arc, Condvar, Mutex, MutexGuard, Weak, lock, wait};
use crate::runner::BoxError;

/// The function of a submitted task: computes its value from its inputs' values, in order.
pub type TaskFn = Box<dyn Fn(Vec<Value>) -> Result<Value, BoxError> + Send + Sync>;

/// A callback run once, when a task reaches its final state.
pub type DoneCallback = Box<dyn FnOnce() + Send>;

/// One input of a submitted task.
#[derive(Clone, Debug)]
pub enum Input {
    /// A value known at submit time.
    Value(Value),
    /// The value of another task: a dependency.
    Task(TaskHandle),
}

/// Where a task is in its life.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Waiting for dependencies, queued, or running.
    Pending,
    /// Its value is available.
    Finished,
    /// It (or one of its dependencies) failed or panicked.
    Error,
    /// It (or one of its dependencies) was cancelled.
    Cancelled,
}

/// A handle on a submitted task; clones share it. The task's value lives as long as a
/// handle does (or until the one consumer holding the last handle takes it). A task nobody
/// holds a handle on any more (its futures and the tasks reading it are gone) is dropped
/// without running: the executor's queue and the lists of dependents hold [`WeakHandle`]s.
#[derive(Clone)]
pub struct TaskHandle(pub(crate) Arc<Cell>);

/// A handle that does not keep its task alive (see [`TaskHandle`]).
#[derive(Clone)]
pub(crate) struct WeakHandle(Weak<Cell>);

impl WeakHandle {
    /// The task, if a handle on it is still held somewhere.
    pub(crate) fn upgrade(&self) -> Option<TaskHandle> {
        self.0.upgrade().map(TaskHandle)
    }
}

pub(crate) struct Cell {
    pub(crate) key: String,
    pub(crate) state: Mutex<State>,
    done: Condvar,
}

pub(crate) struct State {
    pub(crate) phase: Phase,
    /// Inputs until the task runs (or is cancelled or fails).
    pub(crate) inputs: Vec<Input>,
    pub(crate) func: Option<TaskFn>,
    pub(crate) retries: u32,
    /// Tasks that read this one's value and wait for it.
    pub(crate) dependents: Vec<WeakHandle>,
    callbacks: Vec<DoneCallback>,
    wakers: Vec<Waker>,
}

pub(crate) enum Phase {
    /// Dependencies not finished yet (plus one while the submit registers them).
    Waiting(usize),
    Queued,
    Running,
    Finished(Value),
    /// Finished, and the value was moved out by the consumer holding the last handle.
    Taken,
    Failed(Error),
    Cancelled,
}

impl Phase {
    fn is_final(&self) -> bool {
        matches!(self, Phase::Finished(_) | Phase::Taken | Phase::Failed(_) | Phase::Cancelled)
    }
}

/// What a task's waiters learn when it reaches its final state.
pub(crate) struct Wakeups {
    callbacks: Vec<DoneCallback>,
    wakers: Vec<Waker>,
    pub(crate) dependents: Vec<WeakHandle>,
}

impl Wakeups {
    /// Runs the callbacks and wakes the wakers (no lock held); gives the dependents still
    /// held by someone.
    pub(crate) fn fire(self) -> Vec<TaskHandle> {
        for cb in self.callbacks {
            cb();
        }
        for w in self.wakers {
            w.wake();
        }
        self.dependents.iter().filter_map(WeakHandle::upgrade).collect()
    }
}

impl TaskHandle {
    pub(crate) fn new(key: String, phase: Phase, inputs: Vec<Input>, func: Option<TaskFn>, retries: u32) -> TaskHandle {
        let state =
            State { phase, inputs, func, retries, dependents: Vec::new(), callbacks: Vec::new(), wakers: Vec::new() };
        TaskHandle(Arc::new(Cell { key, state: Mutex::new(state), done: Condvar::new() }))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.0.state)
    }

    /// The task's key: its function's name and a unique suffix (`load-1a2b3c4d`).
    pub fn key(&self) -> &str {
        &self.0.key
    }

    /// Where the task is now.
    pub fn status(&self) -> Status {
        match &self.lock().phase {
            Phase::Waiting(_) | Phase::Queued | Phase::Running => Status::Pending,
            Phase::Finished(_) | Phase::Taken => Status::Finished,
            Phase::Failed(_) => Status::Error,
            Phase::Cancelled => Status::Cancelled,
        }
    }

    /// Whether the task has reached its final state (finished, failed or cancelled).
    pub fn is_done(&self) -> bool {
        self.lock().phase.is_final()
    }

    /// A handle that does not keep the task alive.
    pub(crate) fn downgrade(&self) -> WeakHandle {
        WeakHandle(Arc::downgrade(&self.0))
    }

    /// Whether two handles refer to the same task.
    pub fn same_task(&self, other: &TaskHandle) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Blocks until the task is done. On a worker thread of an executor, runs that
    /// executor's queued tasks while waiting, so that tasks waiting for other tasks never
    /// starve the pool.
    pub fn wait(&self) {
        if super::on_worker() {
            while !self.is_done() {
                if !super::help_once() {
                    self.park(Duration::from_micros(200));
                }
            }
            return;
        }
        let mut state = self.lock();
        while !state.phase.is_final() {
            state = wait(&self.0.done, state);
        }
    }

    /// Blocks until the task is done or `timeout` has passed; returns whether it is done.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        if super::on_worker() {
            while !self.is_done() {
                if Instant::now() >= deadline {
                    return false;
                }
                if !super::help_once() {
                    self.park(Duration::from_micros(200).min(deadline.saturating_duration_since(Instant::now())));
                }
            }
            return true;
        }
        let mut state = self.lock();
        while !state.phase.is_final() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self.0.done.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        true
    }

    /// Sleeps on the task's condvar for at most `d` unless it is done.
    pub(crate) fn park(&self, d: Duration) {
        let state = self.lock();
        if !state.phase.is_final() {
            drop(self.0.done.wait_timeout(state, d));
        }
    }

    /// The task's value (a shared handle) or its error, once it is done; `None` while pending.
    pub fn outcome(&self) -> Option<Result<Value, Error>> {
        match &self.lock().phase {
            Phase::Finished(v) => Some(Ok(v.clone())),
            Phase::Taken => Some(Err(Error::internal(format!("the value of {} was moved out", self.key())))),
            Phase::Failed(e) => Some(Err(e.clone())),
            Phase::Cancelled => Some(Err(Error::Cancelled)),
            _ => None,
        }
    }

    /// Waits for the task and gives its value: moved out of the task when this is the only
    /// handle (so the consumer can take it without a copy), shared otherwise.
    pub fn into_outcome(self) -> Result<Value, Error> {
        self.wait();
        self.take_or_share()
    }

    /// The value of a finished task, moved out when `self` is the only handle.
    pub(crate) fn take_or_share(self) -> Result<Value, Error> {
        let only = Arc::strong_count(&self.0) == 1;
        let mut state = self.lock();
        if only
            && matches!(state.phase, Phase::Finished(_))
            && let Phase::Finished(v) = std::mem::replace(&mut state.phase, Phase::Taken)
        {
            return Ok(v);
        }
        drop(state);
        self.outcome().unwrap_or_else(|| Err(Error::internal(format!("{} read before it finished", self.key()))))
    }

    /// The error of a failed or cancelled task, without waiting (`None` while pending or
    /// after success).
    pub fn error(&self) -> Option<Error> {
        match &self.lock().phase {
            Phase::Failed(e) => Some(e.clone()),
            Phase::Cancelled => Some(Error::Cancelled),
            _ => None,
        }
    }

    /// Runs `callback` once the task is done (at once, on this thread, if it already is;
    /// otherwise on the thread that finishes it, which must not block in it).
    pub fn on_done(&self, callback: DoneCallback) {
        let mut state = self.lock();
        if state.phase.is_final() {
            drop(state);
            callback();
        } else {
            state.callbacks.push(callback);
        }
    }

    /// Registers `waker` to be woken when the task is done; returns whether it already is.
    pub fn register_waker(&self, waker: &Waker) -> bool {
        let mut state = self.lock();
        if state.phase.is_final() {
            return true;
        }
        if !state.wakers.iter().any(|w| w.will_wake(waker)) {
            state.wakers.push(waker.clone());
        }
        false
    }

    /// Moves the task to its final `phase` unless it is final already; returns who to tell.
    pub(crate) fn settle(&self, phase: Phase) -> Option<Wakeups> {
        let mut state = self.lock();
        if state.phase.is_final() {
            return None;
        }
        state.phase = phase;
        let inputs = std::mem::take(&mut state.inputs);
        let func = state.func.take();
        let wakeups = Wakeups {
            callbacks: std::mem::take(&mut state.callbacks),
            wakers: std::mem::take(&mut state.wakers),
            dependents: std::mem::take(&mut state.dependents),
        };
        drop(state);
        drop(func);
        drop_inputs(inputs);
        self.0.done.notify_all();
        Some(wakeups)
    }
}

impl Drop for State {
    /// Hands the inputs to [`drop_inputs`]: a task held only by its dependent would
    /// otherwise drop its own dependency from inside its drop, recursively, and a chain of
    /// 100,000 futures would overflow the stack.
    fn drop(&mut self) {
        if !self.inputs.is_empty() {
            drop_inputs(std::mem::take(&mut self.inputs));
        }
    }
}

thread_local! {
    /// Inputs waiting to be dropped by the [`drop_inputs`] loop running on this thread.
    static DROPPING: std::cell::RefCell<Option<Vec<Vec<Input>>>> = const { std::cell::RefCell::new(None) };
}

/// Drops a task's inputs, and the inputs of the tasks that frees, in a loop instead of
/// recursively: a drop started while the loop runs on this thread joins its work list.
pub(crate) fn drop_inputs(inputs: Vec<Input>) {
    // `None` when this thread's loop is running (the inputs joined it), or when the
    // thread-local is gone (the thread is exiting: drop them right here).
    let start = DROPPING
        .try_with(|d| {
            let mut d = d.borrow_mut();
            match d.as_mut() {
                Some(pending) => {
                    pending.push(inputs);
                    None
                }
                None => {
                    *d = Some(Vec::new());
                    Some(inputs)
                }
            }
        })
        .unwrap_or(None);
    let Some(mut next) = start else { return };
    loop {
        drop(next);
        match DROPPING.with(|d| d.borrow_mut().as_mut().and_then(Vec::pop)) {
            Some(more) => next = more,
            None => break,
        }
    }
    DROPPING.with(|d| *d.borrow_mut() = None);
}

impl fmt::Debug for TaskHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskHandle({}, {:?})", self.key(), self.status())
    }
}
