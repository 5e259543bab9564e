//! Phase 4: the dominator tree over the essential edges (Lengauer–Tarjan's
//! semidominators, then Semi-NCA), with DevTools' treatment of the nodes
//! the root does not reach.

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
}

impl Retainers {
    /// Fills the lists from the edges the DFS left essential (the later
    /// retainers) and the byte counts it made in `counts` (by number,
    /// `1..=vertices`).
    fn build(g: &Graph, essential: &Bits, pre: &[u32], mut counts: Vec<u32>, vertices: usize) -> Retainers {
        // Each list's end (where its zero goes), the last vertex's list
        // first; filling then walks each back to its start.
        let mut total = 0u64;
        for slot in counts[1..=vertices].iter_mut().rev() {
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
        Retainers { bytes }
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
    /// Calls `each` with every later essential retainer of `w`, whose list
    /// must be the next one; returns whether there was any.
    #[inline]
    fn next_list(&mut self, w: u32, mut each: impl FnMut(u32)) -> bool {
        let begin = self.at;
        loop {
            let mut b = self.bytes[self.at];
            self.at += 1;
            if b == 0 {
                return self.at - 1 > begin;
            }
            let mut z = 0u32;
            let mut shift = 0;
            loop {
                z |= ((b & 0x7f) as u32) << shift;
                shift += 7;
                if b < 0x80 {
                    break;
                }
                b = self.bytes[self.at];
                self.at += 1;
            }
            each(w + z);
        }
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
pub(super) fn dominators(g: &Graph, essential: &mut Bits, retained_at_all: &Bits) -> Dominators {
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
    // Of Lengauer–Tarjan's labels only their semidominators are ever
    // compared or returned, so each linked vertex keeps the least semi on
    // its compressed path itself: one random access less per step.
    let mut least_semi = vec![0u32; count + 1];
    let mut ancestor = vec![0u32; count + 1];
    let mut path: Vec<u32> = Vec::new();
    for w in (2..=count as u32).rev() {
        let mut best = semi[w as usize];
        let later = lists.next_list(w, |v| {
            // eval(v): the least semidominator on v's linked path.
            let least = if ancestor[v as usize] == 0 {
                semi[v as usize]
            } else {
                let mut x = v;
                path.clear();
                while ancestor[ancestor[x as usize] as usize] != 0 {
                    path.push(x);
                    x = ancestor[x as usize];
                }
                while let Some(y) = path.pop() {
                    let a = ancestor[y as usize];
                    least_semi[y as usize] = least_semi[y as usize].min(least_semi[a as usize]);
                    ancestor[y as usize] = ancestor[a as usize];
                }
                least_semi[v as usize]
            };
            best = best.min(least);
        });
        // A vertex with no essential retainer is dominated by the root.
        let any = later || semi[w as usize] < w;
        semi[w as usize] = if any { best } else { 1 };
        least_semi[w as usize] = semi[w as usize];
        ancestor[w as usize] = parent[w as usize];
    }
    drop(preds);
    drop(ancestor);
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
