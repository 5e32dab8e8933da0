//! `Job`: the shared state of one threaded run — per-task remaining-dependency counters,
//! the store of values (`store.rs`), the ready queue (smallest id first) and the failure
//! flag — and the steps the threads working on it take. Under memory pressure (the store is
//! over its pause threshold) helpers leave the run after their task and none joins, so the
//! run goes on one task at a time while spilling brings the bytes held down. The threads
//! themselves and the protocol between them are in `pool/` (see `pool/README.md`).

use std::collections::VecDeque;
use std::time::Instant;

use kiln_ir::{TaskGraph, TaskId, Value};

use crate::RunOutput;
use crate::callback::Callbacks;
use crate::cancel::Cancellable;
use crate::error::{Error, Result};
use crate::loom::{Arc, AtomicBool, AtomicU32, AtomicUsize, Condvar, Mutex, MutexGuard, Ordering, lock, wait};
use crate::plan;
use crate::ready::{ReadyFront, ReadyHeap};
use crate::runner::Runner;
use crate::stats::RunStats;
use crate::store::{Read, Store};

/// The most roots a thread claims at once (see [`Job::root_batch`]): measured on a million
/// one-row blocks summed on two threads, batches of 32 took the run from 1.24 s to 1.06 s.
const MAX_ROOT_BATCH: usize = 32;

/// One run of a graph on several threads.
pub(crate) struct Job {
    graph: Arc<TaskGraph>,
    runner: Runner,
    /// Hooks around each task (checked once per task: none registered costs nothing).
    callbacks: Callbacks,
    /// Per task, dependencies not yet computed; the thread that brings it to zero queues it.
    deps_left: Box<[AtomicU32]>,
    /// The tasks' values until their last reads.
    store: Store,
    queue: Mutex<Queue>,
    /// The ready tasks claimed without the queue lock (see `ready.rs`).
    front: ReadyFront,
    /// Tasks finished (computed and stored, or handed on), counted by the thread that
    /// finished them, under the queue lock or, when it claims its next task without it,
    /// outside.
    finished: AtomicUsize,
    /// Where the calling thread sleeps while no task is ready and the run is not over.
    caller_wake: Condvar,
    /// The ready tasks' count, stored under the queue lock, read without it by idle pool
    /// workers looking for work (roots claimed since make it high: a hint).
    ready_hint: AtomicUsize,
    /// Set once, by the first task that fails; from then on no task of this run starts.
    failed: AtomicBool,
    /// The first failure.
    error: Mutex<Option<Error>>,
    max_threads: usize,
    started: Instant,
}

/// What the threads of a run take turns on under one lock: the ready heap (push what became
/// ready, pop the next) and the threads on the run.
struct Queue {
    /// Tasks made ready by their last dependency.
    heap: ReadyHeap,
    /// Threads working on the run now, the calling thread included.
    active: usize,
    /// Most threads that worked on the run at once.
    peak_active: usize,
    /// Whether the calling thread sleeps on `caller_wake`.
    caller_waiting: bool,
}

/// Which thread takes a step: the run's calling thread stays until the run is over, a pool
/// worker (a helper) leaves as soon as it finds no ready task.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The thread that called `execute`.
    Caller,
    /// A pool worker.
    Helper,
}

/// Buffers a thread reuses from task to task, so that the hot path does not allocate, and
/// the thread's index for task callbacks.
#[derive(Default)]
pub(crate) struct Buffers {
    inputs: Vec<Value>,
    ready: Vec<u32>,
    /// Roots this thread has claimed and not run yet, in id order (`ready.rs`); empty
    /// whenever the thread is not working on a run.
    claimed: VecDeque<u32>,
    /// 0 for a run's calling thread, `k + 1` for pool worker `k`.
    thread: usize,
}

impl Buffers {
    /// Empty buffers of thread `thread` (0: a run's caller; `k + 1`: pool worker `k`).
    pub(crate) fn for_thread(thread: usize) -> Buffers {
        Buffers { thread, ..Buffers::default() }
    }
}

