//! Phase 6–7: class names and keys, and the Summary rows. Nodes are named
//! as DevTools names them (`(system)`, `(compiled code)`, `Function`,
//! `(string)` …, DOM tags without attributes), plain objects by their most
//! common property sets (`{a, b}`), objects split by constructor location;
//! a row counts the members with a self size of their own and sums the
//! retained size of the topmost members in the dominator tree.

use std::collections::HashMap;

use super::dominators::DominatorTree;
use super::types::Types;
use super::ClassRow;
use crate::snapshot::traces::SiteTally;
use crate::snapshot::Graph;

/// Class names the analysis makes up (`(system)`, `{a, b}`, `<div>` …), by
/// class id: ids below the snapshot's string count are its strings, the
/// rest index these.
struct AddedNames {
    first_id: u32,
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl AddedNames {
    fn new(g: &Graph) -> AddedNames {
        AddedNames { first_id: g.strings.len() as u32, names: Vec::new(), index: HashMap::new() }
    }

    /// The class id of `name`, added on first use.
    fn id(&mut self, name: String) -> u32 {
        if let Some(&id) = self.index.get(&name) {
            return id;
        }
        let id = self.first_id + self.names.len() as u32;
        self.names.push(name.clone());
        self.index.insert(name, id);
        id
    }
}

/// Phase 6's result: every node's class id (its name, before any location
/// splits it) and the interface definitions that named plain objects.
pub(super) struct ClassNames {
    class_of: Vec<u32>,
    added: AddedNames,
    interfaces: Vec<Interface>,
    shapes: PlainShapes,
}

/// Phase 6: names each node's class as DevTools does. Plain objects take
/// the given interface definitions, or those inferred from this snapshot.
pub(super) fn name_classes(g: &Graph, t: &Types, interfaces: Option<&[Interface]>) -> ClassNames {
    let mut added = AddedNames::new(g);
    let system = added.id("(system)".into());
    let code = added.id("(compiled code)".into());
    let function = added.id("Function".into());
    let regexp = added.id("RegExp".into());
    // `(string)`, `(number)` …: made on first use (ids go by first use),
    // once per node type, not once per node.
    let mut of_type: Vec<Option<u32>> = vec![None; g.layout.node_types.len()];
    let mut class_of = Vec::with_capacity(g.node_count);
    for n in 0..g.node_count as u32 {
        let ty = g.node_type(n);
        let class = if ty == t.hidden {
            system
        } else if ty == t.object || ty == t.native {
            let name = g.node_name(n);
            if let Some(short) = dom_tag_class(name) {
                added.id(short)
            } else {
                g.node_name_index(n)
            }
        } else if ty == t.code {
            code
        } else if ty == t.closure {
            function
        } else if ty == t.regexp {
            regexp
        } else {
            *of_type[ty as usize].get_or_insert_with(|| added.id(format!("({})", g.layout.node_types[ty as usize])))
        };
        class_of.push(class);
    }
    let shapes = PlainShapes::of(g, t);
    let definitions = match interfaces {
        Some(given) => given.to_vec(),
        None => infer_interfaces(g, &shapes),
    };
    apply_interfaces(g, t, &shapes, &definitions, &mut class_of, &mut added);
    ClassNames { class_of, added, interfaces: definitions, shapes }
}

/// Names each shape's plain objects by the definition that fits it best
/// (one match per shape, not per object), or leaves them `Object`.
fn apply_interfaces(
    g: &Graph,
    t: &Types,
    shapes: &PlainShapes,
    definitions: &[Interface],
    class_of: &mut [u32],
    added: &mut AddedNames,
) {
    let matcher = InterfaceMatcher::new(definitions);
    let mut names: HashMap<usize, u32> = HashMap::new();
    let shape_class: Vec<Option<u32>> = (0..shapes.len() as u32)
        .map(|shape| {
            let index = matcher.best(&shapes.sorted_properties(g, shape))?;
            Some(*names.entry(index).or_insert_with(|| added.id(definitions[index].name.clone())))
        })
        .collect();
    let mut lookup = ShapeLookup::default();
    for n in 0..g.node_count as u32 {
        let Some(shape) = shapes.shape(g, t, n, &mut lookup) else { continue };
        // Unmatched: the plain object's own name, `Object`.
        class_of[n as usize] = shape_class[shape as usize].unwrap_or_else(|| g.node_name_index(n));
    }
}

/// Plain objects (`Object` objects) grouped by the names of their property
/// edges in edge order: objects V8 built from one hidden class share one,
/// and all that names plain objects depends on these names alone, so it is
/// worked out once per shape rather than once per object. No per-node
/// array: an object's shape is looked up from its edges when asked.
pub(super) struct PlainShapes {
    /// Which string indices spell `Object`: a plain object is an `object`
    /// node so named, and comparing indices costs less than comparing text.
    object_name: Vec<bool>,
    index: HashMap<Box<[u32]>, u32>,
    /// Each shape's property names (string indices, edge order), and how
    /// many objects have it; in the order shapes are first met.
    shapes: Vec<(Box<[u32]>, u64)>,
}

impl PlainShapes {
    fn of(g: &Graph, t: &Types) -> PlainShapes {
        let object_name = (0..g.strings.len()).map(|i| g.string(i) == "Object").collect();
        let mut shapes = PlainShapes { object_name, index: HashMap::new(), shapes: Vec::new() };
        let mut lookup = ShapeLookup::default();
        for n in 0..g.node_count as u32 {
            if !shapes.is_plain_object(g, t, n) {
                continue;
            }
            property_names(g, t, n, &mut lookup.names);
            let shape = shapes.known(&lookup).unwrap_or_else(|| {
                let shape = shapes.shapes.len() as u32;
                shapes.shapes.push((lookup.names.clone().into_boxed_slice(), 0));
                shapes.index.insert(lookup.names.clone().into_boxed_slice(), shape);
                shape
            });
            lookup.remember(shape);
            shapes.shapes[shape as usize].1 += 1;
        }
        shapes
    }

