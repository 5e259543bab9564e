//! Phase 3: essential edges, those that retain: not weak, not to the node
//! itself, not a WeakMap table's edge to a value, not a shortcut from
//! anything but the root, not from outside the page into it.

use super::bits::Bits;
use super::page::page_owned;
use super::types::Types;
use crate::snapshot::{Graph, NodeId};
/// `<n> / part of key (…) -> value (…) pair in WeakMap (table @<id>)`:
/// returns the part after the leading number and the table's id.
pub(super) fn weak_map_edge(name: &str) -> Option<(&str, u32)> {
    let digits = name.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let rest = &name[digits..];
    let inner = rest.strip_prefix(" / part of key (")?;
    let (body, table) = inner.rsplit_once(") pair in WeakMap (table @")?;
    let table = table.strip_suffix(')')?;
    if table.is_empty() || !table.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // body = "<key> @<id>) -> value (<value> @<id>"
    let (_, value_id) = body.rsplit_once(" @")?;
    if value_id.is_empty() || !value_id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let found = body.match_indices(") -> value (").any(|(at, _)| {
        body[..at].rsplit_once(" @").is_some_and(|(_, id)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    });
    if !found {
        return None;
    }
    Some((rest, table.parse().ok()?))
}

/// The essential edges of `nodes`, and the nodes they retain.
pub(super) fn essential_edges(g: &Graph, t: &Types, page: &Bits, nodes: std::ops::Range<u32>) -> (Bits, Bits) {
    let mut essential = Bits::new(g.edge_count);
    let mut retained = Bits::new(g.node_count);
    let mut not_weak_map = vec![false; g.strings.len()];
    for n in nodes {
        for e in g.edges(n) {
            let kind = g.edge_type(e);
            if kind == t.e_internal {
                let name_index = g.edge_name_index(e) as usize;
                if !not_weak_map[name_index] {
                    match weak_map_edge(g.string(name_index)) {
                        Some((_, table)) if NodeId(table) == g.node_id(n) => continue,
                        Some(_) => {}
                        None => not_weak_map[name_index] = true,
                    }
                }
            }
            if kind == t.e_weak {
                continue;
            }
            let to = g.edge_to(e);
            if to == n {
                continue;
            }
            if n != g.root {
                if kind == t.e_shortcut {
                    continue;
                }
                if page.get(to as usize) && !page.get(n as usize) {
                    continue;
                }
            }
            essential.set(e);
            retained.set(to as usize);
        }
    }
    (essential, retained)
}

/// The edges the dominator tree is computed over, as (from, to) node
/// ordinals: for checking the tree against another algorithm. The analysis
/// itself keeps them as one bit an edge.
pub fn retaining_edges(g: &Graph) -> Vec<(u32, u32)> {
    let t = Types::of(g);
    let page = page_owned(g, &t);
    let (essential, _) = essential_edges(g, &t, &page, 0..g.node_count as u32);
    (0..g.node_count as u32)
        .flat_map(|n| g.edges(n).map(move |e| (n, e)))
        .filter(|&(_, e)| essential.get(e))
        .map(|(n, e)| (n, g.edge_to(e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_map_edge_names() {
        let name = "12 / part of key (Object @3) -> value (Object @5) pair in WeakMap (table @7)";
        let (part, table) = weak_map_edge(name).unwrap();
        assert_eq!(table, 7);
        assert!(part.starts_with(" / part of key"));
        assert!(weak_map_edge("12 / something else").is_none());
        assert!(weak_map_edge("part of key (a @1) -> value (b @2) pair in WeakMap (table @3)").is_none());
    }
}
