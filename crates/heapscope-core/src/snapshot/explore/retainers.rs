//! Each node's retaining edges (CSR by node ordinal), in the order DevTools
//! keeps them: its worker fills each node's slots from the end while it
//! walks the edges, so the last retainer (by ordinal, then edge order)
//! comes first. Ties in the Retainers view and in retaining paths are
//! broken by this order.

use crate::snapshot::Graph;

pub(super) struct Retainers {
    /// `edges[first[n]..first[n + 1]]` are the edges into node `n`.
    first: Vec<u32>,
    edges: Vec<u32>,
}

impl Retainers {
    pub(super) fn of(g: &Graph) -> Retainers {
        let mut first = vec![0u32; g.node_count + 1];
        for e in 0..g.edge_count {
            first[g.edge_to(e) as usize + 1] += 1;
        }
        for n in 0..g.node_count {
            first[n + 1] += first[n];
        }
        // Each node's end, filled backwards in edge order.
        let mut end: Vec<u32> = first[1..].to_vec();
        let mut edges = vec![0u32; g.edge_count];
        for e in 0..g.edge_count {
            let slot = &mut end[g.edge_to(e) as usize];
            *slot -= 1;
            edges[*slot as usize] = e as u32;
        }
        Retainers { first, edges }
    }

    pub(super) fn of_node(&self, n: u32) -> &[u32] {
        &self.edges[self.first[n as usize] as usize..self.first[n as usize + 1] as usize]
    }

    /// Node `n`'s retaining edges with each one's source node. A node's
    /// edges are kept in decreasing order, so each source is at or before
    /// the previous one: found by galloping back from it, a few steps for
    /// each of a hidden class's hundreds of thousands of retainers rather
    /// than a binary search over every node.
    pub(super) fn with_sources<'a>(&'a self, g: &'a Graph, n: u32) -> impl Iterator<Item = (u32, u32)> + 'a {
        let first_edge = &g.first_edge[..g.node_count];
        let mut source = g.node_count - 1;
        self.of_node(n).iter().map(move |&e| {
            source = source_at_or_before(first_edge, source, e);
            (e, source as u32)
        })
    }
}

/// The source of edge `e` (the last node whose first edge is at most `e`),
/// known to be at most `bound`. `first_edge` is sorted and starts at 0.
fn source_at_or_before(first_edge: &[u32], bound: usize, e: u32) -> usize {
    let mut high = bound;
    if first_edge[high] <= e {
        return high;
    }
    // Step back 1, 2, 4 … until a node starts at or before `e`, then search between.
    let mut step = 1;
    let low = loop {
        let low = high.saturating_sub(step);
        if first_edge[low] <= e {
            break low;
        }
        high = low;
        step *= 2;
    };
    low + first_edge[low..high].partition_point(|&first| first <= e) - 1
}
