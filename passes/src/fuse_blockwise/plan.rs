//! The grouping step of blockwise fusion: decides, for every node of an expression, whether
//! it is computed inside a group's kernel (a member), is the output of a group (a root),
//! is a cheap source regenerated wherever it is read, or stays a materialized boundary, and
//! maps every member onto its group's iteration axes. One walk from the roots down, in
//! reverse topological order: a node joins a group only when every consumer is in that
//! group and reads it through the same axis map.

use std::collections::HashMap;

use kiln_ir::{ChunkGrid, Expr, Op};

/// Where a node ends up.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// A cheap source (`full`, `arange`, `linspace`, `random`): regenerated inside every
    /// kernel that reads it, and kept as a node only for consumers outside kernels.
    Source,
    /// Materialized and in no group (`from_array`, `slice`, `rechunk`, a reduction that
    /// does not fuse, an existing `fused` node): kernels read it as an input.
    Boundary,
    /// The output of group `g`: materialized, read by other groups as an input.
    Root(u32),
    /// Computed inside group `g`, never materialized.
    Member(u32),
}

/// A group of blockwise nodes that becomes one kernel.
pub(super) struct Group {
    /// Topological position of the group's root.
    pub(super) root: usize,
    /// The chunking of the iteration space: the root's chunks, or for a reduction its
    /// input's chunks.
    pub(super) grid: ChunkGrid,
}

/// The grouping of one expression.
pub(super) struct Plan {
    /// Every node, inputs before users.
    pub(super) order: Vec<Expr>,
    /// Topological position by node address.
    pub(super) position: HashMap<usize, usize>,
    /// Each node's role.
    pub(super) roles: Vec<Role>,
    /// The groups, numbered in the order their roots were met (from the roots down).
    pub(super) groups: Vec<Group>,
}

/// What fusion can do with a node.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// `full`, `arange`, `linspace`, `random`: generated inside kernels.
    Source,
    /// `unary`, `binary`, `where`, `astype`: one instruction.
    Elementwise,
    /// `transpose`, `insert_axis`, `broadcast_to`: an axis map, no instruction.
    Layout,
    /// A reduction: can end a group.
    Reduce,
    /// Anything else: a boundary.
    Other,
}

/// Classifies a node.
pub(super) fn kind(e: &Expr) -> Kind {
    match e.op() {
        Op::Full(_) | Op::Arange { .. } | Op::Linspace { .. } | Op::Random { .. } => Kind::Source,
        op if op.is_elementwise() => Kind::Elementwise,
        Op::Transpose(_) | Op::InsertAxis(_) | Op::BroadcastTo => Kind::Layout,
        Op::Reduce { .. } => Kind::Reduce,
        _ => Kind::Other,
    }
}

/// The identity map of an `ndim`-d node onto an `ndim`-d iteration space.
pub(super) fn identity(ndim: usize) -> Box<[u32]> {
    (0..ndim as u32).collect()
}

/// The axis map of input `k` of an elementwise or layout node `e` whose axis `j` runs along
/// iteration axis `map[j]`: input axis `i` runs along iteration axis `result[i]`.
pub(super) fn input_map(e: &Expr, map: &[u32], k: usize) -> Box<[u32]> {
    let x = &e.inputs()[k];
    match e.op() {
        Op::InsertAxis(axis) => map.iter().enumerate().filter(|&(j, _)| j != *axis).map(|(_, &a)| a).collect(),
        Op::Transpose(perm) => {
            let mut out = vec![0u32; x.ndim()];
            for (j, &p) in perm.iter().enumerate() {
                out[p] = map[j];
            }
            out.into()
        }
        // Elementwise ops and broadcast_to align their inputs with their last axes.
        _ => map[e.ndim() - x.ndim()..].into(),
    }
}

/// Whether node `x`, read through `map`, lines up with the iteration grid: each axis has
/// the chunks of the iteration axis it runs along, or length 1 (broadcast).
pub(super) fn lines_up(x: &Expr, map: &[u32], grid: &ChunkGrid) -> bool {
    map.len() == x.ndim()
        && map.iter().enumerate().all(|(j, &a)| {
            let axis = grid.axis(a as usize);
            x.shape()[j] == 1 || x.chunks().axis(j) == axis
        })
}

