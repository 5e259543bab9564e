//! A streaming reader of the `.heapsnapshot` JSON format into flat arrays.
//!
//! The format is one object whose big members are arrays of integers
//! (`nodes`, `edges`, `locations`) and of strings (`strings`). They are read
//! token by token from any `Read` (a file, a gzip stream, V8's chunk stream)
//! straight into `Vec<u32>`s and one string buffer; no JSON DOM is built, so
//! memory stays near the size of the arrays themselves. Only the small
//! `snapshot` header (its `meta`) goes through serde_json. Every error names
//! the byte offset where it was found.

use std::fmt;
use std::io::{self, Read};

use serde::Deserialize;

mod split;
mod traces;

pub use traces::TraceTreeNode;

/// The `snapshot` member: counts and the field layout.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    pub meta: Meta,
    #[serde(default)]
    pub node_count: u64,
    #[serde(default)]
    pub edge_count: u64,
    #[serde(default)]
    pub root_index: Option<u64>,
    #[serde(default)]
    pub extra_native_bytes: Option<f64>,
    /// Functions in the allocation traces (0 unless allocation tracking was on).
    #[serde(default)]
    pub trace_function_count: u64,
    /// Where the header's value starts in the JSON.
    #[serde(skip)]
    pub offset: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Meta {
    pub node_fields: Vec<String>,
    /// One entry per node field: a list of names for enum-like fields, or a type name.
    pub node_types: Vec<serde_json::Value>,
    pub edge_fields: Vec<String>,
    pub edge_types: Vec<serde_json::Value>,
    #[serde(default)]
    pub location_fields: Vec<String>,
    #[serde(default)]
    pub trace_function_info_fields: Vec<String>,
    #[serde(default)]
    pub trace_node_fields: Vec<String>,
}

/// All strings of a snapshot, concatenated: `ends[i]` is where string `i` ends.
#[derive(Debug, Default)]
pub struct Strings {
    pub data: String,
    pub ends: Vec<usize>,
}

impl Strings {
    pub fn get(&self, index: usize) -> &str {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.data[start..self.ends[index]]
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn push(&mut self, text: &str) -> u32 {
        self.data.push_str(text);
        self.ends.push(self.data.len());
        (self.ends.len() - 1) as u32
    }
}

/// The node fields the analysis keeps, one column each; unknown fields are
/// dropped while reading, and so is `trace_node_id` when the snapshot has
/// no allocation traces.
#[derive(Debug, Default)]
pub struct NodeColumns {
    pub kind: Vec<u8>,
    pub name: Vec<u32>,
    pub id: Vec<u32>,
    pub self_size: Vec<u32>,
    /// `first_edge[n]..first_edge[n + 1]`: node `n`'s edges (one entry per node
    /// while reading; the closing entry is added by the graph).
    pub first_edge: Vec<u32>,
    /// Empty when the snapshot has no `detachedness` field.
    pub detachedness: Vec<u8>,
    /// The allocation trace of each node (0: none); empty when the snapshot
    /// has no traces.
    pub trace_node: Vec<u32>,
}

/// Edge fields, one column each. `to` holds V8's node index (ordinal ×
/// node fields) until the graph turns it into an ordinal.
#[derive(Debug, Default)]
pub struct EdgeColumns {
    pub kind: Vec<u8>,
    pub name: Vec<u32>,
    pub to: Vec<u32>,
}

/// The sections of a snapshot, as read.
#[derive(Debug, Default)]
pub struct Raw {
    pub header: Option<Header>,
    pub nodes: NodeColumns,
    pub edges: EdgeColumns,
    /// Total of the nodes' edge counts.
    pub edges_declared: u64,
    pub locations: Vec<u32>,
    /// `trace_function_infos`, row after row, and the trace tree.
    pub trace_functions: Vec<u32>,
    pub trace_tree: Vec<TraceTreeNode>,
    pub strings: Strings,
    /// Where the `edges`, `locations` and `trace_function_infos` values
    /// start, and where the input ends.
    pub edges_at: u64,
    pub locations_at: u64,
    pub traces_at: u64,
    pub end: u64,
}

/// What went wrong, and where.
#[derive(Debug)]
pub enum ParseError {
    Io {
        offset: u64,
        source: io::Error,
    },
    Syntax {
        offset: u64,
        expected: &'static str,
        found: String,
    },
    Number {
        offset: u64,
        reason: &'static str,
    },
    Meta {
        offset: u64,
        reason: String,
    },
    /// A well-formed number that the snapshot's own `meta` rules out.
    Value {
        offset: u64,
        reason: String,
    },
    /// Sections that read well but disagree with each other.
    Shape {
        reason: String,
        at: Place,
    },
}

/// Where a problem lies: a byte of the (decompressed) JSON, or an element of
/// the graph by ordinal (its position in the `nodes` or `edges` list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Byte(u64),
    Node(u32),
    Edge(u64),
}

impl ParseError {
    /// The byte, node or edge the error is about: every error names one.
    pub fn place(&self) -> Place {
        match self {
            ParseError::Io { offset, .. }
            | ParseError::Syntax { offset, .. }
            | ParseError::Number { offset, .. }
            | ParseError::Meta { offset, .. }
            | ParseError::Value { offset, .. } => Place::Byte(*offset),
            ParseError::Shape { at, .. } => *at,
        }
    }

