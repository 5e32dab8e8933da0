//! The kernel-building step of blockwise fusion: turns one group of the plan into a
//! `Kernel` (instructions in post-order from the group's output, operands in input order,
//! one instruction per distinct node and axis map) and the list of nodes its inputs read.

use std::collections::HashMap;

use kiln_ir::op::SourceView;
use kiln_ir::{Expr, Inst, Kernel, KernelInput, KernelOutput, Op, ValueId};

use super::plan::{Plan, Role, identity, input_map};

/// A group's kernel and what it reads.
pub(super) struct Built {
    /// The kernel.
    pub(super) kernel: Kernel,
    /// Topological positions of the nodes its inputs read, in kernel input order.
    pub(super) inputs: Vec<usize>,
}

impl Built {
    /// Whether fusing is worth a kernel: at least one elementwise instruction, and either a
    /// reduction (the map-reduce skips a full-size temporary), an input read across its
    /// layout (a transposed one, as in `x + x.t()`: the kernel reads it through a blocked
    /// transpose, where an op on a transposed view steps across cache lines) or something
    /// besides one op over materialized inputs (a lone op has nothing to fuse with); or a
    /// reduction of a generated source (`random(..).mean()` generates the values inside the
    /// reduction instead of materializing the source's blocks).
    pub(super) fn is_worth_fusing(&self) -> bool {
        let elementwise = self.kernel.body.iter().filter(|i| is_elementwise(i)).count();
        let computed = self.kernel.body.iter().filter(|i| !matches!(i, Inst::Load(_))).count();
        let generated = self.kernel.body.iter().any(is_generated);
        let reduces = matches!(self.kernel.output, KernelOutput::Reduce { .. });
        let permuted = self.kernel.inputs.iter().any(|i| i.axes.windows(2).any(|w| w[0] > w[1]));
        (elementwise >= 1 && (reduces || permuted || computed >= 2)) || (reduces && generated)
    }
}

fn is_generated(inst: &Inst) -> bool {
    matches!(inst, Inst::Random { .. } | Inst::Arange { .. } | Inst::Linspace { .. })
}

fn is_elementwise(inst: &Inst) -> bool {
    matches!(inst, Inst::Unary(..) | Inst::Binary(..) | Inst::Where(..) | Inst::Cast(..))
}

/// Builds the kernel of group `g`.
pub(super) fn build(plan: &Plan, g: u32) -> Built {
    let group = &plan.groups[g as usize];
    let root = &plan.order[group.root];
    let mut emitter = Emitter {
        plan,
        group: g,
        body: Vec::new(),
        interned: HashMap::new(),
        values: HashMap::new(),
        inputs: Vec::new(),
        input_nodes: Vec::new(),
    };
    let output = match root.op() {
        Op::Reduce { op, axes, keepdims } => {
            let x = &root.inputs()[0];
            let value = emitter.value(plan.position[&x.addr()], identity(x.ndim()));
            let axes = axes.iter().map(|&k| k as u32).collect();
            KernelOutput::Reduce { op: *op, axes, keepdims: *keepdims, value }
        }
        _ => KernelOutput::Map(emitter.value(group.root, identity(root.ndim()))),
    };
    let kernel = Kernel { ndim: group.grid.ndim() as u32, inputs: emitter.inputs, body: emitter.body, output };
    Built { kernel, inputs: emitter.input_nodes }
}

struct Emitter<'a> {
    plan: &'a Plan,
    group: u32,
    body: Vec<Inst>,
    /// Instructions already in the body (equal instructions compute equal values).
    interned: HashMap<Inst, ValueId>,
    /// The value of each (node, axis map) pair computed so far.
    values: HashMap<(usize, Box<[u32]>), ValueId>,
    inputs: Vec<KernelInput>,
    input_nodes: Vec<usize>,
}