/// Whether `x`, read through `map`, covers every iteration axis of more than one element
/// with an axis of its own of that length: otherwise the kernel would evaluate it once per
/// position of the axes it is broadcast along.
pub(super) fn covers(x: &Expr, map: &[u32], grid: &ChunkGrid) -> bool {
    (0..grid.ndim()).all(|a| {
        let len = grid.axis(a).len();
        len <= 1 || map.iter().enumerate().any(|(j, &m)| m as usize == a && x.shape()[j] == len)
    })
}

/// How a node's consumers read it, as far as they are known.
#[derive(Clone, Debug)]
enum Demand {
    /// No consumer seen yet.
    None,
    /// Every consumer so far is in group `g` and reads the node through this map.
    One(u32, Box<[u32]>),
    /// Consumers outside any group, in two groups, or through two maps.
    Many,
}

impl Demand {
    fn add(&mut self, group: u32, map: Box<[u32]>) {
        *self = match std::mem::replace(self, Demand::None) {
            Demand::None => Demand::One(group, map),
            Demand::One(g, m) if g == group && m == map => Demand::One(g, m),
            _ => Demand::Many,
        };
    }
}

/// Groups the nodes reachable from `roots`.
pub(super) fn plan(roots: &[Expr]) -> Plan {
    let order = Expr::topo_order(roots);
    let n = order.len();
    let mut position: HashMap<usize, usize> = HashMap::with_capacity(n);
    for (i, e) in order.iter().enumerate() {
        position.insert(e.addr(), i);
    }
    let mut demand = vec![Demand::None; n];
    for r in roots {
        demand[position[&r.addr()]] = Demand::Many;
    }
    let mut roles = vec![Role::Boundary; n];
    let mut groups: Vec<Group> = Vec::new();
    // Consumers come before their inputs in reverse topological order, so each node's
    // demand is complete when it is reached.
    for i in (0..n).rev() {
        let e = &order[i];
        let k = kind(e);
        // The node's role, and the group and map its inputs are read through.
        let (role, map) = match k {
            Kind::Source => (Role::Source, None),
            Kind::Elementwise | Kind::Layout => match &demand[i] {
                // An elementwise node broadcast inside the group would be computed once per
                // position of the axes it is broadcast along: it is materialized instead
                // (layout ops cost nothing inside a kernel).
                Demand::One(g, map)
                    if lines_up(e, map, &groups[*g as usize].grid)
                        && (k == Kind::Layout || covers(e, map, &groups[*g as usize].grid)) =>
                {
                    (Role::Member(*g), Some((*g, map.clone())))
                }
                _ => {
                    let g = new_group(&mut groups, i, e.chunks().clone());
                    (Role::Root(g), Some((g, identity(e.ndim()))))
                }
            },
            Kind::Reduce if matches!(kind(&e.inputs()[0]), Kind::Elementwise | Kind::Layout | Kind::Source) => {
                let x = &e.inputs()[0];
                let g = new_group(&mut groups, i, x.chunks().clone());
                (Role::Root(g), Some((g, identity(x.ndim()))))
            }
            Kind::Reduce | Kind::Other => (Role::Boundary, None),
        };
        roles[i] = role;
        for (input_k, x) in e.inputs().iter().enumerate() {
            let j = position[&x.addr()];
            match (&map, k) {
                (Some((g, m)), Kind::Reduce) => demand[j].add(*g, m.clone()),
                (Some((g, m)), _) => demand[j].add(*g, input_map(e, m, input_k)),
                (None, _) => demand[j] = Demand::Many,
            }
        }
    }
    Plan { order, position, roles, groups }
}

fn new_group(groups: &mut Vec<Group>, root: usize, grid: ChunkGrid) -> u32 {
    groups.push(Group { root, grid });
    (groups.len() - 1) as u32
}
