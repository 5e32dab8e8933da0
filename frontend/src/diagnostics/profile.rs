//! `Profile`: a task callback that records when, where and how each task ran (start and end
//! relative to the first run it saw, thread, bytes produced, op and key), and writes the
//! recording as a Chrome trace (for chrome://tracing and Perfetto) or as a self-contained
//! HTML task-stream page (see `profile_html.rs`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kiln_ir::TaskId;
use kiln_runtime::{RunEvent, RunStats, TaskCallback, TaskEvent};

use super::json;

/// One task as a [`Profile`] saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskRecord {
    /// Which of the profile's runs it belongs to (0 for the first).
    pub run: usize,
    /// The task's id in its run's graph.
    pub id: TaskId,
    /// Its key, Dask style (`add-1a2b3c4d(0, 1)`).
    pub key: String,
    /// The op it runs (`add`, `sum`, `fused`, ...).
    pub op: &'static str,
    /// The thread that ran it: 0 is the thread that called `compute`, `k` ≥ 1 is pool
    /// worker `k - 1`.
    pub thread: usize,
    /// When it started, since the profile's first run started.
    pub start: Duration,
    /// When it finished, on the same clock.
    pub end: Duration,
    /// Bytes of the value it produced (0 when it failed).
    pub bytes: usize,
    /// Whether it failed.
    pub failed: bool,
}

impl TaskRecord {
    /// How long it ran.
    pub fn duration(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }
}

/// One run as a [`Profile`] saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// When it started, since the profile's first run started.
    pub start: Duration,
    /// When it ended (`None` while it runs).
    pub end: Option<Duration>,
    /// The most threads it could use.
    pub threads: usize,
    /// Tasks in its graph.
    pub tasks: usize,
    /// Its error, if it failed.
    pub error: Option<String>,
}

/// A recorder of task timings: plug it into a compute with
/// [`Config::with_callback`](crate::Config::with_callback), then read [`Profile::tasks`] or
/// write a Chrome trace or an HTML task stream. Clones share one recording, so keep a clone
/// and give the other to the config; every compute run with it adds to the same timeline.
///
/// ```no_run
/// use kiln_frontend::array as ka;
/// use kiln_frontend::{Config, diagnostics::Profile};
///
/// let prof = Profile::new();
/// let x = ka::random::uniform([4_000, 4_000], [1_000, 1_000], 0);
/// x.sum().compute_with(&Config::default().with_callback(prof.clone()))?;
/// prof.write_html("profile.html")?;
/// prof.write_chrome_trace("profile.json")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct Profile {
    inner: Arc<Mutex<Recording>>,
}

#[derive(Default)]
struct Recording {
    /// The start of the first run: time zero of every record.
    epoch: Option<Instant>,
    runs: Vec<RunRecord>,
    /// Which run a graph (by address) belongs to, for the runs seen so far.
    run_of_graph: HashMap<usize, usize>,
    tasks: Vec<TaskRecord>,
}

impl Profile {
    /// An empty recording.
    pub fn new() -> Profile {
        Profile::default()
    }

    /// Every task recorded so far, in the order they finished.
    pub fn tasks(&self) -> Vec<TaskRecord> {
        self.lock().tasks.clone()
    }

    /// Every run recorded so far, in the order they started.
    pub fn runs(&self) -> Vec<RunRecord> {
        self.lock().runs.clone()
    }

    /// Forgets everything recorded; the next run starts a new timeline.
    pub fn clear(&self) {
        *self.lock() = Recording::default();
    }

    /// The recording as Chrome trace event JSON: one complete (`"ph": "X"`) event per task
    /// named by its op, on process 1 and the thread that ran it, with `ts` and `dur` in
    /// microseconds and the key, bytes and run in `args`; metadata events name the threads.
    pub fn to_chrome_trace(&self) -> String {
        let mut out = Vec::new();
        self.write_chrome_trace_to(&mut out).expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("the trace is written from UTF-8 strings")
    }

