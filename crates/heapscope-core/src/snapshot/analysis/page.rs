//! Phase 1: the page's nodes, those reachable from the root's user roots
//! without weak edges. An edge from outside the page into it does not
//! retain (see `essential`).

use super::bits::Bits;
use super::types::Types;
use crate::snapshot::Graph;
/// Nodes reachable from the root's user roots (shortcut edges, and element
/// edges to "(Document DOM trees)") without weak edges.
pub(super) fn page_owned(g: &Graph, t: &Types) -> Bits {
    // Bits, not bools: asked once an edge here and in `essential_edges`,
    // a bit a node stays in cache where a byte a node does not.
    let mut page = Bits::new(g.node_count);
    let mut stack = Vec::new();
    for e in g.edges(g.root) {
        let kind = g.edge_type(e);
        let to = g.edge_to(e);
        if kind == t.e_element {
            if !(g.node_type(to) == t.synthetic && g.node_name(to) == "(Document DOM trees)") {
                continue;
            }
        } else if kind != t.e_shortcut {
            continue;
        }
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

pub(super) fn is_user_root(g: &Graph, t: &Types, n: u32) -> bool {
    g.node_type(n) != t.synthetic || g.node_name(n) == "(Document DOM trees)"
}