/// What a thread does after a step.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// The task it runs next (`None`: a helper has left the run; the caller waits or is done).
    pub(crate) next: Option<u32>,
    /// Whether ready tasks are left over that an idle pool worker could take.
    pub(crate) want_helper: bool,
}

impl Step {
    const NONE: Step = Step { next: None, want_helper: false };
}

impl Job {
    /// A run of `graph` with `runner` on at most `max_threads` threads (at least 1), the
    /// calling thread counted as working on it from the start, keeping values in `store`;
    /// `callbacks` are called around each task.
    pub(crate) fn new(
        graph: Arc<TaskGraph>,
        runner: Runner,
        max_threads: usize,
        started: Instant,
        callbacks: Callbacks,
        store: Store,
    ) -> Job {
        let n_deps = |i: usize| graph.deps(TaskId(i as u32)).len() as u32;
        let deps_left = (0..graph.len()).map(|i| AtomicU32::new(n_deps(i))).collect();
        let roots: Vec<u32> = (0..graph.len()).filter(|&i| n_deps(i) == 0).map(|i| i as u32).collect();
        let ready_hint = AtomicUsize::new(roots.len());
        let front = ReadyFront::new(roots);
        let queue = Queue { heap: ReadyHeap::default(), active: 1, peak_active: 1, caller_waiting: false };
        Job {
            graph,
            runner,
            callbacks,
            deps_left,
            store,
            queue: Mutex::new(queue),
            front,
            finished: AtomicUsize::new(0),
            caller_wake: Condvar::new(),
            ready_hint,
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
            max_threads: max_threads.max(1),
            started,
        }
    }

    /// The most threads that may work on this run at once.
    pub(crate) fn max_threads(&self) -> usize {
        self.max_threads
    }

    /// The number of ready tasks as last published under the queue lock (read without it).
    pub(crate) fn ready_hint(&self) -> usize {
        self.ready_hint.load(Ordering::SeqCst)
    }

    /// A pool worker joins the run if it has a ready task and room for another thread;
    /// returns the step to take (its first task).
    pub(crate) fn try_join(&self) -> Option<Step> {
        let mut q = lock(&self.queue);
        if self.failed.load(Ordering::SeqCst) || q.active >= self.max_threads || self.store.paused() {
            return None;
        }
        let t = q.heap.pop(&self.front)?;
        q.active += 1;
        q.peak_active = q.peak_active.max(q.active);
        let (want_helper, wake_caller) = self.after_change(&mut q);
        drop(q);
        self.wake_caller_if(wake_caller);
        Some(Step { next: Some(t), want_helper })
    }

    /// The calling thread's next task: pops one, or sleeps until one is ready; `next` is
    /// `None` once the run is over (every task finished, or one failed).
    pub(crate) fn next_for_caller(&self) -> Step {
        let mut q = lock(&self.queue);
        loop {
            if self.failed.load(Ordering::SeqCst) || self.finished.load(Ordering::SeqCst) == self.graph.len() {
                return Step::NONE;
            }
            if let Some(t) = q.heap.pop(&self.front) {
                let (want_helper, _) = self.after_change(&mut q);
                return Step { next: Some(t), want_helper };
            }
            q.caller_waiting = true;
            q = wait(&self.caller_wake, q);
            q.caller_waiting = false;
        }
    }

