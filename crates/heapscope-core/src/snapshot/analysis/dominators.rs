//! Phase 4: the dominator tree over the essential edges (Lengauer–Tarjan's
//! semidominators, then Semi-NCA), with DevTools' treatment of the nodes
//! the root does not reach.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use super::bits::Bits;
use crate::snapshot::Graph;
/// The length of `z` in LEB128.
#[inline]
fn encoded_len(z: u32) -> u32 {
    1 + (31 - (z | 1).leading_zeros()) / 7
}

/// The essential retainers of each vertex (by preorder number) that come
/// after it in preorder, as LEB128 deltas to its number.
///
/// Only those need Lengauer–Tarjan's `eval`: a retainer `v` before `w` has
/// not been linked yet when `w`'s semidominator is computed, so it is its
/// own candidate and only the least of them matters. The DFS folds those
/// into `semi` as it meets them and counts the bytes of the others, so the
/// lists take one more pass over the edges, not two.
///
/// The lists lie in the order Lengauer–Tarjan reads them, the last vertex's
/// first, each ended by a zero byte (a delta is at least 1, and no byte of
/// its LEB128 but a lone `0` is zero): read in turn, they need no table of
/// where each starts, a node-sized array less at the dominators' peak.
struct Retainers {
    bytes: Vec<u8>,
    /// The lists of at least [`SHARED_FROM`] bytes, in reading order: their
    /// vertex and bytes (without the closing zero).
    long: Vec<(u32, std::ops::Range<usize>)>,
}

impl Retainers {
    /// Fills the lists from the edges the DFS left essential (the later
    /// retainers) and the byte counts it made in `counts` (by number,
    /// `1..=vertices`).
    fn build(g: &Graph, essential: &Bits, pre: &[u32], mut counts: Vec<u32>, vertices: usize) -> Retainers {
        // Each list's end (where its zero goes), the last vertex's list
        // first; filling then walks each back to its start.
        let mut total = 0u64;
        let mut long = Vec::new();
        for (w, slot) in counts[1..=vertices].iter_mut().enumerate().rev() {
            if *slot as usize >= SHARED_FROM {
                long.push((w as u32 + 1, total as usize..total as usize + *slot as usize));
            }
            total += *slot as u64 + 1;
            *slot = u32::try_from(total - 1).expect("retainer lists over 4 GiB");
        }
        let mut bytes = vec![0u8; total as usize];
        for v in 0..g.node_count as u32 {
            let from = pre[v as usize];
            for e in g.edges(v) {
                if essential.get(e) {
                    let w = pre[g.edge_to(e) as usize];
                    let mut z = from - w;
                    let len = encoded_len(z);
                    let start = counts[w as usize] - len;
                    counts[w as usize] = start;
                    for byte in &mut bytes[start as usize..(start + len) as usize] {
                        *byte = (z as u8 & 0x7f) | if z >= 0x80 { 0x80 } else { 0 };
                        z >>= 7;
                    }
                }
            }
        }
        Retainers { bytes, long }
    }

    /// The lists in turn, from the last vertex's (see [`Cursor::next_list`]).
    fn cursor(&self) -> Cursor<'_> {
        Cursor { bytes: &self.bytes, at: 0 }
    }
}

/// Reads [`Retainers`] list after list.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    /// Moves past the next list, which is `list` (read elsewhere).
    fn skip(&mut self, list: &std::ops::Range<usize>) {
        debug_assert_eq!(self.at, list.start);
        self.at = list.end + 1;
    }

    /// Calls `each` with every later essential retainer of `w`, whose list
    /// must be the next one; returns whether there was any.
    #[inline]
    fn next_list(&mut self, w: u32, mut each: impl FnMut(u32)) -> bool {
        let begin = self.at;
        while self.bytes[self.at] != 0 {
            each(w + leb128(self.bytes, &mut self.at));
        }
        self.at += 1;
        self.at - 1 > begin
    }
}

/// Depth-first numbering over the essential edges, which also sorts each
/// essential edge by where its source falls in preorder against its target.
struct Dfs {
    /// By node: its preorder number (0: not yet).
    pre: Vec<u32>,
    /// By preorder number: the node, and its DFS parent's number (the
    /// root's is 1; 0 means none).
    vertex: Vec<u32>,
    parent: Vec<u32>,
    /// By preorder number: the least earlier retainer (or the vertex itself).
    semi: Vec<u32>,
    /// By preorder number: the bytes of its later retainers' list.
    later_bytes: Vec<u32>,
    /// Each open node with its next and end edge: the cursor lives on the
    /// stack, whose top is always in cache, not in a node-sized array.
    stack: Vec<(u32, u32, u32)>,
    n: u32,
}

