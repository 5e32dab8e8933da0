//! Tests of the optimizer as a whole: unchanged inputs, limits, the pass's summary, a
//! million-block expression, and a property test that the rules never produce a node the
//! builders refuse. Per-rule snapshots are in `rules.rs`, end-to-end plans in `plans.rs`.

mod plans;
mod rules;

use kiln_ir::expr_text::listing;
use kiln_ir::{BinaryOp, Expr, Meta, Op, ReduceOp, SliceSpec, UnaryOp, build};
use ndarray::s;

use super::*;
use crate::testing::*;

/// The default limits with time to spare, so a loaded machine cannot change a snapshot.
pub(super) fn limits() -> Limits {
    Limits { time: std::time::Duration::from_secs(60), ..Limits::default() }
}

/// Runs the optimizer with `rules` and checks what every run must satisfy: no fallback,
/// valid nodes, the same metadata per root.
pub(super) fn run_checked(roots: &[Expr], rules: &[&Rule]) -> Simplified {
    let out = simplify_with(roots, rules, &limits());
    assert_eq!(out.report.fallback, None, "rebuilding failed");
    crate::verify::verify_exprs(&out.exprs).expect("invalid result");
    for (after, before) in out.exprs.iter().zip(roots) {
        assert_eq!(after.meta(), before.meta(), "the optimizer changed a root's metadata");
    }
    assert!(out.report.cost_after <= out.report.cost_before);
    out
}

/// The summary and listing of the plan for `roots` with every rule.
pub(super) fn plan(roots: &[Expr]) -> String {
    let rules: Vec<&Rule> = RULES.iter().collect();
    let out = run_checked(roots, &rules);
    format!("{}\n{}", out.report.summary(), listing(&out.exprs))
}

/// The listing before and after running only the rule `name`.
pub(super) fn check_rule(name: &str, roots: &[Expr]) -> String {
    let rule = rule(name).expect("a rule of that name");
    let out = run_checked(roots, &[rule]);
    format!("{}--- {name}: {}\n{}", listing(roots), out.report.summary(), listing(&out.exprs))
}

pub(super) fn spec(info: &[ndarray::SliceInfoElem], shape: &[usize]) -> SliceSpec {
    SliceSpec::normalize(info, shape).unwrap()
}

/// A node the builders would not make (they drop identities), made directly.
pub(super) fn raw(op: Op, input: &Expr, meta: Meta) -> Expr {
    Expr::new(op, vec![input.clone()], meta)
}

#[test]
fn unchanged_inputs_come_back_as_they_were() {
    let x = uniform(&[100, 100], &[10, 10], 1);
    let e = add(&exp(&x), &x);
    let out = simplify(std::slice::from_ref(&e), &Limits::default());
    assert!(!out.report.changed);
    assert_eq!(out.exprs[0].addr(), e.addr());
    assert_eq!(out.report.stop_reason, StopReason::Saturated);
    assert!(simplify(&[], &Limits::default()).exprs.is_empty());
}

#[test]
fn limits_stop_saturation_and_are_reported() {
    let x = uniform(&[100, 100], &[10, 10], 1);
    let e = slice(&add(&exp(&x), &transpose(&x, &[1, 0])), s![..10, 3..7].as_ref());
    let tight = Limits { iterations: 1, ..limits() };
    let out = simplify(std::slice::from_ref(&e), &tight);
    assert_eq!(out.report.stop_reason, StopReason::IterationLimit(1));
    crate::verify::verify_exprs(&out.exprs).unwrap();
    let few = Limits { nodes: 2, ..limits() };
    assert_eq!(simplify(std::slice::from_ref(&e), &few).report.stop_reason, StopReason::NodeLimit(2));
    let none = Limits { time: std::time::Duration::ZERO, ..limits() };
    let out = simplify(std::slice::from_ref(&e), &none);
    assert_eq!((out.report.stop_reason, out.report.changed), (StopReason::TimeLimit(none.time), false));
    let report = simplify_report(std::slice::from_ref(&e));
    assert_eq!(report.stop_reason, StopReason::Saturated);
    let text = report.to_string();
    assert!(text.contains("rules fired: slice-elementwise ×"), "{text}");
    assert!(text.contains("saturation: saturated after"), "{text}");
}

#[test]
fn the_pass_records_a_summary() {
    let x = uniform(&[100, 100], &[10, 10], 1);
    let e = slice(&exp(&x), s![..10, ..].as_ref());
    let out = Simplify.run(vec![e], &PassOptions::default()).unwrap();
    assert!(out.changed);
    insta::assert_snapshot!(out.summary, @"3 → 2 nodes, 2 rules fired (saturated)");
}

