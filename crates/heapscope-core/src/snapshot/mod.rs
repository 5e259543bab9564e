//! Heap snapshots as a graph: flat columns indexed by node ordinal, edges in
//! CSR form (first edge per node) with their targets as ordinals, and type
//! ids taken from the snapshot's own `meta`, as Chrome DevTools' model does.
//! [`parse`] reads the file; [`analysis`] computes what DevTools shows.
//!
//! Memory is the design constraint: a node costs 17 bytes (type, name, id,
//! self size, first edge) and an edge 7 (a three-byte name, and a target
//! with the type in its top bits), so a snapshot takes less than half its
//! file size once read.

pub mod analysis;
pub mod explore;
pub mod leaks;
pub mod parse;
pub mod traces;

#[cfg(test)]
mod analysis_tests;
#[cfg(test)]
pub(crate) mod test_graph;

use crate::allocator::KeepFreedPages;
use crate::priority::Threads;
use std::io::Read;
use std::path::Path;

use parse::{Header, Raw, Strings};
pub use parse::{ParseError, Place};
use traces::Traces;

/// Type names from `meta`, and lookups of their ids.
#[derive(Debug, Clone)]
pub struct Layout {
    pub node_types: Vec<String>,
    /// The snapshot's edge types plus DevTools' "invisible".
    pub edge_types: Vec<String>,
}

impl Layout {
    pub fn node_type_id(&self, name: &str) -> u32 {
        self.node_types.iter().position(|t| t == name).map_or(u32::MAX, |p| p as u32)
    }

    pub fn edge_type_id(&self, name: &str) -> u32 {
        self.edge_types.iter().position(|t| t == name).map_or(u32::MAX, |p| p as u32)
    }
}

/// V8's edge types, for logic that branches on them (display keeps the
/// snapshot's own names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Context,
    Element,
    Property,
    Internal,
    Hidden,
    Shortcut,
    Weak,
    /// A type this reader does not know, or DevTools' "invisible".
    Other,
}

impl EdgeKind {
    pub fn of(name: &str) -> EdgeKind {
        match name {
            "context" => EdgeKind::Context,
            "element" => EdgeKind::Element,
            "property" => EdgeKind::Property,
            "internal" => EdgeKind::Internal,
            "hidden" => EdgeKind::Hidden,
            "shortcut" => EdgeKind::Shortcut,
            "weak" => EdgeKind::Weak,
            _ => EdgeKind::Other,
        }
    }

    /// A variable, a property or an element: a name the program itself wrote.
    pub fn is_named_by_program(self) -> bool {
        matches!(self, EdgeKind::Context | EdgeKind::Element | EdgeKind::Property)
    }
}

/// Where an object's constructor was defined (from `locations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub script: u32,
    pub line: u32,
    pub column: u32,
}

/// A node's id in V8's snapshot, `@123` in DevTools: it names one object
/// for the object's whole life within a process, across snapshots. Not to
/// be mixed up with a node's ordinal (the bare `u32` indices the graph's
/// columns are read by), which is only its place in one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "@{}", self.0)
    }
}

/// A parsed snapshot.
pub struct Graph {
    pub header: Header,
    pub layout: Layout,
    pub strings: Strings,
    pub node_count: usize,
    pub edge_count: usize,
    pub root: u32,
    node_type: Vec<u8>,
    node_name: Vec<u32>,
    node_id: Vec<u32>,
    self_size: Vec<u32>,
    /// `first_edge[n]..first_edge[n + 1]` are node `n`'s edge ordinals.
    pub first_edge: Vec<u32>,
    edge_names: EdgeNames,
    targets: EdgeTargets,
    pub locations: Locations,
    /// Allocation stacks, when allocation tracking was on ([`Graph::trace_node`]).
    pub traces: Option<Traces>,
    /// By node: its trace node, 0 for none; empty without traces.
    trace_node: Vec<u32>,
    pub extra_native_bytes: f64,
    /// The arrays an analysis makes and drops reuse each other's pages
    /// while a graph lives (see [`crate::allocator`]).
    _reuse: KeepFreedPages,
}

