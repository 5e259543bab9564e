//! The analysis on graphs small enough to check by hand. Each expectation
//! was worked out from DevTools' rules and checked against DevTools' own
//! worker on the same graph (`HEAPSCOPE_TEST_GRAPHS=<dir>` writes them out).

use super::analysis::{Analysis, Census};
use super::test_graph::TestGraph;
use super::Graph;
use crate::priority::Threads;

const NONE: i32 = -5;
const SYSTEM: i32 = 100_000_000;

/// What the analysis says of each node, by ordinal.
#[derive(Debug, PartialEq)]
struct Seen {
    dominator: Vec<u32>,
    retained: Vec<f64>,
    distance: Vec<i32>,
    self_size: Vec<u32>,
    /// Summary rows: (name, count, self, retained, distance), by name.
    rows: Vec<(String, u64, f64, f64, i32)>,
    /// The three largest objects: (ordinal's id, retained size).
    largest: Vec<(u32, f64)>,
}

fn analyse(name: &str, t: &TestGraph) -> Seen {
    if let Ok(dir) = std::env::var("HEAPSCOPE_TEST_GRAPHS") {
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.heapsnapshot")), t.json()).unwrap();
    }
    // On one thread and on two (the phases split, the edges checked in
    // halves): the same answers.
    let json = t.json();
    let [one, two] = [Threads::ONE, Threads::new(2).unwrap()].map(|threads| {
        let g = Graph::read_with(json.as_bytes(), threads, &mut |_| {}).unwrap();
        let a = Analysis::run_with(&g, None, threads, &mut |_| {});
        same_census(name, &a, &Census::run_with(&g, None, threads));
        seen(&a)
    });
    assert_eq!(one, two, "{name}: one thread and two disagree");
    two
}

/// The census alone (what a diff reads) says what the full analysis says
/// of sizes and classes, and the same total without a dominator tree.
fn same_census(name: &str, a: &Analysis, c: &Census) {
    assert_eq!(a.census.self_sizes, c.self_sizes, "{name}: census self sizes");
    assert_eq!(a.total_size(), c.total_size(), "{name}: census total size");
    for n in 0..a.graph.node_count as u32 {
        assert_eq!(a.class_key(n), c.class_key(n), "{name}: census class of node {n}");
    }
}

fn seen(a: &Analysis) -> Seen {
    let by_name = |rows: Vec<super::analysis::ClassRow>| {
        let mut rows: Vec<_> =
            rows.into_iter().map(|r| (r.name, r.count, r.self_size, r.retained_size, r.distance)).collect();
        rows.sort_by(|x, y| x.0.cmp(&y.0));
        rows
    };
    // On two threads the rows read the dominator tree built beside the
    // retained sizes; asked again, they build it anew.
    let (rows, objects) = a.overview(3);
    let rows = by_name(rows);
    assert_eq!(rows, by_name(a.classes()), "rows from a dominator tree built again");
    Seen {
        dominator: a.dominator.clone(),
        retained: a.retained.clone(),
        distance: a.distance.clone(),
        self_size: a.census.self_sizes.clone(),
        rows,
        largest: objects.iter().map(|o| (o.id.0, o.retained_size)).collect(),
    }
}

fn row(name: &str, count: u64, self_size: f64, retained: f64, distance: i32) -> (String, u64, f64, f64, i32) {
    (name.to_string(), count, self_size, retained, distance)
}

/// root ⇒ A; A → B, A → C; B → D, C → D. D is held twice, so A dominates it.
#[test]
fn diamond() {
    let mut t = TestGraph::new();
    let a = t.node("object", "A", 10);
    let b = t.node("object", "B", 20);
    let c = t.node("object", "C", 30);
    let d = t.node("object", "D", 40);
    t.edge(0, "shortcut", "a", a).edge(a, "property", "b", b).edge(a, "property", "c", c);
    t.edge(b, "property", "d", d).edge(c, "property", "d", d);
    let s = analyse("diamond", &t);
    assert_eq!(s.dominator, [0, 0, 1, 1, 1]);
    assert_eq!(s.retained, [100.0, 100.0, 20.0, 30.0, 40.0]);
    assert_eq!(s.distance, [SYSTEM, 1, 2, 2, 3]);
    assert_eq!(
        s.rows,
        [
            row("A", 1, 10.0, 100.0, 1),
            row("B", 1, 20.0, 20.0, 2),
            row("C", 1, 30.0, 30.0, 2),
            row("D", 1, 40.0, 40.0, 3)
        ]
    );
}

