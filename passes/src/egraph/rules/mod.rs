//! The rulebook: a named table of directional rewrites, each exact under IEEE-754 (no
//! `x*0 → 0`, `x-x → 0`, `x+0 → x`, fma contraction or reassociation). A rule looks at one
//! e-node and returns replacement [`Term`]s for its e-class; the runner checks that each
//! replacement has the class's metadata (dtype, shape, chunks, weakness) before the union,
//! so a rule that would change chunking simply does not apply.
//!
//! Rules never decide whether a rewrite pays off: both forms stay in the e-graph and the
//! cost-based, sharing-aware extractor picks one (see `extract.rs`).

mod algebra;
mod fold;
mod linspace;
mod pushdown;
mod sources;

use egg::Id;
use kiln_ir::{Meta, Op, Scalar, SliceElem};

use crate::egraph::language::{EGraph, ENode, node_key};
use crate::egraph::{meta, slices};

/// A replacement for an e-class: an existing class, or a new node over replacements.
#[derive(Clone, Debug)]
pub enum Term {
    /// An existing e-class.
    Class(Id),
    /// A new node: its op, its metadata (derived by [`crate::egraph::meta`] or built by
    /// `ir::build`) and its inputs.
    Node {
        /// The op with its parameters.
        op: Op,
        /// The metadata of its value.
        meta: Meta,
        /// Its inputs.
        inputs: Vec<Term>,
    },
}

/// One rewrite rule.
pub struct Rule {
    /// Kebab-case name, shown in reports and used to pick rules in tests.
    pub name: &'static str,
    /// The identity the rule applies, left to right.
    pub identity: &'static str,
    /// Finds replacements for the class of an e-node.
    pub(crate) search: fn(&Ctx<'_>, &ENode) -> Vec<Term>,
}

/// Read access to the e-graph for rules.
pub struct Ctx<'a> {
    /// The e-graph being searched.
    pub egraph: &'a EGraph,
}

impl<'a> Ctx<'a> {
    /// The metadata of class `id`.
    pub fn meta(&self, id: Id) -> &'a Meta {
        &self.egraph[id].data.meta
    }

    /// The value of every element of class `id`, if it is a constant.
    pub fn constant(&self, id: Id) -> Option<Scalar> {
        self.egraph[id].data.constant
    }

    /// The nodes of class `id`.
    pub fn nodes(&self, id: Id) -> &'a [ENode] {
        &self.egraph[id].nodes
    }

    /// The op of a node.
    pub fn op(&self, node: &ENode) -> &'a Op {
        node_key(self.egraph, node).0
    }

    /// The metadata of a node (that of its class).
    pub fn node_meta(&self, node: &ENode) -> &'a Meta {
        node_key(self.egraph, node).1
    }

    /// The nodes of class `id` with their ops.
    pub fn ops(&self, id: Id) -> impl Iterator<Item = (&'a ENode, &'a Op)> + 'a {
        let egraph = self.egraph;
        egraph[id].nodes.iter().map(move |n| (n, node_key(egraph, n).0))
    }

    /// The metadata of a replacement.
    pub fn term_meta<'t>(&self, term: &'t Term) -> &'t Meta
    where
        'a: 't,
    {
        match term {
            Term::Class(id) => self.meta(*id),
            Term::Node { meta, .. } => meta,
        }
    }

    /// `x.slice(elems)`: `x` itself when the slice selects everything, `None` when `elems`
    /// is not a slice of `x`'s shape.
    pub fn slice(&self, x: Term, elems: &[SliceElem]) -> Option<Term> {
        let xm = self.term_meta(&x);
        let spec = kiln_ir::build::slice_spec(&slices::canonical(elems), &xm.shape).ok()?;
        if spec.is_identity(&xm.shape) {
            return Some(x);
        }
        let meta = meta::slice(xm, &spec);
        Some(Term::Node { op: Op::Slice(spec), meta, inputs: vec![x] })
    }
}

