//! Tests of the client executor: dependencies, failures, cancellation, retries, tasks that
//! wait for tasks, and values freed with their last handle.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kiln_ir::Value;

use super::*;

fn constant(exec: &Executor, x: u64) -> TaskHandle {
    exec.submit("constant", Vec::new(), Box::new(move |_| Ok(Value::new(x, 8))), 0)
}

fn sum(exec: &Executor, inputs: Vec<Input>) -> TaskHandle {
    exec.submit(
        "sum",
        inputs,
        Box::new(|values| Ok(Value::new(values.iter().map(|v| *v.downcast_ref::<u64>().unwrap()).sum::<u64>(), 8))),
        0,
    )
}

fn value(t: TaskHandle) -> u64 {
    t.into_outcome().unwrap().take_or_clone::<u64>().unwrap()
}

#[test]
fn dependencies_run_first_and_values_move() {
    let exec = Executor::new(2).unwrap();
    let parts: Vec<Input> = (0..100).map(|i| Input::Task(constant(&exec, i))).collect();
    let total = sum(&exec, parts);
    let plus = sum(&exec, vec![Input::Task(total.clone()), Input::Value(Value::new(1u64, 8))]);
    assert_eq!(value(plus), 4951);
    assert_eq!(total.status(), Status::Finished);
    assert!(total.key().starts_with("sum-"));
}

#[test]
fn failures_and_panics_reach_dependents() {
    let exec = Executor::new(2).unwrap();
    let bad = exec.submit("bad", Vec::new(), Box::new(|_| Err("no disk".into())), 0);
    let after = sum(&exec, vec![Input::Task(bad.clone())]);
    let err = after.into_outcome().unwrap_err();
    assert!(matches!(&err, Error::TaskFailed { op, message, .. } if op == "bad" && message == "no disk"), "{err}");
    let boom = exec.submit("boom", Vec::new(), Box::new(|_| panic!("boom")), 0);
    boom.wait();
    assert!(matches!(boom.error(), Some(Error::TaskPanicked { message, .. }) if message == "boom"));
    // A dependency that already failed fails a new task at once.
    assert_eq!(sum(&exec, vec![Input::Task(bad.clone())]).status(), Status::Error);
}