    /// Runs task `t` on this thread, stores its value, queues the tasks that became ready
    /// and picks this thread's next task, all under one lock of the queue. When `t` hands
    /// its value off (a linear chain, see `TaskGraph::hands_off`), its only dependent runs
    /// next on this thread with the value, and so on down the chain: only the chain's last
    /// value is stored, and the queue is locked once for the whole chain.
    pub(crate) fn run_and_finish(&self, t: u32, role: Role, bufs: &mut Buffers) -> Step {
        let mut id = TaskId(t);
        let mut handed = None;
        let mut chained = 0;
        loop {
            if self.failed.load(Ordering::SeqCst) {
                bufs.claimed.clear();
                return self.stop(role);
            }
            let mut released = (0, 0);
            let estimate = self.store.running_estimate(&self.graph, id);
            self.store.meter().start_task(estimate);
            let res = if self.callbacks.is_empty() {
                self.gather_and_compute(id, handed.take(), &mut bufs.inputs, &mut released)
            } else {
                let inputs = &mut bufs.inputs;
                let handed = handed.take();
                self.callbacks.observe(&self.graph, id, bufs.thread, || {
                    self.gather_and_compute(id, handed, inputs, &mut released)
                })
            };
            self.store.meter().release(released.0, released.1);
            self.store.meter().end_task(estimate);
            let res = match res {
                Ok(value) if self.graph.hands_off(id) => {
                    handed = Some(value);
                    chained += 1;
                    id = self.store.dependents(id)[0];
                    continue;
                }
                res => res.and_then(|value| self.store.put(&self.graph, id, value, &self.failed)),
            };
            return match res {
                Ok(()) => {
                    self.collect_ready(id, &mut bufs.ready);
                    self.complete(role, &bufs.ready, &mut bufs.claimed, chained + 1)
                }
                // A value gone because another thread failed the run and released it.
                Err(_) if self.failed.load(Ordering::SeqCst) => {
                    bufs.claimed.clear();
                    self.stop(role)
                }
                Err(e) => {
                    bufs.claimed.clear();
                    self.fail(e, role);
                    Step::NONE
                }
            };
        }
    }

    /// Reads task `id`'s inputs (or takes `handed`, the value its only dependency handed
    /// off) and computes it; `inputs` is empty afterwards.
    fn gather_and_compute(
        &self,
        id: TaskId,
        handed: Option<Value>,
        inputs: &mut Vec<Value>,
        released: &mut (usize, usize),
    ) -> Result<Value> {
        let gathered = match handed {
            Some(value) => {
                inputs.push(value);
                Ok(())
            }
            None => self.gather(id, inputs, released),
        };
        match gathered {
            Ok(()) => self.runner.compute(&self.graph, id, inputs),
            Err(e) => {
                inputs.clear();
                Err(e)
            }
        }
    }

    /// Fails the run with `error` (the first failure wins): no task starts any more, ready
    /// tasks are dropped, the calling thread is woken; a helper leaves the run.
    pub(crate) fn fail(&self, error: Error, role: Role) {
        self.stop_run(error, role == Role::Helper);
    }

    /// [`Job::fail`], where `leaving` says whether the calling thread is a helper that leaves
    /// the run (a thread cancelling the run from outside does not work on it).
    fn stop_run(&self, error: Error, leaving: bool) {
        lock(&self.error).get_or_insert(error);
        self.failed.store(true, Ordering::SeqCst);
        let mut q = lock(&self.queue);
        q.heap.clear(&self.front);
        if leaving {
            // Saturating: a pool worker that panicked (a runtime bug) may already have left.
            q.active = q.active.saturating_sub(1);
        }
        let (_, wake_caller) = self.after_change(&mut q);
        drop(q);
        self.wake_caller_if(wake_caller);
    }

    /// The run's result, once `next_for_caller` has said it is over: the outputs (or the
    /// first failure) and the figures. Releases every value the run still holds.
    pub(crate) fn finish_run(&self) -> Result<RunOutput> {
        let threads = lock(&self.queue).peak_active;
        let tasks_run = self.finished.load(Ordering::SeqCst);
        let loaded = if self.failed.load(Ordering::SeqCst) {
            Ok(())
        } else {
            self.store.load_outputs(&self.graph, |t| self.rerun(t))
        };
        if let Err(e) = loaded {
            self.stop_run(e, false);
        }
        if self.failed.load(Ordering::SeqCst) {
            self.store.release_all();
            let error = lock(&self.error).take();
            return Err(error.unwrap_or_else(|| Error::internal("a run failed without an error")));
        }
        let outputs = plan::collect_outputs(&self.graph, |id| self.store.get(id));
        self.store.release_all();
        let (peak_values, peak_bytes) = self.store.meter().peaks();
        let (spilled_values, spilled_bytes, dropped_values) = self.store.spilled();
        let elapsed = self.started.elapsed();
        let stats = RunStats {
            tasks_run,
            peak_values,
            peak_bytes,
            elapsed,
            threads,
            spilled_values,
            spilled_bytes,
            dropped_values,
        };
        Ok(RunOutput { outputs: outputs?, stats })
    }

