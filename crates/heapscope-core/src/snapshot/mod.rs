//! Heap snapshots as a graph: flat arrays indexed by node ordinal, edges in
//! CSR form (first edge per node), retainers in CSR form too, and field
//! offsets taken from the snapshot's own `meta`, as Chrome DevTools' model
//! does. [`parse`] reads the file; [`analysis`] computes what DevTools shows.

pub mod analysis;
pub mod parse;

use std::io::Read;
use std::path::Path;

pub use parse::ParseError;
use parse::Raw;

/// Field offsets and type ids, resolved from `meta`.
#[derive(Debug, Clone)]
pub struct Layout {
    pub node_fields: usize,
    pub edge_fields: usize,
    pub node_type: usize,
    pub node_name: usize,
    pub node_id: usize,
    pub node_self_size: usize,
    pub node_edge_count: usize,
    pub edge_type: usize,
    pub edge_name: usize,
    pub edge_to_node: usize,
    pub node_types: Vec<String>,
    pub edge_types: Vec<String>,
}

impl Layout {
    fn node_type_id(&self, name: &str) -> u32 {
        self.node_types.iter().position(|t| t == name).map_or(u32::MAX, |p| p as u32)
    }

    fn edge_type_id(&self, name: &str) -> u32 {
        self.edge_types.iter().position(|t| t == name).map_or(u32::MAX, |p| p as u32)
    }
}

/// A parsed snapshot with its edge and retainer indexes.
pub struct Graph {
    pub raw: Raw,
    pub layout: Layout,
    pub node_count: usize,
    pub edge_count: usize,
    pub root: u32,
    /// `first_edge[n]..first_edge[n + 1]` are node `n`'s edge ordinals.
    pub first_edge: Vec<u32>,
    /// Target node ordinal of each edge.
    pub edge_to: Vec<u32>,
    /// `first_retainer[n]..first_retainer[n + 1]` index `retainer_node` / `retainer_edge`.
    pub first_retainer: Vec<u32>,
    pub retainer_node: Vec<u32>,
    pub retainer_edge: Vec<u32>,
    pub extra_native_bytes: f64,
}

fn field(fields: &[String], name: &str) -> Result<usize, ParseError> {
    fields
        .iter()
        .position(|f| f == name)
        .ok_or_else(|| ParseError::Shape { reason: format!("meta lists no '{name}' field") })
}

fn type_names(types: &[serde_json::Value], at: usize, what: &str) -> Result<Vec<String>, ParseError> {
    let list = types
        .get(at)
        .and_then(|v| v.as_array())
        .ok_or_else(|| ParseError::Shape { reason: format!("meta has no list of {what} types") })?;
    Ok(list.iter().map(|v| v.as_str().unwrap_or("").to_string()).collect())
}

impl Graph {
    /// Reads a `.heapsnapshot` or `.heapsnapshot.gz` (detected by its magic bytes).
    pub fn open(path: &Path, progress: parse::Progress) -> Result<Graph, ParseError> {
        let file = std::fs::File::open(path).map_err(|source| ParseError::Io { offset: 0, source })?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let gzip = {
            use std::io::BufRead;
            let head = reader.fill_buf().map_err(|source| ParseError::Io { offset: 0, source })?;
            head.starts_with(&[0x1f, 0x8b])
        };
        if gzip {
            Graph::read(flate2::bufread::MultiGzDecoder::new(reader), progress)
        } else {
            Graph::read(reader, progress)
        }
    }

    pub fn read(input: impl Read, progress: parse::Progress) -> Result<Graph, ParseError> {
        Graph::build(parse::read(input, progress)?)
    }

