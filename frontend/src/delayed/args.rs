//! Argument sources, shared by delayed calls and futures: how a plain value, one lazy handle
//! (`Delayed<A>`, `Future<A>`) or a vector of them becomes one argument of a user function,
//! and how a tuple of sources becomes a call of a function of several arguments.
//!
//! A call's inputs are [`Value`]s in order; each argument's [`Source`] takes its share of them
//! (one, or `n` for a vector) and turns them into the argument's type: moved out when the
//! call holds the only handle, cloned otherwise.

use std::marker::PhantomData;

use kiln_ir::Value;
use kiln_runtime::BoxError;

/// What a task's value must be: cloneable (a value read by several consumers is cloned for
/// all but the last), shareable across threads, and owned. Implemented for every such type.
pub trait Data: Clone + Send + Sync + 'static {}

impl<T: Clone + Send + Sync + 'static> Data for T {}

/// The compiled body of a call: computes its value from its inputs' values, in order.
pub type CallFn = Box<dyn Fn(Vec<Value>) -> Result<Value, BoxError> + Send + Sync>;

/// Where the inputs of one call are collected: a delayed call's or a submitted task's.
pub trait Sink {
    /// Appends an input known now.
    fn push_value(&mut self, value: Value);
}

/// Turns the next inputs of a call into one argument of type `A`.
pub trait Source<A>: Send + Sync + 'static {
    /// Takes this argument's inputs from `values` and converts them.
    fn take(&self, values: &mut std::vec::IntoIter<Value>) -> Result<A, BoxError>;
}

/// Something that can be an argument of type `A` of a call collecting its inputs in `S`: a
/// plain `A`, a lazy handle of an `A`, or (for `A = Vec<B>`) a vector of lazy handles of `B`.
pub trait IntoArg<A, S: ?Sized> {
    /// How the argument is read back from the inputs.
    type Source: Source<A>;
    /// Pushes this argument's inputs onto `sink`.
    fn into_arg(self, sink: &mut S) -> Self::Source;
}

/// One input, as an `A`.
pub struct One<A>(PhantomData<fn() -> A>);

impl<A> One<A> {
    /// The source of one input.
    pub fn new() -> One<A> {
        One(PhantomData)
    }
}

impl<A> Default for One<A> {
    fn default() -> One<A> {
        One::new()
    }
}

impl<A: Data> Source<A> for One<A> {
    fn take(&self, values: &mut std::vec::IntoIter<Value>) -> Result<A, BoxError> {
        let value = values.next().ok_or("an argument is missing its input")?;
        unpack(value)
    }
}

/// `n` inputs, as a `Vec<A>`.
pub struct Many<A>(usize, PhantomData<fn() -> A>);

impl<A> Many<A> {
    /// The source of `n` inputs.
    pub fn new(n: usize) -> Many<A> {
        Many(n, PhantomData)
    }
}

impl<A: Data> Source<Vec<A>> for Many<A> {
    fn take(&self, values: &mut std::vec::IntoIter<Value>) -> Result<Vec<A>, BoxError> {
        (0..self.0).map(|_| unpack(values.next().ok_or("an argument is missing its input")?)).collect()
    }
}

/// The `A` inside `value`: moved out when this is the only handle, cloned otherwise.
pub fn unpack<A: Data>(value: Value) -> Result<A, BoxError> {
    let type_name = value.type_name();
    value
        .take_or_clone::<A>()
        .ok_or_else(|| format!("expected a {}, found a {type_name}", std::any::type_name::<A>()).into())
}

/// Wraps a call's result, declaring its size as its type's (kiln cannot see into heap data).
pub fn pack<R: Data>(value: R) -> Value {
    Value::new(value, std::mem::size_of::<R>())
}

impl<T: Data, S: Sink + ?Sized> IntoArg<T, S> for T {
    type Source = One<T>;
    fn into_arg(self, sink: &mut S) -> One<T> {
        sink.push_value(pack(self));
        One::new()
    }
}

/// The arguments of a call of `F` (returning `R`): one source, or a tuple of sources for a
/// function of several arguments. `M` tells the arities apart (it is inferred).
pub trait Args<F, R, M, S: ?Sized> {
    /// Pushes the inputs onto `sink` and returns the call's body.
    fn into_call(self, f: F, sink: &mut S) -> CallFn;
}