    /// Computes source task `t` again, for a reader of its dropped value.
    fn rerun(&self, t: TaskId) -> Result<Value> {
        self.runner.compute(&self.graph, t, &mut Vec::new())
    }

    /// Reads task `id`'s inputs into `inputs`, in dependency order. The last reader of a
    /// value moves it out of its slot, so `inputs` then holds the only reference; `released`
    /// counts those values and their bytes.
    fn gather(&self, id: TaskId, inputs: &mut Vec<Value>, released: &mut (usize, usize)) -> Result<()> {
        for &d in self.graph.deps(id) {
            let Read { value, release } = self.store.read(&self.graph, id, d, |t| self.rerun(t))?;
            if release {
                released.0 += 1;
                released.1 += value.nbytes();
            }
            inputs.push(value);
        }
        Ok(())
    }

    /// Counts task `id` as done for each of its dependents; those with no dependency left
    /// go into `ready`.
    fn collect_ready(&self, id: TaskId, ready: &mut Vec<u32>) {
        ready.clear();
        for &d in self.store.dependents(id) {
            if self.deps_left[d.idx()].fetch_sub(1, Ordering::AcqRel) == 1 {
                ready.push(d.0);
            }
        }
    }

    /// Records `tasks` tasks (one, or a linear chain) as done, queues `ready` and picks this
    /// thread's next task: its smallest claimed root, or the smallest ready task.
    fn complete(&self, role: Role, ready: &[u32], claimed: &mut VecDeque<u32>, tasks: usize) -> Step {
        // Under memory pressure a helper leaves after its task: the run goes on one at a time.
        let paused = role == Role::Helper && self.store.paused();
        if !paused && let Some(next) = self.next_without_lock(ready, claimed) {
            // This thread holds a task, so the run is not over: nobody needs waking.
            self.finished.fetch_add(tasks, Ordering::SeqCst);
            return Step { next: Some(next), want_helper: false };
        }
        let mut q = lock(&self.queue);
        self.finished.fetch_add(tasks, Ordering::SeqCst);
        q.heap.push(ready, &self.front);
        let next = if self.failed.load(Ordering::SeqCst) {
            claimed.clear();
            None
        } else if paused {
            // A leaving helper's claimed roots go back to the run.
            q.heap.push(claimed.make_contiguous(), &self.front);
            claimed.clear();
            None
        } else {
            match claimed.front() {
                Some(&c) if c < self.front.heap_first() => claimed.pop_front(),
                _ => q.heap.pop(&self.front),
            }
        };
        if next.is_none() && role == Role::Helper {
            q.active -= 1;
        }
        let (want_helper, wake_caller) = self.after_change(&mut q);
        drop(q);
        self.wake_caller_if(wake_caller);
        Step { next, want_helper }
    }

    /// This thread's next task when it can be had without the queue lock: the one task its
    /// last task made ready, if it comes before every other ready task, or else, when it made
    /// none ready, the next root if it comes first (`ready.rs`).
    fn next_without_lock(&self, ready: &[u32], claimed: &mut VecDeque<u32>) -> Option<u32> {
        if self.failed.load(Ordering::SeqCst) {
            return None;
        }
        match ready {
            [] => {
                if claimed.is_empty() {
                    self.front.claim_roots(self.root_batch(), claimed);
                }
                match claimed.front() {
                    Some(&c) if c < self.front.heap_first() => claimed.pop_front(),
                    _ => None,
                }
            }
            &[t] if t < self.front.first() && claimed.front().is_none_or(|&c| t < c) => Some(t),
            _ => None,
        }
    }

    /// How many roots a thread claims at once: one while few are left, so that threads
    /// share the last ones out evenly and priorities stay exact, up to [`MAX_ROOT_BATCH`]
    /// while there are many per thread.
    fn root_batch(&self) -> usize {
        (self.front.roots_left() / (8 * self.max_threads)).clamp(1, MAX_ROOT_BATCH)
    }

    /// A thread stops working on the failed run: a helper leaves it.
    fn stop(&self, role: Role) -> Step {
        if role == Role::Helper {
            lock(&self.queue).active -= 1;
        }
        Step::NONE
    }

