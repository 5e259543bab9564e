//! Phase 2: shallow sizes. DevTools moves the size of hidden and array
//! nodes (and external string data) owned by exactly one object to that
//! object, unless the snapshot has no user roots.

use super::page::is_user_root;
use super::types::Types;
use crate::snapshot::Graph;
/// Self sizes after moving single-owner hidden/array nodes' sizes to their owner.
pub(super) fn shallow_sizes(g: &Graph, t: &Types) -> Vec<u32> {
    let mut sizes: Vec<u32> = (0..g.node_count as u32).map(|n| g.self_size(n)).collect();
    if !g.edges(g.root).any(|e| is_user_root(g, t, g.edge_to(e))) {
        return sizes;
    }
    const UNVISITED: u32 = u32::MAX;
    const MULTIPLE: u32 = u32::MAX - 1;
    let mut owners = vec![0u32; g.node_count];
    let mut work = Vec::new();
    for n in 0..g.node_count as u32 {
        let ty = g.node_type(n);
        if ty == t.hidden || ty == t.array || (ty == t.native && g.node_name(n) == "system / ExternalStringData") {
            owners[n as usize] = UNVISITED;
        } else {
            owners[n as usize] = n;
            work.push(n);
        }
    }
    while let Some(id) = work.pop() {
        let owner = owners[id as usize];
        for e in g.edges(id) {
            if g.edge_type(e) == t.e_weak {
                continue;
            }
            let target = g.edge_to(e);
            let current = owners[target as usize];
            if current == UNVISITED {
                owners[target as usize] = owner;
                work.push(target);
            } else if current == target || current == owner || current == MULTIPLE {
            } else {
                owners[target as usize] = MULTIPLE;
                work.push(target);
            }
        }
    }
    for n in 0..g.node_count {
        let owner = owners[n];
        if owner == UNVISITED || owner == MULTIPLE || owner as usize == n {
            continue;
        }
        if g.node_type(owner) == t.synthetic || owner == g.root {
            continue;
        }
        let moved = sizes[n];
        sizes[n] = 0;
        sizes[owner as usize] = sizes[owner as usize].wrapping_add(moved);
    }
    sizes
}
