//! What Chrome DevTools' Summary view shows, computed the way its heap
//! snapshot worker computes it, so that the numbers are equal:
//!
//! 1. page-owned nodes: reachable from the root's user roots without weak edges;
//! 2. shallow sizes: hidden and array nodes (and external string data) owned by
//!    exactly one object have their size moved to that object, unless the
//!    snapshot has no user roots (an "expose internals" snapshot);
//! 3. essential edges: not weak, not to self, not a WeakMap table's edge to a
//!    value, not a non-root shortcut, not from a non-page node into the page;
//! 4. dominators by Lengauer–Tarjan over the essential edges, with DevTools'
//!    treatment of nodes unreachable from the root; retained sizes summed up
//!    the dominator tree;
//! 5. distances: BFS from the user roots, then from the root, skipping weak
//!    edges, descriptor-array links, and the first edge of each WeakMap pair;
//! 6. class names and keys: `(system)`, `(compiled code)`, `Function`, `(string)`
//!    …, plain objects named by their most common property sets (`{a, b}`),
//!    objects split by constructor location;
//! 7. class rows: count and self size of nodes with a non-zero self size;
//!    retained size summed over the class's topmost members in the dominator tree.

use std::collections::HashMap;
use std::sync::{mpsc, OnceLock};

use super::Graph;

const NO_DISTANCE: i32 = -5;
const BASE_SYSTEM_DISTANCE: i32 = 100_000_000;

/// A Summary-view row.
#[derive(Debug, Clone)]
pub struct ClassRow {
    pub name: String,
    /// DevTools' class key: `,Name`, or `scriptId,line,column,Name` for objects with a location.
    pub key: String,
    pub count: u64,
    pub self_size: f64,
    pub retained_size: f64,
    pub distance: i32,
}

/// One step of a retainer path, from the root down.
#[derive(Debug, Clone)]
pub struct PathStep {
    /// The edge's name as DevTools shows it (`cache`, `[3]`, `map` …).
    pub edge: String,
    pub edge_type: String,
    pub node_name: String,
    pub class_name: String,
    pub node_id: u32,
}

#[derive(Debug, Clone)]
pub struct ObjectRow {
    pub id: u32,
    pub name: String,
    pub class_name: String,
    pub node_type: String,
    pub self_size: f64,
    pub retained_size: f64,
    pub distance: i32,
    pub path: Vec<PathStep>,
}

/// Everything computed for a snapshot.
pub struct Analysis<'g> {
    pub graph: &'g Graph,
    pub self_sizes: Vec<u32>,
    pub retained: Vec<f64>,
    pub dominator: Vec<u32>,
    pub distance: Vec<i32>,
    /// BFS parent edge of each node (u32::MAX: none), for retainer paths.
    parent_edge: Vec<u32>,
    /// Each node's class key, an index into `keys`. (While classes are
    /// being named, the class id itself.)
    key_of: Vec<u32>,
    /// DevTools' class keys: a class id (a string index, or `strings + i`
    /// for the analysis' own names, `added[i]`) and, for objects with a
    /// constructor location, that location.
    keys: Vec<ClassIdentity>,
    /// Count, self size and distance of each key's members with a non-zero
    /// self size: all of a Summary row but its retained size.
    totals: Vec<ClassTotal>,
    added: Vec<String>,
    added_index: HashMap<String, u32>,
    types: Types,
    interfaces: Vec<Interface>,
}

#[derive(Clone, Copy)]
struct Types {
    hidden: u32,
    array: u32,
    object: u32,
    native: u32,
    code: u32,
    closure: u32,
    regexp: u32,
    synthetic: u32,
    e_element: u32,
    e_hidden: u32,
    e_internal: u32,
    e_shortcut: u32,
    e_weak: u32,
    e_property: u32,
}

impl Types {
    fn of(g: &Graph) -> Types {
        let l = &g.layout;
        Types {
            hidden: l.node_type_id("hidden"),
            array: l.node_type_id("array"),
            object: l.node_type_id("object"),
            native: l.node_type_id("native"),
            code: l.node_type_id("code"),
            closure: l.node_type_id("closure"),
            regexp: l.node_type_id("regexp"),
            synthetic: l.node_type_id("synthetic"),
            e_element: l.edge_type_id("element"),
            e_hidden: l.edge_type_id("hidden"),
            e_internal: l.edge_type_id("internal"),
            e_shortcut: l.edge_type_id("shortcut"),
            e_weak: l.edge_type_id("weak"),
            e_property: l.edge_type_id("property"),
        }
    }
}