    fn len(&self) -> usize {
        self.shapes.len()
    }

    fn is_plain_object(&self, g: &Graph, t: &Types, n: u32) -> bool {
        g.node_type(n) == t.object && self.object_name[g.node_name_index(n) as usize]
    }

    /// The shape of node `n`, if it is a plain object (`lookup`: the
    /// caller's, kept across calls, so that no lookup allocates and runs of
    /// objects of one shape need no hashing).
    pub(super) fn shape(&self, g: &Graph, t: &Types, n: u32, lookup: &mut ShapeLookup) -> Option<u32> {
        if !self.is_plain_object(g, t, n) {
            return None;
        }
        property_names(g, t, n, &mut lookup.names);
        let shape = self.known(lookup)?;
        lookup.remember(shape);
        Some(shape)
    }

    /// The shape with `lookup`'s names, if there is one: the last one found
    /// when the names repeat, else by hashing them.
    fn known(&self, lookup: &ShapeLookup) -> Option<u32> {
        lookup.repeat().or_else(|| self.index.get(lookup.names.as_slice()).copied())
    }

    /// A shape's property names, sorted as JavaScript sorts strings: what an
    /// interface definition matches.
    pub(super) fn sorted_properties<'g>(&self, g: &'g Graph, shape: u32) -> Vec<&'g str> {
        let mut props: Vec<&str> = self.shapes[shape as usize].0.iter().map(|&name| g.string(name as usize)).collect();
        props.sort_by(|a, b| js_cmp(a, b));
        props
    }
}

/// Buffers for looking shapes up, and the last shape found: objects of one
/// shape tend to come in runs (an array's entries), which then need no hashing.
#[derive(Default)]
pub struct ShapeLookup {
    names: Vec<u32>,
    last_names: Vec<u32>,
    last_shape: Option<u32>,
}

impl ShapeLookup {
    /// The last shape, when `names` are the last names again. Compared by
    /// hand: these lists are short, and a libc `memcmp` call per object
    /// (AVX-512 on some machines) cost more than the rest of the naming.
    fn repeat(&self) -> Option<u32> {
        let same =
            self.names.len() == self.last_names.len() && self.names.iter().zip(&self.last_names).all(|(a, b)| a == b);
        self.last_shape.filter(|_| same)
    }

    fn remember(&mut self, shape: u32) {
        if self.last_shape != Some(shape) {
            self.last_names.clone_from(&self.names);
            self.last_shape = Some(shape);
        }
    }
}

/// The names of `n`'s property edges (string indices, in edge order) into `names`.
fn property_names(g: &Graph, t: &Types, n: u32, names: &mut Vec<u32>) {
    names.clear();
    names.extend(g.edges(n).filter(|&e| g.edge_type(e) == t.e_property).map(|e| g.edge_name_index(e)));
}

/// A class id and the constructor location (script, line, column) that splits it.
type ClassIdentity = (u32, Option<(u32, u32, u32)>);

/// Count, self size and distance of a key's members with a non-zero self
/// size: all of a Summary row but its retained size.
#[derive(Clone, Copy)]
struct ClassTotal {
    count: u64,
    self_size: f64,
    distance: i32,
}

