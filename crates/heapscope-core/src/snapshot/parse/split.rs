//! Reading a snapshot file's edges on two threads.
//!
//! The edges array is most of a snapshot's bytes (60–70 % of V8's files).
//! While the main thread parses the header and the nodes, a helper thread
//! finds the edges array, picks a comma in it, counting commas on the way so
//! that it knows how many values come before it, makes the edge columns
//! (the header announces their length), hands the main thread the part
//! before the comma and parses everything after it into the rest, then the
//! members after the edges. When the main thread reaches the edges it
//! checks the plan against what it has read itself (the array opens where
//! planned, the nodes declare as many edges as the header), and parses its
//! part in place. The comma is placed so that both finish together: the
//! main thread has the nodes to parse first. When anything disagrees, or
//! either part meets an error, the main thread reads the edges alone: the
//! plan is a shortcut, never a second source of truth, and every error is
//! the one a single thread names, at its byte offset.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{Scope, ScopedJoinHandle};

use super::{
    read_edge_values, read_edges, read_members, EdgeColumns, EdgeLayout, EdgeRole, EdgeStore, Header, InOrder, Lexer,
    ParseError, Progress, Raw, Sections, Span, BUF,
};

/// A file read at its own offset and up to a limit, so that a reader can
/// stop at a byte and go on from another; it reads as ended once `cancel`
/// is set.
pub(in crate::snapshot) struct FileInput {
    file: File,
    pos: u64,
    limit: u64,
    cancel: Option<Arc<AtomicBool>>,
}

impl FileInput {
    pub fn new(file: File) -> FileInput {
        FileInput { file, pos: 0, limit: u64::MAX, cancel: None }
    }
}

impl Read for FileInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Ok(0);
        }
        let room = self.limit.saturating_sub(self.pos).min(buf.len() as u64) as usize;
        if room == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..room], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Lexer<FileInput> {
    /// Goes on reading from byte `offset`, dropping what is buffered.
    fn jump(&mut self, offset: u64) {
        self.inner.pos = offset;
        self.base = offset;
        self.pos = 0;
        self.len = 0;
    }
}

/// Where the edges array splits, as the helper found it.
#[derive(Clone, Copy)]
struct Plan {
    /// Offset of the array's `[`.
    open: u64,
    /// Offset of the comma the helper's part starts at.
    split: u64,
    /// Values before that comma.
    before: u64,
    /// The file's length when planned.
    end: u64,
}

/// The main thread's part of the edge columns, which the helper made.
struct Head<'c> {
    plan: Plan,
    store: EdgeSlices<'c>,
}

/// What the helper read: how its part of the edges ended, and the members
/// after the edges.
struct Tail {
    /// Values read, the field the next one would be, whether every row of
    /// the part got its values, and the offset after the `]`; an error
    /// only says that the main thread must read the edges alone.
    read: Result<(u64, usize, bool, u64), ParseError>,
    /// The members after the edges to the end of the input (strings,
    /// locations, traces), when they read without error and hold no
    /// second header, nodes or edges; otherwise the main thread reads them.
    rest: Option<Raw>,
}

const CHUNK: usize = if cfg!(any(test, feature = "fuzzing")) { 4096 } else { 1 << 20 };
/// Below this, a second thread costs more than it saves (tests and the
/// fuzzer split anything).
const MIN_SPLIT_BYTES: u64 = if cfg!(any(test, feature = "fuzzing")) { 64 } else { 16 << 20 };