    /// The byte offset in the (decompressed) JSON, when the error names a byte.
    pub fn offset(&self) -> Option<u64> {
        match self.place() {
            Place::Byte(offset) => Some(offset),
            Place::Node(_) | Place::Edge(_) => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Io { .. } => "ERR_HEAPSCOPE_READ",
            _ => "ERR_HEAPSCOPE_SNAPSHOT_FORMAT",
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Io { offset, source } => write!(f, "read error at byte {offset}: {source}"),
            ParseError::Syntax { offset, expected, found } => {
                write!(f, "not a heap snapshot: expected {expected} at byte {offset}, found {found}")
            }
            ParseError::Number { offset, reason } => write!(f, "bad number at byte {offset}: {reason}"),
            ParseError::Meta { offset, reason } => write!(f, "bad snapshot header at byte {offset}: {reason}"),
            ParseError::Value { offset, reason } => write!(f, "bad value at byte {offset}: {reason}"),
            ParseError::Shape { reason, at: Place::Byte(offset) } => {
                write!(f, "inconsistent heap snapshot at byte {offset}: {reason}")
            }
            ParseError::Shape { reason, .. } => write!(f, "inconsistent heap snapshot: {reason}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Progress callback: bytes read so far.
pub type Progress<'a> = &'a mut dyn FnMut(u64);

/// A byte reader with one byte of lookahead and an offset.
struct Lexer<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    /// Offset of `buf[0]` in the stream.
    base: u64,
    reported: u64,
}

/// The read buffer (the fuzzer's is small, so that values straddle refills).
const BUF: usize = if cfg!(feature = "fuzzing") { 64 } else { 1 << 16 };
const PROGRESS_EVERY: u64 = 8 << 20;

impl<R: Read> Lexer<R> {
    fn new(inner: R) -> Self {
        Lexer::at(inner, 0)
    }

    /// A lexer whose input starts at byte `base` of the stream.
    fn at(inner: R, base: u64) -> Self {
        Lexer { inner, buf: vec![0; BUF].into_boxed_slice(), pos: 0, len: 0, base, reported: base }
    }

    /// Where the lexer has read its input up to (its buffer's end).
    fn read_up_to(&self) -> u64 {
        self.base + self.len as u64
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    #[inline]
    fn peek(&mut self, progress: Progress) -> Result<Option<u8>, ParseError> {
        if self.pos == self.len {
            self.base += self.len as u64;
            self.pos = 0;
            self.len = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(source) => return Err(ParseError::Io { offset: self.base, source }),
                }
            };
            if self.base - self.reported >= PROGRESS_EVERY {
                self.reported = self.base;
                progress(self.base);
            }
            if self.len == 0 {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.pos]))
    }

    #[inline]
    fn bump(&mut self) {
        self.pos += 1;
    }

    fn skip_ws(&mut self, progress: Progress) -> Result<Option<u8>, ParseError> {
        loop {
            match self.peek(progress)? {
                Some(b' ' | b'\n' | b'\r' | b'\t') => self.bump(),
                other => return Ok(other),
            }
        }
    }

    fn syntax(&self, expected: &'static str, found: Option<u8>) -> ParseError {
        let found = match found {
            None => "end of input".to_string(),
            Some(b) if b.is_ascii_graphic() => format!("'{}'", b as char),
            Some(b) => format!("byte 0x{b:02x}"),
        };
        ParseError::Syntax { offset: self.offset(), expected, found }
    }

    fn expect(&mut self, byte: u8, what: &'static str, progress: Progress) -> Result<(), ParseError> {
        let found = self.skip_ws(progress)?;
        if found != Some(byte) {
            return Err(self.syntax(what, found));
        }
        self.bump();
        Ok(())
    }

    /// Reads a JSON string (after whitespace) into `out`, decoding escapes.
    fn string_into(&mut self, out: &mut String, progress: Progress) -> Result<(), ParseError> {
        self.expect(b'"', "a string", progress)?;
        let mut bytes: Vec<u8> = Vec::new();
        loop {
            // Fast path: copy a run of plain bytes from the buffer.
            let start = self.pos;
            while self.pos < self.len {
                let b = self.buf[self.pos];
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            bytes.extend_from_slice(&self.buf[start..self.pos]);
            match self.peek(progress)? {
                None => return Err(self.syntax("the end of a string", None)),
                Some(b'"') => {
                    self.bump();
                    break;
                }
                Some(b'\\') => {
                    self.bump();
                    // A bad escape is named where it is, before moving past it.
                    let simple = match self.peek(progress)? {
                        Some(b'"') => Some(b'"'),
                        Some(b'\\') => Some(b'\\'),
                        Some(b'/') => Some(b'/'),
                        Some(b'b') => Some(8),
                        Some(b'f') => Some(12),
                        Some(b'n') => Some(b'\n'),
                        Some(b'r') => Some(b'\r'),
                        Some(b't') => Some(b'\t'),
                        Some(b'u') => None,
                        other => return Err(self.syntax("a valid escape", other)),
                    };
                    self.bump();
                    match simple {
                        Some(byte) => bytes.push(byte),
                        None => {
                            let unit = self.hex4(progress)?;
                            let c = if (0xD800..0xDC00).contains(&unit) {
                                // A high surrogate: a low one should follow.
                                if self.peek(progress)? == Some(b'\\') {
                                    self.bump();
                                    let next = self.peek(progress)?;
                                    if next != Some(b'u') {
                                        return Err(self.syntax("\\u after a high surrogate", next));
                                    }
                                    self.bump();
                                    let low = self.hex4(progress)?;
                                    if (0xDC00..0xE000).contains(&low) {
                                        char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                                    } else {
                                        push_char(&mut bytes, '\u{FFFD}');
                                        char::from_u32(low)
                                    }
                                } else {
                                    None
                                }
                            } else {
                                char::from_u32(unit)
                            };
                            // Lone surrogates (V8 emits them for broken strings) become U+FFFD.
                            push_char(&mut bytes, c.unwrap_or('\u{FFFD}'));
                        }
                    }
                }
                Some(b) if b < 0x20 => return Err(self.syntax("a printable character in a string", Some(b))),
                // The buffer ran out mid-string and was refilled: keep copying.
                Some(_) => {}
            }
        }
        match std::str::from_utf8(&bytes) {
            Ok(s) => out.push_str(s),
            Err(_) => out.push_str(&String::from_utf8_lossy(&bytes)),
        }
        Ok(())
    }

    fn hex4(&mut self, progress: Progress) -> Result<u32, ParseError> {
        let mut value = 0;
        for _ in 0..4 {
            let b = self.peek(progress)?;
            let digit = match b {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                other => return Err(self.syntax("a hex digit", other)),
            };
            self.bump();
            value = value * 16 + digit as u32;
        }
        Ok(value)
    }

    /// Skips any JSON value.
    fn skip_value(&mut self, progress: Progress) -> Result<(), ParseError> {
        let mut depth = 0usize;
        loop {
            match self.skip_ws(progress)? {
                Some(b'"') => {
                    let mut sink = String::new();
                    self.string_into(&mut sink, progress)?;
                }
                Some(b'{' | b'[') => {
                    self.bump();
                    depth += 1;
                    continue;
                }
                Some(b'}' | b']') if depth > 0 => {
                    self.bump();
                    depth -= 1;
                }
                Some(b',' | b':') if depth > 0 => {
                    self.bump();
                    continue;
                }
                Some(b'-' | b'0'..=b'9' | b't' | b'f' | b'n' | b'.' | b'e' | b'E' | b'+' | b'a'..=b'z') => {
                    while matches!(
                        self.peek(progress)?,
                        Some(b'-' | b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'a'..=b'z')
                    ) {
                        self.bump();
                    }
                }
                other => return Err(self.syntax("a JSON value", other)),
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }

    /// Captures one JSON value's text (small values only: the header).
    fn capture_value(&mut self, progress: Progress) -> Result<Vec<u8>, ParseError> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        self.skip_ws(progress)?;
        loop {
            let Some(b) = self.peek(progress)? else {
                return Err(self.syntax("the end of the snapshot header", None));
            };
            self.bump();
            out.push(b);
            if out.len() > 64 << 20 {
                return Err(ParseError::Meta { offset: self.offset(), reason: "header larger than 64 MiB".into() });
            }
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(out);
                    }
                }
                _ if depth == 0 => return Ok(out),
                _ => {}
            }
        }
    }
}