    /// Writes [`Profile::to_chrome_trace`] to `path` (open it in chrome://tracing or
    /// <https://ui.perfetto.dev>).
    pub fn write_chrome_trace(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let mut w = BufWriter::new(File::create(path)?);
        self.write_chrome_trace_to(&mut w)?;
        w.flush()
    }

    /// Writes the Chrome trace to `w`, a few thousand events at a time.
    pub fn write_chrome_trace_to(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let rec = self.lock();
        let mut threads: Vec<usize> = rec.tasks.iter().map(|t| t.thread).collect();
        threads.sort_unstable();
        threads.dedup();
        let mut buf = String::from("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
        buf.push_str(r#"{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"kiln"}}"#);
        for &t in &threads {
            let _ =
                write!(buf, ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{t},\"args\":{{\"name\":");
            json::push_str(&mut buf, &thread_name(t));
            let _ = write!(
                buf,
                "}}}},\n{{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":{t},\"args\":{{\"sort_index\":{t}}}}}"
            );
        }
        for t in &rec.tasks {
            buf.push_str(",\n{\"name\":");
            json::push_str(&mut buf, t.op);
            let _ = write!(buf, ",\"cat\":\"task\",\"ph\":\"X\",\"pid\":1,\"tid\":{},\"ts\":", t.thread);
            json::push_micros(&mut buf, micros(t.start));
            buf.push_str(",\"dur\":");
            json::push_micros(&mut buf, micros(t.duration()));
            buf.push_str(",\"args\":{\"key\":");
            json::push_str(&mut buf, &t.key);
            let _ = write!(buf, ",\"bytes\":{},\"run\":{},\"task\":{}", t.bytes, t.run, t.id.0);
            if t.failed {
                buf.push_str(",\"failed\":true");
            }
            buf.push_str("}}");
            if buf.len() > 1 << 16 {
                w.write_all(buf.as_bytes())?;
                buf.clear();
            }
        }
        buf.push_str("\n]}\n");
        w.write_all(buf.as_bytes())
    }

    /// The recording as a self-contained HTML page: a task stream with one lane per thread
    /// and a colour per op (hover a task for its key, op, duration and bytes; scroll to zoom,
    /// drag to pan, double-click to reset), a legend with each op's count and time, and the
    /// totals in the title. It loads nothing from the network.
    pub fn to_html(&self) -> String {
        let rec = self.lock();
        super::profile_html::render(&rec.tasks, &rec.runs)
    }

    /// Writes [`Profile::to_html`] to `path`.
    pub fn write_html(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.to_html())
    }

    fn lock(&self) -> MutexGuard<'_, Recording> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rec = self.lock();
        write!(f, "Profile {{ runs: {}, tasks: {} }}", rec.runs.len(), rec.tasks.len())
    }
}

impl TaskCallback for Profile {
    fn run_start(&self, run: &RunEvent<'_>) {
        let mut rec = self.lock();
        let epoch = *rec.epoch.get_or_insert(run.started);
        let index = rec.runs.len();
        rec.runs.push(RunRecord {
            start: run.started.saturating_duration_since(epoch),
            end: None,
            threads: run.threads,
            tasks: run.graph.len(),
            error: None,
        });
        rec.run_of_graph.insert(graph_addr(run), index);
    }

    fn task_finish(&self, task: &TaskEvent<'_>) {
        // Formatting the key is the costly part: it is done before taking the lock.
        let key = task.key();
        let op = task.op();
        let end = task.end.unwrap_or(task.start);
        let mut rec = self.lock();
        let Some(epoch) = rec.epoch else { return };
        let run = rec.run_of_graph.get(&(task.graph as *const _ as usize)).copied().unwrap_or(0);
        rec.tasks.push(TaskRecord {
            run,
            id: task.id,
            key,
            op,
            thread: task.thread,
            start: task.start.saturating_duration_since(epoch),
            end: end.saturating_duration_since(epoch),
            bytes: task.bytes,
            failed: task.failed,
        });
    }

