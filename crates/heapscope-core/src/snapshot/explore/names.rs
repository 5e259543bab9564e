//! Names as DevTools' worker writes and sorts them: a node's display name
//! (a concatenated string spelled out, a plain object by its properties)
//! and the order of edge names.
//!
//! JavaScript compares strings by UTF-16 code units, Rust by code points:
//! the two orders differ only between characters above U+FFFF and those
//! from U+E000 to U+FFFF.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::snapshot::analysis::{format_property, Analysis};
use crate::snapshot::Graph;

/// Longest name DevTools spells out for a concatenated string, in UTF-16 units.
const CONS_NAME: usize = 1024;
/// Longest `{a, b, …}` name, in UTF-16 units (at least one property is always written).
const PLAIN_NAME: usize = 100;

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Node `n`'s name as DevTools shows it: a concatenated string's parts
/// joined (up to about 1,024 characters), a plain object (`Object`) as
/// `{a, b, …}` by its own properties, any other node by its name.
pub fn display_name(a: &Analysis, n: u32) -> String {
    display_name_of(a, n).into_owned()
}

/// [`display_name`], borrowed from the snapshot's strings where it is one.
pub(super) fn display_name_of<'a>(a: &Analysis<'a>, n: u32) -> Cow<'a, str> {
    let g = a.graph;
    let kind = g.layout.node_types.get(g.node_type(n) as usize).map(String::as_str);
    match kind {
        Some("concatenated string") => Cow::Owned(cons_string_name(g, n)),
        Some("object") if g.node_name(n) == "Object" => Cow::Owned(plain_object_name(g, n)),
        _ => Cow::Borrowed(g.node_name(n)),
    }
}

/// The parts of a concatenated string, depth first (`first`, then `second`).
fn cons_string_name(g: &Graph, n: u32) -> String {
    let cons = g.layout.node_type_id("concatenated string");
    let internal = g.layout.edge_type_id("internal");
    let mut name = String::new();
    let mut length = 0;
    let mut stack = vec![n];
    while let Some(at) = stack.pop() {
        if length >= CONS_NAME {
            break;
        }
        if g.node_type(at) != cons {
            let part = g.node_name(at);
            length += utf16_len(part);
            name.push_str(part);
            continue;
        }
        let (mut first, mut second) = (None, None);
        for e in g.edges(at).filter(|&e| g.edge_type(e) == internal) {
            match g.string(g.edge_name_index(e) as usize) {
                "first" if first.is_none() => first = Some(g.edge_to(e)),
                "second" if second.is_none() => second = Some(g.edge_to(e)),
                _ => {}
            }
            if first.is_some() && second.is_some() {
                break;
            }
        }
        // Popped first, read first.
        stack.extend(second);
        stack.extend(first);
    }
    name
}

/// `{a, b, …, y, z}`: property names taken alternately from the start and
/// the end of the object's edges until the name would pass 100 characters.
fn plain_object_name(g: &Graph, n: u32) -> String {
    let property = g.layout.edge_type_id("property");
    let names: Vec<String> = g
        .edges(n)
        .filter(|&e| g.edge_type(e) == property)
        .map(|e| g.string(g.edge_name_index(e) as usize))
        .filter(|&name| name != "__proto__")
        .map(format_property)
        .collect();
    let (mut start, mut end) = (vec![], vec![]);
    let (mut from_start, mut from_end) = (0usize, names.len());
    // Lengths of "{" + start's names joined by ", " and of end's joined + "}".
    let (mut start_len, mut end_len) = (1usize, 1usize);
    let mut next_from_end = false;
    while from_start < from_end {
        let formatted = if next_from_end { &names[from_end - 1] } else { &names[from_start] };
        let len = utf16_len(formatted);
        if start_len > 1 && start_len + end_len + len > PLAIN_NAME {
            break;
        }
        if next_from_end {
            from_end -= 1;
            end_len += len + if end_len > 1 { 2 } else { 0 };
            end.push(formatted.as_str());
        } else {
            from_start += 1;
            start_len += len + if start_len > 1 { 2 } else { 0 };
            start.push(formatted.as_str());
        }
        next_from_end = !next_from_end;
    }
    let mut name = format!("{{{}", start.join(", "));
    if from_start < from_end {
        name.push_str(", …");
    }
    if !end.is_empty() {
        end.reverse();
        name.push_str(", ");
        name.push_str(&end.join(", "));
    }
    name.push('}');
    name
}

/// An edge's name as DevTools sorts it: `[n]` edges (elements, hidden) by
/// their index written out, others by their string.
fn sort_name(g: &Graph, e: usize) -> (bool, std::borrow::Cow<'_, str>) {
    let kind = g.layout.edge_types.get(g.edge_type(e) as usize).map(String::as_str);
    let index = g.edge_name_index(e);
    match kind {
        Some("element" | "hidden") => (false, index.to_string().into()),
        Some("shortcut") => {
            let name = g.string(index as usize);
            // parseInt: a name that starts with a number is a number.
            let numeric = name.trim_start().trim_start_matches(['+', '-']).starts_with(|c: char| c.is_ascii_digit());
            (!numeric, name.into())
        }
        _ => (true, g.string(index as usize).into()),
    }
}

/// DevTools' `!edgeName` order: `__proto__` last, names before indexes,
/// then by the name.
pub(super) fn edge_name_order(g: &Graph, x: usize, y: usize) -> Ordering {
    let (x_named, x_name) = sort_name(g, x);
    let (y_named, y_name) = sort_name(g, y);
    if y_name == "__proto__" {
        return Ordering::Less;
    }
    if x_name == "__proto__" {
        return Ordering::Greater;
    }
    if x_named == y_named {
        x_name.cmp(&y_name)
    } else if x_named {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}
