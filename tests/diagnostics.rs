//! Diagnostics end to end: task callbacks through `Config`, `Profile` (every task recorded
//! once; Chrome trace and HTML outputs), the progress bar's decisions, GraphViz export of
//! arrays, and cancelling a running compute from another thread.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use kiln::array as ka;
use kiln::diagnostics::{CancelToken, Profile, ProgressBar, RunEvent, RunStats, TaskCallback, TaskEvent, progress};
use kiln::prelude::*;

/// Settings of every test: two threads, no progress bar.
fn cfg() -> Config {
    Config::default().with_scheduler(Scheduler::Threads(2)).with_progress(false)
}

/// A small computation with several ops: a source, elementwise work and a tree reduction.
fn small() -> Array {
    let x = ka::random::uniform([400, 300], [100, 100], 3);
    (&x * 2.0 - 1.0).sum_axis(Axis(0))
}

/// Counts every hook.
#[derive(Default)]
struct Counter {
    runs_started: AtomicUsize,
    runs_ended: AtomicUsize,
    tasks_started: AtomicUsize,
    tasks_finished: AtomicUsize,
}

impl TaskCallback for Counter {
    fn run_start(&self, _: &RunEvent<'_>) {
        self.runs_started.fetch_add(1, Ordering::SeqCst);
    }
    fn task_start(&self, _: &TaskEvent<'_>) {
        self.tasks_started.fetch_add(1, Ordering::SeqCst);
    }
    fn task_finish(&self, _: &TaskEvent<'_>) {
        self.tasks_finished.fetch_add(1, Ordering::SeqCst);
    }
    fn run_end(&self, _: &RunEvent<'_>, outcome: Result<&RunStats, &kiln::runtime::Error>) {
        assert!(outcome.is_ok());
        self.runs_ended.fetch_add(1, Ordering::SeqCst);
    }
}

/// Makes every task last at least `0` (sleeping before it starts).
struct Slow(Duration);

impl TaskCallback for Slow {
    fn task_start(&self, _: &TaskEvent<'_>) {
        std::thread::sleep(self.0);
    }
}

#[test]
fn callbacks_given_to_the_config_see_every_run_and_task() {
    let a = small();
    let n = a.task_graph(&cfg()).unwrap().len();
    let counter = Arc::new(Counter::default());
    let with = cfg().with_callback(counter.clone());
    let expected = a.compute_with(&cfg()).unwrap().into_f64().unwrap();
    assert_eq!(a.compute_with(&with).unwrap().into_f64().unwrap(), expected);
    kiln::compute_with((&a, &a.sum()), &with).unwrap();
    assert_eq!(counter.runs_started.load(Ordering::SeqCst), 2);
    assert_eq!(counter.runs_ended.load(Ordering::SeqCst), 2);
    let started = counter.tasks_started.load(Ordering::SeqCst);
    assert_eq!(started, counter.tasks_finished.load(Ordering::SeqCst));
    assert!(started > 2 * n, "the second run has more tasks: {started} vs {n}");
}

#[test]
fn profile_records_every_task_once_with_sane_times_and_threads() {
    let a = small();
    let graph = a.task_graph(&cfg()).unwrap();
    let prof = Profile::new();
    let t0 = Instant::now();
    a.compute_with(&cfg().with_callback(prof.clone())).unwrap();
    let wall = t0.elapsed();
    let tasks = prof.tasks();
    assert_eq!(tasks.len(), graph.len());
    let ids: HashSet<u32> = tasks.iter().map(|t| t.id.0).collect();
    assert_eq!(ids.len(), graph.len(), "each task once");
    let keys: HashSet<String> = (0..graph.len()).map(|i| graph.key_string(kiln::ir::TaskId(i as u32))).collect();
    assert_eq!(tasks.iter().map(|t| t.key.clone()).collect::<HashSet<_>>(), keys);
    for t in &tasks {
        assert!(t.start <= t.end && t.end <= wall, "{t:?} within the {wall:?} run");
        assert!(!t.failed && t.run == 0);
        assert_eq!(t.op, graph.node_of(t.id).expr.op().name());
        assert_eq!(t.key, graph.key_string(t.id));
    }
    // Thread 0 is the caller, k + 1 pool worker k: any of the pool's workers may help, but
    // no more than two threads work on a Threads(2) run.
    let threads: HashSet<usize> = tasks.iter().map(|t| t.thread).collect();
    assert!(threads.len() <= 2, "{threads:?}");
    assert!(tasks.iter().any(|t| t.bytes > 0));
    let runs = prof.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].threads, runs[0].tasks, runs[0].error.clone()), (2, graph.len(), None));
    assert!(runs[0].end.is_some_and(|end| tasks.iter().all(|t| t.start >= runs[0].start && t.end <= end)));

    // A second compute adds a second run on the same timeline.
    a.sum().compute_with(&cfg().with_callback(prof.clone())).unwrap();
    assert_eq!(prof.runs().len(), 2);
    assert!(prof.tasks().iter().any(|t| t.run == 1));
}

