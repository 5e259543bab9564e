//! Times each phase of reading and analysing a snapshot and reports the
//! process's peak RSS after each: `cargo run --release --example phases -- <file>`.

use std::time::Instant;

use heapscope_core::snapshot::analysis::Analysis;
use heapscope_core::snapshot::Graph;

#[global_allocator]
static ALLOCATOR: heapscope_core::allocator::PageAllocator = heapscope_core::allocator::PageAllocator;

fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: phases <file.heapsnapshot>");
        std::process::exit(2);
    };
    let start = Instant::now();
    let mut last = Instant::now();
    let mut mark = |what: &str| {
        eprintln!("{what:>14}: {:>7.0} ms  peak {:>5} MB", last.elapsed().as_secs_f64() * 1e3, peak_rss_mb());
        last = Instant::now();
    };
    let graph = match Graph::open(path.as_ref(), &mut |_| {}) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    mark("read");
    eprintln!(
        "nodes {} edges {} strings {} ({} MB)",
        graph.node_count,
        graph.edge_count,
        graph.strings.len(),
        graph.strings.data.len() >> 20
    );
    eprintln!("graph arrays: {} MB", graph.heap_bytes() >> 20);
    // Each phase is announced as it begins: timed when the next one begins.
    let mut stage = "";
    let analysis = Analysis::run(&graph, &mut |next| {
        if !stage.is_empty() {
            mark(stage);
        }
        stage = next;
    });
    mark(stage);
    let (rows, objects) = analysis.overview(20);
    mark("class rows and top objects");
    eprintln!("{} classes, {} objects, total {:.0} ms", rows.len(), objects.len(), start.elapsed().as_secs_f64() * 1e3);
}
