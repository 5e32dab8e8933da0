//! `kiln::config`: how computations run (scheduler, threads, reduction fan-in, which passes
//! run), set globally, per call, or by environment variables (`KILN_SCHEDULER=sync|threads`,
//! `KILN_THREADS=n`, `KILN_OPTIMIZE=0|1`, `KILN_SPLIT_EVERY=n`).

use std::sync::RwLock;

pub use kiln_runtime::Scheduler;

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
        }
    }
}

impl Config {
    /// The defaults, overridden by `KILN_*` environment variables.
    pub fn from_env() -> Result<Config> {
        let mut cfg = Config { scheduler: Scheduler::from_env()?, ..Config::default() };
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if let Some(v) = var("KILN_OPTIMIZE") {
            cfg.optimize = match v.trim() {
                "0" | "false" | "off" | "no" => false,
                "1" | "true" | "on" | "yes" => true,
                other => return Err(Error::Config(format!("KILN_OPTIMIZE={other:?}: expected 0 or 1"))),
            };
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

    /// The same settings with pass `name` switched off.
    pub fn without_pass(mut self, name: &str) -> Config {
        self.disabled_passes.push(name.to_string());
        self
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
    }

    #[test]
    fn unoptimized_runs_disable_cull() {
        let opts = Config::default().with_optimize(false).pass_options();
        assert!(opts.disabled.contains(&"cull".to_string()));
        assert!(!opts.optimize);
    }
}