/// A class id and the constructor location (script, line, column) that splits it.
type ClassIdentity = (u32, Option<(u32, u32, u32)>);

#[derive(Clone, Copy)]
struct ClassTotal {
    count: u64,
    self_size: f64,
    distance: i32,
}

/// Phases, for progress reports.
pub const PHASES: [&str; 3] = ["dominators", "distances and classes", "aggregates"];

impl<'g> Analysis<'g> {
    pub fn run(graph: &'g Graph, progress: &mut dyn FnMut(&'static str)) -> Analysis<'g> {
        Analysis::run_with(graph, None, progress)
    }

    /// Like [`Analysis::run`], naming plain objects with the given interface
    /// definitions instead of inferring them: DevTools' Comparison view names
    /// the base snapshot's objects with the later snapshot's definitions.
    pub fn run_with(
        graph: &'g Graph,
        interfaces: Option<&[Interface]>,
        progress: &mut dyn FnMut(&'static str),
    ) -> Analysis<'g> {
        let t = Types::of(graph);
        progress(PHASES[0]);
        // Shallow sizes, distances and class names do not depend on the
        // dominator tree: on a second core they cost no wall time. That
        // core also finds the essential edges of the later half of the
        // nodes once the main thread has found the page's nodes.
        // (The page's nodes live out here so that both threads can borrow them.)
        let page: OnceLock<Bits> = OnceLock::new();
        let (page_found, page_known) = mpsc::channel::<&Bits>();
        let (half_found, half_known) = mpsc::channel::<(Bits, Bits)>();
        let half = graph.first_edge.partition_point(|&e| (e as usize) < graph.edge_count / 2).min(graph.node_count);
        let later_nodes = half as u32..graph.node_count as u32;
        let (side, (dominator, preorder)) = std::thread::scope(|scope| {
            // Owned here, so that a panic on this thread drops it and the
            // side thread stops waiting instead of holding the scope open.
            let page_found = page_found;
            let side_nodes = later_nodes.clone();
            let side = scope.spawn(move || {
                let self_sizes = shallow_sizes(graph, &t);
                if let Ok(page) = page_known.recv() {
                    let _ = half_found.send(essential_edges(graph, &t, page, side_nodes));
                }
                let (distance, parent_edge) = distances(graph, &t);
                let mut names = Analysis {
                    graph,
                    self_sizes,
                    retained: Vec::new(),
                    dominator: Vec::new(),
                    distance,
                    parent_edge,
                    key_of: Vec::new(),
                    keys: Vec::new(),
                    totals: Vec::new(),
                    added: Vec::new(),
                    added_index: HashMap::new(),
                    types: t,
                    interfaces: Vec::new(),
                };
                names.class_names_and_interfaces(interfaces);
                names.key_classes();
                names
            });
            let page = page.get_or_init(|| page_owned(graph, &t));
            let _ = page_found.send(page);
            let (mut essential, mut retained_at_all) = essential_edges(graph, &t, page, 0..half as u32);
            let (later_essential, later_retained) = match half_known.recv() {
                Ok(found) => found,
                // The side thread is gone (its panic surfaces at the join).
                Err(_) => essential_edges(graph, &t, page, later_nodes),
            };
            essential.or(&later_essential);
            retained_at_all.or(&later_retained);
            // Not `(side.join(), dominators(..))`: a tuple evaluates in
            // order, and joining first would wait for the side thread.
            let tree = dominators(graph, &mut essential, &retained_at_all);
            (side.join(), tree)
        });
        progress(PHASES[1]);
        // The side thread only computes; a panic there is a bug to surface.
        let mut a = match side {
            Ok(a) => a,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // Retained sizes: children before parents, i.e. reverse preorder.
        let mut retained: Vec<f64> = a.self_sizes.iter().map(|&s| s as f64).collect();
        for &node in preorder.iter().skip(1).rev() {
            retained[dominator[node as usize] as usize] += retained[node as usize];
        }
        a.retained = retained;
        a.dominator = dominator;
        progress(PHASES[2]);
        a
    }

    pub fn total_size(&self) -> f64 {
        self.retained[self.graph.root as usize] + self.graph.extra_native_bytes
    }

    pub fn class_name(&self, n: u32) -> &str {
        self.class_name_of_id(self.class_id(n))
    }

    /// The id of `n`'s class (its name, without the location that may split it).
    pub fn class_id(&self, n: u32) -> u32 {
        self.keys[self.key_of[n as usize] as usize].0
    }

    /// The name of a class id.
    pub fn class_name_of_id(&self, class: u32) -> &str {
        let strings = self.graph.strings.len();
        match (class as usize).checked_sub(strings) {
            Some(i) => &self.added[i],
            None => self.graph.string(class as usize),
        }
    }

    fn add_name(&mut self, name: String) -> u32 {
        if let Some(&index) = self.added_index.get(&name) {
            return index;
        }
        let index = (self.graph.strings.len() + self.added.len()) as u32;
        self.added.push(name.clone());
        self.added_index.insert(name, index);
        index
    }

    fn class_names_and_interfaces(&mut self, interfaces: Option<&[Interface]>) {
        let g = self.graph;
        let t = self.types;
        let system = self.add_name("(system)".into());
        let code = self.add_name("(compiled code)".into());
        let function = self.add_name("Function".into());
        let regexp = self.add_name("RegExp".into());
        let mut class_of = Vec::with_capacity(g.node_count);
        for n in 0..g.node_count as u32 {
            let ty = g.node_type(n);
            let class = if ty == t.hidden {
                system
            } else if ty == t.object || ty == t.native {
                let name = g.node_name(n);
                if let Some(short) = dom_tag_class(name) {
                    self.add_name(short)
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
                let name = format!("({})", g.layout.node_types[ty as usize]);
                self.add_name(name)
            };
            class_of.push(class);
        }
        self.key_of = class_of;
        let definitions = match interfaces {
            Some(given) => given.to_vec(),
            None => infer_interfaces(g, &t),
        };
        self.apply_interfaces(&t, &definitions);
        self.interfaces = definitions;
    }

    fn apply_interfaces(&mut self, t: &Types, definitions: &[Interface]) {
        let g = self.graph;
        let matcher = InterfaceMatcher::new(definitions);
        let mut names: HashMap<usize, u32> = HashMap::new();
        for n in 0..g.node_count as u32 {
            let Some(props) = plain_object_properties(g, t, n) else { continue };
            self.key_of[n as usize] = match matcher.best(&props) {
                Some(index) => match names.get(&index) {
                    Some(&c) => c,
                    None => {
                        let c = self.add_name(definitions[index].name.clone());
                        names.insert(index, c);
                        c
                    }
                },
                None => g.node_name_index(n),
            };
        }
    }

    /// The sorted property names of a plain object (`None` for other nodes):
    /// what an interface definition matches.
    pub fn plain_object_properties(&self, n: u32) -> Option<Vec<&'g str>> {
        plain_object_properties(self.graph, &self.types, n)
    }

    /// The interface definitions this analysis named plain objects with.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// The constructor location that splits `n`'s class, if any.
    fn split_location(&self, n: u32) -> Option<(u32, u32, u32)> {
        self.keys[self.key_of[n as usize] as usize].1
    }

    /// Turns each node's class id into its class key, and totals the keys'
    /// counts, self sizes and distances: everything of the Summary rows that
    /// needs no dominator tree, done while the dominators are computed.
    fn key_classes(&mut self) {
        let g = self.graph;
        let object = self.types.object;
        // Keys are interned: a class id alone, or with a location.
        let mut plain: Vec<u32> = vec![u32::MAX; g.strings.len() + self.added.len()];
        let mut located: HashMap<(u32, u32, u32, u32), u32> = HashMap::new();
        let mut keys = Vec::new();
        let mut totals: Vec<ClassTotal> = Vec::new();
        for n in 0..g.node_count as u32 {
            let class = self.key_of[n as usize];
            let location =
                if g.node_type(n) == object { g.location(n).map(|l| (l.script, l.line, l.column)) } else { None };
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
            self.key_of[n as usize] = key;
            let size = self.self_sizes[n as usize];
            if size != 0 {
                let total = &mut totals[key as usize];
                total.count += 1;
                total.self_size += size as f64;
                total.distance = total.distance.min(self.distance[n as usize]);
            }
        }
        self.keys = keys;
        self.totals = totals;
    }

    /// `n`'s class key as a dense index (0..[`Analysis::key_count`]): equal
    /// for nodes whose DevTools class keys are equal, without building them.
    pub fn key_index(&self, n: u32) -> u32 {
        self.key_of[n as usize]
    }

    /// How many class keys the snapshot has.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// DevTools' public class key.
    pub fn class_key(&self, n: u32) -> String {
        class_key_text(self.split_location(n), self.class_name(n))
    }

    /// Summary-view rows, in DevTools' definition.
    pub fn classes(&self) -> Vec<ClassRow> {
        let g = self.graph;
        let mut retained = vec![0f64; self.keys.len()];
        // Retained size of a class: its members that have no member of the
        // same class above them in the dominator tree. Members are nodes with
        // a non-zero self size.
        let (first_dominated, dominated) = dominated_nodes(g, &self.dominator);
        let mut stack: Vec<u32> = vec![g.root];
        let mut marks: Vec<(usize, u32)> = Vec::new(); // (stack length when pushed, key)
        let mut seen = vec![false; self.keys.len()];
        while let Some(n) = stack.pop() {
            let key = self.key_of[n as usize];
            let from = first_dominated[n as usize] as usize;
            let to = first_dominated[n as usize + 1] as usize;
            if self.self_sizes[n as usize] != 0 && !seen[key as usize] {
                retained[key as usize] += self.retained[n as usize];
                if from != to {
                    seen[key as usize] = true;
                    marks.push((stack.len(), key));
                }
            }
            stack.extend_from_slice(&dominated[from..to]);
            while marks.last().is_some_and(|&(len, _)| len == stack.len()) {
                let (_, key) = marks.pop().unwrap_or_default();
                seen[key as usize] = false;
            }
        }
        let mut rows: Vec<ClassRow> = self
            .keys
            .iter()
            .zip(&self.totals)
            .zip(retained)
            .filter(|((_, total), _)| total.count > 0)
            .map(|((&(class, location), total), retained)| {
                let name = self.class_name_of_id(class);
                ClassRow {
                    name: name.to_string(),
                    key: class_key_text(location, name),
                    count: total.count,
                    self_size: total.self_size,
                    retained_size: retained,
                    distance: total.distance,
                }
            })
            .collect();
        rows.sort_by(|a, b| b.retained_size.total_cmp(&a.retained_size).then_with(|| a.key.cmp(&b.key)));
        rows
    }

    /// The `limit` nodes with the largest retained sizes (not the root, not
    /// synthetic nodes), each with its shortest retainer path.
    pub fn top_objects(&self, limit: usize) -> Vec<ObjectRow> {
        let g = self.graph;
        self.largest(limit)
            .into_iter()
            .map(|n| ObjectRow {
                id: g.node_id(n),
                name: g.node_name(n).to_string(),
                class_name: self.class_name(n).to_string(),
                node_type: g.layout.node_types[g.node_type(n) as usize].clone(),
                self_size: self.self_sizes[n as usize] as f64,
                retained_size: self.retained[n as usize],
                distance: self.distance[n as usize],
                path: self.path(n),
            })
            .collect()
    }

    /// The `limit` nodes with the largest retained sizes (not the root, not
    /// synthetic nodes), largest first.
    pub fn largest(&self, limit: usize) -> Vec<u32> {
        let g = self.graph;
        let t = &self.types;
        let mut order: Vec<u32> =
            (0..g.node_count as u32).filter(|&n| n != g.root && g.node_type(n) != t.synthetic).collect();
        let cut = limit.min(order.len());
        if cut == 0 {
            return Vec::new();
        }
        order.select_nth_unstable_by(cut - 1, |&a, &b| self.retained[b as usize].total_cmp(&self.retained[a as usize]));
        order.truncate(cut);
        order.sort_by(|&a, &b| self.retained[b as usize].total_cmp(&self.retained[a as usize]).then(a.cmp(&b)));
        order
    }

    /// Children of each node in the dominator tree (CSR: first, nodes).
    pub fn dominated(&self) -> (Vec<u32>, Vec<u32>) {
        dominated_nodes(self.graph, &self.dominator)
    }

    pub fn is_synthetic(&self, n: u32) -> bool {
        self.graph.node_type(n) == self.types.synthetic
    }

    /// The BFS path from a user root (or the root) to `n`.
    pub fn path(&self, n: u32) -> Vec<PathStep> {
        let g = self.graph;
        let mut steps = Vec::new();
        let mut at = n;
        let mut guard = 0;
        while at != g.root && guard < 10_000 {
            let e = self.parent_edge[at as usize];
            if e == u32::MAX {
                break;
            }
            steps.push(PathStep {
                edge: edge_label(g, &self.types, e as usize),
                edge_type: g.layout.edge_types[g.edge_type(e as usize) as usize].clone(),
                node_name: g.node_name(at).to_string(),
                class_name: self.class_name(at).to_string(),
                node_id: g.node_id(at),
            });
            at = g.edge_source(e as usize);
            guard += 1;
        }
        steps.reverse();
        steps
    }
}

