//! Allocation traces of a snapshot taken while allocation tracking was on:
//! for each object allocated since, the stack of functions that allocated
//! it. V8 records functions, not statements: a frame's line and column are
//! where its function starts (1-based; 0 when V8 had no position).

use std::collections::HashMap;

use super::parse::{Meta, TraceTreeNode};
use super::{Graph, ParseError, Place};

/// A function of the traces. `name` and `script` are string indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceFunction {
    pub name: u32,
    pub script: u32,
    pub script_id: u32,
    pub line: u32,
    pub column: u32,
}

/// The functions and the tree of stacks; an object's `trace_node_id` is a
/// node of the tree, whose path from the root is the allocating stack.
#[derive(Debug, Default)]
pub struct Traces {
    functions: Vec<TraceFunction>,
    /// Sorted by id.
    nodes: Vec<TraceTreeNode>,
}

impl Traces {
    /// Checks the sections against `meta` and the strings table. `None`
    /// when the snapshot has no traces.
    pub(super) fn build(
        meta: &Meta,
        functions: &[u32],
        mut nodes: Vec<TraceTreeNode>,
        string_count: usize,
        section: u64,
    ) -> Result<Option<Traces>, ParseError> {
        if nodes.is_empty() {
            return Ok(None);
        }
        let bad = |reason: String| ParseError::Shape { reason, at: Place::Byte(section) };
        let fields = &meta.trace_function_info_fields;
        let find = |name: &str| fields.iter().position(|f| f == name);
        let (Some(name), Some(script), Some(script_id), Some(line), Some(column)) =
            (find("name"), find("script_name"), find("script_id"), find("line"), find("column"))
        else {
            return Err(bad(
                "meta's trace_function_info_fields lack name, script_name, script_id, line or column".into()
            ));
        };
        if !functions.len().is_multiple_of(fields.len()) {
            return Err(bad(format!(
                "trace_function_infos holds {} values, not rows of {}",
                functions.len(),
                fields.len()
            )));
        }
        let mut rows = Vec::with_capacity(functions.len() / fields.len());
        for (i, row) in functions.chunks_exact(fields.len()).enumerate() {
            if row[name] as usize >= string_count || row[script] as usize >= string_count {
                return Err(bad(format!("trace function {i} names a string outside the strings table")));
            }
            rows.push(TraceFunction {
                name: row[name],
                script: row[script],
                script_id: row[script_id],
                line: row[line],
                column: row[column],
            });
        }
        nodes.sort_unstable_by_key(|n| n.id);
        if let Some(pair) = nodes.windows(2).find(|pair| pair[0].id == pair[1].id) {
            return Err(bad(format!("trace node {} is in the trace tree twice", pair[0].id)));
        }
        if let Some(n) = nodes.iter().find(|n| n.function as usize >= rows.len()) {
            return Err(bad(format!("trace node {} names function {} of {}", n.id, n.function, rows.len())));
        }
        Ok(Some(Traces { functions: rows, nodes }))
    }

    fn node(&self, id: u32) -> Option<&TraceTreeNode> {
        self.nodes.binary_search_by_key(&id, |n| n.id).ok().map(|i| &self.nodes[i])
    }

    /// Whether `id` is a node of the tree.
    pub fn has(&self, id: u32) -> bool {
        self.node(id).is_some()
    }

    /// The stack of trace node `id`, the allocating function first, out to
    /// the outermost frame (the tree's root, V8's `(root)`, left out).
    pub fn stack(&self, id: u32) -> Vec<&TraceFunction> {
        let mut frames = Vec::new();
        let mut at = self.node(id);
        while let Some(node) = at {
            if node.parent == 0 {
                break;
            }
            frames.push(&self.functions[node.function as usize]);
            // A parent that is not there, or a cycle, ends the walk.
            at = self.node(node.parent).filter(|_| frames.len() <= self.nodes.len());
        }
        frames
    }
}

/// A frame of an allocation stack, by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame {
    pub function: String,
    pub url: String,
    /// Where the function starts, 1-based (0: unknown).
    pub line: u32,
    pub column: u32,
}

/// Objects allocated by one stack: how many, how many bytes, and the
/// stack, the allocating function first. V8's builtins that allocate for a
/// program's function (`push`, `repeat`, a Map's `set`: frames without a
/// script) are left off the top, so the first frame is the program's.
#[derive(Debug, Clone)]
pub struct AllocationSite {
    pub count: u64,
    pub size: f64,
    pub stack: Vec<Frame>,
    /// `count` and `size` are estimates from V8's sampling heap profiler,
    /// not objects counted in the snapshot.
    pub sampled: bool,
}

/// Objects tallied by the stack that allocated them.
#[derive(Default)]
pub struct SiteTally {
    by_trace: HashMap<u32, (u64, f64)>,
}

impl SiteTally {
    /// Counts one object of `size` bytes allocated by trace node `trace` (0: none).
    pub fn add(&mut self, trace: u32, size: f64) {
        if trace != 0 {
            let entry = self.by_trace.entry(trace).or_default();
            entry.0 += 1;
            entry.1 += size;
        }
    }

