//! Reading a snapshot file's edges on two threads.
//!
//! The edges array is most of a snapshot's bytes (70 % of V8's files). While
//! the main thread parses the header and the nodes, a helper thread scans
//! ahead for the edges array, its closing bracket and a comma near its
//! middle, counting commas on the way, so it knows how many values come
//! before that comma. When the main thread reaches the edges it checks the
//! plan against what it has read itself (the array opens where planned, the
//! nodes declare one row per three values), and each thread then parses its
//! half into its own part of the columns. When anything disagrees the main
//! thread reads the edges alone: the plan is a shortcut, never a second
//! source of truth, and every error still names its byte offset.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::{
    partial_row, read_edge_values, read_edges, EdgeColumns, EdgeLayout, EdgeRole, EdgeStore, Lexer, ParseError,
    Progress, Raw, Sections, Span,
};

/// A file read at its own offset and up to a limit, so that a reader can
/// stop at a byte and go on from another.
pub(in crate::snapshot) struct FileInput {
    file: File,
    pos: u64,
    limit: u64,
}

impl FileInput {
    pub fn new(file: File) -> FileInput {
        FileInput { file, pos: 0, limit: u64::MAX }
    }
}

impl Read for FileInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
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

/// Where the edges array's halves are, as the helper found them.
struct Plan {
    /// Offset of the array's `[`.
    open: u64,
    /// Offset of the comma the second half starts at.
    split: u64,
    /// Values before that comma.
    before: u64,
    /// Offset of the array's `]`.
    close: u64,
    /// Values in the whole array.
    values: u64,
}

const CHUNK: usize = if cfg!(test) { 4096 } else { 1 << 20 };
/// Below this, a second thread costs more than it saves (tests split anything).
const MIN_SPLIT_BYTES: u64 = if cfg!(test) { 64 } else { 16 << 20 };

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

fn commas(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b',').count() as u64
}

/// Scans from `from` (the start of the nodes value) for the edges array and
/// a split point in it. `None` whenever the file is not laid out as V8
/// writes it; the main reader then finds out what is wrong, if anything.
fn plan(file: &File, from: u64, cancel: &AtomicBool) -> io::Result<Option<Plan>> {
    let mut buf = vec![0u8; CHUNK];
    // The nodes array holds only digits, commas, whitespace and brackets:
    // the first quote opens the next key.
    let found =
        scan(file, from, cancel, &mut buf, |at, chunk| chunk.iter().position(|&b| b == b'"').map(|p| at + p as u64))?;
    let Some(quote) = found else { return Ok(None) };
    let n = read_some(file, &mut buf[..256], quote)?;
    let Some(rest) = buf[..n].strip_prefix(b"\"edges\"") else { return Ok(None) };
    let space = |b: &[u8]| b.iter().take_while(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t')).count();
    let mut i = space(rest);
    if rest.get(i) != Some(&b':') {
        return Ok(None);
    }
    i += 1;
    i += space(&rest[i..]);
    if rest.get(i) != Some(&b'[') {
        return Ok(None);
    }
    let open = quote + 7 + i as u64;
    // Count commas up to the closing bracket, noting the count at each chunk.
    let mut marks: Vec<(u64, u64)> = Vec::new();
    let mut seen = 0u64;
    let found = scan(file, open + 1, cancel, &mut buf, |at, chunk| {
        marks.push((at, seen));
        if chunk.contains(&b']') {
            let p = chunk.iter().position(|&b| b == b']').unwrap_or(chunk.len());
            seen += commas(&chunk[..p]);
            return Some(at + p as u64);
        }
        seen += commas(chunk);
        None
    })?;
    let Some(close) = found else { return Ok(None) };
    if close - open < MIN_SPLIT_BYTES {
        return Ok(None);
    }
    // The first comma from the chunk start nearest the middle: the commas
    // before it are those counted before that chunk.
    let middle = open + (close - open) / 2;
    let Some(&(start, before)) = marks.iter().rev().find(|m| m.0 <= middle) else { return Ok(None) };
    let n = read_some(file, &mut buf, start)?;
    let Some(p) = buf[..n].iter().position(|&b| b == b',') else { return Ok(None) };
    let split = start + p as u64;
    if split >= close || before == 0 {
        return Ok(None);
    }
    Ok(Some(Plan { open, split, before: before + 1, close, values: seen + 1 }))
}

/// Reading a file, with the helper that plans the split of its edges.
pub(in crate::snapshot) struct Split {
    file: Option<File>,
    planner: Option<JoinHandle<Option<Plan>>>,
    cancel: Arc<AtomicBool>,
}

impl Split {
    pub fn new(file: &File) -> Split {
        Split { file: file.try_clone().ok(), planner: None, cancel: Arc::default() }
    }
}

impl Drop for Split {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        if let Some(planner) = self.planner.take() {
            let _ = planner.join();
        }
    }
}

impl Sections<FileInput> for Split {
    fn nodes_at(&mut self, _lx: &Lexer<FileInput>, at: u64) {
        if self.planner.is_some() {
            return;
        }
        let Some(file) = self.file.as_ref().and_then(|f| f.try_clone().ok()) else { return };
        let cancel = Arc::clone(&self.cancel);
        self.planner = std::thread::Builder::new()
            .name("heapscope-read".into())
            .spawn(move || plan(&file, at, &cancel).ok().flatten())
            .ok();
    }