fn read_some(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    loop {
        match file.read_at(buf, at) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Reads `file` from `at` a chunk at a time until `look` finds what it looks
/// for in a chunk (given with its offset); `None` at the end of the file or
/// when cancelled.
fn scan<T>(
    file: &File,
    mut at: u64,
    cancel: &AtomicBool,
    buf: &mut [u8],
    mut look: impl FnMut(u64, &[u8]) -> Option<T>,
) -> io::Result<Option<T>> {
    while !cancel.load(Ordering::Relaxed) {
        let n = read_some(file, buf, at)?;
        if n == 0 {
            break;
        }
        if let Some(found) = look(at, &buf[..n]) {
            return Ok(Some(found));
        }
        at += n as u64;
    }
    Ok(None)
}

/// The commas in `bytes`, summed a block at a time in one byte each: a loop
/// the compiler makes vector compares and adds of (counted one by one, each
/// byte's test is widened to 64 bits first, several times slower).
fn commas(bytes: &[u8]) -> u64 {
    let mut blocks = bytes.chunks_exact(u8::MAX as usize);
    let mut n = 0u64;
    for block in &mut blocks {
        n += block.iter().fold(0u8, |sum, &b| sum + u8::from(b == b',')) as u64;
    }
    n + blocks.remainder().iter().filter(|&&b| b == b',').count() as u64
}

/// How many bytes of the edges array the main thread parses, given that it
/// first parses `nodes` bytes of nodes, and the edges and the members after
/// them (which the helper reads) take `rest`. Measured costs per byte,
/// relative to parsing edges: nodes 1.5 (more, shorter numbers), the
/// members after the edges 1.2–2.2 (strings cost most), the helper's comma
/// count 0.27 and its search for the nodes' end 0.02 (it skips most of them).
fn head_bytes(nodes: u64, rest: u64) -> u64 {
    // Edges are about nine tenths of what follows the nodes in V8's files.
    let edges = rest as f64 * 0.9;
    let after = rest as f64 * 0.1;
    let nodes = nodes as f64;
    // main: 1.5·nodes + f·edges
    //   = helper: 0.02·nodes + 0.27·f·edges + (1 − f)·edges + 1.7·after
    let f = (edges + 1.7 * after - 1.48 * nodes) / (1.73 * edges).max(1.0);
    (f.clamp(0.02, 0.7) * edges) as u64
}

/// Scans from `from` (the start of the nodes value, which holds `values`
/// numbers) for the edges array and a split point in it. `None` whenever
/// the file is not laid out as V8 writes it; the main reader then finds out
/// what is wrong, if anything.
fn plan(file: &File, from: u64, values: u64, cancel: &AtomicBool) -> io::Result<Option<Plan>> {
    let mut buf = vec![0u8; CHUNK];
    // The nodes array holds only digits, commas, whitespace and brackets:
    // the first quote opens the next key, which should be the edges'.
    let first_quote = |file: &File, at: u64, buf: &mut [u8]| {
        scan(file, at, cancel, buf, |at, chunk| memchr::memchr(b'"', chunk).map(|p| at + p as u64))
    };
    // Most of the way there at once: a guess past the key finds another
    // quote (or an `"edges"` not followed by the array: a string), and the
    // search starts again from the nodes' start.
    let end = file.metadata()?.len();
    let n = read_some(file, &mut buf[..GUESS_SAMPLE], from)?;
    let guess = from.saturating_add(nodes_skip(&buf[..n], values));
    let mut open = None;
    if guess > from && guess < end {
        if let Some(quote) = first_quote(file, guess, &mut buf)? {
            open = edges_open(file, quote, &mut buf)?;
        }
    }
    if open.is_none() {
        let Some(quote) = first_quote(file, from, &mut buf)? else { return Ok(None) };
        open = edges_open(file, quote, &mut buf)?;
    }
    let Some(open) = open else { return Ok(None) };
    if end.saturating_sub(open) < MIN_SPLIT_BYTES {
        return Ok(None);
    }
    // Past what the main reader buffers when it reaches the array.
    let target = open + head_bytes(open - from, end - open).max(2 * BUF as u64);
    // Commas up to the first one at or after the target; a `]` before it
    // means the array is shorter than planned for.
    let mut before = 0u64;
    let found = scan(file, open + 1, cancel, &mut buf, |at, chunk| {
        let from = target.saturating_sub(at).min(chunk.len() as u64) as usize;
        let upto = chunk[from..].iter().position(|&b| b == b',').map_or(chunk.len(), |p| from + p);
        if chunk[..upto].contains(&b']') {
            return Some(None);
        }
        before += commas(&chunk[..upto]);
        (upto < chunk.len()).then_some(Some(at + upto as u64))
    })?;
    let Some(Some(split)) = found else { return Ok(None) };
    Ok(Some(Plan { open, split, before: before + 1, end }))
}

/// Bytes of the nodes [`nodes_skip`] guesses from, and the numbers they
/// must hold (the fuzzer's small files guess from their first 64 bytes, so
/// that its guesses, short of the nodes' end and past it, are tried).
const GUESS_SAMPLE: usize = if cfg!(feature = "fuzzing") { 64 } else { CHUNK };
const GUESS_FROM: u64 = if cfg!(feature = "fuzzing") { 4 } else { 1000 };

/// How far into the nodes' `values` numbers their end surely is not, from
/// the bytes a number takes in their first chunk: nine tenths of the way,
/// and the ids grow along the array, so the guess falls short, not past.
/// 0 when the chunk says too little.
fn nodes_skip(first: &[u8], values: u64) -> u64 {
    if memchr::memchr(b'"', first).is_some() {
        return 0;
    }
    let numbers = commas(first);
    if numbers < GUESS_FROM {
        return 0;
    }
    (first.len() as f64 / numbers as f64 * values as f64 * 0.9) as u64
}

/// Where the edges' array opens, when the key at `quote` is theirs.
fn edges_open(file: &File, quote: u64, buf: &mut [u8]) -> io::Result<Option<u64>> {
    let n = read_some(file, &mut buf[..256], quote)?;
    let Some(rest) = buf[..n].strip_prefix(b"\"edges\"") else { return Ok(None) };
    let space = |b: &[u8]| b.iter().take_while(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t')).count();
    let mut i = space(rest);
    if rest.get(i) != Some(&b':') {
        return Ok(None);
    }
    i += 1;
    i += space(&rest[i..]);
    Ok((rest.get(i) == Some(&b'[')).then_some(quote + 7 + i as u64))
}

/// Rows whose `role` value comes before the split (field `f` of row `r` is
/// value `r·fields + f`).
fn head_rows(layout: &EdgeLayout, before: u64, role: EdgeRole) -> usize {
    let fields = layout.roles.len() as u64;
    let f = layout.roles.iter().position(|&r| r == role).unwrap_or(0) as u64;
    before.saturating_sub(f).div_ceil(fields) as usize
}

/// The helper's work: the plan, sent as soon as it is made, then the part
/// after the split into columns for `rows` rows.
fn read_tail<'c>(
    file: File,
    from: u64,
    header: Header,
    layout: EdgeLayout,
    cancel: Arc<AtomicBool>,
    columns: &'c mut Option<EdgeColumns>,
    planned: mpsc::Sender<Head<'c>>,
) -> Option<Tail> {
    let rows = usize::try_from(header.edge_count).ok()?;
    let values = header.node_count.saturating_mul(header.meta.node_fields.len() as u64);
    let plan = plan(&file, from, values, &cancel).ok().flatten()?;
    let fields = layout.roles.len() as u64;
    // Columns for the rows the header announces, if the array could hold
    // them (a digit and a separator a value at least): a header that
    // claims more must not have them allocated (a failed allocation aborts
    // the process); the main thread then reads alone and names the fault.
    let room = plan.end.saturating_sub(plan.open);
    if plan.before >= rows as u64 * fields || (rows as u64).saturating_mul(2 * fields) > room {
        return None;
    }
    let columns = columns.insert(EdgeColumns { kind: vec![0; rows], name: vec![0; rows], to: vec![0; rows] });
    let at = |role| head_rows(&layout, plan.before, role);
    let (kind, kind_tail) = columns.kind.split_at_mut(at(EdgeRole::Kind));
    let (name, name_tail) = columns.name.split_at_mut(at(EdgeRole::Name));
    let (to, to_tail) = columns.to.split_at_mut(at(EdgeRole::To));
    planned.send(Head { plan, store: EdgeSlices::new(kind, name, to) }).ok()?;
    let input = FileInput { file, pos: plan.split, limit: u64::MAX, cancel: Some(cancel) };
    let mut lx = Lexer::at(input, plan.split);
    let mut store = EdgeSlices::new(kind_tail, name_tail, to_tail);
    let tail_field = (plan.before % fields) as usize;
    let read = read_edge_values(&mut lx, &mut |_| {}, Span::Tail, &layout, tail_field, &mut store)
        .map(|(count, field)| (count, field, store.full(), lx.offset()));
    let rest = read.is_ok().then(|| read_rest(&mut lx, header)).flatten();
    Some(Tail { read, rest })
}

/// The members after the edges, as [`Tail::rest`] says.
fn read_rest(lx: &mut Lexer<FileInput>, header: Header) -> Option<Raw> {
    let offset = header.offset;
    let mut rest = Raw { header: Some(header), ..Raw::default() };
    read_members(lx, &mut |_| {}, &mut InOrder, &mut rest, false).ok()?;
    let alone = rest.header.as_ref().is_some_and(|h| h.offset == offset)
        && rest.nodes.first_edge.is_empty()
        && rest.edges_at == 0;
    alone.then_some(rest)
}

/// Reading a file, with the helper that reads the later part of its edges
/// into `columns`.
pub(in crate::snapshot) struct Split<'scope, 'env> {
    file: Option<File>,
    scope: &'scope Scope<'scope, 'env>,
    columns: Option<&'env mut Option<EdgeColumns>>,
    helper: Option<ScopedJoinHandle<'scope, Option<Tail>>>,
    planned: Option<mpsc::Receiver<Head<'env>>>,
    cancel: Arc<AtomicBool>,
    /// The edges were read in two parts, into the columns.
    done: bool,
}

impl<'scope, 'env> Split<'scope, 'env> {
    pub fn new(
        file: &File,
        scope: &'scope Scope<'scope, 'env>,
        columns: &'env mut Option<EdgeColumns>,
    ) -> Split<'scope, 'env> {
        let file = file.try_clone().ok();
        Split { file, scope, columns: Some(columns), helper: None, planned: None, cancel: Arc::default(), done: false }
    }

    /// Stops the helper, if it still reads, and waits for it; whether the
    /// edges are in the columns.
    pub fn finish(mut self) -> bool {
        self.stop();
        self.done
    }

    fn stop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        if let Some(helper) = self.helper.take() {
            // The helper only parses; if it panicked, this thread reads
            // without it (joined here, its panic does not reach the scope).
            let _ = helper.join();
        }
    }
}

impl Drop for Split<'_, '_> {
    fn drop(&mut self) {
        self.stop();
    }
}

impl<'env> Sections<FileInput> for Split<'_, 'env> {
    fn nodes_at(&mut self, raw: &Raw, at: u64) {
        if self.helper.is_some() {
            return;
        }
        // The header announces the edges; without it, or its layout, the
        // main thread reads them alone (and says what is wrong).
        let (Some(header), Ok(layout)) = (raw.header.clone(), EdgeLayout::of(raw, at)) else { return };
        let Some(file) = self.file.as_ref().and_then(|f| f.try_clone().ok()) else { return };
        let Some(columns) = self.columns.take() else { return };
        let cancel = Arc::clone(&self.cancel);
        let (planned, plan) = mpsc::channel();
        self.helper = std::thread::Builder::new()
            .name("heapscope-read".into())
            .spawn_scoped(self.scope, move || read_tail(file, at, header, layout, cancel, columns, planned))
            .ok();
        self.planned = Some(plan);
    }

    fn edges(
        &mut self,
        lx: &mut Lexer<FileInput>,
        raw: &mut Raw,
        at: u64,
        progress: Progress,
    ) -> Result<bool, ParseError> {
        let layout = EdgeLayout::of(raw, at)?;
        let once = |role: EdgeRole| layout.roles.iter().filter(|&&r| r == role).count() == 1;
        let announced = raw.header.as_ref().map_or(0, |h| h.edge_count);
        let fits = once(EdgeRole::Kind)
            && once(EdgeRole::Name)
            && once(EdgeRole::To)
            && raw.edges_declared > 0
            && raw.edges_declared == announced
            && self.helper.is_some()
            && lx.skip_ws(progress)? == Some(b'[');
        if fits {
            if let Some((end, rest)) = self.split_edges(lx, raw, &layout, progress)? {
                #[cfg(test)]
                tests::SPLITS.fetch_add(1, Ordering::Relaxed);
                self.done = true;
                lx.jump(end);
                return Ok(rest.is_some_and(|rest| take_rest(raw, rest, progress)));
            }
        }
        self.cancel.store(true, Ordering::Relaxed);
        // Read again from the bracket, alone.
        lx.jump(at);
        read_edges(lx, raw, at, progress)?;
        Ok(false)
    }
}

