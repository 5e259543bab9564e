//! A snapshot kept in memory to be explored object by object: its graph,
//! its analysis (the dominator of each node among it) and each node's
//! retainers, queried by node id and answered in the order Chrome DevTools'
//! views show them.
//!
//! - an object's edges: the Summary's children (invisible edges hidden),
//!   largest retained size first, then by edge name;
//! - its retainers: the Retainers view (no invisible or weak edges, none
//!   from the root), nearest the roots first, then by the retainer's name;
//! - a class's instances: a Summary row expanded, largest retained size first;
//! - the path: DevTools' retaining path, each step the nearest retainer;
//! - dominators and the objects an object dominates, from the tree the
//!   retained sizes were summed over (downwards, by a scan of it).
//!
//! Everything answers from arrays by node ordinal; only `instances`,
//! `find`, `dominated`, `closures` and `duplicateStrings` pass over all nodes.

mod names;
mod retainers;

use std::cmp::Ordering;

use self_cell::self_cell;

use super::analysis::Analysis;
use super::{Graph, NodeId};
use crate::priority::Threads;
pub use names::display_name;
use retainers::Retainers;

/// What is computed once a snapshot is read, borrowing its graph.
struct Computed<'g> {
    analysis: Analysis<'g>,
}

// The analysis borrows the graph it was computed from: self_cell keeps the
// two together without unsafe code of ours.
self_cell!(
    struct Resident {
        owner: Graph,
        #[covariant]
        dependent: Computed,
    }
);

/// A snapshot, analysed and kept for queries. Every method reads; none
/// changes it, so one `Heap` answers many threads at once.
pub struct Heap {
    resident: Resident,
    retainers: Retainers,
    /// Node ordinals sorted by id, for [`Heap::ordinal`].
    by_id: Vec<u32>,
}

/// A window of a longer list.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub offset: usize,
    pub limit: usize,
}

impl Page {
    pub const ALL: Page = Page { offset: 0, limit: usize::MAX };

    /// Where the page ends in a list of `total` rows.
    fn end(self, total: usize) -> usize {
        self.offset.saturating_add(self.limit).min(total)
    }

    /// The page of `items` in `order` (a total order): only the rows up to
    /// the page's end are sorted, so a page of a long list costs a pass
    /// over it, not a sort of all of it.
    fn sorted<T>(self, mut items: Vec<T>, mut order: impl FnMut(&T, &T) -> Ordering) -> Paged<T> {
        let total = items.len();
        let end = self.end(total);
        if end == 0 {
            items.clear();
        } else if end < total {
            items.select_nth_unstable_by(end - 1, &mut order);
            items.truncate(end);
        }
        items.sort_by(order);
        items.drain(..self.offset.min(items.len()));
        Paged { total, items }
    }
}

/// A page of a list, and how long the whole list is.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub total: usize,
    pub items: Vec<T>,
}

/// An edge as a view lists it: the edge (its ordinal) and the node at its
/// other end (the target for an object's edges, the retainer for its retainers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub edge: u32,
    pub node: u32,
}

impl Heap {
    /// Analyses `graph` on at most `threads` threads and keeps it with what
    /// the queries need: the retainers and an index by id.
    pub fn new(graph: Graph, threads: Threads) -> Heap {
        Heap::analysed(graph, threads, &mut |_| {})
    }

    /// [`Heap::new`], telling `progress` each analysis phase as it starts.
    pub fn analysed(graph: Graph, threads: Threads, progress: &mut dyn FnMut(&'static str)) -> Heap {
        let resident = Resident::new(graph, |g| Computed { analysis: Analysis::run_with(g, None, threads, progress) });
        let g = resident.borrow_owner();
        let retainers = Retainers::of(g);
        let mut by_id: Vec<u32> = (0..g.node_count as u32).collect();
        by_id.sort_unstable_by_key(|&n| g.node_id(n));
        Heap { resident, retainers, by_id }
    }

    pub fn graph(&self) -> &Graph {
        self.resident.borrow_owner()
    }

    pub fn analysis(&self) -> &Analysis<'_> {
        &self.resident.borrow_dependent().analysis
    }

    /// The node with this id, if the snapshot has one.
    pub fn ordinal(&self, id: NodeId) -> Option<u32> {
        let g = self.graph();
        let at = self.by_id.partition_point(|&n| g.node_id(n) < id);
        self.by_id.get(at).copied().filter(|&n| g.node_id(n) == id)
    }

    /// Node `n`'s edges as the Summary lists an object's children:
    /// invisible edges left out, the largest retained size first, then by
    /// DevTools' edge-name order, then as the snapshot has them.
    pub fn edges(&self, n: u32, page: Page) -> Paged<Link> {
        let invisible = self.graph().layout.edge_type_id("invisible");
        self.edges_in_summary_order(n, |kind| kind != invisible, page)
    }