/// Phases 6–7 done: every node's DevTools class key, and the per-key
/// figures that need no dominator tree.
pub struct Classes {
    /// Each node's class key, an index into `keys`.
    key_of: Vec<u32>,
    /// DevTools' class keys: a class id and, for objects with a constructor
    /// location, that location.
    keys: Vec<ClassIdentity>,
    totals: Vec<ClassTotal>,
    /// Names of class ids from `first_added` on.
    added: Vec<String>,
    first_added: u32,
    interfaces: Vec<Interface>,
    /// Plain objects by shape: a diff names the earlier snapshot's ones anew.
    pub(super) shapes: PlainShapes,
}

/// Phase 7: turns each node's class id into its class key (objects with a
/// constructor location are split by it), and totals the keys' counts, self
/// sizes and distances, all while the dominators are being computed.
pub(super) fn key_classes(g: &Graph, t: &Types, names: ClassNames, self_sizes: &[u32], distance: &[i32]) -> Classes {
    let ClassNames { class_of, added, interfaces, shapes } = names;
    // Keys are interned: a class id alone, or with a location.
    let mut plain: Vec<u32> = vec![u32::MAX; added.first_id as usize + added.names.len()];
    let mut located: HashMap<(u32, u32, u32, u32), u32> = HashMap::new();
    let mut keys = Vec::new();
    let mut totals: Vec<ClassTotal> = Vec::new();
    let mut key_of = class_of;
    for n in 0..g.node_count as u32 {
        let class = key_of[n as usize];
        let location =
            if g.node_type(n) == t.object { g.location(n).map(|l| (l.script, l.line, l.column)) } else { None };
        let slot = match location {
            None => &mut plain[class as usize],
            Some((s, l, c)) => located.entry((class, s, l, c)).or_insert(u32::MAX),
        };
        if *slot == u32::MAX {
            *slot = keys.len() as u32;
            keys.push((class, location));
            totals.push(ClassTotal { count: 0, self_size: 0.0, distance: i32::MAX });
        }
        let key = *slot;
        key_of[n as usize] = key;
        let size = self_sizes[n as usize];
        if size != 0 {
            let total = &mut totals[key as usize];
            total.count += 1;
            total.self_size += size as f64;
            total.distance = total.distance.min(distance[n as usize]);
        }
    }
    Classes { key_of, keys, totals, added: added.names, first_added: added.first_id, interfaces, shapes }
}

impl Classes {
    /// The id of `n`'s class (its name, without the location that may split it).
    pub fn class_id(&self, n: u32) -> u32 {
        self.keys[self.key_of[n as usize] as usize].0
    }

    /// The name of a class id.
    pub fn name_of<'a>(&'a self, g: &'a Graph, class: u32) -> &'a str {
        match class.checked_sub(self.first_added) {
            Some(i) => &self.added[i as usize],
            None => g.string(class as usize),
        }
    }

    /// `n`'s class key as a dense index (0..[`Classes::key_count`]): equal
    /// for nodes whose DevTools class keys are equal, without building them.
    pub fn key_index(&self, n: u32) -> u32 {
        self.key_of[n as usize]
    }

    /// How many class keys the snapshot has.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// The constructor location that splits `n`'s class, if any.
    pub fn split_location(&self, n: u32) -> Option<(u32, u32, u32)> {
        self.keys[self.key_of[n as usize] as usize].1
    }