    /// Checks the sections against `meta` and builds the indexes.
    pub fn build(raw: Raw) -> Result<Graph, ParseError> {
        let header = raw.header.clone().ok_or_else(|| ParseError::Shape { reason: "no 'snapshot' header".into() })?;
        let meta = &header.meta;
        let nf = meta.node_fields.len();
        let ef = meta.edge_fields.len();
        if nf == 0 || ef == 0 {
            return Err(ParseError::Shape { reason: "meta lists no node or edge fields".into() });
        }
        let node_type = field(&meta.node_fields, "type")?;
        let edge_type = field(&meta.edge_fields, "type")?;
        let mut edge_types = type_names(&meta.edge_types, edge_type, "edge")?;
        edge_types.push("invisible".into());
        let layout = Layout {
            node_fields: nf,
            edge_fields: ef,
            node_type,
            node_name: field(&meta.node_fields, "name")?,
            node_id: field(&meta.node_fields, "id")?,
            node_self_size: field(&meta.node_fields, "self_size")?,
            node_edge_count: field(&meta.node_fields, "edge_count")?,
            edge_type,
            edge_name: field(&meta.edge_fields, "name_or_index")?,
            edge_to_node: field(&meta.edge_fields, "to_node")?,
            node_types: type_names(&meta.node_types, node_type, "node")?,
            edge_types,
        };
        if raw.nodes.len() % nf != 0 {
            return Err(ParseError::Shape {
                reason: format!("nodes has {} values, not a multiple of {nf} fields", raw.nodes.len()),
            });
        }
        if raw.edges.len() % ef != 0 {
            return Err(ParseError::Shape {
                reason: format!("edges has {} values, not a multiple of {ef} fields", raw.edges.len()),
            });
        }
        let node_count = raw.nodes.len() / nf;
        let edge_count = raw.edges.len() / ef;
        if node_count == 0 {
            return Err(ParseError::Shape { reason: "the snapshot has no nodes".into() });
        }
        let root_index = header.root_index.unwrap_or(0) as usize;
        if root_index % nf != 0 || root_index / nf >= node_count {
            return Err(ParseError::Shape { reason: format!("root_index {root_index} is not a node") });
        }
        let strings = raw.string_count();
        let mut first_edge = Vec::with_capacity(node_count + 1);
        let mut total = 0u64;
        for n in 0..node_count {
            first_edge.push(total as u32);
            total += raw.nodes[n * nf + layout.node_edge_count] as u64;
            let name = raw.nodes[n * nf + layout.node_name] as usize;
            if name >= strings {
                return Err(ParseError::Shape { reason: format!("node {n} names string {name} of {strings}") });
            }
            if raw.nodes[n * nf + node_type] as usize >= layout.node_types.len() {
                return Err(ParseError::Shape { reason: format!("node {n} has an unknown type") });
            }
        }
        if total != edge_count as u64 {
            return Err(ParseError::Shape {
                reason: format!("nodes' edge counts add up to {total} but there are {edge_count} edges"),
            });
        }
        first_edge.push(total as u32);
        let element = layout.edge_type_id("element");
        let hidden = layout.edge_type_id("hidden");
        let mut edge_to = Vec::with_capacity(edge_count);
        for e in 0..edge_count {
            let to = raw.edges[e * ef + layout.edge_to_node] as usize;
            if to % nf != 0 || to / nf >= node_count {
                return Err(ParseError::Shape {
                    reason: format!("edge {e} points to {to}, not one of the {node_count} nodes"),
                });
            }
            let kind = raw.edges[e * ef + edge_type];
            if kind as usize >= layout.edge_types.len() - 1 {
                return Err(ParseError::Shape { reason: format!("edge {e} has an unknown type {kind}") });
            }
            if kind != element && kind != hidden && raw.edges[e * ef + layout.edge_name] as usize >= strings {
                return Err(ParseError::Shape { reason: format!("edge {e} names a string outside the strings table") });
            }
            edge_to.push((to / nf) as u32);
        }
        let (first_retainer, retainer_node, retainer_edge) = retainers(node_count, &first_edge, &edge_to);
        let mut raw = raw;
        if let Some(detachedness) = meta.node_fields.iter().position(|f| f == "detachedness") {
            propagate_dom_state(&mut raw, &layout, detachedness, &first_edge, &edge_to);
        }
        Ok(Graph {
            extra_native_bytes: header.extra_native_bytes.unwrap_or(0.0),
            raw,
            layout,
            node_count,
            edge_count,
            root: (root_index / nf) as u32,
            first_edge,
            edge_to,
            first_retainer,
            retainer_node,
            retainer_edge,
        })
    }

    #[inline]
    pub fn node_field(&self, n: u32, field: usize) -> u32 {
        self.raw.nodes[n as usize * self.layout.node_fields + field]
    }

    #[inline]
    pub fn node_type(&self, n: u32) -> u32 {
        self.node_field(n, self.layout.node_type)
    }

    pub fn node_name(&self, n: u32) -> &str {
        self.raw.string(self.node_field(n, self.layout.node_name) as usize)
    }

    pub fn node_id(&self, n: u32) -> u32 {
        self.node_field(n, self.layout.node_id)
    }

