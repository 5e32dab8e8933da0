//! `kiln::Client` and `kiln::Future` from a user's crate: the seed example (futures of
//! `load` passed to `summarize`), tuples of arguments, gather/map/scatter, errors and
//! retries, cancellation, `as_completed` order, `wait`, `.await` without an async runtime,
//! tasks submitting tasks, arrays and delayed graphs on the client, pure submits, tasks
//! dropped unrun with their last future, and values freed with their last handle.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use kiln::futures::{ReturnWhen, Status, TaskOptions, as_completed, wait};
use kiln::{Client, Error, Future};

fn load(file: String) -> Vec<u64> {
    file.bytes().map(u64::from).collect()
}

fn summarize(parts: Vec<Vec<u64>>) -> u64 {
    parts.iter().flatten().sum()
}

fn client() -> Client {
    Client::builder().threads(3).build().unwrap()
}

#[test]
fn the_seed_example() {
    let client = Client::local().unwrap();
    let filenames = ["a.csv", "bb.csv", "ccc.csv"];
    let futures: Vec<Future<Vec<u64>>> = filenames.iter().map(|f| client.submit(load, f.to_string())).collect();
    let summary = client.submit(summarize, futures);
    let expected: u64 = filenames.iter().flat_map(|f| load(f.to_string())).sum();
    assert_eq!(summary.result().unwrap(), expected);
    assert!(summary.key().starts_with("summarize-"));
    assert_eq!(summary.status(), Status::Finished);
}

#[test]
fn tuples_map_gather_and_scatter() {
    let client = client();
    let big = client.scatter(vec![1u64; 1000]);
    let x = client.submit(|v: Vec<u64>, k: u64| v.len() as u64 * k, (&big, 3u64));
    let y = client.submit(|a: u64, b: u64, c: String| a + b + c.len() as u64, (x.clone(), x, "abc".to_string()));
    assert_eq!(y.result().unwrap(), 6003);
    let squares = client.map(|i: u64| i * i, 0..100u64);
    let total = client.submit(|v: Vec<u64>| v.into_iter().sum::<u64>(), squares.clone());
    assert_eq!(client.gather(squares).unwrap(), (0..100u64).map(|i| i * i).collect::<Vec<_>>());
    assert_eq!(total.result().unwrap(), 328_350);
    assert_eq!(y.result_timeout(Duration::from_secs(5)).unwrap().unwrap(), 6003);
}

#[test]
fn errors_reach_dependents_and_retries_recover() {
    let client = client();
    let bad = client.submit(|s: String| s.parse::<u64>().expect("not a number"), "x".to_string());
    let after = client.submit(|v: u64| v + 1, &bad);
    let err = after.result().unwrap_err();
    assert!(matches!(&err, Error::Run(kiln::runtime::Error::TaskPanicked { key, .. }) if key == bad.key()), "{err}");
    assert_eq!(bad.error(), Some(err));
    assert_eq!(after.status(), Status::Error);
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let flaky = client.submit_with(
        TaskOptions::new().retries(3).name("flaky"),
        move |x: u64| {
            if c.fetch_add(1, Ordering::SeqCst) < 2 {
                panic!("transient");
            }
            x
        },
        9u64,
    );
    assert_eq!(flaky.result().unwrap(), 9);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(flaky.key().starts_with("flaky-"));
    assert!(client.gather(vec![flaky, after]).is_err());
}

#[test]
fn cancelled_tasks_and_their_dependents_end_cancelled() {
    let client = Client::builder().threads(1).build().unwrap();
    let gate = Arc::new(std::sync::Barrier::new(2));
    let g = gate.clone();
    let blocker = client.submit(
        move |()| {
            g.wait();
            1u64
        },
        (),
    );
    let queued = client.submit(|x: u64| x + 1, &blocker);
    let downstream = client.submit(|x: u64| x * 2, &queued);
    assert!(queued.cancel());
    assert!(!queued.cancel());
    assert_eq!(downstream.result().unwrap_err(), Error::Cancelled);
    assert_eq!(queued.status(), Status::Cancelled);
    assert!(downstream.done());
    gate.wait();
    assert_eq!(blocker.result().unwrap(), 1);
}

#[test]
fn as_completed_yields_in_completion_order_and_wait_returns_early() {
    let client = client();
    let sleep = |ms: u64| {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    };
    let fs = client.map(sleep, [300u64, 10, 150]);
    let order: Vec<u64> = as_completed(fs).map(|f| f.result().unwrap()).collect();
    assert_eq!(order, vec![10, 150, 300]);
    let fs = client.map(sleep, [400u64, 5]);
    let (done, not_done) = wait(fs, ReturnWhen::FirstCompleted);
    assert_eq!((done.len(), not_done.len()), (1, 1));
    assert_eq!(done[0].result().unwrap(), 5);
    let (done, not_done) = wait(not_done, ReturnWhen::AllCompleted);
    assert_eq!((done.len(), not_done.len()), (1, 0));
}

#[test]
fn futures_can_be_awaited_without_an_async_runtime() {
    struct Flag(AtomicUsize);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let client = client();
    let f = client.submit(
        |x: u64| {
            std::thread::sleep(Duration::from_millis(50));
            x + 1
        },
        41u64,
    );
    let flag = Arc::new(Flag(AtomicUsize::new(0)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(std::future::IntoFuture::into_future(f));
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    while flag.0.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(42))));
}