    /// The interface definitions plain objects were named with.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// Summary-view rows, in DevTools' definition. The retained size of a
    /// class sums its members that have no member of the same class above
    /// them in the dominator tree; members are nodes with a non-zero self size.
    pub(super) fn rows(&self, g: &Graph, self_sizes: &[u32], retained: &[f64], tree: &DominatorTree) -> Vec<ClassRow> {
        let mut class_retained = vec![0f64; self.keys.len()];
        let mut stack: Vec<u32> = vec![g.root];
        let mut marks: Vec<(usize, u32)> = Vec::new(); // (stack length when pushed, key)
        let mut seen = vec![false; self.keys.len()];
        while let Some(n) = stack.pop() {
            let key = self.key_of[n as usize];
            let children = tree.children(n);
            if self_sizes[n as usize] != 0 && !seen[key as usize] {
                class_retained[key as usize] += retained[n as usize];
                if !children.is_empty() {
                    seen[key as usize] = true;
                    marks.push((stack.len(), key));
                }
            }
            stack.extend_from_slice(children);
            while marks.last().is_some_and(|&(len, _)| len == stack.len()) {
                let (_, key) = marks.pop().unwrap_or_default();
                seen[key as usize] = false;
            }
        }
        // With allocation traces, each class's members by allocating stack.
        let mut sites: Vec<SiteTally> = Vec::new();
        if g.traces.is_some() {
            sites.resize_with(self.keys.len(), SiteTally::default);
            for n in 0..g.node_count as u32 {
                let size = self_sizes[n as usize];
                if size != 0 {
                    sites[self.key_of[n as usize] as usize].add(g.trace_node(n), size as f64);
                }
            }
        }
        let mut sites = sites.into_iter();
        let mut rows: Vec<ClassRow> = self
            .keys
            .iter()
            .zip(&self.totals)
            .zip(class_retained)
            .filter_map(|((&(class, location), total), retained)| {
                let allocation_sites = sites.next().map(|tally| tally.sites(g, CLASS_SITES));
                if total.count == 0 {
                    return None;
                }
                let name = self.name_of(g, class);
                Some(ClassRow {
                    name: name.to_string(),
                    key: class_key_text(location, name),
                    count: total.count,
                    self_size: total.self_size,
                    retained_size: retained,
                    distance: total.distance,
                    allocation_sites,
                })
            })
            .collect();
        rows.sort_by(|a, b| b.retained_size.total_cmp(&a.retained_size).then_with(|| a.key.cmp(&b.key)));
        rows
    }
}

/// Allocation sites listed for each class row.
const CLASS_SITES: usize = 3;

pub(super) fn class_key_text(location: Option<(u32, u32, u32)>, name: &str) -> String {
    match location {
        Some((script, line, column)) => format!("{script},{line},{column},{name}"),
        None => format!(",{name}"),
    }
}

/// `<div id="a">` → `<div>`; `Detached <div id="a">` → `Detached <div>`.
fn dom_tag_class(name: &str) -> Option<String> {
    if name.starts_with('<') {
        return Some(match name.find(' ') {
            Some(space) => format!("{}>", &name[..space]),
            None => name.to_string(),
        });
    }
    if let Some(rest) = name.strip_prefix("Detached <") {
        return Some(match rest.find(' ') {
            Some(space) => format!("{}>", &name[..10 + space]),
            None => name.to_string(),
        });
    }
    None
}

/// JS string comparison (UTF-16 code units), as `Array.prototype.sort` uses.
fn js_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// A name such as `{a, b}` for plain objects with these properties.
#[derive(Debug, Clone)]
pub struct Interface {
    pub name: String,
    pub properties: Vec<String>,
}

/// DevTools' applyInterfaceDefinitions: a trie over sorted property names,
/// each trie node possibly naming a definition; an object takes the
/// definition with the most properties all of which it has (the earliest on a tie).
pub struct InterfaceMatcher {
    trie: Vec<TrieNode>,
}

struct TrieNode {
    next: HashMap<String, usize>,
    greatest: Option<String>,
    matched: Option<(usize, usize)>, // (property count, definition index)
}

impl InterfaceMatcher {
    pub fn new(definitions: &[Interface]) -> InterfaceMatcher {
        let mut trie = vec![TrieNode { next: HashMap::new(), greatest: None, matched: None }];
        for (index, def) in definitions.iter().enumerate() {
            let mut props = def.properties.clone();
            props.sort_by(|a, b| js_cmp(a, b));
            let mut at = 0;
            for p in &props {
                let next = match trie[at].next.get(p) {
                    Some(&n) => n,
                    None => {
                        trie.push(TrieNode { next: HashMap::new(), greatest: None, matched: None });
                        let n = trie.len() - 1;
                        trie[at].next.insert(p.clone(), n);
                        if trie[at].greatest.as_ref().is_none_or(|g| js_cmp(g, p).is_lt()) {
                            trie[at].greatest = Some(p.clone());
                        }
                        n
                    }
                };
                at = next;
            }
            if trie[at].matched.is_none() {
                trie[at].matched = Some((props.len(), index));
            }
        }
        InterfaceMatcher { trie }
    }

    /// The index of the definition for an object with these (sorted) properties.
    pub fn best(&self, props: &[&str]) -> Option<usize> {
        let trie = &self.trie;
        let better = |a: Option<(usize, usize)>, b: Option<(usize, usize)>| match (a, b) {
            (a, None) => a,
            (None, b) => b,
            (Some(a), Some(b)) => Some(if a.0 > b.0 || (a.0 == b.0 && a.1 <= b.1) { a } else { b }),
        };
        let mut states: Vec<usize> = vec![0];
        // The fallback ("Object") has property count 0 and index ∞: any match beats it.
        let mut best: Option<(usize, usize)> = trie[0].matched;
        for &p in props {
            let current = states.clone();
            for s in current {
                if trie[s].greatest.as_deref().is_none_or(|g| !js_cmp(p, g).is_lt()) {
                    states.retain(|&x| x != s);
                }
                if let Some(&next) = trie[s].next.get(p) {
                    if !states.contains(&next) {
                        states.push(next);
                    }
                    best = better(best, trie[next].matched);
                }
            }
        }
        best.map(|(_, index)| index)
    }
}