    /// The `limit` stacks that allocated the most bytes.
    pub fn sites(self, g: &Graph, limit: usize) -> Vec<AllocationSite> {
        let Some(traces) = &g.traces else { return Vec::new() };
        let frame = |f: &TraceFunction| Frame {
            function: g.string(f.name as usize).to_string(),
            url: g.string(f.script as usize).to_string(),
            line: f.line,
            column: f.column,
        };
        let mut by_stack: HashMap<Vec<Frame>, (u64, f64)> = HashMap::new();
        for (trace, (count, size)) in self.by_trace {
            let mut stack: Vec<Frame> = traces.stack(trace).into_iter().map(frame).collect();
            let program = stack.iter().position(|f| !f.url.is_empty()).unwrap_or(0);
            stack.drain(..program);
            let entry = by_stack.entry(stack).or_default();
            entry.0 += count;
            entry.1 += size;
        }
        let mut sites: Vec<AllocationSite> = by_stack
            .into_iter()
            .map(|(stack, (count, size))| AllocationSite { count, size, stack, sampled: false })
            .collect();
        sites.sort_by(|a, b| b.size.total_cmp(&a.size).then(b.count.cmp(&a.count)).then_with(|| a.stack.cmp(&b.stack)));
        sites.truncate(limit);
        sites
    }
}

#[cfg(test)]
mod tests {
    use crate::snapshot::test_graph::TestGraph;

    use super::*;

    const HANDLER: (&str, &str, u32, u32) = ("handle", "/srv/app.js", 10, 16);
    const ADD_ITEM: (&str, &str, u32, u32) = ("addItem", "/srv/cart.js", 42, 17);
    const LOG: (&str, &str, u32, u32) = ("log", "/srv/log.js", 3, 13);
    const REPEAT: (&str, &str, u32, u32) = ("repeat", "", 0, 0);

    #[test]
    fn objects_are_tallied_by_the_stack_that_allocated_them() {
        let mut t = TestGraph::new();
        let items: Vec<usize> = (0..3).map(|_| t.node("object", "Item", 40)).collect();
        let line = t.node("string", "a log line", 24);
        let padded = t.node("string", "a padded log line", 32);
        let old = t.node("object", "Old", 16);
        for &n in &items {
            t.allocated(n, &[ADD_ITEM, HANDLER]);
        }
        t.allocated(line, &[LOG, HANDLER]);
        t.allocated(padded, &[REPEAT, LOG, HANDLER]);
        for (i, n) in items.iter().chain([&line, &padded, &old]).enumerate() {
            t.edge(0, "element", &i.to_string(), *n);
        }
        let g = t.graph();
        let traces = g.traces.as_ref().expect("traces");
        let stack = |n: usize| {
            traces.stack(g.trace_node(n as u32)).iter().map(|f| g.string(f.name as usize)).collect::<Vec<_>>()
        };
        assert_eq!(stack(items[0]), ["addItem", "handle"]);
        assert_eq!(stack(line), ["log", "handle"]);
        assert_eq!(g.trace_node(old as u32), 0);
        let mut tally = SiteTally::default();
        for n in 0..g.node_count as u32 {
            tally.add(g.trace_node(n), g.self_size(n) as f64);
        }
        let sites = tally.sites(&g, 5);
        assert_eq!(sites.len(), 2);
        assert_eq!((sites[0].count, sites[0].size), (3, 120.0));
        let first = &sites[0].stack[0];
        assert_eq!(
            (first.function.as_str(), first.url.as_str(), first.line, first.column),
            ("addItem", "/srv/cart.js", 42, 17)
        );
        assert_eq!(sites[0].stack[1].function, "handle");
        // A builtin's allocation counts for the program's function that called it.
        assert_eq!(stack(padded), ["repeat", "log", "handle"]);
        assert_eq!((sites[1].count, sites[1].size, sites[1].stack[0].function.as_str()), (2, 56.0, "log"));
        assert_eq!(sites[1].stack.len(), 2);
        // A snapshot without traces has none.
        let plain = TestGraph::new().graph();
        assert!(plain.traces.is_none() && plain.trace_node(0) == 0);
    }

    #[test]
    fn a_trace_id_outside_the_tree_is_refused_with_its_node() {
        let mut t = TestGraph::new();
        let n = t.node("object", "Item", 40);
        t.allocated(n, &[ADD_ITEM]).edge(0, "element", "0", n);
        let written = t.json();
        let json = written.replace(r#""nodes":[9,0,1,0,1,0,3,1,3,40,0,2]"#, r#""nodes":[9,0,1,0,1,0,3,1,3,40,0,7]"#);
        assert_ne!(json, written, "the node's trace id is in the JSON");
        let Err(e) = Graph::read(json.as_bytes(), &mut |_| {}) else { panic!("trace node 7 is not in the tree") };
        assert!(e.to_string().contains("names trace node 7"), "{e}");
        assert_eq!(e.place(), Place::Node(1));
    }
}
