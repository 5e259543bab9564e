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
}
