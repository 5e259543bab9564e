//! What Chrome DevTools' Summary view shows, computed the way its heap
//! snapshot worker computes it, so that the numbers are equal. The phases,
//! each in its own module, in the order a reader should take them:
//!
//! 1. `page`: page-owned nodes, reachable from the root's user roots
//!    without weak edges;
//! 2. `shallow`: shallow sizes, hidden and array nodes (and external string
//!    data) owned by exactly one object have their size moved to that object,
//!    unless the snapshot has no user roots (an "expose internals" snapshot);
//! 3. `essential`: essential edges, not weak, not to self, not a WeakMap
//!    table's edge to a value, not a non-root shortcut, not from a non-page
//!    node into the page;
//! 4. `dominators`: Lengauer–Tarjan over the essential edges, with
//!    DevTools' treatment of nodes unreachable from the root; retained sizes
//!    are summed up the tree (`Dominators::retained_sizes`);
//! 5. `distances`: BFS from the user roots, then from the root, skipping
//!    weak edges, descriptor-array links, and the first edge of each WeakMap
//!    pair;
//! 6. `classes`: class names and keys, `(system)`, `(compiled code)`,
//!    `Function`, `(string)` …, plain objects named by their most common
//!    property sets (`{a, b}`), objects split by constructor location;
//! 7. `classes` again: class keys, and for the rows the count and self size
//!    of nodes with a non-zero self size ([`Classes`]); a row's retained size
//!    sums the class's topmost members in the dominator tree, once that is
//!    built ([`Analysis::classes`]).
//!
//! [`Analysis::run_with`], when it may use two threads, runs 1 and 3 on
//! both, then 2, 5, 6 and 7 on the second while 4 runs on the calling one,
//! which, once the second is done, shares its longest retainer lists with
//! a helper (with one, all in turn), and builds the [`Analysis`] from the results
//! (on two, the dominator tree's downward form, which the class rows read,
//! beside the retained sizes; [`Analysis::overview`] then makes the rows
//! beside the largest objects);
//! `analysis_tests.rs` checks each phase on graphs small enough to follow by
//! hand, on one thread and on two.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};

use rustc_hash::FxHashMap;

use super::traces::AllocationSite;
use super::{EdgeKind, Graph, NodeId};
use crate::priority::Threads;

mod bits;
mod classes;
mod distances;
mod dominators;
mod essential;
mod page;
mod shallow;
mod types;

use bits::Bits;
pub use classes::{format_property, Classes, Interface, InterfaceMatcher, ShapeLookup};
use classes::{key_classes, name_classes};
use distances::distances;
pub use dominators::DominatorTree;
use dominators::{dominated_nodes, dominators, Dominators};
use essential::essential_edges;
pub use essential::retaining_edges;
use page::{page_owned, PageSearch};
use shallow::shallow_sizes;
use types::Types;

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
    /// With allocation traces: the stacks that allocated most of the class's
    /// objects (up to 3); `None` without traces.
    pub allocation_sites: Option<Vec<AllocationSite>>,
}

/// One step of a retainer path, from the root down.
#[derive(Debug, Clone)]
pub struct PathStep {
    /// The edge's name as DevTools shows it (`cache`, `[3]`, `map` …).
    pub edge: String,
    pub edge_type: String,
    pub edge_kind: EdgeKind,
    pub node_name: String,
    pub class_name: String,
    pub node_id: NodeId,
}

#[derive(Debug, Clone)]
pub struct ObjectRow {
    pub id: NodeId,
    pub name: String,
    pub class_name: String,
    pub node_type: String,
    pub self_size: f64,
    pub retained_size: f64,
    pub distance: i32,
    pub path: Vec<PathStep>,
}

/// Everything computed for a snapshot, built once all phases are done.
pub struct Analysis<'g> {
    pub graph: &'g Graph,
    /// Every node's shallow size and class (phases 2, 6 and 7).
    pub census: Census<'g>,
    pub retained: Vec<f64>,
    pub dominator: Vec<u32>,
    pub distance: Vec<i32>,
    /// BFS parent edge of each node (u32::MAX: none), for retainer paths.
    parent_edge: Vec<u32>,
    /// The dominator tree walked downwards, when it was built beside the
    /// retained sizes: the first to ask takes it (kept, it would hold 8
    /// bytes a node for as long as the analysis lives).
    dominated: Mutex<Option<DominatorTree>>,
    threads: Threads,
}

