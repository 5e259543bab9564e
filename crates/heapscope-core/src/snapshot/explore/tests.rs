//! Queries on graphs small enough to follow by hand.

use super::*;
use crate::snapshot::test_graph::TestGraph;

/// root ⇒ app (user root); app → cache, app → log, app → self (weak);
/// cache → [0] entry, [1] entry2, __proto__ → proto; log → entry;
/// entry2 → entry (invisible). Ids are 2 × ordinal + 1.
struct Service {
    heap: Heap,
    app: u32,
    cache: u32,
    log: u32,
    entry: u32,
    entry2: u32,
    proto: u32,
}

fn service() -> Service {
    let mut t = TestGraph::new();
    let app = t.node("object", "App", 10);
    let cache = t.node("object", "Cache", 20);
    let log = t.node("array", "Log", 30);
    let entry = t.node("object", "Entry", 40);
    let entry2 = t.node("object", "Entry", 50);
    let proto = t.node("object", "Object", 5);
    t.edge(0, "shortcut", "app", app);
    t.edge(app, "property", "cache", cache).edge(app, "property", "log", log).edge(app, "weak", "me", app);
    t.edge(cache, "element", "0", entry).edge(cache, "element", "1", entry2).edge(
        cache,
        "property",
        "__proto__",
        proto,
    );
    t.edge(log, "property", "last", entry);
    t.edge(entry2, "hidden", "7", entry);
    let graph = t.graph();
    let heap = Heap::new(graph, Threads::available());
    let [app, cache, log, entry, entry2, proto] = [app, cache, log, entry, entry2, proto].map(|n| n as u32);
    Service { heap, app, cache, log, entry, entry2, proto }
}

fn ids(heap: &Heap, nodes: &[u32]) -> Vec<u32> {
    nodes.iter().map(|&n| heap.graph().node_id(n).0).collect()
}

#[test]
fn nodes_are_found_by_id() {
    let s = service();
    assert_eq!(s.heap.ordinal(NodeId(2 * s.cache + 1)), Some(s.cache));
    assert_eq!(s.heap.ordinal(NodeId(1)), Some(0));
    assert_eq!(s.heap.ordinal(NodeId(2)), None);
    assert_eq!(s.heap.ordinal(NodeId(1_000)), None);
}

#[test]
fn edges_largest_retained_first_then_by_name_with_proto_last() {
    let s = service();
    let g = s.heap.graph();
    let names = |links: &[Link]| -> Vec<String> {
        links.iter().map(|l| g.string(g.edge_name_index(l.edge as usize) as usize).to_string()).collect()
    };
    // app: its weak edge to itself (all 155 bytes) first, then cache (20 + 50 + 5: entry is
    // shared with log), then log (30).
    let app = s.heap.edges(s.app, Page::ALL);
    assert_eq!(app.items.iter().map(|l| l.node).collect::<Vec<_>>(), [s.app, s.cache, s.log]);
    assert_eq!(names(&app.items), ["me", "cache", "log"]);
    // cache: entry2 (50) first, then entry (40), then its __proto__ (5).
    let cache = s.heap.edges(s.cache, Page::ALL);
    assert_eq!(cache.items.iter().map(|l| l.node).collect::<Vec<_>>(), [s.entry2, s.entry, s.proto]);
    // Paged: the window and the whole length.
    let page = s.heap.edges(s.cache, Page { offset: 1, limit: 1 });
    assert_eq!((page.total, page.items.iter().map(|l| l.node).collect::<Vec<_>>()), (3, vec![s.entry]));
}

