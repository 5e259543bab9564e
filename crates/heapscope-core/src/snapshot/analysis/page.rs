//! Phase 1: the page's nodes, those reachable from the root's user roots
//! without weak edges. An edge from outside the page into it does not
//! retain (see `essential`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use super::bits::{Bits, SharedBits};
use super::types::Types;
use crate::snapshot::Graph;

/// Where the search starts: the root's shortcut edges, and its element
/// edges to "(Document DOM trees)".
fn seeds<'a>(g: &'a Graph, t: &'a Types) -> impl Iterator<Item = u32> + 'a {
    g.edges(g.root)
        .filter(move |&e| {
            let kind = g.edge_type(e);
            if kind == t.e_element {
                let to = g.edge_to(e);
                g.node_type(to) == t.synthetic && g.node_name(to) == "(Document DOM trees)"
            } else {
                kind == t.e_shortcut
            }
        })
        .map(move |e| g.edge_to(e))
}

/// Nodes reachable from the root's user roots (shortcut edges, and element
/// edges to "(Document DOM trees)") without weak edges.
pub(super) fn page_owned(g: &Graph, t: &Types) -> Bits {
    // Bits, not bools: asked once an edge here and in `essential_edges`,
    // a bit a node stays in cache where a byte a node does not.
    let mut page = Bits::new(g.node_count);
    let mut stack = Vec::new();
    for to in seeds(g, t) {
        stack.push(to);
        page.set(to as usize);
    }
    while let Some(n) = stack.pop() {
        for e in g.edges(n) {
            let to = g.edge_to(e);
            if page.get(to as usize) || g.edge_type(e) == t.e_weak {
                continue;
            }
            page.set(to as usize);
            stack.push(to);
        }
    }
    page
}

/// The same search on several threads at once ([`PageSearch::work`] on
/// each). Each node is claimed by one thread, which follows its edges; a
/// thread out of work says it is hungry and a busy one hands it half of
/// its stack, so that one seed reaching the whole heap (the usual case: a
/// handful of globals) still splits the work.
pub(super) struct PageSearch<'g> {
    g: &'g Graph,
    t: &'g Types,
    page: SharedBits,
    pool: Mutex<Pool>,
    handed: Condvar,
    hungry: AtomicBool,
}

struct Pool {
    /// Nodes handed over, claimed and not yet followed.
    nodes: Vec<u32>,
    /// Threads searching, and those of them waiting for work: when all
    /// wait, the search is over.
    workers: usize,
    waiting: usize,
    /// A thread left without finishing its share (it panicked): the page
    /// is incomplete and must be found again.
    abandoned: bool,
    /// Times a thread handed work to a hungry one.
    handoffs: usize,
}

/// Pops between two looks at whether another thread is hungry.
const LOOK_EVERY: u32 = 1024;

impl<'g> PageSearch<'g> {
    pub(super) fn new(g: &'g Graph, t: &'g Types, workers: usize) -> PageSearch<'g> {
        PageSearch {
            g,
            t,
            page: SharedBits::new(g.node_count),
            pool: Mutex::new(Pool { nodes: Vec::new(), workers, waiting: 0, abandoned: false, handoffs: 0 }),
            handed: Condvar::new(),
            hungry: AtomicBool::new(false),
        }
    }

    fn pool(&self) -> MutexGuard<'_, Pool> {
        // Nothing panics while holding the lock; a poisoned one is still consistent.
        self.pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Thread `index` of `workers`' part of the search; returns once every
    /// thread is out of work, with the page's nodes, or `None` when a
    /// thread left early.
    pub(super) fn work(&self, index: usize) -> Option<Bits> {
        let (g, t) = (self.g, self.t);
        // Leaving by a panic must not leave the others waiting for this thread.
        let leaving = Leaving(self);
        let workers = self.pool().workers;
        let mut stack: Vec<u32> = seeds(g, t)
            .enumerate()
            .filter(|&(i, to)| i % workers == index && self.page.claim(to as usize))
            .map(|(_, to)| to)
            .collect();
        let mut pops = 0u32;
        loop {
            while let Some(n) = stack.pop() {
                for e in g.edges(n) {
                    let to = g.edge_to(e);
                    if g.edge_type(e) != t.e_weak && self.page.claim(to as usize) {
                        stack.push(to);
                    }
                }
                pops += 1;
                if pops == LOOK_EVERY {
                    pops = 0;
                    if self.hungry.load(Ordering::Relaxed) && stack.len() > 1 {
                        let mut pool = self.pool();
                        pool.nodes.extend(stack.drain(..stack.len() / 2));
                        pool.handoffs += 1;
                        self.hungry.store(false, Ordering::Relaxed);
                        self.handed.notify_all();
                    }
                }
            }
            let mut pool = self.pool();
            loop {
                if pool.abandoned {
                    std::mem::forget(leaving);
                    return None;
                }
                if !pool.nodes.is_empty() {
                    stack.append(&mut pool.nodes);
                    break;
                }
                pool.waiting += 1;
                if pool.waiting == pool.workers {
                    self.handed.notify_all();
                    std::mem::forget(leaving);
                    // Every thread has set its last bit before taking this lock.
                    return Some(self.page.to_bits());
                }
                self.hungry.store(true, Ordering::Relaxed);
                pool = self.handed.wait(pool).unwrap_or_else(|poisoned| poisoned.into_inner());
                pool.waiting -= 1;
            }
        }
    }
}