    #[inline]
    pub fn edges(&self, n: u32) -> std::ops::Range<usize> {
        self.first_edge[n as usize] as usize..self.first_edge[n as usize + 1] as usize
    }

    #[inline]
    pub fn edge_type(&self, e: usize) -> u32 {
        self.raw.edges[e * self.layout.edge_fields + self.layout.edge_type]
    }

    #[inline]
    pub fn edge_name_index(&self, e: usize) -> u32 {
        self.raw.edges[e * self.layout.edge_fields + self.layout.edge_name]
    }
}

/// DevTools' DOM-state propagation: native nodes reachable from an attached
/// native node are attached; the rest reachable from a detached one are
/// detached and renamed "Detached <name>". It stops at non-native nodes.
fn propagate_dom_state(raw: &mut Raw, layout: &Layout, detachedness: usize, first_edge: &[u32], edge_to: &[u32]) {
    const ATTACHED: u32 = 1;
    const DETACHED: u32 = 2;
    let nf = layout.node_fields;
    let node_count = raw.nodes.len() / nf;
    let native = layout.node_type_id("native");
    let skip = [layout.edge_type_id("hidden"), layout.edge_type_id("invisible"), layout.edge_type_id("weak")];
    let mut state: Vec<u32> = (0..node_count).map(|n| raw.nodes[n * nf + detachedness]).collect();
    if state.iter().all(|&s| s == 0) {
        return;
    }
    let mut visited = vec![false; node_count];
    let mut attached = Vec::new();
    let mut detached = Vec::new();
    let mut renamed: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
    let mut process = |raw: &mut Raw,
                       state: &mut [u32],
                       o: usize,
                       new_state: u32,
                       attached: &mut Vec<usize>,
                       detached: &mut Vec<usize>| {
        if visited[o] {
            return;
        }
        visited[o] = true;
        if raw.nodes[o * nf + layout.node_type] != native {
            return;
        }
        state[o] = new_state;
        if new_state == ATTACHED {
            attached.push(o);
        } else if new_state == DETACHED {
            let old = raw.nodes[o * nf + layout.node_name];
            let new = *renamed.entry(old).or_insert_with(|| {
                let name = format!("Detached {}", raw.string(old as usize));
                raw.string_data.push_str(&name);
                raw.string_ends.push(raw.string_data.len());
                (raw.string_ends.len() - 1) as u32
            });
            raw.nodes[o * nf + layout.node_name] = new;
            detached.push(o);
        }
    };
    for o in 0..node_count {
        let s = state[o];
        if s != 0 {
            process(raw, &mut state, o, s, &mut attached, &mut detached);
        }
    }
    let children = |raw: &Raw, o: usize| -> Vec<usize> {
        (first_edge[o] as usize..first_edge[o + 1] as usize)
            .filter(|&e| !skip.contains(&raw.edges[e * layout.edge_fields + layout.edge_type]))
            .map(|e| edge_to[e] as usize)
            .collect()
    };
    while let Some(o) = attached.pop() {
        for child in children(raw, o) {
            process(raw, &mut state, child, ATTACHED, &mut attached, &mut detached);
        }
    }
    while let Some(o) = detached.pop() {
        if state[o] == ATTACHED {
            continue;
        }
        for child in children(raw, o) {
            process(raw, &mut state, child, DETACHED, &mut attached, &mut detached);
        }
    }
}

/// Retainers in CSR form, in the order DevTools builds them.
fn retainers(node_count: usize, first_edge: &[u32], edge_to: &[u32]) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let edge_count = edge_to.len();
    let mut first = vec![0u32; node_count + 1];
    let mut nodes = vec![0u32; edge_count];
    let mut edges = vec![0u32; edge_count];
    for &to in edge_to {
        first[to as usize] += 1;
    }
    let mut slot = 0u32;
    for n in 0..node_count {
        let count = first[n];
        first[n] = slot;
        if count > 0 {
            nodes[slot as usize] = count;
        }
        slot += count;
    }
    first[node_count] = edge_count as u32;
    for src in 0..node_count {
        for e in first_edge[src] as usize..first_edge[src + 1] as usize {
            let to = edge_to[e] as usize;
            let base = first[to] as usize;
            nodes[base] -= 1;
            let at = base + nodes[base] as usize;
            nodes[at] = src as u32;
            edges[at] = e as u32;
        }
    }
    (first, nodes, edges)
}
