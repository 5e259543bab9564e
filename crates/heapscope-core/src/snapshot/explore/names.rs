//! Names as DevTools' worker writes and sorts them: a node's display name
//! (a concatenated string spelled out, a plain object by its properties)
//! and the order of edge names.
//!
//! JavaScript compares strings by UTF-16 code units, Rust by code points:
//! the two orders differ only between characters above U+FFFF and those
//! from U+E000 to U+FFFF.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

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

/// The display names of many nodes, each distinct one made once and
/// compared as a number: a hub's retainers are mostly a few classes, or
/// plain objects of a few shapes, so naming 300,000 of them builds a
/// handful of strings.
pub(super) struct Names<'a> {
    analysis: &'a Analysis<'a>,
    texts: Vec<Cow<'a, str>>,
    /// Names that are a string of the snapshot, by its index.
    by_string: HashMap<u32, u32>,
    /// Plain objects' names, by their property names' indexes in edge order.
    by_properties: HashMap<Vec<u32>, u32>,
    properties: Vec<u32>,
    /// The edge type `property`.
    property: u32,
}

impl<'a> Names<'a> {
    pub(super) fn new(analysis: &'a Analysis<'a>) -> Names<'a> {
        Names {
            analysis,
            texts: Vec::new(),
            by_string: HashMap::new(),
            by_properties: HashMap::new(),
            properties: Vec::new(),
            property: analysis.graph.layout.edge_type_id("property"),
        }
    }

    /// A number for node `n`'s display name (two numbers may stand for one
    /// name: compare them by [`Names::ranks`]).
    pub(super) fn id(&mut self, n: u32) -> u32 {
        let g = self.analysis.graph;
        let kind = g.layout.node_types.get(g.node_type(n) as usize).map(String::as_str);
        let next = self.texts.len() as u32;
        let id = match kind {
            Some("concatenated string") => next,
            Some("object") if g.node_name(n) == "Object" => {
                let property = self.property;
                self.properties.clear();
                self.properties
                    .extend(g.edges(n).filter(|&e| g.edge_type(e) == property).map(|e| g.edge_name_index(e)));
                match self.by_properties.get(self.properties.as_slice()) {
                    Some(&id) => id,
                    None => *self.by_properties.entry(self.properties.clone()).or_insert(next),
                }
            }
            _ => *self.by_string.entry(g.node_name_index(n)).or_insert(next),
        };
        if id == next {
            self.texts.push(display_name_of(self.analysis, n));
        }
        id
    }

    /// Each id's place in the order of the names, equal names equal.
    pub(super) fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.texts.len() as u32).collect();
        order.sort_unstable_by(|&x, &y| self.texts[x as usize].cmp(&self.texts[y as usize]));
        let mut ranks = vec![0u32; order.len()];
        for (i, pair) in order.windows(2).enumerate() {
            let same = self.texts[pair[0] as usize] == self.texts[pair[1] as usize];
            ranks[pair[1] as usize] = if same { ranks[pair[0] as usize] } else { i as u32 + 1 };
        }
        ranks
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
fn sort_name(g: &Graph, e: usize) -> (bool, SortName<'_>) {
    let kind = g.layout.edge_types.get(g.edge_type(e) as usize).map(String::as_str);
    let index = g.edge_name_index(e);
    match kind {
        Some("element" | "hidden") => (false, SortName::index(index)),
        Some("shortcut") => {
            let name = g.string(index as usize);
            // parseInt: a name that starts with a number is a number.
            let numeric = name.trim_start().trim_start_matches(['+', '-']).starts_with(|c: char| c.is_ascii_digit());
            (!numeric, SortName::Text(name))
        }
        _ => (true, SortName::Text(g.string(index as usize))),
    }
}

/// An edge name to compare: a string of the snapshot, or an index written
/// out in decimal on the stack (an array's million elements sort without
/// a million allocations).
enum SortName<'a> {
    Text(&'a str),
    Index { digits: [u8; 10], start: u8 },
}

impl SortName<'_> {
    fn index(mut value: u32) -> SortName<'static> {
        let mut digits = [0u8; 10];
        let mut start = 10;
        loop {
            start -= 1;
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        SortName::Index { digits, start: start as u8 }
    }

    fn as_str(&self) -> &str {
        match self {
            SortName::Text(text) => text,
            // ASCII digits only.
            SortName::Index { digits, start } => std::str::from_utf8(&digits[*start as usize..]).unwrap_or(""),
        }
    }
}

/// DevTools' `!edgeName` order: `__proto__` last, names before indexes,
/// then by the name.
pub(super) fn edge_name_order(g: &Graph, x: usize, y: usize) -> Ordering {
    let (x_named, x_name) = sort_name(g, x);
    let (y_named, y_name) = sort_name(g, y);
    let (x_name, y_name) = (x_name.as_str(), y_name.as_str());
    if y_name == "__proto__" {
        return Ordering::Less;
    }
    if x_name == "__proto__" {
        return Ordering::Greater;
    }
    if x_named == y_named {
        x_name.cmp(y_name)
    } else if x_named {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}
