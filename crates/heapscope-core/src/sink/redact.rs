//! Redaction: rewrites a snapshot's string table while it streams to a file,
//! so that what the heap held never reaches the disk.
//!
//! V8 writes a snapshot's members in a fixed order: the `snapshot` header,
//! `nodes`, `edges`, the allocation traces, `locations` and, last, `strings`,
//! the table that every name and every string value points into. By the time
//! the table arrives the redactor has seen how each entry is used, and it
//! decides entry by entry ([`Usage::keeps`]):
//! - names that come from code stay: class and function names and script
//!   URLs (names of nodes that are not strings), names of edges that are not
//!   properties (context variables, internal fields), property names that
//!   compiled code holds as constants (the program's own: `user.cart`,
//!   `{ id, items }`), the names V8 makes of symbols and accessors, and the
//!   functions and scripts of allocation traces;
//! - everything else becomes a token `<redacted:…>`: string values, property
//!   names only data gave (keys of objects used as maps, `sessions[email]`,
//!   in fast or dictionary mode alike; keys of parsed JSON no code reads),
//!   Map and Set keys, and entries nothing uses;
//! - a WeakMap entry's edge name, which V8 writes with the key's and the
//!   value's names inside, keeps only their `@ids`.
//!
//! A token is a keyed hash of the text, the key made once per process and
//! never written out: equal texts get equal tokens, in every snapshot this
//! process writes, so paths through redacted keys still compare, and nothing
//! outside the process can tell what a token stands for.
//!
//! Nothing else changes: nodes, edges, sizes and ids go through byte for
//! byte, so the file opens in DevTools and analyses to the same class rows.
//! Anything the redactor does not recognise fails the file with the byte
//! offset, rather than let an entry through unread.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use serde::Deserialize;

/// What a finished redaction replaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redaction {
    /// Entries of the string table replaced by tokens.
    pub strings: u64,
    /// Bytes of JSON text those entries held.
    pub bytes: u64,
    /// Of those entries, how many were property names (dictionary keys).
    pub keys: u64,
}

/// V8's output was not the format the redactor reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedactError {
    /// Byte offset in the snapshot JSON.
    pub offset: u64,
    pub reason: String,
}

impl fmt::Display for RedactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot redact the snapshot at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for RedactError {}

/// How the string table's entries are used, one byte of bits per entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Usage(u8);

impl Usage {
    /// The name of a string node: a string value.
    const VALUE: u8 = 1;
    /// The name of any other node (a class, a function, a script) or of a
    /// function or script in the allocation traces.
    const NAME: u8 = 2;
    /// The name of a property edge.
    const PROPERTY: u8 = 4;
    /// The name of another named edge (context variable, internal field, weak).
    const EDGE: u8 = 8;
    /// Held by code: a string with this text is a constant of compiled code
    /// (a constant pool, an object literal's boilerplate). A hidden class's
    /// descriptors do not count: data makes hidden classes too.
    const IN_CODE: u8 = 16;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// Whether the entry, whose JSON text is `text`, is code's and stays as written.
    fn keeps(self, text: &[u8]) -> bool {
        if self.has(Usage::NAME) || self.has(Usage::EDGE) {
            return true;
        }
        // A property name stays when code names it; V8 writes symbol-keyed
        // properties as `<symbol description>` and accessors as `get name`
        // and `set name`, which no code holds as such.
        self.has(Usage::PROPERTY)
            && (self.has(Usage::IN_CODE)
                || (text.starts_with(b"<symbol ") && text.ends_with(b">"))
                || text.starts_with(b"get ")
                || text.starts_with(b"set "))
    }
}

/// What a node is, as far as the decisions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    Other = 0,
    String = 1,
    /// Compiled code and what belongs to it (constant pools, boilerplates).
    Code = 2,
}

#[derive(Debug, Deserialize)]
struct HeaderDoc {
    snapshot: Header,
}

#[derive(Debug, Deserialize)]
struct Header {
    meta: Meta,
    #[serde(default)]
    node_count: u64,
}

#[derive(Debug, Deserialize)]
struct Meta {
    node_fields: Vec<String>,
    node_types: Vec<serde_json::Value>,
    edge_fields: Vec<String>,
    edge_types: Vec<serde_json::Value>,
    #[serde(default)]
    trace_function_info_fields: Vec<String>,
}

/// The most fields a row may have (V8 writes 7 for nodes, 3 for edges).
const MAX_FIELDS: usize = 16;
/// Where a field's value goes in the row being read: slots 0–2 are kept,
/// [`SKIP`] takes what is not needed.
const SKIP: u8 = 3;