fn push_char(bytes: &mut Vec<u8>, c: char) {
    let mut utf8 = [0u8; 4];
    bytes.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
}

/// What one node field is kept as.
#[derive(Clone, Copy)]
enum NodeRole {
    Kind,
    Name,
    Id,
    SelfSize,
    EdgeCount,
    Detachedness,
    TraceNode,
    Dropped,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EdgeRole {
    Kind,
    Name,
    To,
    Dropped,
}

fn enum_len(types: &[serde_json::Value], at: usize) -> usize {
    types.get(at).and_then(|v| v.as_array()).map_or(0, Vec::len)
}

/// Reserves what the header announces, but never trusts it with an abort:
/// an absurd count just means no reservation.
fn reserve<T>(column: &mut Vec<T>, announced: u64) {
    let _ = column.try_reserve(announced.min(1 << 30) as usize);
}

/// Reads a whole snapshot from `input`. `progress` hears the byte count now and then.
pub fn read(input: impl Read, progress: Progress) -> Result<Raw, ParseError> {
    read_sections(&mut Lexer::new(input), progress, &mut InOrder)
}

/// Reads a snapshot file; its edges, most of its bytes, on two threads.
pub fn read_file(file: std::fs::File, progress: Progress) -> Result<Raw, ParseError> {
    // The helper fills its part of the edge columns in place, and so does
    // this thread with the head: the columns live out here, beyond both.
    let mut columns: Option<EdgeColumns> = None;
    let (read, split) = std::thread::scope(|scope| {
        let mut split = split::Split::new(&file, scope, &mut columns);
        let read = read_sections(&mut Lexer::new(split::FileInput::new(file)), progress, &mut split);
        (read, split.finish())
    });
    let mut raw = read?;
    if let (true, Some(mut columns)) = (split, columns) {
        // A second `edges` member, read by this thread after the split
        // one, comes after it, as a single reader would have it.
        columns.kind.append(&mut raw.edges.kind);
        columns.name.append(&mut raw.edges.name);
        columns.to.append(&mut raw.edges.to);
        raw.edges = columns;
    }
    Ok(raw)
}

/// How the big sections are read: in order by one thread, or split.
trait Sections<R: Read> {
    /// The `nodes` value starts at `at`; `raw` holds what came before it.
    fn nodes_at(&mut self, _raw: &Raw, _at: u64) {}

    /// Reads the `edges` value; `Ok(true)` when the members after it and the
    /// end of the input were read too (into `raw`, with `raw.end` set).
    fn edges(&mut self, lx: &mut Lexer<R>, raw: &mut Raw, at: u64, progress: Progress) -> Result<bool, ParseError> {
        read_edges(lx, raw, at, progress)?;
        Ok(false)
    }
}

struct InOrder;

impl<R: Read> Sections<R> for InOrder {}

fn read_sections<R: Read>(
    lx: &mut Lexer<R>,
    progress: Progress,
    sections: &mut dyn Sections<R>,
) -> Result<Raw, ParseError> {
    let mut raw = Raw::default();
    lx.expect(b'{', "'{' at the start of a heap snapshot", progress)?;
    read_members(lx, progress, sections, &mut raw, true)?;
    Ok(raw)
}

/// The snapshot object's members from here to its `}` and the end of the
/// input (`first`: no member has been read yet), into `raw`.
fn read_members<R: Read>(
    lx: &mut Lexer<R>,
    progress: Progress,
    sections: &mut dyn Sections<R>,
    raw: &mut Raw,
    mut first: bool,
) -> Result<(), ParseError> {
    loop {
        let next = lx.skip_ws(progress)?;
        if next == Some(b'}') {
            lx.bump();
            break;
        }
        if !first {
            if next != Some(b',') {
                return Err(lx.syntax("',' or '}'", next));
            }
            lx.bump();
        }
        first = false;
        let mut key = String::new();
        lx.string_into(&mut key, progress)?;
        lx.expect(b':', "':'", progress)?;
        let at = lx.offset();
        match key.as_str() {
            "snapshot" => {
                let text = lx.capture_value(progress)?;
                let mut header: Header = serde_json::from_slice(&text)
                    .map_err(|e| ParseError::Meta { offset: at, reason: e.to_string() })?;
                header.offset = at;
                let nodes = &mut raw.nodes;
                reserve(&mut nodes.kind, header.node_count);
                reserve(&mut nodes.name, header.node_count);
                reserve(&mut nodes.id, header.node_count);
                reserve(&mut nodes.self_size, header.node_count);
                reserve(&mut nodes.first_edge, header.node_count.saturating_add(1));
                if header.trace_function_count > 0 {
                    reserve(&mut nodes.trace_node, header.node_count);
                }
                raw.header = Some(header);
            }
            "nodes" => {
                sections.nodes_at(raw, at);
                read_nodes(lx, raw, at, progress)?
            }
            "edges" => {
                raw.edges_at = at;
                if sections.edges(lx, raw, at, progress)? {
                    return Ok(());
                }
            }
            "locations" => {
                raw.locations_at = at;
                read_uints(lx, progress, Span::Whole, &mut |value, _| {
                    raw.locations.push(value);
                    Ok(())
                })?
            }
            "trace_function_infos" => {
                raw.traces_at = at;
                read_uints(lx, progress, Span::Whole, &mut |value, _| {
                    raw.trace_functions.push(value);
                    Ok(())
                })?
            }
            "trace_tree" => {
                let header = header_before(&raw.header, "trace_tree", at)?;
                let fields = traces::TreeFields::of(&header.meta.trace_node_fields);
                traces::read_tree(lx, fields.as_ref(), header.offset, &mut raw.trace_tree, progress)?
            }
            "strings" => read_strings(lx, &mut raw.strings, progress)?,
            _ => lx.skip_value(progress)?,
        }
    }
    let trailing = lx.skip_ws(progress)?;
    if trailing.is_some() {
        return Err(lx.syntax("the end of input after the snapshot", trailing));
    }
    progress(lx.offset());
    raw.end = lx.offset();
    Ok(())
}

fn header_before<'h>(raw: &'h Option<Header>, section: &str, at: u64) -> Result<&'h Header, ParseError> {
    raw.as_ref().ok_or_else(|| ParseError::Meta {
        offset: at,
        reason: format!("the '{section}' section comes before the 'snapshot' header that describes it"),
    })
}

