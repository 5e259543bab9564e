//! A mutation fuzzer for the snapshot reader and the analysis (cargo-fuzz
//! needs a nightly toolchain; this runs on stable, single-threaded and
//! deterministic for a given seed).
//!
//! `cargo run --release -p heapscope-core --example fuzz -- [--seconds N] [--seed S] [seed files…]`
//!
//! Every input is read and, when it reads, analysed in full. Reading must end
//! in a graph or a typed error whose offset lies within the input; nothing may
//! panic. Each input is also read from a file on two threads, as `open()`
//! reads large files, and must give the same graph or the same error. Built
//! with the `fuzzing` feature (as `scripts/fuzz.sh` builds it), that reader
//! splits files from 64 bytes and reads 64 bytes at a time, so small inputs
//! reach its split and the buffers' edges. Every graph is analysed on two
//! threads and on one, which must agree, and explored with every query of a
//! kept snapshot; every fourth makes a leak report and a diff against the
//! input before it. A failing input is written to
//! `fuzz-failures/` and the run exits 1.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use heapscope_core::priority::Threads;
use heapscope_core::snapshot::analysis::{retaining_edges, Analysis};
use heapscope_core::snapshot::explore::{Heap, Page, Query, ValueMatch};
use heapscope_core::snapshot::leaks::{self, Comparing, Digest, LeakOptions};

/// Graphs up to this many nodes are checked against the naive dominators.
const NAIVE_UP_TO: usize = 400;

/// Dominators checked against the naive computation, for the closing line.
static CHECKED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
use heapscope_core::snapshot::{Graph, ParseError};

/// A minimal snapshot in V8's layout: root → (GC roots) → a Map holding an
/// object and a string; a weak edge and a shortcut; a location.
const SEED: &str = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"trace_function_info_fields":[],"trace_node_fields":[],"sample_fields":[],"location_fields":["object_index","script_id","line","column"]},"node_count":6,"edge_count":7,"trace_function_count":0},
"nodes":[9,0,1,0,2,0,0
,9,1,3,0,2,0,0
,3,2,5,32,2,0,0
,3,3,7,24,1,0,1
,2,4,9,16,0,0,0
,1,5,11,40,0,0,2
],
"edges":[5,1,7
,2,6,14
,1,0,14
,6,7,21
,2,8,21
,3,9,35
,2,10,28
],
"trace_function_infos":[],"trace_tree":[],"samples":[],"locations":[14,1,2,3],
"strings":["","(GC roots)","Map","Object","hello","(array)","cache","1","value","table","\u00e9\ud83d\ude00"]}"#;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: [&[u8]; 14] = [
    b"0",
    b"4294967295",
    b"4294967296",
    b"-1",
    b"1e9",
    b"\"",
    b"\\",
    b"\\ud800",
    b"]",
    b"[",
    b",",
    b"{}",
    b"null",
    b"99999",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(4) {
        let len = input.len();
        match rng.below(9) {
            0 if len > 0 => {
                let at = rng.below(len);
                input[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                const BYTES: &[u8] = b"0123456789,[]{}\":\\ -.eu";
                input[at] = BYTES[rng.below(BYTES.len())];
            }
            2 if len > 0 => {
                let at = rng.below(len);
                let n = rng.below(8).min(len - at);
                input.drain(at..at + n);
            }
            3 => {
                let at = rng.below(len + 1);
                let token = INTERESTING[rng.below(INTERESTING.len())];
                input.splice(at..at, token.iter().copied());
            }
            4 if len > 0 => input.truncate(rng.below(len)),
            5 if len > 0 => {
                // Replace a number with another.
                let at = rng.below(len);
                if let Some(start) = input[at..].iter().position(u8::is_ascii_digit).map(|p| p + at) {
                    let end =
                        input[start..].iter().position(|b| !b.is_ascii_digit()).map_or(input.len(), |p| p + start);
                    let value = match rng.below(4) {
                        0 => rng.below(16).to_string(),
                        1 => rng.below(64).to_string(),
                        2 => (rng.next() % (u32::MAX as u64 + 2)).to_string(),
                        _ => (rng.below(8) * 7).to_string(),
                    };
                    input.splice(start..end, value.bytes());
                }
            }
            6 if len > 1 => {
                // Duplicate a range.
                let a = rng.below(len);
                let b = (a + rng.below(64)).min(len);
                let piece = input[a..b].to_vec();
                let at = rng.below(len);
                input.splice(at..at, piece);
            }
            7 if !corpus.is_empty() => {
                // Splice in part of another input.
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + rng.below(256)).min(other.len());
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[a..b].iter().copied());
                }
            }
            _ => {}
        }
    }
}

