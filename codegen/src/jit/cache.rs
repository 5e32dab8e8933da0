//! The process-wide cache of compiled kernels, keyed by the kernel's structural token and
//! the row stride class of each input. Safe from every worker thread: the map's lock is
//! held only to find or insert a kernel's slot; the compilation itself runs under the
//! slot's own once-cell, so threads compiling different kernels never wait for each other
//! and a kernel is compiled once. Failed compilations are cached too (the caller falls
//! back to the interpreter without retrying).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use kiln_ir::{Inst, Kernel, Token};

use crate::error::{Error, Result};
use crate::jit::analysis::Stride;
use crate::jit::compile::{RowFn, compile};
use crate::jit::fills::{self, Fill};
use crate::jit::host::{LinspaceParams, RandomParams};
use crate::random::RandomStream;

/// A kernel compiled for one layout, with the host parameters its code points to.
pub(crate) struct Compiled {
    /// The row function (absent for a float sum along rows: see `compile::Native`).
    pub(crate) f: Option<RowFn>,
    /// The pairwise-sum leaf (float `sum` and `mean` kernels).
    pub(crate) leaf: Option<RowFn>,
    /// The wrapping `i64` sum of a row piece (`sum` of integers and `bool`s).
    pub(crate) int_sum: Option<RowFn>,
    /// The `min` or `max` of a row piece (vectorized float kernels).
    pub(crate) extreme: Option<RowFn>,
    /// Whether the kernel runs at the memory's speed (see `compile::Native`).
    pub(crate) memory_bound: bool,
    /// Whether the compiled fold asks for the next row itself (`compile::hints_next_row`).
    pub(crate) hints_next_row: bool,
    /// The random sources' parameters (owned here; `aux` holds their addresses, which the
    /// boxes keep stable while the vectors grow).
    #[allow(clippy::vec_box)]
    _randoms: Vec<Box<RandomParams>>,
    /// The linspace sources' parameters (boxed likewise).
    #[allow(clippy::vec_box)]
    _linspaces: Vec<Box<LinspaceParams>>,
    /// The address of each aux slot's parameters, as the row function reads them.
    pub(crate) aux: Vec<usize>,
    /// The buffers host code fills before each call (`jit::fills`).
    pub(crate) fills: Vec<Fill>,
    /// The functions computing fill arguments.
    pub(crate) prefixes: Vec<RowFn>,
    /// The size in bytes of an element the map function stores.
    pub(crate) out_size: usize,
    /// The input the kernel's value is a plain load of, read with unit stride: reductions
    /// fold it in place instead of copying it through the map function.
    pub(crate) direct: Option<usize>,
}

type Slot = Arc<OnceLock<std::result::Result<Arc<Compiled>, String>>>;

/// What the cache has done.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Kernels compiled (one per kernel and layout).
    pub compiled: u64,
    /// Of those, the kernels with values host code fills (`jit::fills`: transcendentals,
    /// random numbers, `linspace`).
    pub filled: u64,
    /// Calls that found their kernel compiled already.
    pub hits: u64,
    /// Compilations that failed (those calls ran on the interpreter).
    pub failures: u64,
    /// Calls run by the JIT.
    pub runs: u64,
    /// Calls the JIT declined (disabled or unsupported), run by the interpreter.
    pub fallbacks: u64,
    /// Pairs of mirrored blocks whose sums were computed in one pass over their shared
    /// input blocks (`TaskKind::ReducePair`, `jit::pair`).
    pub one_pass_pairs: u64,
    /// Total wall time spent compiling.
    pub compile_time: Duration,
}

static COMPILED: AtomicU64 = AtomicU64::new(0);
static FILLED: AtomicU64 = AtomicU64::new(0);
static HITS: AtomicU64 = AtomicU64::new(0);
static FAILURES: AtomicU64 = AtomicU64::new(0);
static RUNS: AtomicU64 = AtomicU64::new(0);
static FALLBACKS: AtomicU64 = AtomicU64::new(0);
static COMPILE_NANOS: AtomicU64 = AtomicU64::new(0);
static ONE_PASS_PAIRS: AtomicU64 = AtomicU64::new(0);