impl<F, R, S> Args<F, R, (), S> for ()
where
    F: Fn() -> R + Send + Sync + 'static,
    R: Data,
    S: ?Sized,
{
    fn into_call(self, f: F, _sink: &mut S) -> CallFn {
        Box::new(move |_| Ok(pack(f())))
    }
}

impl<F, R, A, X, S> Args<F, R, (A,), S> for X
where
    F: Fn(A) -> R + Send + Sync + 'static,
    R: Data,
    X: IntoArg<A, S>,
    S: ?Sized,
{
    fn into_call(self, f: F, sink: &mut S) -> CallFn {
        let source = self.into_arg(sink);
        Box::new(move |values| {
            let mut it = values.into_iter();
            Ok(pack(f(source.take(&mut it)?)))
        })
    }
}

macro_rules! tuple_args {
    ($($a:ident $x:ident $s:ident),+) => {
        impl<F, R, S, $($a, $x),+> Args<F, R, ($($a,)+), S> for ($($x,)+)
        where
            F: Fn($($a),+) -> R + Send + Sync + 'static,
            R: Data,
            S: ?Sized,
            $($x: IntoArg<$a, S>,)+
        {
            #[allow(non_snake_case)]
            fn into_call(self, f: F, sink: &mut S) -> CallFn {
                let ($($x,)+) = self;
                $(let $s = $x.into_arg(sink);)+
                Box::new(move |values| {
                    let mut it = values.into_iter();
                    $(let $a = $s.take(&mut it)?;)+
                    Ok(pack(f($($a),+)))
                })
            }
        }
    };
}

tuple_args!(A1 X1 s1, A2 X2 s2);
tuple_args!(A1 X1 s1, A2 X2 s2, A3 X3 s3);
tuple_args!(A1 X1 s1, A2 X2 s2, A3 X3 s3, A4 X4 s4);
tuple_args!(A1 X1 s1, A2 X2 s2, A3 X3 s3, A4 X4 s4, A5 X5 s5);
tuple_args!(A1 X1 s1, A2 X2 s2, A3 X3 s3, A4 X4 s4, A5 X5 s5, A6 X6 s6);

/// The short name of a function type, for task keys: `load` for `my_crate::load`,
/// `closure` for closures.
pub fn short_name<F>() -> String {
    let full = std::any::type_name::<F>();
    let base = full.split('<').next().unwrap_or(full);
    let last = base.rsplit("::").find(|s| !s.is_empty() && !s.starts_with('{')).unwrap_or("call");
    if full.contains("{{closure}}") { "closure".to_string() } else { last.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Values(Vec<Value>);

    impl Sink for Values {
        fn push_value(&mut self, value: Value) {
            self.0.push(value);
        }
    }

    fn call<F, R, M, X: Args<F, R, M, Values>>(f: F, args: X) -> Value {
        let mut sink = Values(Vec::new());
        let body = args.into_call(f, &mut sink);
        body(sink.0).unwrap()
    }

    fn add(a: u64, b: u64) -> u64 {
        a + b
    }

    #[test]
    fn plain_values_and_tuples_call_functions() {
        let v = call(|x: u64| x * 2, 21u64);
        assert_eq!(unpack::<u64>(v).unwrap(), 42);
        assert_eq!(unpack::<u64>(call(add, (1u64, 2u64))).unwrap(), 3);
        assert_eq!(unpack::<u64>(call(|| 7u64, ())).unwrap(), 7);
        assert_eq!(unpack::<usize>(call(|v: Vec<u8>| v.len(), vec![1u8, 2])).unwrap(), 2);
        assert!(unpack::<u32>(pack(1u64)).unwrap_err().to_string().contains("expected a u32"));
    }

    #[test]
    fn short_names() {
        assert_eq!(short_name::<fn(u64) -> u64>(), "fn(u64) -> u64");
        fn load() {}
        fn name_of<F>(_: &F) -> String {
            short_name::<F>()
        }
        assert_eq!(name_of(&load), "load");
        assert_eq!(name_of(&|| 1), "closure");
    }
}