/// Everything a reader puts in a graph, hashed: two reads of one input
/// must agree on it.
fn fingerprint(g: &Graph) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (g.node_count, g.edge_count, g.root, g.strings.len(), g.extra_native_bytes.to_bits()).hash(&mut h);
    for n in 0..g.node_count as u32 {
        (g.node_type(n), g.node_name_index(n), g.node_id(n), g.self_size(n), g.edges(n)).hash(&mut h);
        (g.trace_node(n), g.location(n).map(|l| (l.script, l.line, l.column))).hash(&mut h);
        for e in g.edges(n) {
            (g.edge_type(e), g.edge_name_index(e), g.edge_to(e)).hash(&mut h);
        }
    }
    for i in 0..g.strings.len() {
        g.strings.get(i).hash(&mut h);
    }
    h.finish()
}

/// Reads `input` from the file `at` on two threads, as `open()` reads a
/// large file, and compares with what one thread read from the stream.
fn same_from_file(input: &[u8], at: &Path, streamed: &Result<Graph, ParseError>) -> Result<(), String> {
    std::fs::write(at, input).map_err(|e| format!("cannot write {}: {e}", at.display()))?;
    let threads = Threads::new(2).expect("two is not zero");
    let from_file = Graph::open_with(at, threads, &mut |_| {}).map_err(|e| e.to_string());
    match (streamed.as_ref().map_err(|e| e.to_string()), &from_file) {
        (Ok(one), Ok(two)) if fingerprint(one) != fingerprint(two) => {
            Err("the file read on two threads gives another graph than the stream".into())
        }
        (Err(one), Err(two)) if &one != two => {
            Err(format!("the stream reads '{one}', the file on two threads '{two}'"))
        }
        (Ok(_), Err(e)) => Err(format!("the stream reads, the file on two threads fails: {e}")),
        (Err(e), Ok(_)) => Err(format!("the file on two threads reads, the stream fails: {e}")),
        _ => Ok(()),
    }
}

/// Reads and analyses `input` (and reads it again from the file `at`);
/// `Err` describes a defect.
fn check(input: &[u8], at: &Path, baseline: Option<&[u8]>) -> Result<bool, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let streamed = Graph::read(Cursor::new(input), &mut |_| {});
        same_from_file(input, at, &streamed)?;
        let read = streamed.is_ok();
        analyse(input, streamed, baseline)?;
        Ok(read)
    }));
    match outcome {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panic: {message}"))
        }
    }
}

/// Analyses what `input` read as (on two threads and on one, the
/// dominators of small graphs against the naive computation), explores it
/// and compares it with `baseline`; or checks the offset of its error.
fn analyse(input: &[u8], read: Result<Graph, ParseError>, baseline: Option<&[u8]>) -> Result<(), String> {
    match read {
        Ok(graph) => {
            let two = Threads::new(2).expect("two is not zero");
            let analysis = Analysis::run_with(&graph, None, two, &mut |_| {});
            // The two-thread analysis (the page searched by both, the
            // dominators beside the classes) is what one thread computes.
            let alone = Analysis::run_with(&graph, None, Threads::ONE, &mut |_| {});
            if let Some(what) = differs(&analysis, &alone) {
                return Err(format!("on two threads the analysis differs from one thread's: {what}"));
            }
            if graph.node_count <= NAIVE_UP_TO {
                let naive = naive_dominators(graph.node_count, graph.root, &retaining_edges(&graph));
                CHECKED.fetch_add(naive.iter().flatten().count() as u64, std::sync::atomic::Ordering::Relaxed);
                let wrong = (0..graph.node_count).find(|&n| naive[n].is_some_and(|d| d != analysis.dominator[n]));
                if let Some(n) = wrong {
                    return Err(format!(
                        "node {n}: dominator {} but {:?} by the naive computation",
                        analysis.dominator[n], naive[n]
                    ));
                }
            }
            let rows = analysis.classes();
            let objects = analysis.top_objects(5);
            std::hint::black_box((rows.len(), objects.len()));
            drop((analysis, alone));
            if let Some(Ok(earlier)) = baseline.map(|b| Graph::read(Cursor::new(b), &mut |_| {})) {
                compare(&earlier, &graph);
            }
            explore(graph);
            Ok(())
        }
        Err(e) => match e.offset() {
            Some(offset) if offset > input.len() as u64 => {
                Err(format!("error offset {offset} beyond the input's {} bytes: {e}", input.len()))
            }
            _ => Ok(()),
        },
    }
}