fn edge_label(g: &Graph, t: &Types, e: usize) -> String {
    let kind = g.edge_type(e);
    let name = g.edge_name_index(e);
    if kind == t.e_element || kind == t.e_hidden {
        format!("[{name}]")
    } else {
        g.string(name as usize).to_string()
    }
}

fn class_key_text(location: Option<(u32, u32, u32)>, name: &str) -> String {
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

fn is_plain_object(g: &Graph, t: &Types, n: u32) -> bool {
    g.node_type(n) == t.object && g.node_name(n) == "Object"
}

/// A name such as `{a, b}` for plain objects with these properties.
#[derive(Debug, Clone)]
pub struct Interface {
    pub name: String,
    pub properties: Vec<String>,
}

fn plain_object_properties<'g>(g: &'g Graph, t: &Types, n: u32) -> Option<Vec<&'g str>> {
    if !is_plain_object(g, t, n) {
        return None;
    }
    let mut props: Vec<&str> = g
        .edges(n)
        .filter(|&e| g.edge_type(e) == t.e_property)
        .map(|e| g.string(g.edge_name_index(e) as usize))
        .collect();
    props.sort_by(|a, b| js_cmp(a, b));
    Some(props)
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

fn format_property(name: &str) -> String {
    if name.contains([',', '\'', '"', '{', '}']) {
        // JSON.stringify({[name]: 0}) without the braces and ":0".
        let quoted = serde_json::to_string(name).unwrap_or_default();
        return quoted;
    }
    name.to_string()
}