/// A member's rows: how many fields each has, and which slot each field fills.
#[derive(Debug, Clone, Copy)]
struct Rows {
    fields: usize,
    slots: [u8; MAX_FIELDS],
}

impl Rows {
    /// `wanted[i]` names the field that goes to slot `i`.
    fn of(fields: &[String], wanted: &[&str], what: &str) -> Result<Rows, String> {
        if fields.is_empty() || fields.len() > MAX_FIELDS {
            return Err(format!("the header's meta gives {} fields a row of {what}", fields.len()));
        }
        let mut slots = [SKIP; MAX_FIELDS];
        for (slot, name) in wanted.iter().enumerate() {
            if let Some(at) = fields.iter().position(|f| f == name) {
                slots[at] = slot as u8;
            }
        }
        Ok(Rows { fields: fields.len(), slots })
    }
}

/// Where each needed field sits, from the header's `meta`.
#[derive(Debug)]
struct Layout {
    /// Slots: type, name, edge count.
    nodes: Rows,
    /// Node type index → its kind.
    node_kinds: Vec<Kind>,
    /// Slots: type, name or index, target.
    edges: Rows,
    /// Edge type index → whether its name is a number (element, hidden), not a string.
    numbered: Vec<bool>,
    property_edge: Option<u64>,
    /// Slots: the function's name and its script's (string indices).
    trace_functions: Option<Rows>,
}

fn field(fields: &[String], name: &str) -> Result<usize, String> {
    fields.iter().position(|f| f == name).ok_or_else(|| format!("the header's meta has no '{name}' field"))
}

fn type_names(types: &[serde_json::Value], at: usize, what: &str) -> Result<Vec<String>, String> {
    let names = types.get(at).and_then(|v| v.as_array()).ok_or_else(|| format!("the header's meta lists no {what}"))?;
    Ok(names.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect())
}

impl Layout {
    fn of(meta: &Meta) -> Result<Layout, String> {
        let node_type = field(&meta.node_fields, "type")?;
        let node_kinds = type_names(&meta.node_types, node_type, "node types")?
            .iter()
            .map(|name| match name.as_str() {
                "string" => Kind::String,
                "code" => Kind::Code,
                _ => Kind::Other,
            })
            .collect::<Vec<_>>();
        if !node_kinds.contains(&Kind::String) {
            return Err("the header's meta has no 'string' node type".into());
        }
        let edge_type = field(&meta.edge_fields, "type")?;
        let edge_types = type_names(&meta.edge_types, edge_type, "edge types")?;
        let position = |name: &str| edge_types.iter().position(|t| t == name).map(|i| i as u64);
        for name in ["name", "edge_count"] {
            field(&meta.node_fields, name)?;
        }
        for name in ["name_or_index", "to_node"] {
            field(&meta.edge_fields, name)?;
        }
        let traces = &meta.trace_function_info_fields;
        Ok(Layout {
            nodes: Rows::of(&meta.node_fields, &["type", "name", "edge_count"], "nodes")?,
            node_kinds,
            edges: Rows::of(&meta.edge_fields, &["type", "name_or_index", "to_node"], "edges")?,
            numbered: edge_types.iter().map(|t| t == "element" || t == "hidden").collect(),
            property_edge: position("property"),
            trace_functions: if traces.is_empty() {
                None
            } else {
                Some(Rows::of(traces, &["name", "script_name"], "trace_function_infos")?)
            },
        })
    }
}

/// A member of the snapshot object whose value is an array of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numbers {
    Nodes,
    Edges,
    TraceFunctions,
    /// Read past: traces, samples, locations, anything newer.
    Other,
}

#[derive(Debug)]
enum State {
    /// Collecting the header, up to the `"nodes"` key.
    Head,
    /// Between members: before a key, in it, before ':' or the value.
    BeforeKey,
    InKey,
    BeforeColon,
    BeforeValue,
    /// In a member's array of numbers, at nesting `depth`.
    Numbers {
        section: Numbers,
        depth: u32,
    },
    /// In `strings`, between entries, or inside entry `entries`.
    Strings,
    InString {
        escaped: bool,
    },
    /// After the snapshot's closing brace.
    Tail,
}

/// The longest header accepted: V8's is under 2 KiB.
const HEAD_MAX: usize = 1 << 20;
/// The longest string entry read whole (V8 cuts string values at 1,024 characters).
const ENTRY_MAX: usize = 64 << 20;