/// A problem with the `snapshot` header, which starts at byte `offset`.
fn bad_header(offset: u64, reason: String) -> ParseError {
    ParseError::Meta { offset, reason }
}

fn field(fields: &[String], name: &str, header: u64) -> Result<usize, ParseError> {
    fields.iter().position(|f| f == name).ok_or_else(|| bad_header(header, format!("meta lists no '{name}' field")))
}

fn type_names(types: &[serde_json::Value], at: usize, what: &str, header: u64) -> Result<Vec<String>, ParseError> {
    let list = types
        .get(at)
        .and_then(|v| v.as_array())
        .ok_or_else(|| bad_header(header, format!("meta has no list of {what} types")))?;
    Ok(list.iter().map(|v| v.as_str().unwrap_or("").to_string()).collect())
}

impl Graph {
    /// Reads a `.heapsnapshot` or `.heapsnapshot.gz` (detected by its magic
    /// bytes), on the threads this process may use.
    pub fn open(path: &Path, progress: parse::Progress) -> Result<Graph, ParseError> {
        Graph::open_with(path, Threads::available(), progress)
    }

    /// [`Graph::open`] on at most `threads` threads.
    pub fn open_with(path: &Path, threads: Threads, progress: parse::Progress) -> Result<Graph, ParseError> {
        use std::io::BufRead;
        use std::os::unix::fs::FileExt;
        // A FIFO with no writer must not hang the open: it reads as empty.
        let file =
            crate::fd::open_without_waiting(path, false).map_err(|source| ParseError::Io { offset: 0, source })?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            // Pipes, FIFOs and terminals cannot seek: read them as a stream.
            let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
            let head = reader.fill_buf().map_err(|source| ParseError::Io { offset: 0, source })?;
            return if head.starts_with(&[0x1f, 0x8b]) {
                Graph::read_with(flate2::bufread::MultiGzDecoder::new(reader), threads, progress)
            } else {
                Graph::read_with(reader, threads, progress)
            };
        }
        let mut magic = [0u8; 2];
        let n = file.read_at(&mut magic, 0).map_err(|source| ParseError::Io { offset: 0, source })?;
        if n == 2 && magic == [0x1f, 0x8b] {
            let reader = std::io::BufReader::with_capacity(1 << 20, file);
            Graph::read_with(flate2::bufread::MultiGzDecoder::new(reader), threads, progress)
        } else if threads.split() {
            Graph::build(parse::read_file(file, progress)?, threads)
        } else {
            Graph::read_with(std::io::BufReader::with_capacity(1 << 20, file), threads, progress)
        }
    }

    /// Reads a snapshot from a stream, on the threads this process may use.
    pub fn read(input: impl Read, progress: parse::Progress) -> Result<Graph, ParseError> {
        Graph::read_with(input, Threads::available(), progress)
    }

    /// [`Graph::read`] on at most `threads` threads.
    pub fn read_with(input: impl Read, threads: Threads, progress: parse::Progress) -> Result<Graph, ParseError> {
        Graph::build(parse::read(input, progress)?, threads)
    }

    /// Checks the sections against `meta` and each other, and finishes the indexes.
    pub fn build(raw: Raw, threads: Threads) -> Result<Graph, ParseError> {
        let reuse = KeepFreedPages::new();
        let Raw {
            header,
            nodes,
            edges,
            edges_declared,
            locations,
            trace_functions,
            trace_tree,
            mut strings,
            edges_at,
            locations_at,
            traces_at,
            end,
        } = raw;
        let header = header.ok_or_else(|| ParseError::Syntax {
            offset: end,
            expected: "a 'snapshot' header before the end",
            found: "none".into(),
        })?;
        let meta = &header.meta;
        let at = header.offset;
        let nf = meta.node_fields.len();
        for name in ["type", "name", "id", "self_size", "edge_count"] {
            field(&meta.node_fields, name, at)?;
        }
        for name in ["name_or_index", "to_node"] {
            field(&meta.edge_fields, name, at)?;
        }
        let node_type = field(&meta.node_fields, "type", at)?;
        let edge_type = field(&meta.edge_fields, "type", at)?;
        let mut edge_types = type_names(&meta.edge_types, edge_type, "edge", at)?;
        edge_types.push("invisible".into());
        let layout = Layout { node_types: type_names(&meta.node_types, node_type, "node", at)?, edge_types };
        let node_count = nodes.kind.len();
        let edge_count = edges.to.len();
        if node_count == 0 {
            return Err(ParseError::Shape { reason: "the snapshot has no nodes".into(), at: Place::Byte(at) });
        }
        if edges_declared != edge_count as u64 {
            return Err(ParseError::Shape {
                reason: format!("nodes' edge counts add up to {edges_declared} but there are {edge_count} edges"),
                at: Place::Byte(edges_at),
            });
        }
        let root_index = header.root_index.unwrap_or(0) as usize;
        if !root_index.is_multiple_of(nf) || root_index / nf >= node_count {
            return Err(bad_header(at, format!("root_index {root_index} is not a node")));
        }
        let string_count = strings.len();
        if let Some(n) = nodes.name.iter().position(|&name| name as usize >= string_count) {
            return Err(ParseError::Shape {
                reason: format!("node {n} names string {} of {string_count}", nodes.name[n]),
                at: Place::Node(n as u32),
            });
        }
        let mut first_edge = nodes.first_edge;
        first_edge.push(edge_count as u32);
        // A snapshot without such a type gets a kind no edge of its data has:
        // meta lists at most 255 types (see parse), so their ids fit in a u8
        // and 255 is at most DevTools' own "invisible", added after them.
        let kind = |name: &str| u8::try_from(layout.edge_type_id(name)).unwrap_or(u8::MAX);
        let (element, hidden) = (kind("element"), kind("hidden"));
        let mut targets = EdgeTargets::new(edges.to, edges.kind, layout.edge_types.len(), node_count);
        let names = Names { string_count, element, hidden, split: threads.split() };
        let checked = match nf {
            // Division by a constant is a multiply: V8 writes 6 or 7 fields.
            6 => names.targets::<6>(&mut targets, &edges.name, node_count),
            7 => names.targets::<7>(&mut targets, &edges.name, node_count),
            _ => names.targets_by(nf, &mut targets, &edges.name, node_count),
        };
        let edge_names = checked.map_err(|bad| match bad {
            BadEdge::Target(e, index) => ParseError::Shape {
                reason: format!("edge {e} points to {index}, not one of the {node_count} nodes"),
                at: Place::Edge(e as u64),
            },
            BadEdge::Name(e) => ParseError::Shape {
                reason: format!("edge {e} names a string outside the strings table"),
                at: Place::Edge(e as u64),
            },
        })?;
        drop(edges.name);
        targets.pack();
        let locations = Locations::build(meta, &locations, nf, node_count, locations_at)?;
        let traces = Traces::build(meta, &trace_functions, trace_tree, string_count, traces_at)?;
        let trace_node = match &traces {
            Some(traces) if nodes.trace_node.len() == node_count => {
                if let Some(n) = nodes.trace_node.iter().position(|&t| t != 0 && !traces.has(t)) {
                    return Err(ParseError::Shape {
                        reason: format!("node {n} names trace node {}, not in the trace tree", nodes.trace_node[n]),
                        at: Place::Node(n as u32),
                    });
                }
                nodes.trace_node
            }
            _ => Vec::new(),
        };
        let mut node_name = nodes.name;
        if !nodes.detachedness.is_empty() {
            let dom = DomState { layout: &layout, first_edge: &first_edge, targets: &targets, node_type: &nodes.kind };
            dom.propagate(nodes.detachedness, &mut node_name, &mut strings);
        }
        Ok(Graph {
            extra_native_bytes: header.extra_native_bytes.unwrap_or(0.0),
            header,
            layout,
            strings,
            node_count,
            edge_count,
            root: (root_index / nf) as u32,
            node_type: nodes.kind,
            node_name,
            node_id: nodes.id,
            self_size: nodes.self_size,
            first_edge,
            edge_names,
            targets,
            locations,
            traces,
            trace_node,
            _reuse: reuse,
        })
    }

    #[inline]
    pub fn node_type(&self, n: u32) -> u32 {
        self.node_type[n as usize] as u32
    }

    #[inline]
    pub fn node_name_index(&self, n: u32) -> u32 {
        self.node_name[n as usize]
    }

    pub fn node_name(&self, n: u32) -> &str {
        self.strings.get(self.node_name[n as usize] as usize)
    }

    #[inline]
    pub fn node_id(&self, n: u32) -> NodeId {
        NodeId(self.node_id[n as usize])
    }

    /// Every node's id, by ordinal.
    pub fn node_ids(&self) -> &[u32] {
        &self.node_id
    }

    /// The size V8 reported, before DevTools' shallow-size moves.
    #[inline]
    pub fn self_size(&self, n: u32) -> u32 {
        self.self_size[n as usize]
    }

    #[inline]
    pub fn edges(&self, n: u32) -> std::ops::Range<usize> {
        self.first_edge[n as usize] as usize..self.first_edge[n as usize + 1] as usize
    }

    #[inline]
    pub fn edge_type(&self, e: usize) -> u32 {
        self.targets.kind(e)
    }

    /// The node edge `e` points to.
    #[inline]
    pub fn edge_to(&self, e: usize) -> u32 {
        self.targets.to(e)
    }

    /// A string index for named edges, the index itself for element and hidden edges.
    #[inline]
    pub fn edge_name_index(&self, e: usize) -> u32 {
        self.edge_names.get(e)
    }

    pub fn string(&self, index: usize) -> &str {
        self.strings.get(index)
    }

    /// Bytes of memory the graph's arrays hold.
    pub fn heap_bytes(&self) -> usize {
        fn size<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        size(&self.node_type)
            + size(&self.node_name)
            + size(&self.node_id)
            + size(&self.self_size)
            + size(&self.first_edge)
            + size(&self.edge_names.narrow)
            + size(&self.edge_names.wide)
            + size(&self.targets.words)
            + size(&self.targets.kinds)
            + self.strings.data.capacity()
            + size(&self.strings.ends)
            + size(&self.locations.has)
            + size(&self.locations.before)
            + size(&self.locations.rows)
            + size(&self.trace_node)
    }

    /// Where node `n`'s internal edge `name` leads (a closure's `context`,
    /// an array's `elements`), if it has one.
    pub fn internal_edge_to(&self, n: u32, name: &str) -> Option<u32> {
        let internal = self.layout.edge_type_id("internal");
        self.edges(n)
            .find(|&e| self.edge_type(e) == internal && self.string(self.edge_name_index(e) as usize) == name)
            .map(|e| self.edge_to(e))
    }

    /// The node whose edge `e` is.
    pub fn edge_source(&self, e: usize) -> u32 {
        // first_edge is sorted: the source is the last node whose first edge ≤ e.
        (self.first_edge.partition_point(|&first| first as usize <= e) - 1) as u32
    }

    /// The constructor location of node `n`, if the snapshot has one.
    pub fn location(&self, n: u32) -> Option<Location> {
        self.locations.get(n)
    }

    /// The trace node of `n`'s allocation stack (see [`Graph::traces`]):
    /// 0 when it has none (allocated before tracking began, or no traces).
    #[inline]
    pub fn trace_node(&self, n: u32) -> u32 {
        self.trace_node.get(n as usize).copied().unwrap_or(0)
    }
}