    /// Node `n`'s edges of the types `keep` takes, in the Summary's order:
    /// the largest retained size first, then DevTools' edge-name order,
    /// then as the snapshot has them.
    fn edges_in_summary_order(&self, n: u32, keep: impl Fn(u32) -> bool, page: Page) -> Paged<Link> {
        let g = self.graph();
        let a = self.analysis();
        let links: Vec<Link> =
            g.edges(n).filter(|&e| keep(g.edge_type(e))).map(|e| Link { edge: e as u32, node: g.edge_to(e) }).collect();
        page.sorted(links, |x, y| {
            a.retained[y.node as usize]
                .total_cmp(&a.retained[x.node as usize])
                .then_with(|| names::edge_name_order(g, x.edge as usize, y.edge as usize))
                .then(x.edge.cmp(&y.edge))
        })
    }

    /// Node `n`'s retainers as DevTools' Retainers view lists them: no
    /// invisible or weak edges and none from the root; nearest the roots
    /// first, then by the retainer's name, then as the snapshot has them.
    pub fn retainers(&self, n: u32, page: Page) -> Paged<Link> {
        let g = self.graph();
        let a = self.analysis();
        let (invisible, weak) = (g.layout.edge_type_id("invisible"), g.layout.edge_type_id("weak"));
        let shown = self.retainers.with_sources(g, n).filter(|&(e, from)| {
            from != g.root && g.edge_type(e as usize) != invisible && g.edge_type(e as usize) != weak
        });
        // Only retainers as near the roots as the page's last one can be on
        // it: they are kept as the list streams by (an oddball's millions of
        // retainers cost a comparison each), and only they get a name.
        let wanted = page.offset.saturating_add(page.limit);
        let mut near: Vec<(i32, u32, Link)> = Vec::new();
        let mut farthest = i32::MAX;
        let mut room = wanted.saturating_mul(2).max(4096);
        let mut total = 0;
        for (edge, node) in shown {
            let distance = a.distance[node as usize];
            if distance <= farthest {
                near.push((distance, total as u32, Link { edge, node }));
                if near.len() >= room {
                    farthest = keep_nearest(&mut near, wanted);
                    // Ties at the page's end can keep more than it holds: room for them.
                    room = room.max(near.len().saturating_mul(2));
                }
            }
            total += 1;
        }
        if page.end(total) == 0 {
            return Paged { total, items: Vec::new() };
        }
        keep_nearest(&mut near, wanted);
        let mut names = names::Names::new(a);
        let keyed: Vec<(i32, u32, u32, Link)> =
            near.into_iter().map(|(distance, i, l)| (distance, names.id(l.node), i, l)).collect();
        let rank = names.ranks();
        let sorted = page.sorted(keyed, |x, y| (x.0, rank[x.1 as usize], x.2).cmp(&(y.0, rank[y.1 as usize], y.2)));
        Paged { total, items: sorted.items.into_iter().map(|(.., l)| l).collect() }
    }

    /// DevTools' retaining path to `n` (its `getRetainingPaths`, first
    /// path): from `n`, each step to the first retainer, through a strong
    /// edge, that is nearest the roots, out to the root (taken when no
    /// other retainer is nearer). The distance falls at every step (a
    /// retainer one nearer is always there: the BFS came through one), so
    /// it ends; early only at a node the roots do not reach. Root first:
    /// each link is an edge and the node it leads to.
    pub fn path(&self, n: u32) -> Vec<Link> {
        let g = self.graph();
        let a = self.analysis();
        let weak = g.layout.edge_type_id("weak");
        let mut steps = Vec::new();
        let mut at = n;
        while at != g.root && a.distance[at as usize] >= 0 {
            let nearest = self
                .retainers
                .with_sources(g, at)
                .filter(|&(e, _)| g.edge_type(e as usize) != weak)
                .filter(|&(_, from)| {
                    from == g.root || (0..a.distance[at as usize]).contains(&a.distance[from as usize])
                })
                // The root's distance is a system one, not 0: it comes last.
                .min_by_key(|&(_, from)| (from == g.root, a.distance[from as usize]));
            let Some((edge, from)) = nearest else { break };
            steps.push(Link { edge, node: at });
            at = from;
        }
        steps.reverse();
        steps
    }

    /// The chain of dominators of `n`, its immediate dominator first, out
    /// to the root.
    pub fn dominators(&self, n: u32) -> Vec<u32> {
        let g = self.graph();
        let dominator = &self.analysis().dominator;
        let mut chain = Vec::new();
        let mut at = n;
        while at != g.root && chain.len() < g.node_count {
            at = dominator[at as usize];
            chain.push(at);
        }
        chain
    }

