//! A mutation fuzzer for the snapshot reader and the analysis (cargo-fuzz
//! needs a nightly toolchain; this runs on stable, single-threaded and
//! deterministic for a given seed).
//!
//! `cargo run --release -p heapscope-core --example fuzz -- [--seconds N] [--seed S] [seed files…]`
//!
//! Every input is read and, when it reads, analysed in full. Reading must end
//! in a graph or a typed error whose offset lies within the input; nothing may
//! panic. A failing input is written to `fuzz-failures/` and the run exits 1.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use heapscope_core::snapshot::analysis::Analysis;
use heapscope_core::snapshot::Graph;

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

/// Reads and analyses `input`; `Err` describes a defect.
fn check(input: &[u8]) -> Result<bool, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| match Graph::read(Cursor::new(input), &mut |_| {}) {
        Ok(graph) => {
            let analysis = Analysis::run(&graph, &mut |_| {});
            let rows = analysis.classes();
            let objects = analysis.top_objects(5);
            std::hint::black_box((rows.len(), objects.len()));
            Ok(true)
        }
        Err(e) => match e.offset() {
            Some(offset) if offset > input.len() as u64 => {
                Err(format!("error offset {offset} beyond the input's {} bytes: {e}", input.len()))
            }
            _ => Ok(false),
        },
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
    let mut corpus: Vec<Vec<u8>> = vec![SEED.as_bytes().to_vec()];
    for file in &files {
        match std::fs::read(file) {
            Ok(bytes) => corpus.push(bytes),
            Err(e) => {
                eprintln!("fuzz: cannot read seed {file}: {e}");
                std::process::exit(2);
            }
        }
    }
    for (i, input) in corpus.iter().enumerate() {
        if check(input) != Ok(true) {
            eprintln!("fuzz: seed {i} does not analyse cleanly: {:?}", check(input));
            std::process::exit(2);
        }
    }
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut runs, mut analysed) = (0u64, 0u64);
    while Instant::now() < deadline {
        // Small inputs mostly: they run thousands of times a second.
        let base = if corpus.len() > 1 && rng.below(20) == 0 { rng.below(corpus.len()) } else { 0 };
        let mut input = corpus[base].clone();
        mutate(&mut rng, &mut input, &corpus);
        runs += 1;
        match check(&input) {
            Ok(true) => analysed += 1,
            Ok(false) => {}
            Err(defect) => {
                let _ = std::fs::create_dir_all("fuzz-failures");
                let path = format!("fuzz-failures/seed{seed}-run{runs}.heapsnapshot");
                let _ = std::fs::write(&path, &input);
                eprintln!("fuzz: {defect}\nfuzz: input saved as {path}");
                std::process::exit(1);
            }
        }
    }
    println!("fuzz: {runs} inputs in {seconds} s (seed {seed}), {analysed} read and analysed, no defect");
}