/// What an edge's name may refer to.
struct Names {
    string_count: usize,
    element: u8,
    hidden: u8,
    /// Check the two halves of the edges on two threads.
    split: bool,
}

enum BadEdge {
    Target(usize, u32),
    Name(usize),
}

impl Names {
    /// Turns V8's node indexes into ordinals, checks every edge and packs
    /// the names into three bytes each, on two threads when it may split.
    fn targets<const NF: usize>(
        &self,
        targets: &mut EdgeTargets,
        name: &[u32],
        nodes: usize,
    ) -> Result<EdgeNames, BadEdge> {
        self.targets_by(NF, targets, name, nodes)
    }

    #[inline(always)]
    fn targets_by(
        &self,
        nf: usize,
        targets: &mut EdgeTargets,
        name: &[u32],
        nodes: usize,
    ) -> Result<EdgeNames, BadEdge> {
        let (kind, shift) = (&targets.kinds, targets.shift);
        let half = targets.words.len() / 2;
        let (first, second) = targets.words.split_at_mut(half);
        // One byte more, so that reading four bytes at the last name stays inside.
        let mut narrow = vec![0u8; name.len() * 3 + 1];
        let (narrow_first, narrow_second) = narrow.split_at_mut(half * 3);
        let check = |to: &mut [u32], narrow: &mut [u8], from: usize| -> Result<Vec<(u32, u32)>, BadEdge> {
            let mut wide = Vec::new();
            for (i, (target, packed)) in to.iter_mut().zip(narrow.chunks_exact_mut(3)).enumerate() {
                let e = from + i;
                let index = *target as usize;
                if !index.is_multiple_of(nf) || index / nf >= nodes {
                    return Err(BadEdge::Target(e, *target));
                }
                let k = kind[e];
                if k != self.element && k != self.hidden && name[e] as usize >= self.string_count {
                    return Err(BadEdge::Name(e));
                }
                // The type goes in the top bits when they are free (shift < 32).
                *target = (index / nf) as u32 | (k as u32).checked_shl(shift).unwrap_or(0);
                packed.copy_from_slice(&EdgeNames::narrow(e, name[e], &mut wide).to_le_bytes()[..3]);
            }
            Ok(wide)
        };
        let (a, b) = if self.split {
            std::thread::scope(|scope| {
                let b = scope.spawn(|| check(second, narrow_second, half));
                (check(first, narrow_first, 0), b.join())
            })
        } else {
            (check(first, narrow_first, 0), Ok(check(second, narrow_second, half)))
        };
        let mut wide = a?;
        // The check only computes; a panic there is a bug to surface.
        wide.extend(b.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
        Ok(EdgeNames { narrow, wide })
    }
}

/// Edge names (string indexes, or element indexes): three bytes each. The
/// few that do not fit (elements of sparse arrays with keys like 2^25) are
/// marked and kept aside, sorted by edge.
struct EdgeNames {
    narrow: Vec<u8>,
    wide: Vec<(u32, u32)>,
}

const WIDE_NAME: u32 = 0x00FF_FFFF;

impl EdgeNames {
    /// What edge `e`'s three bytes hold for `name`: the name, or the mark
    /// of a wide one, which goes to `wide`.
    #[inline]
    fn narrow(e: usize, name: u32, wide: &mut Vec<(u32, u32)>) -> u32 {
        if name >= WIDE_NAME {
            wide.push((e as u32, name));
            return WIDE_NAME;
        }
        name
    }