    /// The nodes `n` immediately dominates, largest retained size first.
    pub fn dominated(&self, n: u32, page: Page) -> Paged<u32> {
        let a = self.analysis();
        // A pass over the dominators rather than a tree kept downwards: two
        // node-sized arrays less resident, for a query that reads them all
        // in a few milliseconds.
        let g = self.graph();
        let nodes: Vec<u32> =
            (0..g.node_count as u32).filter(|&m| m != g.root && a.dominator[m as usize] == n).collect();
        page.sorted(nodes, |&x, &y| by_retained_then_id(a, x, y))
    }

    /// The members of the Summary rows named `class_name` (a class split by
    /// constructor location has several), as DevTools lists a row's
    /// instances: largest retained size first, then by id. Nodes with no
    /// self size are in no row.
    pub fn instances(&self, class_name: &str, page: Page) -> Paged<u32> {
        let g = self.graph();
        let a = self.analysis();
        let Some(class) = (0..g.node_count as u32).find(|&n| a.class_name(n) == class_name).map(|n| a.class_id(n))
        else {
            return Paged { total: 0, items: Vec::new() };
        };
        let nodes: Vec<u32> = (0..g.node_count as u32)
            .filter(|&n| a.class_id(n) == class && a.census.self_sizes[n as usize] > 0)
            .collect();
        page.sorted(nodes, |&x, &y| by_retained_then_id(a, x, y))
    }
}

/// String objects of one value: how many, their bytes, and the bytes all
/// but one of them waste.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateString {
    /// The value, as a string of the snapshot (V8 writes at most 1,024 characters).
    pub value: u32,
    pub count: u64,
    pub size: f64,
    pub wasted: f64,
    /// The largest-first objects holding it, up to three.
    pub examples: Vec<u32>,
}

impl Heap {
    /// Strings that occur more than once with one value, by the bytes the
    /// copies waste (all but the largest copy), then by count.
    pub fn duplicate_strings(&self, page: Page) -> Paged<DuplicateString> {
        let g = self.graph();
        let a = self.analysis();
        let string = g.layout.node_type_id("string");
        let mut by_value: std::collections::HashMap<u32, DuplicateString> = std::collections::HashMap::new();
        for n in (0..g.node_count as u32).filter(|&n| g.node_type(n) == string) {
            let size = a.census.self_sizes[n as usize] as f64;
            let d = by_value.entry(g.node_name_index(n)).or_insert_with(|| DuplicateString {
                value: g.node_name_index(n),
                count: 0,
                size: 0.0,
                wasted: 0.0,
                examples: Vec::new(),
            });
            d.count += 1;
            d.size += size;
            d.examples.push(n);
        }
        let found: Vec<DuplicateString> = by_value
            .into_values()
            .filter(|d| d.count > 1)
            .map(|mut d| {
                d.examples.sort_by(|&x, &y| by_retained_then_id(a, x, y));
                let largest = a.census.self_sizes[d.examples[0] as usize] as f64;
                d.wasted = d.size - largest;
                d.examples.truncate(3);
                d
            })
            .collect();
        page.sorted(found, |x, y| {
            y.wasted
                .total_cmp(&x.wasted)
                .then(y.count.cmp(&x.count))
                .then_with(|| g.string(x.value as usize).cmp(g.string(y.value as usize)))
        })
    }
}

/// What [`Heap::find`] looks for; every given part must hold.
#[derive(Debug, Default)]
pub struct Query {
    /// The Summary class, by name.
    pub class_name: Option<String>,
    /// The node type (`object`, `string`, `closure` …).
    pub node_type: Option<String>,
    /// A property the object has (an edge of type `property` by this name).
    pub property: Option<String>,
    /// Its name holds this: a string's value, a function's name.
    pub value: Option<ValueMatch>,
}

#[derive(Debug)]
pub enum ValueMatch {
    Contains(String),
    Matches(regex::Regex),
}

impl ValueMatch {
    /// A pattern in the regex crate's syntax (no look-around or
    /// backreferences: linear in the text); the error says what is wrong.
    pub fn pattern(pattern: &str) -> Result<ValueMatch, String> {
        regex::Regex::new(pattern).map(ValueMatch::Matches).map_err(|e| e.to_string())
    }

    fn holds(&self, text: &str) -> bool {
        match self {
            ValueMatch::Contains(part) => text.contains(part.as_str()),
            ValueMatch::Matches(re) => re.is_match(text),
        }
    }
}