/// Each node's shallow size and class, without the dominator tree: all that
/// DevTools' Comparison view reads of a snapshot (it compares objects by id
/// and class, never by retained size), at about half the cost of an
/// [`Analysis`].
pub struct Census<'g> {
    pub graph: &'g Graph,
    pub self_sizes: Vec<u32>,
    /// Every node's class and class key (phases 6–7).
    pub class_keys: Classes,
    types: Types,
}

/// The second thread's half of the essential edges: it waits for the page's
/// nodes, then sends what it found for `nodes`.
struct EssentialHalf<'p> {
    page_known: mpsc::Receiver<&'p Bits>,
    half_found: mpsc::Sender<(Bits, Bits)>,
    nodes: std::ops::Range<u32>,
}

/// What the second thread computes while the first builds the dominator
/// tree: phases 2, 5, 6 and 7.
struct Beside {
    self_sizes: Vec<u32>,
    distance: Vec<i32>,
    parent_edge: Vec<u32>,
    classes: Classes,
}

/// Phases, for progress reports, each announced as it begins: the
/// dominator tree (the distances and classes are found beside it, or after
/// it on one thread), the retained sizes summed up it, then the class rows
/// and largest objects.
pub const PHASES: [&str; 3] = ["dominators", "retained sizes", "aggregates"];

