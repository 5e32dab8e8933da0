//! The e-graph's language and analysis. An e-node is an interned key, naming one kiln op
//! with its parameters and the metadata of the value it makes, plus its input e-classes.
//! Each e-class carries the metadata every node in it shares (dtype, shape, chunks, weak
//! scalar kind) and, when one of its nodes is a `full`, the constant value.
//!
//! Putting the metadata in the key makes hash-consing exact: two e-nodes are the same only
//! when they compute the same values in the same chunks, so the e-graph never confuses a
//! weak scalar with a strong one, or one chunking with another. Every `Op` variant round
//! trips unchanged (user data in `from_array` and kernels in `fused` included), because the
//! key holds the `Op` itself.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use egg::{Analysis, DidMerge, Id, Language};
use kiln_ir::{Expr, Meta, Op, Scalar, Token};

/// An interned `(op, metadata)` pair: the operator of an e-node.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(u32);

/// An e-node: an op with its parameters (through its key) over input e-classes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ENode {
    /// The op, its parameters and its result's metadata.
    pub key: Key,
    /// The input e-classes, in the op's input order.
    pub children: Box<[Id]>,
}

impl Language for ENode {
    type Discriminant = Key;

    fn discriminant(&self) -> Key {
        self.key
    }

    fn matches(&self, other: &Self) -> bool {
        self.key == other.key && self.children.len() == other.children.len()
    }

    fn children(&self) -> &[Id] {
        &self.children
    }

    fn children_mut(&mut self) -> &mut [Id] {
        &mut self.children
    }
}

impl fmt::Display for ENode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "k{}", self.key.0)
    }
}

/// The interning table of keys: each distinct `(op, metadata)` pair gets one [`Key`].
#[derive(Default)]
pub struct Keys {
    entries: Vec<Arc<(Op, Meta)>>,
    index: HashMap<Arc<(Op, Meta)>, Key>,
}

impl Keys {
    /// The key of `(op, meta)`, interning it on first use.
    pub fn intern(&mut self, op: Op, meta: Meta) -> Key {
        let entry = (op, meta);
        if let Some(&key) = self.index.get(&entry) {
            return key;
        }
        let key = Key(u32::try_from(self.entries.len()).expect("fewer than 2^32 distinct e-node keys"));
        let entry = Arc::new(entry);
        self.entries.push(entry.clone());
        self.index.insert(entry, key);
        key
    }

    /// The op and metadata behind `key`.
    pub fn get(&self, key: Key) -> (&Op, &Meta) {
        let entry = &self.entries[key.0 as usize];
        (&entry.0, &entry.1)
    }
}

/// What is known about every value of an e-class.
#[derive(Clone, Debug)]
pub struct ClassData {
    /// Dtype, shape, chunks and weakness, shared by every node of the class.
    pub meta: Meta,
    /// The value of every element, when the class holds a `full` node.
    pub constant: Option<Scalar>,
}

/// The e-class analysis: metadata from the keys, constants from `full` nodes. It also owns
/// the key table, so rules and the extractor reach ops through the e-graph.
#[derive(Default)]
pub struct MetaAnalysis {
    /// The interned keys.
    pub keys: Keys,
}

/// kiln's e-graph.
pub type EGraph = egg::EGraph<ENode, MetaAnalysis>;

impl Analysis<ENode> for MetaAnalysis {
    type Data = ClassData;

    fn make(egraph: &mut EGraph, enode: &ENode, _id: Id) -> ClassData {
        let (op, meta) = egraph.analysis.keys.get(enode.key);
        let constant = match op {
            Op::Full(v) => Some(*v),
            _ => None,
        };
        ClassData { meta: meta.clone(), constant }
    }

    /// Merging classes of different metadata would let extraction swap a value for one of
    /// another dtype, shape or chunking: rules check metadata before every union, so this
    /// is an internal invariant.
    fn merge(&mut self, a: &mut ClassData, b: ClassData) -> DidMerge {
        assert_eq!(a.meta, b.meta, "the e-graph merged classes with different metadata");
        match (a.constant, b.constant) {
            (None, Some(v)) => {
                a.constant = Some(v);
                DidMerge(true, false)
            }
            (Some(_), None) => DidMerge(false, true),
            _ => DidMerge(false, false),
        }
    }
}

/// The op and metadata of an e-node.
pub fn node_key<'a>(egraph: &'a EGraph, node: &ENode) -> (&'a Op, &'a Meta) {
    egraph.analysis.keys.get(node.key)
}

/// The expressions' nodes in an e-graph, each once.
pub struct Ingested {
    /// The e-graph, one class per distinct node.
    pub egraph: EGraph,
    /// The class of each root, in order.
    pub roots: Vec<Id>,
    /// The input's nodes by key and input tokens, so rebuilding reuses them as they were.
    pub originals: HashMap<(Key, Box<[Token]>), Expr>,
}

/// Adds every node reachable from `roots` to a new e-graph (iteratively, inputs first;
/// shared nodes once).
pub fn ingest(roots: &[Expr]) -> Ingested {
    let mut egraph = EGraph::new(MetaAnalysis::default());
    let mut ids: HashMap<usize, Id> = HashMap::new();
    let mut originals = HashMap::new();
    for e in Expr::topo_order(roots) {
        let children: Box<[Id]> = e.inputs().iter().map(|i| ids[&i.addr()]).collect();
        let key = egraph.analysis.keys.intern(e.op().clone(), e.meta().clone());
        let id = egraph.add(ENode { key, children });
        ids.insert(e.addr(), id);
        let tokens: Box<[Token]> = e.inputs().iter().map(Expr::token).collect();
        originals.insert((key, tokens), e);
    }
    egraph.rebuild();
    let roots = roots.iter().map(|r| egraph.find(ids[&r.addr()])).collect();
    Ingested { egraph, roots, originals }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[test]
    fn shared_nodes_are_ingested_once_and_keys_keep_metadata() {
        let x = uniform(&[8, 8], &[4, 4], 1);
        let y = add(&exp(&x), &x);
        let weak = scalar(2.0);
        let strong = kiln_ir::build::full(Scalar::F64(2.0), &[], &kiln_ir::Chunks::full()).unwrap();
        let ing = ingest(&[y.clone(), mul(&y, &weak), mul(&y, &strong)]);
        // x, exp, add, the two 2.0 scalars (weak and strong differ), two products.
        assert_eq!(ing.egraph.number_of_classes(), 7);
        assert_eq!(ing.roots.len(), 3);
        assert_eq!(ing.egraph[ing.roots[0]].data.meta, *y.meta());
        assert_eq!(ing.originals.len(), 7);
        let two = ing.egraph.classes().filter(|c| c.data.constant == Some(Scalar::F64(2.0))).count();
        assert_eq!(two, 2);
    }
}