    /// After any change to the queue (its lock held): publishes the ready count and decides
    /// whom to wake. The sleeping caller is woken for a spare ready task or the end of the
    /// run; a pool worker is wanted for spare tasks beyond that while the run has room.
    /// Returns (want a helper, wake the caller); the waking happens after the unlock.
    fn after_change(&self, q: &mut MutexGuard<'_, Queue>) -> (bool, bool) {
        let mut spare = q.heap.len(&self.front);
        self.ready_hint.store(spare, Ordering::SeqCst);
        let over = self.failed.load(Ordering::SeqCst) || self.finished.load(Ordering::SeqCst) == self.graph.len();
        let wake_caller = q.caller_waiting && (spare > 0 || over);
        if wake_caller {
            q.caller_waiting = false;
            spare -= spare.min(1);
        }
        (spare > 0 && q.active < self.max_threads && !over && !self.store.paused(), wake_caller)
    }

    fn wake_caller_if(&self, wake: bool) {
        if wake {
            self.caller_wake.notify_one();
        }
    }
}

impl Cancellable for Job {
    /// Fails the run with [`Error::Cancelled`] (unless it failed already): from the
    /// cancelling thread, which does not work on the run.
    fn cancel(&self) {
        self.stop_run(Error::Cancelled, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{self, count_runner, expected_outputs, output_u64};

    fn job(graph: TaskGraph, runner: Runner, max_threads: usize) -> Job {
        let store = Store::new(&graph, None).unwrap();
        Job::new(Arc::new(graph), runner, max_threads, Instant::now(), Callbacks::new(), store)
    }

    /// Runs `job` on this thread as its caller, as `pool::run` does without helpers.
    fn run_as_caller(job: &Job) -> Result<RunOutput> {
        let mut bufs = Buffers::default();
        loop {
            let mut next = job.next_for_caller().next;
            if next.is_none() {
                return job.finish_run();
            }
            while let Some(t) = next {
                next = job.run_and_finish(t, Role::Caller, &mut bufs).next;
            }
        }
    }

    #[test]
    fn a_caller_alone_finishes_its_run_and_releases_everything() {
        let graph = synthetic::block_sums(100, 4);
        let expected = expected_outputs(&graph);
        let job = job(graph, Runner::Borrowing(count_runner()), 4);
        let out = run_as_caller(&job).unwrap();
        assert_eq!(output_u64(&out), expected);
        assert_eq!(out.stats.threads, 1);
        assert_eq!(job.store.meter().held(), (0, 0));
    }

    #[test]
    fn a_failed_run_holds_nothing() {
        let count = count_runner();
        let runner = Runner::Borrowing(Arc::new(
            move |g: &TaskGraph, id: TaskId, inputs: &[Value]| {
                if id.0 == 50 { Err("no".into()) } else { count(g, id, inputs) }
            },
        ));
        let job = job(synthetic::wide(100, 100), runner, 2);
        let err = run_as_caller(&job).unwrap_err();
        assert!(matches!(err, Error::TaskFailed { .. }), "{err}");
        assert_eq!(job.store.meter().held(), (0, 0));
        assert!(job.try_join().is_none(), "no one joins a failed run");
    }

    #[test]
    fn helpers_join_only_while_there_is_room_and_work() {
        let job = job(synthetic::wide(10, 10), Runner::Borrowing(count_runner()), 2);
        let first = job.try_join().unwrap();
        assert_eq!(first, Step { next: Some(0), want_helper: false }, "the run is full with its caller");
        assert!(job.try_join().is_none());
        // The helper, alone, runs every task, leaves, and the caller finds the run over.
        let mut bufs = Buffers::default();
        let mut next = first.next;
        while let Some(t) = next {
            next = job.run_and_finish(t, Role::Helper, &mut bufs).next;
        }
        assert!(job.try_join().is_none(), "nothing left to join for");
        let out = run_as_caller(&job).unwrap();
        assert_eq!(out.stats.tasks_run, 12);
        assert_eq!(out.stats.threads, 2);
        assert_eq!(lock(&job.queue).active, 1, "the helper left");
    }
}