/// DevTools' inferInterfaceDefinitions: property lists of plain objects that
/// are common enough get a name like `{a, b}`.
fn infer_interfaces(g: &Graph, t: &Types) -> Vec<Interface> {
    const MIN_PROPERTIES: usize = 1;
    const MAX_NAME: usize = 120;
    const MIN_COUNT: f64 = 2.0;
    const MIN_PROPORTION: f64 = 1000.0;
    let mut candidates: HashMap<String, (Vec<String>, u64, usize)> = HashMap::new();
    let mut total = 0u64;
    for n in 0..g.node_count as u32 {
        if !is_plain_object(g, t, n) {
            continue;
        }
        total += 1;
        let mut name = String::from("{");
        let mut properties = Vec::new();
        for e in g.edges(n) {
            if g.edge_type(e) != t.e_property {
                continue;
            }
            let edge_name = g.string(g.edge_name_index(e) as usize);
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
        candidates.entry(name).and_modify(|c| c.1 += 1).or_insert((properties, 1, order));
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

/// Nodes reachable from the root's user roots (shortcut edges, and element
/// edges to "(Document DOM trees)") without weak edges.
fn page_owned(g: &Graph, t: &Types) -> Bits {
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

fn is_user_root(g: &Graph, t: &Types, n: u32) -> bool {
    g.node_type(n) != t.synthetic || g.node_name(n) == "(Document DOM trees)"
}

/// Self sizes after moving single-owner hidden/array nodes' sizes to their owner.
fn shallow_sizes(g: &Graph, t: &Types) -> Vec<u32> {
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

/// `<n> / part of key (…) -> value (…) pair in WeakMap (table @<id>)`:
/// returns the part after the leading number and the table's id.
fn weak_map_edge(name: &str) -> Option<(&str, u32)> {
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

/// One bit per index.
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    #[inline]
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    #[inline]
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    #[inline]
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }

    fn or(&mut self, other: &Bits) {
        for (word, more) in self.0.iter_mut().zip(&other.0) {
            *word |= more;
        }
    }
}

/// The essential edges of `nodes`, and the nodes they retain.
fn essential_edges(g: &Graph, t: &Types, page: &Bits, nodes: std::ops::Range<u32>) -> (Bits, Bits) {
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
                        Some((_, table)) if table == g.node_id(n) => continue,
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
struct Retainers {
    /// `first[i]..first[i + 1]`: vertex `i`'s bytes.
    first: Vec<u32>,
    bytes: Vec<u8>,
}

impl Retainers {
    /// Fills the lists from the edges the DFS left essential (the later
    /// retainers) and the byte counts it made in `first`.
    fn build(g: &Graph, essential: &Bits, pre: &[u32], mut first: Vec<u32>) -> Retainers {
        // Running ends; filling then walks each back to its vertex's start.
        let mut total = 0u64;
        for slot in first.iter_mut() {
            total += *slot as u64;
            *slot = u32::try_from(total).expect("retainer lists over 4 GiB");
        }
        let mut bytes = vec![0u8; total as usize];
        for v in 0..g.node_count as u32 {
            let from = pre[v as usize];
            for e in g.edges(v) {
                if essential.get(e) {
                    let w = pre[g.edge_to(e) as usize];
                    let mut z = from - w;
                    let len = encoded_len(z);
                    let start = first[w as usize] - len;
                    first[w as usize] = start;
                    for byte in &mut bytes[start as usize..(start + len) as usize] {
                        *byte = (z as u8 & 0x7f) | if z >= 0x80 { 0x80 } else { 0 };
                        z >>= 7;
                    }
                }
            }
        }
        Retainers { first, bytes }
    }

    /// Calls `each` with every later essential retainer of vertex `w`;
    /// returns whether there was any.
    #[inline]
    fn for_each(&self, w: u32, mut each: impl FnMut(u32)) -> bool {
        let (mut at, end) = (self.first[w as usize] as usize, self.first[w as usize + 1] as usize);
        let any = at < end;
        while at < end {
            let mut z = 0u32;
            let mut shift = 0;
            loop {
                let b = self.bytes[at];
                at += 1;
                z |= ((b & 0x7f) as u32) << shift;
                shift += 7;
                if b < 0x80 {
                    break;
                }
            }
            each(w + z);
        }
        any
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
fn dominators(g: &Graph, essential: &mut Bits, retained_at_all: &Bits) -> (Vec<u32>, Vec<u32>) {
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
    let Dfs { pre, mut vertex, parent, mut semi, later_bytes, .. } = dfs;
    let preds = Retainers::build(g, essential, &pre, later_bytes);
    drop(pre);
    // Of Lengauer–Tarjan's labels only their semidominators are ever
    // compared or returned, so each linked vertex keeps the least semi on
    // its compressed path itself: one random access less per step.
    let mut least_semi = vec![0u32; count + 1];
    let mut ancestor = vec![0u32; count + 1];
    let mut path: Vec<u32> = Vec::new();
    for w in (2..=count as u32).rev() {
        let mut best = semi[w as usize];
        let later = preds.for_each(w, |v| {
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
    (dominator, vertex)
}

/// Children of each node in the dominator tree, in DevTools' order.
fn dominated_nodes(g: &Graph, dominator: &[u32]) -> (Vec<u32>, Vec<u32>) {
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
    (first, nodes)
}

/// DevTools' distances (BFS from user roots, then from the root), with the
/// BFS parent edge of each node for retainer paths.
fn distances(g: &Graph, t: &Types) -> (Vec<i32>, Vec<u32>) {
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

    #[test]
    fn dom_tag_classes() {
        assert_eq!(dom_tag_class("<div id=\"a\">").as_deref(), Some("<div>"));
        assert_eq!(dom_tag_class("Detached <div id=\"a\">").as_deref(), Some("Detached <div>"));
        assert_eq!(dom_tag_class("Map"), None);
    }
}