impl<'g> Analysis<'g> {
    /// Every phase, on the threads this process may use.
    pub fn run(graph: &'g Graph, progress: &mut dyn FnMut(&'static str)) -> Analysis<'g> {
        Analysis::run_with(graph, None, Threads::available(), progress)
    }

    /// Like [`Analysis::run`], on at most `threads` threads, and naming
    /// plain objects with the given interface definitions instead of
    /// inferring them (DevTools' Comparison view names the base snapshot's
    /// objects with the later snapshot's definitions).
    pub fn run_with(
        graph: &'g Graph,
        interfaces: Option<&[Interface]>,
        threads: Threads,
        progress: &mut dyn FnMut(&'static str),
    ) -> Analysis<'g> {
        let t = Types::of(graph);
        progress(PHASES[0]);
        let (beside, tree) = if threads.split() {
            Analysis::phases_on_two_threads(graph, &t, interfaces)
        } else {
            let page = page_owned(graph, &t);
            let (mut essential, retained_at_all) = essential_edges(graph, &t, &page, 0..graph.node_count as u32);
            drop(page);
            let tree = dominators(graph, &mut essential, &retained_at_all, None);
            drop((essential, retained_at_all));
            (Analysis::phases_beside(graph, &t, interfaces, None), tree)
        };
        progress(PHASES[1]);
        // The tree walked downwards, which the class rows need next, is
        // built beside the sums up it.
        let (dominated, retained) = if threads.split() {
            threads.join(|| Some(dominated_nodes(graph, &tree.dominator)), || tree.retained_sizes(&beside.self_sizes))
        } else {
            (None, tree.retained_sizes(&beside.self_sizes))
        };
        progress(PHASES[2]);
        Analysis {
            graph,
            census: Census { graph, self_sizes: beside.self_sizes, class_keys: beside.classes, types: t },
            retained,
            dominator: tree.dominator,
            distance: beside.distance,
            parent_edge: beside.parent_edge,
            dominated: Mutex::new(dominated),
            threads,
        }
    }

    /// Phases 2, 5, 6 and 7, which need no dominator tree. `essential`, when
    /// given, has this thread also find the essential edges of the later
    /// half of the nodes once the page's nodes are known.
    fn phases_beside(
        graph: &Graph,
        t: &Types,
        interfaces: Option<&[Interface]>,
        essential: Option<EssentialHalf<'_>>,
    ) -> Beside {
        // The essential edges first: the dominators wait for them.
        if let Some(EssentialHalf { page_known, half_found, nodes }) = essential {
            if let Ok(page) = page_known.recv() {
                let _ = half_found.send(essential_edges(graph, t, page, nodes));
            }
        }
        let self_sizes = shallow_sizes(graph, t);
        let (distance, parent_edge) = distances(graph, t);
        let names = name_classes(graph, t, interfaces);
        let classes = key_classes(graph, t, names, &self_sizes, &distance);
        Beside { self_sizes, distance, parent_edge, classes }
    }

    /// Phases 1 and 3 on both threads, then 4 on the calling one and the
    /// others beside it on the second (on two cores they cost no wall time).
    fn phases_on_two_threads(graph: &Graph, t: &Types, interfaces: Option<&[Interface]>) -> (Beside, Dominators) {
        // The dominator tree is the longest chain of work, and it waits for
        // the page's nodes and the essential edges: both threads search the
        // page, and each finds the essential edges of half the nodes. Shallow
        // sizes, distances and class names do not depend on the dominator
        // tree: the second thread computes them while it is built.
        // (The page's nodes live out here so that both threads can borrow them.)
        let page: OnceLock<Bits> = OnceLock::new();
        let search = PageSearch::new(graph, t, 2);
        let (page_found, page_known) = mpsc::channel::<&Bits>();
        let (half_found, half_known) = mpsc::channel::<(Bits, Bits)>();
        let half = graph.first_edge.partition_point(|&e| (e as usize) < graph.edge_count / 2).min(graph.node_count);
        let later_nodes = half as u32..graph.node_count as u32;
        // Set when the second thread is done: the dominators' longest
        // retainer lists then take a helper.
        let side_done = AtomicBool::new(false);
        let (side, tree) = std::thread::scope(|scope| {
            // Owned here, so that a panic on this thread drops it and the
            // side thread stops waiting instead of holding the scope open.
            let page_found = page_found;
            let side_nodes = later_nodes.clone();
            let search = &search;
            let side_done = &side_done;
            let side = scope.spawn(move || {
                // Its share of the page's nodes; the first thread keeps them.
                let _ = search.work(1);
                let half = EssentialHalf { page_known, half_found, nodes: side_nodes };
                let beside = Analysis::phases_beside(graph, t, interfaces, Some(half));
                side_done.store(true, Ordering::Release);
                beside
            });
            // With the side thread gone (its panic surfaces at the join),
            // this one searches again alone.
            let page = page.get_or_init(|| search.work(0).unwrap_or_else(|| page_owned(graph, t)));
            let _ = page_found.send(page);
            let (mut essential, mut retained_at_all) = essential_edges(graph, t, page, 0..half as u32);
            let (later_essential, later_retained) = match half_known.recv() {
                Ok(found) => found,
                // The side thread is gone (its panic surfaces at the join).
                Err(_) => essential_edges(graph, t, page, later_nodes),
            };
            essential.or(&later_essential);
            retained_at_all.or(&later_retained);
            // Not `(side.join(), dominators(..))`: a tuple evaluates in
            // order, and joining first would wait for the side thread.
            let tree = dominators(graph, &mut essential, &retained_at_all, Some(side_done));
            (side.join(), tree)
        });
        // The side thread only computes; a panic there is a bug to surface.
        let beside = match side {
            Ok(beside) => beside,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (beside, tree)
    }

    pub fn total_size(&self) -> f64 {
        self.retained[self.graph.root as usize] + self.graph.extra_native_bytes
    }

    pub fn class_name(&self, n: u32) -> &str {
        self.census.class_name(n)
    }

    /// The id of `n`'s class (its name, without the location that may split it).
    pub fn class_id(&self, n: u32) -> u32 {
        self.census.class_keys.class_id(n)
    }

    /// The name of a class id.
    pub fn class_name_of_id(&self, class: u32) -> &str {
        self.census.class_keys.name_of(self.graph, class)
    }

    /// DevTools' public class key.
    pub fn class_key(&self, n: u32) -> String {
        self.census.class_key(n)
    }

    /// Summary-view rows, in DevTools' definition.
    pub fn classes(&self) -> Vec<ClassRow> {
        self.census.class_keys.rows(self.graph, &self.census.self_sizes, &self.retained, &self.dominated())
    }

    /// [`Analysis::classes`] and [`Analysis::top_objects`], side by side
    /// when the analysis may use two threads.
    pub fn overview(&self, top_objects: usize) -> (Vec<ClassRow>, Vec<ObjectRow>) {
        let (objects, classes) = self.threads.join(|| self.top_objects(top_objects), || self.classes());
        (classes, objects)
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
                self_size: self.census.self_sizes[n as usize] as f64,
                retained_size: self.retained[n as usize],
                distance: self.distance[n as usize],
                path: self.path(n),
            })
            .collect()
    }

    /// The `limit` nodes with the largest retained sizes (not the root, not
    /// synthetic nodes), largest first.
    pub fn largest(&self, limit: usize) -> Vec<u32> {
        /// Larger retained size first, then lower ordinal: `Ord` puts the
        /// one to drop first at the top of the heap.
        struct Ranked(f64, u32);
        impl PartialEq for Ranked {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == std::cmp::Ordering::Equal
            }
        }
        impl Eq for Ranked {}
        impl PartialOrd for Ranked {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for Ranked {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
            }
        }
        let g = self.graph;
        let t = &self.census.types;
        if limit == 0 {
            return Vec::new();
        }
        // A bounded heap of the best so far: no node-sized array.
        let mut best: std::collections::BinaryHeap<Ranked> = std::collections::BinaryHeap::with_capacity(limit + 1);
        for n in (0..g.node_count as u32).filter(|&n| n != g.root && g.node_type(n) != t.synthetic) {
            let r = Ranked(self.retained[n as usize], n);
            if best.len() < limit {
                best.push(r);
            } else if best.peek().is_some_and(|worst| r < *worst) {
                best.pop();
                best.push(r);
            }
        }
        best.into_sorted_vec().into_iter().map(|Ranked(_, n)| n).collect()
    }

    /// Frees the distances, for a caller that reads no class rows or
    /// object rows after this (a leak report): a node-sized array less.
    pub fn forget_distances(&mut self) {
        self.distance = Vec::new();
    }

    /// Children of each node in the dominator tree (CSR: first, nodes).
    pub fn dominated(&self) -> DominatorTree {
        let built = self.dominated.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        built.unwrap_or_else(|| dominated_nodes(self.graph, &self.dominator))
    }

    pub fn is_synthetic(&self, n: u32) -> bool {
        self.graph.node_type(n) == self.census.types.synthetic
    }

    /// For a closure, the variables its context holds, largest retained
    /// size first (`lookupTable` of `() => lookupTable.length`); empty for
    /// other nodes. What a listener list of closures really keeps alive.
    pub fn captured(&self, n: u32, limit: usize) -> Vec<(String, f64)> {
        let g = self.graph;
        let t = &self.census.types;
        if g.node_type(n) != t.closure {
            return Vec::new();
        }
        let Some(context) = g.internal_edge_to(n, "context") else {
            return Vec::new();
        };
        let variable = g.layout.edge_type_id("context");
        let mut vars: Vec<(String, f64)> = g
            .edges(context)
            .filter(|&e| g.edge_type(e) == variable)
            .map(|e| (g.string(g.edge_name_index(e) as usize).to_string(), self.retained[g.edge_to(e) as usize]))
            .collect();
        vars.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        vars.truncate(limit);
        vars
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
            steps.push(self.step(e as usize, at));
            at = g.edge_source(e as usize);
            guard += 1;
        }
        steps.reverse();
        steps
    }
}