/// Rewrites one snapshot's JSON, chunk by chunk; see the module docs.
pub struct Redactor {
    state: State,
    /// Bytes consumed before the current chunk.
    offset: u64,
    head: Vec<u8>,
    key: Vec<u8>,
    layout: Option<Layout>,
    /// Per node ordinal: its kind, its name, its edge count.
    kinds: Vec<u8>,
    names: Vec<u32>,
    edge_counts: Vec<u32>,
    /// The row being read (slots, see [`SKIP`]), the field within it, and the
    /// number being read: its value so far and how many digits it has.
    row: [u64; 4],
    field: usize,
    value: u64,
    digits: u32,
    /// Edges: whose edges these are, and how many of them are left.
    owner: usize,
    owner_left: u64,
    edge_rows: u64,
    usage: Vec<Usage>,
    /// The string table: the entry being read and its index.
    entry: Vec<u8>,
    entries: u64,
    redaction: Redaction,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new()
    }
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor {
            state: State::Head,
            offset: 0,
            head: Vec::new(),
            key: Vec::new(),
            layout: None,
            kinds: Vec::new(),
            names: Vec::new(),
            edge_counts: Vec::new(),
            row: [0; 4],
            field: 0,
            value: 0,
            digits: 0,
            owner: 0,
            owner_left: 0,
            edge_rows: 0,
            usage: Vec::new(),
            entry: Vec::new(),
            entries: 0,
            redaction: Redaction::default(),
        }
    }

    /// Reads `input`, the next bytes of V8's JSON, and appends what the file
    /// gets to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), RedactError> {
        if let State::Head = self.state {
            let before = self.head.len();
            self.head.extend_from_slice(input);
            // The key may straddle the chunk boundary.
            let from = before.saturating_sub(7);
            let Some(at) = find(&self.head[from..], b"\"nodes\"").map(|i| from + i) else {
                if self.head.len() > HEAD_MAX {
                    return Err(self.error_at(0, "no 'nodes' member in the first MiB"));
                }
                return Ok(());
            };
            let head = std::mem::take(&mut self.head);
            self.read_header(&head[..at])?;
            out.extend_from_slice(&head[..at]);
            self.offset = at as u64;
            self.state = State::BeforeKey;
            return self.scan(&head[at..], out);
        }
        self.scan(input, out)
    }

    /// Checks that the whole snapshot went through, and says what was replaced.
    pub fn finish(self) -> Result<Redaction, RedactError> {
        match self.state {
            State::Tail => Ok(self.redaction),
            ref state => Err(RedactError {
                offset: self.offset,
                reason: format!("the snapshot ended early ({})", describe(state)),
            }),
        }
    }

    fn error_at(&self, at: usize, reason: impl Into<String>) -> RedactError {
        RedactError { offset: self.offset + at as u64, reason: reason.into() }
    }

    fn read_header(&mut self, head: &[u8]) -> Result<(), RedactError> {
        // `{"snapshot":{…},` up to the "nodes" key: close it and read it.
        let text = trim_end(head);
        let text = text.strip_suffix(b",").unwrap_or(text);
        let mut doc = text.to_vec();
        doc.push(b'}');
        let header: HeaderDoc =
            serde_json::from_slice(&doc).map_err(|e| self.error_at(0, format!("unreadable snapshot header: {e}")))?;
        let layout = Layout::of(&header.snapshot.meta).map_err(|reason| self.error_at(0, reason))?;
        let count = usize::try_from(header.snapshot.node_count).unwrap_or(0).min(1 << 32);
        self.kinds.reserve(count);
        self.names.reserve(count);
        self.edge_counts.reserve(count);
        self.layout = Some(layout);
        Ok(())
    }

    fn scan(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), RedactError> {
        // Bytes from `copied` on go to `out` unchanged unless a string entry takes them.
        let mut copied = 0;
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match self.state {
                State::Head => unreachable!("the header is read before scanning"),
                State::BeforeKey => match b {
                    b' ' | b'\n' | b'\r' | b'\t' | b',' => {}
                    b'"' => {
                        self.key.clear();
                        self.state = State::InKey;
                    }
                    b'}' => self.state = State::Tail,
                    _ => return Err(self.unexpected(i, b, "a member's name")),
                },
                State::InKey => match b {
                    b'"' => self.state = State::BeforeColon,
                    b'\\' => return Err(self.error_at(i, "an escape in a member's name")),
                    _ if self.key.len() < 64 => self.key.push(b),
                    _ => return Err(self.error_at(i, "a member's name longer than 64 bytes")),
                },
                State::BeforeColon => match b {
                    b' ' | b'\n' | b'\r' | b'\t' => {}
                    b':' => self.state = State::BeforeValue,
                    _ => return Err(self.unexpected(i, b, "':'")),
                },
                State::BeforeValue => match b {
                    b' ' | b'\n' | b'\r' | b'\t' => {}
                    b'[' => self.open_member(),
                    _ => return Err(self.unexpected(i, b, "an array")),
                },
                State::Numbers { section, depth } => {
                    // The hot loop: a run of digits and separators at once.
                    i += self.numbers(section, depth, &input[i..], i)?;
                    let Some(&b) = input.get(i) else { continue };
                    match b {
                        b'[' => self.state = State::Numbers { section, depth: depth + 1 },
                        b']' if depth == 1 => self.close_numbers(section, i)?,
                        b']' => self.state = State::Numbers { section, depth: depth - 1 },
                        b'-' | b'.' | b'e' | b'E' | b'+' if section == Numbers::Other => {}
                        _ => return Err(self.unexpected(i, b, "a number")),
                    }
                }
                State::Strings => match b {
                    b' ' | b'\n' | b'\r' | b'\t' | b',' => {}
                    b'"' => {
                        out.extend_from_slice(&input[copied..i]);
                        copied = i + 1;
                        self.entry.clear();
                        self.state = State::InString { escaped: false };
                    }
                    b']' => self.state = State::BeforeKey,
                    _ => return Err(self.unexpected(i, b, "a string")),
                },
                State::InString { escaped: true } => {
                    // The byte after a backslash never ends the entry (in
                    // \uXXXX the digits are plain).
                    self.entry.push(b);
                    self.state = State::InString { escaped: false };
                    copied = i + 1;
                }
                State::InString { escaped: false } => {
                    // Up to the closing quote, the entry is held back.
                    let Some(run) = input[i..].iter().position(|&c| c == b'"' || c == b'\\') else {
                        self.entry.extend_from_slice(&input[i..]);
                        if self.entry.len() > ENTRY_MAX {
                            return Err(self.error_at(i, "a string entry longer than 64 MiB"));
                        }
                        i = input.len();
                        copied = i;
                        continue;
                    };
                    let at = i + run;
                    self.entry.extend_from_slice(&input[i..at]);
                    if input[at] == b'\\' {
                        self.entry.push(b'\\');
                        self.state = State::InString { escaped: true };
                    } else {
                        self.end_entry(out);
                        self.state = State::Strings;
                    }
                    i = at + 1;
                    copied = i;
                    continue;
                }
                State::Tail => match b {
                    b' ' | b'\n' | b'\r' | b'\t' => {}
                    _ => return Err(self.unexpected(i, b, "the end of the snapshot")),
                },
            }
            i += 1;
        }
        out.extend_from_slice(&input[copied..]);
        self.offset += input.len() as u64;
        Ok(())
    }

    /// Reads digits and separators from `run`, which starts at `at` in the
    /// chunk, up to any other byte; returns how many bytes it read. Each
    /// number that ends in the run fills its row's slot; a full row is
    /// counted; a number cut by the chunk's end waits for the next.
    fn numbers(&mut self, section: Numbers, depth: u32, run: &[u8], at: usize) -> Result<usize, RedactError> {
        let rows = match (section, self.layout.as_ref()) {
            (_, _) if depth != 1 => None,
            (Numbers::Nodes, Some(l)) => Some(l.nodes),
            (Numbers::Edges, Some(l)) => Some(l.edges),
            (Numbers::TraceFunctions, Some(l)) => l.trace_functions,
            _ => None,
        };
        let Some(rows) = rows else {
            // Read past: only where the run ends matters.
            return Ok(run.iter().position(|&b| !(b.is_ascii_digit() || is_separator(b))).unwrap_or(run.len()));
        };
        let (mut value, mut digits, mut field, mut row) = (self.value, self.digits, self.field, self.row);
        for (k, &b) in run.iter().enumerate() {
            let digit = b.wrapping_sub(b'0');
            if digit < 10 {
                value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
                digits += 1;
                continue;
            }
            if digits != 0 {
                // 19 digits always fit in 64 bits.
                if digits > 19 {
                    return Err(self.error_at(at + k, "a number beyond 64 bits"));
                }
                row[rows.slots[field] as usize] = value;
                (value, digits) = (0, 0);
                field += 1;
                if field == rows.fields {
                    field = 0;
                    match section {
                        Numbers::Nodes => self.node_row(row, at + k)?,
                        Numbers::Edges => self.edge_row(row, at + k)?,
                        _ => self.trace_function_row(row, at + k)?,
                    }
                }
            }
            if !is_separator(b) {
                (self.value, self.digits, self.field, self.row) = (0, 0, field, row);
                return Ok(k);
            }
        }
        (self.value, self.digits, self.field, self.row) = (value, digits, field, row);
        Ok(run.len())
    }

    fn unexpected(&self, at: usize, b: u8, expected: &str) -> RedactError {
        let found = if b.is_ascii_graphic() { format!("'{}'", b as char) } else { format!("byte 0x{b:02x}") };
        self.error_at(at, format!("expected {expected}, found {found}"))
    }

    fn open_member(&mut self) {
        let section = match self.key.as_slice() {
            b"strings" => {
                self.state = State::Strings;
                return;
            }
            b"nodes" => Numbers::Nodes,
            b"edges" => Numbers::Edges,
            b"trace_function_infos" => Numbers::TraceFunctions,
            _ => Numbers::Other,
        };
        if section == Numbers::Edges {
            self.owner = 0;
            self.owner_left = self.edge_counts.first().map_or(0, |&n| u64::from(n));
        }
        self.field = 0;
        (self.value, self.digits) = (0, 0);
        self.state = State::Numbers { section, depth: 1 };
    }

    fn close_numbers(&mut self, section: Numbers, at: usize) -> Result<(), RedactError> {
        if self.field != 0 {
            return Err(self.error_at(at, format!("{section:?} ends inside a row")));
        }
        self.state = State::BeforeKey;
        Ok(())
    }

    /// Marks entry `index` as used so; the index must be one V8 could have
    /// given by now (entries are numbered in order of first use).
    fn mark(&mut self, index: u64, bit: u8, at: usize) -> Result<(), RedactError> {
        let rows = self.kinds.len() as u64 + self.edge_rows + self.entries;
        if index > 4 * rows + (1 << 16) {
            return Err(self.error_at(at, format!("string index {index} is out of range")));
        }
        let index = index as usize;
        if index >= self.usage.len() {
            self.usage.resize(index + 1, Usage::default());
        }
        self.usage[index].0 |= bit;
        Ok(())
    }

    /// A node's row: its type, name and edge count are kept, its name marked.
    fn node_row(&mut self, [kind, name, edges, _]: [u64; 4], at: usize) -> Result<(), RedactError> {
        let l = self.layout.as_ref().expect("the header is read before any member");
        let kind = l.node_kinds.get(kind as usize).copied().unwrap_or(Kind::Other);
        let name = u32::try_from(name).map_err(|_| self.error_at(at, "a node name beyond 32 bits"))?;
        let edges = u32::try_from(edges).map_err(|_| self.error_at(at, "an edge count beyond 32 bits"))?;
        self.mark(u64::from(name), if kind == Kind::String { Usage::VALUE } else { Usage::NAME }, at)?;
        self.kinds.push(kind as u8);
        self.names.push(name);
        self.edge_counts.push(edges);
        Ok(())
    }

    /// An edge's row: its name is marked, and so is a string code points at.
    fn edge_row(&mut self, [kind, name, to, _]: [u64; 4], at: usize) -> Result<(), RedactError> {
        let l = self.layout.as_ref().expect("the header is read before any member");
        let numbered = l.numbered.get(kind as usize).copied().unwrap_or(false);
        let named_bit = if Some(kind) == l.property_edge { Usage::PROPERTY } else { Usage::EDGE };
        let node_fields = l.nodes.fields as u64;
        // Whose edge this is: the next node with edges left.
        while self.owner_left == 0 {
            self.owner += 1;
            match self.edge_counts.get(self.owner) {
                Some(&n) => self.owner_left = u64::from(n),
                None => return Err(self.error_at(at, "more edges than the nodes' edge counts")),
            }
        }
        self.owner_left -= 1;
        self.edge_rows += 1;
        if !numbered {
            self.mark(name, named_bit, at)?;
        }
        let target = to / node_fields;
        if to % node_fields != 0 || target >= self.kinds.len() as u64 {
            return Err(self.error_at(at, format!("an edge to {to}, which is no node's offset")));
        }
        let target = target as usize;
        if self.kinds[target] == Kind::String as u8 && self.kinds[self.owner] == Kind::Code as u8 {
            self.mark(u64::from(self.names[target]), Usage::IN_CODE, at)?;
        }
        Ok(())
    }

    /// A function of the allocation traces: its name and script are code's.
    fn trace_function_row(&mut self, [name, script, _, _]: [u64; 4], at: usize) -> Result<(), RedactError> {
        self.mark(name, Usage::NAME, at)?;
        self.mark(script, Usage::NAME, at)
    }

    /// Writes the entry just read, as it was or as its token.
    fn end_entry(&mut self, out: &mut Vec<u8>) {
        let usage = self.usage.get(self.entries as usize).copied().unwrap_or_default();
        self.entries += 1;
        out.push(b'"');
        if usage.has(Usage::EDGE) {
            if let Some(rewritten) = weakmap_entry(&self.entry) {
                out.extend_from_slice(&rewritten);
                out.push(b'"');
                self.redaction.strings += 1;
                self.redaction.bytes += self.entry.len() as u64;
                return;
            }
        }
        if usage.keeps(&self.entry) {
            out.extend_from_slice(&self.entry);
        } else {
            out.extend_from_slice(token(&self.entry).as_bytes());
            self.redaction.strings += 1;
            self.redaction.bytes += self.entry.len() as u64;
            if usage.has(Usage::PROPERTY) {
                self.redaction.keys += 1;
            }
        }
        out.push(b'"');
    }
}