impl Emitter<'_> {
    fn push(&mut self, inst: Inst) -> ValueId {
        if let Some(&v) = self.interned.get(&inst) {
            return v;
        }
        let v = ValueId(self.body.len() as u32);
        self.body.push(inst.clone());
        self.interned.insert(inst, v);
        v
    }

    /// Whether node `i` is computed by this group's instructions (a member or the root).
    fn is_inside(&self, i: usize) -> bool {
        matches!(self.plan.roles[i], Role::Member(g) | Role::Root(g) if g == self.group)
            && !matches!(self.plan.order[i].op(), Op::Reduce { .. })
    }

    /// The value of node `start` read through `map`: emits the instructions of everything
    /// it needs first, depth first, operands in input order (iterative).
    fn value(&mut self, start: usize, map: Box<[u32]>) -> ValueId {
        let key = (start, map);
        // (node, map, whether its inputs were already pushed)
        let mut stack: Vec<(usize, Box<[u32]>, bool)> = vec![(key.0, key.1.clone(), false)];
        let mut args: Vec<ValueId> = Vec::new();
        let plan = self.plan;
        while let Some((i, map, expanded)) = stack.pop() {
            if self.values.contains_key(&(i, map.clone())) {
                continue;
            }
            let e = &plan.order[i];
            if !self.is_inside(i) {
                let v = self.leaf(i, &map);
                self.values.insert((i, map), v);
                continue;
            }
            if !expanded {
                stack.push((i, map.clone(), true));
                for k in (0..e.inputs().len()).rev() {
                    let x = plan.position[&e.inputs()[k].addr()];
                    stack.push((x, input_map(e, &map, k), false));
                }
                continue;
            }
            args.clear();
            for k in 0..e.inputs().len() {
                let x = plan.position[&e.inputs()[k].addr()];
                args.push(self.values[&(x, input_map(e, &map, k))]);
            }
            let v = match e.op() {
                Op::Unary(u) => self.push(Inst::Unary(*u, args[0])),
                Op::Binary(b) => self.push(Inst::Binary(*b, args[0], args[1])),
                Op::Where => self.push(Inst::Where(args[0], args[1], args[2])),
                Op::AsType => self.push(Inst::Cast(e.dtype(), args[0])),
                // Layout ops only move the axes their input is read along.
                _ => args[0],
            };
            self.values.insert((i, map), v);
        }
        self.values[&key]
    }

    /// The value of node `i`, outside the group, read through `map`: a source generated in
    /// place, or an input.
    fn leaf(&mut self, i: usize, map: &[u32]) -> ValueId {
        let plan = self.plan;
        let e = &plan.order[i];
        if plan.roles[i] == Role::Source
            && let Some(inst) = source_inst(e, map, self)
        {
            return self.push(inst);
        }
        let n = self.inputs.len() as u32;
        self.inputs.push(KernelInput { dtype: e.dtype(), axes: map.to_vec() });
        self.input_nodes.push(i);
        self.push(Inst::Load(n))
    }

    /// Whether axis `j` of `e`, read along iteration axis `a`, is broadcast (length 1 against
    /// another length).
    fn is_stretched(&self, e: &Expr, j: usize, a: u32) -> bool {
        e.shape()[j] != self.plan.groups[self.group as usize].grid.axis(a as usize).len()
    }
}

/// The instruction generating source `e` read through `map`, or `None` when it is read as an
/// input instead (a one-element `arange` or `linspace` broadcast along an axis: their
/// instructions run along the axis).
fn source_inst(e: &Expr, map: &[u32], emitter: &Emitter<'_>) -> Option<Inst> {
    match e.op() {
        Op::Full(v) => Some(Inst::Const(*v)),
        Op::Arange { start, step } => {
            (!emitter.is_stretched(e, 0, map[0])).then_some(Inst::Arange { start: *start, step: *step, axis: map[0] })
        }
        Op::Linspace { start, stop, endpoint } => (!emitter.is_stretched(e, 0, map[0])).then_some(Inst::Linspace {
            start: *start,
            stop: *stop,
            num: e.shape()[0] as u64,
            endpoint: *endpoint,
            axis: map[0],
        }),
        Op::Random { dist, seed, view } => {
            let whole;
            let view = match view {
                Some(v) => v.as_ref(),
                None => {
                    whole = SourceView::whole(e.shape());
                    &whole
                }
            };
            // A length-1 axis stands still at its one position.
            let axes = map.iter().enumerate().map(|(j, &a)| (e.shape()[j] != 1).then_some(a)).collect();
            Some(Inst::Random {
                dist: *dist,
                seed: *seed,
                base: view.base.iter().map(|&d| d as u64).collect(),
                start: view.start.clone(),
                step: view.step.clone(),
                axes,
            })
        }
        _ => None,
    }
}
