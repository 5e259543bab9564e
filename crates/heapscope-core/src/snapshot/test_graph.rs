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
    /// The stack that allocated it, the allocating function first.
    stack: Vec<Frame>,
}

/// A frame of an allocation stack: function, script, line, column.
pub type Frame = (&'static str, &'static str, u32, u32);

pub struct TestGraph {
    nodes: Vec<Node>,
}

/// The trace tree being built: each node's frame, parent and children.
struct Tree {
    frames: Vec<Option<Frame>>,
    children: Vec<Vec<usize>>,
}

impl Tree {
    /// The tree node of a stack (outermost frame last), added as needed.
    fn node_of(&mut self, stack: &[Frame]) -> usize {
        let mut at = 0;
        for frame in stack.iter().rev() {
            at = match self.children[at].iter().copied().find(|&c| self.frames[c] == Some(*frame)) {
                Some(child) => child,
                None => {
                    self.frames.push(Some(*frame));
                    self.children.push(Vec::new());
                    let child = self.frames.len() - 1;
                    self.children[at].push(child);
                    child
                }
            };
        }
        at
    }

    /// `id, function, count, size, [children]`, ids from 1 by position.
    fn json(&self, at: usize, function_of: &dyn Fn(Option<Frame>) -> usize) -> String {
        let children: Vec<String> = self.children[at].iter().map(|&c| self.json(c, function_of)).collect();
        format!("{},{},0,0,[{}]", at + 1, function_of(self.frames[at]), children.join(","))
    }
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
                stack: Vec::new(),
            }],
        }
    }

    /// Adds a node; returns its ordinal.
    pub fn node(&mut self, kind: &'static str, name: &str, size: u32) -> usize {
        assert!(NODE_TYPES.contains(&kind), "node type {kind}");
        let id = 2 * self.nodes.len() as u32 + 1;
        let stack = Vec::new();
        self.nodes.push(Node { kind, name: name.to_string(), id, size, detachedness: 0, edges: Vec::new(), stack });
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

    /// Records the stack that allocated a node, the allocating function
    /// first; the snapshot then has allocation traces.
    pub fn allocated(&mut self, node: usize, stack: &[Frame]) -> &mut TestGraph {
        self.nodes[node].stack = stack.to_vec();
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
        let traced = self.nodes.iter().any(|n| !n.stack.is_empty());
        let fields = 5 + dom as usize + traced as usize;
        let mut tree = Tree { frames: vec![None], children: vec![Vec::new()] };
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for n in &self.nodes {
            let kind = position(&NODE_TYPES, n.kind);
            nodes.push(format!("{kind},{},{},{},{}", string(&n.name), n.id, n.size, n.edges.len()));
            if traced {
                let leaf = if n.stack.is_empty() { 0 } else { tree.node_of(&n.stack) + 1 };
                nodes.push(leaf.to_string());
            }
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
        // Functions: "(root)" first, then each frame once.
        let mut functions: Vec<Option<Frame>> = vec![None];
        for f in &tree.frames[1..] {
            if !functions.contains(f) {
                functions.push(*f);
            }
        }
        let function_of = |f: Option<Frame>| functions.iter().position(|g| *g == f).unwrap_or_default();
        let trace_tree = if traced { format!("[{}]", tree.json(0, &function_of)) } else { "[]".into() };
        let trace_functions: Vec<String> = functions
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (name, script, line, column) = f.unwrap_or(("(root)", "", 0, 0));
                format!("{i},{},{},{},{line},{column}", string(name), string(script), i + 1)
            })
            .collect();
        let quote = |list: &[&str]| list.iter().map(|t| format!("{t:?}")).collect::<Vec<_>>().join(",");
        format!(
            r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count"{}{}],
"node_types":[[{}],"string","number","number","number"{}{}],
"edge_fields":["type","name_or_index","to_node"],
"edge_types":[[{}],"string_or_number","node"],
"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],
"trace_node_fields":["id","function_info_index","count","size","children"]}},
"node_count":{},"edge_count":{},"trace_function_count":{}}},
"nodes":[{}],"edges":[{}],"trace_function_infos":[{}],"trace_tree":{},"strings":{:?}}}"#,
            if traced { r#","trace_node_id""# } else { "" },
            if dom { r#","detachedness""# } else { "" },
            quote(&NODE_TYPES),
            if traced { r#","number""# } else { "" },
            if dom { r#","number""# } else { "" },
            quote(&EDGE_TYPES),
            self.nodes.len(),
            edges.len(),
            if traced { functions.len() } else { 0 },
            nodes.join(","),
            edges.join(","),
            if traced { trace_functions.join(",") } else { String::new() },
            trace_tree,
            strings
        )
    }

    pub fn graph(&self) -> Graph {
        Graph::read(self.json().as_bytes(), &mut |_| {}).expect("a well-formed test graph")
    }
}