fn describe(state: &State) -> &'static str {
    match state {
        State::Head => "in its header",
        State::Numbers { section: Numbers::Nodes, .. } => "in 'nodes'",
        State::Numbers { section: Numbers::Edges, .. } => "in 'edges'",
        State::Numbers { .. } => "in a member",
        State::Strings | State::InString { .. } => "in 'strings'",
        _ => "between members",
    }
}

fn is_separator(b: u8) -> bool {
    matches!(b, b',' | b' ' | b'\n' | b'\r' | b'\t')
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    &bytes[..end]
}

/// `<redacted:` + 48 bits of a keyed hash + `>`; the key is this process's.
fn token(text: &[u8]) -> String {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    let hash = KEY.get_or_init(RandomState::new).hash_one(text);
    format!("<redacted:{:012x}>", hash >> 16)
}

/// V8 names a WeakMap entry's edges `1 / part of key (K @1) -> value (V @2)
/// pair in WeakMap (table @3)`, K and V being the key's and the value's node
/// names; a value that is a string puts its text there. The value's name
/// goes; the rest stays as DevTools reads it (it pairs the entry's edges and
/// finds the table by this text).
fn weakmap_entry(raw: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(raw);
    if !text.contains("pair in WeakMap") {
        return None;
    }
    let rewritten = weakmap_parts(&text).map_or_else(
        || "part of key -> value pair in WeakMap".to_string(),
        |(number, key, value_id, table)| {
            format!("{number} / part of key ({key}) -> value (<redacted> @{value_id}) pair in WeakMap (table @{table})")
        },
    );
    Some(rewritten.into_bytes())
}