impl Analysis<'_> {
    /// Edge `e` into node `to` as a step of a path: the edge as DevTools
    /// labels it (`cache`, `[3]`), the node's name and class.
    pub fn step(&self, e: usize, to: u32) -> PathStep {
        let g = self.graph;
        let edge_type = g.layout.edge_types[g.edge_type(e) as usize].clone();
        PathStep {
            edge: edge_label(g, &self.census.types, e),
            edge_kind: EdgeKind::of(&edge_type),
            edge_type,
            node_name: g.node_name(to).to_string(),
            class_name: self.class_name(to).to_string(),
            node_id: g.node_id(to),
        }
    }
}

impl<'g> Census<'g> {
    /// Phases 2, 5, 6 and 7 (distances only for the classes' own), on at
    /// most `threads` threads: class names beside the sizes and distances.
    pub fn run_with(graph: &'g Graph, interfaces: Option<&[Interface]>, threads: Threads) -> Census<'g> {
        let types = Types::of(graph);
        let t = &types;
        if !threads.split() {
            // The same phases as beside a full analysis, in turn.
            let beside = Analysis::phases_beside(graph, t, interfaces, None);
            return Census { graph, self_sizes: beside.self_sizes, class_keys: beside.classes, types };
        }
        let (self_sizes, distance, names) = std::thread::scope(|scope| {
            let names = scope.spawn(|| name_classes(graph, t, interfaces));
            let (self_sizes, distance) = (shallow_sizes(graph, t), distances(graph, t).0);
            // The naming thread only computes; a panic there is a bug to surface.
            let names = names.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (self_sizes, distance, names)
        });
        let class_keys = key_classes(graph, t, names, &self_sizes, &distance);
        Census { graph, self_sizes, class_keys, types }
    }

    /// The root's retained size as DevTools counts it: every node ends in the
    /// dominator tree, so it is the sum of all shallow sizes.
    pub fn total_size(&self) -> f64 {
        self.self_sizes.iter().map(|&s| s as f64).sum::<f64>() + self.graph.extra_native_bytes
    }

    pub fn class_name(&self, n: u32) -> &str {
        self.class_keys.name_of(self.graph, self.class_keys.class_id(n))
    }

    /// DevTools' public class key.
    pub fn class_key(&self, n: u32) -> String {
        classes::class_key_text(self.class_keys.split_location(n), self.class_name(n))
    }

    /// The shape of a plain object (`None` for other nodes): plain objects
    /// with the same property names in the same order share one.
    /// `lookup` is the caller's, kept across calls.
    pub fn plain_shape(&self, n: u32, lookup: &mut ShapeLookup) -> Option<u32> {
        self.class_keys.shapes.shape(self.graph, &self.types, n, lookup)
    }

    /// A shape's property names, sorted as JavaScript sorts strings: what an
    /// interface definition matches.
    pub fn shape_properties(&self, shape: u32) -> Vec<&'g str> {
        self.class_keys.shapes.sorted_properties(self.graph, shape)
    }
}