    #[inline]
    fn get(&self, e: usize) -> u32 {
        let at = e * 3;
        let bytes: [u8; 4] = self.narrow[at..at + 4].try_into().unwrap_or_default();
        let name = u32::from_le_bytes(bytes) & WIDE_NAME;
        if name != WIDE_NAME {
            return name;
        }
        self.wide.binary_search_by_key(&(e as u32), |&(edge, _)| edge).map_or(name, |at| self.wide[at].1)
    }
}

/// Edge targets and types. When the node ordinals leave enough bits free,
/// each edge's type sits in the top bits of its target, one u32 an edge
/// instead of five bytes; otherwise the types keep a column of their own.
struct EdgeTargets {
    words: Vec<u32>,
    /// Empty once packed.
    kinds: Vec<u8>,
    /// 32 when not packed.
    shift: u32,
    mask: u32,
}

impl EdgeTargets {
    fn new(words: Vec<u32>, kinds: Vec<u8>, types: usize, nodes: usize) -> EdgeTargets {
        let kind_bits = usize::BITS - types.saturating_sub(1).leading_zeros();
        let node_bits = usize::BITS - nodes.saturating_sub(1).leading_zeros();
        let shift = if kind_bits + node_bits <= 32 { 32 - kind_bits } else { 32 };
        let mask = if shift == 32 { u32::MAX } else { (1 << shift) - 1 };
        EdgeTargets { words, kinds, shift, mask }
    }