impl Split<'_, '_> {
    /// Reads the head of the edges here, in place, and waits for the
    /// helper's tail. `Ok(Some((end, rest)))`: the columns are whole, the
    /// array ends before `end`, and the helper read what follows it if
    /// `rest`; `Ok(None)`: the parts did not add up to the edges the nodes
    /// declare, or one met an error (which a single reader will name).
    fn split_edges(
        &mut self,
        lx: &mut Lexer<FileInput>,
        raw: &Raw,
        layout: &EdgeLayout,
        progress: Progress,
    ) -> Result<Option<(u64, Option<Raw>)>, ParseError> {
        // The plan comes long before the helper's part is read (or never,
        // when the helper found the file not laid out as planned).
        let Some(Head { plan, mut store }) = self.planned.take().and_then(|planned| planned.recv().ok()) else {
            return Ok(None);
        };
        // The array opens where the helper found it, and nothing past the
        // split is buffered here.
        if lx.offset() != plan.open || lx.read_up_to() >= plan.split {
            return Ok(None);
        }
        lx.inner.limit = plan.split;
        let read = read_edge_values(lx, progress, Span::Head, layout, 0, &mut store);
        lx.inner.limit = u64::MAX;
        if !(matches!(read, Ok((count, _)) if count == plan.before) && store.full()) {
            return Ok(None);
        }
        let Some(Tail { read, rest }) = self.helper.take().and_then(|helper| helper.join().ok().flatten()) else {
            return Ok(None);
        };
        let Ok((tail_count, field, full, end)) = read else { return Ok(None) };
        let fields = layout.roles.len() as u64;
        // The columns hold the rows the header announced, which `edges`
        // checked the nodes declare.
        let whole = field == 0 && full && plan.before + tail_count == raw.edges_declared * fields;
        Ok(whole.then_some((end, rest)))
    }
}