/// The number of names `meta` lists for the `type` field of a section.
fn type_count(fields: &[String], types: &[serde_json::Value]) -> usize {
    fields.iter().position(|f| f == "type").map_or(0, |t| enum_len(types, t))
}

fn no_fields(what: &str, at: u64) -> ParseError {
    ParseError::Meta { offset: at, reason: format!("meta lists no {what} fields") }
}

fn partial_row(what: &str, field: usize, fields: usize, offset: u64) -> ParseError {
    ParseError::Shape { reason: format!("the last {what} has {field} of its {fields} fields"), at: Place::Byte(offset) }
}

#[cold]
fn bad_type(what: &str, value: u32, types: usize, offset: u64) -> ParseError {
    ParseError::Value { offset, reason: format!("{what} type {value}, but meta lists {types} {what} types") }
}

fn read_nodes<R: Read>(lx: &mut Lexer<R>, raw: &mut Raw, at: u64, progress: Progress) -> Result<(), ParseError> {
    let header = header_before(&raw.header, "nodes", at)?;
    let (meta, traced) = (&header.meta, header.trace_function_count > 0);
    let types = type_count(&meta.node_fields, &meta.node_types);
    if types > 256 {
        return Err(ParseError::Meta { offset: at, reason: format!("{types} node types (at most 256)") });
    }
    let roles: Vec<NodeRole> = meta
        .node_fields
        .iter()
        .map(|f| match f.as_str() {
            "type" => NodeRole::Kind,
            "name" => NodeRole::Name,
            "id" => NodeRole::Id,
            "self_size" => NodeRole::SelfSize,
            "edge_count" => NodeRole::EdgeCount,
            "detachedness" => NodeRole::Detachedness,
            "trace_node_id" if traced => NodeRole::TraceNode,
            _ => NodeRole::Dropped,
        })
        .collect();
    if roles.is_empty() {
        return Err(no_fields("node", at));
    }
    let nodes = &mut raw.nodes;
    let edges = &mut raw.edges_declared;
    let mut field = 0;
    read_uints(lx, progress, Span::Whole, &mut |value, offset| {
        match roles[field] {
            NodeRole::Kind => {
                if value as usize >= types {
                    return Err(bad_type("node", value, types, offset));
                }
                nodes.kind.push(value as u8);
            }
            NodeRole::Name => nodes.name.push(value),
            NodeRole::Id => nodes.id.push(value),
            NodeRole::SelfSize => nodes.self_size.push(value),
            NodeRole::EdgeCount => {
                if *edges + value as u64 > u32::MAX as u64 {
                    return Err(ParseError::Value { offset, reason: "more than 4294967295 edges in all".into() });
                }
                nodes.first_edge.push(*edges as u32);
                *edges += value as u64;
            }
            NodeRole::Detachedness => nodes.detachedness.push(value.min(u8::MAX as u32) as u8),
            NodeRole::TraceNode => nodes.trace_node.push(value),
            NodeRole::Dropped => {}
        }
        field += 1;
        if field == roles.len() {
            field = 0;
        }
        Ok(())
    })?;
    if field != 0 {
        return Err(partial_row("node", field, roles.len(), lx.offset()));
    }
    Ok(())
}

/// What the edge fields are kept as, and how many edge types `meta` names.
#[derive(Clone)]
struct EdgeLayout {
    roles: Vec<EdgeRole>,
    types: usize,
}

impl EdgeLayout {
    fn of(raw: &Raw, at: u64) -> Result<EdgeLayout, ParseError> {
        let meta = &header_before(&raw.header, "edges", at)?.meta;
        let types = type_count(&meta.edge_fields, &meta.edge_types);
        // One type is added after the snapshot's own: DevTools' "invisible".
        if types > 255 {
            return Err(ParseError::Meta { offset: at, reason: format!("{types} edge types (at most 255)") });
        }
        let roles: Vec<EdgeRole> = meta
            .edge_fields
            .iter()
            .map(|f| match f.as_str() {
                "type" => EdgeRole::Kind,
                "name_or_index" => EdgeRole::Name,
                "to_node" => EdgeRole::To,
                _ => EdgeRole::Dropped,
            })
            .collect();
        if roles.is_empty() {
            return Err(no_fields("edge", at));
        }
        Ok(EdgeLayout { roles, types })
    }
}

/// Where edge values go: growing columns, or one thread's fixed share of them.
trait EdgeStore {
    /// Stores one value; false when there is no room for it.
    fn put(&mut self, role: EdgeRole, value: u32) -> bool;
}

impl EdgeStore for EdgeColumns {
    #[inline]
    fn put(&mut self, role: EdgeRole, value: u32) -> bool {
        match role {
            EdgeRole::Kind => self.kind.push(value as u8),
            EdgeRole::Name => self.name.push(value),
            EdgeRole::To => self.to.push(value),
            EdgeRole::Dropped => {}
        }
        true
    }
}

/// Edge values on their way to a store, with the field of the next one.
struct EdgeValues<'a, S> {
    layout: &'a EdgeLayout,
    field: usize,
    count: u64,
    store: &'a mut S,
}

