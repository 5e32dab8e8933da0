//! Run options: which scheduler runs a graph (and how to read it from the environment:
//! `KILN_SCHEDULER=sync|threads`, `KILN_THREADS=n`), the task callbacks and the cancel token.

use crate::callback::{Callbacks, TaskCallback};
use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::loom::Arc;
use crate::memory::MemoryBudget;

/// Where tasks run.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Scheduler {
    /// On the calling thread, in priority order: deterministic, for debugging.
    Sync,
    /// On this many threads (the calling thread included).
    Threads(usize),
}

impl Scheduler {
    /// The threads a run may use: 1 for `Sync`, `n` (at least 1) for `Threads(n)`.
    pub fn threads(self) -> usize {
        match self {
            Scheduler::Sync => 1,
            Scheduler::Threads(n) => n.max(1),
        }
    }

    /// The number of threads the machine can run at once (1 when it cannot tell).
    pub fn available_threads() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// The scheduler the environment asks for: `KILN_SCHEDULER` (`sync` or `threads`) and
    /// `KILN_THREADS` (a positive number; alone it implies `threads`). Unset variables give
    /// the default, `Threads(available_threads())`.
    pub fn from_env() -> Result<Scheduler> {
        let var = |name: &str| std::env::var(name).ok();
        Scheduler::parse(var("KILN_SCHEDULER").as_deref(), var("KILN_THREADS").as_deref())
    }

    /// The scheduler named by the values of `KILN_SCHEDULER` and `KILN_THREADS` (see
    /// [`Scheduler::from_env`]); blank values count as unset.
    pub fn parse(scheduler: Option<&str>, threads: Option<&str>) -> Result<Scheduler> {
        let threads = match threads.map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => match t.parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(invalid("KILN_THREADS", t, "a positive number of threads")),
            },
        };
        let name = scheduler.map(str::trim).unwrap_or("");
        match name.to_ascii_lowercase().as_str() {
            "sync" => Ok(Scheduler::Sync),
            "" | "threads" => Ok(Scheduler::Threads(threads.unwrap_or_else(Scheduler::available_threads))),
            _ => Err(invalid("KILN_SCHEDULER", name, "`sync` or `threads`")),
        }
    }
}

impl Default for Scheduler {
    /// `Threads(available_threads())`.
    fn default() -> Scheduler {
        Scheduler::Threads(Scheduler::available_threads())
    }
}

fn invalid(name: &str, value: &str, expected: &str) -> Error {
    Error::InvalidOption { name: name.into(), value: value.into(), expected: expected.into() }
}

/// Options of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOptions {
    /// Where tasks run.
    pub scheduler: Scheduler,
    /// Hooks called around the run and each task (none by default: then they cost nothing).
    pub callbacks: Callbacks,
    /// Stops the run when cancelled from another thread.
    pub cancel: Option<CancelToken>,
    /// How much memory the run's values may take before it spills them to disk (`None`: no
    /// limit). Default: [`MemoryBudget::system_default`].
    pub memory: Option<MemoryBudget>,
}

impl Default for RunOptions {
    /// All cores, no callback, no cancel token, the system's default memory budget.
    fn default() -> RunOptions {
        RunOptions {
            scheduler: Scheduler::default(),
            callbacks: Callbacks::default(),
            cancel: None,
            memory: Some(MemoryBudget::system_default()),
        }
    }
}

impl RunOptions {
    /// Options that run on `scheduler`, with no callback and no cancel token.
    pub fn new(scheduler: Scheduler) -> RunOptions {
        RunOptions { scheduler, ..RunOptions::default() }
    }

    /// The options the environment asks for (see [`Scheduler::from_env`] and
    /// [`MemoryBudget::from_env`]).
    pub fn from_env() -> Result<RunOptions> {
        Ok(RunOptions { memory: MemoryBudget::from_env()?, ..RunOptions::new(Scheduler::from_env()?) })
    }

    /// The same options under `budget` (`None`: no limit).
    pub fn with_memory(mut self, budget: Option<MemoryBudget>) -> RunOptions {
        self.memory = budget;
        self
    }

    /// The same options with `callback` called after those already registered.
    pub fn with_callback(mut self, callback: impl TaskCallback + 'static) -> RunOptions {
        self.callbacks.push(Arc::new(callback));
        self
    }

    /// The same options, cancelled by `token`.
    pub fn with_cancel(mut self, token: CancelToken) -> RunOptions {
        self.cancel = Some(token);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(scheduler: Option<&str>, threads: Option<&str>, expected: Result<Scheduler, &str>) {
        let res = Scheduler::parse(scheduler, threads).map_err(|e| e.to_string());
        assert_eq!(res, expected.map_err(str::to_string), "KILN_SCHEDULER={scheduler:?} KILN_THREADS={threads:?}");
    }

    #[test]
    fn environment_values() {
        let all = Scheduler::available_threads();
        check(None, None, Ok(Scheduler::Threads(all)));
        check(Some("sync"), None, Ok(Scheduler::Sync));
        check(Some(" SYNC "), Some("8"), Ok(Scheduler::Sync));
        check(Some("threads"), None, Ok(Scheduler::Threads(all)));
        check(Some("threads"), Some("3"), Ok(Scheduler::Threads(3)));
        check(None, Some("2"), Ok(Scheduler::Threads(2)));
        check(Some(""), Some(" "), Ok(Scheduler::Threads(all)));
        check(Some("dask"), None, Err("invalid KILN_SCHEDULER=\"dask\": expected `sync` or `threads`"));
        check(None, Some("0"), Err("invalid KILN_THREADS=\"0\": expected a positive number of threads"));
        check(
            Some("threads"),
            Some("many"),
            Err("invalid KILN_THREADS=\"many\": expected a positive number of threads"),
        );
    }

    #[test]
    fn thread_counts() {
        assert_eq!(Scheduler::Sync.threads(), 1);
        assert_eq!(Scheduler::Threads(0).threads(), 1);
        assert_eq!(Scheduler::Threads(6).threads(), 6);
        assert_eq!(RunOptions::default().scheduler, Scheduler::default());
    }
}