/// Where nodes hang: the shape of each one's retainer path ([`Analysis::path`])
/// with indexes dropped, element edges (`[12]`) and the numbered slots of
/// hash tables (`11349`) alike, so that the entries of one array or one Map
/// share a shape. A node's shape is its BFS parent's plus one edge: a walk
/// up stops at the first node already known, and siblings cost a step each
/// (where building each path would cost its whole length, and its strings).
pub struct PathShapes<'a, 'g> {
    analysis: &'a Analysis<'g>,
    /// Shapes found so far, by node. (Fx, not SipHash, for the maps keyed
    /// by numbers this analysis gave: a leak report asks for hundreds of
    /// thousands of shapes; a name from the snapshot keeps SipHash.)
    of_node: FxHashMap<u32, u32>,
    /// (shape, step) → the shape one edge longer.
    longer: FxHashMap<(u32, u32), u32>,
    /// Edge names as steps (`INDEXED` for indexes), by string index…
    step_of_string: FxHashMap<u32, u32>,
    /// …and by text, which two indexes may share.
    steps: HashMap<&'g str, u32>,
}

impl<'a, 'g> PathShapes<'a, 'g> {
    /// The shape of the root's path, and of nodes with no path.
    pub const EMPTY: u32 = 0;
    const INDEXED: u32 = 0;

    pub fn new(analysis: &'a Analysis<'g>) -> PathShapes<'a, 'g> {
        PathShapes {
            analysis,
            of_node: FxHashMap::default(),
            longer: FxHashMap::default(),
            step_of_string: FxHashMap::default(),
            steps: HashMap::new(),
        }
    }

    /// `n`'s shape: equal numbers for equal shapes.
    pub fn of(&mut self, n: u32) -> u32 {
        let g = self.analysis.graph;
        // Up to the first node whose shape is known, then down again.
        let mut below: Vec<(u32, u32)> = Vec::new();
        let mut at = n;
        let mut shape = loop {
            if at == g.root {
                break Self::EMPTY;
            }
            if let Some(&known) = self.of_node.get(&at) {
                break known;
            }
            let e = self.analysis.parent_edge[at as usize];
            if e == u32::MAX {
                break Self::EMPTY;
            }
            below.push((at, e));
            at = g.edge_source(e as usize);
        };
        while let Some((node, e)) = below.pop() {
            let step = self.step(e as usize);
            let next = self.longer.len() as u32 + 1;
            shape = *self.longer.entry((shape, step)).or_insert(next);
            self.of_node.insert(node, shape);
        }
        shape
    }

    fn step(&mut self, e: usize) -> u32 {
        let g: &'g Graph = self.analysis.graph;
        let t = &self.analysis.census.types;
        let kind = g.edge_type(e);
        if kind == t.e_element || kind == t.e_hidden {
            return Self::INDEXED;
        }
        let index = g.edge_name_index(e);
        if let Some(&step) = self.step_of_string.get(&index) {
            return step;
        }
        let name = g.string(index as usize);
        let step = if is_index_label(name) {
            Self::INDEXED
        } else {
            let next = self.steps.len() as u32 + 1;
            *self.steps.entry(name).or_insert(next)
        };
        self.step_of_string.insert(index, step);
        step
    }
}

/// Whether an edge's label (as [`PathStep::edge`] reads) is an index into a
/// collection: an element (`[7]`) or a hash table's numbered slot (`11349`).
pub fn is_index_label(label: &str) -> bool {
    label.starts_with('[') || (!label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()))
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