/// Takes the members the helper read after the edges into `raw`, unless
/// `raw` already holds some of their kind (read before the edges), which a
/// single reader would have added to; then the caller reads them itself.
fn take_rest(raw: &mut Raw, rest: Raw, progress: Progress) -> bool {
    let untouched = raw.locations.is_empty()
        && raw.trace_functions.is_empty()
        && raw.trace_tree.is_empty()
        && raw.strings.is_empty();
    if !untouched {
        return false;
    }
    raw.locations = rest.locations;
    raw.locations_at = rest.locations_at;
    raw.trace_functions = rest.trace_functions;
    raw.traces_at = rest.traces_at;
    raw.trace_tree = rest.trace_tree;
    raw.strings = rest.strings;
    raw.end = rest.end;
    progress(raw.end);
    #[cfg(test)]
    tests::RESTS.fetch_add(1, Ordering::Relaxed);
    true
}

/// One thread's share of the edge columns, filled in order.
struct EdgeSlices<'a> {
    kind: &'a mut [u8],
    name: &'a mut [u32],
    to: &'a mut [u32],
    at: [usize; 3],
}

impl<'a> EdgeSlices<'a> {
    fn new(kind: &'a mut [u8], name: &'a mut [u32], to: &'a mut [u32]) -> Self {
        EdgeSlices { kind, name, to, at: [0; 3] }
    }

