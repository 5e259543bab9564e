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
}

/// The raw sections of a snapshot.
#[derive(Debug, Default)]
pub struct Raw {
    pub header: Option<Header>,
    pub nodes: Vec<u32>,
    pub edges: Vec<u32>,
    pub locations: Vec<u32>,
    /// All strings, concatenated; `string_ends[i]` is where string `i` ends.
    pub string_data: String,
    pub string_ends: Vec<usize>,
}

impl Raw {
    pub fn string(&self, index: usize) -> &str {
        let start = if index == 0 { 0 } else { self.string_ends[index - 1] };
        &self.string_data[start..self.string_ends[index]]
    }

    pub fn string_count(&self) -> usize {
        self.string_ends.len()
    }
}

/// What went wrong, and where.
#[derive(Debug)]
pub enum ParseError {
    Io { offset: u64, source: io::Error },
    Syntax { offset: u64, expected: &'static str, found: String },
    Number { offset: u64, reason: &'static str },
    Meta { offset: u64, reason: String },
    Shape { reason: String },
}

impl ParseError {
    /// The byte offset in the (decompressed) JSON, when the error has one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            ParseError::Io { offset, .. }
            | ParseError::Syntax { offset, .. }
            | ParseError::Number { offset, .. }
            | ParseError::Meta { offset, .. } => Some(*offset),
            ParseError::Shape { .. } => None,
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
            ParseError::Shape { reason } => write!(f, "inconsistent heap snapshot: {reason}"),
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

const BUF: usize = 1 << 16;
const PROGRESS_EVERY: u64 = 8 << 20;

impl<R: Read> Lexer<R> {
    fn new(inner: R) -> Self {
        Lexer { inner, buf: vec![0; BUF].into_boxed_slice(), pos: 0, len: 0, base: 0, reported: 0 }
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
                    let esc = self.peek(progress)?;
                    self.bump();
                    match esc {
                        Some(b'"') => bytes.push(b'"'),
                        Some(b'\\') => bytes.push(b'\\'),
                        Some(b'/') => bytes.push(b'/'),
                        Some(b'b') => bytes.push(8),
                        Some(b'f') => bytes.push(12),
                        Some(b'n') => bytes.push(b'\n'),
                        Some(b'r') => bytes.push(b'\r'),
                        Some(b't') => bytes.push(b'\t'),
                        Some(b'u') => {
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
                        other => return Err(self.syntax("a valid escape", other)),
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

    /// An unsigned integer (V8 writes only those in the big arrays).
    #[inline]
    fn uint(&mut self, progress: Progress) -> Result<u32, ParseError> {
        let first = self.skip_ws(progress)?;
        let start = self.offset();
        let mut value: u64 = match first {
            Some(b @ b'0'..=b'9') => (b - b'0') as u64,
            other => return Err(self.syntax("an unsigned integer", other)),
        };
        self.bump();
        loop {
            // Digits mostly sit in the buffer: scan without refilling.
            while self.pos < self.len {
                let b = self.buf[self.pos];
                if !b.is_ascii_digit() {
                    break;
                }
                value = value * 10 + (b - b'0') as u64;
                if value > u32::MAX as u64 {
                    return Err(ParseError::Number { offset: start, reason: "larger than 4294967295" });
                }
                self.pos += 1;
            }
            if self.pos < self.len {
                break;
            }
            match self.peek(progress)? {
                Some(b'0'..=b'9') => {}
                _ => break,
            }
        }
        if matches!(self.peek(progress)?, Some(b'.' | b'e' | b'E' | b'-')) {
            return Err(ParseError::Number { offset: start, reason: "expected an unsigned integer" });
        }
        Ok(value as u32)
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

/// Reads a whole snapshot from `input`. `progress` hears the byte count now and then.
pub fn read(input: impl Read, progress: Progress) -> Result<Raw, ParseError> {
    let mut lx = Lexer::new(input);
    let mut raw = Raw::default();
    lx.expect(b'{', "'{' at the start of a heap snapshot", progress)?;
    let mut first = true;
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
                let header: Header = serde_json::from_slice(&text)
                    .map_err(|e| ParseError::Meta { offset: at, reason: e.to_string() })?;
                raw.nodes.reserve(header.node_count as usize * header.meta.node_fields.len());
                raw.edges.reserve(header.edge_count as usize * header.meta.edge_fields.len());
                raw.header = Some(header);
            }
            "nodes" => read_uints(&mut lx, &mut raw.nodes, progress)?,
            "edges" => read_uints(&mut lx, &mut raw.edges, progress)?,
            "locations" => read_uints(&mut lx, &mut raw.locations, progress)?,
            "strings" => read_strings(&mut lx, &mut raw, progress)?,
            _ => lx.skip_value(progress)?,
        }
    }
    let trailing = lx.skip_ws(progress)?;
    if trailing.is_some() {
        return Err(lx.syntax("the end of input after the snapshot", trailing));
    }
    progress(lx.offset());
    Ok(raw)
}

fn read_uints<R: Read>(lx: &mut Lexer<R>, out: &mut Vec<u32>, progress: Progress) -> Result<(), ParseError> {
    lx.expect(b'[', "'[' (an array of numbers)", progress)?;
    if lx.skip_ws(progress)? == Some(b']') {
        lx.bump();
        return Ok(());
    }
    loop {
        out.push(lx.uint(progress)?);
        match lx.skip_ws(progress)? {
            Some(b',') => lx.bump(),
            Some(b']') => {
                lx.bump();
                return Ok(());
            }
            other => return Err(lx.syntax("',' or ']' in an array of numbers", other)),
        }
    }
}

fn read_strings<R: Read>(lx: &mut Lexer<R>, raw: &mut Raw, progress: Progress) -> Result<(), ParseError> {
    lx.expect(b'[', "'[' (the strings array)", progress)?;
    if lx.skip_ws(progress)? == Some(b']') {
        lx.bump();
        return Ok(());
    }
    loop {
        lx.string_into(&mut raw.string_data, progress)?;
        raw.string_ends.push(raw.string_data.len());
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

    #[test]
    fn reads_sections_and_decodes_strings() {
        let raw = parse(TINY).unwrap();
        assert_eq!(raw.nodes, [0, 0, 1, 0, 1, 1, 1, 3, 16, 0]);
        assert_eq!(raw.edges, [1, 2, 5]);
        assert_eq!(raw.string(1), "Objéct");
        assert_eq!(raw.string(2), "x😀y");
        assert_eq!(raw.string(3), "lone\u{FFFD}");
        assert_eq!(raw.header.unwrap().meta.node_fields.len(), 5);
    }

    #[test]
    fn errors_name_the_byte_offset() {
        let e = parse("").unwrap_err();
        assert!(matches!(e, ParseError::Syntax { offset: 0, .. }), "{e}");
        let e = parse(r#"{"nodes":[1,2,x]}"#).unwrap_err();
        assert_eq!(e.offset(), Some(14), "{e}");
        assert!(e.to_string().contains("byte 14"), "{e}");
        let e = parse(r#"{"nodes":[1,-2]}"#).unwrap_err();
        assert_eq!(e.offset(), Some(12));
        let e = parse(r#"{"nodes":[99999999999]}"#).unwrap_err();
        assert!(e.to_string().contains("4294967295"), "{e}");
        let e = parse(&TINY[..TINY.len() - 5]).unwrap_err();
        assert!(e.to_string().contains("end of input"), "{e}");
        let e = parse(r#"{"snapshot":{"meta":{}}}"#).unwrap_err();
        assert!(matches!(e, ParseError::Meta { offset: 12, .. }), "{e}");
    }
}