/// A class's retained size counts its topmost members only: A2 and A3 lie
/// in A1's retained set, so the A row retains what A1 does, not A1's, A2's
/// and A3's sizes added up.
#[test]
fn members_within_members_count_once() {
    let mut t = TestGraph::new();
    let a1 = t.node("object", "A", 10);
    let a2 = t.node("object", "A", 20);
    let b = t.node("object", "B", 30);
    let a3 = t.node("object", "A", 40);
    t.edge(0, "shortcut", "a", a1).edge(a1, "property", "next", a2).edge(a2, "property", "b", b);
    t.edge(b, "property", "a", a3);
    let s = analyse("members_within_members_count_once", &t);
    assert_eq!(s.dominator, [0, 0, 1, 2, 3]);
    assert_eq!(s.retained, [100.0, 100.0, 90.0, 70.0, 40.0]);
    assert_eq!(s.rows, [row("A", 3, 70.0, 100.0, 1), row("B", 1, 30.0, 70.0, 3)]);
}

/// A cycle back to its start, and an edge to itself, change nothing: A
/// dominates B. (Dropping self edges, as DevTools does, cannot change a
/// dominator tree: it spares the algorithm work.)
#[test]
fn self_edge_and_cycle() {
    let mut t = TestGraph::new();
    let a = t.node("object", "A", 10);
    let b = t.node("object", "B", 20);
    t.edge(0, "shortcut", "a", a).edge(a, "property", "me", a).edge(a, "property", "b", b).edge(b, "property", "a", a);
    let s = analyse("self_edge_and_cycle", &t);
    assert_eq!(s.dominator, [0, 0, 1]);
    assert_eq!(s.retained, [30.0, 30.0, 20.0]);
    assert_eq!(s.distance, [SYSTEM, 1, 2]);
}

/// A node held only by a weak edge is retained by no one but the root, and
/// has no distance; what it holds strongly is still its own.
#[test]
fn only_weakly_held() {
    let mut t = TestGraph::new();
    let a = t.node("object", "A", 10);
    let w = t.node("object", "W", 50);
    let z = t.node("object", "Z", 5);
    t.edge(0, "shortcut", "a", a).edge(a, "weak", "w", w).edge(w, "property", "z", z);
    let s = analyse("only_weakly_held", &t);
    assert_eq!(s.dominator, [0, 0, 0, 2]);
    assert_eq!(s.retained, [65.0, 10.0, 55.0, 5.0]);
    assert_eq!(s.distance, [SYSTEM, 1, NONE, NONE]);
    assert_eq!(s.rows, [row("A", 1, 10.0, 10.0, 1), row("W", 1, 50.0, 55.0, NONE), row("Z", 1, 5.0, 5.0, NONE)]);
}

/// A shortcut from anything but the root is not a retainer: B is held by A
/// only through C, so C dominates it.
#[test]
fn shortcut_from_a_non_root() {
    let mut t = TestGraph::new();
    let a = t.node("object", "A", 10);
    let b = t.node("object", "B", 20);
    let c = t.node("object", "C", 30);
    t.edge(0, "shortcut", "a", a).edge(a, "shortcut", "b", b).edge(a, "property", "c", c).edge(c, "property", "b", b);
    let s = analyse("shortcut_from_a_non_root", &t);
    assert_eq!(s.dominator, [0, 0, 3, 1]);
    assert_eq!(s.retained, [60.0, 60.0, 20.0, 50.0]);
    // Distances follow shortcuts like any other edge.
    assert_eq!(s.distance, [SYSTEM, 1, 2, 2]);
}

/// Nodes no edge reaches are the root's, each on its own.
#[test]
fn unreachable_island() {
    let mut t = TestGraph::new();
    let a = t.node("object", "A", 10);
    let x = t.node("object", "X", 5);
    let y = t.node("object", "Y", 7);
    t.edge(0, "shortcut", "a", a).edge(x, "property", "y", y).edge(y, "property", "x", x);
    let s = analyse("unreachable_island", &t);
    assert_eq!(s.dominator, [0, 0, 0, 0]);
    assert_eq!(s.retained, [22.0, 10.0, 5.0, 7.0]);
    assert_eq!(s.distance, [SYSTEM, 1, NONE, NONE]);
}