/// Dropped only when a searching thread unwinds: it marks the search
/// abandoned and wakes the others.
struct Leaving<'a, 'g>(&'a PageSearch<'g>);

impl Drop for Leaving<'_, '_> {
    fn drop(&mut self) {
        let mut pool = self.0.pool();
        pool.abandoned = true;
        self.0.handed.notify_all();
    }
}

pub(super) fn is_user_root(g: &Graph, t: &Types, n: u32) -> bool {
    g.node_type(n) != t.synthetic || g.node_name(n) == "(Document DOM trees)"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::test_graph::TestGraph;

    /// A heap of `count` objects that one global reaches, each holding a
    /// few others chosen by a fixed pseudo-random walk; some edges are
    /// weak, and the last tenth of the objects are held by nothing.
    fn heap(count: usize, weak_every: usize) -> TestGraph {
        let mut t = TestGraph::new();
        let global = t.node("object", "global", 10);
        t.edge(0, "shortcut", "global", global);
        let first = global + 1;
        for i in 0..count {
            t.node("object", &format!("O{}", i % 7), 8);
        }
        let held = count - count / 10;
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |bound: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % bound as u64) as usize
        };
        t.edge(global, "property", "o", first);
        for i in 0..count {
            for k in 0..3 {
                let to = first + next(held);
                let kind = if (i * 3 + k) % weak_every == 0 { "weak" } else { "property" };
                t.edge(first + i, kind, &format!("p{k}"), to);
            }
        }
        t
    }

    /// The page as each of `workers` threads searching at once returns it.
    fn searched(g: &Graph, workers: usize) -> (Vec<Bits>, usize) {
        let t = Types::of(g);
        let search = PageSearch::new(g, &t, workers);
        let pages: Vec<Option<Bits>> = std::thread::scope(|scope| {
            let others: Vec<_> = (1..workers)
                .map(|i| {
                    scope.spawn({
                        let search = &search;
                        move || search.work(i)
                    })
                })
                .collect();
            let mine = search.work(0);
            std::iter::once(mine).chain(others.into_iter().map(|h| h.join().unwrap())).collect()
        });
        let handoffs = search.pool().handoffs;
        (pages.into_iter().map(|p| p.expect("no thread left early")).collect(), handoffs)
    }

    fn members(g: &Graph, page: &Bits) -> Vec<u32> {
        (0..g.node_count as u32).filter(|&n| page.get(n as usize)).collect()
    }

    #[test]
    fn threads_find_the_page_one_thread_finds() {
        for (count, weak_every) in [(30_000, 5), (20_000, 2), (5, 3)] {
            let g = heap(count, weak_every).graph();
            let alone = members(&g, &page_owned(&g, &Types::of(&g)));
            assert!(alone.len() > 1 && alone.len() < g.node_count, "a page of {} nodes", alone.len());
            for workers in [1, 2, 3] {
                for round in 0..10 {
                    for (i, page) in searched(&g, workers).0.iter().enumerate() {
                        assert_eq!(members(&g, page), alone, "{count} objects, thread {i} of {workers}, round {round}");
                    }
                }
            }
        }
    }

    #[test]
    fn one_seed_is_shared_out() {
        // One global reaches everything: the second thread starts with
        // nothing and only works what the first hands it.
        let g = heap(200_000, 7).graph();
        let handed: usize = (0..5).map(|_| searched(&g, 2).1).sum();
        assert!(handed > 0, "no work was handed over in 5 searches");
    }

    #[test]
    fn a_thread_that_panics_leaves_no_one_waiting() {
        // The other thread unwinds out of its share: this one must not wait
        // for it, and must not take its page for complete.
        let g = heap(50_000, 5).graph();
        let t = Types::of(&g);
        let search = PageSearch::new(&g, &t, 2);
        let mine = std::thread::scope(|scope| {
            let other = scope.spawn(|| {
                let _unwinding = Leaving(&search);
                std::thread::sleep(std::time::Duration::from_millis(50));
                panic!("the other thread fails");
            });
            let mine = search.work(0);
            assert!(other.join().is_err());
            mine
        });
        assert!(mine.is_none(), "a page found without the other thread's share");
    }
}
