//! `kiln::compute`: computing several collections at once — arrays, delayed values, or a
//! mix of both in one tuple — sharing the work they have in common.
//!
//! The arrays of a call are lowered into one task graph (common subexpressions and source
//! blocks computed once) and the delayed values into another (common calls run once); the
//! two graphs run one after the other with the same settings.

use kiln_ir::Value;

use crate::array::{Array, DynArray};
use crate::config::{self, Config};
use crate::delayed::args::{Data, unpack};
use crate::delayed::{AnyDelayed, Delayed};
use crate::error::{Error, Result};

/// One collection as [`compute`] sees it.
pub enum Part<'a> {
    /// An array, computed with the other arrays.
    Array(&'a Array),
    /// A delayed value, computed with the other delayed values.
    Delayed(AnyDelayed),
}

/// One computed collection, before it is given its type back.
pub enum Computed {
    /// A computed array.
    Array(DynArray),
    /// A delayed value's result.
    Value(Value),
}

/// A collection that [`compute`] takes in a tuple: an [`Array`] or a [`Delayed`] value.
pub trait Collection {
    /// What computing it gives.
    type Output;
    /// The collection, for the joint run.
    fn part(&self) -> Part<'_>;
    /// Its result from the joint run.
    fn output(computed: Computed) -> Result<Self::Output>;
}

impl Collection for Array {
    type Output = DynArray;
    fn part(&self) -> Part<'_> {
        Part::Array(self)
    }
    fn output(computed: Computed) -> Result<DynArray> {
        match computed {
            Computed::Array(a) => Ok(a),
            Computed::Value(_) => Err(Error::Type("an array was computed as a delayed value".into())),
        }
    }
}

impl<T: Data> Collection for Delayed<T> {
    type Output = T;
    fn part(&self) -> Part<'_> {
        Part::Delayed(self.erase())
    }
    fn output(computed: Computed) -> Result<T> {
        match computed {
            Computed::Value(v) => unpack::<T>(v).map_err(|e| Error::Type(e.to_string())),
            Computed::Array(_) => Err(Error::Type("a delayed value was computed as an array".into())),
        }
    }
}

/// Computes `parts` with `cfg`: the arrays in one graph, the delayed values in another; the
/// results in the order of `parts`.
pub fn compute_parts(parts: Vec<Part<'_>>, cfg: &Config) -> Result<Vec<Computed>> {
    let mut arrays = Vec::new();
    let mut delayed = Vec::new();
    for part in &parts {
        match part {
            Part::Array(a) => arrays.push(*a),
            Part::Delayed(d) => delayed.push(d.node.clone()),
        }
    }
    let mut arrays = if arrays.is_empty() { Vec::new() } else { crate::array::run_arrays(&arrays, cfg)?.0 }.into_iter();
    let mut values =
        if delayed.is_empty() { Vec::new() } else { crate::delayed::run_roots(&delayed, cfg)? }.into_iter();
    let missing = || Error::Type("a joint compute lost a result".into());
    parts
        .iter()
        .map(|p| match p {
            Part::Array(_) => arrays.next().map(Computed::Array).ok_or_else(missing),
            Part::Delayed(_) => values.next().map(Computed::Value).ok_or_else(missing),
        })
        .collect()
}

/// What [`compute`] accepts: tuples (up to 6) of `&Array` and `&Delayed<_>` in any mix,
/// and slices and vectors of arrays or of delayed values.
pub trait Collections {
    /// What computing gives back.
    type Output;
    /// Computes the collections together with `cfg`.
    fn compute_all(self, cfg: &Config) -> Result<Self::Output>;
}

macro_rules! tuple_collections {
    ($($t:ident $v:ident),+) => {
        impl<'a, $($t: Collection),+> Collections for ($(&'a $t,)+) {
            type Output = ($($t::Output,)+);
            fn compute_all(self, cfg: &Config) -> Result<Self::Output> {
                let ($($v,)+) = self;
                let mut it = compute_parts(vec![$($v.part()),+], cfg)?.into_iter();
                let missing = || Error::Type("a joint compute lost a result".into());
                Ok(($($t::output(it.next().ok_or_else(missing)?)?,)+))
            }
        }
    };
}

tuple_collections!(A a);
tuple_collections!(A a, B b);
tuple_collections!(A a, B b, C c);
tuple_collections!(A a, B b, C c, D d);
tuple_collections!(A a, B b, C c, D d, E e);
tuple_collections!(A a, B b, C c, D d, E e, F f);

/// Slices and vectors: every element is computed in one joint run.
macro_rules! sequence_collections {
    ($([$($g:tt)*] $seq:ty => $elem:ty),+ $(,)?) => {$(
        impl<$($g)*> Collections for $seq {
            type Output = Vec<<$elem as Collection>::Output>;
            fn compute_all(self, cfg: &Config) -> Result<Self::Output> {
                let parts = self.iter().map(Collection::part).collect();
                compute_parts(parts, cfg)?.into_iter().map(<$elem>::output).collect()
            }
        }
    )+};
}

sequence_collections!(
    ['a] &'a [Array] => Array,
    ['a] &'a Vec<Array> => Array,
    ['a, T: Data] &'a [Delayed<T>] => Delayed<T>,
    ['a, T: Data] &'a Vec<Delayed<T>> => Delayed<T>,
);

/// Computes several collections with the global settings: arrays, delayed values, or a mix
/// in one tuple. Work they share (common subexpressions, the same source blocks, the same
/// calls) runs once. `kiln::compute((&a, &d))` gives `(DynArray, T)` for an array `a` and a
/// `Delayed<T>` `d`.
///
/// ```
/// use kiln_frontend::array as ka;
/// let x = ka::ones([4], [2]);
/// let n = kiln_frontend::delayed::call(|| 3u64, ());
/// let (total, three) = kiln_frontend::compute((&x.sum(), &n))?;
/// assert_eq!((total.into_scalar::<f64>()?, three), (4.0, 3));
/// # Ok::<(), kiln_frontend::Error>(())
/// ```
pub fn compute<C: Collections>(collections: C) -> Result<C::Output> {
    compute_with(collections, &config::get()?)
}

/// [`compute`] with the given settings.
pub fn compute_with<C: Collections>(collections: C, cfg: &Config) -> Result<C::Output> {
    collections.compute_all(cfg)
}