/// The entry number, the key's `K @1`, the value's id and the table's id.
fn weakmap_parts(text: &str) -> Option<(&str, &str, &str, &str)> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (number, rest) = text.split_once(" / part of key (")?;
    let (key, rest) = rest.split_once(") -> value (")?;
    let (value, table) = rest.rsplit_once(") pair in WeakMap (table @")?;
    let table = table.strip_suffix(')')?;
    let (_, key_id) = key.rsplit_once(" @")?;
    let (_, value_id) = value.rsplit_once(" @")?;
    (digits(number) && digits(key_id) && digits(value_id) && digits(table)).then_some((number, key, value_id, table))
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = r#"{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"trace_node_fields":["id","function_info_index","count","size","children"],"sample_fields":["timestamp_us","last_assigned_id"],"location_fields":["object_index","script_id","line","column"]}"#;

    // Node types and edge types by their index in META.
    const ARRAY: u32 = 1;
    const STRING: u32 = 2;
    const OBJECT: u32 = 3;
    const CODE: u32 = 4;
    const CLOSURE: u32 = 5;
    const SYNTHETIC: u32 = 9;
    const SHAPE: u32 = 14;
    const CONTEXT: u32 = 0;
    const ELEMENT: u32 = 1;
    const PROPERTY: u32 = 2;
    const INTERNAL: u32 = 3;
    const WEAK: u32 = 6;

    /// An edge: type, name (or index), target ordinal.
    type Edge = (u32, u32, u32);

    /// A hand-made heap, written as V8 writes one.
    struct Heap {
        strings: Vec<&'static str>,
        /// Type, name, edges.
        nodes: Vec<(u32, u32, Vec<Edge>)>,
    }

    impl Heap {
        fn json(&self) -> String {
            let nodes: Vec<String> = self
                .nodes
                .iter()
                .enumerate()
                .map(|(i, (kind, name, edges))| format!("{kind},{name},{},10,{},0,0", i * 2 + 1, edges.len()))
                .collect();
            let edges: Vec<String> = self
                .nodes
                .iter()
                .flat_map(|(_, _, edges)| edges.iter().map(|(t, n, to)| format!("{t},{n},{}", to * 7)))
                .collect();
            let strings: Vec<String> = self.strings.iter().map(|s| serde_json::to_string(s).unwrap()).collect();
            format!(
                "{{\"snapshot\":{{\"meta\":{META},\"node_count\":{},\"edge_count\":{},\"trace_function_count\":1}},\n\"nodes\":[{}],\n\"edges\":[{}],\n\"trace_function_infos\":[1,13,14,1,2,3],\n\"trace_tree\":[1,0,1,10,[2,0,1,10,[]]],\n\"samples\":[],\n\"locations\":[5,1,2,3],\n\"strings\":[{}]}}",
                self.nodes.len(),
                edges.len(),
                nodes.join(",\n"),
                edges.join(",\n"),
                strings.join(",\n")
            )
        }
    }

    /// The heap of the tests: every way a string is used.
    fn heap() -> Heap {
        let strings = vec![
            "<dummy>",                                                                        // 0
            "",                                                                               // 1  root's name
            "Object",                                                                         // 2  a class
            "alice@example.com",   // 3  a dictionary's key, which no code names
            "(object properties)", // 4
            "name",                // 5  a property code names, also a dictionary key
            "hunter2",             // 6  a string value
            "carol",               // 7  a Map's key
            "handler",             // 8  a function
            "token",               // 9  a context variable
            "s3cr3t",              // 10 a captured string value
            "1 / part of key (Object @5) -> value (topsecret @7) pair in WeakMap (table @9)", // 11
            "system / DescriptorArray", // 12
            "makeUser",            // 13 an allocation trace's function
            "/srv/app/user.js",    // 14 its script
            "never used",          // 15
            "quote \" and \\ back", // 16 a value with escapes
            "1",                   // 17 internal edges' numbered names
            "2",                   // 18
            "bob@example.com",     // 19 a fast object's key, which no code names
            "<symbol kState>",     // 20 a symbol-keyed property
            "get size",            // 21 an accessor
        ];
        let nodes = vec![
            // 0: root
            (SYNTHETIC, 1, vec![(ELEMENT, 1, 1), (ELEMENT, 2, 4), (ELEMENT, 3, 7), (ELEMENT, 4, 9)]),
            // 1: a dictionary-mode object: users["alice@example.com"], users.name
            (
                OBJECT,
                2,
                vec![(PROPERTY, 3, 3), (PROPERTY, 5, 3), (INTERNAL, 4, 2), (PROPERTY, 20, 3), (PROPERTY, 21, 3)],
            ),
            // 2: its backing store holds its keys
            (ARRAY, 4, vec![(INTERNAL, 17, 10), (INTERNAL, 18, 3), (INTERNAL, 17, 11), (INTERNAL, 18, 11)]),
            // 3: a string value
            (STRING, 6, vec![]),
            // 4: a fast object: sessions["bob@example.com"], sessions.name
            (OBJECT, 2, vec![(PROPERTY, 5, 3), (PROPERTY, 19, 3), (INTERNAL, 12, 5)]),
            // 5: its shape's descriptors hold its keys
            (SHAPE, 12, vec![(INTERNAL, 1, 11), (INTERNAL, 1, 14)]),
            // 6: a Map's table holds a key that no property has
            (ARRAY, 1, vec![(INTERNAL, 1, 12)]),
            // 7: a closure capturing a string, and a WeakMap entry
            (CLOSURE, 8, vec![(CONTEXT, 9, 8), (WEAK, 11, 3), (INTERNAL, 1, 6)]),
            // 8: the captured string
            (STRING, 10, vec![]),
            // 9: code holding a string with an escape, and the name it reads
            (CODE, 8, vec![(INTERNAL, 1, 13), (INTERNAL, 1, 11)]),
            // 10: the dictionary key "alice@example.com"
            (STRING, 3, vec![]),
            // 11: the key "name"
            (STRING, 5, vec![]),
            // 12: the Map key
            (STRING, 7, vec![]),
            // 13: a value with escapes
            (STRING, 16, vec![]),
            // 14: the key "bob@example.com"
            (STRING, 19, vec![]),
        ];
        Heap { strings, nodes }
    }

    fn redact_in_chunks(input: &[u8], size: usize) -> Result<(Vec<u8>, Redaction), RedactError> {
        let mut redactor = Redactor::new();
        let mut out = Vec::new();
        for chunk in input.chunks(size) {
            redactor.push(chunk, &mut out)?;
        }
        Ok((out, redactor.finish()?))
    }

    fn strings_of(json: &[u8]) -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_slice(json).expect("the output is JSON");
        doc["strings"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
    }

    #[test]
    fn values_and_keys_only_data_gave_go_names_of_code_stay() {
        let input = heap().json();
        let (out, redaction) = redact_in_chunks(input.as_bytes(), 1 << 16).unwrap();
        let strings = strings_of(&out);
        let kept = |i: usize| strings[i] == heap().strings[i];
        let token = |i: usize| strings[i].starts_with("<redacted:") && strings[i].len() == "<redacted:>".len() + 12;
        for i in [1, 2, 4, 5, 8, 9, 12, 13, 14, 17, 18, 20, 21] {
            assert!(kept(i), "entry {i} ({:?}) is code's and stays, got {:?}", heap().strings[i], strings[i]);
        }
        for i in [3, 6, 7, 10, 15, 16, 0, 19] {
            assert!(token(i), "entry {i} ({:?}) is data and goes, got {:?}", heap().strings[i], strings[i]);
        }
        assert_eq!(strings[11], "1 / part of key (Object @5) -> value (<redacted> @7) pair in WeakMap (table @9)");
        // Only the string table changed.
        let (before, after): (serde_json::Value, serde_json::Value) =
            (serde_json::from_str(&input).unwrap(), serde_json::from_slice(&out).unwrap());
        for member in ["snapshot", "nodes", "edges", "trace_function_infos", "trace_tree", "samples", "locations"] {
            assert_eq!(before[member], after[member], "{member} goes through unchanged");
        }
        assert_eq!(redaction.strings, 9);
        assert_eq!(redaction.keys, 2, "alice@example.com and bob@example.com");
        let text = String::from_utf8(out).unwrap();
        for secret in ["alice", "bob", "hunter2", "carol", "s3cr3t", "topsecret", "never used", "quote"] {
            assert!(!text.contains(secret), "{secret} is in the output");
        }
    }

    #[test]
    fn equal_texts_get_equal_tokens_in_every_snapshot() {
        let (first, _) = redact_in_chunks(heap().json().as_bytes(), 1 << 16).unwrap();
        let mut other = heap();
        // Another snapshot of the process, where "hunter2" sits at another index.
        other.strings.swap(6, 15);
        other.nodes[3].1 = 15;
        let (second, _) = redact_in_chunks(other.json().as_bytes(), 1 << 16).unwrap();
        assert_eq!(strings_of(&first)[6], strings_of(&second)[15]);
        assert_ne!(strings_of(&first)[6], strings_of(&first)[10]);
    }

    #[test]
    fn any_split_of_the_stream_gives_the_same_file() {
        let input = heap().json();
        let (whole, redaction) = redact_in_chunks(input.as_bytes(), input.len()).unwrap();
        for size in 1..input.len() {
            let (split, counted) = redact_in_chunks(input.as_bytes(), size).unwrap();
            assert_eq!(split, whole, "chunks of {size} bytes");
            assert_eq!(counted, redaction);
        }
    }

    #[test]
    fn what_it_cannot_read_fails_with_the_offset() {
        let input = heap().json();
        let cut = input.find("\"strings\"").unwrap() + 20;
        let err = redact_in_chunks(&input.as_bytes()[..cut], 1 << 16).unwrap_err();
        assert!(err.reason.contains("ended early") && err.reason.contains("strings"), "{err}");

        // A string where only numbers may be: never passed through unread.
        let odd = input.replace("\"samples\":[]", "\"samples\":[\"x\"]");
        let err = redact_in_chunks(odd.as_bytes(), 1 << 16).unwrap_err();
        assert_eq!(err.offset as usize, odd.find("[\"x\"]").unwrap() + 1, "{err}");

        let bad_edge = input.replace("\"edges\":[1,1,7", "\"edges\":[1,1,8");
        assert_ne!(bad_edge, input);
        let err = redact_in_chunks(bad_edge.as_bytes(), 7).unwrap_err();
        assert!(err.reason.contains("no node's offset"), "{err}");

        let no_nodes = input.replace("\"nodes\"", "\"knots\"");
        let err = redact_in_chunks(no_nodes.as_bytes(), 1 << 16).unwrap_err();
        assert!(err.reason.contains("ended early"), "{err}");
    }
}