#[test]
fn retries_call_the_function_again() {
    let exec = Executor::new(1).unwrap();
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let flaky = exec.submit(
        "flaky",
        vec![Input::Value(Value::new(5u64, 8))],
        Box::new(move |v| {
            if seen.fetch_add(1, Ordering::SeqCst) < 2 {
                return Err("try again".into());
            }
            Ok(v[0].clone())
        }),
        2,
    );
    assert_eq!(value(flaky), 5);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn cancel_reaches_waiting_tasks() {
    let (exec, slow, gate) = blocked_executor();
    let after = sum(&exec, vec![Input::Task(slow.clone())]);
    assert!(cancel(&after));
    assert!(!cancel(&after));
    assert_eq!(after.status(), Status::Cancelled);
    assert_eq!(after.into_outcome().unwrap_err(), Error::Cancelled);
    gate.wait();
    assert_eq!(value(slow), 1);
}

#[test]
fn tasks_wait_for_tasks_they_submit() {
    let exec = Executor::new(1).unwrap();
    let outer = exec.submit(
        "outer",
        Vec::new(),
        Box::new(|_| {
            let exec = Executor::current().expect("on a worker");
            let inner: Vec<TaskHandle> = (0..10).map(|i| constant(&exec, i)).collect();
            let total: u64 = inner.into_iter().map(value).sum();
            Ok(Value::new(total, 8))
        }),
        0,
    );
    assert!(outer.wait_timeout(Duration::from_secs(10)));
    assert_eq!(value(outer), 45);
    assert!(Executor::current().is_none());
}

#[test]
fn values_are_freed_with_their_last_handle() {
    struct Counted(std::sync::Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = std::sync::Arc::new(AtomicUsize::new(0));
    let exec = Executor::new(2).unwrap();
    let d = dropped.clone();
    let t = exec.submit("make", Vec::new(), Box::new(move |_| Ok(Value::new(Counted(d.clone()), 8))), 0);
    t.wait();
    let copy = t.clone();
    drop(t);
    assert_eq!(dropped.load(Ordering::SeqCst), 0);
    drop(copy);
    // The worker drops its own handle just after it settles the task.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while dropped.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
    let ready = exec.ready("data", Value::new(7u64, 8));
    assert_eq!(value(ready), 7);
}

/// An executor with one worker, held on a barrier until the returned gate is passed.
fn blocked_executor() -> (Executor, TaskHandle, std::sync::Arc<std::sync::Barrier>) {
    let exec = Executor::new(1).unwrap();
    let gate = std::sync::Arc::new(std::sync::Barrier::new(2));
    let g = gate.clone();
    let slow = exec.submit(
        "slow",
        Vec::new(),
        Box::new(move |_| {
            g.wait();
            Ok(Value::new(1u64, 8))
        }),
        0,
    );
    (exec, slow, gate)
}

#[test]
fn tasks_nobody_holds_are_dropped_without_running() {
    let (exec, slow, gate) = blocked_executor();
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let counting = |inputs: Vec<Input>| {
        let r = runs.clone();
        exec.submit(
            "counted",
            inputs,
            Box::new(move |_| {
                r.fetch_add(1, Ordering::SeqCst);
                Ok(Value::new(0u64, 8))
            }),
            0,
        )
    };
    // Queued behind the blocked worker, then forgotten.
    drop(counting(Vec::new()));
    // Waiting on the blocked task, then forgotten.
    drop(counting(vec![Input::Task(slow.clone())]));
    // Forgotten, but read by a task that is held: it must run.
    let needed = counting(Vec::new());
    let reader = sum(&exec, vec![Input::Task(needed.clone())]);
    drop(needed);
    gate.wait();
    assert_eq!(value(reader), 0);
    assert_eq!(value(slow), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "only the task read by a held task ran");
}

#[test]
fn long_chains_drop_without_deep_recursion() {
    let (exec, slow, gate) = blocked_executor();
    // On a thread with a small stack: a recursive drop of 100,000 tasks would overflow it.
    let chain = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut last = slow.clone();
            for _ in 0..100_000 {
                last = sum(&exec, vec![Input::Task(last)]);
            }
            drop(last);
            let mut done = constant(&exec, 0);
            for _ in 0..100_000 {
                done = sum(&exec, vec![Input::Task(done)]);
            }
            (exec, slow, done)
        })
        .unwrap();
    gate.wait();
    let (_exec, slow, done) = chain.join().expect("no stack overflow");
    assert_eq!(value(slow), 1);
    assert_eq!(value(done), 0);
}

#[test]
fn identical_pure_tasks_are_one_while_held() {
    let exec = Executor::new(2).unwrap();
    let make = |x: u64| -> TaskFn { Box::new(move |_| Ok(Value::new(x, 8))) };
    let (t42, t43) = (kiln_ir::Token(42 << 96), kiln_ir::Token(43 << 96));
    let a = exec.submit_pure("inc", t42, Vec::new(), make(1), 0);
    let b = exec.submit_pure("inc", t42, Vec::new(), make(2), 0);
    assert!(a.same_task(&b));
    assert_eq!(a.key(), "inc-0000002a");
    let c = exec.submit_pure("inc", t43, Vec::new(), make(3), 0);
    assert!(!a.same_task(&c));
    assert_eq!(value(b), 1);
    drop(a);
    // Once no handle is held (the worker drops its own just after it settles the task), the
    // same token makes a new task.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while value(exec.submit_pure("inc", t42, Vec::new(), make(4), 0)) != 4 {
        assert!(std::time::Instant::now() < deadline, "the first task is still held");
        std::thread::yield_now();
    }
    assert_eq!(value(c), 3);
}