/// A property name as DevTools writes it in a `{a, b}` name: quoted when it
/// holds a comma, a quote or a brace.
pub fn format_property(name: &str) -> String {
    if name.contains([',', '\'', '"', '{', '}']) {
        // JSON.stringify({[name]: 0}) without the braces and ":0".
        let quoted = serde_json::to_string(name).unwrap_or_default();
        return quoted;
    }
    name.to_string()
}

/// DevTools' inferInterfaceDefinitions: property lists of plain objects that
/// are common enough get a name like `{a, b}`.
fn infer_interfaces(g: &Graph, shapes: &PlainShapes) -> Vec<Interface> {
    const MIN_PROPERTIES: usize = 1;
    const MAX_NAME: usize = 120;
    const MIN_COUNT: f64 = 2.0;
    const MIN_PROPORTION: f64 = 1000.0;
    let mut candidates: HashMap<String, (Vec<String>, u64, usize)> = HashMap::new();
    let mut total = 0u64;
    // Shapes come in the order their first object appears, so names keep
    // the first-seen order DevTools' single pass over the objects gives them.
    for (names, count) in &shapes.shapes {
        total += count;
        let mut name = String::from("{");
        let mut properties = Vec::new();
        for &index in names.iter() {
            let edge_name = g.string(index as usize);
            if edge_name == "__proto__" {
                continue;
            }
            let formatted = format_property(edge_name);
            let name_len = name.encode_utf16().count();
            if name_len > MIN_PROPERTIES && name_len + formatted.encode_utf16().count() > MAX_NAME {
                break;
            }
            if name_len != 1 {
                name.push_str(", ");
            }
            name.push_str(&formatted);
            properties.push(edge_name.to_string());
        }
        if properties.is_empty() {
            continue;
        }
        name.push('}');
        let order = candidates.len();
        candidates.entry(name).and_modify(|c| c.1 += count).or_insert((properties, *count, order));
    }
    let mut sorted: Vec<(String, Vec<String>, u64, usize)> =
        candidates.into_iter().map(|(name, (props, count, order))| (name, props, count, order)).collect();
    // Array.prototype.sort is stable: equal counts keep first-seen order.
    sorted.sort_by(|a, b| b.2.cmp(&a.2).then(a.3.cmp(&b.3)));
    let min = MIN_COUNT.max(total as f64 / MIN_PROPORTION);
    sorted
        .into_iter()
        .take_while(|c| c.2 as f64 >= min)
        .map(|(name, properties, _, _)| Interface { name, properties })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom_tag_classes() {
        assert_eq!(dom_tag_class("<div id=\"a\">").as_deref(), Some("<div>"));
        assert_eq!(dom_tag_class("Detached <div id=\"a\">").as_deref(), Some("Detached <div>"));
        assert_eq!(dom_tag_class("Map"), None);
    }

    #[test]
    fn plain_objects_are_named_by_their_property_set_whatever_its_order() {
        use crate::snapshot::analysis::Analysis;
        use crate::snapshot::test_graph::TestGraph;
        // Three objects {a, b} and one {b, a} (another hidden class): the
        // inferred definition is `{a, b}` (seen 3 times; `{b, a}` once is
        // too rare), and it names the fourth too, as DevTools does.
        let mut t = TestGraph::new();
        let leaf = t.node("number", "1", 16);
        for (i, order) in [["a", "b"], ["a", "b"], ["b", "a"], ["a", "b"]].iter().enumerate() {
            let o = t.node("object", "Object", 32);
            t.edge(0, "element", &i.to_string(), o);
            for p in order {
                t.edge(o, "property", p, leaf);
            }
        }
        t.edge(0, "element", "9", leaf);
        let g = t.graph();
        let a = Analysis::run(&g, &mut |_| {});
        let rows: Vec<(String, u64)> = a.classes().into_iter().map(|r| (r.name, r.count)).collect();
        assert!(rows.contains(&("{a, b}".to_string(), 4)), "{rows:?}");
        assert!(!rows.iter().any(|(name, _)| name == "Object" || name == "{b, a}"), "{rows:?}");
    }
}