#[test]
fn edge_names_sort_as_devtools_sorts_them() {
    let mut t = TestGraph::new();
    let o = t.node("object", "O", 10);
    let leaf = t.node("object", "Leaf", 10);
    t.edge(0, "shortcut", "o", o);
    for (kind, name) in
        [("element", "10"), ("property", "__proto__"), ("element", "9"), ("property", "b"), ("property", "a")]
    {
        t.edge(o, kind, name, leaf);
    }
    let heap = Heap::new(t.graph(), Threads::available());
    let g = heap.graph();
    let order: Vec<String> = heap
        .edges(o as u32, Page::ALL)
        .items
        .iter()
        .map(|l| {
            let e = l.edge as usize;
            match g.layout.edge_types[g.edge_type(e) as usize].as_str() {
                "element" => format!("[{}]", g.edge_name_index(e)),
                _ => g.string(g.edge_name_index(e) as usize).to_string(),
            }
        })
        .collect();
    // One target, one retained size: names first, indexes as strings ("10" < "9"), __proto__ last.
    assert_eq!(order, ["a", "b", "[10]", "[9]", "__proto__"]);
}

#[test]
fn retainers_nearest_first_without_weak_invisible_or_root_edges() {
    let s = service();
    let g = s.heap.graph();
    // entry: from cache ([0], distance 2), log (last, distance 2) and entry2 (hidden, distance 3).
    let entry = s.heap.retainers(s.entry, Page::ALL);
    assert_eq!(entry.items.iter().map(|l| l.node).collect::<Vec<_>>(), [s.cache, s.log, s.entry2]);
    assert_eq!(g.edge_to(entry.items[0].edge as usize), s.entry);
    // app: the root's shortcut and its own weak edge are not shown.
    assert_eq!(s.heap.retainers(s.app, Page::ALL).total, 0);
    // cache and log tie on distance: by the retainer's name, "Cache" < "Log".
    let mut t = TestGraph::new();
    let (z, a, x) = (t.node("object", "Zed", 1), t.node("object", "Abe", 1), t.node("object", "X", 1));
    t.edge(0, "shortcut", "z", z).edge(0, "shortcut", "a", a).edge(z, "property", "x", x).edge(a, "property", "x", x);
    // Two more, both named Same: DevTools keeps the later one first.
    let (s1, s2) = (t.node("object", "Same", 1), t.node("object", "Same", 1));
    t.edge(0, "shortcut", "s1", s1)
        .edge(0, "shortcut", "s2", s2)
        .edge(s1, "property", "x", x)
        .edge(s2, "property", "x", x);
    let heap = Heap::new(t.graph(), Threads::available());
    let order: Vec<u32> = heap.retainers(x as u32, Page::ALL).items.iter().map(|l| l.node).collect();
    assert_eq!(order, [a, s2, s1, z].map(|n| n as u32));
}

/// A hub held by `count` objects at three distances, some with no edges of
/// their own between them: plain objects of two shapes, a class whose name
/// spells one of those shapes, and others.
fn hub(count: usize) -> (Heap, u32) {
    let mut t = TestGraph::new();
    let hub = t.node("object", "Hub", 1);
    let mut holders = Vec::new();
    for i in 0..count {
        let holder = match i % 4 {
            0 => t.node("object", "Object", 1),
            1 => t.node("object", "{a, b, hub}", 1),
            2 => t.node("object", "Zed", 1),
            _ => t.node("object", "Abe", 1),
        };
        if i % 4 == 0 {
            let (a, b) = (t.node("number", "1", 0), t.node("number", "2", 0));
            t.edge(holder, "property", if i % 8 == 0 { "a" } else { "c" }, a).edge(holder, "property", "b", b);
        }
        t.node("object", "Empty", 1);
        holders.push(holder);
    }
    // Distance 1, 2 or 3 by a chain from the root.
    let (mid, far) = (t.node("object", "Mid", 1), t.node("object", "Far", 1));
    t.edge(0, "shortcut", "mid", mid).edge(mid, "property", "far", far);
    for (i, &holder) in holders.iter().enumerate() {
        let from = [0, mid, far][i % 3];
        t.edge(from, if from == 0 { "shortcut" } else { "property" }, &format!("h{i}"), holder);
        t.edge(holder, "property", "hub", hub);
    }
    (Heap::new(t.graph(), Threads::available()), hub as u32)
}

