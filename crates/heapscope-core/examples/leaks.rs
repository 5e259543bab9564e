//! Times each stage of a leak report of snapshot files and reports the
//! process's peak and current RSS after each, the way the addon runs it:
//! `cargo run --release --example leaks -- <baseline> <target> … <final>`.

use std::time::Instant;

use heapscope_core::allocator::KeepFreedPages;
use heapscope_core::priority::Threads;
use heapscope_core::snapshot::analysis::Analysis;
use heapscope_core::snapshot::leaks::{self, Comparing, Digest, LeakOptions};
use heapscope_core::snapshot::Graph;

#[global_allocator]
static ALLOCATOR: heapscope_core::allocator::PageAllocator = heapscope_core::allocator::PageAllocator;

/// A line of `/proc/self/status` in MB (`VmHWM`: peak RSS; `VmRSS`: now).
fn status_mb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn open(path: &str) -> Graph {
    Graph::open(path.as_ref(), &mut |_| {}).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    })
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let Some((last, earlier)) = files.split_last().filter(|(_, e)| !e.is_empty()) else {
        eprintln!("usage: leaks <baseline.heapsnapshot> [target …] <final.heapsnapshot>");
        std::process::exit(2);
    };
    let start = Instant::now();
    let mut at = Instant::now();
    let mut mark = |what: &str| {
        let ms = at.elapsed().as_secs_f64() * 1e3;
        eprintln!("{what:>24}: {ms:>6.0} ms  peak {:>5} MB  now {:>5} MB", status_mb("VmHWM:"), status_mb("VmRSS:"));
        at = Instant::now();
    };
    let _reuse = KeepFreedPages::new();
    let how = Comparing { force: false, threads: Threads::available() };
    let mut digests = Vec::new();
    for path in earlier {
        let graph = open(path);
        mark("read");
        let analysis = Analysis::run_with(&graph, None, how.threads, &mut |_| {});
        if leaks::add_earlier(&mut digests, &analysis, how).is_err() {
            eprintln!("{path}: not of the baseline's process");
            std::process::exit(1);
        }
        mark("digest");
    }
    let refs: Vec<&Digest> = digests.iter().collect();
    let graph = open(last);
    mark("read last");
    let mut stage = "";
    let report = leaks::report(&refs, &graph, LeakOptions::default(), how, None, &mut |next| {
        if !stage.is_empty() {
            mark(stage);
        }
        stage = next;
    });
    mark(stage);
    match report {
        Ok(r) => {
            for s in r.suspects.iter().take(3) {
                eprintln!("suspect: {} (+{:.0} B)", leaks::path_text(&s.path), s.growth);
            }
        }
        Err(e) => eprintln!("not one process: earlier snapshot {}", e.earlier),
    }
    eprintln!("total {:.0} ms", start.elapsed().as_secs_f64() * 1e3);
}