impl<S: EdgeStore> Values for EdgeValues<'_, S> {
    // The hottest call of the reader: always inline it into the number loop.
    #[inline(always)]
    fn value(&mut self, value: u32, offset: u64) -> Result<(), ParseError> {
        let role = self.layout.roles[self.field];
        if role == EdgeRole::Kind && value as usize >= self.layout.types {
            return Err(bad_type("edge", value, self.layout.types, offset));
        }
        if !self.store.put(role, value) {
            return Err(too_many_edges(offset));
        }
        self.count += 1;
        self.field += 1;
        if self.field == self.layout.roles.len() {
            self.field = 0;
        }
        Ok(())
    }
}

#[cold]
fn too_many_edges(offset: u64) -> ParseError {
    ParseError::Value { offset, reason: "more edges than the nodes declare".into() }
}

/// Reads `span` of the edges array into `store`, the first value being
/// field `field` of its row; returns the number of values read and the
/// field the next value would be.
fn read_edge_values<R: Read>(
    lx: &mut Lexer<R>,
    progress: Progress,
    span: Span,
    layout: &EdgeLayout,
    field: usize,
    store: &mut impl EdgeStore,
) -> Result<(u64, usize), ParseError> {
    let mut values = EdgeValues { layout, field, count: 0, store };
    read_uints(lx, progress, span, &mut values)?;
    Ok((values.count, values.field))
}

fn read_edges<R: Read>(lx: &mut Lexer<R>, raw: &mut Raw, at: u64, progress: Progress) -> Result<(), ParseError> {
    let layout = EdgeLayout::of(raw, at)?;
    let announced = raw.header.as_ref().map_or(0, |h| h.edge_count);
    reserve(&mut raw.edges.kind, announced);
    reserve(&mut raw.edges.name, announced);
    reserve(&mut raw.edges.to, announced);
    let (_, field) = read_edge_values(lx, progress, Span::Whole, &layout, 0, &mut raw.edges)?;
    if field != 0 {
        return Err(partial_row("edge", field, layout.roles.len(), lx.offset()));
    }
    Ok(())
}

/// Receives the numbers of an array, each with its byte offset.
trait Values {
    fn value(&mut self, value: u32, offset: u64) -> Result<(), ParseError>;
}

impl<F: FnMut(u32, u64) -> Result<(), ParseError>> Values for F {
    #[inline(always)]
    fn value(&mut self, value: u32, offset: u64) -> Result<(), ParseError> {
        self(value, offset)
    }
}

/// Which part of an array of numbers a scan reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Span {
    /// `[` … `]`.
    Whole,
    /// From `[` to the end of the input, which stops just before a comma.
    Head,
    /// From a comma to `]`.
    Tail,
}

/// An array of unsigned integers (or `span` of one), each handed to `push`
/// with its byte offset. The hot loop of the reader: it scans the buffer
/// directly and only goes back to the lexer to refill.
fn read_uints<R: Read>(
    lx: &mut Lexer<R>,
    progress: Progress,
    span: Span,
    values: &mut impl Values,
) -> Result<(), ParseError> {
    if span != Span::Tail {
        lx.expect(b'[', "'[' (an array of numbers)", progress)?;
    }
    let mut value: u64 = 0;
    let mut in_number = false;
    let mut start = 0u64;
    // After '[' or ',': a number must come (or, right after '[', the end).
    let mut need_value = span != Span::Tail;
    let mut empty = span != Span::Tail;
    loop {
        if lx.peek(progress)?.is_none() {
            if span == Span::Head && (in_number || !need_value) {
                if in_number {
                    values.value(value as u32, start)?;
                }
                return Ok(());
            }
            return Err(lx.syntax("',' or ']' in an array of numbers", None));
        }
        let base = lx.base;
        let mut i = lx.pos;
        let len = lx.len;
        // Fast paths for V8's own layout (`1,2,3\n,4,5,6`): between values,
        // with room ahead, all the numbers of a 64-byte window at once, or
        // else "separator, digits" in one go, the digits eight at a time.
        // Anything else falls through to the byte-at-a-time loop below,
        // which also names every error, and which hands back to the fast
        // paths after each separator (a number cut by the end of the buffer
        // would otherwise leave the whole next buffer to it).
        'buffer: loop {
            'fast: while !in_number && i + 24 <= len {
                if !need_value && i + swar::WINDOW <= len {
                    let at = i;
                    let window = &lx.buf[at..at + swar::WINDOW];
                    let read = swar::numbers(window, |offset, value| values.value(value, base + (at + offset) as u64))?;
                    if read > 0 {
                        i += read;
                        continue 'fast;
                    }
                }
                let mut at = i;
                if !need_value {
                    if lx.buf[at] == b'\n' {
                        at += 1;
                    }
                    if lx.buf[at] != b',' {
                        break;
                    }
                    at += 1;
                }
                let Some((value, digits)) = swar::number(&lx.buf[at..at + 9]) else { break };
                // `1.5`, `1e3`: a number, but not an unsigned integer, which
                // the slow path says (not that the `.` is no separator).
                if matches!(lx.buf[at + digits], b'.' | b'e' | b'E') {
                    break;
                }
                values.value(value, base + at as u64)?;
                need_value = false;
                empty = false;
                i = at + digits;
            }
            while i < len {
                let b = lx.buf[i];
                match b {
                    b'0'..=b'9' => {
                        if !in_number {
                            if !need_value {
                                lx.pos = i;
                                return Err(lx.syntax("',' or ']' in an array of numbers", Some(b)));
                            }
                            in_number = true;
                            start = base + i as u64;
                            value = 0;
                        }
                        value = value * 10 + (b - b'0') as u64;
                        if value > u32::MAX as u64 {
                            return Err(ParseError::Number { offset: start, reason: "larger than 4294967295" });
                        }
                    }
                    b',' | b']' | b' ' | b'\n' | b'\r' | b'\t' => {
                        if in_number {
                            values.value(value as u32, start)?;
                            in_number = false;
                            need_value = false;
                            empty = false;
                        }
                        if b == b',' {
                            if need_value {
                                lx.pos = i;
                                return Err(lx.syntax("an unsigned integer", Some(b)));
                            }
                            need_value = true;
                        } else if b == b']' {
                            if need_value && !empty {
                                lx.pos = i;
                                return Err(lx.syntax("an unsigned integer", Some(b)));
                            }
                            lx.pos = i + 1;
                            return Ok(());
                        }
                        i += 1;
                        continue 'buffer;
                    }
                    b'.' | b'e' | b'E' if in_number => {
                        return Err(ParseError::Number { offset: start, reason: "expected an unsigned integer" });
                    }
                    _ => {
                        // Whatever ends a number, its value is checked
                        // first, as the fast paths (which read whole numbers)
                        // check it; then a separator was due.
                        if in_number {
                            values.value(value as u32, start)?;
                        }
                        lx.pos = i;
                        let expected = if need_value && !in_number {
                            "an unsigned integer"
                        } else {
                            "',' or ']' in an array of numbers"
                        };
                        return Err(lx.syntax(expected, Some(b)));
                    }
                }
                i += 1;
            }
            break;
        }
        lx.pos = i;
    }
}

