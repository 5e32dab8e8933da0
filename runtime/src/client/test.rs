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