impl Dfs {
    fn new(count: usize) -> Dfs {
        Dfs {
            pre: vec![0; count],
            vertex: vec![u32::MAX; count + 1],
            parent: vec![0; count + 1],
            semi: (0..=count as u32).collect(),
            later_bytes: vec![0; count + 2],
            stack: Vec::new(),
            n: 0,
        }
    }

    fn number(&mut self, v: u32, parent_number: u32) {
        self.n += 1;
        self.pre[v as usize] = self.n;
        self.vertex[self.n as usize] = v;
        self.parent[self.n as usize] = parent_number;
    }

    /// An essential edge between numbered vertices: from an earlier one it
    /// is folded into `semi` and stops being essential; from a later one it
    /// is counted for [`Retainers`].
    /// (A function of the two arrays, not of `self`, so that it can be
    /// called while the stack is borrowed.)
    #[inline]
    fn sort_edge(semi: &mut [u32], later_bytes: &mut [u32], essential: &mut Bits, e: usize, from: u32, to: u32) {
        if from < to {
            let semi = &mut semi[to as usize];
            *semi = (*semi).min(from);
            essential.clear(e);
        } else {
            later_bytes[to as usize] += encoded_len(from - to);
        }
    }

    fn run(&mut self, g: &Graph, essential: &mut Bits, start: u32, start_parent: u32) {
        self.number(start, start_parent);
        self.stack.push((start, g.first_edge[start as usize], g.first_edge[start as usize + 1]));
        while let Some(&mut (v, ref mut next, end)) = self.stack.last_mut() {
            let from = self.pre[v as usize];
            let mut child = None;
            while *next < end {
                let e = *next as usize;
                *next += 1;
                if essential.get(e) {
                    let w = g.edge_to(e);
                    let to = self.pre[w as usize];
                    if to == 0 {
                        child = Some((w, e));
                        break;
                    }
                    Dfs::sort_edge(&mut self.semi, &mut self.later_bytes, essential, e, from, to);
                }
            }
            match child {
                Some((w, e)) => {
                    self.number(w, from);
                    Dfs::sort_edge(&mut self.semi, &mut self.later_bytes, essential, e, from, self.n);
                    self.stack.push((w, g.first_edge[w as usize], g.first_edge[w as usize + 1]));
                }
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}

/// Immediate dominators over the essential edges, and the nodes in DFS preorder.
///
/// Lengauer–Tarjan's semidominators (link–eval with path compression), then
/// the NCA walk of Semi-NCA for the dominators themselves, which needs no
/// buckets. The DFS and DevTools' treatment of nodes the root does not
/// reach are DevTools' own: nodes with no essential retainer start DFS
/// trees hanging off the root, and what is still unvisited hangs off the
/// root directly. Vertices are numbered 1.. in DFS preorder; 0 means none.
///
/// `second`, when given, says when a second thread is free: from then on
/// the few longest retainer lists (most of the work: on service heaps the
/// 40 longest hold four fifths of the retainers) are read on both.
pub(super) fn dominators(
    g: &Graph,
    essential: &mut Bits,
    retained_at_all: &Bits,
    second: Option<&AtomicBool>,
) -> Dominators {
    let count = g.node_count;
    let mut dfs = Dfs::new(count);
    dfs.run(g, essential, g.root, 0);
    if (dfs.n as usize) < count {
        // Nodes whose retainers are all non-essential start trees of their
        // own under the root; what is still unvisited hangs off the root.
        for v in 0..count as u32 {
            if dfs.pre[v as usize] == 0 && !retained_at_all.get(v as usize) {
                dfs.run(g, essential, v, 1);
            }
        }
        let unvisited = dfs.n + 1;
        for v in 0..count as u32 {
            if dfs.pre[v as usize] == 0 {
                dfs.number(v, 1);
            }
        }
        // No DFS went through these: sort their edges now that every vertex
        // has its number.
        for from in unvisited..=dfs.n {
            let v = dfs.vertex[from as usize];
            for e in g.edges(v) {
                if essential.get(e) {
                    let to = dfs.pre[g.edge_to(e) as usize];
                    Dfs::sort_edge(&mut dfs.semi, &mut dfs.later_bytes, essential, e, from, to);
                }
            }
        }
    }
    let Dfs { pre, vertex, parent, mut semi, later_bytes, .. } = dfs;
    // `vertex` is `pre` inverted: dropped while the lists are built (the
    // dominators' largest moment) and made again from `pre` after.
    drop(vertex);
    let preds = Retainers::build(g, essential, &pre, later_bytes, count);
    let mut vertex = vec![u32::MAX; count + 1];
    for (v, &number) in pre.iter().enumerate() {
        vertex[number as usize] = v as u32;
    }
    drop(pre);
    // The last vertex's list is read first.
    let mut lists = preds.cursor();
    let mut long = preds.long.iter().peekable();
    let linked = Linked::new(count + 1);
    let mut path: Vec<u32> = Vec::new();
    std::thread::scope(|scope| {
        // A helper for the few long lists, once the second thread is free.
        let mut helper: Option<mpsc::Sender<Share>> = None;
        for w in (2..=count as u32).rev() {
            let mut best = semi[w as usize];
            let later = match long.next_if(|(v, _)| *v == w) {
                Some((_, list)) => {
                    let free = second.is_some_and(|free| cfg!(feature = "fuzzing") || free.load(Ordering::Acquire));
                    if helper.is_none() && free {
                        helper = linked.helper(scope, &preds.bytes);
                    }
                    best = best.min(linked.least_shared(&preds.bytes, Share::of(w, list), helper.as_ref(), &mut path));
                    lists.skip(list);
                    true
                }
                None => lists.next_list(w, |v| best = best.min(linked.eval(v, &mut path))),
            };
            // A vertex with no essential retainer is dominated by the root.
            let any = later || semi[w as usize] < w;
            semi[w as usize] = if any { best } else { 1 };
            linked.link(w, parent[w as usize], semi[w as usize]);
        }
    });
    drop(preds);
    let least_semi = linked.into_least_semi();
    // idom(w) is the nearest common ancestor of parent(w) and semi(w) in the
    // dominator tree built so far: walk up from the parent.
    let mut idom = least_semi;
    idom[1] = 1;
    for w in 2..=count {
        let mut d = parent[w];
        while d > semi[w] {
            d = idom[d as usize];
        }
        idom[w] = d;
    }
    drop(parent);
    drop(semi);
    let mut dominator = vec![0u32; count];
    dominator[vertex[1] as usize] = vertex[1];
    for w in 2..=count {
        dominator[vertex[w] as usize] = vertex[idom[w] as usize];
    }
    // Nodes in preorder: vertex without its unused slot 0.
    vertex.remove(0);
    Dominators { dominator, preorder: vertex }
}

/// Lists of this many bytes are shared with a second thread (the fuzzer
/// shares short ones, so that its small graphs take this path).
const SHARED_FROM: usize = if cfg!(feature = "fuzzing") { 4 } else { 32 << 10 };
/// Bytes of a shared list claimed at a time.
const CLAIM: usize = if cfg!(feature = "fuzzing") { 2 } else { 4 << 10 };
/// Steps a helper's read-only walk takes before it hands the vertex back.
const HELPER_STEPS: usize = 32;

/// Lengauer–Tarjan's linked forest (by preorder number): each linked
/// vertex's ancestor (0: not linked) and the least semidominator on the
/// path from it up to that ancestor, which it excludes. Of the labels only
/// their semidominators are ever compared or returned, so each vertex keeps
/// that least semi itself: one random access less per step.
///
/// Atomics, so that a helper can walk it while this thread compresses it
/// (on x86 and arm64 the relaxed loads and stores are plain ones). The one
/// writer stores a vertex's least semi before its new ancestor (release);
/// a walk loads the ancestor first (acquire), so the least semi it then
/// reads covers at least up to that ancestor. More is harmless: a walk
/// takes the least over the whole path to its tree's root anyway, and no
/// compression reaches past that root.
struct Linked {
    ancestor: Vec<AtomicU32>,
    least_semi: Vec<AtomicU32>,
}

impl Linked {
    fn new(len: usize) -> Linked {
        let zeros = || (0..len).map(|_| AtomicU32::new(0)).collect();
        Linked { ancestor: zeros(), least_semi: zeros() }
    }

    #[inline]
    fn ancestor(&self, v: u32) -> u32 {
        self.ancestor[v as usize].load(Ordering::Acquire)
    }

    #[inline]
    fn least(&self, v: u32) -> u32 {
        self.least_semi[v as usize].load(Ordering::Relaxed)
    }

    /// The least semis, the forest dropped.
    fn into_least_semi(self) -> Vec<u32> {
        drop(self.ancestor);
        // (Collected in place: the same allocation.)
        self.least_semi.into_iter().map(AtomicU32::into_inner).collect()
    }

    /// Links `w` (whose semidominator is now known) below its DFS parent.
    fn link(&self, w: u32, parent: u32, semi: u32) {
        self.least_semi[w as usize].store(semi, Ordering::Relaxed);
        self.ancestor[w as usize].store(parent, Ordering::Release);
    }

    /// eval(v): the least semidominator on the path from the linked `v` up
    /// to its tree's root, compressing the path. This thread only. (Every
    /// retainer a list holds comes later in preorder, so it is linked.)
    #[inline]
    fn eval(&self, v: u32, path: &mut Vec<u32>) -> u32 {
        let mut x = v;
        path.clear();
        while self.ancestor(self.ancestor(x)) != 0 {
            path.push(x);
            x = self.ancestor(x);
        }
        while let Some(y) = path.pop() {
            let a = self.ancestor(y);
            self.least_semi[y as usize].store(self.least(y).min(self.least(a)), Ordering::Relaxed);
            self.ancestor[y as usize].store(self.ancestor(a), Ordering::Release);
        }
        self.least(v)
    }

    /// The same answer without compressing, for a helper: `None` when the
    /// path is longer than [`HELPER_STEPS`] (the compressing thread takes it).
    #[inline]
    fn peek(&self, v: u32) -> Option<u32> {
        let mut x = v;
        let mut least = u32::MAX;
        for _ in 0..HELPER_STEPS {
            let a = self.ancestor(x);
            least = least.min(self.least(x));
            if self.ancestor(a) == 0 {
                return Some(least);
            }
            x = a;
        }
        None
    }

    /// Starts the helper that reads shares of long lists; `None` when no
    /// thread can be started.
    fn helper<'s, 'e: 's>(
        &'e self,
        scope: &'s std::thread::Scope<'s, 'e>,
        bytes: &'e [u8],
    ) -> Option<mpsc::Sender<Share>> {
        let (jobs, next_job) = mpsc::channel::<Share>();
        std::thread::Builder::new()
            .name("heapscope-dominators".into())
            .spawn_scoped(scope, move || {
                while let Ok(share) = next_job.recv() {
                    share.help(self, bytes);
                }
            })
            .ok()
            .map(|_| jobs)
    }

    /// The least eval of the retainers of `share` whose LEB128 starts
    /// within `claim`, on this thread.
    fn least_of(&self, bytes: &[u8], share: &Share, claim: std::ops::Range<usize>, path: &mut Vec<u32>) -> u32 {
        let mut best = u32::MAX;
        values(bytes, claim, share.list.start, share.w, |v| best = best.min(self.eval(v, path)));
        best
    }

    /// The least eval over a long list, read on this thread and on the
    /// helper, which claim [`CLAIM`] bytes of it at a time. The helper may be
    /// busy or late: what it has not claimed when this thread runs out is
    /// this thread's, and if it fails, this thread reads the whole list.
    fn least_shared(&self, bytes: &[u8], share: Share, jobs: Option<&mpsc::Sender<Share>>, path: &mut Vec<u32>) -> u32 {
        let Some(jobs) = jobs else {
            return self.least_of(bytes, &share, share.list.clone(), path);
        };
        let list = share.list.clone();
        let (done, answer) = mpsc::channel();
        let posted = jobs.send(Share { done: Some(done), ..share.clone() }).is_ok();
        if cfg!(feature = "fuzzing") {
            // Give the helper time to come, so that the fuzzer's short
            // lists are read on both threads.
            for _ in 0..10_000 {
                if share.state.load(Ordering::Acquire) != Share::POSTED {
                    break;
                }
                std::thread::yield_now();
            }
        }
        let mut best = u32::MAX;
        while let Some(claim) = share.claim() {
            best = best.min(self.least_of(bytes, &share, claim, path));
        }
        // Either the helper never came to this list (and now never will),
        // or wait for what it claimed.
        let helped = posted
            && share.state.compare_exchange(Share::POSTED, Share::CLOSED, Ordering::AcqRel, Ordering::Acquire).is_err();
        if helped {
            match answer.recv() {
                Ok((least, handed_back)) => {
                    best = best.min(least);
                    for v in handed_back {
                        best = best.min(self.eval(v, path));
                    }
                }
                // The helper is gone mid-list: read all of it here.
                Err(_) => best = best.min(self.least_of(bytes, &share, list, path)),
            }
        }
        best
    }
}

/// Calls `each` with the retainers of `w` whose LEB128 starts within
/// `claim` of their list, which starts at `list_start` (a value starts
/// there or after a byte below 0x80); `claim` ends before its closing zero.
#[inline]
fn values(bytes: &[u8], claim: std::ops::Range<usize>, list_start: usize, w: u32, mut each: impl FnMut(u32)) {
    let mut at = claim.start;
    while at > list_start && bytes[at - 1] >= 0x80 {
        at += 1;
    }
    while at < claim.end {
        each(w + leb128(bytes, &mut at));
    }
}

/// The LEB128 value at `at`, which moves past it.
#[inline(always)]
fn leb128(bytes: &[u8], at: &mut usize) -> u32 {
    let mut z = 0u32;
    let mut shift = 0;
    loop {
        let b = bytes[*at];
        *at += 1;
        z |= ((b & 0x7f) as u32) << shift;
        shift += 7;
        if b < 0x80 {
            return z;
        }
    }
}

/// A long retainer list shared with the helper: its bytes, claimed a
/// piece at a time.
#[derive(Clone)]
struct Share {
    /// The list's vertex, and its bytes without the closing zero.
    w: u32,
    list: std::ops::Range<usize>,
    /// Where the next unclaimed piece starts.
    next: Arc<AtomicUsize>,
    state: Arc<AtomicU8>,
    /// Where the helper sends its least eval and the vertices it handed back.
    done: Option<mpsc::Sender<(u32, Vec<u32>)>>,
}

impl Share {
    const POSTED: u8 = 0;
    const HELPING: u8 = 1;
    const CLOSED: u8 = 2;

    /// The list of `w`, not yet posted.
    fn of(w: u32, list: &std::ops::Range<usize>) -> Share {
        Share {
            w,
            list: list.clone(),
            next: Arc::new(AtomicUsize::new(list.start)),
            state: Arc::new(AtomicU8::new(Share::POSTED)),
            done: None,
        }
    }

    fn claim(&self) -> Option<std::ops::Range<usize>> {
        let start = self.next.fetch_add(CLAIM, Ordering::Relaxed);
        (start < self.list.end).then(|| start..(start + CLAIM).min(self.list.end))
    }

    /// On the helper: reads what it can claim, unless the list was closed.
    fn help(self, linked: &Linked, bytes: &[u8]) {
        let entered = self.state.compare_exchange(Share::POSTED, Share::HELPING, Ordering::AcqRel, Ordering::Acquire);
        if entered.is_err() {
            return;
        }
        let mut least = u32::MAX;
        let mut handed_back = Vec::new();
        while let Some(claim) = self.claim() {
            values(bytes, claim, self.list.start, self.w, |v| match linked.peek(v) {
                Some(l) => least = least.min(l),
                None => handed_back.push(v),
            });
        }
        if let Some(done) = self.done {
            let _ = done.send((least, handed_back));
        }
    }
}

/// The result of phase 4: each node's immediate dominator (the root's is
/// itself), and the nodes in the DFS preorder the tree was built in.
pub(super) struct Dominators {
    pub(super) dominator: Vec<u32>,
    preorder: Vec<u32>,
}

impl Dominators {
    /// Retained sizes: each node's shallow size plus its children's retained
    /// sizes, summed children before parents (reverse preorder).
    pub(super) fn retained_sizes(&self, self_sizes: &[u32]) -> Vec<f64> {
        let mut retained: Vec<f64> = self_sizes.iter().map(|&s| s as f64).collect();
        for &node in self.preorder.iter().skip(1).rev() {
            retained[self.dominator[node as usize] as usize] += retained[node as usize];
        }
        retained
    }
}

/// The dominator tree walked downwards: each node's children, in DevTools'
/// order (CSR: `children[first[n]..first[n + 1]]`).
pub struct DominatorTree {
    first: Vec<u32>,
    children: Vec<u32>,
}

impl DominatorTree {
    /// The nodes `n` immediately dominates.
    #[inline]
    pub fn children(&self, n: u32) -> &[u32] {
        &self.children[self.first[n as usize] as usize..self.first[n as usize + 1] as usize]
    }
}

/// Children of each node in the dominator tree, in DevTools' order.
pub(super) fn dominated_nodes(g: &Graph, dominator: &[u32]) -> DominatorTree {
    let count = g.node_count;
    let mut first = vec![0u32; count + 1];
    let mut nodes = vec![0u32; count.saturating_sub(1)];
    let is_root = |o: usize| o == g.root as usize;
    for o in (0..count).filter(|&o| !is_root(o)) {
        first[dominator[o] as usize] += 1;
    }
    let mut slot = 0u32;
    for entry in &mut first[..count] {
        let c = *entry;
        if (slot as usize) < nodes.len() {
            nodes[slot as usize] = c;
        }
        *entry = slot;
        slot += c;
    }
    first[count] = nodes.len() as u32;
    for o in (0..count).filter(|&o| !is_root(o)) {
        let d = dominator[o] as usize;
        let base = first[d] as usize;
        nodes[base] -= 1;
        let at = base + nodes[base] as usize;
        nodes[at] = o as u32;
    }
    DominatorTree { first, children: nodes }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::super::essential::essential_edges;
    use super::super::page::page_owned;
    use super::super::types::Types;
    use super::dominators;
    use crate::snapshot::test_graph::TestGraph;
    use crate::snapshot::Graph;

    /// Pieces of a list claimed at any byte read each retainer once: the
    /// one whose piece holds its first byte.
    #[test]
    fn claimed_pieces_read_each_retainer_once() {
        let mut seed = 0x9e37_79b9_u64;
        let mut random = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..200 {
            let mut deltas = Vec::new();
            for _ in 0..1 + random(50) {
                let bits = 1 + random(31);
                deltas.push(1 + random(1 << bits) as u32);
            }
            let mut bytes = vec![0xffu8; 3];
            let start = bytes.len();
            for &z in &deltas {
                let mut z = z;
                for _ in 0..super::encoded_len(z) {
                    bytes.push((z as u8 & 0x7f) | if z >= 0x80 { 0x80 } else { 0 });
                    z >>= 7;
                }
            }
            let end = bytes.len();
            bytes.push(0);
            let (w, piece) = (1000, 1 + random(9) as usize);
            let mut read = Vec::new();
            for at in (start..end).step_by(piece) {
                super::values(&bytes, at..(at + piece).min(end), start, w, |v| read.push(v - w));
            }
            assert_eq!(read, deltas, "pieces of {piece} bytes");
        }
    }

    fn tree_of(g: &Graph, second: Option<&AtomicBool>) -> Vec<u32> {
        let t = Types::of(g);
        let page = page_owned(g, &t);
        let (mut essential, retained_at_all) = essential_edges(g, &t, &page, 0..g.node_count as u32);
        dominators(g, &mut essential, &retained_at_all, second).dominator
    }

    /// The longest retainer lists are read on two threads when a second is
    /// free: the tree is the one a single thread builds. Six hubs, each held
    /// by 20,000 objects under one holder and by one more reached from the
    /// root around it, two steps down in the linked forest: that one
    /// retainer alone makes the root the hub's dominator, wherever in the
    /// list it falls and whichever thread reads it.
    #[test]
    fn long_lists_read_on_two_threads_give_one_threads_tree() {
        let mut t = TestGraph::new();
        let mut hubs = Vec::new();
        for j in 0..6 {
            let a = t.node("object", "A", 8);
            let hub = t.node("object", "Hub", 10);
            let holder = t.node("object", "X", 8);
            t.edge(0, "shortcut", "a", a).edge(a, "property", "hub", hub).edge(a, "property", "x", holder);
            for i in 0..20_000 {
                let o = t.node("object", "O", 8);
                t.edge(holder, "element", &i.to_string(), o);
                if i == 2_800 * (j + 1) {
                    // Around the holder: root → s1 → s2 → hub.
                    let s2 = t.node("object", "S", 8);
                    t.edge(0, "shortcut", "s", o).edge(o, "property", "s", s2).edge(s2, "property", "hub", hub);
                } else {
                    t.edge(o, "property", "hub", hub);
                }
            }
            hubs.push(hub);
        }
        let g = t.graph();
        let alone = tree_of(&g, None);
        assert!(hubs.iter().all(|&h| alone[h] == 0), "each hub hangs off the root");
        let free = AtomicBool::new(true);
        for _ in 0..3 {
            assert!(tree_of(&g, Some(&free)) == alone, "the trees differ");
        }
    }
}