/// An expression of `n_ops` elementwise, layout and reduction ops over a 1000×1000-block
/// array: optimizing it must not depend on the number of blocks.
fn million_block_expression(n_ops: usize) -> Expr {
    let x = uniform(&[1_000_000, 1_000_000], &[1000, 1000], 1);
    let y = uniform(&[1_000_000, 1_000_000], &[1000, 1000], 2);
    let mut e = x.clone();
    for i in 0..n_ops {
        e = match i % 5 {
            0 => add(&e, &y),
            1 => exp(&e),
            2 => mul(&e, &scalar(1.5)),
            3 => transpose(&e, &[1, 0]),
            _ => sub(&e, &x),
        };
    }
    slice(&e, s![..5000, 1000..3000].as_ref())
}

#[test]
fn a_million_blocks_optimize_like_a_handful() {
    let e = million_block_expression(20);
    assert_eq!(e.inputs()[0].chunks().n_blocks(), 1_000_000);
    let out = simplify(std::slice::from_ref(&e), &limits());
    assert_eq!(out.report.stop_reason, StopReason::Saturated);
    assert!(out.report.changed);
    crate::verify::verify_exprs(&out.exprs).unwrap();
    println!("20 ops over 1,000,000 blocks: {}", out.report);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// A small deterministic choice stream from a proptest seed.
    struct Choices(u64);

    impl Choices {
        fn pick(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    /// A random valid slice of `shape`.
    fn random_slice(c: &mut Choices, shape: &[usize]) -> Vec<ndarray::SliceInfoElem> {
        let mut info = Vec::new();
        for &len in shape {
            if c.pick(6) == 0 {
                info.push(ndarray::SliceInfoElem::NewAxis);
            }
            if len > 0 && c.pick(5) == 0 {
                info.push(ndarray::SliceInfoElem::Index(c.pick(len) as isize));
                continue;
            }
            let a = c.pick(len + 1) as isize;
            let b = a + c.pick(len + 1 - a as usize) as isize;
            let step = [1, 1, 2, -1, 3][c.pick(5)];
            info.push(ndarray::SliceInfoElem::Slice { start: a, end: Some(b), step });
        }
        info
    }

    /// A random expression over random sources, chunkings and ops.
    fn random_expr(seed: u64) -> Expr {
        let mut c = Choices(seed);
        let (n, m) = (1 + c.pick(9), 1 + c.pick(9));
        let chunks = [1 + c.pick(n), 1 + c.pick(m)];
        let lin = build::linspace(-1.5, 0.7, m, c.pick(2) == 0, &kiln_ir::Chunks::from([chunks[1]])).expect("valid");
        let mut pool = vec![uniform(&[n, m], &chunks, 1), uniform(&[m], &[chunks[1]], 2), scalar(0.5), lin];
        for _ in 0..1 + c.pick(8) {
            let a = pool[c.pick(pool.len())].clone();
            let b = pool[c.pick(pool.len())].clone();
            let next = match c.pick(11) {
                0 => build::binary(BinaryOp::Add, &a, &b).ok(),
                1 => build::binary(BinaryOp::Mul, &a, &b).ok(),
                2 => build::unary(UnaryOp::Neg, &a).ok(),
                3 => build::unary(UnaryOp::Exp, &a).ok(),
                4 => build::slice(&a, &random_slice(&mut c, a.shape())).ok(),
                5 if a.ndim() >= 2 => build::transpose(&a, &[1, 0]).ok(),
                6 if a.ndim() >= 1 => build::reduce(ReduceOp::Sum, &a, Some(&[c.pick(a.ndim())]), false).ok(),
                7 => build::insert_axis(&a, c.pick(a.ndim() + 1)).ok(),
                8 => build::rechunk(&a, &kiln_ir::Chunks::from(vec![1 + c.pick(4); a.ndim()])).ok(),
                9 if a.ndim() == 1 => {
                    let step = [1, 2, 4][c.pick(3)];
                    let end = Some(c.pick(a.shape()[0] + 1) as isize);
                    build::slice(&a, &[ndarray::SliceInfoElem::Slice { start: 0, end, step }]).ok()
                }
                _ => build::binary(BinaryOp::Mul, &a, &scalar(1.0)).ok(),
            };
            pool.extend(next);
        }
        let last = pool.pop().expect("a value");
        build::slice(&last, &random_slice(&mut c, last.shape())).unwrap_or(last)
    }

    proptest! {
        #[test]
        fn rules_never_make_nodes_the_builders_refuse(seed in any::<u64>()) {
            let e = random_expr(seed);
            let rules: Vec<&Rule> = RULES.iter().collect();
            let out = run_checked(std::slice::from_ref(&e), &rules);
            prop_assert!(matches!(out.report.stop_reason, StopReason::Saturated), "{}", out.report);
        }
    }
}