/// The counters so far (process-wide).
pub fn stats() -> JitStats {
    JitStats {
        compiled: COMPILED.load(Ordering::Relaxed),
        filled: FILLED.load(Ordering::Relaxed),
        hits: HITS.load(Ordering::Relaxed),
        failures: FAILURES.load(Ordering::Relaxed),
        runs: RUNS.load(Ordering::Relaxed),
        fallbacks: FALLBACKS.load(Ordering::Relaxed),
        one_pass_pairs: ONE_PASS_PAIRS.load(Ordering::Relaxed),
        compile_time: Duration::from_nanos(COMPILE_NANOS.load(Ordering::Relaxed)),
    }
}

/// Counts a call run by the JIT.
pub(crate) fn count_run() {
    RUNS.fetch_add(1, Ordering::Relaxed);
}

/// Counts a pair of blocks summed in one pass.
pub(crate) fn count_one_pass_pair() {
    ONE_PASS_PAIRS.fetch_add(1, Ordering::Relaxed);
}

/// Counts a call handed to the interpreter.
pub(crate) fn count_fallback() {
    FALLBACKS.fetch_add(1, Ordering::Relaxed);
}

/// A kernel, its inputs' row stride classes, and whether it is planned with fills.
type Key = (Token, Vec<Stride>, bool);

fn slots() -> &'static Mutex<HashMap<Key, Slot>> {
    static SLOTS: OnceLock<Mutex<HashMap<Key, Slot>>> = OnceLock::new();
    SLOTS.get_or_init(Default::default)
}

/// The compiled form of `kernel` (verified) for inputs read along rows with `strides`,
/// compiling it on first use.
pub(crate) fn get(kernel: &Kernel, strides: &[Stride]) -> Result<Arc<Compiled>> {
    let key = (kernel.token(), strides.to_vec(), fills::batching());
    let slot = {
        let mut map = slots().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(key).or_default().clone()
    };
    let mut fresh = false;
    let done = slot.get_or_init(|| {
        fresh = true;
        build(kernel, strides).map(Arc::new).map_err(|e| e.to_string())
    });
    match done {
        Ok(c) => {
            if !fresh {
                HITS.fetch_add(1, Ordering::Relaxed);
            }
            Ok(c.clone())
        }
        Err(e) => {
            if fresh {
                FAILURES.fetch_add(1, Ordering::Relaxed);
            }
            Err(Error::Unsupported(e.clone()))
        }
    }
}

fn build(kernel: &Kernel, strides: &[Stride]) -> Result<Compiled> {
    let dtypes = kernel.dtypes().map_err(|e| Error::Internal(format!("jit: {e}")))?;
    let (native, a) = compile(kernel, dtypes, strides)?;
    COMPILED.fetch_add(1, Ordering::Relaxed);
    if !native.fills.is_empty() {
        FILLED.fetch_add(1, Ordering::Relaxed);
    }
    COMPILE_NANOS.fetch_add(native.compile_time.as_nanos() as u64, Ordering::Relaxed);
    let mut randoms = Vec::new();
    let mut linspaces = Vec::new();
    let mut aux = Vec::new();
    for inst in &kernel.body {
        match inst {
            Inst::Random { dist, seed, .. } => {
                let p = Box::new(RandomParams { stream: RandomStream::new(*seed), dist: *dist });
                aux.push(&*p as *const RandomParams as usize);
                randoms.push(p);
            }
            Inst::Linspace { start, stop, num, endpoint, .. } => {
                let p = Box::new(LinspaceParams::new(start.0, stop.0, *num, *endpoint));
                aux.push(&*p as *const LinspaceParams as usize);
                linspaces.push(p);
            }
            _ => {}
        }
    }
    Ok(Compiled {
        f: native.f,
        leaf: native.leaf,
        int_sum: native.int_sum,
        extreme: native.extreme,
        memory_bound: native.memory_bound,
        hints_next_row: native.hints_next_row,
        _randoms: randoms,
        _linspaces: linspaces,
        aux,
        fills: native.fills,
        prefixes: native.prefixes,
        out_size: a.dtypes[a.result.idx()].size(),
        direct: match kernel.body.get(a.result.idx()) {
            Some(&Inst::Load(k)) if strides.get(k as usize) == Some(&Stride::One) => Some(k as usize),
            _ => None,
        },
    })
}
