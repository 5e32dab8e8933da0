//! The process-wide worker pool behind `Scheduler::Threads`: threads created lazily, grown
//! to the most helpers any run has asked for, asleep on a condvar while no run has work for
//! them. The calling thread of every run works on it too. The protocol is in `README.md`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use crate::RunOutput;
use crate::cancel::{CancelToken, Cancellable};
use crate::error::{Error, Result};
use crate::job::{Buffers, Job, Role, Step};
use crate::loom::{Arc, AtomicUsize, Condvar, Mutex, Ordering, lock, wait};
use crate::runner::panic_message;

#[cfg(test)]
mod test;

/// The most pool threads the process creates, however many a run asks for: beyond this a
/// run gets fewer threads than it asked for (it still completes, its caller working on it).
pub const MAX_POOL_THREADS: usize = 512;

/// The worker pool.
pub(crate) struct Pool {
    state: Mutex<PoolState>,
    /// Where idle workers sleep.
    wake: Condvar,
    /// Workers that have announced they are about to sleep or are asleep (changed under the
    /// `state` lock, read without it by threads with work to give).
    sleepers: AtomicUsize,
}

struct PoolState {
    /// Runs on more than one thread that have not returned yet, oldest first.
    jobs: Vec<Arc<Job>>,
    /// Worker threads created.
    workers: usize,
}

/// The process's pool, created on first use.
pub(crate) fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState { jobs: Vec::new(), workers: 0 }),
        wake: Condvar::new(),
        sleepers: AtomicUsize::new(0),
    })
}

/// Runs `job` on the calling thread and up to `job.max_threads() - 1` pool workers; `cancel`
/// fails the run from another thread.
pub(crate) fn run(job: Job, cancel: Option<&CancelToken>) -> Result<RunOutput> {
    let pool = pool();
    let job = Arc::new(job);
    let _watch = cancel.map(|token| token.watch(&(job.clone() as Arc<dyn Cancellable>)));
    pool.grow(job.max_threads() - 1);
    let registration = Registration::new(pool, &job);
    pool.wake_workers((job.max_threads() - 1).min(job.ready_hint().saturating_sub(1)));
    let mut bufs = Buffers::for_thread(0);
    loop {
        let step = job.next_for_caller();
        if step.next.is_none() {
            break;
        }
        drive(pool, &job, step, Role::Caller, &mut bufs);
    }
    drop(registration);
    job.finish_run()
}

/// Runs tasks of `job` from `step` on until this thread has no next task.
fn drive(pool: &Pool, job: &Job, mut step: Step, role: Role, bufs: &mut Buffers) {
    loop {
        if step.want_helper {
            pool.wake_workers(1);
        }
        let Some(t) = step.next else { return };
        step = job.run_and_finish(t, role, bufs);
    }
}

impl Pool {
    /// Worker threads created so far.
    #[cfg(test)]
    pub(crate) fn workers(&self) -> usize {
        lock(&self.state).workers
    }

    /// Creates workers until there are `want` (at most [`MAX_POOL_THREADS`]). A failure to
    /// create a thread is not an error: runs then use the threads there are.
    fn grow(&'static self, want: usize) {
        let want = want.min(MAX_POOL_THREADS);
        if want == 0 {
            return;
        }
        let mut state = lock(&self.state);
        while state.workers < want {
            let index = state.workers;
            let spawned =
                std::thread::Builder::new().name(format!("kiln-worker-{index}")).spawn(move || self.work(index));
            if spawned.is_err() {
                break;
            }
            state.workers += 1;
        }
    }

    /// Wakes up to `n` sleeping workers, if any sleep.
    fn wake_workers(&self, n: usize) {
        if n == 0 || self.sleepers.load(Ordering::SeqCst) == 0 {
            return;
        }
        let _state = lock(&self.state);
        for _ in 0..n.min(self.sleepers.load(Ordering::SeqCst)) {
            self.wake.notify_one();
        }
    }

    /// Worker `index`'s life: find a run with work and room, help it until it has no ready
    /// task, repeat. A panic here would be a runtime bug; it fails the run instead of leaving
    /// the run's caller waiting for a task nobody finishes.
    fn work(&self, index: usize) {
        let mut bufs = Buffers::for_thread(index + 1);
        loop {
            let (job, step) = self.find_work();
            let res = catch_unwind(AssertUnwindSafe(|| drive(self, &job, step, Role::Helper, &mut bufs)));
            if let Err(payload) = res {
                bufs = Buffers::for_thread(index + 1);
                let message = format!("a pool worker panicked: {}", panic_message(&*payload));
                job.fail(Error::internal(message), Role::Helper);
            }
        }
    }

    /// Joins a run that has a ready task and room for another thread, sleeping until one
    /// does. The worker counts itself among the sleepers before it looks, so a thread that
    /// queues work after the look sees it and wakes it (README.md, "Sleeping").
    fn find_work(&self) -> (Arc<Job>, Step) {
        let mut state = lock(&self.state);
        loop {
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            let found = state
                .jobs
                .iter()
                .filter(|job| job.ready_hint() > 0)
                .find_map(|job| job.try_join().map(|step| (job.clone(), step)));
            if let Some(found) = found {
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                return found;
            }
            state = wait(&self.wake, state);
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A run's entry in the pool's list of runs, removed when the run returns (or unwinds).
struct Registration<'a> {
    pool: &'a Pool,
    job: Arc<Job>,
}

impl<'a> Registration<'a> {
    fn new(pool: &'a Pool, job: &Arc<Job>) -> Registration<'a> {
        lock(&pool.state).jobs.push(job.clone());
        Registration { pool, job: job.clone() }
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        lock(&self.pool.state).jobs.retain(|j| !Arc::ptr_eq(j, &self.job));
    }
}