impl Heap {
    /// The objects that answer `query`, largest retained size first.
    pub fn find(&self, query: &Query, page: Page) -> Paged<u32> {
        let g = self.graph();
        let a = self.analysis();
        let node_type = query.node_type.as_deref().map(|t| g.layout.node_type_id(t));
        let class = query.class_name.as_deref();
        let property = g.layout.edge_type_id("property");
        // Names are strings of the snapshot: decide each string once.
        let mut value_holds: Vec<Option<bool>> = vec![None; if query.value.is_some() { g.strings.len() } else { 0 }];
        let nodes: Vec<u32> = (0..g.node_count as u32)
            .filter(|&n| node_type.is_none_or(|t| g.node_type(n) == t))
            .filter(|&n| class.is_none_or(|c| a.class_name(n) == c))
            .filter(|&n| {
                query.property.as_deref().is_none_or(|p| {
                    g.edges(n).any(|e| g.edge_type(e) == property && g.string(g.edge_name_index(e) as usize) == p)
                })
            })
            .filter(|&n| {
                query.value.as_ref().is_none_or(|v| {
                    let name = g.node_name_index(n) as usize;
                    *value_holds[name].get_or_insert_with(|| v.holds(g.string(name)))
                })
            })
            .collect();
        page.sorted(nodes, |&x, &y| by_retained_then_id(a, x, y))
    }

    /// Closures (JS functions), largest retained size first.
    pub fn closures(&self, page: Page) -> Paged<u32> {
        self.find(&Query { node_type: Some("closure".into()), ..Query::default() }, page)
    }

    /// The context a closure captures (or `n` itself when it is a context):
    /// its variables (and the slots V8 left unnamed, as `[i]`), largest
    /// retained size first, as edges.
    pub fn context(&self, n: u32, page: Page) -> Option<(u32, Paged<Link>)> {
        let g = self.graph();
        let variable = g.layout.edge_type_id("context");
        // A slot V8 could not name (a block scope at a script's top level) is a hidden edge.
        let unnamed = g.layout.edge_type_id("hidden");
        let context =
            if g.node_type(n) == g.layout.node_type_id("closure") { g.internal_edge_to(n, "context")? } else { n };
        Some((context, self.edges_in_summary_order(context, |kind| kind == variable || kind == unnamed, page)))
    }
}

/// DevTools' Statistics (the Summary's pie): where the total goes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Statistics {
    pub total: f64,
    /// Native memory (V8's `native` nodes and the extra native bytes)…
    pub native: f64,
    /// …of which the backing stores of ArrayBuffers.
    pub typed_arrays: f64,
    /// The JS heap: the total less native memory…
    pub v8_heap: f64,
    /// …of which compiled code, JS arrays (with their element stores owned
    /// by them alone), strings and V8's hidden objects.
    pub code: f64,
    pub js_arrays: f64,
    pub strings: f64,
    pub system: f64,
}

impl Heap {
    /// DevTools' Statistics, computed as its worker does: each node by its
    /// type, at the sizes the Summary shows.
    pub fn statistics(&self) -> Statistics {
        let g = self.graph();
        let a = self.analysis();
        let id = |name: &str| g.layout.node_type_id(name);
        let (hidden, native, code) = (id("hidden"), id("native"), id("code"));
        let strings = [id("string"), id("concatenated string"), id("sliced string")];
        let size = |n: u32| a.census.self_sizes[n as usize] as f64;
        let mut s = Statistics { native: g.extra_native_bytes, ..Statistics::default() };
        for n in 0..g.node_count as u32 {
            let kind = g.node_type(n);
            if kind == hidden {
                s.system += size(n);
            } else if kind == native {
                s.native += size(n);
                if g.node_name(n) == "system / JSArrayBufferData" {
                    s.typed_arrays += size(n);
                }
            } else if kind == code {
                s.code += size(n);
            } else if strings.contains(&kind) {
                s.strings += size(n);
            } else if g.node_name(n) == "Array" {
                s.js_arrays += size(n);
                // Its elements, when nothing else holds them.
                if let Some(e) = g.internal_edge_to(n, "elements") {
                    if self.retainers.of_node(e).len() == 1 {
                        s.js_arrays += size(e);
                    }
                }
            }
        }
        s.total = a.total_size();
        s.v8_heap = s.total - s.native;
        s
    }
}

/// Drops from `near` (retainers with their distance first) all but the
/// `wanted` nearest and those as near as the farthest of them; returns
/// that distance.
fn keep_nearest(near: &mut Vec<(i32, u32, Link)>, wanted: usize) -> i32 {
    if wanted == 0 || near.len() <= wanted {
        return i32::MAX;
    }
    near.select_nth_unstable_by_key(wanted - 1, |&(distance, ..)| distance);
    let farthest = near[wanted - 1].0;
    near.retain(|&(distance, ..)| distance <= farthest);
    farthest
}

fn by_retained_then_id(a: &Analysis, x: u32, y: u32) -> Ordering {
    a.retained[y as usize].total_cmp(&a.retained[x as usize]).then(a.graph.node_id(x).cmp(&a.graph.node_id(y)))
}

#[cfg(test)]
mod tests;
