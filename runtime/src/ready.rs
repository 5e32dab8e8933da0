//! The ready tasks of a threaded run, smallest id (highest priority) first, in two parts:
//!
//! - [`ReadyFront`], read and claimed without the run's queue lock: the tasks with no
//!   dependencies (every source block), ready from the start, in a sorted list whose cursor
//!   threads advance with a compare-and-swap; and the smallest id in the heap, published for
//!   those claims to respect;
//! - [`ReadyHeap`], under the queue lock: the tasks made ready by their last dependency.
//!
//! A thread whose task made nothing ready takes its next source blocks without locking the
//! queue, a batch at a time while many are left (`Job::root_batch`), so a graph of a million
//! source blocks does not pass a million times through one lock, and each thread works on
//! neighbouring blocks, whose reductions then mostly read values made on the same thread.
//! A thread runs its batch in id order unless a smaller task is in the heap; a claim made
//! while another thread pushes a smaller id may run ahead of it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::loom::{AtomicU32, AtomicUsize, Ordering};

/// The part of the ready tasks read without the queue lock.
pub(crate) struct ReadyFront {
    /// Tasks with no dependencies, in increasing id order; `roots[next_root..]` are not
    /// claimed yet.
    roots: Box<[u32]>,
    next_root: AtomicUsize,
    /// The heap's smallest id (`u32::MAX` when it is empty), stored under the queue lock.
    heap_min: AtomicU32,
}

impl ReadyFront {
    /// `roots` in increasing order.
    pub(crate) fn new(roots: Vec<u32>) -> ReadyFront {
        debug_assert!(roots.is_sorted());
        ReadyFront { roots: roots.into(), next_root: AtomicUsize::new(0), heap_min: AtomicU32::new(u32::MAX) }
    }

    /// Claims up to `most` of the next unclaimed roots whose ids are below `limit` (none,
    /// if the first is not).
    fn claim_below(&self, most: usize, limit: u32) -> &[u32] {
        let mut at = self.next_root.load(Ordering::SeqCst);
        loop {
            let next = self.roots.get(at..).unwrap_or_default();
            let n = next.iter().take(most).take_while(|&&r| r < limit).count();
            if n == 0 {
                return &[];
            }
            match self.next_root.compare_exchange_weak(at, at + n, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return &next[..n],
                Err(now) => at = now,
            }
        }
    }

    /// Without the queue lock: claims up to `most` of the next unclaimed roots that come
    /// before every task in the heap, appending them to `into` in id order.
    pub(crate) fn claim_roots(&self, most: usize, into: &mut VecDeque<u32>) {
        into.extend(self.claim_below(most, self.heap_min.load(Ordering::SeqCst)));
    }

    /// The heap's smallest id as last published (`u32::MAX`: empty).
    pub(crate) fn heap_first(&self) -> u32 {
        self.heap_min.load(Ordering::SeqCst)
    }

    /// The smallest ready id, as seen without the queue lock (`u32::MAX`: none).
    pub(crate) fn first(&self) -> u32 {
        let root = self.roots.get(self.next_root.load(Ordering::SeqCst)).copied().unwrap_or(u32::MAX);
        root.min(self.heap_min.load(Ordering::SeqCst))
    }

    /// Roots not claimed yet.
    pub(crate) fn roots_left(&self) -> usize {
        self.roots.len().saturating_sub(self.next_root.load(Ordering::SeqCst))
    }
}

/// The tasks made ready by their last dependency, smallest id on top (under the queue lock).
#[derive(Default)]
pub(crate) struct ReadyHeap {
    heap: BinaryHeap<Reverse<u32>>,
}

impl ReadyHeap {
    /// Takes the smallest ready id, a root or from the heap.
    pub(crate) fn pop(&mut self, front: &ReadyFront) -> Option<u32> {
        let top = self.heap.peek().map_or(u32::MAX, |r| r.0);
        let taken = front.claim_below(1, top).first().copied().or_else(|| self.heap.pop().map(|Reverse(t)| t));
        self.publish(front);
        taken
    }

    pub(crate) fn push(&mut self, tasks: &[u32], front: &ReadyFront) {
        self.heap.extend(tasks.iter().map(|&t| Reverse(t)));
        self.publish(front);
    }

    /// Ready tasks, roots included (a snapshot: roots may be claimed meanwhile).
    pub(crate) fn len(&self, front: &ReadyFront) -> usize {
        self.heap.len() + front.roots_left()
    }

    /// Drops every ready task (the run failed).
    pub(crate) fn clear(&mut self, front: &ReadyFront) {
        self.heap.clear();
        front.next_root.store(front.roots.len(), Ordering::SeqCst);
        self.publish(front);
    }

    fn publish(&self, front: &ReadyFront) {
        front.heap_min.store(self.heap.peek().map_or(u32::MAX, |r| r.0), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_and_heap_pop_in_id_order() {
        let front = ReadyFront::new(vec![0, 3, 7, 9]);
        let mut heap = ReadyHeap::default();
        assert_eq!(heap.pop(&front), Some(0));
        heap.push(&[5, 2], &front);
        assert_eq!(front.first(), 2);
        let mut claimed = VecDeque::new();
        front.claim_roots(4, &mut claimed);
        assert!(claimed.is_empty(), "2 in the heap comes before root 3");
        assert_eq!(heap.pop(&front), Some(2));
        front.claim_roots(4, &mut claimed);
        assert_eq!(claimed, [3], "5 in the heap comes before root 7");
        assert_eq!(heap.len(&front), 3);
        assert_eq!(heap.pop(&front), Some(5));
        front.claim_roots(1, &mut claimed);
        assert_eq!(claimed, [3, 7]);
        assert_eq!(heap.pop(&front), Some(9));
        assert_eq!(heap.pop(&front), None);
        assert_eq!(front.first(), u32::MAX);
    }

    #[test]
    fn concurrent_claims_take_each_root_once_in_order() {
        let front = ReadyFront::new((0..100_000).collect());
        let claimed: Vec<Vec<u32>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        let mut got = VecDeque::new();
                        loop {
                            let before = got.len();
                            front.claim_roots(1 + before % 7, &mut got);
                            if got.len() == before {
                                return Vec::from(got);
                            }
                        }
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert!(claimed.iter().all(|c| c.is_sorted()), "each thread's claims come in id order");
        let mut all: Vec<u32> = claimed.concat();
        all.sort_unstable();
        assert_eq!(all, (0..100_000).collect::<Vec<_>>());
    }

    #[test]
    fn clearing_leaves_nothing_to_claim() {
        let front = ReadyFront::new(vec![1, 2, 3]);
        let mut heap = ReadyHeap::default();
        heap.push(&[0], &front);
        heap.clear(&front);
        assert_eq!(heap.len(&front), 0);
        let mut claimed = VecDeque::new();
        front.claim_roots(8, &mut claimed);
        assert!(claimed.is_empty());
        assert_eq!(heap.pop(&front), None);
    }
}