#[test]
fn chrome_trace_has_one_complete_event_per_task() {
    // The trace's JSON is parsed with serde_json in the frontend's unit tests (a JSON crate
    // here would change type inference in the other integration tests); this checks its shape.
    let prof = Profile::new();
    small().compute_with(&cfg().with_callback(prof.clone())).unwrap();
    let dir = temp_dir("trace");
    let path = dir.join("profile.json");
    prof.write_chrome_trace(&path).unwrap();
    let trace = std::fs::read_to_string(&path).unwrap();
    assert!(trace.starts_with("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[") && trace.ends_with("]}\n"));
    let tasks = prof.tasks();
    let complete: Vec<&str> = trace.lines().filter(|l| l.contains("\"ph\":\"X\"")).collect();
    assert_eq!(complete.len(), tasks.len());
    for t in &tasks {
        let key = format!("\"key\":\"{}\"", t.key);
        assert_eq!(complete.iter().filter(|l| l.contains(&key)).count(), 1, "{key}");
    }
    assert!(complete.iter().all(|l| l.contains("\"pid\":1") && l.contains("\"dur\":") && l.contains("\"ts\":")));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn html_task_stream_is_self_contained_and_names_each_op() {
    let prof = Profile::new();
    small().compute_with(&cfg().with_callback(prof.clone())).unwrap();
    let dir = temp_dir("html");
    let path = dir.join("profile.html");
    prof.write_html(&path).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("src=\"http") && !html.contains("<link") && !html.contains("@import"));
    assert!(html.contains("<canvas") && html.contains("<script>"));
    let tasks = prof.tasks();
    assert!(html.contains(&format!("kiln profile: {} tasks", tasks.len())), "the title has the totals");
    for op in tasks.iter().map(|t| t.op).collect::<HashSet<_>>() {
        assert!(html.contains(&format!("</span>{op}</td>")), "the legend lists {op}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn progress_bar_decisions() {
    // Registered only when allowed and stderr is a terminal.
    assert!(progress::wanted(true, true));
    assert!(!progress::wanted(false, true) && !progress::wanted(true, false));
    // Shown only after the delay and never once finished.
    assert!(!progress::visible(Duration::from_millis(200), progress::SHOW_AFTER, false));
    assert!(progress::visible(Duration::from_millis(1200), progress::SHOW_AFTER, false));
    assert!(!progress::visible(Duration::from_millis(1200), progress::SHOW_AFTER, true));
    // Tests never run in a terminal, so computes register no bar of their own.
    if !progress::stderr_is_terminal() {
        small().compute_with(&Config::default().with_progress(true)).unwrap();
    }
}

#[test]
fn a_registered_bar_counts_tasks_and_shows_only_on_long_runs() {
    let a = small();
    let n = a.task_graph(&cfg()).unwrap().len();
    let quick = Arc::new(ProgressBar::new().hidden());
    a.compute_with(&cfg().with_callback(quick.clone())).unwrap();
    assert_eq!((quick.done(), quick.total(), quick.shown()), (n, n, false));

    let slow = Arc::new(ProgressBar::new().hidden().with_delay(Duration::from_millis(20)));
    let with = cfg().with_callback(Slow(Duration::from_millis(5))).with_callback(slow.clone());
    a.compute_with(&with).unwrap();
    assert_eq!((slow.done(), slow.total(), slow.shown()), (n, n, true));
}

#[test]
fn cancelling_from_another_thread_stops_a_long_compute_quickly() {
    // About 2.6 GB of random numbers in 6,400 tasks: seconds of work on two threads.
    let x = ka::random::uniform([40_000, 40_000], [500, 500], 11);
    let long = x.sin().sum();
    let token = CancelToken::new();
    let with = cfg().with_cancel(token.clone());
    let (tx, rx) = mpsc::channel();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        let at = Instant::now();
        token.cancel();
        tx.send(at).unwrap();
    });
    let res = long.compute_with(&with);
    let returned = Instant::now();
    canceller.join().unwrap();
    let cancelled_at = rx.recv().unwrap();
    assert_eq!(res.unwrap_err(), kiln::Error::Cancelled);
    let latency = returned.saturating_duration_since(cancelled_at);
    assert!(latency < Duration::from_millis(200), "returned {latency:?} after cancel()");

    // The token stays cancelled: later computes with it fail at once.
    let t = Instant::now();
    assert_eq!(small().compute_with(&with).unwrap_err(), kiln::Error::Cancelled);
    assert!(t.elapsed() < Duration::from_millis(200));
    assert_eq!(kiln::Error::Cancelled.to_string(), "the computation was cancelled");
    // The runtime is still usable.
    small().compute_with(&cfg()).unwrap();
}

#[test]
fn to_dot_of_a_small_graph() {
    let x = ka::arange(0.0, 8.0, 1.0, [4]);
    let y = (&x * 2.0).sum();
    insta::assert_snapshot!("to_dot_unoptimized", y.to_dot_with(&cfg().with_optimize(false)).unwrap());
    // The optimized graph is one fused map-reduce; its token follows the kernel's encoding, so
    // only its shape is pinned here.
    let optimized = y.to_dot_with(&cfg()).unwrap();
    assert_eq!(optimized.matches(" [label=\"fused-").count(), 3, "{optimized}");
    assert_eq!(optimized.matches(" -> ").count(), 2, "{optimized}");
    insta::assert_snapshot!("expr_dot", y.expr_dot().unwrap());
}

#[test]
fn to_dot_summarises_huge_graphs() {
    let x = ka::random::uniform([20_000, 20_000], [100, 100], 1);
    let dot = (&x + 1.0).sum().to_dot_with(&cfg()).unwrap();
    assert!(dot.contains("exceed the 10000-task limit of to_dot"), "{}", &dot[..dot.len().min(2000)]);
    assert!(dot.lines().count() < 100);
}

/// A fresh directory under the system's temp dir.
fn temp_dir(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("kiln-diagnostics-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