/// A leak report and a diff of `last` against `earlier` (as of one
/// process, whatever their ids say), and against `earlier` as baseline and
/// target: nothing may panic, whatever the two hold.
fn compare(earlier: &Graph, last: &Graph) {
    let how = Comparing { force: true, threads: Threads::new(2).expect("two is not zero") };
    let analysis = Analysis::run_with(earlier, None, how.threads, &mut |_| {});
    let mut digests = Vec::new();
    for _ in 0..2 {
        let _ = leaks::add_earlier(&mut digests, &analysis, how);
        let refs: Vec<&Digest> = digests.iter().collect();
        if let Ok(report) = leaks::report(&refs, last, LeakOptions::default(), how, None, &mut |_| {}) {
            for suspect in &report.suspects {
                std::hint::black_box(leaks::path_text(&suspect.path));
            }
        }
    }
    std::hint::black_box(leaks::snapshot_diff(&digests[0], last, 5, how, &mut |_| {}).is_ok());
}

/// Every query of a kept snapshot, on a few of its nodes.
fn explore(graph: Graph) {
    let nodes = [0, graph.root, graph.node_count as u32 / 2, (graph.node_count as u32).saturating_sub(1)];
    let heap = Heap::new(graph, Threads::new(2).expect("two is not zero"));
    let page = Page { offset: 1, limit: 3 };
    for n in nodes {
        let class = heap.analysis().class_name(n).to_string();
        let id = heap.graph().node_id(n);
        std::hint::black_box((heap.ordinal(id), heap.edges(n, page).total, heap.retainers(n, page).total));
        std::hint::black_box((heap.path(n).len(), heap.dominators(n).len(), heap.dominated(n, page).total));
        std::hint::black_box((heap.instances(&class, page).total, heap.context(n, page).is_some()));
        let query = Query {
            class_name: Some(class),
            node_type: Some("object".into()),
            property: Some("p".into()),
            value: ValueMatch::pattern("a|é").ok(),
        };
        std::hint::black_box(heap.find(&query, page).total);
    }
    std::hint::black_box((heap.duplicate_strings(page).total, heap.closures(page).total, heap.statistics()));
}

/// What two analyses of one graph disagree on, if anything.
fn differs(a: &Analysis, b: &Analysis) -> Option<&'static str> {
    let rows = |x: &Analysis| {
        x.classes()
            .iter()
            .map(|r| format!("{} {} {} {} {} {}", r.key, r.name, r.count, r.self_size, r.retained_size, r.distance))
            .collect::<Vec<_>>()
    };
    let objects = |x: &Analysis| {
        x.top_objects(10).iter().map(|o| (o.id, o.retained_size.to_bits(), o.path.len())).collect::<Vec<_>>()
    };
    if a.dominator != b.dominator {
        Some("dominators")
    } else if a.retained.iter().map(|r| r.to_bits()).ne(b.retained.iter().map(|r| r.to_bits())) {
        Some("retained sizes")
    } else if a.distance != b.distance {
        Some("distances")
    } else if rows(a) != rows(b) {
        Some("class rows")
    } else if objects(a) != objects(b) {
        Some("top objects")
    } else {
        None
    }
}

