//! Phase 5: distances, DevTools' BFS from the user roots and then from the
//! root, skipping weak edges, descriptor-array links and the first edge of
//! each WeakMap pair; the BFS parent edge of each node gives retainer paths.

use super::bits::Bits;
use super::essential::weak_map_edge;
use super::page::is_user_root;
use super::types::Types;

/// A node no BFS reached.
pub(super) const NO_DISTANCE: i32 = -5;
/// Where the second BFS, from the root, starts: past every user root's reach.
const BASE_SYSTEM_DISTANCE: i32 = 100_000_000;
use crate::snapshot::Graph;
/// DevTools' distances (BFS from user roots, then from the root), with the
/// BFS parent edge of each node for retainer paths.
pub(super) fn distances(g: &Graph, t: &Types) -> (Vec<i32>, Vec<u32>) {
    let mut distance = vec![NO_DISTANCE; g.node_count];
    let mut parent = vec![u32::MAX; g.node_count];
    // The nodes with a distance: a bit each, which stays in cache where
    // the distances do not; the BFS goes level by level, so it knows each
    // node's distance without reading it back.
    let mut seen = Bits::new(g.node_count);
    let mut queue: Vec<u32> = Vec::with_capacity(g.node_count);
    for e in g.edges(g.root) {
        let to = g.edge_to(e);
        if is_user_root(g, t, to) {
            seen.set(to as usize);
            distance[to as usize] = 1;
            parent[to as usize] = e as u32;
            queue.push(to);
        }
    }
    let mut pending_ephemerons: std::collections::HashSet<String> = std::collections::HashSet::new();
    let native_context_map = |n: u32, e: usize| -> bool {
        g.node_type(n) == t.hidden
            && g.node_name(n) == "system / NativeContext"
            && g.edge_type(e) != t.e_element
            && g.edge_type(e) != t.e_hidden
            && g.string(g.edge_name_index(e) as usize) == "sloppy_function_map"
    };
    let mut bfs = |queue: &mut Vec<u32>, distance: &mut [i32], parent: &mut [u32], seen: &mut Bits, from: i32| {
        let (mut i, mut level_end, mut d) = (0, queue.len(), from + 1);
        while i < queue.len() {
            if i == level_end {
                level_end = queue.len();
                d += 1;
            }
            let n = queue[i];
            i += 1;
            for e in g.edges(n) {
                let kind = g.edge_type(e);
                if kind == t.e_weak {
                    continue;
                }
                let to = g.edge_to(e);
                if seen.get(to as usize) {
                    continue;
                }
                // DevTools' filter.
                if native_context_map(n, e) {
                    continue;
                }
                if g.node_type(n) == t.array && g.node_name(n) == "(map descriptors)" {
                    let index: i64 = edge_name_number(g, t, e);
                    if !(index < 2 || index % 3 != 1) {
                        continue;
                    }
                }
                if kind == t.e_internal {
                    if let Some((part, _)) = weak_map_edge(g.string(g.edge_name_index(e) as usize)) {
                        if !pending_ephemerons.remove(part) {
                            pending_ephemerons.insert(part.to_string());
                            continue;
                        }
                    }
                }
                seen.set(to as usize);
                distance[to as usize] = d;
                parent[to as usize] = e as u32;
                queue.push(to);
            }
        }
    };
    bfs(&mut queue, &mut distance, &mut parent, &mut seen, 1);
    let root = if queue.is_empty() { 0 } else { BASE_SYSTEM_DISTANCE };
    seen.set(g.root as usize);
    distance[g.root as usize] = root;
    queue.clear();
    queue.push(g.root);
    bfs(&mut queue, &mut distance, &mut parent, &mut seen, root);
    (distance, parent)
}

/// `parseInt(edge.name(), 10)` for DevTools' descriptor-array rule.
fn edge_name_number(g: &Graph, t: &Types, e: usize) -> i64 {
    let kind = g.edge_type(e);
    let name = g.edge_name_index(e);
    if kind == t.e_element || kind == t.e_hidden {
        return name as i64;
    }
    let text = g.string(name as usize);
    let digits: String = text.trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
    // NaN compares false both ways: `NaN < 2 || NaN % 3 !== 1` is true, so keep the edge.
    digits.parse().unwrap_or(0)
}
