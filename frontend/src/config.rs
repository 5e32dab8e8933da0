//! `kiln::config`: how computations run (scheduler, threads, reduction fan-in, which passes
//! run, task callbacks, cancellation, the progress bar), set globally, per call, or by
//! environment variables (`KILN_SCHEDULER=sync|threads`, `KILN_THREADS=n`,
//! `KILN_OPTIMIZE=0|1`, `KILN_SPLIT_EVERY=n`, `KILN_PROGRESS=0|1`).

use std::sync::RwLock;

pub use kiln_runtime::Scheduler;
use kiln_runtime::{Callbacks, CancelToken, MemoryBudget, RunOptions, TaskCallback};

use crate::diagnostics::progress;
use crate::error::{Error, Result};

/// Settings of a computation.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Where tasks run (default: threads, all cores).
    pub scheduler: Scheduler,
    /// Fan-in of reduction trees (default 8).
    pub split_every: usize,
    /// Whether `compute()` optimizes the expression first (default true, as in Dask).
    pub optimize: bool,
    /// Passes switched off by name (`"cull"`, `"order"`, ...).
    pub disabled_passes: Vec<String>,
    /// Verify invariants after every pass (default: on in debug builds).
    pub verify: bool,
    /// Hooks called around each run and task (see [`Config::with_callback`]).
    pub callbacks: Callbacks,
    /// Stops computations from another thread when cancelled (see [`Config::with_cancel`]).
    pub cancel: Option<CancelToken>,
    /// Whether computes that run over about a second show a progress bar on stderr when it
    /// is a terminal (default true; `KILN_PROGRESS=0` turns it off).
    pub progress: bool,
    /// How much memory a compute's values may take before they are spilled to disk (`None`:
    /// no limit). Default: half the machine's (or the cgroup's) memory; `KILN_MEMORY_LIMIT`
    /// (`512MiB`, `2GB`, `0.25`, `off`) and `KILN_SPILL_DIR` set it.
    pub memory: Option<MemoryBudget>,
}

impl Default for Config {
    /// Built-in defaults, ignoring the environment.
    fn default() -> Self {
        Config {
            scheduler: Scheduler::default(),
            split_every: 8,
            optimize: true,
            disabled_passes: Vec::new(),
            verify: cfg!(debug_assertions),
            callbacks: Callbacks::new(),
            cancel: None,
            progress: true,
            memory: Some(MemoryBudget::system_default()),
        }
    }
}

impl Config {
    /// The defaults, overridden by `KILN_*` environment variables.
    pub fn from_env() -> Result<Config> {
        let memory = MemoryBudget::from_env()?;
        let mut cfg = Config { scheduler: Scheduler::from_env()?, memory, ..Config::default() };
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if let Some(v) = var("KILN_OPTIMIZE") {
            cfg.optimize = parse_switch("KILN_OPTIMIZE", &v)?;
        }
        if let Some(v) = var("KILN_PROGRESS") {
            cfg.progress = parse_switch("KILN_PROGRESS", &v)?;
        }
        if let Some(v) = var("KILN_SPLIT_EVERY") {
            cfg.split_every = parse_positive("KILN_SPLIT_EVERY", &v)?;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// The same settings with another scheduler.
    pub fn with_scheduler(mut self, scheduler: Scheduler) -> Config {
        self.scheduler = scheduler;
        self
    }

    /// The same settings with optimization on or off.
    pub fn with_optimize(mut self, optimize: bool) -> Config {
        self.optimize = optimize;
        self
    }

    /// The same settings with another reduction fan-in.
    pub fn with_split_every(mut self, split_every: usize) -> Config {
        self.split_every = split_every;
        self
    }

    /// The same settings with `callback` called around each run and task, after the
    /// callbacks already registered. Clones of the config share the callback, so one
    /// [`Profile`](crate::diagnostics::Profile) can observe several computes.
    ///
    /// ```
    /// use kiln_frontend::array as ka;
    /// use kiln_frontend::diagnostics::Profile;
    /// use kiln_frontend::Config;
    ///
    /// let prof = Profile::new();
    /// let x = ka::random::uniform([100, 100], [50, 50], 1).sum();
    /// x.compute_with(&Config::default().with_callback(prof.clone()))?;
    /// assert_eq!(prof.tasks().len(), x.task_graph(&Config::default())?.len());
    /// # Ok::<(), kiln_frontend::Error>(())
    /// ```
    pub fn with_callback(mut self, callback: impl TaskCallback + 'static) -> Config {
        self.callbacks.push(std::sync::Arc::new(callback));
        self
    }

    /// The same settings, cancelled by `token`: `token.cancel()` from any thread makes a
    /// running compute return [`Error::Cancelled`] promptly (and later ones at once).
    pub fn with_cancel(mut self, token: CancelToken) -> Config {
        self.cancel = Some(token);
        self
    }

    /// The same settings under the memory budget `memory` (`None`: no limit).
    pub fn with_memory(mut self, memory: Option<MemoryBudget>) -> Config {
        self.memory = memory;
        self
    }

    /// The same settings with the progress bar allowed or not.
    pub fn with_progress(mut self, progress: bool) -> Config {
        self.progress = progress;
        self
    }

    /// The same settings with pass `name` switched off.
    pub fn without_pass(mut self, name: &str) -> Config {
        self.disabled_passes.push(name.to_string());
        self
    }

    /// The runtime's options for these settings: the scheduler, callbacks, cancel token and
    /// memory budget, and a progress bar when `progress` is on and stderr is a terminal
    /// (otherwise none is registered, so runs without callbacks pay nothing for them). Every
    /// compute runs with these; code that runs graphs itself should too.
    pub fn run_options(&self) -> RunOptions {
        let mut opts = RunOptions::new(self.scheduler);
        opts.callbacks = self.callbacks.clone();
        opts.cancel = self.cancel.clone();
        opts.memory = self.memory.clone();
        if progress::wanted(self.progress, progress::stderr_is_terminal()) {
            opts = opts.with_callback(progress::ProgressBar::new());
        }
        opts
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if self.split_every < 2 {
            return Err(Error::Config(format!("split_every must be at least 2, not {}", self.split_every)));
        }
        if self.scheduler == Scheduler::Threads(0) {
            return Err(Error::Config("threads must be at least 1".into()));
        }
        Ok(())
    }

    pub(crate) fn pass_options(&self) -> kiln_passes::PassOptions {
        let mut disabled = self.disabled_passes.clone();
        if !self.optimize {
            // Unoptimized graphs run every lowered task: useful for differential tests.
            disabled.push("cull".into());
        }
        kiln_passes::PassOptions {
            optimize: self.optimize,
            split_every: self.split_every,
            disabled,
            verify: self.verify,
        }
    }
}

fn parse_switch(name: &str, v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "0" | "false" | "off" | "no" => Ok(false),
        "1" | "true" | "on" | "yes" => Ok(true),
        other => Err(Error::Config(format!("{name}={other:?}: expected 0 or 1"))),
    }
}

fn parse_positive(name: &str, v: &str) -> Result<usize> {
    match v.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::Config(format!("{name}={v:?}: expected a positive integer"))),
    }
}

