//! `kiln_frontend::delayed`: lazy calls of ordinary Rust functions, as `dask.delayed`. A
//! [`Delayed<T>`] is a typed handle on a call whose value will be a `T`; calls take plain
//! values, other `Delayed` values or vectors of them as arguments, which builds a task graph;
//! `compute()` runs that graph on kiln's runtime.
//!
//! ```
//! use kiln_frontend::delayed::Delayed;
//!
//! fn load(i: u64) -> Vec<u64> { (0..i).collect() }
//! fn process(data: Vec<u64>) -> u64 { data.iter().sum() }
//! fn summarize(parts: Vec<u64>) -> u64 { parts.iter().sum() }
//!
//! let mut parts = Vec::new();
//! for i in 0..4u64 {
//!     let data = kiln_frontend::delayed!(load(i));
//!     parts.push(kiln_frontend::delayed!(process(data)));
//! }
//! let total: Delayed<u64> = kiln_frontend::delayed!(summarize(parts));
//! assert_eq!(total.compute()?, 0 + 0 + 1 + 3);
//! // The same without the macro: `call(f, args)`, a tuple for several arguments.
//! let again = kiln_frontend::delayed::call(|a: u64, b: u64| a * b, (total.clone(), 10u64));
//! assert_eq!(again.compute()?, 40);
//! # Ok::<(), kiln_frontend::Error>(())
//! ```
//!
//! **Arguments.** Each argument of a call is a plain value (captured, cloned for each run),
//! a `Delayed<A>` (or `&Delayed<A>`) passed to the function as `A`, or a `Vec<Delayed<A>>`
//! (or `&[Delayed<A>]`) passed as `Vec<A>`. Functions take their arguments by value: a value
//! with a single consumer is moved into it, one with several is cloned for all but the last.
//! Values must be [`Data`] (`Clone + Send + Sync + 'static`).
//!
//! **Names and purity.** A call's key is its function's name and a token (`load-1a2b3c4d`).
//! Calls are impure by default: every call is a new task. `delayed!(pure f(a, b))` (or
//! `func(f).pure().call(..)`) makes the token a hash of the name and the arguments (which
//! must then be `Hash`; a `Delayed` hashes as its token), so identical pure calls become one
//! task. Several results computed together ([`compute`]) share the tasks they have in common.
//!
//! **Errors.** A panic or error in a user function makes `compute` return
//! `Err(Error::Run(TaskPanicked { key, .. }))` naming the call's key; the run stops starting
//! new tasks.

pub mod args;
mod array;
mod func;
mod graph;
mod submit;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use kiln_ir::token::StableHasher;
use kiln_ir::{Token, Value};

pub use args::{Args, Data, IntoArg, Many, One, Sink, Source};
pub use array::{from_delayed, from_delayed_chunks};
pub use func::{Func, PureFunc, call, func, value};
pub(crate) use graph::run_roots;
pub use graph::{AnyDelayed, DelayedCollection, compute, compute_with};
pub(crate) use submit::submit_graph;

use crate::config::{self, Config};
use crate::error::Result;

/// A lazy call whose value will be a `T`. Cheap to clone (shared); `Send + Sync`.
pub struct Delayed<T> {
    pub(crate) node: Arc<Node>,
    _t: PhantomData<fn() -> T>,
}

/// One call (or a known value) of a delayed graph.
pub(crate) struct Node {
    /// Identifies the call: unique for impure calls, a hash of name and arguments for pure.
    token: Token,
    /// The function's name.
    name: String,
    /// The calls whose values it reads, in the order of its inputs.
    deps: Vec<Arc<Node>>,
    body: Body,
}

pub(crate) enum Body {
    /// A function of its inputs: `pattern` lists them, a known value or `None` for the next
    /// dependency's value.
    Call { pattern: Vec<Option<Value>>, func: args::CallFn },
    /// A value known already (a plain value or a persisted result).
    Literal(Value),
}

impl Node {
    /// The key: `name-1a2b3c4d`.
    pub(crate) fn key(&self) -> String {
        format!("{}-{}", self.name, self.token.short())
    }

    /// A node holding `value`, the computed value of this one, under the same key.
    pub(crate) fn persisted(&self, value: Value) -> Node {
        Node { token: self.token, name: self.name.clone(), deps: Vec::new(), body: Body::Literal(value) }
    }

    /// Computes the node from its dependencies' values (in order), which it may move out of.
    pub(crate) fn run(&self, deps: &mut Vec<Value>) -> Result<Value, kiln_runtime::BoxError> {
        match &self.body {
            Body::Literal(v) => Ok(v.clone()),
            Body::Call { pattern, func } => {
                let mut from_deps = deps.drain(..);
                let mut values = Vec::with_capacity(pattern.len());
                for p in pattern {
                    match p {
                        Some(v) => values.push(v.clone()),
                        None => values.push(from_deps.next().ok_or("a delayed call is missing an input")?),
                    }
                }
                drop(from_deps);
                func(values)
            }
        }
    }
}

impl Drop for Node {
    /// Drops the dependencies iteratively: a chain of 100,000 calls would overflow the stack
    /// if each node dropped the next recursively.
    fn drop(&mut self) {
        let mut stack = std::mem::take(&mut self.deps);
        while let Some(dep) = stack.pop() {
            if let Ok(mut node) = Arc::try_unwrap(dep) {
                stack.append(&mut node.deps);
            }
        }
    }
}