/// The longest string kept, in bytes. V8 writes at most 1,024 characters of a
/// string's value, so only a hand-made snapshot exceeds it; unbounded, one
/// string could pass the most a JS string can hold (2^29 - 24 units) and fail
/// every report that names it.
pub const MAX_STRING: usize = 64 * 1024;

/// Cuts the string that starts at `start` to [`MAX_STRING`] bytes (at a
/// character boundary) and marks the cut with `…`.
fn clip(data: &mut String, start: usize) {
    if data.len() - start <= MAX_STRING {
        return;
    }
    let mut end = start + MAX_STRING;
    while !data.is_char_boundary(end) {
        end -= 1;
    }
    data.truncate(end);
    data.push('…');
}

fn read_strings<R: Read>(lx: &mut Lexer<R>, strings: &mut Strings, progress: Progress) -> Result<(), ParseError> {
    lx.expect(b'[', "'[' (the strings array)", progress)?;
    if lx.skip_ws(progress)? == Some(b']') {
        lx.bump();
        return Ok(());
    }
    loop {
        let start = strings.data.len();
        lx.string_into(&mut strings.data, progress)?;
        clip(&mut strings.data, start);
        strings.ends.push(strings.data.len());
        match lx.skip_ws(progress)? {
            Some(b',') => lx.bump(),
            Some(b']') => {
                lx.bump();
                return Ok(());
            }
            other => return Err(lx.syntax("',' or ']' in the strings array", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Raw, ParseError> {
        read(text.as_bytes(), &mut |_| {})
    }

    const TINY: &str = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],
        "node_types":[["hidden","object"],"string","number","number","number"],
        "edge_fields":["type","name_or_index","to_node"],"edge_types":[["element","property"],"string_or_number","node"]},
        "node_count":2,"edge_count":1},
        "nodes":[0,0,1,0,1, 1,1,3,16,0],"edges":[1,2,5],"trace_tree":[],"samples":[],
        "strings":["","Obj\u00e9ct","x\ud83d\ude00y","lone\ud800"]}"#;

    const HEAD: &str = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["hidden","object"],"string","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["element","property"],"string_or_number","node"]}},"#;

    /// Hands out one byte a read: every number meets the end of the
    /// buffer, so only the byte-at-a-time path reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((&b, rest)), Some(slot)) => {
                    *slot = b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn errors_in_numbers_do_not_depend_on_where_reads_end() {
        // 200 edges in V8's layout, one row spoiled in the middle: the fast
        // paths read it from a whole buffer, the byte-at-a-time path from a
        // trickle, and both name the same fault at the same byte.
        for row in ["1,14\",5", "1,1e3,5", "1,1.5,5", "7x,1,5", "9\",1,5", "1,2 3,5"] {
            let edges: Vec<String> = (0..200)
                .map(|e| if e == 100 { row.to_string() } else { format!("{},{},{}", e % 2, e % 3, 5 * (e % 2)) })
                .collect();
            let text = format!(
                r#"{HEAD}"nodes":[0,0,1,0,100,1,1,3,16,100],"edges":[{}],"strings":["","a","b"]}}"#,
                edges.join("\n,")
            );
            let whole = parse(&text).map(|_| ()).unwrap_err().to_string();
            let trickled = read(Trickle(text.as_bytes()), &mut |_| {}).map(|_| ()).unwrap_err().to_string();
            assert_eq!(whole, trickled, "{row}");
            let at = text.find(row).unwrap();
            assert!((at..at + row.len()).any(|b| whole.contains(&format!("byte {b}"))), "{row}: {whole}");
        }
    }

    #[test]
    fn strings_longer_than_the_limit_are_cut_at_a_character_boundary() {
        let long = format!("a{}", "é".repeat(MAX_STRING));
        let text = TINY.replace(r#""x\ud83d\ude00y""#, &format!("{long:?}"));
        let raw = parse(&text).unwrap();
        let cut = raw.strings.get(2);
        assert!(cut.len() <= MAX_STRING + '…'.len_utf8(), "{} bytes", cut.len());
        assert!(cut.starts_with("aé") && cut.ends_with("é…"));
        assert_eq!(raw.strings.get(3), "lone\u{fffd}", "the next string is intact");
    }

    #[test]
    fn reads_sections_and_decodes_strings() {
        let raw = parse(TINY).unwrap();
        assert_eq!(raw.nodes.kind, [0, 1]);
        assert_eq!(raw.nodes.name, [0, 1]);
        assert_eq!(raw.nodes.id, [1, 3]);
        assert_eq!(raw.nodes.self_size, [0, 16]);
        assert_eq!(raw.nodes.first_edge, [0, 1]);
        assert_eq!(raw.edges_declared, 1);
        assert_eq!((raw.edges.kind[0], raw.edges.name[0], raw.edges.to[0]), (1, 2, 5));
        assert_eq!(raw.strings.get(1), "Objéct");
        assert_eq!(raw.strings.get(2), "x😀y");
        assert_eq!(raw.strings.get(3), "lone\u{FFFD}");
        assert_eq!(raw.header.unwrap().meta.node_fields.len(), 5);
    }

    #[test]
    fn errors_name_the_byte_offset() {
        let at = HEAD.len() as u64;
        let e = parse("").unwrap_err();
        assert!(matches!(e, ParseError::Syntax { offset: 0, .. }), "{e}");
        let e = parse(&format!("{HEAD}\"nodes\":[1,2,x]}}")).unwrap_err();
        assert_eq!(e.offset(), Some(at + 13), "{e}");
        assert!(e.to_string().contains(&format!("byte {}", at + 13)), "{e}");
        let e = parse(&format!("{HEAD}\"nodes\":[1,-2]}}")).unwrap_err();
        assert_eq!(e.offset(), Some(at + 11));
        let e = parse(&format!("{HEAD}\"nodes\":[1, 2.5]}}")).unwrap_err();
        assert!(matches!(e, ParseError::Number { .. }) && e.offset() == Some(at + 12), "{e}");
        let e = parse(&format!("{HEAD}\"nodes\":[99999999999]}}")).unwrap_err();
        assert!(e.to_string().contains("4294967295"), "{e}");
        let e = parse(&format!("{HEAD}\"nodes\":[1 2]}}")).unwrap_err();
        assert_eq!(e.offset(), Some(at + 11), "{e}");
        let e = parse(&format!("{HEAD}\"nodes\":[1,]}}")).unwrap_err();
        assert_eq!(e.offset(), Some(at + 11), "{e}");
        // A type the meta does not list, at the number's own offset.
        let e = parse(&format!("{HEAD}\"nodes\":[7,0,1,0,0]}}")).unwrap_err();
        assert!(matches!(e, ParseError::Value { .. }) && e.offset() == Some(at + 9), "{e}");
        let e = parse(&format!("{HEAD}\"nodes\":[1,0,1]}}")).unwrap_err();
        assert!(e.to_string().contains("3 of its 5 fields"), "{e}");
        let e = parse(r#"{"nodes":[1]}"#).unwrap_err();
        assert!(matches!(e, ParseError::Meta { offset: 9, .. }), "{e}");
        let e = parse(&TINY[..TINY.len() - 5]).unwrap_err();
        assert!(e.to_string().contains("end of input"), "{e}");
        let e = parse(&TINY[..TINY.find("1,3,16").unwrap()]).unwrap_err();
        assert!(e.to_string().contains("end of input"), "{e}");
        let e = parse(r#"{"snapshot":{"meta":{}}}"#).unwrap_err();
        assert!(matches!(e, ParseError::Meta { offset: 12, .. }), "{e}");
        // An escape cut by the end of input is named at the end, not past it (found by fuzzing).
        let e = parse(r#"{"strings":["ab\"#).unwrap_err();
        assert_eq!(e.offset(), Some(16), "{e}");
        let e = parse(r#"{"strings":["ab\q"]}"#).unwrap_err();
        assert_eq!(e.offset(), Some(16), "{e}");
    }

    #[test]
    fn numbers_across_buffer_refills() {
        // Values straddle the 64 KiB buffer boundary at every alignment, in
        // V8's layout (the fast path) and others (the byte loop), and with
        // numbers too long for the fast path among them.
        for (separator, modulus) in [(",\n", 1_000_000_007), ("\n,", 100_000_000), (",", 20_000_000), ("\n,", u32::MAX)]
        {
            let values: Vec<u32> = (0..60_000u32).map(|i| i.wrapping_mul(2_654_435_761) % modulus).collect();
            let list: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            let text = format!("{HEAD}\"locations\":[ {} ]}}", list.join(separator));
            let raw = parse(&text).unwrap();
            assert_eq!(raw.locations, values, "{separator:?}");
        }
    }
}

/// Decimal digits eight bytes at a time (the SWAR technique of simdjson's
/// number parser): one load, a mask of the non-digits, three multiplies.
mod swar {
    const ONES: u64 = 0x0101_0101_0101_0101;

    /// The bytes [`numbers`] is given: the 64 it reads numbers from, and
    /// room to load a number that starts near their end.
    pub const WINDOW: usize = 80;

    /// The numbers of a window of V8's layout that starts at a separator
    /// (`,1,22\n,333,`), each handed to `each` with its offset in the window
    /// until `each` fails; returns the offset of the separator after the
    /// last, or 0 for none. It stops before anything else: a byte neither
    /// digit, comma nor newline, a newline not before a comma, a comma
    /// after a comma, a number past ten digits or past u32, and a number
    /// the 64 bytes do not end, all left to the callers' slower paths,
    /// which name the errors.
    ///
    /// One pass over the 64 bytes makes a bit mask of each kind of byte; the
    /// numbers' ends then come from the masks, not from reading each number
    /// to find where the next starts: the numbers are independent work, not
    /// a chain (1.5 times the single-number path's speed on V8's files).
    #[inline(always)]
    pub fn numbers<E>(window: &[u8], mut each: impl FnMut(usize, u32) -> Result<(), E>) -> Result<usize, E> {
        let word = |at: usize| u64::from_le_bytes(std::array::from_fn(|k| window[at + k]));
        let (mut comma, mut newline, mut digit) = (0u64, 0u64, 0u64);
        for k in 0..8 {
            let w = word(8 * k);
            comma |= bits(bytes_equal(w, b',')) << (8 * k);
            newline |= bits(bytes_equal(w, b'\n')) << (8 * k);
            digit |= bits(!nonzero(not_digits(w)) & (0x80 * ONES)) << (8 * k);
        }
        let separator = comma | newline;
        // Each bit marks the second byte of a pair that breaks the layout.
        let odd = !(digit | separator)
            | (digit & (newline << 1))
            | (separator & (separator << 1) & !(comma & (newline << 1)));
        let before = match odd.trailing_zeros() {
            64 => u64::MAX,
            limit => (1u64 << limit) - 1,
        };
        // A number starts after a comma and ends at the separator after it;
        // in a window without odd pairs the two alternate.
        let mut starts = digit & (comma << 1) & before;
        let mut ends = separator & (digit << 1) & before;
        let mut read = 0;
        while ends != 0 {
            let (start, end) = (starts.trailing_zeros() as usize, ends.trailing_zeros() as usize);
            // (A start after its end cannot be, given no odd pair: stop all the same.)
            let Some(digits) = end.checked_sub(start) else { break };
            let value = match digits {
                digits @ 1..=8 => value_of(word(start), digits),
                digits @ 9..=10 => {
                    let head = digits - 8;
                    let value =
                        value_of(word(start), head) as u64 * 100_000_000 + value_of(word(start + head), 8) as u64;
                    match u32::try_from(value) {
                        Ok(value) => value,
                        Err(_) => break,
                    }
                }
                _ => break,
            };
            each(start, value)?;
            read = end;
            starts &= starts - 1;
            ends &= ends - 1;
        }
        Ok(read)
    }

    /// 0x80 in each byte of `word` equal to `byte`, 0 elsewhere.
    #[inline(always)]
    fn bytes_equal(word: u64, byte: u8) -> u64 {
        !nonzero(word ^ (byte as u64 * ONES)) & (0x80 * ONES)
    }

    /// 0x80 in each non-zero byte of `word`, 0 elsewhere (no carry crosses bytes).
    #[inline(always)]
    fn nonzero(word: u64) -> u64 {
        (((word & (0x7F * ONES)) + 0x7F * ONES) | word) & (0x80 * ONES)
    }

    /// Non-zero in each byte of `word` that is not an ASCII digit: a high
    /// nibble other than 3, or a low nibble above 9.
    #[inline(always)]
    fn not_digits(word: u64) -> u64 {
        let t = word ^ (0x30 * ONES);
        (t & (0xF0 * ONES)) | (((t & (0x0F * ONES)) + 0x06 * ONES) & (0xF0 * ONES))
    }

    /// One bit a byte, bit `k` from the top bit of byte `k`, for words with
    /// no other bits set: the multiply moves each to its place in the top
    /// byte, every partial product to a bit of its own.
    #[inline(always)]
    fn bits(flags: u64) -> u64 {
        ((flags >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
    }

    /// The value of the `digits` (1 to 8) ASCII digits at the start of `word`.
    #[inline(always)]
    fn value_of(word: u64, digits: usize) -> u32 {
        let t = word ^ (0x30 * ONES);
        // Digits to the top bytes, leading zeros below: most significant first.
        let aligned = (t & (0x0F * ONES)) << (8 * (8 - digits));
        let v = (aligned.wrapping_mul(10 * 256 + 1)) >> 8;
        let v = ((v & 0x00FF_00FF_00FF_00FF).wrapping_mul(100 * 65536 + 1)) >> 16;
        let v = ((v & 0x0000_FFFF_0000_FFFF).wrapping_mul(10000 * (1 << 32) + 1)) >> 32;
        v as u32
    }

    /// The unsigned number at the start of `bytes` (at least 9 of them) and
    /// its length in digits, for numbers of 1 to 8 digits; `None` otherwise.
    #[inline(always)]
    pub fn number(bytes: &[u8]) -> Option<(u32, usize)> {
        let word = u64::from_le_bytes(bytes[..8].try_into().ok()?);
        let digits = (not_digits(word).trailing_zeros() / 8) as usize;
        if digits == 0 || (digits == 8 && bytes[8].is_ascii_digit()) {
            return None;
        }
        Some((value_of(word, digits), digits))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn numbers_of_every_length() {
            for text in ["0", "7", "42", "123", "9999", "12345", "654321", "1234567", "99999999", "20000000"] {
                let mut bytes = text.as_bytes().to_vec();
                bytes.extend_from_slice(b",,,,,,,,,");
                assert_eq!(super::number(&bytes), Some((text.parse().unwrap(), text.len())), "{text}");
            }
            assert_eq!(super::number(b"123456789,"), None);
            assert_eq!(super::number(b",12345678"), None);
            assert_eq!(super::number(b"12:345678,"), Some((12, 2)));
            assert_eq!(super::number(b"1/3456789"), Some((1, 1)));
        }

        /// What `numbers` reads of a window, worked out a byte at a time:
        /// ("," or "\n,", then 1 to 10 digits that fit in u32, then a
        /// separator) again and again, within the first 64 bytes.
        fn one_by_one(window: &[u8]) -> (Vec<(usize, u32)>, usize) {
            let (mut found, mut read, mut at) = (Vec::new(), 0, 0);
            loop {
                match window[at] {
                    b',' => at += 1,
                    b'\n' if window[at + 1] == b',' => at += 2,
                    _ => break,
                }
                let digits = window[at..].iter().take_while(|b| b.is_ascii_digit()).count();
                let end = at + digits;
                if digits == 0 || digits > 10 || end >= 64 || !matches!(window[end], b',' | b'\n') {
                    break;
                }
                let Ok(value) = std::str::from_utf8(&window[at..end]).unwrap().parse::<u32>() else { break };
                found.push((at, value));
                (read, at) = (end, end);
            }
            (found, read)
        }

        fn by_windows(window: &[u8]) -> (Vec<(usize, u32)>, usize) {
            let mut found = Vec::new();
            let read = super::numbers(window, |at, value| -> Result<(), ()> {
                found.push((at, value));
                Ok(())
            })
            .unwrap();
            (found, read)
        }

        #[test]
        fn windows_read_what_one_number_at_a_time_reads() {
            let pad = |text: &[u8]| {
                let mut window = text.to_vec();
                window.resize(super::WINDOW, b'0');
                window
            };
            for (text, values, read) in [
                (&b",1,22\n,333,4444,"[..], &[1, 22, 333, 4444][..], 15),
                (b"\n,7,0,", &[7, 0], 5),
                (b",123456789,4294967295,4294967296,", &[123456789, 4294967295], 21),
                (b",1,2 ,3,", &[1], 2),
                (b",1\n2,", &[1], 2),
                (b",1,,2,", &[1], 2),
                (b",12345678901,", &[], 0),
                (b",5]", &[], 0),
            ] {
                let window = pad(text);
                let (found, at) = by_windows(&window);
                assert_eq!(
                    found.iter().map(|&(_, v)| v).collect::<Vec<_>>(),
                    values,
                    "{:?}",
                    String::from_utf8_lossy(text)
                );
                assert_eq!(at, read, "{:?}", String::from_utf8_lossy(text));
                assert_eq!((found, at), one_by_one(&window), "{:?}", String::from_utf8_lossy(text));
            }
            // Windows of mostly V8's layout with every kind of odd byte.
            let mut seed = 0x9E37_79B9_7F4A_7C15u64;
            let mut next = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            for _ in 0..200_000 {
                let mut window = vec![b','];
                while window.len() < super::WINDOW {
                    let r = next();
                    let digits = 1 + (r % 11) as usize;
                    window.extend((0..digits).map(|k| b'0' + ((r >> (8 + 4 * k)) % 10) as u8));
                    window.extend_from_slice(match (r >> 60) % 16 {
                        0 => b"\n",
                        1 => b" ,",
                        2 => b",,",
                        3 => b"]",
                        4 | 5 => b"\n,",
                        _ => b",",
                    });
                }
                window.truncate(super::WINDOW);
                assert_eq!(by_windows(&window), one_by_one(&window), "{:?}", String::from_utf8_lossy(&window));
            }
        }
    }
}
