//! Making delayed calls: the `delayed!` macro, the function form `call(f, args)`, the
//! builder `func(f).name(..).pure().call(args)`, and `value(x)` for a known value.

use std::hash::Hash;

use kiln_ir::token::StableHasher;

use super::args::{self, Args, Data};
use super::{Body, Delayed, DelayedInputs, Node, unique_token};

/// A lazy call: `kiln_frontend::delayed!(f(a, b, ...))` is `f(a, b, ...)` delayed, a
/// [`Delayed<R>`](crate::delayed::Delayed) for `f` returning `R`. Each argument is a plain
/// value, a `Delayed<A>`, or a `Vec<Delayed<A>>` (see [`kiln_frontend::delayed`](crate::delayed)).
/// `kiln_frontend::delayed!(pure f(a, b))` marks the call pure: identical calls (same name, equal
/// arguments, which must be `Hash`) are one task. The function is named by a path
/// (`load`, `my_mod::load`); for a closure use [`call`](crate::delayed::call).
///
/// ```
/// fn add(a: i64, b: i64) -> i64 { a + b }
/// let x = kiln_frontend::delayed!(add(1, 2));
/// let y = kiln_frontend::delayed!(pure add(x.clone(), 10));
/// let z = kiln_frontend::delayed!(pure add(x, 10));
/// assert_eq!(y.key(), z.key());
/// assert_eq!(y.compute()?, 13);
/// # Ok::<(), kiln_frontend::Error>(())
/// ```
#[macro_export]
macro_rules! delayed {
    (pure $($f:ident)::+ ( $($arg:expr),* $(,)? )) => {
        $crate::delayed::func($($f)::+).name(stringify!($($f)::+)).pure().call($crate::delayed!(@args $($arg),*))
    };
    ($($f:ident)::+ ( $($arg:expr),* $(,)? )) => {
        $crate::delayed::func($($f)::+).name(stringify!($($f)::+)).call($crate::delayed!(@args $($arg),*))
    };
    (@args) => { () };
    (@args $arg:expr) => { $arg };
    (@args $($arg:expr),+) => { ($($arg,)+) };
}

/// A function about to be called lazily, with its name and purity. Build it with [`func`].
pub struct Func<F> {
    f: F,
    name: String,
}

/// A function whose calls are pure: identical calls are one task (see [`Func::pure`]).
pub struct PureFunc<F>(Func<F>);

/// `f`, named after its Rust name (`load`; `closure` for closures).
pub fn func<F>(f: F) -> Func<F> {
    Func { name: args::short_name::<F>(), f }
}

/// `f(args)` delayed: `args` is one argument or a tuple of them. The function form of
/// [`delayed!`](crate::delayed!).
///
/// ```
/// let x = kiln_frontend::delayed::call(|a: u64, b: u64| a + b, (1u64, 2u64));
/// let y = kiln_frontend::delayed::call(|v: u64| v * 10, x);
/// assert_eq!(y.compute()?, 30);
/// # Ok::<(), kiln_frontend::Error>(())
/// ```
pub fn call<F, R, M, X>(f: F, args: X) -> Delayed<R>
where
    X: Args<F, R, M, DelayedInputs>,
{
    func(f).call(args)
}

/// A known value as a `Delayed` (Dask's `delayed(value)`).
pub fn value<T: Data>(v: T) -> Delayed<T> {
    let name = "value".to_string();
    let token = unique_token(&name);
    Delayed::from_node(Node { token, name, deps: Vec::new(), body: Body::Literal(args::pack(v)) })
}

impl<F> Func<F> {
    /// The same function under another name (for keys and error messages).
    pub fn name(mut self, name: impl Into<String>) -> Func<F> {
        self.name = name.into();
        self
    }

    /// Marks the function pure: a call's token is a hash of the function's name and its
    /// arguments, so identical calls are one task. Two different functions under one name
    /// would be confused: name closures explicitly.
    pub fn pure(self) -> PureFunc<F> {
        PureFunc(self)
    }

    /// `f(args)` delayed, a new task.
    pub fn call<R, M, X>(self, args: X) -> Delayed<R>
    where
        X: Args<F, R, M, DelayedInputs>,
    {
        let token = unique_token(&self.name);
        self.make(token, args)
    }

    fn make<R, M, X>(self, token: kiln_ir::Token, args: X) -> Delayed<R>
    where
        X: Args<F, R, M, DelayedInputs>,
    {
        let mut inputs = DelayedInputs::default();
        let func = args.into_call(self.f, &mut inputs);
        let body = Body::Call { pattern: inputs.pattern, func };
        Delayed::from_node(Node { token, name: self.name, deps: inputs.deps, body })
    }
}

impl<F> PureFunc<F> {
    /// `f(args)` delayed, keyed by the name and the arguments' hash.
    pub fn call<R, M, X>(self, args: X) -> Delayed<R>
    where
        X: Args<F, R, M, DelayedInputs> + Hash,
    {
        let mut h = StableHasher::new();
        h.str("pure");
        h.str(&self.0.name);
        args.hash(&mut h);
        let token = h.finish128();
        self.0.make(token, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc(x: u64) -> u64 {
        x + 1
    }

    #[test]
    fn impure_calls_are_distinct_and_pure_ones_shared() {
        let a = crate::delayed!(inc(1));
        let b = crate::delayed!(inc(1));
        assert_ne!(a.key(), b.key());
        let p = crate::delayed!(pure inc(1));
        let q = func(inc).pure().call(1u64);
        assert_eq!(p.key(), q.key());
        assert!(p.key().starts_with("inc-"));
        let r = crate::delayed!(pure inc(2));
        assert_ne!(p.key(), r.key());
        let s = func(|a: u64, b: u64| a + b).name("add").pure().call((p.clone(), q.clone()));
        assert_eq!(crate::delayed::compute((&s, &p)).unwrap(), (4, 2));
        // The two pure calls are one task; the sum reads it twice.
        assert!(s.explain().contains("2 tasks"), "{}", s.explain());
        assert_eq!(value(5u8).compute().unwrap(), 5);
    }
}
