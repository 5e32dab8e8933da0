//! The one place the runtime takes its synchronization primitives from, so that a model
//! checker such as loom can stand in for `std` by changing this file alone (STYLE.md §21).

pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

/// Locks `mutex`, going on when a thread panicked while holding it: the runtime catches
/// every panic of a task, so a poisoned lock only means a value's `Drop` panicked, and the
/// data behind the runtime's locks is consistent at every unlock.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits on `condvar`, releasing `guard` while asleep; poisoning is ignored as in [`lock`].
pub(crate) fn wait<'a, T>(condvar: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    condvar.wait(guard).unwrap_or_else(std::sync::PoisonError::into_inner)
}