    fn edges(
        &mut self,
        lx: &mut Lexer<FileInput>,
        raw: &mut Raw,
        at: u64,
        progress: Progress,
    ) -> Result<(), ParseError> {
        let plan = self.planner.take().and_then(|planner| planner.join().ok().flatten());
        let layout = EdgeLayout::of(raw, at)?;
        let file = self.file.as_ref().and_then(|f| f.try_clone().ok());
        let (Some(plan), Some(file)) = (plan, file) else { return read_edges(lx, raw, at, progress) };
        let fields = layout.roles.len() as u64;
        let once = |role: EdgeRole| layout.roles.iter().filter(|&&r| r == role).count() == 1;
        let fits = once(EdgeRole::Kind)
            && once(EdgeRole::Name)
            && once(EdgeRole::To)
            && raw.edges_declared > 0
            && raw.edges_declared * fields == plan.values
            && lx.skip_ws(progress)? == Some(b'[')
            && lx.offset() == plan.open
            && lx.read_up_to() < plan.split;
        if !fits {
            return read_edges(lx, raw, at, progress);
        }
        if split_edges(lx, raw, &layout, &plan, file, progress)? {
            #[cfg(test)]
            tests::SPLITS.fetch_add(1, Ordering::Relaxed);
            lx.jump(plan.close + 1);
            return Ok(());
        }
        // Read again from the bracket, alone.
        lx.jump(plan.open);
        read_edges(lx, raw, at, progress)
    }
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

/// Parses the two halves at once. `Ok(false)`: the halves did not hold the
/// values the plan promised (nothing was wrong with the file as far as
/// either half saw), so the caller reads the edges again alone.
fn split_edges(
    lx: &mut Lexer<FileInput>,
    raw: &mut Raw,
    layout: &EdgeLayout,
    plan: &Plan,
    file: File,
    progress: Progress,
) -> Result<bool, ParseError> {
    let rows = raw.edges_declared as usize;
    let fields = layout.roles.len() as u64;
    // Field f of row r is value r·fields + f: the head has the rows whose
    // value comes before the split.
    let head_rows = |role: EdgeRole| -> usize {
        let f = layout.roles.iter().position(|&r| r == role).unwrap_or(0) as u64;
        plan.before.saturating_sub(f).div_ceil(fields) as usize
    };
    let mut columns = EdgeColumns { kind: vec![0; rows], name: vec![0; rows], to: vec![0; rows] };
    let (kind_head, kind_tail) = columns.kind.split_at_mut(head_rows(EdgeRole::Kind));
    let (name_head, name_tail) = columns.name.split_at_mut(head_rows(EdgeRole::Name));
    let (to_head, to_tail) = columns.to.split_at_mut(head_rows(EdgeRole::To));
    let tail_field = (plan.before % fields) as usize;
    let (split, close) = (plan.split, plan.close);
    lx.inner.limit = plan.split;
    let (head, tail) = std::thread::scope(|scope| {
        let tail = scope.spawn(move || {
            let mut lx = Lexer::at(FileInput { file, pos: split, limit: close + 1 }, split);
            let mut store = EdgeSlices::new(kind_tail, name_tail, to_tail);
            let read = read_edge_values(&mut lx, &mut |_| {}, Span::Tail, layout, tail_field, &mut store);
            read.map(|(count, field)| (count, field, store.full()))
        });
        let mut store = EdgeSlices::new(kind_head, name_head, to_head);
        let head = read_edge_values(lx, progress, Span::Head, layout, 0, &mut store);
        (head.map(|(count, _)| count), tail.join())
    });
    lx.inner.limit = u64::MAX;
    let head = head?;
    let (tail, field, full) = match tail {
        Ok(read) => read?,
        // The tail only parses; a panic there is a bug to surface.
        Err(panic) => std::panic::resume_unwind(panic),
    };
    if head != plan.before || head + tail != plan.values || !full {
        return Ok(false);
    }
    if field != 0 {
        return Err(partial_row("edge", field, layout.roles.len(), close));
    }
    raw.edges = columns;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::super::{read, read_file, Raw};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Edge sections read in two halves, so tests can tell the split happened.
    pub(super) static SPLITS: AtomicUsize = AtomicUsize::new(0);

    /// A snapshot laid out as V8 writes it, `edges` rows of three values.
    fn snapshot(nodes: u32, edges_per_node: u32) -> String {
        let mut text = String::from(concat!(
            r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],"#,
            r#""node_types":[["hidden","object"],"string","number","number","number"],"#,
            r#""edge_fields":["type","name_or_index","to_node"],"#,
            r#""edge_types":[["element","property"],"string_or_number","node"]},"node_count":0,"edge_count":0},"#,
            "\n\"nodes\":["
        ));
        for n in 0..nodes {
            let sep = if n == 0 { "" } else { "\n," };
            text += &format!("{sep}1,{},{},{},{edges_per_node}", n % 3, n * 2 + 1, n * 8 % 100);
        }
        text += "],\n\"edges\":[";
        for e in 0..nodes * edges_per_node {
            let sep = if e == 0 { "" } else { "\n," };
            text += &format!("{sep}{},{},{}", e % 2, e * 7 % 100_003, (e * 31 % nodes) * 5);
        }
        text += "],\n\"strings\":[\"\",\"a\",\"b\"]}";
        text
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
            let before = SPLITS.load(Ordering::Relaxed);
            let (one, two) = read_both(&text);
            assert!(SPLITS.load(Ordering::Relaxed) > before, "the edges were not split");
            let (one, two) = (one.unwrap(), two.unwrap());
            assert_eq!(one.edges.kind, two.edges.kind);
            assert_eq!(one.edges.name, two.edges.name);
            assert_eq!(one.edges.to, two.edges.to);
            assert_eq!(two.edges.to.len(), 20_000 * edges_per_node as usize);
            assert_eq!(one.nodes.first_edge, two.nodes.first_edge);
            assert_eq!(two.strings.get(2), "b");
        }
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