/// Every rule, in the order the runner tries them.
pub static RULES: &[Rule] = &[
    // t(t(x, p), q) = t(x, p∘q), and x when p∘q is the identity.
    Rule { name: "transpose-transpose", identity: "t(t(x, p), q) = t(x, p∘q)", search: algebra::transpose_transpose },
    // A permutation that keeps every axis in place changes nothing.
    Rule { name: "identity-transpose", identity: "t(x, id) = x", search: algebra::identity_transpose },
    // A slice that selects every element in order changes nothing.
    Rule { name: "identity-slice", identity: "x[..] = x", search: algebra::identity_slice },
    // Rechunking to the chunks a value already has changes nothing.
    Rule { name: "identity-rechunk", identity: "rechunk(x, chunks(x)) = x", search: algebra::identity_rechunk },
    // Casting to the dtype a value already has changes nothing.
    Rule { name: "identity-astype", identity: "astype(x, dtype(x)) = x", search: algebra::identity_astype },
    // Rechunking twice is rechunking once, from the original blocks.
    Rule {
        name: "rechunk-rechunk",
        identity: "rechunk(rechunk(x, a), b) = rechunk(x, b)",
        search: algebra::rechunk_rechunk,
    },
    // Multiplying by one is exact for every dtype (NaN and -0.0 included).
    Rule { name: "mul-one", identity: "x * 1 = 1 * x = x", search: algebra::mul_one },
    // Dividing by one is exact.
    Rule { name: "div-one", identity: "x / 1 = x", search: algebra::div_one },
    // Negation is its own inverse (integers wrap, so MIN stays MIN both ways).
    Rule { name: "neg-neg", identity: "-(-x) = x", search: algebra::neg_neg },
    // A constant condition picks one branch.
    Rule {
        name: "where-constant",
        identity: "where(true, a, b) = a; where(false, a, b) = b",
        search: algebra::where_constant,
    },
    // A source makes its elements in any chunks with the same values (they depend only on
    // their global position), so a rechunk of a source is the source in the new chunks.
    Rule { name: "rechunk-source", identity: "rechunk(src, c) = src with chunks c", search: sources::rechunk_source },
    // Constant folding, computed exactly as the interpreter computes it.
    Rule { name: "fold-unary", identity: "f(full(v)) = full(f(v))", search: fold::fold_unary },
    Rule { name: "fold-astype", identity: "astype(full(v), d) = full(cast(v, d))", search: fold::fold_astype },
    Rule { name: "fold-binary", identity: "full(a) op full(b) = full(a op b)", search: fold::fold_binary },
    // Two slices are one slice.
    Rule { name: "slice-slice", identity: "x[s][t] = x[s∘t]", search: pushdown::slice_slice },
    // Elementwise ops commute with slicing (stretched length-1 operand axes stay whole).
    Rule { name: "slice-elementwise", identity: "f(x, y)[s] = f(x[s'], y[s''])", search: pushdown::slice_elementwise },
    // Slicing a broadcast is broadcasting a slice.
    Rule {
        name: "slice-broadcast-to",
        identity: "broadcast_to(x, sh)[s] = broadcast_to(x[s'], sh')",
        search: pushdown::slice_broadcast_to,
    },
    // A slice of an inserted axis is a new axis of the slice.
    Rule { name: "slice-insert-axis", identity: "insert_axis(x, a)[s] = x[s']", search: pushdown::slice_insert_axis },
    // Slicing a transpose is transposing a permuted slice.
    Rule { name: "slice-transpose", identity: "t(x, p)[s] = t(x[p⁻¹(s)], p')", search: pushdown::slice_transpose },
    // Slicing a rechunk is rechunking the slice into the chunks the slice had.
    Rule {
        name: "slice-rechunk",
        identity: "rechunk(x, c)[s] = rechunk(x[s], c[s]), or x[s] when it has chunks c[s]",
        search: pushdown::slice_rechunk,
    },
    // A slice of kept axes commutes with a reduction over the other axes.
    Rule {
        name: "slice-reduce",
        identity: "reduce(x, axes)[s] = reduce(x[s'], axes')",
        search: pushdown::slice_reduce,
    },
    // Sources generate only the sliced part.
    Rule { name: "slice-full", identity: "full(v, sh)[s] = full(v, sh')", search: sources::slice_full },
    Rule {
        name: "slice-arange",
        identity: "arange(a, d)[i0..;k] = arange(a + i0·d, k·d) (integers)",
        search: sources::slice_arange,
    },
    // Only where exact: one element, or a power-of-two-strided prefix whose step a new
    // linspace reproduces to the bit (see linspace.rs for why nothing else is).
    Rule {
        name: "slice-linspace",
        identity: "linspace[i] = full(v_i); linspace(a, b, n)[..m;2^p] = linspace(a, b', m) (exact only)",
        search: linspace::slice_linspace,
    },
    Rule {
        name: "slice-random",
        identity: "random(seed, view)[s] = random(seed, view∘s)",
        search: sources::slice_random,
    },
    Rule {
        name: "slice-from-array",
        identity: "from_array(data)[s] = from_array(data[s])",
        search: sources::slice_from_array,
    },
    Rule {
        name: "slice-from-npy",
        identity: "from_npy(file, view)[s] = from_npy(file, view∘s)",
        search: sources::slice_from_npy,
    },
];

/// The rule named `name`.
pub fn rule(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_unique_kebab_case() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '-')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
        assert!(rule("neg-neg").is_some() && rule("x").is_none());
    }
}
