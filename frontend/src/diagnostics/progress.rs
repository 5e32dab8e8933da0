//! The progress bar: a task callback that draws an indicatif bar on stderr for computes that
//! run longer than about a second, when stderr is a terminal and the config allows it.
//!
//! Tasks only bump an atomic counter; a ticker thread started with the run wakes ten times a
//! second, shows the bar once the run is old enough, and moves it. The ticker is stopped
//! and joined when the run ends, so a compute never leaves a thread or a half-drawn bar
//! behind.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressDrawTarget, ProgressStyle};
use kiln_runtime::{RunEvent, RunStats, TaskCallback, TaskEvent};

/// How long a compute runs before its bar appears.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// How often the ticker moves the bar.
const TICK: Duration = Duration::from_millis(100);

/// The bar's look, in indicatif's template language.
const TEMPLATE: &str = "[{elapsed_precise}] [{wide_bar}] {pos}/{len} tasks ({percent}%) eta {eta}";

/// Whether a compute registers a progress bar at all: the config allows it (`progress`,
/// `KILN_PROGRESS`) and stderr is an interactive terminal (never in pipes, files or CI logs).
pub fn wanted(enabled: bool, stderr_is_terminal: bool) -> bool {
    enabled && stderr_is_terminal
}

/// Whether stderr is an interactive terminal.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Whether a registered bar is drawn now: the run has gone on for at least `delay` and has
/// not finished. Short computes never flash a bar.
pub fn visible(elapsed: Duration, delay: Duration, finished: bool) -> bool {
    !finished && elapsed >= delay
}

/// A task callback that shows a progress bar (tasks done out of the graph's tasks) once a
/// run has gone on for [`SHOW_AFTER`]. Computes register one themselves when
/// [`wanted`]; register one by hand (with [`Config::with_callback`](crate::Config::with_callback))
/// to choose another delay or to draw it nowhere (in tests).
pub struct ProgressBar {
    shared: Arc<Shared>,
    delay: Duration,
    draw_to_stderr: bool,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

/// What tasks and the ticker share.
#[derive(Default)]
struct Shared {
    done: AtomicUsize,
    total: AtomicUsize,
    shown: AtomicBool,
    state: Mutex<TickerState>,
    wake: Condvar,
}

/// The ticker's orders.
#[derive(Default)]
struct TickerState {
    stop: bool,
    failed: bool,
}

impl Default for ProgressBar {
    fn default() -> ProgressBar {
        ProgressBar::new()
    }
}

impl ProgressBar {
    /// A bar on stderr, shown after [`SHOW_AFTER`].
    pub fn new() -> ProgressBar {
        ProgressBar { shared: Arc::default(), delay: SHOW_AFTER, draw_to_stderr: true, ticker: Mutex::new(None) }
    }

    /// The same bar, shown after `delay` instead.
    pub fn with_delay(mut self, delay: Duration) -> ProgressBar {
        self.delay = delay;
        self
    }

    /// The same bar, drawn nowhere: it still counts and decides when it would be shown
    /// (for tests and for callers that only want [`ProgressBar::done`]).
    pub fn hidden(mut self) -> ProgressBar {
        self.draw_to_stderr = false;
        self
    }

    /// Tasks finished in the current (or last) run.
    pub fn done(&self) -> usize {
        self.shared.done.load(Ordering::Relaxed)
    }

    /// Tasks in the current (or last) run's graph.
    pub fn total(&self) -> usize {
        self.shared.total.load(Ordering::Relaxed)
    }

    /// Whether the bar has been shown in the current (or last) run.
    pub fn shown(&self) -> bool {
        self.shared.shown.load(Ordering::Relaxed)
    }

    /// Stops the ticker (if one runs) and waits for it to draw its last frame.
    fn stop_ticker(&self, failed: bool) {
        {
            let mut state = lock(&self.shared.state);
            state.stop = true;
            state.failed = failed;
        }
        self.shared.wake.notify_all();
        if let Some(handle) = lock(&self.ticker).take() {
            let _ = handle.join();
        }
    }
}

impl TaskCallback for ProgressBar {
    fn run_start(&self, run: &RunEvent<'_>) {
        self.stop_ticker(false);
        let shared = &self.shared;
        shared.done.store(0, Ordering::Relaxed);
        shared.total.store(run.graph.len(), Ordering::Relaxed);
        shared.shown.store(false, Ordering::Relaxed);
        *lock(&shared.state) = TickerState::default();
        let (shared, delay, draw, started) = (shared.clone(), self.delay, self.draw_to_stderr, run.started);
        let spawned =
            std::thread::Builder::new().name("kiln-progress".into()).spawn(move || tick(&shared, delay, draw, started));
        // Without a ticker (no thread could be started) the run goes on with no bar.
        *lock(&self.ticker) = spawned.ok();
    }

    fn task_finish(&self, _task: &TaskEvent<'_>) {
        self.shared.done.fetch_add(1, Ordering::Relaxed);
    }

    fn run_end(&self, _run: &RunEvent<'_>, outcome: Result<&RunStats, &kiln_runtime::Error>) {
        self.stop_ticker(outcome.is_err());
    }
}

impl Drop for ProgressBar {
    fn drop(&mut self) {
        // A run whose `run_end` never came (a later callback panicked in `run_start`).
        self.stop_ticker(true);
    }
}

/// The ticker: waits until the bar is due, then moves it every [`TICK`] until told to stop.
fn tick(shared: &Shared, delay: Duration, draw_to_stderr: bool, started: Instant) {
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut state = lock(&shared.state);
    loop {
        if state.stop {
            break;
        }
        if bar.is_none() && visible(started.elapsed(), delay, false) {
            let target = if draw_to_stderr { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
            let style = ProgressStyle::with_template(TEMPLATE)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("#>-");
            let b = indicatif::ProgressBar::with_draw_target(Some(shared.total.load(Ordering::Relaxed) as u64), target)
                .with_style(style)
                .with_elapsed(started.elapsed());
            bar = Some(b);
            shared.shown.store(true, Ordering::Relaxed);
        }
        if let Some(b) = &bar {
            b.set_position(shared.done.load(Ordering::Relaxed) as u64);
        }
        // Before the bar shows, wake when it is due rather than on the next tick.
        let wait = match bar {
            Some(_) => TICK,
            None => delay.saturating_sub(started.elapsed()).clamp(Duration::from_millis(1), TICK),
        };
        state = shared.wake.wait_timeout(state, wait).unwrap_or_else(|e| e.into_inner()).0;
    }
    let failed = state.failed;
    drop(state);
    if let Some(b) = bar {
        b.set_position(shared.done.load(Ordering::Relaxed) as u64);
        if failed { b.abandon() } else { b.finish() }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions() {
        assert!(wanted(true, true));
        assert!(!wanted(false, true) && !wanted(true, false));
        assert!(!visible(Duration::from_millis(999), SHOW_AFTER, false));
        assert!(visible(Duration::from_millis(1000), SHOW_AFTER, false));
        assert!(!visible(Duration::from_secs(5), SHOW_AFTER, true));
    }

    #[test]
    fn a_bar_with_no_run_stops_cleanly() {
        let bar = ProgressBar::new().hidden().with_delay(Duration::ZERO);
        assert_eq!((bar.done(), bar.total(), bar.shown()), (0, 0, false));
        drop(bar);
    }
}