    /// Drops the type column once the types are in the words.
    fn pack(&mut self) {
        if self.shift < 32 {
            self.kinds = Vec::new();
        }
    }

    #[inline]
    fn to(&self, e: usize) -> u32 {
        self.words[e] & self.mask
    }

    #[inline]
    fn kind(&self, e: usize) -> u32 {
        if self.kinds.is_empty() {
            self.words[e] >> self.shift
        } else {
            self.kinds[e] as u32
        }
    }
}

/// Constructor locations by node, without a per-node array or a sort: one
/// bit per node says whether it has a location, a count per 64 nodes turns
/// the node into its row's index (a rank query), and rows are in node order.
#[derive(Default)]
pub struct Locations {
    has: Vec<u64>,
    before: Vec<u32>,
    rows: Vec<Location>,
}

impl Locations {
    fn build(
        meta: &parse::Meta,
        values: &[u32],
        nf: usize,
        node_count: usize,
        section: u64,
    ) -> Result<Locations, ParseError> {
        let fields = &meta.location_fields;
        let at = |name: &str| fields.iter().position(|f| f == name);
        let (Some(index), Some(script), Some(line), Some(column)) =
            (at("object_index"), at("script_id"), at("line"), at("column"))
        else {
            return Ok(Locations::default());
        };
        let mut has = vec![0u64; node_count.div_ceil(64)];
        for l in values.chunks_exact(fields.len()) {
            let node = l[index] as usize;
            if !node.is_multiple_of(nf) || node / nf >= node_count {
                return Err(ParseError::Shape {
                    reason: format!("a location names {node}, not one of the nodes"),
                    at: Place::Byte(section),
                });
            }
            has[node / nf / 64] |= 1 << (node / nf % 64);
        }
        let mut before = Vec::with_capacity(has.len());
        let mut total = 0u32;
        for word in &has {
            before.push(total);
            total += word.count_ones();
        }
        let mut locations = Locations { has, before, rows: Vec::new() };
        let mut rows = vec![Location { script: 0, line: 0, column: 0 }; total as usize];
        // A node listed twice keeps its last location, as DevTools' map does.
        for l in values.chunks_exact(fields.len()) {
            let node = (l[index] as usize / nf) as u32;
            rows[locations.rank(node)] = Location { script: l[script], line: l[line], column: l[column] };
        }
        locations.rows = rows;
        Ok(locations)
    }