/// A token never used before: for impure calls and literals.
pub(crate) fn unique_token(name: &str) -> Token {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = StableHasher::new();
    h.str("impure");
    h.str(name);
    h.word(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.finish128()
}

impl<T> Delayed<T> {
    pub(crate) fn from_node(node: Node) -> Delayed<T> {
        Delayed { node: Arc::new(node), _t: PhantomData }
    }

    /// The call's key (`load-1a2b3c4d`), as task keys and error messages show it.
    pub fn key(&self) -> String {
        self.node.key()
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// The call's token (see the module docs on purity).
    pub fn token(&self) -> Token {
        self.node.token
    }

    /// This handle with its value type forgotten, for computing mixed collections.
    pub fn erase(&self) -> AnyDelayed {
        AnyDelayed { node: self.node.clone() }
    }

    /// The graph as text: figures, then one line per task (`t2 = process-… <- t1`) for
    /// graphs of up to 200 tasks.
    pub fn explain(&self) -> String {
        graph::Plan::new(std::slice::from_ref(&self.node)).explain()
    }

    /// The graph in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        graph::Plan::new(std::slice::from_ref(&self.node)).to_dot()
    }
}

impl<T: Data> Delayed<T> {
    /// Runs the graph with the global settings and gives the value.
    pub fn compute(&self) -> Result<T> {
        self.compute_with(&config::get()?)
    }

    /// Runs the graph with `cfg`'s scheduler and gives the value.
    pub fn compute_with(&self, cfg: &Config) -> Result<T> {
        let value = graph::run_one(&self.node, cfg)?;
        graph::unpack_output(value)
    }

    /// Runs the graph now and gives a `Delayed` holding the value (same key), so that later
    /// computations start from it instead of recomputing.
    pub fn persist(&self) -> Result<Delayed<T>> {
        let value = graph::run_one(&self.node, &config::get()?)?;
        Ok(Delayed::from_node(self.node.persisted(value)))
    }
}

impl<T> Clone for Delayed<T> {
    fn clone(&self) -> Delayed<T> {
        Delayed { node: self.node.clone(), _t: PhantomData }
    }
}

impl<T> Hash for Delayed<T> {
    /// A delayed value hashes as its token, so pure calls of it are keyed by it.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(self.node.token.0);
    }
}

impl<T> PartialEq for Delayed<T> {
    /// The same call (same token).
    fn eq(&self, other: &Delayed<T>) -> bool {
        self.node.token == other.node.token
    }
}

impl<T> Eq for Delayed<T> {}

impl<T> fmt::Debug for Delayed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Delayed<{}>({})", std::any::type_name::<T>(), self.key())
    }
}

/// The inputs of a delayed call being built: its known values and its dependencies.
#[derive(Default)]
pub struct DelayedInputs {
    pattern: Vec<Option<Value>>,
    deps: Vec<Arc<Node>>,
}

impl Sink for DelayedInputs {
    fn push_value(&mut self, value: Value) {
        self.pattern.push(Some(value));
    }
}

impl DelayedInputs {
    fn push_dep(&mut self, node: &Arc<Node>) {
        self.pattern.push(None);
        self.deps.push(node.clone());
    }
}

impl<T: Data> IntoArg<T, DelayedInputs> for Delayed<T> {
    type Source = One<T>;
    fn into_arg(self, sink: &mut DelayedInputs) -> One<T> {
        sink.push_dep(&self.node);
        One::new()
    }
}

impl<T: Data> IntoArg<T, DelayedInputs> for &Delayed<T> {
    type Source = One<T>;
    fn into_arg(self, sink: &mut DelayedInputs) -> One<T> {
        sink.push_dep(&self.node);
        One::new()
    }
}

impl<T: Data> IntoArg<Vec<T>, DelayedInputs> for Vec<Delayed<T>> {
    type Source = Many<T>;
    fn into_arg(self, sink: &mut DelayedInputs) -> Many<T> {
        <&[Delayed<T>] as IntoArg<Vec<T>, DelayedInputs>>::into_arg(self.as_slice(), sink)
    }
}

impl<T: Data> IntoArg<Vec<T>, DelayedInputs> for &[Delayed<T>] {
    type Source = Many<T>;
    fn into_arg(self, sink: &mut DelayedInputs) -> Many<T> {
        for d in self {
            sink.push_dep(&d.node);
        }
        Many::new(self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Scheduler;

    fn load(i: u64) -> Vec<u64> {
        (0..i).collect()
    }

    fn process(data: Vec<u64>) -> u64 {
        data.iter().sum()
    }

    fn summarize(parts: Vec<u64>) -> u64 {
        parts.iter().sum()
    }

    #[test]
    fn the_seed_example_computes() {
        let mut parts = Vec::new();
        for i in 0..5u64 {
            let data = crate::delayed!(load(i));
            parts.push(crate::delayed!(process(data)));
        }
        let total = crate::delayed!(summarize(parts));
        let expected: u64 = (0..5u64).map(|i| (0..i).sum::<u64>()).sum();
        assert_eq!(total.compute_with(&Config::default().with_scheduler(Scheduler::Sync)).unwrap(), expected);
        assert_eq!(total.compute_with(&Config::default().with_scheduler(Scheduler::Threads(3))).unwrap(), expected);
        assert!(total.key().starts_with("summarize-"));
        assert!(total.explain().contains("11 tasks"), "{}", total.explain());
        assert!(total.to_dot().starts_with("digraph"));
    }

    #[test]
    fn persisted_values_keep_their_key() {
        let x = crate::delayed!(load(3));
        let p = x.persist().unwrap();
        assert_eq!((p.key(), p.compute().unwrap()), (x.key(), vec![0, 1, 2]));
        assert_eq!(format!("{p:?}"), format!("Delayed<alloc::vec::Vec<u64>>({})", x.key()));
    }
}