#[test]
fn tasks_submit_tasks_without_deadlock() {
    // One worker: the outer task must run its children itself while it waits.
    let client = Client::builder().threads(1).build().unwrap();
    let outer = client.submit(
        |n: u64| {
            let client = Client::current().expect("a task can get its client");
            let children = client.map(|i: u64| i * 10, 0..n);
            client.gather(children).unwrap().into_iter().sum::<u64>()
        },
        10u64,
    );
    assert_eq!(outer.result_timeout(Duration::from_secs(20)).expect("no deadlock").unwrap(), 450);
    assert!(Client::current().is_none());
}

#[test]
fn arrays_compute_and_persist_on_the_client() {
    use kiln::array as ka;
    let client = client();
    let x = ka::arange(0.0, 100.0, 1.0, [25]);
    let sum = client.compute(&x.sum());
    assert_eq!(sum.result().unwrap().into_scalar::<f64>().unwrap(), 4950.0);
    let kept = client.persist(&(&x * 2.0)).result().unwrap();
    assert_eq!(kept.chunks().to_string(), x.chunks().to_string());
    assert_eq!(kept.sum().compute().unwrap().into_scalar::<f64>().unwrap(), 9900.0);
}

#[test]
fn delayed_graphs_compute_and_persist_on_the_client() {
    let client = client();
    let parts: Vec<kiln::delayed::Delayed<Vec<u64>>> =
        ["a", "bb"].iter().map(|f| kiln::delayed!(load(f.to_string()))).collect();
    let total = kiln::delayed::call(summarize, parts);
    let f = client.compute(&total);
    assert_eq!(f.key(), total.key(), "the root task has the call's key");
    assert_eq!(f.result().unwrap(), 97 + 2 * 98);
    let kept = client.persist(&total).result().unwrap();
    assert_eq!(kept.key(), total.key());
    assert_eq!(kept.explain().lines().next().unwrap(), "delayed: 1 tasks, depth 1, 1 outputs");
    assert_eq!(kept.compute().unwrap(), 293);
    // A panic in a call names the call, as on kiln's own runtime.
    fn explode(x: u64) -> u64 {
        panic!("no {x}")
    }
    let bad = kiln::delayed!(explode(3));
    let err = client.compute(&bad).result().unwrap_err();
    assert_eq!(err.to_string(), format!("task {} (explode) panicked: no 3", bad.key()));
}

#[test]
fn identical_pure_submits_share_one_task() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    fn square(x: u64) -> u64 {
        CALLS.fetch_add(1, Ordering::SeqCst);
        x * x
    }
    let client = client();
    let a = client.submit_pure(square, 7u64);
    let b = client.submit_pure(square, 7u64);
    let c = client.submit_pure(square, 8u64);
    assert_eq!(a.key(), b.key());
    assert_ne!(a.key(), c.key());
    assert!(a.key().starts_with("square-"));
    // A future argument hashes as its key.
    let d = client.submit_pure(|x: u64| x + 1, &a);
    let e = client.submit_pure(|x: u64| x + 1, &a);
    assert_ne!(d.key(), e.key(), "two closures are two functions");
    assert_eq!(client.gather(vec![a, b, c, d]).unwrap(), vec![49, 49, 64, 50]);
    assert_eq!(e.result().unwrap(), 50);
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
}

#[test]
fn tasks_whose_futures_all_drop_do_not_run_unless_fired_and_forgotten() {
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let client = Client::builder().threads(1).build().unwrap();
    let gate = Arc::new(std::sync::Barrier::new(2));
    let g = gate.clone();
    let blocker = client.submit(move || g.wait().is_leader(), ());
    let count = |_: bool| {
        RAN.fetch_add(1, Ordering::SeqCst);
    };
    // Waiting on the blocker, then forgotten: never runs.
    drop(client.submit(count, &blocker));
    // Forgotten, but fired and forgotten: runs.
    client.fire_and_forget(client.submit(count, &blocker));
    gate.wait();
    blocker.wait();
    // The worker takes tasks in order: once this one is done, the others were taken.
    client.submit(|| (), ()).result().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while RAN.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(RAN.load(Ordering::SeqCst), 1);
}

#[test]
fn results_are_freed_when_the_last_handle_drops() {
    static DROPPED: AtomicUsize = AtomicUsize::new(0);
    #[derive(Clone)]
    struct Big(#[allow(dead_code)] Vec<u8>);
    impl Drop for Big {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }
    let client = client();
    let f = client.submit(|n: usize| Big(vec![0; n]), 1usize << 20);
    f.wait();
    let g = f.clone();
    drop(f);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(DROPPED.load(Ordering::SeqCst), 0, "a handle is left");
    drop(g);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while DROPPED.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(DROPPED.load(Ordering::SeqCst), 1);
    // A consumer holding the last handle gets the value (moved out when no other thread
    // still holds it for a moment, cloned otherwise), and every copy is freed.
    let src = client.submit(|n: usize| Big(vec![1; n]), 16usize);
    let len = client.submit(|b: Big| b.0.len(), src);
    assert_eq!(len.result().unwrap(), 16);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while DROPPED.load(Ordering::SeqCst) < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!((2..=3).contains(&DROPPED.load(Ordering::SeqCst)));
}