    fn full(&self) -> bool {
        self.at == [self.kind.len(), self.name.len(), self.to.len()]
    }
}

impl EdgeStore for EdgeSlices<'_> {
    #[inline]
    fn put(&mut self, role: EdgeRole, value: u32) -> bool {
        fn fill<T>(column: &mut [T], at: &mut usize, value: T) -> bool {
            match column.get_mut(*at) {
                Some(slot) => {
                    *slot = value;
                    *at += 1;
                    true
                }
                None => false,
            }
        }
        match role {
            EdgeRole::Kind => fill(self.kind, &mut self.at[0], value as u8),
            EdgeRole::Name => fill(self.name, &mut self.at[1], value),
            EdgeRole::To => fill(self.to, &mut self.at[2], value),
            EdgeRole::Dropped => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{read, read_file, Raw};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Edge sections read in two halves, and members after them read by
    /// the helper, so tests can tell the split happened.
    pub(super) static SPLITS: AtomicUsize = AtomicUsize::new(0);
    pub(super) static RESTS: AtomicUsize = AtomicUsize::new(0);

    /// A snapshot laid out as V8 writes it, `edges` rows of three values.
    fn snapshot(nodes: u32, edges_per_node: u32) -> String {
        let mut text = String::from(concat!(
            r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],"#,
            r#""node_types":[["hidden","object"],"string","number","number","number"],"#,
            r#""edge_fields":["type","name_or_index","to_node"],"#,
            r#""edge_types":[["element","property"],"string_or_number","node"]},"#,
        ));
        text += &format!("\"node_count\":{nodes},\"edge_count\":{}}},\n\"nodes\":[", nodes * edges_per_node);
        for n in 0..nodes {
            let sep = if n == 0 { "" } else { "\n," };
            text += &format!("{sep}1,{},{},{},{edges_per_node}", n % 3, n * 2 + 1, n * 8 % 100);
        }
        text += "],\n\"edges\":[";
        for e in 0..nodes * edges_per_node {
            let sep = if e == 0 { "" } else { "\n," };
            text += &format!("{sep}{},{},{}", e % 2, e * 7 % 100_003, (e * 31 % nodes) * 5);
        }
        text += "],\n\"locations\":[";
        text += &(0..nodes.min(5000))
            .map(|n| format!("{},{},{},{}", n * 5, n % 7, n, n % 80))
            .collect::<Vec<_>>()
            .join(",");
        text += "],\n\"strings\":[\"\",\"a\",\"b\"";
        for n in 0..nodes {
            text += &format!(",\"s{n}\\u00e9\"");
        }
        text += "]}";
        text
    }

    fn same_reads(one: &Raw, two: &Raw) {
        assert_eq!(one.edges.kind, two.edges.kind);
        assert_eq!(one.edges.name, two.edges.name);
        assert_eq!(one.edges.to, two.edges.to);
        assert_eq!(one.nodes.first_edge, two.nodes.first_edge);
        assert_eq!(one.locations, two.locations);
        assert_eq!((one.locations_at, one.end), (two.locations_at, two.end));
        assert_eq!(one.strings.len(), two.strings.len());
        assert!((0..one.strings.len()).all(|i| one.strings.get(i) == two.strings.get(i)));
    }

    fn read_both(text: &str) -> (Result<Raw, String>, Result<Raw, String>) {
        static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("heapscope-split-{}-{n}", std::process::id()));
        std::fs::write(&dir, text).unwrap();
        let file = std::fs::File::open(&dir).unwrap();
        let split = read_file(file, &mut |_| {}).map_err(|e| e.to_string());
        std::fs::remove_file(&dir).unwrap();
        (read(text.as_bytes(), &mut |_| {}).map_err(|e| e.to_string()), split)
    }

    #[test]
    fn two_halves_read_what_one_thread_reads() {
        for edges_per_node in [1, 2, 3, 5] {
            let text = snapshot(20_000, edges_per_node);
            let (splits, rests) = (SPLITS.load(Ordering::Relaxed), RESTS.load(Ordering::Relaxed));
            let (one, two) = read_both(&text);
            assert!(SPLITS.load(Ordering::Relaxed) > splits, "the edges were not split");
            assert!(RESTS.load(Ordering::Relaxed) > rests, "the helper did not read the members after the edges");
            let (one, two) = (one.unwrap(), two.unwrap());
            same_reads(&one, &two);
            assert_eq!(two.edges.to.len(), 20_000 * edges_per_node as usize);
            assert_eq!(two.strings.get(2), "b");
            assert_eq!(two.strings.get(3), "s0é");
        }
    }

    /// Reads `text` both ways; the two threads' read, once checked equal.
    fn read_alike(text: &str) -> Raw {
        let (one, two) = read_both(text);
        let (one, two) = (one.unwrap(), two.unwrap());
        same_reads(&one, &two);
        two
    }

    #[test]
    fn a_second_edges_member_follows_the_first() {
        // Not what V8 writes, but read as a single reader reads it: the
        // second array's values after the first's (the graph then refuses
        // edges the nodes do not declare).
        let two = read_alike(&snapshot(20_000, 2).replacen(
            "\n\"locations\"",
            "\n\"edges\":[0,1,5,1,2,10],\n\"locations\"",
            1,
        ));
        assert_eq!(two.edges.to.len(), 40_002);
    }

    #[test]
    fn members_before_the_edges_keep_the_main_reader_on_them() {
        // Strings before the edges and more after them: a single reader
        // appends the later ones, so the helper's are not taken.
        let two = read_alike(&snapshot(20_000, 2).replacen("\n\"nodes\"", "\n\"strings\":[\"x\"],\n\"nodes\"", 1));
        assert_eq!(two.strings.get(0), "x");
    }

    #[test]
    fn a_guess_past_the_nodes_still_finds_the_edges() {
        // A header that overstates the nodes sends the helper's first look
        // past the edges (into the strings, or past the end): it looks
        // again from the nodes' start, and still splits.
        for count in [40_000, 1_000_000, u64::MAX] {
            let text = snapshot(20_000, 2).replacen("\"node_count\":20000,", &format!("\"node_count\":{count},"), 1);
            let splits = SPLITS.load(Ordering::Relaxed);
            read_alike(&text);
            assert!(SPLITS.load(Ordering::Relaxed) > splits, "the edges were not split");
        }
    }

    #[test]
    fn a_header_that_claims_more_edges_than_the_file_holds_is_not_believed() {
        // 10^17 rows: columns whose allocation fails, which aborts the
        // process (seen so, without the check): the split is refused, and
        // one reader reads.
        let text = snapshot(20_000, 2).replacen("\"edge_count\":40000}", "\"edge_count\":100000000000000000}", 1);
        assert!(text.contains("100000000000000000"));
        let (one, two) = read_both(&text);
        same_reads(&one.unwrap(), &two.unwrap());
    }

    #[test]
    fn the_guess_falls_short_of_the_nodes_end() {
        let text = snapshot(20_000, 2);
        let open = text.find("\"nodes\":[").unwrap() + 9;
        let end = text.find("],\n\"edges\"").unwrap();
        let skip = super::nodes_skip(&text.as_bytes()[open..open + super::CHUNK], 20_000 * 5) as usize;
        assert!(skip > (end - open) / 2 && skip < end - open, "{skip} of {}", end - open);
    }

    #[test]
    fn errors_in_either_half_are_the_same_errors() {
        let text = snapshot(20_000, 3);
        let edges = text.find("\"edges\"").unwrap();
        let end = text.rfind(']').unwrap();
        // A bad byte early, late, and a missing value; and rows the nodes do not declare.
        for at in [edges + 40, (edges + end) / 2 + 7, end - 3] {
            let mut bad = text.clone().into_bytes();
            bad[at] = b'x';
            let (one, two) = read_both(std::str::from_utf8(&bad).unwrap());
            let (one, two) = (one.unwrap_err(), two.unwrap_err());
            assert_eq!(one, two);
            assert!(one.contains(&format!("byte {at}")), "{one}");
        }
        let short = text.replacen(",3\n,", ",2\n,", 1);
        let (one, two) = read_both(&short);
        let (one, two) = (one.unwrap(), two.unwrap());
        assert_eq!((one.edges_declared, one.edges.to.len()), (two.edges_declared, two.edges.to.len()));
        assert_eq!(one.edges.to, two.edges.to);
    }
}
