//! `Expr`: an immutable, hash-consed DAG of collection-level operations. Each node holds its
//! op, its inputs and its inferred metadata (dtype, shape, chunks) and a content token.
//!
//! **Architecture invariant:** building or dropping a node costs O(ndim + inputs), never
//! O(chunks), and no traversal recurses: dropping a 100,000-op chain, hashing or printing it
//! uses a heap stack, not the thread's.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex, Weak};

use crate::chunks::ChunkGrid;
use crate::dtype::{DType, ScalarKind};
use crate::op::Op;
use crate::shape::Shape;
use crate::token::{StableHasher, Token};

/// What is known about a node's value without computing it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Meta {
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Shape,
    /// Chunk grid (covers `shape`).
    pub chunks: ChunkGrid,
    /// `Some` for a Rust scalar operand, which promotes "weakly" (NEP 50).
    pub weak: Option<ScalarKind>,
}

impl Meta {
    /// Metadata of a strong (non-scalar-literal) array.
    pub fn new(dtype: DType, chunks: ChunkGrid) -> Meta {
        Meta { dtype, shape: chunks.shape(), chunks, weak: None }
    }

    /// Bytes of the whole array.
    pub fn nbytes(&self) -> usize {
        self.shape.size().saturating_mul(self.dtype.size())
    }
}

/// One expression node. Reach it through [`Expr`].
pub struct Node {
    op: Op,
    inputs: Box<[Expr]>,
    meta: Meta,
    token: Token,
}

/// A handle to an expression node: cheap to clone, `Send + Sync`. Two `Expr`s built from the
/// same op, parameters and inputs are the same node (hash-consing), so common
/// subexpressions are shared, and computed once.
#[derive(Clone)]
pub struct Expr(Arc<Node>);

const SHARDS: usize = 16;

/// Live nodes by token, for hash-consing. Entries are weak: the table never keeps a node
/// alive, and a node removes its own entry when dropped.
static INTERNER: LazyLock<[Mutex<HashMap<Token, Weak<Node>>>; SHARDS]> =
    LazyLock::new(|| std::array::from_fn(|_| Mutex::new(HashMap::new())));

fn shard(token: Token) -> &'static Mutex<HashMap<Token, Weak<Node>>> {
    &INTERNER[(token.0 as usize) % SHARDS]
}

impl Expr {
    /// The node for `op` over `inputs` with metadata `meta`, reusing an identical live node.
    /// Does not validate: use the checked builders in [`crate::build`].
    pub fn new(op: Op, inputs: Vec<Expr>, meta: Meta) -> Expr {
        let token = token_of(&op, &inputs, &meta);
        let mut table = shard(token).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = table.get(&token).and_then(Weak::upgrade) {
            return Expr(existing);
        }
        let node = Arc::new(Node { op, inputs: inputs.into(), meta, token });
        table.insert(token, Arc::downgrade(&node));
        Expr(node)
    }

    /// The operation.
    pub fn op(&self) -> &Op {
        &self.0.op
    }

    /// The input nodes.
    pub fn inputs(&self) -> &[Expr] {
        &self.0.inputs
    }

    /// The metadata.
    pub fn meta(&self) -> &Meta {
        &self.0.meta
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.0.meta.dtype
    }

    /// Shape.
    pub fn shape(&self) -> &Shape {
        &self.0.meta.shape
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.0.meta.shape.ndim()
    }

    /// Chunk grid.
    pub fn chunks(&self) -> &ChunkGrid {
        &self.0.meta.chunks
    }

    /// The content token: equal tokens mean equal expressions.
    pub fn token(&self) -> Token {
        self.0.token
    }

    /// A stable address of the node, for identity maps during one traversal.
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// The key prefix of this node's tasks: `name-token` (as Dask names its layers).
    pub fn key_name(&self) -> String {
        format!("{}-{}", self.op().name(), self.token().short())
    }

    /// All nodes reachable from `roots`, each once, inputs before users (post-order from
    /// the first root, then the next). Iterative.
    pub fn topo_order(roots: &[Expr]) -> Vec<Expr> {
        let mut seen = std::collections::HashSet::new();
        let mut order = Vec::new();
        // (node, whether its inputs were already pushed)
        let mut stack: Vec<(Expr, bool)> = roots.iter().rev().map(|r| (r.clone(), false)).collect();
        while let Some((e, expanded)) = stack.pop() {
            if expanded {
                order.push(e);
                continue;
            }
            if !seen.insert(e.addr()) {
                continue;
            }
            stack.push((e.clone(), true));
            for i in e.inputs().iter().rev() {
                if !seen.contains(&i.addr()) {
                    stack.push((i.clone(), false));
                }
            }
        }
        order
    }
}

fn token_of(op: &Op, inputs: &[Expr], meta: &Meta) -> Token {
    let mut h = StableHasher::new();
    op.hash(&mut h);
    h.word(inputs.len() as u64);
    for i in inputs {
        h.token(i.token());
    }
    meta.hash(&mut h);
    h.finish128()
}

impl Drop for Node {
    fn drop(&mut self) {
        // Unlink uniquely owned inputs iteratively so long chains do not recurse.
        let mut stack: Vec<Expr> = std::mem::take(&mut self.inputs).into_vec();
        while let Some(e) = stack.pop() {
            if let Some(mut node) = Arc::into_inner(e.0) {
                stack.extend(std::mem::take(&mut node.inputs).into_vec());
            }
        }
        let mut table = shard(self.token).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = table.get(&self.token)
            && std::ptr::eq(w.as_ptr(), self)
        {
            table.remove(&self.token);
        }
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.token == other.0.token
    }
}
impl Eq for Expr {}
impl Hash for Expr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.token.hash(state);
    }
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({} {}{} chunks={})", self.key_name(), self.dtype(), self.shape(), self.chunks())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::Scalar;

    fn leaf(v: f64) -> Expr {
        Expr::new(Op::Full(Scalar::F64(v)), vec![], Meta::new(DType::F64, ChunkGrid::uniform(&[4], &[2])))
    }

    #[test]
    fn identical_nodes_are_shared() {
        let a = leaf(1.0);
        let b = leaf(1.0);
        assert_eq!(a.addr(), b.addr());
        assert_ne!(leaf(2.0).addr(), a.addr());
    }

    #[test]
    fn deep_chains_drop_and_traverse_without_recursion() {
        let meta = leaf(0.0).meta().clone();
        let mut e = leaf(0.0);
        for _ in 0..200_000 {
            e = Expr::new(Op::Unary(crate::op::UnaryOp::Neg), vec![e], meta.clone());
        }
        assert_eq!(Expr::topo_order(&[e.clone()]).len(), 200_001);
        drop(e);
    }

    #[test]
    fn topo_order_puts_inputs_first() {
        let a = leaf(1.0);
        let meta = a.meta().clone();
        let b = Expr::new(Op::Unary(crate::op::UnaryOp::Neg), vec![a.clone()], meta.clone());
        let c = Expr::new(Op::Binary(crate::op::BinaryOp::Add), vec![b.clone(), a.clone()], meta);
        let order = Expr::topo_order(&[c.clone(), a.clone()]);
        assert_eq!(order, vec![a, b, c]);
    }
}