    #[inline]
    fn rank(&self, n: u32) -> usize {
        let word = self.has[n as usize / 64];
        (self.before[n as usize / 64] + (word & ((1u64 << (n % 64)) - 1)).count_ones()) as usize
    }

    #[inline]
    pub fn get(&self, n: u32) -> Option<Location> {
        let word = *self.has.get(n as usize / 64)?;
        if word & (1 << (n % 64)) == 0 {
            return None;
        }
        Some(self.rows[self.rank(n)])
    }
}

/// What DevTools' DOM-state propagation reads.
struct DomState<'a> {
    layout: &'a Layout,
    first_edge: &'a [u32],
    targets: &'a EdgeTargets,
    node_type: &'a [u8],
}

impl DomState<'_> {
    /// Native nodes reachable from an attached native node are attached; the
    /// rest reachable from a detached one are detached and renamed
    /// "Detached <name>". It stops at non-native nodes.
    fn propagate(&self, mut state: Vec<u8>, names: &mut [u32], strings: &mut Strings) {
        const ATTACHED: u8 = 1;
        const DETACHED: u8 = 2;
        if state.iter().all(|&s| s == 0) {
            return;
        }
        let node_count = state.len();
        let native = self.layout.node_type_id("native");
        let l = self.layout;
        let skip = [l.edge_type_id("hidden"), l.edge_type_id("invisible"), l.edge_type_id("weak")];
        let mut visited = vec![false; node_count];
        let mut attached = Vec::new();
        let mut detached = Vec::new();
        let mut renamed: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
        let mut visit = |o: usize,
                         new_state: u8,
                         state: &mut [u8],
                         attached: &mut Vec<usize>,
                         detached: &mut Vec<usize>,
                         names: &mut [u32],
                         strings: &mut Strings| {
            if visited[o] {
                return;
            }
            visited[o] = true;
            if self.node_type[o] as u32 != native {
                return;
            }
            state[o] = new_state;
            if new_state == ATTACHED {
                attached.push(o);
            } else if new_state == DETACHED {
                let old = names[o];
                names[o] = *renamed.entry(old).or_insert_with(|| {
                    let name = format!("Detached {}", strings.get(old as usize));
                    strings.push(&name)
                });
                detached.push(o);
            }
        };
        for o in 0..node_count {
            let s = state[o];
            if s != 0 {
                visit(o, s, &mut state, &mut attached, &mut detached, names, strings);
            }
        }
        let children = |o: usize| -> Vec<usize> {
            (self.first_edge[o] as usize..self.first_edge[o + 1] as usize)
                .filter(|&e| !skip.contains(&self.targets.kind(e)))
                .map(|e| self.targets.to(e) as usize)
                .collect()
        };
        while let Some(o) = attached.pop() {
            for child in children(o) {
                visit(child, ATTACHED, &mut state, &mut attached, &mut detached, names, strings);
            }
        }
        while let Some(o) = detached.pop() {
            if state[o] == ATTACHED {
                continue;
            }
            for child in children(o) {
                visit(child, DETACHED, &mut state, &mut attached, &mut detached, names, strings);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_keep_their_type_target_and_wide_names() {
        // An element edge named 2^25 (a sparse array's key) and a property edge.
        let text = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],
            "node_types":[["hidden","object"],"string","number","number","number"],
            "edge_fields":["type","name_or_index","to_node"],
            "edge_types":[["element","property"],"string_or_number","node"]},"node_count":3,"edge_count":2},
            "nodes":[1,0,1,0,2, 1,1,3,16,0, 0,1,5,8,0],"edges":[0,33554432,5,1,1,10],"strings":["","a"]}"#;
        let g = Graph::read(text.as_bytes(), &mut |_| {}).unwrap();
        assert_eq!((g.edge_type(0), g.edge_to(0), g.edge_name_index(0)), (0, 1, 33_554_432));
        assert_eq!((g.edge_type(1), g.edge_to(1), g.edge_name_index(1)), (1, 2, 1));
        assert_eq!(g.edges(0), 0..2);
    }

    #[test]
    fn every_inconsistency_names_its_byte_node_or_edge() {
        let head = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],
            "node_types":[["hidden","object"],"string","number","number","number"],
            "edge_fields":["type","name_or_index","to_node"],
            "edge_types":[["element","property"],"string_or_number","node"]}},"#;
        let place = |body: &str| {
            let text = format!("{head}{body}");
            Graph::read(text.as_bytes(), &mut |_| {}).err().map(|e| e.place())
        };
        let ok = r#""nodes":[1,0,1,0,1, 1,1,3,16,0],"edges":[1,1,5],"strings":["","a"]}"#;
        assert_eq!(place(ok), None);
        // Edge 0 points past the two nodes.
        assert_eq!(
            place(r#""nodes":[1,0,1,0,1, 1,1,3,16,0],"edges":[1,1,10],"strings":["","a"]}"#),
            Some(Place::Edge(0))
        );
        // Edge 0, a property, is named by string 7 of 2.
        assert_eq!(
            place(r#""nodes":[1,0,1,0,1, 1,1,3,16,0],"edges":[1,7,5],"strings":["","a"]}"#),
            Some(Place::Edge(0))
        );
        // Node 1 is named by string 9 of 2.
        assert_eq!(
            place(r#""nodes":[1,0,1,0,1, 1,9,3,16,0],"edges":[1,1,5],"strings":["","a"]}"#),
            Some(Place::Node(1))
        );
        // The edge counts say 2, the edges list has 1: named where the edges start.
        let counts = r#""nodes":[1,0,1,0,2, 1,1,3,16,0],"edges":[1,1,5],"strings":["","a"]}"#;
        let edges_at = head.len() + counts.find(r#""edges":"#).unwrap() + r#""edges":"#.len();
        assert_eq!(place(counts), Some(Place::Byte(edges_at as u64)));
        // No header at all: named at the end of the input.
        let bare = r#"{"strings":[]}"#;
        let e = Graph::read(bare.as_bytes(), &mut |_| {}).err().map(|e| e.place());
        assert_eq!(e, Some(Place::Byte(bare.len() as u64)));
    }
}