static GLOBAL: RwLock<Option<Config>> = RwLock::new(None);

/// The global settings: whatever [`set`] stored, or else the defaults overridden by the
/// environment (read once).
pub fn get() -> Result<Config> {
    if let Some(c) = GLOBAL.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return Ok(c.clone());
    }
    let cfg = Config::from_env()?;
    *GLOBAL.write().unwrap_or_else(|e| e.into_inner()) = Some(cfg.clone());
    Ok(cfg)
}

/// Replaces the global settings.
pub fn set(cfg: Config) -> Result<()> {
    cfg.validate()?;
    *GLOBAL.write().unwrap_or_else(|e| e.into_inner()) = Some(cfg);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_setting() {
        let err = Config::default().with_split_every(1).validate().unwrap_err();
        assert_eq!(err.to_string(), "invalid configuration: split_every must be at least 2, not 1");
        assert!(parse_positive("KILN_THREADS", "zero").is_err());
        assert_eq!(parse_positive("KILN_THREADS", " 3 ").unwrap(), 3);
        assert!(!parse_switch("KILN_PROGRESS", " 0 ").unwrap());
        assert!(parse_switch("KILN_PROGRESS", "On").unwrap());
        let err = parse_switch("KILN_PROGRESS", "maybe").unwrap_err();
        assert_eq!(err.to_string(), "invalid configuration: KILN_PROGRESS=\"maybe\": expected 0 or 1");
    }

    #[test]
    fn callbacks_and_cancel_tokens_are_shared_by_clones() {
        struct Nothing;
        impl TaskCallback for Nothing {}
        let token = CancelToken::new();
        let cfg = Config::default().with_callback(Nothing).with_cancel(token.clone()).with_progress(false);
        let copy = cfg.clone();
        assert_eq!(copy, cfg);
        assert_eq!(copy.callbacks.len(), 1);
        assert_eq!(copy.cancel.as_ref(), Some(&token));
        assert!(!copy.progress && Config::default().progress);
        assert_ne!(Config::default().with_callback(Nothing), Config::default().with_callback(Nothing));
        let opts = cfg.with_scheduler(Scheduler::Threads(3)).run_options();
        assert_eq!((opts.scheduler, opts.callbacks.len(), opts.cancel), (Scheduler::Threads(3), 1, Some(token)));
    }

    #[test]
    fn unoptimized_runs_disable_cull() {
        let opts = Config::default().with_optimize(false).pass_options();
        assert!(opts.disabled.contains(&"cull".to_string()));
        assert!(!opts.optimize);
    }
}