fn main() {
    let mut seconds = 30u64;
    let mut seed = 0x5eed_u64;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(seconds),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            _ => files.push(arg),
        }
    }
    std::panic::set_hook(Box::new(|_| {}));
    // The small seed, and two graphs of a few kilobytes, whose edges the
    // two-thread reader splits.
    let mut grown = Rng(0x9e37_79b9);
    let mut corpus: Vec<Vec<u8>> =
        vec![SEED.as_bytes().to_vec(), random_graph_of(&mut grown, 300), random_graph_of(&mut grown, 300)];
    let built_in = corpus.len();
    for file in &files {
        match std::fs::read(file) {
            Ok(bytes) => corpus.push(bytes),
            Err(e) => {
                eprintln!("fuzz: cannot read seed {file}: {e}");
                std::process::exit(2);
            }
        }
    }
    // Each input is also read from this file (a directory of its own, removed at the end).
    let scratch = std::env::temp_dir().join(format!("heapscope-fuzz-{}-{seed}", std::process::id()));
    if let Err(e) = std::fs::create_dir(&scratch) {
        eprintln!("fuzz: cannot make {}: {e}", scratch.display());
        std::process::exit(2);
    }
    let at = scratch.join("input.heapsnapshot");
    let finish = |code: i32| -> ! {
        let _ = std::fs::remove_dir_all(&scratch);
        std::process::exit(code)
    };
    for (i, input) in corpus.iter().enumerate() {
        let outcome = check(input, &at, Some(input));
        if outcome != Ok(true) {
            eprintln!("fuzz: seed {i} does not analyse cleanly: {outcome:?}");
            finish(2);
        }
    }
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut runs, mut analysed) = (0u64, 0u64);
    let mut previous: Option<Vec<u8>> = None;
    while Instant::now() < deadline {
        // Small inputs mostly (they run thousands of times a second), the real files now and then.
        let base = if corpus.len() > built_in && rng.below(20) == 0 {
            built_in + rng.below(corpus.len() - built_in)
        } else {
            rng.below(built_in)
        };
        // A third of the time a fresh random graph, checked against the naive dominators.
        let input = if rng.below(3) == 0 {
            random_graph(&mut rng)
        } else {
            let mut input = corpus[base].clone();
            mutate(&mut rng, &mut input, &corpus);
            input
        };
        runs += 1;
        // Now and then a leak report from the last input that read to this one.
        let baseline = previous.as_deref().filter(|_| rng.below(4) == 0);
        match check(&input, &at, baseline) {
            Ok(true) => {
                analysed += 1;
                previous = Some(input);
            }
            Ok(false) => {}
            Err(defect) => {
                let _ = std::fs::create_dir_all("fuzz-failures");
                let path = format!("fuzz-failures/seed{seed}-run{runs}.heapsnapshot");
                let _ = std::fs::write(&path, &input);
                eprintln!("fuzz: {defect}\nfuzz: input saved as {path}");
                if let Some(baseline) = baseline {
                    let path = format!("fuzz-failures/seed{seed}-run{runs}-baseline.heapsnapshot");
                    let _ = std::fs::write(&path, baseline);
                    eprintln!("fuzz: its leak report's baseline saved as {path}");
                }
                finish(1);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let checked = CHECKED.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "fuzz: {runs} inputs in {seconds} s (seed {seed}), {analysed} read and analysed, \
         {checked} dominators equal to the naive computation's, no defect"
    );
}

/// Immediate dominators the obvious way, for graphs of a few hundred nodes:
/// `d` dominates `n` when removing `d` cuts `n` off the root, and `n`'s
/// immediate dominator is the strict dominator with the most dominators of
/// its own. Only for nodes the root reaches and that nothing the root does
/// not reach can influence (`None` for the others): DevTools hangs the rest
/// off the root by rules of its own, which the unit tests and the DevTools
/// comparison check.
fn naive_dominators(count: usize, root: u32, edges: &[(u32, u32)]) -> Vec<Option<u32>> {
    let mut next: Vec<Vec<u32>> = vec![Vec::new(); count];
    for &(from, to) in edges {
        next[from as usize].push(to);
    }
    let reach = |without: Option<u32>| {
        let mut seen = vec![false; count];
        let mut stack = vec![root];
        seen[root as usize] = true;
        while let Some(v) = stack.pop() {
            for &w in &next[v as usize] {
                if Some(w) != without && !seen[w as usize] {
                    seen[w as usize] = true;
                    stack.push(w);
                }
            }
        }
        seen
    };
    let reached = reach(None);
    // Nodes with a retainer the root does not reach, and all below them.
    let mut influenced = vec![false; count];
    let mut stack: Vec<u32> = edges
        .iter()
        .filter(|&&(from, to)| !reached[from as usize] && reached[to as usize])
        .map(|&(_, to)| to)
        .collect();
    while let Some(v) = stack.pop() {
        if !std::mem::replace(&mut influenced[v as usize], true) {
            stack.extend(&next[v as usize]);
        }
    }
    // dominators[n]: the root, and every d whose removal cuts n off.
    let mut dominators: Vec<Vec<u32>> = vec![vec![root]; count];
    for d in (0..count as u32).filter(|&d| d != root && reached[d as usize]) {
        let seen = reach(Some(d));
        for n in 0..count {
            if n as u32 != d && reached[n] && !seen[n] {
                dominators[n].push(d);
            }
        }
    }
    (0..count)
        .map(|n| match n as u32 {
            _ if !reached[n] || influenced[n] => None,
            n if n == root => Some(root),
            _ => dominators[n].iter().max_by_key(|&&d| dominators[d as usize].len()).copied(),
        })
        .collect()
}

/// A random graph of a few dozen nodes, as V8 would write it: the root with
/// shortcuts to some nodes, hidden and array nodes, weak and shortcut edges,
/// cycles, islands and WeakMap pairs. Where mutations of the seed exercise the
/// reader, these exercise the dominator tree.
fn random_graph(rng: &mut Rng) -> Vec<u8> {
    // Now and then large enough for the two-thread reader to split.
    let count = if rng.below(4) == 0 { 100 + rng.below(200) } else { 2 + rng.below(60) };
    random_graph_of(rng, count)
}

fn random_graph_of(rng: &mut Rng, count: usize) -> Vec<u8> {
    const KINDS: [u32; 6] = [0, 1, 3, 3, 5, 9]; // hidden, array, object ×2, closure, synthetic
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut strings = vec![String::new(), "A".to_string(), "B".to_string(), "p".to_string()];
    for n in 0..count {
        let kind = if n == 0 { 9 } else { KINDS[rng.below(KINDS.len())] };
        let mut out = Vec::new();
        for _ in 0..rng.below(if n == 0 { 6 } else { 4 }) {
            let to = rng.below(count);
            let (edge, name) = match (n, rng.below(8)) {
                (0, _) => (5, 3),            // the root's shortcuts
                (_, 0) => (6, 3),            // weak
                (_, 1) => (5, 3),            // shortcut
                (_, 2) => (1, rng.below(4)), // element
                (_, 3) => {
                    // A WeakMap pair named after this node (a table) or another.
                    let table = if rng.below(2) == 0 { n } else { rng.below(count) };
                    let name = format!(
                        "1 / part of key (A @{}) -> value (B @{}) pair in WeakMap (table @{})",
                        2 * rng.below(count) + 1,
                        2 * to + 1,
                        2 * table + 1
                    );
                    strings.push(name);
                    (3, strings.len() - 1)
                }
                _ => (2, 3), // property
            };
            out.push(format!("{edge},{name},{}", to * 5));
        }
        nodes.push(format!("{kind},{},{},{},{}", 1 + rng.below(2), 2 * n + 1, rng.below(50), out.len()));
        edges.extend(out);
    }
    format!(
        r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic"],"string","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"]}},"node_count":{},"edge_count":{}}},"nodes":[{}],"edges":[{}],"strings":{:?}}}"#,
        count,
        edges.len(),
        nodes.join(","),
        edges.join(","),
        strings
    )
    .into_bytes()
}