    fn run_end(&self, run: &RunEvent<'_>, outcome: Result<&RunStats, &kiln_runtime::Error>) {
        let mut rec = self.lock();
        let Some(epoch) = rec.epoch else { return };
        let Some(&index) = rec.run_of_graph.get(&graph_addr(run)) else { return };
        let r = &mut rec.runs[index];
        r.end = Some(Instant::now().saturating_duration_since(epoch));
        r.error = outcome.err().map(ToString::to_string);
    }
}

fn graph_addr(run: &RunEvent<'_>) -> usize {
    run.graph as *const _ as usize
}

/// A duration in microseconds, as Chrome traces count time.
fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The name of runtime thread `t` (0 is the caller, `k` ≥ 1 pool worker `k - 1`).
pub(crate) fn thread_name(t: usize) -> String {
    if t == 0 { "caller thread".to_string() } else { format!("worker {}", t - 1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(thread: usize, start_us: u64, end_us: u64, op: &'static str) -> TaskRecord {
        TaskRecord {
            run: 0,
            id: TaskId(0),
            key: format!("{op}-00000000(0,)"),
            op,
            thread,
            start: Duration::from_micros(start_us),
            end: Duration::from_micros(end_us),
            bytes: 8,
            failed: false,
        }
    }

    #[test]
    fn chrome_trace_has_one_complete_event_per_task() {
        let prof = Profile::new();
        {
            let mut rec = prof.lock();
            rec.tasks.push(record(0, 0, 10, "add"));
            rec.tasks.push(record(2, 5, 25, "sum"));
        }
        let trace: serde_json::Value = serde_json::from_str(&prof.to_chrome_trace()).unwrap();
        let events = trace["traceEvents"].as_array().unwrap();
        let complete: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
        assert_eq!(complete.len(), 2);
        assert_eq!(complete[1]["name"], "sum");
        assert_eq!(complete[1]["tid"], 2);
        assert_eq!(complete[1]["ts"], 5.0);
        assert_eq!(complete[1]["dur"], 20.0);
        assert_eq!(complete[1]["args"]["key"], "sum-00000000(0,)");
        assert!(events.iter().any(|e| e["args"]["name"] == "worker 1"));
        assert_eq!(format!("{prof:?}"), "Profile { runs: 0, tasks: 2 }");
        prof.clear();
        assert!(prof.tasks().is_empty());
    }

    #[test]
    fn a_real_compute_gives_a_trace_that_parses_with_an_event_per_task() {
        let prof = Profile::new();
        let x = crate::array::random::uniform([300, 300], [100, 100], 5);
        let cfg = crate::Config::default().with_scheduler(crate::Scheduler::Threads(2)).with_progress(false);
        (&x + 1.0).sum().compute_with(&cfg.with_callback(prof.clone())).unwrap();
        let trace: serde_json::Value = serde_json::from_str(&prof.to_chrome_trace()).unwrap();
        let tasks = prof.tasks();
        let complete: Vec<&serde_json::Value> =
            trace["traceEvents"].as_array().unwrap().iter().filter(|e| e["ph"] == "X").collect();
        assert_eq!(complete.len(), tasks.len());
        let mut threads = std::collections::BTreeSet::new();
        for (e, t) in complete.iter().zip(&tasks) {
            assert_eq!((e["name"].as_str(), e["args"]["key"].as_str()), (Some(t.op), Some(t.key.as_str())));
            assert!(e["dur"].as_f64().unwrap() >= 0.0);
            // Thread 0 is the caller, k + 1 pool worker k (any of the pool's workers may help).
            threads.insert(e["tid"].as_u64().unwrap());
        }
        assert!(threads.len() <= 2, "a Threads(2) run used {threads:?}");
    }
}