#[test]
fn a_hubs_retainers_have_their_sources_and_page_as_the_whole_list() {
    let (heap, hub) = hub(60);
    let g = heap.graph();
    for n in 0..g.node_count as u32 {
        let sources: Vec<(u32, u32)> = heap.retainers.with_sources(g, n).collect();
        let expected: Vec<(u32, u32)> =
            heap.retainers.of_node(n).iter().map(|&e| (e, g.edge_source(e as usize))).collect();
        assert_eq!(sources, expected, "node {n}");
    }
    let all = heap.retainers(hub, Page::ALL);
    assert_eq!(all.total, 60);
    let a = heap.analysis();
    let key = |l: &Link| (a.distance[l.node as usize], display_name(a, l.node));
    assert!(all.items.windows(2).all(|w| key(&w[0]) <= key(&w[1])), "nearest first, then by name");
    // The plain objects {a, b, hub} and the class named so tie on their name: later ones first.
    let tied: Vec<u32> = all.items.iter().filter(|l| key(l) == (2, "{a, b, hub}".into())).map(|l| l.edge).collect();
    assert!(tied.len() > 2 && tied.windows(2).all(|w| w[0] > w[1]), "{tied:?}");
    pages_are_slices_of_the_whole(&heap, hub, 0..62, &[1, 7, 15, 20, 59]);
}

/// Every page of the hub's retainers is that slice of the whole list.
fn pages_are_slices_of_the_whole(heap: &Heap, hub: u32, offsets: impl Iterator<Item = usize>, limits: &[usize]) {
    let all = heap.retainers(hub, Page::ALL);
    for offset in offsets {
        for &limit in limits {
            let page = heap.retainers(hub, Page { offset, limit });
            assert_eq!(page.total, all.total);
            let expected: Vec<Link> = all.items.iter().skip(offset).take(limit).copied().collect();
            assert_eq!(page.items, expected, "offset {offset}, limit {limit}");
        }
    }
}

#[test]
fn pages_of_a_hub_too_long_to_hold_at_once() {
    // More retainers than the first pass keeps before it drops the farthest.
    let (heap, hub) = hub(9_001);
    assert_eq!(heap.retainers(hub, Page::ALL).total, 9_001);
    let offsets = [0, 1, 2_999, 3_000, 3_001, 4_095, 4_096, 8_999, 9_000, 9_001];
    pages_are_slices_of_the_whole(&heap, hub, offsets.into_iter(), &[1, 100, 3_000, 5_000]);
}

#[test]
fn the_path_takes_the_nearest_retainer_at_each_step() {
    let s = service();
    let g = s.heap.graph();
    // entry is retained by cache, log (both at distance 2) and entry2: of the nearest, DevTools
    // keeps the later retainer first, log.
    let path = s.heap.path(s.entry);
    assert_eq!(path.iter().map(|l| l.node).collect::<Vec<_>>(), [s.app, s.log, s.entry]);
    assert_eq!(g.edge_source(path[0].edge as usize), 0);
    assert_eq!(g.string(g.edge_name_index(path[1].edge as usize) as usize), "log");
    assert_eq!(g.string(g.edge_name_index(path[2].edge as usize) as usize), "last");
    // entry2 has one way: through cache.
    assert_eq!(s.heap.path(s.entry2).iter().map(|l| l.node).collect::<Vec<_>>(), [s.app, s.cache, s.entry2]);
    assert!(s.heap.path(0).is_empty());
}

#[test]
fn dominators_up_to_the_root_and_dominated_by_retained_size() {
    let s = service();
    // entry is held by cache and by log: app dominates it.
    assert_eq!(s.heap.dominators(s.entry), [s.app, 0]);
    assert_eq!(s.heap.dominators(s.entry2), [s.cache, s.app, 0]);
    let dominated = s.heap.dominated(s.app, Page::ALL);
    assert_eq!(ids(&s.heap, &dominated.items), ids(&s.heap, &[s.cache, s.entry, s.log]));
    assert!(s.heap.dominators(0).is_empty());
}