/// DevTools moves the size of a hidden or array node with a single owner to
/// that owner; a shared one keeps its own.
#[test]
fn single_owner_backing_store() {
    let mut t = TestGraph::new();
    let a = t.node("object", "A", 10);
    let b = t.node("object", "B", 20);
    let own = t.node("array", "(object elements)", 100);
    let shared = t.node("hidden", "system / Shared", 40);
    t.edge(0, "shortcut", "a", a).edge(0, "shortcut", "b", b);
    t.edge(a, "internal", "elements", own).edge(a, "internal", "s", shared).edge(b, "internal", "s", shared);
    let s = analyse("single_owner_backing_store", &t);
    assert_eq!(s.self_size, [0, 110, 20, 0, 40]);
    assert_eq!(s.dominator, [0, 0, 0, 1, 0]);
    assert_eq!(s.retained, [170.0, 110.0, 20.0, 0.0, 40.0]);
    assert_eq!(s.rows, [row("(system)", 1, 40.0, 40.0, 2), row("A", 1, 110.0, 110.0, 1), row("B", 1, 20.0, 20.0, 1)]);
}

/// A WeakMap entry: V8 names the value's edges from the table and from the
/// key alike; DevTools drops the table's, so the key retains the value.
#[test]
fn weak_map_key_retains_its_value() {
    let mut t = TestGraph::new();
    let global = t.node("object", "Global", 10);
    let map = t.node("object", "WeakMap", 10);
    let table = t.node("hidden", "system / EphemeronHashTable", 20);
    let key = t.node("object", "Key", 30);
    let value = t.node("object", "Value", 40);
    let pair = format!(
        "3 / part of key (Key @{}) -> value (Value @{}) pair in WeakMap (table @{})",
        2 * key + 1,
        2 * value + 1,
        2 * table + 1
    );
    t.edge(0, "shortcut", "global", global).edge(global, "property", "map", map).edge(global, "property", "key", key);
    t.edge(map, "internal", "table", table).edge(table, "weak", "2", key).edge(table, "internal", &pair, value);
    t.edge(key, "internal", &pair, value);
    let s = analyse("weak_map_key_retains_its_value", &t);
    assert_eq!(s.dominator, [0, 0, 1, 2, 1, 4]);
    // The table's size moves to the map, its only owner.
    assert_eq!(s.retained, [110.0, 110.0, 30.0, 0.0, 70.0, 40.0]);
    // The BFS skips the key's edge, the first of the pair: the value is
    // reached through the table.
    assert_eq!(s.distance, [SYSTEM, 1, 2, 3, 2, 4]);
    assert_eq!(
        s.rows,
        [
            row("Global", 1, 10.0, 110.0, 1),
            row("Key", 1, 30.0, 70.0, 2),
            row("Value", 1, 40.0, 40.0, 4),
            row("WeakMap", 1, 30.0, 30.0, 2)
        ]
    );
}

/// DOM state: native nodes below an attached one are attached (`<q>`, below
/// both), those only below a detached one are detached and named
/// "Detached …"; class names of DOM nodes drop their attributes.
#[test]
fn detached_dom_nodes() {
    let mut t = TestGraph::new();
    let window = t.node("native", "Window", 10);
    let div = t.node("native", "<div id=\"a\">", 20);
    let global = t.node("object", "Global", 5);
    let span = t.node("native", "<span class=\"x\">", 30);
    let p = t.node("native", "<p>", 40);
    let q = t.node("native", "<q>", 8);
    t.edge(0, "shortcut", "window", window).edge(window, "property", "div", div);
    t.edge(div, "property", "q", q).edge(span, "property", "q", q);
    t.edge(0, "shortcut", "global", global).edge(global, "property", "span", span).edge(span, "property", "p", p);
    t.dom_state(window, 1).dom_state(span, 2);
    let s = analyse("detached_dom_nodes", &t);
    assert_eq!(
        s.rows,
        [
            row("<div>", 1, 20.0, 20.0, 2),
            row("<q>", 1, 8.0, 8.0, 3),
            row("Detached <p>", 1, 40.0, 40.0, 3),
            row("Detached <span>", 1, 30.0, 70.0, 2),
            row("Global", 1, 5.0, 75.0, 1),
            row("Window", 1, 10.0, 30.0, 1),
        ]
    );
}
