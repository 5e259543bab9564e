//! Snapshots small enough to check by hand, for unit tests: nodes and edges
//! named as V8 names them, turned into the JSON V8 writes and read back
//! through the real reader. Node `i` has id `2i + 1` unless given another;
//! node 0 is the root.

use super::Graph;

const NODE_TYPES: [&str; 15] = [
    "hidden",
    "array",
    "string",
    "object",
    "code",
    "closure",
    "regexp",
    "number",
    "native",
    "synthetic",
    "concatenated string",
    "sliced string",
    "symbol",
    "bigint",
    "object shape",
];
const EDGE_TYPES: [&str; 7] = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"];

struct Node {
    kind: &'static str,
    name: String,
    id: u32,
    size: u32,
    /// DOM state: 0 unknown, 1 attached, 2 detached.
    detachedness: u8,
    edges: Vec<(&'static str, String, usize)>,
}

pub struct TestGraph {
    nodes: Vec<Node>,
}

impl TestGraph {
    /// A graph with only its root: a synthetic node named "".
    pub fn new() -> TestGraph {
        TestGraph {
            nodes: vec![Node {
                kind: "synthetic",
                name: String::new(),
                id: 1,
                size: 0,
                detachedness: 0,
                edges: Vec::new(),
            }],
        }
    }

    /// Adds a node; returns its ordinal.
    pub fn node(&mut self, kind: &'static str, name: &str, size: u32) -> usize {
        assert!(NODE_TYPES.contains(&kind), "node type {kind}");
        let id = 2 * self.nodes.len() as u32 + 1;
        self.nodes.push(Node { kind, name: name.to_string(), id, size, detachedness: 0, edges: Vec::new() });
        self.nodes.len() - 1
    }

    /// Gives a node another id (ids of one process's snapshots correspond).
    pub fn id(&mut self, node: usize, id: u32) -> &mut TestGraph {
        self.nodes[node].id = id;
        self
    }

    /// Sets a node's DOM state (1 attached, 2 detached); the snapshot then
    /// has V8's `detachedness` field.
    pub fn dom_state(&mut self, node: usize, state: u8) -> &mut TestGraph {
        self.nodes[node].detachedness = state;
        self
    }

    /// Adds an edge. `name` is an index for `element` and `hidden` edges.
    pub fn edge(&mut self, from: usize, kind: &'static str, name: &str, to: usize) -> &mut TestGraph {
        assert!(EDGE_TYPES.contains(&kind), "edge type {kind}");
        self.nodes[from].edges.push((kind, name.to_string(), to));
        self
    }

    /// The snapshot as V8 writes it.
    pub fn json(&self) -> String {
        let mut strings: Vec<String> = vec![String::new()];
        let mut string = |text: &str| match strings.iter().position(|s| s == text) {
            Some(i) => i,
            None => {
                strings.push(text.to_string());
                strings.len() - 1
            }
        };
        let position = |list: &[&str], name: &str| list.iter().position(|t| *t == name).unwrap_or_default();
        let dom = self.nodes.iter().any(|n| n.detachedness != 0);
        let fields = if dom { 6 } else { 5 };
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for n in &self.nodes {
            let kind = position(&NODE_TYPES, n.kind);
            nodes.push(format!("{kind},{},{},{},{}", string(&n.name), n.id, n.size, n.edges.len()));
            if dom {
                nodes.push(n.detachedness.to_string());
            }
            for (kind, name, to) in &n.edges {
                let name = match *kind {
                    "element" | "hidden" => name.parse().expect("an index"),
                    _ => string(name),
                };
                edges.push(format!("{},{name},{}", position(&EDGE_TYPES, kind), to * fields));
            }
        }
        let quote = |list: &[&str]| list.iter().map(|t| format!("{t:?}")).collect::<Vec<_>>().join(",");
        format!(
            r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count"{}],
"node_types":[[{}],"string","number","number","number"{}],
"edge_fields":["type","name_or_index","to_node"],
"edge_types":[[{}],"string_or_number","node"]}},"node_count":{},"edge_count":{}}},
"nodes":[{}],"edges":[{}],"strings":{:?}}}"#,
            if dom { r#","detachedness""# } else { "" },
            quote(&NODE_TYPES),
            if dom { r#","number""# } else { "" },
            quote(&EDGE_TYPES),
            self.nodes.len(),
            edges.len(),
            nodes.join(","),
            edges.join(","),
            strings
        )
    }

    pub fn graph(&self) -> Graph {
        Graph::read(self.json().as_bytes(), &mut |_| {}).expect("a well-formed test graph")
    }
}