#[test]
fn instances_of_a_class_largest_first() {
    let s = service();
    assert_eq!(s.heap.instances("Entry", Page::ALL).items, [s.entry2, s.entry]);
    assert_eq!(s.heap.instances("Nothing", Page::ALL).total, 0);
}

#[test]
fn display_names_spell_out_plain_objects_and_concatenated_strings() {
    let mut t = TestGraph::new();
    let plain = t.node("object", "Object", 16);
    let cons = t.node("concatenated string", "(concatenated string)", 32);
    let (hello, world) = (t.node("string", "hello, ", 20), t.node("string", "world", 20));
    let (one, two, quoted) = (t.node("number", "1", 16), t.node("number", "2", 16), t.node("number", "3", 16));
    t.edge(0, "shortcut", "plain", plain).edge(0, "shortcut", "cons", cons);
    t.edge(plain, "property", "a", one)
        .edge(plain, "property", "__proto__", two)
        .edge(plain, "property", "b,c", quoted);
    t.edge(cons, "internal", "second", world).edge(cons, "internal", "first", hello);
    let heap = Heap::new(t.graph(), Threads::available());
    let a = heap.analysis();
    assert_eq!(display_name(a, plain as u32), r#"{a, "b,c"}"#);
    assert_eq!(display_name(a, cons as u32), "hello, world");
    assert_eq!(display_name(a, hello as u32), "hello, ");
}

#[test]
fn duplicate_strings_by_the_bytes_their_copies_waste() {
    let mut t = TestGraph::new();
    let list = t.node("array", "List", 16);
    t.edge(0, "shortcut", "list", list);
    let add = |t: &mut TestGraph, value: &str, size: u32| {
        let n = t.node("string", value, size);
        let at = n.to_string();
        t.edge(list, "element", &at, n);
        n as u32
    };
    let tokens: Vec<u32> = (0..3).map(|_| add(&mut t, "token", 24)).collect();
    let big = [add(&mut t, "a long log line", 400), add(&mut t, "a long log line", 400)];
    add(&mut t, "unique", 20);
    let heap = Heap::new(t.graph(), Threads::available());
    let g = heap.graph();
    let found = heap.duplicate_strings(Page::ALL);
    let rows: Vec<(&str, u64, f64, f64)> =
        found.items.iter().map(|d| (g.string(d.value as usize), d.count, d.size, d.wasted)).collect();
    assert_eq!(rows, [("a long log line", 2, 800.0, 400.0), ("token", 3, 72.0, 48.0)]);
    assert_eq!(found.items[0].examples, big);
    assert_eq!(found.items[1].examples, tokens);
}

#[test]
fn statistics_by_node_type_as_devtools_counts_them() {
    let mut t = TestGraph::new();
    let array = t.node("object", "Array", 32);
    let store = t.node("array", "(object elements)", 100);
    let shared = t.node("object", "Array", 16);
    let shared_store = t.node("array", "(object elements)", 50);
    let text = t.node("string", "hello", 24);
    let code = t.node("code", "f", 300);
    let buffer = t.node("native", "system / JSArrayBufferData", 4096);
    let other = t.node("native", "other", 8);
    t.edge(0, "shortcut", "a", array).edge(0, "shortcut", "s", shared).edge(0, "shortcut", "t", text);
    t.edge(0, "shortcut", "c", code).edge(0, "shortcut", "b", buffer).edge(0, "shortcut", "o", other);
    t.edge(array, "internal", "elements", store);
    t.edge(shared, "internal", "elements", shared_store).edge(0, "shortcut", "keep", shared_store);
    let heap = Heap::new(t.graph(), Threads::available());
    let s = heap.statistics();
    // The first array's store is its own (moved into it by the shallow sizes, and counted once);
    // the second's is held twice, so it is not the array's.
    assert_eq!((s.native, s.typed_arrays), (4104.0, 4096.0));
    assert_eq!((s.code, s.strings), (300.0, 24.0));
    assert_eq!(s.js_arrays, heap.analysis().census.self_sizes[array] as f64 + 16.0);
    assert_eq!(s.v8_heap, s.total - s.native);
}

#[test]
fn find_by_class_type_property_and_value() {
    let s = service();
    let g = s.heap.graph();
    let found = |q: Query| s.heap.find(&q, Page::ALL).items;
    assert_eq!(found(Query { class_name: Some("Entry".into()), ..Query::default() }), [s.entry2, s.entry]);
    assert_eq!(found(Query { property: Some("cache".into()), ..Query::default() }), [s.app]);
    assert_eq!(found(Query { node_type: Some("array".into()), ..Query::default() }), [s.log]);
    assert_eq!(found(Query { value: Some(ValueMatch::Contains("ach".into())), ..Query::default() }), [s.cache]);
    let re = regex::Regex::new("^(Log|App)$").expect("a pattern");
    assert_eq!(found(Query { value: Some(ValueMatch::Matches(re)), ..Query::default() }), [s.app, s.log]);
    // All parts at once: nothing is both an Entry and has a `cache` property.
    let both = Query { class_name: Some("Entry".into()), property: Some("cache".into()), ..Query::default() };
    assert!(found(both).is_empty());
    assert!(found(Query { node_type: Some("no such type".into()), ..Query::default() }).is_empty());
    assert_eq!(g.node_name(s.proto), "Object");
}

#[test]
fn closures_and_the_variables_their_context_holds() {
    let mut t = TestGraph::new();
    let listener = t.node("closure", "onMessage", 32);
    let small = t.node("closure", "tick", 32);
    let context = t.node("object", "system / Context", 40);
    let table = t.node("object", "Array", 4000);
    let count = t.node("number", "count", 16);
    t.edge(0, "shortcut", "listener", listener).edge(0, "shortcut", "tick", small);
    t.edge(listener, "internal", "context", context);
    let slot = t.node("object", "Slot", 8);
    t.edge(context, "context", "count", count).edge(context, "context", "lookupTable", table);
    t.edge(context, "hidden", "0", slot).edge(context, "internal", "previous", 0);
    let heap = Heap::new(t.graph(), Threads::available());
    let g = heap.graph();
    assert_eq!(heap.closures(Page::ALL).items, [listener as u32, small as u32]);
    let (ctx, vars) = heap.context(listener as u32, Page::ALL).expect("a context");
    assert_eq!(ctx, context as u32);
    let names: Vec<&str> = vars.items.iter().map(|l| g.string(g.edge_name_index(l.edge as usize) as usize)).collect();
    // The hidden edge is the unnamed slot (its name, 0, is an index); `previous` is no variable.
    assert_eq!(vars.items.iter().map(|l| l.node).collect::<Vec<_>>(), [table, count, slot].map(|n| n as u32));
    assert_eq!(names[..2], ["lookupTable", "count"]);
    // A context asked directly; a closure without one.
    assert_eq!(heap.context(context as u32, Page::ALL).map(|(_, v)| v.total), Some(3));
    assert!(heap.context(small as u32, Page::ALL).is_none());
}

#[test]
fn a_page_of_a_long_list_is_that_window_of_the_whole_list_sorted() {
    let items: Vec<u32> = (0..500u32).map(|i| i.wrapping_mul(2_654_435_761) % 1000).collect();
    let mut whole = items.clone();
    whole.sort();
    for (offset, limit) in [(0, 10), (7, 13), (490, 50), (0, 500), (600, 5), (0, 0), (499, 1)] {
        let page = Page { offset, limit }.sorted(items.clone(), |a, b| a.cmp(b));
        let end = (offset + limit).min(whole.len());
        assert_eq!(page.total, 500);
        assert_eq!(page.items, whole[offset.min(end)..end], "offset {offset}, limit {limit}");
    }
}
